//! The NetBox list endpoints the sidecar uses, with the object type each one serves.

/// A list endpoint (`dcim/devices/`) and the object type of its objects (`dcim.device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub path: &'static str,
    pub object_type: &'static str,
}

impl Endpoint {
    /// The detail path of one object.
    pub fn detail(&self, id: u64) -> String {
        format!("{}{id}/", self.path)
    }
}

macro_rules! endpoints {
    ($($name:ident = $path:literal, $object_type:literal;)*) => {
        $(pub const $name: Endpoint = Endpoint { path: $path, object_type: $object_type };)*
        /// Every endpoint above.
        pub const ALL: &[Endpoint] = &[$($name),*];
    };
}

endpoints! {
    SITES = "dcim/sites/", "dcim.site";
    MANUFACTURERS = "dcim/manufacturers/", "dcim.manufacturer";
    DEVICE_TYPES = "dcim/device-types/", "dcim.devicetype";
    DEVICE_ROLES = "dcim/device-roles/", "dcim.devicerole";
    DEVICES = "dcim/devices/", "dcim.device";
    INTERFACES = "dcim/interfaces/", "dcim.interface";
    MAC_ADDRESSES = "dcim/mac-addresses/", "dcim.macaddress";
    CABLES = "dcim/cables/", "dcim.cable";
    CABLE_TERMINATIONS = "dcim/cable-terminations/", "dcim.cabletermination";
    IPAM_ROLES = "ipam/roles/", "ipam.role";
    RIRS = "ipam/rirs/", "ipam.rir";
    ASN_RANGES = "ipam/asn-ranges/", "ipam.asnrange";
    ASNS = "ipam/asns/", "ipam.asn";
    IP_ADDRESSES = "ipam/ip-addresses/", "ipam.ipaddress";
    VLAN_GROUPS = "ipam/vlan-groups/", "ipam.vlangroup";
    VLANS = "ipam/vlans/", "ipam.vlan";
    VRFS = "ipam/vrfs/", "ipam.vrf";
    ROUTE_TARGETS = "ipam/route-targets/", "ipam.routetarget";
    PREFIXES = "ipam/prefixes/", "ipam.prefix";
    IP_RANGES = "ipam/ip-ranges/", "ipam.iprange";
    TAGS = "extras/tags/", "extras.tag";
    CUSTOM_FIELDS = "extras/custom-fields/", "extras.customfield";
    CHOICE_SETS = "extras/custom-field-choice-sets/", "extras.customfieldchoiceset";
    WEBHOOKS = "extras/webhooks/", "extras.webhook";
    EVENT_RULES = "extras/event-rules/", "extras.eventrule";
    CUSTOM_LINKS = "extras/custom-links/", "extras.customlink";
    SAVED_FILTERS = "extras/saved-filters/", "extras.savedfilter";
    JOURNAL_ENTRIES = "extras/journal-entries/", "extras.journalentry";
    CLUSTER_TYPES = "virtualization/cluster-types/", "virtualization.clustertype";
    CLUSTERS = "virtualization/clusters/", "virtualization.cluster";
    VIRTUAL_MACHINES = "virtualization/virtual-machines/", "virtualization.virtualmachine";
    VM_INTERFACES = "virtualization/interfaces/", "virtualization.vminterface";
    PLATFORMS = "dcim/platforms/", "dcim.platform";
    PERMISSIONS = "users/permissions/", "users.objectpermission";
}

/// The endpoint serving an object type (`ipam.prefix` → `ipam/prefixes/`).
pub(crate) fn for_object_type(object_type: &str) -> Option<Endpoint> {
    ALL.iter().copied().find(|e| e.object_type == object_type)
}

/// The object types a fabric is made of: what the mapping reads and the webhook listens to.
pub(crate) const FABRIC_OBJECT_TYPES: &[&str] = &[
    "dcim.device",
    "dcim.interface",
    "dcim.macaddress",
    "dcim.cable",
    "ipam.ipaddress",
    "ipam.vlangroup",
    "ipam.vlan",
    "ipam.vrf",
    "ipam.routetarget",
    "ipam.prefix",
    "ipam.iprange",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fabric_object_type_has_an_endpoint() {
        for object_type in FABRIC_OBJECT_TYPES {
            assert!(for_object_type(object_type).is_some(), "{object_type}");
        }
        assert_eq!(PREFIXES.detail(7), "ipam/prefixes/7/");
    }
}
