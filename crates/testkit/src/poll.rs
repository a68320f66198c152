//! Waiting for something that happens asynchronously (a job runs, NetBox shows a status), with
//! a deadline so a test fails instead of hanging.

use std::future::Future;
use std::time::Duration;

/// The first pause between two checks; it doubles up to [`SLOWEST`], so quick conditions are
/// seen quickly and slow ones (NetBox round trips) are not polled in a tight loop.
const FIRST: Duration = Duration::from_millis(20);
const SLOWEST: Duration = Duration::from_millis(250);

/// Polls `check` until it returns true; panics naming `what` once `within` has passed.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_some(within, what, || {
        let ready = check();
        async move { ready.await.then_some(()) }
    })
    .await
}

/// Polls `check` until it returns `Some`, and returns its value; panics naming `what` once
/// `within` has passed.
pub async fn eventually_some<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = FIRST;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(SLOWEST);
    }
}
