//! The fabric's own configuration (its `meta.FabricConfig`), as a Hedgehog cluster keeps it in
//! the ConfigMap `fab/fabric-ctrl-config` under `config.yaml`, written from the sidecar's
//! [`FabricSettings`]. Fields the settings do not describe keep the defaults of `hhfab init`.

use serde_json::{Value, json};

use crate::config::FabricSettings;

/// Namespace and name of the ConfigMap holding the fabric's configuration.
pub const FABRIC_CONFIG_MAP: (&str, &str) = ("fab", "fabric-ctrl-config");
/// The ConfigMap key holding the configuration YAML.
pub const FABRIC_CONFIG_KEY: &str = "config.yaml";

/// hhfab's IRB and TH5 workaround VLAN ranges, which together are the settings' default
/// reserved VLANs.
const IRB_VLANS: [u16; 2] = [3000, 3899];
const TH5_VLANS: [u16; 2] = [3900, 3999];

/// The fabric configuration matching `settings`, as YAML the fabric reads.
pub fn fabric_config_yaml(settings: &FabricSettings) -> String {
    // Plain strings and numbers: serialising cannot fail.
    serde_yaml_ng::to_string(&fabric_config(settings)).unwrap_or_default()
}

/// The fabric configuration matching `settings`, as JSON.
pub fn fabric_config(settings: &FabricSettings) -> Value {
    let range = |[from, to]: [u16; 2]| json!({"from": from, "to": to});
    let (irb, th5): (Vec<Value>, Vec<Value>) =
        if settings.reserved_vlans == [[IRB_VLANS[0], TH5_VLANS[1]]] {
            (vec![range(IRB_VLANS)], vec![range(TH5_VLANS)])
        } else {
            let all: Vec<Value> = settings.reserved_vlans.iter().copied().map(range).collect();
            (all.clone(), all)
        };
    let management = settings.management_subnet;
    let vip = settings.control_vip;
    json!({
        "controlVIP": format!("{vip}/32"),
        "apiServer": format!("{vip}:6443"),
        "agentRepo": format!("{vip}:31000/githedgehog/agent"),
        "vpcIRBVLANRange": irb,
        "vpcPeeringVLANRange": [{"from": 100, "to": 3999}],
        "th5WorkaroundVLANRange": th5,
        "vpcPeeringDisabled": settings.vpc_peering_disabled,
        "reservedSubnets": settings.reserved_subnets.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "fabricMode": "spine-leaf",
        "baseVPCCommunity": "50000:0",
        "vpcLoopbackSubnet": "172.30.96.0/19",
        "fabricMTU": settings.fabric_mtu,
        "serverFacingMTUOffset": settings.server_facing_mtu_offset,
        "eslagMACBase": "f2:00:00:00:00:00",
        "eslagESIPrefix": "00:f2:00:00:",
        "mclagSessionSubnet": "172.30.95.0/31",
        "protocolSubnet": settings.protocol_subnet.to_string(),
        "vtepSubnet": settings.vtep_subnet.to_string(),
        "fabricSubnet": settings.fabric_subnet.to_string(),
        "l2ProxyExternalSubnet": "172.30.16.0/22",
        "spineASN": settings.spine_asn,
        "leafASNStart": settings.leaf_asn_start,
        "leafASNEnd": settings.leaf_asn_end,
        "gatewayASN": 65534,
        "managementSubnet": management.to_string(),
        "managementDHCPStart": settings.management_dhcp_start.to_string(),
        "managementDHCPEnd": management.broadcast().to_string(),
        "defaultMaxPathsEBGP": 64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_give_hhfabs_default_configuration() {
        let config = fabric_config(&FabricSettings::default());
        assert_eq!(config["controlVIP"], "172.30.0.1/32");
        assert_eq!(
            config["vpcIRBVLANRange"],
            json!([{"from": 3000, "to": 3899}])
        );
        assert_eq!(
            config["th5WorkaroundVLANRange"],
            json!([{"from": 3900, "to": 3999}])
        );
        assert_eq!(config["managementDHCPEnd"], "172.30.7.255");
        assert_eq!(config["reservedSubnets"][0], "172.30.0.0/21");
    }
}
