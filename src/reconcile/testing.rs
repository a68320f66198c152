//! In-memory stand-ins for the reconciler's and the pipeline's collaborators (tests only).
//! NetBox itself is never faked: these replace the sidecar's own traits.

use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::compare::key_of;
use super::engine::{
    Desired, DesiredSource, Reconciler, SourceError, StatusWriter, WriteBackError,
};
use super::writeback::{Outcome, WritebackPlan};
use crate::config::FabricConfig;
use crate::model::Manifest;
use crate::netbox::NetBoxError;
use crate::targets::{Cause, PublishReport, Target, TargetError};

/// A client of a NetBox that is not there: a test using it proves nothing is read from NetBox.
pub(crate) fn absent_netbox() -> crate::netbox::NetBoxClient {
    crate::netbox::NetBoxClient::new(crate::netbox::ClientOptions {
        url: "http://127.0.0.1:9".into(),
        token: secrecy::SecretString::from("unused".to_owned()),
        verify_tls: true,
        ca_file: None,
        timeout: std::time::Duration::from_secs(2),
        page_size: 100,
        concurrency: 1,
        max_retries: 0,
    })
    .unwrap()
}

/// A reconciler over test collaborators, with the default heartbeat ages.
pub(crate) fn reconciler<'a>(
    fabric: &'a FabricConfig,
    source: &'a dyn DesiredSource,
    target: &'a dyn Target,
    writer: &'a dyn StatusWriter,
) -> Reconciler<'a> {
    Reconciler {
        fabric,
        source,
        target,
        writer,
        heartbeat_stale: chrono::Duration::minutes(5),
        heartbeat_refresh: chrono::Duration::hours(1),
    }
}

/// A target holding objects in memory; `reachable = false` makes every call fail.
pub(crate) struct MemoryTarget {
    pub objects: Mutex<Vec<Value>>,
    pub reachable: bool,
    pub publishes: Mutex<usize>,
}

impl MemoryTarget {
    pub fn new(objects: Vec<Value>) -> Self {
        Self {
            objects: Mutex::new(objects),
            reachable: true,
            publishes: Mutex::new(0),
        }
    }
}

#[async_trait]
impl Target for MemoryTarget {
    fn kind(&self) -> &'static str {
        "cluster"
    }
    async fn health_check(&self) -> Result<(), TargetError> {
        Ok(())
    }
    async fn publish(
        &self,
        desired: &[Manifest],
        _: &Cause,
        _: bool,
    ) -> Result<PublishReport, TargetError> {
        if !self.reachable {
            return Err(unreachable());
        }
        *self.publishes.lock().unwrap() += 1;
        let mut objects = self.objects.lock().unwrap();
        let mut report = PublishReport::default();
        for manifest in desired {
            let Some(key) = manifest.key() else { continue };
            match objects.iter().find(|o| key_of(o).as_ref() == Some(&key)) {
                None => report.created.push(key),
                Some(existing) if *existing != manifest.to_value() => report.updated.push(key),
                Some(_) => report.unchanged += 1,
            }
        }
        for object in objects.iter() {
            if let Some(key) = key_of(object)
                && !desired.iter().any(|m| m.key().as_ref() == Some(&key))
            {
                report.deleted.push(key);
            }
        }
        *objects = desired.iter().map(Manifest::to_value).collect();
        Ok(report)
    }
    async fn actual(&self) -> Result<Vec<Value>, TargetError> {
        if !self.reachable {
            return Err(unreachable());
        }
        Ok(self.objects.lock().unwrap().clone())
    }
}

pub(crate) struct FixedSource(pub Mutex<Option<Desired>>);

#[async_trait]
impl DesiredSource for FixedSource {
    async fn desired(&self, _: &FabricConfig) -> Result<Desired, SourceError> {
        self.0.lock().unwrap().clone().ok_or_else(|| {
            SourceError::NetBox(NetBoxError::Unreachable {
                url: "http://netbox.invalid/".into(),
                message: "connection refused".into(),
                sent: false,
            })
        })
    }
}

/// Records the plans and the fabric-wide outcomes it is asked to write.
#[derive(Default)]
pub(crate) struct RecordingWriter(
    pub Mutex<Vec<WritebackPlan>>,
    pub Mutex<Vec<Outcome>>,
    pub Mutex<Vec<String>>,
);

#[async_trait]
impl StatusWriter for RecordingWriter {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), WriteBackError> {
        self.0.lock().unwrap().push(plan.clone());
        Ok(())
    }

    async fn write_fabric(
        &self,
        _fabric: &FabricConfig,
        outcome: &Outcome,
    ) -> Result<bool, WriteBackError> {
        // Like the fabric's record in NetBox: only a changed outcome is written.
        let mut written = self.1.lock().unwrap();
        if written.last() == Some(outcome) {
            return Ok(false);
        }
        written.push(outcome.clone());
        Ok(true)
    }

    async fn journal_fabric(
        &self,
        _fabric: &FabricConfig,
        comments: &str,
    ) -> Result<(), WriteBackError> {
        self.2.lock().unwrap().push(comments.to_owned());
        Ok(())
    }
}

fn unreachable() -> TargetError {
    let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    TargetError::ClusterUnavailable(std::sync::Arc::new(kube::Error::Service(refused.into())))
}
