//! A webhook receiver that only counts: the target of a test's own NetBox webhook, so a test
//! can tell how many deliveries NetBox's worker had to send, and which.

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

impl WebhookCounter {
    /// Listens on an ephemeral port of 127.0.0.1 (where the test NetBox's worker runs).
    pub async fn start() -> WebhookCounter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counter = WebhookCounter {
            deliveries: Arc::default(),
            url,
        };
        let deliveries = counter.deliveries.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let deliveries = deliveries.clone();
                tokio::spawn(async move {
                    if let Some(body) = read_request(stream).await {
                        deliveries.lock().unwrap().push(Delivery {
                            at: Instant::now(),
                            body,
                        });
                    }
                });
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

/// Reads one request (headers, then `Content-Length` bytes), answers 204 and returns the body.
async fn read_request(mut stream: TcpStream) -> Option<Value> {
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
        let _ = stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .await;
        return serde_json::from_slice(&buffer[head..head + length]).ok();
    }
}
