//! The fabric's own configuration read back: the settings the admission rules use, from the
//! `config.yaml` of `fab/fabric-ctrl-config` (the fabric's `meta.FabricConfig`) or a file of
//! the same shape. Keys it leaves out keep hhfab's defaults; other keys are the fabric's own
//! business and are ignored.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Deserialize;

use crate::config::FabricSettings;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FabricConfigDoc {
    #[serde(rename = "controlVIP")]
    control_vip: Option<String>,
    management_subnet: Option<String>,
    #[serde(rename = "managementDHCPStart")]
    management_dhcp_start: Option<String>,
    protocol_subnet: Option<String>,
    vtep_subnet: Option<String>,
    fabric_subnet: Option<String>,
    reserved_subnets: Option<Vec<String>>,
    #[serde(rename = "spineASN")]
    spine_asn: Option<u32>,
    #[serde(rename = "leafASNStart")]
    leaf_asn_start: Option<u32>,
    #[serde(rename = "leafASNEnd")]
    leaf_asn_end: Option<u32>,
    #[serde(rename = "fabricMTU")]
    fabric_mtu: Option<u32>,
    #[serde(rename = "serverFacingMTUOffset")]
    server_facing_mtu_offset: Option<u32>,
    #[serde(rename = "vpcIRBVLANRange")]
    vpc_irb_vlan_range: Option<Vec<VlanRange>>,
    #[serde(rename = "th5WorkaroundVLANRange")]
    th5_workaround_vlan_range: Option<Vec<VlanRange>>,
    vpc_peering_disabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct VlanRange {
    from: u16,
    #[serde(default)]
    to: Option<u16>,
}

/// The fabric settings of a fabric configuration YAML; `Err` says which key is malformed.
pub(crate) fn settings_from_config_yaml(text: &str) -> Result<FabricSettings, String> {
    let doc: Option<FabricConfigDoc> =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a fabric configuration: {e}"))?;
    let doc = doc.unwrap_or_default();
    let mut s = FabricSettings::default();
    let net = |key: &str, value: &str| -> Result<Ipv4Net, String> {
        value
            .parse()
            .map_err(|_| format!("{key} {value:?} is not an IPv4 CIDR"))
    };
    let address = |key: &str, value: &str| -> Result<Ipv4Addr, String> {
        // controlVIP carries a prefix length (`172.30.0.1/32`).
        value
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("{key} {value:?} is not an IPv4 address"))
    };
    if let Some(v) = &doc.management_subnet {
        s.management_subnet = net("managementSubnet", v)?;
    }
    if let Some(v) = &doc.control_vip {
        s.control_vip = address("controlVIP", v)?;
    }
    if let Some(v) = &doc.management_dhcp_start {
        s.management_dhcp_start = address("managementDHCPStart", v)?;
    }
    for (key, value, field) in [
        (
            "protocolSubnet",
            &doc.protocol_subnet,
            &mut s.protocol_subnet,
        ),
        ("vtepSubnet", &doc.vtep_subnet, &mut s.vtep_subnet),
        ("fabricSubnet", &doc.fabric_subnet, &mut s.fabric_subnet),
    ] {
        if let Some(v) = value {
            *field = net(key, v)?;
        }
    }
    if let Some(list) = &doc.reserved_subnets {
        s.reserved_subnets = list
            .iter()
            .map(|v| net("reservedSubnets", v).map(|n| n.trunc()))
            .collect::<Result<_, _>>()?;
    }
    let numbers = [
        (doc.spine_asn, &mut s.spine_asn),
        (doc.leaf_asn_start, &mut s.leaf_asn_start),
        (doc.leaf_asn_end, &mut s.leaf_asn_end),
        (doc.fabric_mtu, &mut s.fabric_mtu),
        (
            doc.server_facing_mtu_offset,
            &mut s.server_facing_mtu_offset,
        ),
    ];
    for (value, field) in numbers {
        if let Some(v) = value {
            *field = v;
        }
    }
    if doc.vpc_irb_vlan_range.is_some() || doc.th5_workaround_vlan_range.is_some() {
        s.reserved_vlans = reserved_vlans(&doc)?;
    }
    if let Some(v) = doc.vpc_peering_disabled {
        s.vpc_peering_disabled = v;
    }
    Ok(s)
}

/// The IRB and TH5 workaround ranges together: the VLANs no namespace may use.
fn reserved_vlans(doc: &FabricConfigDoc) -> Result<Vec<[u16; 2]>, String> {
    let ranges = [&doc.vpc_irb_vlan_range, &doc.th5_workaround_vlan_range];
    let mut out = Vec::new();
    for range in ranges.into_iter().flatten().flatten() {
        let to = range.to.unwrap_or(range.from);
        if range.from == 0 || to < range.from || to > 4094 {
            return Err(format!(
                "VLAN range {}-{to} is not within 1-4094 with from <= to",
                range.from
            ));
        }
        out.push([range.from, to]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fabric_config::fabric_config_yaml;

    #[test]
    fn the_configuration_written_from_settings_reads_back_as_them() {
        let settings = FabricSettings {
            spine_asn: 64900,
            fabric_mtu: 9000,
            management_subnet: "10.9.0.0/24".parse().unwrap(),
            control_vip: Ipv4Addr::new(10, 9, 0, 254),
            management_dhcp_start: Ipv4Addr::new(10, 9, 0, 128),
            reserved_subnets: vec!["10.9.0.0/24".parse().unwrap()],
            vpc_peering_disabled: true,
            ..FabricSettings::default()
        };
        let read = settings_from_config_yaml(&fabric_config_yaml(&settings)).unwrap();
        assert_eq!(
            FabricSettings {
                reserved_vlans: settings.reserved_vlans.clone(),
                ..read.clone()
            },
            settings
        );
        assert_eq!(read.reserved_vlans, vec![[3000, 3899], [3900, 3999]]);
    }

    #[test]
    fn keys_left_out_keep_hhfabs_defaults() {
        let read = settings_from_config_yaml("spineASN: 64000\nsomethingElse: 1\n").unwrap();
        assert_eq!(read.spine_asn, 64000);
        assert_eq!(
            read.leaf_asn_start,
            FabricSettings::default().leaf_asn_start
        );
    }

    #[test]
    fn a_malformed_value_is_named() {
        let error = settings_from_config_yaml("vtepSubnet: 172.30.12.0/40\n").unwrap_err();
        assert!(error.contains("vtepSubnet"), "{error}");
        let error = settings_from_config_yaml("spineASN: [1]\n").unwrap_err();
        assert!(error.contains("not a fabric configuration"), "{error}");
    }
}
