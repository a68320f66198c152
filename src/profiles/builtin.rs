//! The switch profile catalog of the fabric version the sidecar is built for: the files in
//! `data/switchprofiles/`, written by `hh-fabric-oracle profiles` (the fabric controller's own
//! catalog). Serves commit mode and offline rendering; apply mode reads the cluster's instead.

/// One SwitchProfile YAML document per profile, as the fabric writes them.
pub const BUILTIN_PROFILES: [&str; 16] = [
    include_str!("../../data/switchprofiles/celestica-ds2000.yaml"),
    include_str!("../../data/switchprofiles/celestica-ds3000.yaml"),
    include_str!("../../data/switchprofiles/celestica-ds4000.yaml"),
    include_str!("../../data/switchprofiles/celestica-ds4101.yaml"),
    include_str!("../../data/switchprofiles/celestica-ds5000.yaml"),
    include_str!("../../data/switchprofiles/dell-s5232f-on.yaml"),
    include_str!("../../data/switchprofiles/dell-s5248f-on.yaml"),
    include_str!("../../data/switchprofiles/dell-z9332f-on.yaml"),
    include_str!("../../data/switchprofiles/edgecore-dcs203.yaml"),
    include_str!("../../data/switchprofiles/edgecore-dcs204.yaml"),
    include_str!("../../data/switchprofiles/edgecore-dcs240.yaml"),
    include_str!("../../data/switchprofiles/edgecore-dcs501.yaml"),
    include_str!("../../data/switchprofiles/edgecore-eps202.yaml"),
    include_str!("../../data/switchprofiles/edgecore-eps203.yaml"),
    include_str!("../../data/switchprofiles/supermicro-sse-c4632sb.yaml"),
    include_str!("../../data/switchprofiles/vs.yaml"),
];
