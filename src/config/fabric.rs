//! Per-fabric configuration: where the fabric's objects go and how NetBox objects map onto them.
//! Every slug, field and role name of `design/netbox-model.md` is a default here, never a literal
//! in the mapping code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::settings_overrides::SettingsOverrides;
use crate::profiles::SwitchProfiles;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FabricMode {
    /// Server-side apply to the fabric's cluster.
    #[default]
    Apply,
    /// Commit to a Git repository that a GitOps tool applies.
    Commit,
}

impl FabricMode {
    /// `apply` or `commit`, as configured and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            FabricMode::Apply => "apply",
            FabricMode::Commit => "commit",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ValidationLevel {
    /// Complete objects, as a running cluster needs them.
    #[default]
    Cluster,
    /// A wiring file for hhfab, which fills in ASNs, IPs and link addresses itself.
    Wiring,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FabricConfig {
    pub name: String,
    #[serde(default)]
    pub mode: FabricMode,
    #[serde(default)]
    pub validation: ValidationLevel,
    /// Kubeconfig file; the in-cluster service account when absent.
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    /// The fabric's own configuration (`config.yaml` as in its cluster's ConfigMap
    /// `fab/fabric-ctrl-config`), read in commit mode and by offline `render`; hhfab's defaults
    /// when absent. Apply mode reads the cluster's ConfigMap instead.
    #[serde(default)]
    pub fabric_config_file: Option<PathBuf>,
    #[serde(flatten)]
    pub cluster: ClusterOptions,
    #[serde(default)]
    pub git: Option<GitConfig>,
    #[serde(default)]
    pub mapping: MappingConfig,
    /// Let the sidecar allocate what a running fabric needs and nobody set (leaf ASNs,
    /// management, protocol and VTEP IPs, fabric and mesh link /31s) from NetBox's IPAM.
    #[serde(default)]
    pub allocate: bool,
    /// How long a webhook job waits for other jobs of the fabric before their one publish:
    /// the jobs waiting together are rendered and published once.
    #[serde(default = "default_publish_debounce_ms")]
    pub publish_debounce_ms: u64,
    /// Keep the fabric's NetBox snapshot between webhook jobs and bring it up to date from
    /// their bodies; `false` reads the fabric in full for every publish.
    #[serde(default = "keep_snapshot_by_default")]
    pub keep_snapshot: bool,
}

fn keep_snapshot_by_default() -> bool {
    true
}

/// How long a webhook job waits for others of its fabric by default.
pub const DEFAULT_PUBLISH_DEBOUNCE_MS: u64 = 20;

fn default_publish_debounce_ms() -> u64 {
    DEFAULT_PUBLISH_DEBOUNCE_MS
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ClusterOptions {
    /// Kubeconfig context; the current context when absent.
    pub context: Option<String>,
    /// Namespace of the fabric's objects (Hedgehog supports only `default`).
    pub namespace: String,
    /// Take over fields another field manager owns instead of reporting the conflict.
    pub force_conflicts: bool,
    /// Server-side dry-run before every apply.
    pub dry_run_first: bool,
    /// Delete managed objects that are no longer rendered.
    pub prune: bool,
    /// Re-apply drifted and missing objects during reconcile (apply mode).
    pub self_heal: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            context: None,
            namespace: "default".into(),
            force_conflicts: false,
            dry_run_first: false,
            prune: true,
            self_heal: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GitConfig {
    pub url: String,
    #[serde(default = "default_branch")]
    pub branch: String,
    /// Folder inside the repository that holds this fabric; nothing outside it is touched.
    #[serde(default)]
    pub path: String,
    #[serde(default = "default_author_name")]
    pub author_name: String,
    #[serde(default = "default_author_email")]
    pub author_email: String,
    /// User name offered with the SSH key or the HTTPS token; the URL's user name when absent,
    /// else `git` (SSH) or `x-access-token` (HTTPS).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub ssh_key_file: Option<PathBuf>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Name of an environment variable holding an HTTPS token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Changes arriving within this window go into one commit.
    #[serde(default = "default_batch_window_ms")]
    pub batch_window_ms: u64,
    #[serde(default = "default_push_attempts")]
    pub max_push_attempts: u32,
    /// Local working clone; a folder under the queue's data directory when absent.
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// How long a replica's write lease on the repository lasts (Redis), renewed by nothing:
    /// it must exceed one fetch + commit + push.
    #[serde(default = "default_lock_lease_ms")]
    pub lock_lease_ms: u64,
    /// How long a publish waits for another replica's lease before it gives up (and is retried).
    #[serde(default = "default_lock_wait_ms")]
    pub lock_wait_ms: u64,
}

fn default_branch() -> String {
    "main".into()
}
fn default_author_name() -> String {
    "hedgehog-sidecar".into()
}
fn default_author_email() -> String {
    "hedgehog-sidecar@localhost".into()
}
fn default_batch_window_ms() -> u64 {
    2000
}
fn default_push_attempts() -> u32 {
    5
}
fn default_lock_lease_ms() -> u64 {
    60_000
}
fn default_lock_wait_ms() -> u64 {
    30_000
}

/// How this fabric's NetBox objects are read (see `design/netbox-model.md`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct MappingConfig {
    /// Device role slug → Hedgehog switch role.
    pub switch_roles: BTreeMap<String, String>,
    /// Device role slugs that are servers.
    pub server_roles: Vec<String>,
    /// Device role slugs that are external peers (BGP externals: `external` connections).
    pub external_roles: Vec<String>,
    /// Device role slugs of static-external peers (`staticExternal` connections).
    pub static_external_roles: Vec<String>,
    /// Device role slugs of Hedgehog gateways (`gateway` connections; the Gateway kind itself is
    /// not rendered).
    pub gateway_roles: Vec<String>,
    /// Device type slug → SwitchProfile name (when `hedgehog_profile` is not set).
    pub device_type_profiles: BTreeMap<String, String>,
    /// Prefix role slug of IPv4Namespace subnets.
    pub ipv4_namespace_prefix_role: String,
    /// Prefix role slug of DHCP ranges (on `ipam.iprange`).
    pub dhcp_range_role: String,
    /// IP address role of a VPC subnet's gateway.
    pub gateway_ip_role: String,
    pub tag_external: String,
    pub tag_protocol_ip: String,
    pub tag_vtep_ip: String,
    pub tag_imported: String,
    /// Tag on objects a discovery source owned and stopped reporting.
    pub tag_stale: String,
    /// Cluster type slug of each fabric's own NetBox record (a cluster named after the fabric),
    /// which carries fabric-wide status and journal entries.
    pub fabric_record_type: String,
    /// The allocation pools mirrored into NetBox: the RIR of the leaf ASN range and the prefix
    /// roles of the container prefixes.
    pub pools: PoolNames,
    /// Custom field names, by purpose.
    pub custom_fields: CustomFieldNames,
    /// Render deprecated MCLAG connections.
    pub render_mclag: bool,
    /// Domain used for the sidecar's labels and annotations.
    pub label_domain: String,
    /// NetBox's public URL, for back-reference annotations; a path relative to NetBox's root
    /// when absent.
    pub netbox_public_url: Option<String>,
    /// The fabric-wide settings the admission rules check against.
    pub settings: FabricSettings,
    /// The switch profile catalog ports and features are checked against: the built-in one
    /// until the fabric's own is read.
    #[serde(skip)]
    #[cfg_attr(test, schemars(skip))]
    pub profiles: SwitchProfiles,
}

impl Default for MappingConfig {
    fn default() -> Self {
        let switch_roles = [
            ("spine", "spine"),
            ("leaf", "server-leaf"),
            ("server-leaf", "server-leaf"),
            ("border-leaf", "border-leaf"),
            ("mixed-leaf", "mixed-leaf"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            switch_roles,
            server_roles: vec!["server".into()],
            external_roles: vec!["external".into()],
            static_external_roles: vec!["static-external".into()],
            gateway_roles: vec!["gateway".into()],
            device_type_profiles: BTreeMap::new(),
            ipv4_namespace_prefix_role: "hedgehog-ipv4-namespace".into(),
            dhcp_range_role: "dhcp".into(),
            gateway_ip_role: "anycast".into(),
            tag_external: "hedgehog-external".into(),
            tag_protocol_ip: "hedgehog-protocol-ip".into(),
            tag_vtep_ip: "hedgehog-vtep-ip".into(),
            tag_imported: "hedgehog-imported".into(),
            tag_stale: "hedgehog-stale".into(),
            fabric_record_type: "hedgehog-fabric".into(),
            pools: PoolNames::default(),
            custom_fields: CustomFieldNames::default(),
            render_mclag: false,
            label_domain: "hedgehog-sidecar.io".into(),
            netbox_public_url: None,
            settings: FabricSettings::default(),
            profiles: SwitchProfiles::builtin(),
        }
    }
}

/// Slugs of the NetBox objects that hold a fabric's allocation pools.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct PoolNames {
    /// RIR (private) of the leaf ASN ranges.
    pub rir: String,
    /// Prefix role of the management subnet.
    pub management_role: String,
    /// Prefix role of the protocol (loopback) subnet.
    pub protocol_role: String,
    /// Prefix role of the VTEP subnet.
    pub vtep_role: String,
    /// Prefix role of the fabric link subnet and of the /31s taken from it.
    pub fabric_link_role: String,
    /// Tag on everything allocation takes (ASNs, addresses, /31 prefixes): what of it no
    /// switch or link holds any more is released.
    pub allocated_tag: String,
}

impl Default for PoolNames {
    fn default() -> Self {
        Self {
            rir: "hedgehog-private".into(),
            management_role: "hedgehog-management".into(),
            protocol_role: "hedgehog-protocol-ips".into(),
            vtep_role: "hedgehog-vtep-ips".into(),
            fabric_link_role: "hedgehog-fabric-links".into(),
            allocated_tag: "hedgehog-allocated".into(),
        }
    }
}

/// Names of the custom fields the product reads and writes.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct CustomFieldNames {
    pub fabric: String,
    pub role: String,
    pub profile: String,
    pub asn: String,
    pub boot_mac: String,
    pub redundancy_group: String,
    pub redundancy_type: String,
    pub groups: String,
    pub vlan_namespaces: String,
    pub port_breakouts: String,
    pub ipv4_namespace: String,
    pub vlan_namespace: String,
    pub vpc_mode: String,
    pub subnet_name: String,
    pub isolated: String,
    pub restricted: String,
    pub dhcp_enable: String,
    pub dhcp_relay: String,
    pub dhcp_options: String,
    pub inbound_community: String,
    pub outbound_community: String,
    pub static_prefixes: String,
    pub neighbor_ip: String,
    pub neighbor_asn: String,
    pub static_remote_ip: String,
    pub static_proxy: String,
    pub permit_prefixes: String,
    /// JSON list of lists of subnet names on a VPC's VRF (`permit`).
    pub vpc_permit: String,
    /// JSON list of `{prefix, nextHops}` on a VPC's VRF (`staticRoutes`).
    pub vpc_static_routes: String,
    /// Boolean on a VPC subnet's prefix (`hostBGP`).
    pub host_bgp: String,
    pub name: String,
    pub status: String,
    pub synced_at: String,
    pub message: String,
    pub agent_heartbeat: String,
    pub agent_generation: String,
    pub nos_version: String,
    /// The discovery source that owns an object's discovered fields (text).
    pub discovered_by: String,
    /// What discovery last wrote and when it last saw the object (JSON): a value that differs
    /// from what was written was typed by hand and is left alone.
    pub discovery: String,
    /// The switch's platform and hardware as its NOS reports them.
    pub platform: String,
    pub hardware: String,
    /// A storage system's pools and shares as it reports them (JSON).
    pub storage: String,
    /// An interface's operational state as the switch reports it.
    pub oper_status: String,
    /// An interface's cabling drift: the LLDP neighbour against the NetBox cable.
    pub cabling: String,
}

impl CustomFieldNames {
    /// The fields only the sidecar writes (status and agent health); nothing is rendered from
    /// them.
    pub fn written_back(&self) -> [&str; 6] {
        [
            &self.status,
            &self.synced_at,
            &self.message,
            &self.agent_heartbeat,
            &self.agent_generation,
            &self.nos_version,
        ]
    }
}

impl Default for CustomFieldNames {
    fn default() -> Self {
        let f = |s: &str| format!("hedgehog_{s}");
        Self {
            fabric: f("fabric"),
            role: f("role"),
            profile: f("profile"),
            asn: f("asn"),
            boot_mac: f("boot_mac"),
            redundancy_group: f("redundancy_group"),
            redundancy_type: f("redundancy_type"),
            groups: f("groups"),
            vlan_namespaces: f("vlan_namespaces"),
            port_breakouts: f("port_breakouts"),
            ipv4_namespace: f("ipv4_namespace"),
            vlan_namespace: f("vlan_namespace"),
            vpc_mode: f("vpc_mode"),
            subnet_name: f("subnet_name"),
            isolated: f("isolated"),
            restricted: f("restricted"),
            dhcp_enable: f("dhcp_enable"),
            dhcp_relay: f("dhcp_relay"),
            dhcp_options: f("dhcp_options"),
            inbound_community: f("inbound_community"),
            outbound_community: f("outbound_community"),
            static_prefixes: f("static_prefixes"),
            neighbor_ip: f("neighbor_ip"),
            neighbor_asn: f("neighbor_asn"),
            static_remote_ip: f("static_remote_ip"),
            static_proxy: f("static_proxy"),
            permit_prefixes: f("permit_prefixes"),
            vpc_permit: f("vpc_permit"),
            vpc_static_routes: f("vpc_static_routes"),
            host_bgp: f("host_bgp"),
            name: f("name"),
            status: f("status"),
            synced_at: f("synced_at"),
            message: f("message"),
            agent_heartbeat: f("agent_heartbeat"),
            agent_generation: f("agent_generation"),
            nos_version: f("nos_version"),
            discovered_by: f("discovered_by"),
            discovery: f("discovery"),
            platform: f("platform"),
            hardware: f("hardware"),
            storage: f("storage"),
            oper_status: f("oper_status"),
            cabling: f("cabling"),
        }
    }
}

/// Fabric-wide settings the admission rules check against: the fabric's own configuration
/// (read from its cluster or configuration file; hhfab's defaults, `pkg/fab/defaults.go`, when
/// there is neither) with the keys of `[fabric.mapping.settings]` overriding it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(from = "SettingsOverrides")]
pub struct FabricSettings {
    #[cfg_attr(test, schemars(with = "String"))]
    pub management_subnet: ipnet::Ipv4Net,
    pub control_vip: std::net::Ipv4Addr,
    /// First address the management DHCP hands out; switch IPs must lie below it.
    pub management_dhcp_start: std::net::Ipv4Addr,
    #[cfg_attr(test, schemars(with = "String"))]
    pub protocol_subnet: ipnet::Ipv4Net,
    #[cfg_attr(test, schemars(with = "String"))]
    pub vtep_subnet: ipnet::Ipv4Net,
    #[cfg_attr(test, schemars(with = "String"))]
    pub fabric_subnet: ipnet::Ipv4Net,
    /// Subnets VPCs, IPv4Namespaces and static routes may not overlap.
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub reserved_subnets: Vec<ipnet::Ipv4Net>,
    pub spine_asn: u32,
    pub leaf_asn_start: u32,
    pub leaf_asn_end: u32,
    pub fabric_mtu: u32,
    pub server_facing_mtu_offset: u32,
    /// Inclusive VLAN ranges no namespace may overlap (IRB and TH5 workaround ranges).
    pub reserved_vlans: Vec<[u16; 2]>,
    pub vpc_peering_disabled: bool,
    /// The keys the sidecar's configuration sets, kept to lay them over the fabric's own.
    #[cfg_attr(test, schemars(skip))]
    pub overrides: SettingsOverrides,
}

impl Default for FabricSettings {
    fn default() -> Self {
        let net = |s: &str| s.parse().unwrap_or_default();
        let management_subnet = net("172.30.0.0/21");
        let protocol_subnet = net("172.30.8.0/22");
        let vtep_subnet = net("172.30.12.0/22");
        let fabric_subnet = net("172.30.128.0/17");
        Self {
            management_subnet,
            control_vip: std::net::Ipv4Addr::new(172, 30, 0, 1),
            management_dhcp_start: std::net::Ipv4Addr::new(172, 30, 4, 0),
            protocol_subnet,
            vtep_subnet,
            fabric_subnet,
            reserved_subnets: vec![
                management_subnet,
                protocol_subnet,
                vtep_subnet,
                fabric_subnet,
                net("172.30.16.0/22"),
                net("172.30.96.0/19"),
                net("172.30.95.0/31"),
            ],
            spine_asn: 65100,
            leaf_asn_start: 65101,
            leaf_asn_end: 65533,
            fabric_mtu: 9100,
            server_facing_mtu_offset: 64,
            reserved_vlans: vec![[3000, 3999]],
            vpc_peering_disabled: false,
            overrides: SettingsOverrides::default(),
        }
    }
}
