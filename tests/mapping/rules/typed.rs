//! Rules that NetBox data cannot break through the mapping (it never renders the fields
//! concerned), checked on typed objects changed after `build`: one connection type, DHCP static
//! leases, VPCPeering's deprecated `remote`.

use std::collections::BTreeMap;

use hedgehog_sidecar::mapping::objects::FabricObjects;
use hedgehog_sidecar::mapping::validate::validate;
use hedgehog_sidecar::mapping::{self, Violation};
use hedgehog_sidecar::model::vpc::{DhcpStatic, VPCDhcp};

use super::super::common::*;
use super::peerings::peered_vpc;

/// Builds `b`'s objects, applies `change`, validates: the violations.
fn violations(b: &Builder, change: impl FnOnce(&mut FabricObjects)) -> Vec<Violation> {
    let config = fabric_config(CLUSTER);
    let (mut objects, mut out) = mapping::build(&config, &b.snapshot);
    change(&mut objects);
    validate(&config, &objects, &mut out);
    out.errors
}

fn messages(violations: &[Violation]) -> Vec<String> {
    violations.iter().map(ToString::to_string).collect()
}

#[test]
fn a_connection_has_exactly_one_type() {
    let (b, lab) = lab();
    assert!(violations(&b, |_| {}).is_empty());
    let found = violations(&b, |o| {
        let fabric = o.connections.iter_mut().find(|c| c.spec.fabric.is_some());
        let conn = fabric.unwrap();
        conn.spec.vpc_loopback = Some(Default::default());
    });
    assert!(
        found.iter().any(|v| {
            v.message == "a connection must have exactly one type"
                && v.sources.iter().any(|s| s.id == lab.fabric_cables[0])
        }),
        "{:?}",
        messages(&found)
    );
}

#[test]
fn static_dhcp_leases_are_distinct_host_addresses_of_the_subnet() {
    let (b, lab) = lab();
    let with_leases = |leases: &[(&str, &str)]| {
        let static_leases: BTreeMap<String, DhcpStatic> = leases
            .iter()
            .map(|(mac, ip)| (mac.to_string(), DhcpStatic { ip: ip.to_string() }))
            .collect();
        violations(&b, move |o| {
            let web = o.vpcs[0].spec.subnets.get_mut("web").unwrap();
            web.dhcp = Some(VPCDhcp {
                enable: true,
                static_leases,
                ..VPCDhcp::default()
            });
        })
    };
    let good = with_leases(&[
        ("02:00:00:00:00:01", "10.0.1.20"),
        ("02:00:00:00:00:02", "10.0.1.21"),
    ]);
    assert!(good.is_empty(), "{:?}", messages(&good));
    for (leases, text) in [
        (
            &[("02:00:00:00:00:01", "10.0.1.1")][..],
            "static DHCP lease 10.0.1.1 for 02:00:00:00:00:01 must be a host address inside 10.0.1.0/24, not its network, gateway or broadcast address",
        ),
        (
            &[("02:00:00:00:00:01", "10.0.2.20")],
            "static DHCP lease 10.0.2.20 for 02:00:00:00:00:01 must be a host address inside 10.0.1.0/24",
        ),
        (
            &[
                ("02:00:00:00:00:01", "10.0.1.20"),
                ("02:00:00:00:00:02", "10.0.1.20"),
            ],
            "static DHCP lease 10.0.1.20 for 02:00:00:00:00:02 repeats another lease's address",
        ),
    ] {
        let found = with_leases(leases);
        assert!(
            found
                .iter()
                .any(|v| v.message.starts_with(text)
                    && v.sources.iter().any(|s| s.id == lab.prefix_web)),
            "{text}: {:?}",
            messages(&found)
        );
    }
}

#[test]
fn the_deprecated_vpc_peering_remote_must_be_empty() {
    let (mut b, lab) = lab();
    peered_vpc(&mut b, &lab);
    assert!(violations(&b, |_| {}).is_empty());
    let found = violations(&b, |o| {
        o.vpc_peerings[0].spec.remote = Some("border".into())
    });
    assert!(
        found.iter().any(|v| {
            v.message == "the deprecated field remote must be empty"
                && v.sources.iter().any(|s| s.id == lab.vrf)
        }),
        "{:?}",
        messages(&found)
    );
}

#[test]
fn static_dhcp_leases_need_dhcp_enabled() {
    let (b, lab) = lab();
    let found = violations(&b, |o| {
        let web = o.vpcs[0].spec.subnets.get_mut("web").unwrap();
        web.dhcp = Some(VPCDhcp {
            static_leases: BTreeMap::from([(
                "02:00:00:00:00:01".to_owned(),
                DhcpStatic {
                    ip: "10.0.1.20".into(),
                },
            )]),
            ..VPCDhcp::default()
        });
    });
    assert!(
        found.iter().any(|v| {
            v.message
                .starts_with("static DHCP leases need DHCP enabled")
                && v.sources.iter().any(|s| s.id == lab.prefix_web)
        }),
        "{:?}",
        messages(&found)
    );
}
