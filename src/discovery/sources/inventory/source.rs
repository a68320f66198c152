//! The inventory source's files: the configured files, and the inventory files of the
//! configured directories (sorted by name), read on every run.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::formats::{Format, parse};
use crate::config::{CreateDefaults, CustomFieldNames, InventorySourceSettings};
use crate::discovery::observation::ObservedDevice;
use crate::discovery::source::{Source, SourceError, owned_by};
use crate::netbox::ListQuery;

/// Why an inventory could not be read; each names the file (and the entry) at fault.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a .yaml, .yml, .json or .csv file")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: entry {index} ({identity}): {message}")]
    Invalid {
        path: PathBuf,
        index: usize,
        identity: String,
        message: String,
    },
}

pub struct InventorySource {
    name: String,
    paths: Vec<PathBuf>,
    defaults: Option<CreateDefaults>,
    names: CustomFieldNames,
}

impl InventorySource {
    /// The source for `settings`; `names` names the owner custom field it is scoped by.
    pub fn new(settings: &InventorySourceSettings, names: &CustomFieldNames) -> InventorySource {
        InventorySource {
            name: format!("inventory:{}", settings.name),
            paths: settings.paths.clone(),
            defaults: settings.create.then(|| settings.defaults.clone()),
            names: names.clone(),
        }
    }

    /// Every entry of every file, in file order.
    pub async fn read(&self) -> Result<Vec<ObservedDevice>, InventoryError> {
        let mut observed = Vec::new();
        for path in files(&self.paths).await? {
            observed.extend(read_file(&path, &self.name).await?);
        }
        Ok(observed)
    }
}

/// The configured files, and each configured directory's inventory files.
async fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InventoryError> {
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| InventoryError::Read { path, source }
    };
    let mut files = Vec::new();
    for path in paths {
        let metadata = tokio::fs::metadata(path).await.map_err(read_error(path))?;
        if !metadata.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut entries = tokio::fs::read_dir(path).await.map_err(read_error(path))?;
        let mut found = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(read_error(path))? {
            let file = entry.path();
            if Format::of(&file).is_some() && file.is_file() {
                found.push(file);
            }
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

async fn read_file(path: &Path, source: &str) -> Result<Vec<ObservedDevice>, InventoryError> {
    let format = Format::of(path).ok_or_else(|| InventoryError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| InventoryError::Read {
            path: path.to_owned(),
            source,
        })?;
    let records = parse(format, &text).map_err(|message| InventoryError::Parse {
        path: path.to_owned(),
        message,
    })?;
    let mut observed = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let identity = record.name.clone().or(record.serial.clone());
        let device = record
            .observe(source)
            .map_err(|message| InventoryError::Invalid {
                path: path.to_owned(),
                index: index + 1,
                identity: identity.unwrap_or_else(|| "unnamed".into()),
                message,
            })?;
        observed.push(device);
    }
    Ok(observed)
}

#[async_trait]
impl Source for InventorySource {
    fn name(&self) -> &str {
        &self.name
    }

    /// The devices this source owns.
    fn scope(&self) -> ListQuery {
        owned_by(&self.name, &self.names)
    }

    /// The virtual machines this source owns.
    fn vm_scope(&self) -> Option<ListQuery> {
        Some(owned_by(&self.name, &self.names))
    }

    fn creation(&self) -> Option<&CreateDefaults> {
        self.defaults.as_ref()
    }

    async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError> {
        self.read().await.map_err(|e| SourceError {
            source_name: self.name.clone(),
            message: e.to_string(),
        })
    }
}
