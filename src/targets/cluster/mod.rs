//! The cluster target: server-side apply of a fabric's objects to its Kubernetes cluster
//! with field manager `hedgehog-sidecar`, in dependency order; pruning of the sidecar's own
//! objects (by label) in reverse order; reading back everything for the reconciler; a
//! webhook job's change planned against a watched view of the cluster (`live`).

mod connect;
mod errors;
pub mod events;
pub(crate) mod labels;
mod live;
mod parking;
mod plan;
mod publish;
mod reuse;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use crate::config::{ClusterOptions, FabricConfig, FabricSettings};
use crate::model::{Kind, Manifest, ObjectKey, VERSION};
use crate::targets::{Cause, PublishReport, Target, TargetError};

pub use connect::{ConnectError, client};
pub(crate) use errors::describe;
pub use labels::FabricLabels;
pub use plan::apply_order;
use publish::Planning;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "hedgehog-sidecar";

/// Objects by key, shared rather than copied: a publish's desired objects and its view of the
/// cluster hold the same objects as the watched view and the previous publish.
type Objects = BTreeMap<ObjectKey, Arc<Value>>;

pub struct ClusterTarget {
    client: kube::Client,
    fabric: String,
    options: ClusterOptions,
    labels: FabricLabels,
    /// The fabric's settings: where an object is parked while two swap a unique value.
    settings: FabricSettings,
    events: events::EventSink,
    /// What the cluster holds, watched from the first publish on (see `live`).
    live: OnceLock<live::LiveView>,
    /// What the next publish takes over from the last (see `reuse`).
    reuse: reuse::Reuse,
}

impl ClusterTarget {
    /// Connects with the fabric's kubeconfig and context, or the in-cluster service account.
    pub async fn connect(fabric: &FabricConfig) -> Result<ClusterTarget, TargetError> {
        let client = connect::client(
            fabric.kubeconfig.as_deref(),
            fabric.cluster.context.as_deref(),
        )
        .await?;
        Ok(ClusterTarget::new(
            client,
            &fabric.name,
            fabric.cluster.clone(),
            &fabric.mapping.label_domain,
        )
        .with_settings(&fabric.mapping.settings))
    }

    /// Takes the fabric's ASN range and subnets from `settings` (the defaults of `hhfab init`
    /// until then).
    pub fn with_settings(mut self, settings: &FabricSettings) -> ClusterTarget {
        self.settings = settings.clone();
        self
    }

    pub fn new(
        client: kube::Client,
        fabric: &str,
        options: ClusterOptions,
        label_domain: &str,
    ) -> ClusterTarget {
        ClusterTarget {
            events: events::EventSink::new(client.clone(), &options.namespace),
            client,
            fabric: fabric.to_owned(),
            labels: FabricLabels::new(label_domain, fabric),
            options,
            settings: FabricSettings::default(),
            live: OnceLock::new(),
            reuse: reuse::Reuse::default(),
        }
    }

    fn api(&self, kind: Kind) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(kind.group(), VERSION, kind.as_str()),
            kind.plural(),
        );
        Api::namespaced_with(self.client.clone(), &self.options.namespace, &resource)
    }

    /// The watched view of the cluster, its watches started on first use.
    fn live(&self) -> &live::LiveView {
        self.live
            .get_or_init(|| live::LiveView::start(|kind| self.api(kind)))
    }

    /// Tells the watched view, if there is one, what the cluster answered a write of ours
    /// (`None`: deleted `key`).
    fn wrote(&self, key: &ObjectKey, object: Option<&Value>) {
        if let Some(live) = self.live.get() {
            live.wrote(key, object);
        }
    }

    /// The fabric's Agents (the switches' reported state), as JSON.
    pub async fn agents(&self) -> Result<Vec<Value>, TargetError> {
        self.list(Kind::Agent, None).await
    }

    /// Every object of a kind in the fabric's namespace, optionally filtered by labels.
    async fn list(&self, kind: Kind, selector: Option<&str>) -> Result<Vec<Value>, TargetError> {
        let mut params = ListParams::default();
        if let Some(selector) = selector {
            params = params.labels(selector);
        }
        let list = self.api(kind).list(&params).await.map_err(errors::abort)?;
        list.items
            .into_iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()
            .map_err(|e| TargetError::Encode {
                kind: kind.as_str(),
                source: Arc::new(e),
            })
    }
}

#[async_trait]
impl Target for ClusterTarget {
    fn kind(&self) -> &'static str {
        "cluster"
    }

    async fn health_check(&self) -> Result<(), TargetError> {
        self.client
            .apiserver_version()
            .await
            .map(|_| ())
            .map_err(errors::abort)
    }

    async fn publish(
        &self,
        desired: &[Manifest],
        cause: &Cause,
        dry_run: bool,
    ) -> Result<PublishReport, TargetError> {
        let report = publish::publish(self, desired, cause, dry_run, Planning::Listed).await?;
        if !dry_run {
            self.events.emit(&events::of_publish(&report, cause)).await;
        }
        Ok(report)
    }

    async fn publish_change(
        &self,
        desired: &[Manifest],
        cause: &Cause,
    ) -> Result<PublishReport, TargetError> {
        let report = publish::publish(self, desired, cause, false, Planning::Watched).await?;
        self.events.emit(&events::of_publish(&report, cause)).await;
        Ok(report)
    }

    async fn record_drift(&self, drifted: &[(ObjectKey, Vec<String>)]) {
        let events: Vec<_> = drifted
            .iter()
            .map(|(key, paths)| events::drifted(key, paths))
            .collect();
        self.events.emit(&events).await;
    }

    /// The twelve rendered kinds and the Agents, all of them (labelled or not).
    async fn actual(&self) -> Result<Vec<Value>, TargetError> {
        let mut objects = Vec::new();
        for kind in Kind::RENDERED.into_iter().chain([Kind::Agent]) {
            objects.extend(self.list(kind, None).await?);
        }
        Ok(objects)
    }
}
