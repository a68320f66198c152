//! Reads a TrueNAS system over its REST API v2.0: the system, then its interfaces, pools and
//! shares, each list read in pages (`limit`, `offset`).

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::api::SystemInfo;
use super::observe::{Inventory, observe_system};
use crate::config::{CustomFieldNames, HostSourceSettings};
use crate::discovery::sources::host::Host;
use crate::discovery::sources::host_source::{Connection, HostSource, ReadHosts};
use crate::discovery::sources::http::{FetchError, SourceHttp};

/// Entries asked for per page.
const PAGE: usize = 100;

/// Pages read from one list at most: a server that ignores `offset` would otherwise be read
/// forever.
const MAX_PAGES: usize = 1000;

/// Reads one TrueNAS system.
pub struct TrueNas {
    http: SourceHttp,
    page: usize,
}

/// The TrueNAS source.
pub type TrueNasSource = HostSource<TrueNas>;

impl TrueNasSource {
    /// The source for table `index` of `[[discovery.truenas]]`.
    pub fn new(
        index: usize,
        settings: &HostSourceSettings,
        names: &CustomFieldNames,
    ) -> Result<TrueNasSource, String> {
        let connection = Connection::open("truenas", index, settings, names, |key| {
            format!("Bearer {key}")
        })?;
        let reader = TrueNas {
            http: connection.http,
            page: PAGE,
        };
        Ok(HostSource::from_parts(connection.owner, reader))
    }

    /// The same source reading `page` entries per request.
    pub fn with_page_size(mut self, page: usize) -> TrueNasSource {
        self.reader_mut().page = page.max(1);
        self
    }
}

impl TrueNas {
    /// Every entry of the list at `path`, page after page until a short one.
    async fn list<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, FetchError> {
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let query = [
                ("limit", self.page.to_string()),
                ("offset", all.len().to_string()),
            ];
            let page: Vec<T> = self
                .http
                .get_json(&format!("api/v2.0/{path}"), &query)
                .await?;
            // A short page is the last; a longer one means the server ignored `limit`.
            let last = page.len() != self.page;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
        Err(FetchError::TooManyPages {
            url: self.http.url(&format!("api/v2.0/{path}")).to_string(),
            pages: MAX_PAGES,
        })
    }

    /// The system as a host.
    async fn host(&self) -> Result<Host, FetchError> {
        let system: SystemInfo = self.http.get_json("api/v2.0/system/info", &[]).await?;
        let inventory = Inventory {
            system,
            interfaces: self.list("interface").await?,
            pools: self.list("pool").await?,
            smb: self.list("sharing/smb").await?,
            nfs: self.list("sharing/nfs").await?,
        };
        Ok(observe_system(&inventory))
    }
}

#[async_trait]
impl ReadHosts for TrueNas {
    const VIRTUAL_MACHINES: bool = false;
    type Error = FetchError;

    async fn hosts(&self) -> Result<Vec<Host>, FetchError> {
        Ok(vec![self.host().await?])
    }
}
