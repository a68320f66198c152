//! NetBox REST metrics: each attempt's latency and outcome, failures, and retries, by method.

use std::time::Duration;

use reqwest::Method;

use super::error::NetBoxError;

pub const REQUEST_SECONDS: &str = "hhs_netbox_request_seconds";
pub const REQUEST_ERRORS: &str = "hhs_netbox_request_errors_total";
pub const RETRIES: &str = "hhs_netbox_retries_total";

/// Records one attempt of a `method` request that took `elapsed`.
pub(crate) fn record_attempt<T>(
    method: &Method,
    elapsed: Duration,
    result: &Result<T, NetBoxError>,
) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(error) => outcome(error),
    };
    let method = method.as_str().to_owned();
    metrics::histogram!(REQUEST_SECONDS, "method" => method.clone(), "outcome" => outcome)
        .record(elapsed.as_secs_f64());
    if result.is_err() {
        metrics::counter!(REQUEST_ERRORS, "method" => method, "outcome" => outcome).increment(1);
    }
}

/// Records that a `method` request is sent again.
pub(crate) fn record_retry(method: &Method) {
    metrics::counter!(RETRIES, "method" => method.as_str().to_owned()).increment(1);
}

/// The outcome label of a failed attempt.
fn outcome(error: &NetBoxError) -> &'static str {
    match error {
        NetBoxError::Api(api) if api.status == 429 => "throttled",
        NetBoxError::Api(api) if api.status >= 500 => "server_error",
        NetBoxError::Api(_) => "client_error",
        NetBoxError::Auth { .. } => "auth",
        NetBoxError::Unreachable { .. } => "unreachable",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::metrics::capture::{assert_lines, rendered_by};

    #[test]
    fn each_attempt_is_timed_and_failures_and_retries_are_counted_by_method() {
        let unreachable: Result<(), NetBoxError> = Err(NetBoxError::Unreachable {
            url: "http://netbox".into(),
            message: "refused".into(),
            sent: false,
        });
        let text = rendered_by(|| {
            record_attempt(
                &Method::GET,
                Duration::from_millis(5),
                &Ok::<(), NetBoxError>(()),
            );
            record_attempt(&Method::PATCH, Duration::from_millis(5), &unreachable);
            record_retry(&Method::PATCH);
        });
        let expected = [
            r#"hhs_netbox_request_seconds_count{method="GET",outcome="ok"} 1"#,
            r#"hhs_netbox_request_errors_total{method="PATCH",outcome="unreachable"} 1"#,
            r#"hhs_netbox_retries_total{method="PATCH"} 1"#,
        ];
        assert_lines(&text, &expected);
    }
}
