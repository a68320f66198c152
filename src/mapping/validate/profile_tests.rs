//! The switch profile rules, each against a fact of a built-in profile.

use serde_json::{Value, json};

use super::Violations;
use crate::mapping::objects::{Draft, FabricObjects};
use crate::profiles::SwitchProfiles;

fn draft<S: serde::de::DeserializeOwned>(name: &str, spec: Value) -> Draft<S> {
    Draft::new(name, serde_json::from_value(spec).unwrap(), vec![])
}

fn switch(profile: &str, extra: Value) -> FabricObjects {
    let mut spec = json!({"role": "server-leaf", "profile": profile});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    FabricObjects {
        switches: vec![draft("leaf-01", spec)],
        ..FabricObjects::default()
    }
}

fn messages(o: &FabricObjects) -> Vec<String> {
    let mut out = Violations::default();
    let catalog = SwitchProfiles::builtin();
    super::profiles::check(&catalog, o, &mut out);
    super::features::check(&catalog, o, &mut out);
    out.errors.into_iter().map(|v| v.message).collect()
}

fn assert_refused(o: &FabricObjects, words: &[&str]) {
    let messages = messages(o);
    assert!(
        messages.iter().any(|m| words.iter().all(|w| m.contains(w))),
        "expected a violation saying {words:?}, got {messages:?}"
    );
}

fn assert_admitted(o: &FabricObjects) {
    assert_eq!(messages(o), Vec::<String>::new());
}

#[test]
fn a_profile_the_catalog_lacks_is_refused_naming_the_ones_it_has() {
    assert_refused(
        &switch("no-such-switch", json!({})),
        &["no-such-switch", "does not exist", "vs"],
    );
    assert_admitted(&switch("vs", json!({})));
}

/// dell-s5248f-on: E1/49 is QSFP28 with breakouts 1x100G … 4x25G; E1/1 is an SFP28 group port.
#[test]
fn breakouts_are_the_modes_of_the_ports_breakout_profile() {
    assert_admitted(&switch(
        "dell-s5248f-on",
        json!({"portBreakouts": {"E1/49": "4x25G"}}),
    ));
    assert_refused(
        &switch(
            "dell-s5248f-on",
            json!({"portBreakouts": {"E1/49": "8x10G"}}),
        ),
        &["E1/49", "4x25G", "not 8x10G"],
    );
    assert_refused(
        &switch(
            "dell-s5248f-on",
            json!({"portBreakouts": {"E1/1": "4x25G"}}),
        ),
        &["E1/1", "cannot be broken out"],
    );
    assert_refused(
        &switch("vs", json!({"portBreakouts": {"E1/60": "4x25G"}})),
        &["no port E1/60"],
    );
}

/// vs: every data port is in a port group whose SFP28-25G profile runs at 10G or 25G.
#[test]
fn group_ports_take_speeds_per_group_and_only_supported_ones() {
    assert_admitted(&switch("vs", json!({"portGroupSpeeds": {"1": "10G"}})));
    assert_refused(
        &switch("vs", json!({"portGroupSpeeds": {"1": "100G"}})),
        &["port group 1", "10G, 25G", "not 100G"],
    );
    assert_refused(
        &switch("vs", json!({"portSpeeds": {"E1/1": "25G"}})),
        &["E1/1", "no speed of its own"],
    );
}

/// celestica-ds3000: E1/33 is an SFP28-10G speed port (1G, 10G).
#[test]
fn speed_ports_take_only_their_profiles_speeds() {
    assert_admitted(&switch(
        "celestica-ds3000",
        json!({"portSpeeds": {"E1/33": "1G"}}),
    ));
    assert_refused(
        &switch("celestica-ds3000", json!({"portSpeeds": {"E1/33": "25G"}})),
        &["E1/33", "1G, 10G", "not 25G"],
    );
}

/// celestica-ds3000: QSFP28-100G allows autoneg; its SFP28-10G port profile does not.
#[test]
fn autoneg_only_where_the_port_profile_allows_it() {
    assert_admitted(&switch(
        "celestica-ds3000",
        json!({"portBreakouts": {"E1/1": "4x25G"}, "portAutoNegs": {"E1/1/2": true}}),
    ));
    assert_refused(
        &switch("celestica-ds3000", json!({"portAutoNegs": {"E1/33": true}})),
        &["E1/33", "autonegotiation"],
    );
}

/// dell-s5248f-on: E1/49 at its default 1x100G takes FEC by its own name; broken out, per
/// sub-port.
#[test]
fn fec_on_unbroken_ports_by_name_and_on_broken_out_ports_per_sub_port() {
    assert_admitted(&switch(
        "dell-s5248f-on",
        json!({"portFECs": {"E1/49": "rs"}}),
    ));
    assert_refused(
        &switch(
            "dell-s5248f-on",
            json!({"portBreakouts": {"E1/49": "4x25G"}, "portFECs": {"E1/49": "rs"}}),
        ),
        &["E1/49", "FEC", "E1/49/1"],
    );
    assert_refused(
        &switch("dell-s5248f-on", json!({"portFECs": {"E1/49": "fast"}})),
        &["FEC fast"],
    );
}

/// celestica-ds4000 has no ESLAG and no MCLAG; vs has both; edgecore-eps202 has no RoCE.
#[test]
fn redundancy_and_roce_need_the_profiles_features() {
    let eslag = json!({"redundancy": {"group": "r1", "type": "eslag"}});
    assert_admitted(&switch("vs", eslag.clone()));
    assert_refused(
        &switch("celestica-ds4000", eslag),
        &["celestica-ds4000", "ESLAG"],
    );
    let mclag = json!({"redundancy": {"group": "r1", "type": "mclag"}});
    assert_admitted(&switch("vs", mclag.clone()));
    assert_refused(&switch("celestica-ds4000", mclag), &["MCLAG"]);
    assert_refused(&switch("edgecore-eps202", json!({"roce": true})), &["RoCE"]);
}

/// celestica-ds4000: pipeline 1 (E1/1–E1/4) allows 18 ports; 8x25G on three of them makes 25.
#[test]
fn breakouts_may_not_exceed_a_pipelines_ports() {
    let within = json!({"portBreakouts": {"E1/1": "8x25G", "E1/2": "8x25G"}});
    assert_admitted(&switch("celestica-ds4000", within));
    let beyond = json!({"portBreakouts": {"E1/1": "8x25G", "E1/2": "8x25G", "E1/3": "8x25G"}});
    assert_refused(
        &switch("celestica-ds4000", beyond),
        &["pipeline 1", "allows 18", "make 25"],
    );
}

fn with_connection(profile: &str, breakouts: Value, port: &str) -> FabricObjects {
    let mut o = switch(profile, json!({"portBreakouts": breakouts}));
    o.connections.push(draft(
        "server-1--unbundled--leaf-01",
        json!({"unbundled": {"link": {"server": {"port": "server-1/eth0"}, "switch": {"port": format!("leaf-01/{port}")}}}}),
    ));
    o
}

/// vs has E1/1–E1/48 and no breakouts; dell-s5248f-on's E1/49 has sub-ports only when broken out.
#[test]
fn connections_use_only_ports_the_profile_has_with_the_switchs_breakouts() {
    assert_admitted(&with_connection("vs", json!({}), "E1/48"));
    assert_refused(
        &with_connection("vs", json!({}), "E1/49"),
        &["interface E1/49", "leaf-01", "vs", "E1/1 … E1/48"],
    );
    assert_refused(
        &with_connection("dell-s5248f-on", json!({}), "E1/49/2"),
        &["E1/49/2"],
    );
    assert_admitted(&with_connection(
        "dell-s5248f-on",
        json!({"E1/49": "4x25G"}),
        "E1/49/2",
    ));
    assert_admitted(&with_connection(
        "dell-s5248f-on",
        json!({"E1/49": "4x25G"}),
        "E1/49",
    ));
}

fn attached(profile: &str, mode: &str) -> FabricObjects {
    let mut o = with_connection(profile, json!({}), "E1/1");
    o.vpcs.push(draft(
        "vpc-1",
        json!({"mode": mode, "subnets": {"default": {"subnet": "10.0.1.0/24", "vlan": 1001}}}),
    ));
    o.vpc_attachments.push(draft(
        "vpc-1--server-1",
        json!({"subnet": "vpc-1/default", "connection": "server-1--unbundled--leaf-01"}),
    ));
    o
}

/// celestica-ds5000 has L3VNI without L2VNI; celestica-ds4101 has neither; vs has both.
#[test]
fn vpc_attachments_need_l2vni_and_l3vni_or_l3vni_for_an_l3vni_vpc() {
    assert_admitted(&attached("vs", ""));
    assert_admitted(&attached("celestica-ds5000", "l3vni"));
    assert_refused(
        &attached("celestica-ds5000", ""),
        &["L2VNI and L3VNI", "celestica-ds5000"],
    );
    assert_refused(
        &attached("celestica-ds4101", "l3vni"),
        &["L3VNI", "celestica-ds4101"],
    );
}

fn external(profile: &str, vlan: Option<u16>) -> FabricObjects {
    let mut o = switch(profile, json!({}));
    o.connections.push(draft(
        "leaf-01--external",
        json!({"external": {"link": {"switch": {"port": "leaf-01/E1/1"}}}}),
    ));
    o.external_attachments.push(draft(
        "leaf-01--ext",
        json!({"external": "ext", "connection": "leaf-01--external",
               "switch": {"vlan": vlan, "ip": "10.9.0.1/31"}, "neighbor": {"asn": 65000, "ip": "10.9.0.0"}}),
    ));
    o
}

/// celestica-ds4101 has no subinterfaces; vs has them.
#[test]
fn an_external_attachment_on_a_vlan_needs_subinterfaces() {
    assert_admitted(&external("vs", Some(100)));
    assert_admitted(&external("celestica-ds4101", None));
    assert_refused(
        &external("celestica-ds4101", Some(100)),
        &["subinterfaces", "celestica-ds4101"],
    );
}
