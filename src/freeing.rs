//! Freeing a large fabric's objects off the path of the job that made them.

/// Drops `value` on tokio's blocking pool (in place outside a runtime): freeing the JSON of a
/// fabric of thousands of objects takes milliseconds a job's latency need not include.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || drop(value));
        }
        Err(_) => drop(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn inside_a_runtime_the_value_is_freed_soon_after() {
        let value = Arc::new(());
        let watch = Arc::downgrade(&value);
        drop_in_background(value);
        for _ in 0..100 {
            if watch.upgrade().is_none() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the value was never freed");
    }

    #[test]
    fn outside_a_runtime_the_value_is_freed_at_once() {
        let value = Arc::new(());
        let watch = Arc::downgrade(&value);
        drop_in_background(value);
        assert!(watch.upgrade().is_none());
    }
}
