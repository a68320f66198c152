//! The NetBox side of an import: the model's custom fields and tags, the fabric's current state,
//! creating what is missing (nothing in a dry run), and the report.

use crate::config::FabricConfig;
use crate::model::Manifest;
use crate::netbox::seed::{SeedError, SeedOptions, create_snapshot_objects_with};
use crate::netbox::setup::ensure_schema;
use crate::netbox::{NetBoxClient, NetBoxError, load_fabric};

use super::plan::plan;
use super::problems::Unmappable;
use super::report::ImportReport;
use super::{inverse, roundtrip};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// List what would be created; change nothing.
    pub dry_run: bool,
    /// Slug of the site new devices go to (created when missing).
    pub site: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Unmappable(#[from] Unmappable),
    #[error("cannot create the custom fields, tags and roles the NetBox model uses: {0}")]
    Setup(NetBoxError),
    #[error("cannot read the fabric's current NetBox state: {0}")]
    Load(NetBoxError),
    #[error(
        "creating the imported objects failed part-way; run the import again to create the rest: {0}"
    )]
    Create(#[from] SeedError),
}

/// Imports `manifests` into fabric `fabric`'s NetBox objects: creates those not there yet.
pub async fn import_fabric(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    manifests: &[Manifest],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let inverse = inverse(fabric, manifests)?;
    let roundtrip = roundtrip::differences(fabric, manifests, &inverse.snapshot);
    if !options.dry_run {
        ensure_schema(client, std::slice::from_ref(&fabric.mapping))
            .await
            .map_err(ImportError::Setup)?;
    }
    let existing = load_fabric(client, fabric)
        .await
        .map_err(ImportError::Load)?;
    let plan = plan(&inverse.snapshot, &existing, &fabric.mapping.tag_external);
    if !options.dry_run && !plan.new.is_empty() {
        let seed = SeedOptions {
            default_site: options.site.clone(),
            ..SeedOptions::default()
        };
        create_snapshot_objects_with(client, &plan.new, &seed, plan.ids.clone()).await?;
    }
    Ok(ImportReport {
        fabric: fabric.name.clone(),
        dry_run: options.dry_run,
        created: ImportReport::list(&plan.new),
        present: plan.present,
        skipped: inverse.skipped,
        notes: inverse.notes,
        roundtrip,
    })
}
