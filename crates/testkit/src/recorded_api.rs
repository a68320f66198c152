//! A local HTTP server answering with recorded API responses: the stand-in for Proxmox VE,
//! TrueNAS and the like in the discovery source tests and benchmarks. It listens on an
//! ephemeral port of 127.0.0.1 and remembers every request (path, query, authorization).
//!
//! Responses come from a folder that mirrors the API's paths: `api2/json/nodes.json` answers
//! `GET /api2/json/nodes`; `interface@limit=2&offset=0.json` answers only that query;
//! `config.500.json` answers with status 500.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One recorded answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(body: impl ToString) -> Reply {
        Reply {
            status: 200,
            body: body.to_string(),
        }
    }

    pub fn status(status: u16, body: impl ToString) -> Reply {
        Reply {
            status,
            body: body.to_string(),
        }
    }
}

/// Answers by request: `/path?query` when recorded for that query, else `/path`.
pub type Routes = BTreeMap<String, Reply>;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
}

pub struct RecordedApi {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

impl RecordedApi {
    /// Serves `routes`; a request none answers gets 404.
    pub async fn start(routes: Routes) -> RecordedApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = web::Data::new((routes, received.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        RecordedApi {
            url,
            received,
            handle,
        }
    }

    /// Every request so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

type State = web::Data<(Routes, Arc<Mutex<Vec<Received>>>)>;

async fn answer(request: HttpRequest, state: State) -> HttpResponse {
    let (routes, received) = state.get_ref();
    let path = request.path().to_owned();
    let query = request.query_string().to_owned();
    received.lock().unwrap().push(Received {
        path: path.clone(),
        query: query.clone(),
        authorization: request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let reply = routes
        .get(&format!("{path}?{query}"))
        .or_else(|| routes.get(&path));
    match reply {
        Some(reply) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(reply.status).expect("a valid status"),
        )
        .content_type("application/json")
        .body(reply.body.clone()),
        None => HttpResponse::NotFound()
            .content_type("application/json")
            .body(r#"{"message":"no recorded response"}"#),
    }
}

/// The routes a fixture folder records (see the module's description).
pub fn load_dir(dir: &Path) -> Routes {
    let mut routes = Routes::new();
    load_into(dir, dir, &mut routes);
    routes
}

fn load_into(root: &Path, dir: &Path, routes: &mut Routes) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            load_into(root, &path, routes);
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Some(stem) = relative.strip_suffix(".json") else {
            continue;
        };
        let (stem, status) = match stem.rsplit_once('.') {
            Some((stem, code)) if code.len() == 3 && code.parse::<u16>().is_ok() => {
                (stem, code.parse().unwrap())
            }
            _ => (stem, 200),
        };
        let key = format!("/{}", stem.replacen('@', "?", 1));
        let body = std::fs::read_to_string(&path).unwrap();
        routes.insert(key, Reply::status(status, body));
    }
}
