//! A light HTTP/1.1 load generator for the intake bench, in the manner of wrk: every request is
//! built and signed before the clock starts, and each client is a keep-alive connection that
//! writes a prepared request and reads the response with `httparse`. The generator shares the
//! machine's two cores with the service and Redis, so it must cost as little per request as
//! possible; building and signing inside the timed loop (as a reqwest client would) measured the
//! generator as much as the service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one client saw while the measurement window was open.
#[derive(Default)]
pub struct ClientReport {
    /// Latency of each response that met `expect`, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Responses that did not meet `expect`, and connection failures.
    pub failed: u64,
}

/// Shared by all clients: the prepared requests (each sent once) and the run's switches.
pub struct Load {
    requests: Vec<Vec<u8>>,
    next: AtomicUsize,
    /// Set while requests count towards the result (after the warm-up).
    pub measuring: AtomicBool,
    pub running: AtomicBool,
    /// A byte string the body of every good response contains.
    expect: &'static [u8],
    expect_status: u16,
}

impl Load {
    pub fn new(requests: Vec<Vec<u8>>, expect_status: u16, expect: &'static [u8]) -> Arc<Self> {
        Arc::new(Self {
            requests,
            next: AtomicUsize::new(0),
            measuring: AtomicBool::new(false),
            running: AtomicBool::new(true),
            expect,
            expect_status,
        })
    }

    /// Whether every prepared request has been handed out (the run must then stop: sending one
    /// twice would measure the cheaper duplicate path).
    pub fn exhausted(&self) -> bool {
        self.next.load(Ordering::Relaxed) >= self.requests.len()
    }

    /// One client: a keep-alive connection sending requests until the run stops or the
    /// prepared requests run out.
    pub async fn client(self: Arc<Self>, addr: SocketAddr) -> ClientReport {
        let mut report = ClientReport {
            latencies_us: Vec::with_capacity(1 << 16),
            failed: 0,
        };
        let mut stream = match connect(addr).await {
            Ok(stream) => stream,
            Err(_) => {
                report.failed += 1;
                return report;
            }
        };
        let mut buf = vec![0u8; 16 * 1024];
        while self.running.load(Ordering::Relaxed) {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(request) = self.requests.get(index) else {
                break;
            };
            let started = Instant::now();
            let outcome = exchange(&mut stream, request, &mut buf).await;
            let elapsed = started.elapsed();
            let good = matches!(&outcome, Ok((status, body))
                if *status == self.expect_status && contains(body, self.expect));
            if self.measuring.load(Ordering::Relaxed) {
                if good {
                    report.latencies_us.push(elapsed.as_micros() as u32);
                } else {
                    report.failed += 1;
                }
            }
            if outcome.is_err() {
                match connect(addr).await {
                    Ok(fresh) => stream = fresh,
                    Err(_) => break,
                }
            }
        }
        report
    }
}

/// A prepared `POST` with the given headers and body, ready to write as is.
pub fn post_request(
    host: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes one request and reads its whole response; the status and the body's bytes.
async fn exchange<'b>(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &'b mut [u8],
) -> std::io::Result<(u16, &'b [u8])> {
    stream.write_all(request).await?;
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response
            .parse(&buf[..filled])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let httparse::Status::Complete(head) = parsed else {
            continue;
        };
        let length = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
            .ok_or_else(|| std::io::Error::other("response without Content-Length"))?;
        let status = response.code.unwrap_or(0);
        let end = head + length;
        if end > buf.len() {
            return Err(std::io::Error::other(
                "response larger than the read buffer",
            ));
        }
        while filled < end {
            let n = stream.read(&mut buf[filled..end]).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            filled += n;
        }
        return Ok((status, &buf[head..end]));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
