//! A publish's NetBox snapshot kept for the next publish, and the shared version that says
//! whether a replica's kept snapshot is current.
//!
//! A publish reads the fabric's shared version, renders from the snapshot kept at that version
//! brought up to date with its jobs' webhooks (else from a full read), keeps its snapshot before
//! the write-back (which the kept snapshot then takes) and, once everything is written, bumps
//! the version from the one it read. A lost bump means another replica published meanwhile:
//! this replica's snapshot may lack that replica's changes, so it is dropped, and a publish
//! rendered from it fails its jobs, which run again from a full read.

use super::publisher::{FabricPublisher, PublishError};
use crate::netbox::FabricSnapshot;
use crate::netbox::incremental::{KeptSnapshot, ObjectChange};
use crate::reconcile::{Basis, Desired};
use crate::state::invalidate_snapshots_or_warn;

/// How a publish read its desired state.
pub(super) struct Reading {
    /// The shared version read first; `None` when the shared state could not be read.
    version: Option<u64>,
    basis: Basis,
}

impl FabricPublisher {
    /// The desired state after `changes` (see the module's documentation).
    pub(super) async fn read_desired(
        &self,
        changes: &[ObjectChange],
    ) -> Result<(Desired, Reading), PublishError> {
        let fabric = &self.fabric.name;
        let version = match self.shared.snapshot_version(fabric).await {
            Ok(version) => Some(version),
            Err(error) => {
                tracing::warn!(fabric, %error, "cannot read the snapshot's version; reading in full");
                None
            }
        };
        let (desired, basis) = self
            .source
            .desired_after(&self.fabric, changes, version)
            .await
            .map_err(PublishError::Source)?;
        tracing::debug!(
            fabric,
            incremental = basis.incremental,
            "desired state read"
        );
        Ok((desired, Reading { version, basis }))
    }

    /// Keeps the publish's snapshot, unconfirmed until [`FabricPublisher::confirm_snapshot`];
    /// a fabric configured with `keep_snapshot = false` keeps none, so each publish reads it
    /// in full.
    pub(super) fn keep_snapshot(&self, snapshot: FabricSnapshot, reading: &Reading) {
        if !self.fabric.keep_snapshot {
            return;
        }
        let (Some(kept), Some(generation), Some(_)) = (
            self.source.kept(),
            reading.basis.generation,
            reading.version,
        ) else {
            return;
        };
        kept.keep(
            &self.fabric.name,
            KeptSnapshot {
                snapshot,
                generation,
            },
        );
    }

    /// Bumps the shared version once the publish is written; see the module's documentation.
    pub(super) async fn confirm_snapshot(&self, reading: &Reading) -> Result<(), PublishError> {
        let Some(kept) = self.source.kept() else {
            return Ok(());
        };
        let fabric = &self.fabric.name;
        let bumped = match reading.version {
            Some(seen) => self.shared.bump_snapshot_version(fabric, seen).await,
            None => Ok(None),
        };
        match bumped {
            Ok(Some(version)) => {
                kept.confirm(fabric, version);
                return Ok(());
            }
            Ok(None) => kept.forget(fabric),
            Err(error) => {
                tracing::warn!(fabric, %error, "cannot bump the snapshot's version");
                kept.forget(fabric);
            }
        }
        if reading.basis.incremental {
            return Err(PublishError::Superseded);
        }
        Ok(())
    }

    /// A job routed to other fabrics changed `object_type` `id`: when this fabric's kept
    /// snapshot holds it (an object moved between fabrics), or no snapshot is kept here to
    /// tell, every replica's snapshot of this fabric is dropped.
    pub(crate) async fn changed_elsewhere(&self, object_type: &str, id: u64) {
        let Some(kept) = self.source.kept() else {
            return;
        };
        let fabric = &self.fabric.name;
        if kept.holds(fabric, object_type, id) != Some(false) {
            kept.forget(fabric);
            invalidate_snapshots_or_warn(self.shared.as_ref(), fabric).await;
        }
    }
}
