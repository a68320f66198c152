//! The contract every discovery source implements: a name, the NetBox objects it answers for,
//! whether and how it creates what NetBox lacks, and one observation of what it sees now.

use async_trait::async_trait;

use super::observation::ObservedDevice;
use crate::config::{CreateDefaults, CustomFieldNames};
use crate::netbox::ListQuery;

/// Why a source could not observe (the run then writes nothing for it and tags nothing stale).
#[derive(Debug, thiserror::Error)]
#[error("source {source_name}: {message}")]
pub struct SourceError {
    pub source_name: String,
    pub message: String,
}

#[async_trait]
pub trait Source: Send + Sync {
    /// `kind:instance` (`fabric:lab`); recorded as the owner of what the source writes.
    fn name(&self) -> &str;

    /// The NetBox devices observations are matched against; only those the source owns among
    /// them can be tagged stale. Observations matching none are also looked up by name and
    /// serial across NetBox before anything is created.
    fn scope(&self) -> ListQuery;

    /// The NetBox virtual machines observations are matched against; none when `None`.
    fn vm_scope(&self) -> Option<ListQuery> {
        None
    }

    /// Where the objects this source sees and NetBox lacks are created; `None` (the default)
    /// creates nothing and only lists them as not in NetBox.
    fn creation(&self) -> Option<&CreateDefaults> {
        None
    }

    /// Everything the source sees now. A failure must be an error, never an empty list: an
    /// empty list makes every owned device stale in time.
    async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError>;
}

/// The objects the source named `source` owns (its name in the owner custom field): the
/// scope of a source that creates what it sees.
pub fn owned_by(source: &str, names: &CustomFieldNames) -> ListQuery {
    ListQuery::new().filter(format!("cf_{}", names.discovered_by), source)
}

/// Whether `selector` (`fabric` or `fabric:lab`) picks the source named `name`.
pub fn selects(selector: &str, name: &str) -> bool {
    name == selector
        || name
            .split_once(':')
            .is_some_and(|(kind, _)| kind == selector)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_selector_is_a_kind_or_a_full_name() {
        assert!(super::selects("fabric", "fabric:lab"));
        assert!(super::selects("fabric:lab", "fabric:lab"));
        assert!(!super::selects("fabric:east", "fabric:lab"));
        assert!(!super::selects("fab", "fabric:lab"));
    }
}
