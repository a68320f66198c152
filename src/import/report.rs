//! What an import did (or, dry-run, would do), for people: the objects created per NetBox type,
//! what was already there, what the input held that NetBox does not model, and every object
//! that will not render back the same.

use std::collections::BTreeMap;
use std::fmt;

use crate::netbox::FabricSnapshot;
use crate::netbox::types::NetBoxObject;

use super::problems::Finding;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub fabric: String,
    pub dry_run: bool,
    /// Created (or to be created) objects: NetBox type → display names.
    pub created: BTreeMap<&'static str, Vec<String>>,
    /// Imported objects already in NetBox, per type.
    pub present: BTreeMap<&'static str, usize>,
    /// Input documents not imported (`Kind/name`, reason).
    pub skipped: Vec<(String, &'static str)>,
    /// Objects imported with something left out, or not imported.
    pub notes: Vec<Finding>,
    /// Objects that will not render back equal to the input.
    pub roundtrip: Vec<Finding>,
}

impl ImportReport {
    /// Number of objects created (or to be created).
    pub fn created_count(&self) -> usize {
        self.created.values().map(Vec::len).sum()
    }

    /// The objects of `snapshot`, by type, with their display names.
    pub fn list(snapshot: &FabricSnapshot) -> BTreeMap<&'static str, Vec<String>> {
        fn names<T: NetBoxObject>(out: &mut BTreeMap<&'static str, Vec<String>>, objects: &[T]) {
            if !objects.is_empty() {
                out.insert(
                    T::OBJECT_TYPE,
                    objects.iter().map(NetBoxObject::display_name).collect(),
                );
            }
        }
        let s = snapshot;
        let mut out = BTreeMap::new();
        names(&mut out, &s.devices);
        names(&mut out, &s.interfaces);
        names(&mut out, &s.mac_addresses);
        names(&mut out, &s.ip_addresses);
        names(&mut out, &s.cables);
        names(&mut out, &s.vlan_groups);
        names(&mut out, &s.vlans);
        names(&mut out, &s.vrfs);
        names(&mut out, &s.route_targets);
        names(&mut out, &s.prefixes);
        names(&mut out, &s.ip_ranges);
        out
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would create"
        } else {
            "created"
        };
        writeln!(
            f,
            "import of fabric {}{}: {verb} {} NetBox object(s)",
            self.fabric,
            if self.dry_run { " (dry run)" } else { "" },
            self.created_count()
        )?;
        for (object_type, names) in &self.created {
            writeln!(
                f,
                "  {object_type:<18} {:>4}  {}",
                names.len(),
                names.join(", ")
            )?;
        }
        let present: usize = self.present.values().sum();
        if present > 0 {
            writeln!(f, "already in NetBox: {present} object(s)")?;
            for (object_type, count) in &self.present {
                writeln!(f, "  {object_type:<18} {count:>4}")?;
            }
        }
        if !self.skipped.is_empty() {
            writeln!(f, "not imported ({}):", self.skipped.len())?;
            for (object, why) in &self.skipped {
                writeln!(f, "  - {object}: {why}")?;
            }
        }
        if !self.notes.is_empty() {
            writeln!(f, "left out ({}):", self.notes.len())?;
            for note in &self.notes {
                writeln!(f, "  - {note}")?;
            }
        }
        if self.roundtrip.is_empty() {
            write!(
                f,
                "round trip: every imported object renders back unchanged"
            )
        } else {
            writeln!(
                f,
                "round trip: {} object(s) will not render back as imported:",
                self.roundtrip.len()
            )?;
            for problem in &self.roundtrip {
                writeln!(f, "  - {problem}")?;
            }
            Ok(())
        }
    }
}
