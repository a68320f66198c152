//! `-o text|json|yaml`, as kubectl and argocd have it: one rendering of any report or object
//! list, the text form given by the command.

use serde::Serialize;

/// How a command prints what it made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: aligned lines, only what matters.
    Text,
    /// One JSON document.
    Json,
    /// One YAML document (a list of objects: a YAML stream of documents).
    Yaml,
}

impl OutputFormat {
    /// `value` in this format; `text` gives the text form.
    pub fn render<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        Ok(match self {
            Self::Text => text(),
            Self::Json => serde_json::to_string_pretty(value)? + "\n",
            Self::Yaml => serde_yaml_ng::to_string(value)?,
        })
    }

    /// Prints [`Self::render`] on standard output.
    pub fn print<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        print!("{}", self.render(value, text)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_format_renders_the_same_value() {
        let value = json!({"fabric": "lab", "objects": 3});
        let text = || "lab: 3 objects\n".to_owned();
        assert_eq!(
            OutputFormat::Text.render(&value, text).unwrap(),
            "lab: 3 objects\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&OutputFormat::Json.render(&value, text).unwrap()).unwrap();
        assert_eq!(json, value);
        let yaml: serde_json::Value =
            serde_yaml_ng::from_str(&OutputFormat::Yaml.render(&value, text).unwrap()).unwrap();
        assert_eq!(yaml, value);
    }
}
