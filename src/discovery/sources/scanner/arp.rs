//! The kernel's ARP table (`/proc/net/arp`): the MAC address of each IPv4 neighbour the scan
//! reached. Incomplete entries (flags without ATF_COM, MAC all zeros) are left out.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::discovery::observation::normalize_mac;

/// `ATF_COM`: the entry is complete (the neighbour answered).
const COMPLETE: u32 = 0x2;

/// IPv4 address to MAC (as NetBox shows it) of every complete entry in `table`, the text of
/// `/proc/net/arp`; lines that do not parse are skipped.
pub fn parse_arp_table(table: &str) -> BTreeMap<IpAddr, String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let [ip, _hw_type, flags, mac, ..] = columns.as_slice() else {
                return None;
            };
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            let mac = normalize_mac(mac).filter(|m| m != "00:00:00:00:00:00")?;
            (flags & COMPLETE != 0).then_some((ip.parse().ok()?, mac))
        })
        .collect()
}

/// The ARP table at `path`; empty (and logged) when it cannot be read, since a missing table
/// only costs the MACs, not the hosts.
pub async fn read_arp_table(path: &str) -> BTreeMap<IpAddr, String> {
    if path.is_empty() {
        return BTreeMap::new();
    }
    match tokio::fs::read_to_string(path).await {
        Ok(table) => parse_arp_table(&table),
        Err(error) => {
            tracing::warn!(path, %error, "scanner: cannot read the ARP table");
            BTreeMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_entries_give_macs_and_incomplete_ones_nothing() {
        let table = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.10       0x1         0x2         52:54:00:ab:cd:ef     *        eth0
192.0.2.11       0x1         0x0         00:00:00:00:00:00     *        eth0
192.0.2.12       0x1         0x6         52:54:00:00:00:12     *        eth0
garbage line
";
        let macs = parse_arp_table(table);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(macs.len(), 2);
        assert_eq!(macs[&ip("192.0.2.10")], "52:54:00:AB:CD:EF");
        assert_eq!(macs[&ip("192.0.2.12")], "52:54:00:00:00:12");
    }
}
