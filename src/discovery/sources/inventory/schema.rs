//! One entry of an inventory file, as YAML and JSON files write it (CSV rows are grouped into
//! the same entries), and its checked conversion into an observation.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::discovery::observation::{
    ClusterRef, Field, ObjectKind, ObservedDevice, ObservedInterface, Placement, normalize_mac,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    #[default]
    Device,
    VirtualMachine,
}

/// A device or virtual machine. References are slugs (the cluster a name); what is unset
/// comes from the source's `defaults`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub name: Option<String>,
    #[serde(default)]
    pub kind: RecordKind,
    pub serial: Option<String>,
    pub site: Option<String>,
    pub role: Option<String>,
    pub manufacturer: Option<String>,
    pub device_type: Option<String>,
    pub platform: Option<String>,
    pub status: Option<String>,
    pub cluster: Option<String>,
    pub cluster_type: Option<String>,
    /// Without prefix length; one of the interfaces' addresses.
    pub primary_ip: Option<String>,
    /// Values for NetBox custom fields of the object (which must exist).
    #[serde(default)]
    pub custom_fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub interfaces: Vec<InterfaceRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceRecord {
    pub name: String,
    /// NetBox interface type (`1000base-t`); `other` when absent.
    #[serde(rename = "type")]
    pub interface_type: Option<String>,
    /// The primary MAC; `macs` lists more.
    pub mac: Option<String>,
    #[serde(default)]
    pub macs: Vec<String>,
    /// With prefix length (`10.0.0.5/24`).
    #[serde(default)]
    pub ips: Vec<String>,
}

impl Record {
    /// The entry as source `source` observes it, or what is wrong with it.
    pub fn observe(self, source: &str) -> Result<ObservedDevice, String> {
        let identity = self
            .name
            .clone()
            .or_else(|| self.serial.clone())
            .filter(|i| !i.trim().is_empty())
            .ok_or("needs a name or a serial")?;
        let primary_ip = self
            .primary_ip
            .as_deref()
            .map(|ip| {
                let address = ip.split('/').next().unwrap_or_default();
                address
                    .parse::<IpAddr>()
                    .map(|a| a.to_string())
                    .map_err(|_| format!("primary_ip `{ip}` is not an IP address"))
            })
            .transpose()?;
        let mut facts: BTreeMap<Field, Value> = self
            .custom_fields
            .into_iter()
            .map(|(name, value)| (Field::Custom(name), value))
            .collect();
        let serial = self.serial.filter(|s| !s.is_empty());
        if let Some(serial) = &serial {
            facts.insert(Field::Native("serial"), json!(serial));
        }
        let kind = match self.kind {
            RecordKind::Device => ObjectKind::Device,
            RecordKind::VirtualMachine => ObjectKind::VirtualMachine,
        };
        let cluster = self.cluster.map(|name| ClusterRef {
            name,
            cluster_type: self.cluster_type.unwrap_or_default(),
        });
        let interfaces = self
            .interfaces
            .into_iter()
            .map(InterfaceRecord::observe)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ObservedDevice {
            source: source.to_owned(),
            identity,
            kind,
            cluster,
            placement: Placement {
                site: self.site,
                role: self.role,
                manufacturer: self.manufacturer,
                device_type: self.device_type,
                platform: self.platform,
                status: self.status,
            },
            name: self.name,
            serial,
            primary_ip,
            facts,
            interfaces,
            ..ObservedDevice::default()
        })
    }
}

impl InterfaceRecord {
    fn observe(self) -> Result<ObservedInterface, String> {
        let name = self.name;
        let mut macs = Vec::new();
        for mac in self.mac.into_iter().chain(self.macs) {
            let normal = normalize_mac(&mac)
                .ok_or_else(|| format!("interface {name}: `{mac}` is not a MAC address"))?;
            if !macs.contains(&normal) {
                macs.push(normal);
            }
        }
        let ips = self
            .ips
            .iter()
            .map(|ip| {
                ip.parse::<ipnet::IpNet>()
                    .map(|net| net.to_string())
                    .map_err(|_| format!("interface {name}: `{ip}` is not an address/prefix"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ObservedInterface {
            name,
            interface_type: self.interface_type,
            macs,
            ips,
            ..ObservedInterface::default()
        })
    }
}
