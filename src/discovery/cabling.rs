//! Cabling drift: what an interface's LLDP neighbour says against its NetBox cable. A neighbour
//! is the NetBox interface whose device is named like the neighbour's system name and whose name
//! is the neighbour's port (both case-insensitive).

use serde::Serialize;

use super::known::{KnownDevice, KnownInterface};
use super::observation::Neighbour;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CablingState {
    /// The cable ends where LLDP says.
    Ok,
    /// LLDP sees a neighbour that is in NetBox, but the interface has no cable.
    MissingCable,
    /// The cable ends at another port or device than LLDP sees.
    WrongPeer,
    /// LLDP sees a device or port NetBox does not have.
    NeighbourNotInNetbox,
}

/// One interface's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CablingFinding {
    pub device: String,
    pub interface: String,
    #[serde(skip)]
    pub interface_id: u64,
    pub state: CablingState,
    /// What LLDP sees: `device/port`.
    pub lldp: String,
    /// Where the NetBox cable ends: `device/port`, empty without a cable.
    pub netbox: Vec<String>,
    /// The neighbour's interface id, when it is in NetBox (for creating the cable).
    #[serde(skip)]
    pub neighbour_interface_id: Option<u64>,
}

impl CablingFinding {
    /// The text written to the interface's cabling field.
    pub fn message(&self) -> String {
        match self.state {
            CablingState::Ok => format!("ok: LLDP sees {}", self.lldp),
            CablingState::MissingCable => format!("missing cable: LLDP sees {}", self.lldp),
            CablingState::WrongPeer => format!(
                "cable to {} but LLDP sees {}",
                self.netbox.join(", "),
                self.lldp
            ),
            CablingState::NeighbourNotInNetbox => {
                format!("neighbour not in NetBox: LLDP sees {}", self.lldp)
            }
        }
    }
}

/// Compares one interface's neighbours (the first one counts) with its cable; `None` without
/// a neighbour.
pub fn compare(
    device: &str,
    interface: &KnownInterface,
    neighbours: &[Neighbour],
    netbox: &[KnownDevice],
) -> Option<CablingFinding> {
    let neighbour = neighbours.first()?;
    let lldp = format!("{}/{}", neighbour.system, neighbour.port);
    let far = find_interface(netbox, &neighbour.system, &neighbour.port);
    let cabled_to_it = interface.peers.iter().any(|(d, p)| {
        d.eq_ignore_ascii_case(&neighbour.system) && p.eq_ignore_ascii_case(&neighbour.port)
    });
    let state = if cabled_to_it {
        CablingState::Ok
    } else if far.is_none() {
        CablingState::NeighbourNotInNetbox
    } else if interface.cable.is_none() {
        CablingState::MissingCable
    } else {
        CablingState::WrongPeer
    };
    Some(CablingFinding {
        device: device.to_owned(),
        interface: interface.name.clone(),
        interface_id: interface.id,
        state,
        lldp,
        netbox: interface
            .peers
            .iter()
            .map(|(d, p)| format!("{d}/{p}"))
            .collect(),
        neighbour_interface_id: far.filter(|f| f.cable.is_none()).map(|f| f.id),
    })
}

fn find_interface<'a>(
    netbox: &'a [KnownDevice],
    device: &str,
    port: &str,
) -> Option<&'a KnownInterface> {
    netbox
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(device))?
        .interfaces
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(id: u64, name: &str, cable: Option<u64>, peer: Option<(&str, &str)>) -> KnownInterface {
        KnownInterface {
            id,
            name: name.into(),
            cable,
            peers: peer
                .into_iter()
                .map(|(d, p)| (d.to_owned(), p.to_owned()))
                .collect(),
            ..Default::default()
        }
    }

    fn netbox() -> Vec<KnownDevice> {
        vec![KnownDevice {
            name: "spine-01".into(),
            interfaces: vec![
                port(10, "E1/1", None, None),
                port(11, "E1/2", Some(5), None),
            ],
            ..Default::default()
        }]
    }

    fn sees(system: &str, port: &str) -> Vec<Neighbour> {
        vec![Neighbour {
            system: system.into(),
            port: port.into(),
            ..Default::default()
        }]
    }

    #[test]
    fn each_state_is_told_apart() {
        let netbox = netbox();
        let state = |iface: &KnownInterface, n: Vec<Neighbour>| {
            compare("leaf-01", iface, &n, &netbox).map(|f| f.state)
        };
        let cabled = port(1, "E1/5", Some(4), Some(("spine-01", "E1/1")));
        assert_eq!(
            state(&cabled, sees("SPINE-01", "e1/1")),
            Some(CablingState::Ok)
        );
        assert_eq!(
            state(&cabled, sees("spine-01", "E1/2")),
            Some(CablingState::WrongPeer)
        );
        let bare = port(2, "E1/6", None, None);
        let missing = compare("leaf-01", &bare, &sees("spine-01", "E1/1"), &netbox).unwrap();
        assert_eq!(missing.state, CablingState::MissingCable);
        assert_eq!(missing.neighbour_interface_id, Some(10));
        assert_eq!(
            state(&bare, sees("server-9", "eth0")),
            Some(CablingState::NeighbourNotInNetbox)
        );
        assert_eq!(
            state(&bare, sees("spine-01", "E1/9")),
            Some(CablingState::NeighbourNotInNetbox)
        );
        assert_eq!(state(&bare, Vec::new()), None);
    }
}
