//! What an import finds wrong with its input, each about one Hedgehog object: errors (the
//! object cannot be mapped, so nothing is imported) and notes (the object is imported, but part
//! of it has no place in NetBox and will not come back when rendered).

use crate::model::ObjectKey;

/// One finding about one Hedgehog object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// `Kind/name` of the Hedgehog object.
    pub object: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Problems {
    pub errors: Vec<Finding>,
    pub notes: Vec<Finding>,
}

impl Problems {
    pub fn error(&mut self, object: &ObjectKey, message: impl Into<String>) {
        self.errors.push(Finding {
            object: object.to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn note(&mut self, object: &ObjectKey, message: impl Into<String>) {
        self.notes.push(Finding {
            object: object.to_string(),
            message: message.into(),
        });
    }
}

/// The input cannot be imported: every object that could not be mapped, and why.
#[derive(Debug, Clone, thiserror::Error)]
pub struct Unmappable {
    pub errors: Vec<Finding>,
}

impl std::fmt::Display for Unmappable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} Hedgehog object(s) cannot be mapped to NetBox; nothing was imported:",
            self.errors.len()
        )?;
        for error in &self.errors {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}
