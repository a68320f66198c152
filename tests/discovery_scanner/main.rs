//! The network scanner against hosts this test makes in network namespaces (veth pairs in
//! 169.254.0.0/16, nothing leaves the machine): live hosts are found with their MACs and
//! reverse-DNS names, an excluded host receives no packet at all, and the rate limit holds.
#![cfg(feature = "scanner-source")]

mod dns;
mod netns;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use hedgehog_sidecar::config::{CustomFieldNames, ScannerSourceSettings};
use hedgehog_sidecar::discovery::Source;
use hedgehog_sidecar::discovery::sources::scanner::ScannerSource;
use netns::Host;

/// A /29 of 169.254.0.0/16 of this process (two test runs at once use different ones), away
/// from 169.254.169.0/24 where clouds keep their metadata service.
fn lab_network() -> Ipv4Addr {
    let third = 16 + u8::try_from(std::process::id() % 128).unwrap();
    Ipv4Addr::new(169, 254, third, 0)
}

fn settings(
    prefixes: &[String],
    exclude: &[String],
    dns: std::net::SocketAddr,
) -> ScannerSourceSettings {
    ScannerSourceSettings {
        name: "netns".into(),
        prefixes: prefixes.iter().map(|p| p.parse().unwrap()).collect(),
        exclude: exclude.iter().map(|p| p.parse().unwrap()).collect(),
        tcp_ports: vec![8080],
        probes_per_sec: 10,
        concurrency: 4,
        timeout_ms: 500,
        dns_servers: vec![dns],
        ..Default::default()
    }
}

#[tokio::test]
#[ignore = "needs root and ip netns"]
async fn namespace_hosts_are_found_with_mac_and_name_and_an_excluded_one_gets_no_packet() {
    if let Some(why) = netns::unavailable() {
        eprintln!("skipped: network namespaces cannot be made here ({why})");
        return;
    }
    let base = lab_network();
    let [a, b, c, _] = base.octets();
    let tag = format!("hs{:x}", std::process::id() % 0xffff);
    let web = Host::new(&tag, "a", base, "02:00:5e:10:00:02");
    let hidden = Host::new(&tag, "b", Ipv4Addr::new(a, b, c, 4), "02:00:5e:10:00:06");
    let dns = dns::serve_ptr(BTreeMap::from([(
        IpAddr::V4(web.address),
        "web-01.scan.test".to_owned(),
    )]))
    .await;
    let prefix = format!("{base}/29");
    // The hidden host's whole link: no probe, ARP or broadcast reaches its namespace.
    let excluded = format!("{}/30", Ipv4Addr::new(a, b, c, 4));
    let source = ScannerSource::new(
        &settings(&[prefix], &[excluded], dns),
        &CustomFieldNames::default(),
    )
    .unwrap();
    let received_before = hidden.ipv4_received();

    let started = Instant::now();
    let hosts = source.scan().await.unwrap();
    let took = started.elapsed();

    let found = hosts
        .iter()
        .find(|h| h.ip == IpAddr::V4(web.address))
        .expect("the listening host is found");
    assert!(found.echo, "it answers ICMP echo");
    assert_eq!(found.open_ports, [8080]);
    assert_eq!(
        found.mac.as_deref(),
        Some(web.mac.as_str()),
        "MAC from the ARP table"
    );
    assert_eq!(found.name.as_deref(), Some("web-01.scan.test"), "PTR name");
    assert!(web.accepted() >= 1, "the host's listener saw the connect");

    assert!(hosts.iter().all(|h| h.ip != IpAddr::V4(hidden.address)));
    assert_eq!(hidden.accepted(), 0, "no connect reached the excluded host");
    assert_eq!(
        hidden.ipv4_received(),
        received_before,
        "no IPv4 packet reached the excluded host"
    );
    // 3 addresses (the /29's 6 hosts less the excluded /30), an echo and a connect each, at
    // 10 a second: 6 probes spaced by 100 ms.
    assert!(
        took >= Duration::from_millis(490),
        "rate limited: took {took:?}"
    );

    // The excluded host was reachable all along: scanned alone, it is found and counts it.
    let alone = format!("{}/32", hidden.address);
    let direct =
        ScannerSource::new(&settings(&[alone], &[], dns), &CustomFieldNames::default()).unwrap();
    let observed = direct.observe().await.unwrap();
    assert_eq!(observed.len(), 1);
    assert_eq!(observed[0].identity, format!("mac:{}", hidden.mac));
    assert_eq!(observed[0].primary_ip, Some(hidden.address.to_string()));
    let interface = &observed[0].interfaces[0];
    assert_eq!(interface.macs, std::slice::from_ref(&hidden.mac));
    assert_eq!(
        interface.ips,
        [format!("{}/32", hidden.address)],
        "the scanned prefix's length"
    );
    assert!(hidden.ipv4_received() > received_before);
    assert_eq!(hidden.accepted(), 1);
}
