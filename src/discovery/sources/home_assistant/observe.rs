//! A device registry entry as a device: only entries with a network connection (a MAC) are
//! hosts NetBox tracks; services and disabled devices are left out. Each MAC becomes an
//! interface (`net0`, `net1`, ... in MAC order); an address in the configuration URL is the
//! primary IP.

use std::net::IpAddr;

use serde_json::json;

use super::api::Device;
use crate::discovery::kind::ObjectKind;
use crate::discovery::sources::host::{Host, HostInterface, useful_mac};

/// The registry's connection type of a network MAC (`CONNECTION_NETWORK_MAC`).
const MAC: &str = "mac";

/// The device as a host, or `None` when it is no networked hardware.
pub fn observe_device(device: &Device) -> Option<Host> {
    if device.entry_type.as_deref() == Some("service") || device.disabled_by.is_some() {
        return None;
    }
    let mut macs: Vec<String> = device
        .connections
        .iter()
        .filter(|(kind, _)| kind == MAC)
        .filter_map(|(_, mac)| useful_mac(mac))
        .collect();
    macs.sort();
    macs.dedup();
    if macs.is_empty() {
        return None;
    }
    let name = [&device.name_by_user, &device.name]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| format!("ha-{}", macs[0].replace(':', "").to_lowercase()));
    let mut host = Host::new(ObjectKind::Device, format!("device/{}", device.id), name);
    host.serial = device
        .serial_number
        .clone()
        .filter(|s| !s.trim().is_empty());
    host.primary_ip = device.configuration_url.as_deref().and_then(url_address);
    let mut fact = |name: &'static str, value: &Option<String>| {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            host.facts.insert(name, json!(value));
        }
    };
    fact("manufacturer", &device.manufacturer);
    fact("model", &device.model);
    fact("version", &device.sw_version);
    fact("hardware", &device.hw_version);
    host.interfaces = macs
        .into_iter()
        .enumerate()
        .map(|(i, mac)| HostInterface {
            name: format!("net{i}"),
            kind: None,
            mac: Some(mac),
            addresses: Vec::new(),
        })
        .collect();
    Some(host)
}

/// The IP literal a URL points at (`http://192.168.1.40/`, `http://[2001:db8::1]:80`).
fn url_address(url: &str) -> Option<IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(value: serde_json::Value) -> Device {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn only_enabled_networked_hardware_is_a_host() {
        let service = device(json!({"id": "a", "entry_type": "service",
            "connections": [["mac", "aa:bb:cc:00:00:01"]]}));
        let disabled = device(json!({"id": "b", "disabled_by": "user",
            "connections": [["mac", "aa:bb:cc:00:00:02"]]}));
        let zigbee =
            device(json!({"id": "c", "connections": [["zigbee", "00:17:88:01:0b:00:00:01"]]}));
        assert!(observe_device(&service).is_none());
        assert!(observe_device(&disabled).is_none());
        assert!(observe_device(&zigbee).is_none());
    }

    #[test]
    fn the_user_name_and_configuration_address_are_used() {
        let host = observe_device(&device(json!({
            "id": "d1", "name": "Shelly Plug", "name_by_user": "Kettle plug",
            "configuration_url": "http://192.168.1.40/",
            "connections": [["mac", "c8:c9:a3:00:00:02"], ["mac", "C8:C9:A3:00:00:01"]]
        })))
        .unwrap();
        assert_eq!(host.name, "Kettle plug");
        assert_eq!(host.primary_ip, "192.168.1.40".parse().ok());
        assert_eq!(host.interfaces[0].mac.as_deref(), Some("C8:C9:A3:00:00:01"));
        assert_eq!(host.interfaces[1].name, "net1");
        assert_eq!(url_address("http://homeassistant.local:8123"), None);
    }
}
