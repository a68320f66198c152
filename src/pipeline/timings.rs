//! Where one publish's time goes, for its debug log line: on a large fabric an operator asking
//! why a change took long needs to know whether rendering, the target or NetBox was slow.

use std::fmt;
use std::time::{Duration, Instant};

/// The time each named stage of a publish took, in order.
pub(super) struct Timings {
    last: Instant,
    stages: Vec<(&'static str, Duration)>,
}

impl Timings {
    pub fn start() -> Self {
        Timings {
            last: Instant::now(),
            stages: Vec::new(),
        }
    }

    /// Ends the stage `name`, which began when the previous one ended.
    pub fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.stages.push((name, now - self.last));
        self.last = now;
    }
}

/// `render=12ms target=40ms …`.
impl fmt::Display for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, took)) in self.stages.iter().enumerate() {
            let separator = if i == 0 { "" } else { " " };
            write!(f, "{separator}{name}={}ms", took.as_millis())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_is_named_with_its_own_time_in_order() {
        let mut timings = Timings::start();
        timings.last -= Duration::from_millis(30);
        timings.mark("render");
        timings.last -= Duration::from_millis(5);
        timings.mark("target");
        let shown = timings.to_string();
        let parsed: Vec<(&str, u128)> = shown
            .split(' ')
            .map(|stage| {
                let (name, ms) = stage.split_once('=').unwrap();
                (name, ms.trim_end_matches("ms").parse().unwrap())
            })
            .collect();
        assert_eq!(parsed.len(), 2, "{shown}");
        assert_eq!(parsed[0].0, "render");
        assert!((30..40).contains(&parsed[0].1), "{shown}");
        assert_eq!(parsed[1].0, "target");
        assert!((5..15).contains(&parsed[1].1), "{shown}");
    }
}
