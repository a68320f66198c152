//! A host source (Proxmox VE, TrueNAS, Home Assistant) as a discovery [`Source`]: a reader of
//! hosts and the instance's [`HostOwner`], which names it, scopes it to what it owns, holds its
//! creation defaults and turns each host into an observation.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::host::{Host, HostOwner};
use super::http::{SourceHttp, source_error};
use crate::config::{CreateDefaults, CustomFieldNames, HostSourceSettings};
use crate::discovery::observation::ObservedDevice;
use crate::discovery::source::{Source, SourceError};
use crate::netbox::ListQuery;

/// Reads what one instance sees now.
#[async_trait]
pub trait ReadHosts: Send + Sync {
    /// Whether it sees virtual machines (the source then matches NetBox's too).
    const VIRTUAL_MACHINES: bool;
    type Error: std::fmt::Display + Send;

    async fn hosts(&self) -> Result<Vec<Host>, Self::Error>;
}

pub struct HostSource<R> {
    owner: HostOwner,
    reader: R,
}

/// What an instance's reader is made from: its HTTP client and its credential.
pub struct Connection {
    pub owner: HostOwner,
    pub http: SourceHttp,
    pub credential: SecretString,
}

impl Connection {
    /// The connection of table `index` of `[[discovery.<kind>]]`; `authorization` makes the
    /// header sent on every request from the credential.
    pub fn open(
        kind: &str,
        index: usize,
        settings: &HostSourceSettings,
        names: &CustomFieldNames,
        authorization: impl FnOnce(&str) -> String,
    ) -> Result<Connection, String> {
        let key = format!("discovery.{kind}[{index}]");
        let credential = settings
            .credential(&format!("{key}.token"))
            .map_err(|e| e.to_string())?;
        let header = authorization(credential.expose_secret());
        Ok(Connection {
            owner: HostOwner::new(kind, settings, names),
            http: SourceHttp::new(&key, settings, &header)?,
            credential,
        })
    }
}

impl<R: ReadHosts> HostSource<R> {
    pub fn from_parts(owner: HostOwner, reader: R) -> HostSource<R> {
        HostSource { owner, reader }
    }

    /// What the instance sees now, before it becomes observations.
    pub async fn hosts(&self) -> Result<Vec<Host>, R::Error> {
        self.reader.hosts().await
    }

    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

#[async_trait]
impl<R: ReadHosts> Source for HostSource<R> {
    fn name(&self) -> &str {
        &self.owner.name
    }

    fn scope(&self) -> ListQuery {
        self.owner.scope()
    }

    fn vm_scope(&self) -> Option<ListQuery> {
        R::VIRTUAL_MACHINES.then(|| self.owner.scope())
    }

    fn creation(&self) -> Option<&CreateDefaults> {
        self.owner.defaults.as_ref()
    }

    async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError> {
        let hosts = self
            .reader
            .hosts()
            .await
            .map_err(|e| source_error(&self.owner.name, e))?;
        Ok(hosts.into_iter().map(|h| self.owner.observe(h)).collect())
    }
}
