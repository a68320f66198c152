//! `[fabric.mapping.settings]`: the fabric-wide settings a fabric's configuration sets
//! explicitly. They override the fabric's own configuration (the cluster's
//! `fab/fabric-ctrl-config`, or the configuration file); keys left out keep its values.

use serde::Deserialize;

use super::fabric::FabricSettings;

macro_rules! overrides {
    ($($(#[$doc:meta])* $field:ident: $ty:ty $(=> $schema:literal)?,)*) => {
        /// The settings set in the sidecar's configuration; `None` keeps the fabric's value.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[cfg_attr(test, derive(schemars::JsonSchema))]
        #[serde(deny_unknown_fields)]
        pub struct SettingsOverrides {
            $(
                $(#[$doc])*
                $(#[cfg_attr(test, schemars(with = $schema))])?
                pub $field: Option<$ty>,
            )*
        }

        impl SettingsOverrides {
            /// `base` with every setting set here replaced; remembers these overrides.
            pub fn apply_to(&self, mut base: FabricSettings) -> FabricSettings {
                $(
                    if let Some(value) = &self.$field {
                        base.$field = value.clone();
                    }
                )*
                base.overrides = self.clone();
                base
            }
        }
    };
}

overrides! {
    management_subnet: ipnet::Ipv4Net => "Option<String>",
    control_vip: std::net::Ipv4Addr,
    /// First address the management DHCP hands out; switch IPs must lie below it.
    management_dhcp_start: std::net::Ipv4Addr,
    protocol_subnet: ipnet::Ipv4Net => "Option<String>",
    vtep_subnet: ipnet::Ipv4Net => "Option<String>",
    fabric_subnet: ipnet::Ipv4Net => "Option<String>",
    /// Subnets VPCs, IPv4Namespaces and static routes may not overlap.
    reserved_subnets: Vec<ipnet::Ipv4Net> => "Option<Vec<String>>",
    spine_asn: u32,
    leaf_asn_start: u32,
    leaf_asn_end: u32,
    fabric_mtu: u32,
    server_facing_mtu_offset: u32,
    /// Inclusive VLAN ranges no namespace may overlap (IRB and TH5 workaround ranges).
    reserved_vlans: Vec<[u16; 2]>,
    vpc_peering_disabled: bool,
}

impl From<SettingsOverrides> for FabricSettings {
    /// hhfab's defaults with the overrides: what a fabric read from no cluster and no file has.
    fn from(overrides: SettingsOverrides) -> Self {
        overrides.apply_to(FabricSettings::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_keys_set_override_the_fabrics_configuration() {
        let overrides: SettingsOverrides =
            serde_json::from_value(serde_json::json!({"spine_asn": 64999, "fabric_mtu": 9000}))
                .expect("settings");
        let base = FabricSettings {
            leaf_asn_start: 64000,
            fabric_mtu: 9216,
            ..FabricSettings::default()
        };
        let effective = overrides.apply_to(base);
        assert_eq!(effective.spine_asn, 64999);
        assert_eq!(effective.fabric_mtu, 9000);
        assert_eq!(effective.leaf_asn_start, 64000, "not set: the base's value");
    }

    #[test]
    fn an_unknown_setting_is_refused() {
        let typo = serde_json::json!({"spine_as": 1});
        assert!(serde_json::from_value::<SettingsOverrides>(typo).is_err());
    }
}
