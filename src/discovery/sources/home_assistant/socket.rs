//! The WebSocket exchange with Home Assistant: an HTTP/1.1 upgrade of `/api/websocket` on the
//! source's HTTP client (so its TLS settings hold), `auth_required` answered with the token,
//! then one command and its `result`.

use futures::{SinkExt, StreamExt};
use reqwest::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use serde::Serialize;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::api::{Auth, Command, ServerMessage};
use crate::discovery::sources::http::{FetchError, SourceHttp};

/// Why the exchange failed. Messages never hold the token.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(transparent)]
    Http(#[from] FetchError),
    #[error("{url}: the server did not accept the WebSocket upgrade: {detail}")]
    Upgrade { url: String, detail: String },
    #[error("WebSocket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("WebSocket: the server closed the connection before answering")]
    Closed,
    #[error("the access token was refused: {0}")]
    AuthInvalid(String),
    #[error("unexpected message `{0}` (expected {1})")]
    Unexpected(String, &'static str),
    #[error("{command} failed: {code}: {message}")]
    Command {
        command: &'static str,
        code: String,
        message: String,
    },
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("a message is not the documented shape: {0}")]
    Shape(#[from] serde_json::Error),
}

pub type Socket = WebSocketStream<reqwest::Upgraded>;

/// Opens `/api/websocket` and authenticates with `token`.
pub async fn connect(http: &SourceHttp, token: &str) -> Result<Socket, SocketError> {
    let url = http.url("api/websocket");
    let shown = url.to_string();
    let key = generate_key();
    let response = http
        .client()
        .get(url)
        .header(CONNECTION, HeaderValue::from_static("upgrade"))
        .header(UPGRADE, HeaderValue::from_static("websocket"))
        .header("sec-websocket-version", "13")
        .header(SEC_WEBSOCKET_KEY, &key)
        .send()
        .await
        .map_err(|source| FetchError::Transport {
            url: shown.clone(),
            source,
        })?;
    let status = response.status();
    let upgrade_error = |detail: String| SocketError::Upgrade {
        url: shown.clone(),
        detail,
    };
    if status != reqwest::StatusCode::SWITCHING_PROTOCOLS {
        return Err(upgrade_error(format!("status {status}")));
    }
    let accept = response.headers().get(SEC_WEBSOCKET_ACCEPT).cloned();
    if accept.as_ref().and_then(|a| a.to_str().ok()) != Some(&derive_accept_key(key.as_bytes())) {
        return Err(upgrade_error("wrong Sec-WebSocket-Accept".into()));
    }
    let upgraded = response
        .upgrade()
        .await
        .map_err(|e| upgrade_error(e.to_string()))?;
    let mut socket = WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await;
    expect(&mut socket, "auth_required").await?;
    send(
        &mut socket,
        &Auth {
            kind: "auth",
            access_token: token,
        },
    )
    .await?;
    let answer = receive(&mut socket).await?;
    match answer.kind.as_str() {
        "auth_ok" => Ok(socket),
        "auth_invalid" => Err(SocketError::AuthInvalid(answer.message.unwrap_or_default())),
        other => Err(SocketError::Unexpected(other.to_owned(), "auth_ok")),
    }
}

/// Sends command `kind` and returns its result.
pub async fn command(
    socket: &mut Socket,
    id: u64,
    kind: &'static str,
) -> Result<serde_json::Value, SocketError> {
    send(socket, &Command { id, kind }).await?;
    loop {
        let message = receive(socket).await?;
        if message.kind != "result" || message.id != Some(id) {
            continue;
        }
        if message.success == Some(true) {
            return Ok(message.result.unwrap_or(serde_json::Value::Null));
        }
        let error = message.error;
        return Err(SocketError::Command {
            command: kind,
            code: error
                .as_ref()
                .and_then(|e| e.code.clone())
                .unwrap_or_default(),
            message: error.and_then(|e| e.message).unwrap_or_default(),
        });
    }
}

async fn send(socket: &mut Socket, message: &impl Serialize) -> Result<(), SocketError> {
    let text = serde_json::to_string(message)?;
    socket.send(Message::text(text)).await?;
    Ok(())
}

async fn expect(socket: &mut Socket, kind: &'static str) -> Result<(), SocketError> {
    let message = receive(socket).await?;
    if message.kind == kind {
        Ok(())
    } else {
        Err(SocketError::Unexpected(message.kind, kind))
    }
}

/// The next JSON message (pings and pongs skipped).
async fn receive(socket: &mut Socket) -> Result<ServerMessage, SocketError> {
    while let Some(frame) = socket.next().await {
        match frame? {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Binary(bytes) => return Ok(serde_json::from_slice(&bytes)?),
            Message::Close(_) => return Err(SocketError::Closed),
            _ => {}
        }
    }
    Err(SocketError::Closed)
}
