//! Scheduled runs shared by replicas: each source's run takes the lease `discovery:<source>`
//! for one interval and keeps it (renewed while the run lasts, then left to expire), so of all
//! replicas sharing a Redis exactly one runs a source per interval. A replica that died leaves
//! the lease to expire and another one takes the next turn.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::lease::{HeldLease, LeaseStore};

/// The lease store the replicas share and this replica's name in it.
#[derive(Clone)]
pub struct Turns {
    pub lease: Arc<dyn LeaseStore>,
    pub holder: String,
}

impl Turns {
    /// Every `interval` until `shutdown`: runs `once` when this replica gets source `source`'s
    /// turn (none when another replica had it this interval or the lease store cannot say).
    pub async fn every<F, Fut>(
        &self,
        source: &str,
        interval: Duration,
        shutdown: CancellationToken,
        mut once: F,
    ) where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        let lease_name = format!("discovery:{source}");
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match HeldLease::acquire(self.lease.clone(), &lease_name, &self.holder, interval).await
            {
                // Dropped, not released: the lease outlives the run by up to an interval.
                Ok(Some(_turn)) => once().await,
                Ok(None) => tracing::debug!(source, "discovery run left to another replica"),
                Err(error) => {
                    tracing::warn!(source, %error, "discovery run skipped: no lease")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::lease::{LocalLease, test_redis_lease};

    /// Two replicas' loops on `lease` for `wait`; the runs each one made.
    async fn two_replicas(
        lease: Arc<dyn LeaseStore>,
        interval: Duration,
        wait: Duration,
    ) -> [usize; 2] {
        let runs = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
        let shutdown = CancellationToken::new();
        let loops = runs.iter().enumerate().map(|(replica, count)| {
            let turns = Turns {
                lease: lease.clone(),
                holder: format!("replica-{replica}"),
            };
            let (count, shutdown) = (count.clone(), shutdown.clone());
            tokio::spawn(async move {
                turns
                    .every("scanner:lan", interval, shutdown, || {
                        count.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50))
                    })
                    .await;
            })
        });
        let loops: Vec<_> = loops.collect();
        tokio::time::sleep(wait).await;
        shutdown.cancel();
        for handle in loops {
            handle.await.unwrap();
        }
        [
            runs[0].load(Ordering::SeqCst),
            runs[1].load(Ordering::SeqCst),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn two_replicas_in_one_process_run_a_source_once_per_interval() {
        let runs = two_replicas(
            Arc::new(LocalLease::default()),
            Duration::from_secs(60),
            Duration::from_secs(60 * 5 + 30),
        )
        .await;
        assert_eq!(
            runs.iter().sum::<usize>(),
            6,
            "ticks at 0, 60, ..., 300 s: {runs:?}"
        );
    }

    #[tokio::test]
    #[ignore = "needs Redis"]
    async fn two_replicas_on_one_redis_run_a_source_once_per_interval() {
        let lease = Arc::new(test_redis_lease());
        // Ticks at 0, 0.4, 0.8, 1.2, 1.6 s; the run at 1.75 s would be the sixth.
        let runs = two_replicas(
            lease,
            Duration::from_millis(400),
            Duration::from_millis(1750),
        )
        .await;
        assert_eq!(
            runs.iter().sum::<usize>(),
            5,
            "one run per interval: {runs:?}"
        );
    }
}
