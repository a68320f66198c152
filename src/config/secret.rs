//! Secrets come inline, from a file (Kubernetes and systemd credentials), or from the
//! environment; the file wins because it is the form that keeps secrets out of `ps` and dumps.

use std::path::Path;

use secrecy::SecretString;

/// Reads a secret from a file, trimming the trailing newline editors and `echo` add.
pub fn read_secret_file(path: &Path) -> std::io::Result<SecretString> {
    let text = std::fs::read_to_string(path)?;
    Ok(SecretString::from(
        text.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

/// The secret from `file` if set, else `inline`. `key` names the setting in errors.
pub fn resolve_secret(
    key: &str,
    inline: Option<&SecretString>,
    file: Option<&Path>,
) -> Result<Option<SecretString>, String> {
    match file {
        Some(path) => read_secret_file(path)
            .map(Some)
            .map_err(|e| format!("{key}_file: cannot read {}: {e}", path.display())),
        None => Ok(inline.cloned()),
    }
}
