//! Exponential backoff with jitter between attempts of a failing job.

use std::time::Duration;

/// Delay before the attempt after `attempts` failed ones: `initial * 2^(attempts-1)`, capped at
/// `max`, then a random point in its upper half so failed jobs do not retry in lockstep.
pub(crate) fn retry_delay(attempts: u32, initial_ms: u64, max_ms: u64) -> Duration {
    let exponent = attempts.saturating_sub(1).min(32);
    let full = initial_ms
        .saturating_mul(1u64 << exponent)
        .min(max_ms)
        .max(1);
    let half = full / 2;
    Duration::from_millis(half + rand::random_range(0..=full - half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_cap() {
        for _ in 0..100 {
            let first = retry_delay(1, 100, 10_000).as_millis();
            assert!((50..=100).contains(&first), "{first}");
            let third = retry_delay(3, 100, 10_000).as_millis();
            assert!((200..=400).contains(&third), "{third}");
            let capped = retry_delay(40, 100, 10_000).as_millis();
            assert!((5_000..=10_000).contains(&capped), "{capped}");
        }
    }
}
