//! The host sources the `[[discovery.proxmox]]`, `[[discovery.truenas]]` and
//! `[[discovery.home_assistant]]` tables configure.

use std::sync::Arc;

use crate::config::{CustomFieldNames, HostSourceSettings, Settings};
use crate::discovery::source::Source;

/// One configured host source, with its scheduling.
pub struct HostSource {
    pub source: Arc<dyn Source>,
    pub settings: HostSourceSettings,
}

/// The host sources `keep` picks by name (`proxmox:lab`), built from their tables; `names`
/// names the owner custom field they are scoped by. A table whose source this build leaves out
/// (its cargo feature off) is an error, not a silent gap.
pub fn host_sources(
    settings: &Settings,
    names: &CustomFieldNames,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<HostSource>> {
    let discovery = &settings.discovery;
    let kinds: [(&str, &[HostSourceSettings], Builder); 3] = [
        ("proxmox", &discovery.proxmox, build_proxmox),
        ("truenas", &discovery.truenas, build_truenas),
        (
            "home_assistant",
            &discovery.home_assistant,
            build_home_assistant,
        ),
    ];
    let mut sources = Vec::new();
    for (kind, tables, build) in kinds {
        for (index, table) in tables.iter().enumerate() {
            if !keep(&format!("{kind}:{}", table.name)) {
                continue;
            }
            let source = build(index, table, names).map_err(anyhow::Error::msg)?;
            sources.push(HostSource {
                source,
                settings: table.clone(),
            });
        }
    }
    Ok(sources)
}

type Builder = fn(usize, &HostSourceSettings, &CustomFieldNames) -> Result<Arc<dyn Source>, String>;

#[cfg(feature = "proxmox")]
fn build_proxmox(
    index: usize,
    table: &HostSourceSettings,
    names: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Ok(Arc::new(super::proxmox::ProxmoxSource::new(
        index, table, names,
    )?))
}

#[cfg(feature = "truenas")]
fn build_truenas(
    index: usize,
    table: &HostSourceSettings,
    names: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Ok(Arc::new(super::truenas::TrueNasSource::new(
        index, table, names,
    )?))
}

#[cfg(feature = "home-assistant")]
fn build_home_assistant(
    index: usize,
    table: &HostSourceSettings,
    names: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Ok(Arc::new(super::home_assistant::HomeAssistantSource::new(
        index, table, names,
    )?))
}

#[cfg(not(feature = "proxmox"))]
fn build_proxmox(
    index: usize,
    _: &HostSourceSettings,
    _: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Err(left_out("proxmox", "proxmox", index))
}

#[cfg(not(feature = "truenas"))]
fn build_truenas(
    index: usize,
    _: &HostSourceSettings,
    _: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Err(left_out("truenas", "truenas", index))
}

#[cfg(not(feature = "home-assistant"))]
fn build_home_assistant(
    index: usize,
    _: &HostSourceSettings,
    _: &CustomFieldNames,
) -> Result<Arc<dyn Source>, String> {
    Err(left_out("home_assistant", "home-assistant", index))
}

#[cfg(not(all(feature = "proxmox", feature = "truenas", feature = "home-assistant")))]
fn left_out(kind: &str, feature: &str, index: usize) -> String {
    format!(
        "discovery.{kind}[{index}]: this build has no {kind} source (cargo feature `{feature}`)"
    )
}
