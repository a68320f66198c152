//! Capturing what the code under test logs, to prove what a log line carries (a request id)
//! and what it never does (a secret).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::SubscriberBuilder;
use tracing_subscriber::fmt::format::{Format, Json, JsonFields};
use tracing_subscriber::fmt::writer::MakeWriter;

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subscriber like the service's JSON logging at info level (trace for the sidecar),
/// writing to `writer`.
fn json_logging<W>(writer: W) -> SubscriberBuilder<JsonFields, Format<Json>, EnvFilter, W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_env_filter("info,hedgehog_sidecar=trace")
        .with_writer(writer)
}

/// Installs (once per test binary) a global subscriber like the service's JSON logging,
/// writing into memory so tests can read every line.
pub fn capture_logs() {
    let buffer = LOGS.get_or_init(Default::default).clone();
    let _ = json_logging(move || LogWriter(buffer.clone())).try_init();
}

/// What `f` logs on this thread, as the JSON lines [`capture_logs`] keeps; for a unit test,
/// which sees only its own lines and installs nothing global.
pub fn logs_of(f: impl FnOnce()) -> String {
    let buffer: Arc<Mutex<Vec<u8>>> = Default::default();
    let writer = LogWriter(buffer.clone());
    tracing::subscriber::with_default(json_logging(move || writer.clone()).finish(), f);
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// Everything the test binary logged since [`capture_logs`], as JSON lines.
pub fn captured_logs() -> String {
    let buffer = LOGS.get_or_init(Default::default);
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// Logs shown with a failing test's output (`RUST_LOG`, default `warn`), not captured.
pub fn show_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

/// The top-level keys of JSON log line `line` that occur more than once (a parser keeps one of
/// them silently, so a field named like a fixed key would be lost).
pub fn duplicate_keys(line: &str) -> Vec<String> {
    use serde::Deserializer as _;
    use serde::de::{IgnoredAny, MapAccess, Visitor};

    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let keys = serde_json::Deserializer::from_str(line)
        .deserialize_map(Keys)
        .unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    keys.into_iter()
        .filter(|k| !seen.insert(k.clone()))
        .collect()
}
