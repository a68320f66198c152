//! Publishes that arrive within a short window share one commit. Every publish carries the
//! complete desired set, so the batch keeps the latest set and gathers every caller's cause;
//! when the window closes the batch runs once and every caller gets its result. The batch runs
//! as a task of the batcher's tracker, so shutdown can wait for it ([`Batcher::shutdown`]).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;

use crate::model::Manifest;
use crate::targets::{Cause, PublishReport, TargetError};

type Outcome = Result<PublishReport, TargetError>;

struct Batch {
    desired: Vec<Manifest>,
    causes: Vec<Cause>,
    waiters: Vec<oneshot::Sender<Outcome>>,
}

pub struct Batcher {
    window: Duration,
    open: Mutex<Option<Batch>>,
    /// The batches' publish tasks.
    tasks: TaskTracker,
}

impl Batcher {
    pub fn new(window: Duration) -> Arc<Self> {
        Arc::new(Self {
            window,
            open: Mutex::new(None),
            tasks: TaskTracker::new(),
        })
    }

    /// Returns once every batch opened so far has been published.
    pub async fn shutdown(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }

    /// Joins the open batch, or opens one that `run` will publish when the window closes.
    /// Joining happens before the first `.await`, so callers join in the order they call.
    pub(crate) async fn submit<F, Fut>(
        self: &Arc<Self>,
        desired: Vec<Manifest>,
        cause: Cause,
        run: F,
    ) -> Outcome
    where
        F: FnOnce(Vec<Manifest>, Vec<Cause>) -> Fut + Send + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let opened = {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            match open.as_mut() {
                Some(batch) => {
                    batch.desired = desired;
                    batch.causes.push(cause);
                    batch.waiters.push(tx);
                    false
                }
                None => {
                    *open = Some(Batch {
                        desired,
                        causes: vec![cause],
                        waiters: vec![tx],
                    });
                    true
                }
            }
        };
        if opened {
            // Spawned, so the batch is published even if the caller that opened it goes away.
            let this = Arc::clone(self);
            self.tasks.spawn(async move {
                tokio::time::sleep(this.window).await;
                let batch = this.open.lock().unwrap_or_else(|p| p.into_inner()).take();
                let Some(batch) = batch else { return };
                let outcome = run(batch.desired, batch.causes).await;
                for waiter in batch.waiters {
                    // A caller that stopped waiting does not need the result.
                    let _ = waiter.send(outcome.clone());
                }
            });
        }
        rx.await.unwrap_or_else(|_| Err(TargetError::BatchLost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn callers_within_the_window_share_one_run_with_the_latest_set() {
        let batcher = Batcher::new(Duration::from_millis(50));
        let runs = Arc::new(AtomicUsize::new(0));
        let calls = (0..10).map(|i| {
            let runs = Arc::clone(&runs);
            let cause = Cause {
                reason: format!("change {i}"),
                ..Default::default()
            };
            batcher.submit(vec![], cause, move |_, causes| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(PublishReport {
                    unchanged: causes.len(),
                    ..Default::default()
                })
            })
        });
        let results = futures::future::join_all(calls).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        for result in results {
            assert_eq!(result.unwrap().unchanged, 10, "every cause reached the run");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_a_batch_whose_caller_went_away() {
        let batcher = Batcher::new(Duration::from_secs(1));
        let published = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&published);
        let caller = tokio::spawn({
            let batcher = Arc::clone(&batcher);
            async move {
                batcher
                    .submit(vec![], Cause::default(), move |_, _| async move {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        count.fetch_add(1, Ordering::SeqCst);
                        Ok(PublishReport::default())
                    })
                    .await
            }
        });
        // Let the caller open the batch, then give up on it.
        tokio::task::yield_now().await;
        caller.abort();
        assert_eq!(published.load(Ordering::SeqCst), 0);
        batcher.shutdown().await;
        assert_eq!(
            published.load(Ordering::SeqCst),
            1,
            "the batch was published"
        );
    }
}
