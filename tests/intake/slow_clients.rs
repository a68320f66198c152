//! Anonymous clients that send a body slowly or not at all: the bytes held for bodies not yet
//! verified stay under `webhook.max_unverified_bytes` (then 503 with `Retry-After`), a body
//! that does not arrive within `webhook.body_timeout_secs` gets 408 and its connection is
//! closed, headers that never end are cut off, and other clients are served throughout.
//! Runs the release-like binary so its memory can be measured on its own.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::binary::{ServedBinary, free_port};
use crate::support::{Backend, SECRET, Storage, event};

const MIB: usize = 1024 * 1024;
/// The largest body (`webhook.max_body_bytes`), declared by every staller.
const DECLARED: usize = 4 * MIB;
/// Bodies not yet verified that may be held at once (`webhook.max_unverified_bytes`).
const BUDGET: usize = 8 * MIB;
const STALLERS: usize = 40;
/// Sent by each staller before it stops: RSS would grow by this much per connection if
/// unverified bodies were not bounded (120 MiB in all).
const SENT_BEFORE_STALL: usize = 3 * MIB;

/// Opens a connection, declares the largest body, sends most of it and stalls.
async fn staller(port: u16) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let head = format!(
        "POST /webhooks/netbox HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         X-Hook-Signature: 00\r\nContent-Length: {DECLARED}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let chunk = vec![b' '; SENT_BEFORE_STALL];
    // A refused request is closed by the server: the write may fail, which is fine.
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&chunk)).await;
    Some(stream)
}

/// What the server has said on `stream` within `wait` (empty if nothing).
async fn reply(stream: &mut TcpStream, wait: Duration) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// True once the server has closed `stream`, waiting up to `wait`.
async fn closed(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

async fn post_signed(client: &reqwest::Client, served: &ServedBinary, body: &str) -> u16 {
    let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
    client
        .post(served.url("/webhooks/netbox"))
        .header("x-hook-signature", signature)
        .body(body.to_owned())
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// The sidecar with an 8 MiB budget for unverified bodies and a 3 s body timeout, warmed up
/// with 20 accepted events.
async fn serve_with_tight_body_limits(storage: &Storage, client: &reqwest::Client) -> ServedBinary {
    let log = storage.dir.path().join("serve.log");
    let (budget, largest) = (BUDGET.to_string(), DECLARED.to_string());
    let served = ServedBinary::start(
        storage,
        free_port(),
        log,
        &[
            ("HEDGEHOG_SIDECAR_WEBHOOK__MAX_UNVERIFIED_BYTES", &budget),
            ("HEDGEHOG_SIDECAR_WEBHOOK__MAX_BODY_BYTES", &largest),
            ("HEDGEHOG_SIDECAR_WEBHOOK__BODY_TIMEOUT_SECS", "3"),
        ],
    );
    for version in 0..20 {
        let body = event("dcim.device", 1, "updated", version);
        assert_eq!(post_signed(client, &served, &body).await, 202);
    }
    served
}

/// `count` connections that send request headers which never end.
async fn header_stallers(port: u16, count: usize) -> Vec<TcpStream> {
    let mut loris = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream
            .write_all(b"POST /webhooks/netbox HTTP/1.1\r\nHost: t\r\n")
            .await
            .unwrap();
        loris.push(stream);
    }
    loris
}

/// How many stalled bodies were refused at once with 503 (and Retry-After), and the ones
/// still waiting for their body.
async fn split_busy(stallers: Vec<TcpStream>) -> (usize, Vec<TcpStream>) {
    let mut busy = 0;
    let mut waiting = Vec::new();
    for mut stream in stallers {
        let text = reply(&mut stream, Duration::from_millis(200)).await;
        if text.starts_with("HTTP/1.1 503") {
            assert!(text.to_lowercase().contains("retry-after: 1"), "{text}");
            busy += 1;
        } else {
            assert!(text.is_empty(), "unexpected answer: {text}");
            waiting.push(stream);
        }
    }
    (busy, waiting)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_are_bounded_timed_out_and_do_not_starve_others() {
    let storage = Storage::new(Backend::Embedded);
    let client = reqwest::Client::new();
    let served = serve_with_tight_body_limits(&storage, &client).await;
    let baseline = served.rss_kib();

    let port = served.port;
    let stallers: Vec<TcpStream> = futures::future::join_all((0..STALLERS).map(|_| staller(port)))
        .await
        .into_iter()
        .flatten()
        .collect();
    let stalled_at = Instant::now();
    let grown_mib = served.rss_kib().saturating_sub(baseline) / 1024;
    // The budget plus the server's own per-connection buffers and allocator caches.
    assert!(
        grown_mib < 64,
        "{STALLERS} stalled bodies grew RSS by {grown_mib} MiB (budget 8 MiB)"
    );
    let mut loris = header_stallers(port, 50).await;

    let health = client
        .get(served.url("/healthz"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .expect("/healthz answers while clients stall");
    assert_eq!(health.status().as_u16(), 200);

    let (busy, mut waiting) = split_busy(stallers).await;
    assert!(
        waiting.len() <= BUDGET / DECLARED,
        "{} bodies held at once, over the 8 MiB budget",
        waiting.len()
    );
    assert_eq!(busy + waiting.len(), STALLERS);

    // Past the body timeout, every staller got 408 and lost its connection.
    for stream in &mut waiting {
        let left = Duration::from_secs(8).saturating_sub(stalled_at.elapsed());
        let text = reply(stream, left).await;
        assert!(text.starts_with("HTTP/1.1 408"), "staller got: {text:?}");
    }
    let body = event("dcim.device", 2, "updated", 1);
    assert_eq!(
        post_signed(&client, &served, &body).await,
        202,
        "intake works again once the stallers are gone"
    );
    for stream in &mut loris {
        assert!(
            closed(stream, Duration::from_secs(10)).await,
            "a connection whose headers never end is closed"
        );
    }
    served.stop();
}
