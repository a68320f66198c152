//! The indented text form of the reports the CLI prints: a heading line, one line per entry
//! below it, and an entry's field-level details indented under the entry.

use std::fmt::{Display, Write as _};

/// A report being written as text.
pub struct ReportText {
    out: String,
}

impl ReportText {
    /// A report that starts with `heading` on its own line.
    pub fn heading(heading: impl Display) -> Self {
        Self {
            out: format!("{heading}\n"),
        }
    }

    /// One entry of the report.
    pub fn entry(&mut self, entry: impl Display) {
        let _ = writeln!(self.out, "  {entry}");
    }

    /// One entry per item, each introduced by `label` (e.g. `error: `).
    pub fn entries<T: Display>(&mut self, label: &str, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.entry(format_args!("{label}{item}"));
        }
    }

    /// A field of the entry above and what happened to it.
    pub fn detail(&mut self, field: impl Display, detail: impl Display) {
        let _ = writeln!(self.out, "      {field}: {detail}");
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_indented_under_the_heading_and_details_under_their_entry() {
        let mut report = ReportText::heading("fabric lab");
        report.entry("Drifted Switch/leaf-01");
        report.detail("spec.asn", "65101 -> 65199");
        report.entries("error: ", ["first", "second"]);
        assert_eq!(
            report.into_string(),
            "fabric lab\n  Drifted Switch/leaf-01\n      spec.asn: 65101 -> 65199\n  \
             error: first\n  error: second\n"
        );
    }
}
