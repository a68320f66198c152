//! The probing of a whole scan: every address of the targets gets an echo and a connect per
//! port, at most `probes_per_sec` probes a second over the scan and `concurrency` in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Mutex;
use tokio::time::{Interval, MissedTickBehavior};

use super::probe::{Answer, Probe, Prober};
use super::targets::ScanTargets;

/// How hard a scan probes.
#[derive(Debug, Clone)]
pub struct Pace {
    pub probes_per_sec: u32,
    pub concurrency: usize,
}

/// A host that answered at least one probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveHost {
    pub echo: bool,
    pub open_ports: BTreeSet<u16>,
}

/// Probes every address of `targets` with `probes` and returns the hosts that answered.
pub async fn probe_all(
    targets: &ScanTargets,
    prober: &Prober,
    probes: &[Probe],
    pace: &Pace,
) -> BTreeMap<IpAddr, LiveHost> {
    let limiter = Limiter::new(pace.probes_per_sec);
    let (limiter, probes) = (&limiter, probes);
    // Boxed: the closures' lifetimes would otherwise not be general enough for a `Send`
    // future; the addresses are still produced one by one.
    let pending: Box<dyn Iterator<Item = (IpAddr, Probe)> + Send + '_> = Box::new(
        targets
            .addresses()
            .flat_map(move |ip| probes.iter().map(move |probe| (ip, *probe))),
    );
    futures::stream::iter(pending)
        .map(|(ip, probe)| async move {
            limiter.wait().await;
            // Addresses come from the targets already; asking again keeps the promise even
            // if that ever changes.
            let answer = if targets.contains(ip) {
                prober.send(ip, probe).await
            } else {
                Answer::Silent
            };
            (ip, answer)
        })
        .buffer_unordered(pace.concurrency.max(1))
        .fold(BTreeMap::new(), |mut live, (ip, answer)| async move {
            record(&mut live, ip, answer);
            live
        })
        .await
}

fn record(live: &mut BTreeMap<IpAddr, LiveHost>, ip: IpAddr, answer: Answer) {
    match answer {
        Answer::Silent => {}
        Answer::EchoReply => live.entry(ip).or_default().echo = true,
        Answer::Refused(_) => {
            live.entry(ip).or_default();
        }
        Answer::Open(port) => {
            live.entry(ip).or_default().open_ports.insert(port);
        }
    }
}

/// Spaces probes evenly at `per_sec` a second; the first one goes at once.
struct Limiter(Mutex<Interval>);

impl Limiter {
    fn new(per_sec: u32) -> Limiter {
        let period = Duration::from_secs(1) / per_sec.max(1);
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Limiter(Mutex::new(interval))
    }

    async fn wait(&self) {
        self.0.lock().await.tick().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(prefix: &str) -> ScanTargets {
        ScanTargets::new(&[prefix.parse().unwrap()], &[], 64).unwrap()
    }

    #[tokio::test]
    async fn a_listening_port_makes_a_live_host_with_that_port_open() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let prober = Prober::new(false, Duration::from_millis(300));
        let pace = Pace {
            probes_per_sec: 1000,
            concurrency: 4,
        };
        let live = probe_all(
            &loopback("127.0.0.1/32"),
            &prober,
            &[Probe::Connect(port)],
            &pace,
        )
        .await;
        let host = &live[&"127.0.0.1".parse::<IpAddr>().unwrap()];
        assert_eq!(host.open_ports, BTreeSet::from([port]));
        assert!(!host.echo);
    }

    #[tokio::test(start_paused = true)]
    async fn probes_are_spaced_by_the_rate_limit() {
        let limiter = Limiter::new(10);
        let start = tokio::time::Instant::now();
        for _ in 0..11 {
            limiter.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1), "11 probes at 10/s");
    }
}
