//! Progress on long operations (loading a fabric, importing, allocating, a first reconcile),
//! shown on standard error only when it is a terminal: a pipeline's logs stay clean.

use std::future::Future;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner saying `message` with the time elapsed; hidden when stderr is not a terminal.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

/// Runs `work` with a spinner saying `message`, cleared when it ends.
pub async fn with_spinner<T>(message: impl Into<String>, work: impl Future<Output = T>) -> T {
    let bar = spinner(message);
    let result = work.await;
    bar.finish_and_clear();
    result
}
