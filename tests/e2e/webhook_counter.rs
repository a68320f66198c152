//! A webhook receiver that counts: the target of a test's own NetBox webhook, so a test can
//! tell how many deliveries NetBox's worker had to send, and which. As a relay in front of a
//! sidecar it also forwards each delivery and answers with the sidecar's status, so a bench
//! knows when each delivery reached the sidecar.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub at: Instant,
    pub body: Value,
}

impl Delivery {
    pub fn object_type(&self) -> &str {
        self.body["object_type"].as_str().unwrap_or_default()
    }
    pub fn object_id(&self) -> Option<u64> {
        self.body["data"]["id"].as_u64()
    }
}

#[derive(Clone, Default)]
pub struct WebhookCounter {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub url: String,
}

/// A delivery's request as read: its path, the headers worth forwarding and its body.
struct Request {
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Where a relaying counter forwards each delivery.
#[derive(Clone)]
struct Forward {
    base: String,
    http: reqwest::Client,
}

impl WebhookCounter {
    /// Listens on an ephemeral port of 127.0.0.1 (where the test NetBox's worker runs).
    pub async fn start() -> WebhookCounter {
        Self::listen(None).await
    }

    /// Counts each delivery, then forwards it to the same path under `base` (a sidecar's
    /// URL) and answers with the sidecar's status.
    #[allow(dead_code)]
    pub async fn relaying_to(base: &str) -> WebhookCounter {
        let forward = Forward {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        };
        Self::listen(Some(forward)).await
    }

    async fn listen(forward: Option<Forward>) -> WebhookCounter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counter = WebhookCounter {
            deliveries: Arc::default(),
            url,
        };
        let deliveries = counter.deliveries.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (deliveries, forward) = (deliveries.clone(), forward.clone());
                tokio::spawn(receive(stream, deliveries, forward));
            }
        });
        counter
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.deliveries.lock().unwrap().len()
    }
}

/// Records one delivery (before answering, so NetBox's next one is recorded after it), then
/// answers it.
async fn receive(
    mut stream: TcpStream,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    forward: Option<Forward>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    if let Ok(body) = serde_json::from_slice(&request.body) {
        deliveries.lock().unwrap().push(Delivery {
            at: Instant::now(),
            body,
        });
    }
    let status = match forward {
        Some(forward) => forward.send(request).await,
        None => 204,
    };
    let answer =
        format!("HTTP/1.1 {status} Relayed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(answer.as_bytes()).await;
}

impl Forward {
    /// Sends the request on; the sidecar's status, or 502 when it cannot be reached.
    async fn send(&self, request: Request) -> u16 {
        let mut sent = self
            .http
            .post(format!("{}{}", self.base, request.path))
            .body(request.body);
        for (name, value) in request.headers {
            sent = sent.header(name, value);
        }
        match sent.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 502,
        }
    }
}

/// Reads one request: headers, then `Content-Length` bytes.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(head) = request.parse(&buffer).ok()? else {
            continue;
        };
        let length: usize = request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
            .unwrap_or(0);
        if buffer.len() < head + length {
            continue;
        }
        // Hop-by-hop and length headers are the forwarding client's own.
        let forwarded = request
            .headers
            .iter()
            .filter(|h| {
                !["host", "content-length", "connection", "transfer-encoding"]
                    .iter()
                    .any(|skip| h.name.eq_ignore_ascii_case(skip))
            })
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        return Some(Request {
            path: request.path.unwrap_or("/").to_owned(),
            headers: forwarded,
            body: buffer[head..head + length].to_vec(),
        });
    }
}
