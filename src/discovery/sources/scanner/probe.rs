//! One probe of one address: an ICMP echo (surge-ping) or a TCP connect, each with a timeout.
//! A TCP port that refuses shows a live host as well as an open one does.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence};
use tokio::net::TcpStream;

/// What is sent to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Echo,
    Connect(u16),
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    EchoReply,
    Open(u16),
    Refused(u16),
    /// A timeout, an unreachable network or host, or a socket error.
    Silent,
}

/// ICMP sockets (one per address family, when they can be opened) and the probe timeout.
pub struct Prober {
    icmp_v4: Option<Client>,
    icmp_v6: Option<Client>,
    timeout: Duration,
}

impl Prober {
    /// Opens the ICMP sockets when `icmp`; a family whose socket cannot be opened (no
    /// CAP_NET_RAW) sends no echoes, which is logged once here.
    pub fn new(icmp: bool, timeout: Duration) -> Prober {
        let open = |kind: ICMP| {
            if !icmp {
                return None;
            }
            Client::new(&Config::builder().kind(kind).build())
                .inspect_err(|error| {
                    tracing::warn!(?kind, %error, "scanner: no ICMP socket, echoes not sent");
                })
                .ok()
        };
        Prober {
            icmp_v4: open(ICMP::V4),
            icmp_v6: open(ICMP::V6),
            timeout,
        }
    }

    /// Whether echoes can be sent to IPv4 addresses.
    pub fn can_echo(&self) -> bool {
        self.icmp_v4.is_some() || self.icmp_v6.is_some()
    }

    pub async fn send(&self, ip: IpAddr, probe: Probe) -> Answer {
        match probe {
            Probe::Echo => self.echo(ip).await,
            Probe::Connect(port) => self.connect(ip, port).await,
        }
    }

    async fn echo(&self, ip: IpAddr) -> Answer {
        let client = match ip {
            IpAddr::V4(_) => &self.icmp_v4,
            IpAddr::V6(_) => &self.icmp_v6,
        };
        let Some(client) = client else {
            return Answer::Silent;
        };
        let mut pinger = client.pinger(ip, PingIdentifier(rand::random())).await;
        pinger.timeout(self.timeout);
        match pinger.ping(PingSequence(0), &[0; 16]).await {
            Ok(_) => Answer::EchoReply,
            Err(_) => Answer::Silent,
        }
    }

    async fn connect(&self, ip: IpAddr, port: u16) -> Answer {
        let address = SocketAddr::new(ip, port);
        match tokio::time::timeout(self.timeout, TcpStream::connect(address)).await {
            Ok(Ok(_stream)) => Answer::Open(port),
            Ok(Err(error)) if error.kind() == ErrorKind::ConnectionRefused => Answer::Refused(port),
            Ok(Err(_)) | Err(_) => Answer::Silent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_port_a_refusing_port_and_silence_are_told_apart() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = {
            let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            spare.local_addr().unwrap().port()
        };
        let prober = Prober::new(false, Duration::from_millis(500));
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            prober.send(local, Probe::Connect(open)).await,
            Answer::Open(open)
        );
        assert_eq!(
            prober.send(local, Probe::Connect(closed)).await,
            Answer::Refused(closed)
        );
        assert_eq!(
            prober.send(local, Probe::Echo).await,
            Answer::Silent,
            "ICMP off"
        );
        assert!(!prober.can_echo());
    }
}
