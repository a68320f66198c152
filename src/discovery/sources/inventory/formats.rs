//! Reading an inventory file into entries. YAML and JSON files hold `devices:`, a list of
//! entries; a CSV file has a header row and one row per interface (or per device without
//! interfaces), rows with the same `name` (or, without one, `serial`) forming one entry.

use std::path::Path;

use serde::Deserialize;

use super::schema::{InterfaceRecord, Record, RecordKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Csv,
}

impl Format {
    /// The format a file's extension names, if any.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    devices: Vec<Record>,
}

/// The entries of a file's `text`, or what is wrong (with the line where the parser says).
pub fn parse(format: Format, text: &str) -> Result<Vec<Record>, String> {
    match format {
        Format::Yaml => serde_yaml_ng::from_str::<Document>(text)
            .map(|d| d.devices)
            .map_err(|e| e.to_string()),
        Format::Json => serde_json::from_str::<Document>(text)
            .map(|d| d.devices)
            .map_err(|e| e.to_string()),
        Format::Csv => parse_csv(text),
    }
}

/// A CSV row: the entry's columns, and one interface's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: Option<String>,
    kind: Option<RecordKind>,
    serial: Option<String>,
    site: Option<String>,
    role: Option<String>,
    manufacturer: Option<String>,
    device_type: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    cluster: Option<String>,
    cluster_type: Option<String>,
    primary_ip: Option<String>,
    interface: Option<String>,
    interface_type: Option<String>,
    mac: Option<String>,
    /// Addresses with prefix length, separated by spaces.
    ips: Option<String>,
}

fn parse_csv(text: &str) -> Result<Vec<Record>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records: Vec<Record> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = Default::default();
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(|e| e.to_string())?;
        let key = row.name.clone().or_else(|| row.serial.clone());
        match key.as_ref().and_then(|k| by_key.get(k)) {
            Some(&index) => add_interface(&mut records[index], &row),
            None => {
                let mut record = entry(&row);
                add_interface(&mut record, &row);
                if let Some(key) = key {
                    by_key.insert(key, records.len());
                }
                records.push(record);
            }
        }
    }
    Ok(records)
}

fn entry(row: &Row) -> Record {
    Record {
        name: row.name.clone(),
        kind: row.kind.unwrap_or_default(),
        serial: row.serial.clone(),
        site: row.site.clone(),
        role: row.role.clone(),
        manufacturer: row.manufacturer.clone(),
        device_type: row.device_type.clone(),
        platform: row.platform.clone(),
        status: row.status.clone(),
        cluster: row.cluster.clone(),
        cluster_type: row.cluster_type.clone(),
        primary_ip: row.primary_ip.clone(),
        ..Record::default()
    }
}

fn add_interface(record: &mut Record, row: &Row) {
    let Some(name) = row.interface.clone() else {
        return;
    };
    let ips = row
        .ips
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned);
    match record.interfaces.iter_mut().find(|i| i.name == name) {
        Some(interface) => {
            interface.macs.extend(row.mac.clone());
            interface.ips.extend(ips);
        }
        None => record.interfaces.push(InterfaceRecord {
            name,
            interface_type: row.interface_type.clone(),
            mac: row.mac.clone(),
            macs: Vec::new(),
            ips: ips.collect(),
        }),
    }
}
