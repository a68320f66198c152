//! Home Assistant: a WebSocket server speaking the documented protocol (auth_required, auth,
//! auth_ok or auth_invalid, then the command's result) with the recorded device registry.

use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use hedgehog_sidecar::config::CustomFieldNames;
use hedgehog_sidecar::discovery::Source;
use hedgehog_sidecar::discovery::kind::ObjectKind;
use hedgehog_sidecar::discovery::sources::home_assistant::HomeAssistantSource;
use serde_json::{Value, json};
use testkit::paths::fixture;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::support::{host, iface, interfaces, settings};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.long-lived-token.signature";

fn recorded(name: &str) -> Value {
    let path = fixture(&format!("discovery/home_assistant/{name}"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What the server saw: the upgraded paths and every message the client sent.
#[derive(Default)]
struct Seen {
    paths: Vec<String>,
    messages: Vec<Value>,
}

/// Serves one Home Assistant on 127.0.0.1 that accepts `TOKEN` and answers a command with
/// `answer` (its `id` set to the command's).
async fn home_assistant(answer: Value) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (record, answer) = (record.clone(), answer.clone());
            tokio::spawn(async move {
                let paths = record.clone();
                // The callback's type, error response included, is tungstenite's.
                #[allow(clippy::result_large_err)]
                let callback = move |request: &Request, response: Response| {
                    paths
                        .lock()
                        .unwrap()
                        .paths
                        .push(request.uri().path().to_owned());
                    Ok(response)
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await
                else {
                    return;
                };
                let send = |v: Value| Message::text(v.to_string());
                socket
                    .send(send(recorded("auth_required.json")))
                    .await
                    .unwrap();
                while let Some(Ok(Message::Text(text))) = socket.next().await {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap();
                    record.lock().unwrap().messages.push(message.clone());
                    let reply = match message["type"].as_str() {
                        Some("auth") if message["access_token"] == TOKEN => {
                            json!({"type": "auth_ok", "ha_version": "2024.6.4"})
                        }
                        Some("auth") => {
                            json!({"type": "auth_invalid", "message": "Invalid access token or password"})
                        }
                        _ => {
                            let mut reply = answer.clone();
                            reply["id"] = message["id"].clone();
                            reply
                        }
                    };
                    socket.send(send(reply)).await.unwrap();
                }
            });
        }
    });
    (url, seen)
}

fn source(url: &str, token: &str) -> HomeAssistantSource {
    HomeAssistantSource::new(
        0,
        &settings("home", url, token),
        &CustomFieldNames::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn networked_registry_devices_become_devices_with_their_macs() {
    let (url, _) = home_assistant(recorded("device_registry_list.json")).await;
    let hosts = source(&url, TOKEN).hosts().await.unwrap();
    let names: Vec<_> = hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["Kettle plug", "Living Room TV", "Hue Bridge"],
        "no Zigbee lamp, no service, no disabled device"
    );
    let plug = host(&hosts, "device/4f8e2a1b6c0d4e7fa1b2c3d4e5f60001");
    assert_eq!(plug.kind, ObjectKind::Device);
    assert_eq!(plug.primary_ip, "192.168.20.41".parse().ok());
    assert_eq!(plug.facts["manufacturer"], json!("Shelly"));
    assert_eq!(plug.facts["model"], json!("Shelly Plus Plug S"));
    assert_eq!(plug.facts["version"], json!("1.3.2"));
    assert_eq!(
        interfaces(plug),
        [iface("net0", Some("C8:C9:A3:0A:00:01"), &[])]
    );
    let tv = host(&hosts, "device/4f8e2a1b6c0d4e7fa1b2c3d4e5f60002");
    assert_eq!(tv.serial.as_deref(), Some("CC-0B0002"));
    assert_eq!(
        interfaces(tv),
        [iface("net0", Some("A4:77:33:0B:00:02"), &[])],
        "UPnP is no MAC"
    );
    assert_eq!(tv.primary_ip, None);
}

#[tokio::test]
async fn the_token_goes_in_the_auth_message_and_the_registry_is_listed_over_the_websocket() {
    let (url, seen) = home_assistant(recorded("device_registry_list.json")).await;
    let source = source(&url, TOKEN);
    assert_eq!(source.name(), "home_assistant:home");
    let observed = source.observe().await.unwrap();
    assert_eq!(observed.len(), 3);
    assert_eq!(observed[0].source, "home_assistant:home");
    assert_eq!(observed[0].macs, ["C8:C9:A3:0A:00:01"]);
    assert_eq!(observed[0].interfaces[0].macs, ["C8:C9:A3:0A:00:01"]);
    assert_eq!(observed[0].primary_ip.as_deref(), Some("192.168.20.41"));
    assert!(
        observed[0].interfaces[0].ips.is_empty(),
        "the registry holds no prefix lengths"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.paths, ["/api/websocket"]);
    assert_eq!(
        seen.messages,
        [
            json!({"type": "auth", "access_token": TOKEN}),
            json!({"id": 1, "type": "config/device_registry/list"})
        ]
    );
}

#[tokio::test]
async fn a_refused_token_fails_the_source_without_showing_it() {
    let (url, _) = home_assistant(recorded("device_registry_list.json")).await;
    let error = source(&url, "wrong-token-value")
        .observe()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("source home_assistant:home: "), "{error}");
    assert!(error.contains("Invalid access token"), "{error}");
    assert!(!error.contains("wrong-token-value"), "{error}");
}

#[tokio::test]
async fn a_failed_command_is_an_error_not_an_empty_registry() {
    let failure = json!({"id": 1, "type": "result", "success": false,
        "error": {"code": "unauthorized", "message": "Unauthorized"}});
    let (url, _) = home_assistant(failure).await;
    let error = source(&url, TOKEN).observe().await.unwrap_err().to_string();
    assert!(
        error.contains("config/device_registry/list failed: unauthorized"),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_that_does_not_upgrade_is_an_error() {
    let api = testkit::recorded_api::RecordedApi::start(Default::default()).await;
    let error = source(&api.url, TOKEN)
        .observe()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("did not accept the WebSocket upgrade"),
        "{error}"
    );
}
