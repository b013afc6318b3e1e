//! The web shell: the same UI and the same commands as the desktop window, over HTTP on
//! 127.0.0.1, so the UI can be driven in headless Chromium (`tests/browser`) and used from
//! a browser on a machine without a webview.
//!
//! - `GET /…` serves the built UI (`ui/dist`); `index.html` gets a
//!   `<meta name="teamline-web-token">` the UI's HTTP backend sends back as a bearer token.
//! - `POST /api/call/{command}`: the command's arguments as a JSON object (or a file's bytes
//!   as `application/octet-stream` with `x-mime-type` / `x-file-name` for `upload_media`);
//!   answers JSON, raw bytes for `message_media`, or `{code, message}` with a 4xx/5xx.
//! - `GET /api/events?token=…`: Server-Sent Events named as the window's events.
//!
//! Only loopback addresses are accepted for listening, and requests whose `Host` is not the
//! loopback address the shell listens on are refused (no DNS rebinding); every `/api`
//! request needs the token, which a cross-site page cannot read or send (no CORS).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use teamline_client::ClientEvent;
use tokio::sync::{broadcast, watch};

use crate::dispatch::{self, Answer, Body};
use crate::engine::{Engine, Startup};
use crate::host::{Host, ShellEvent};
use crate::ipc::{ErrorCode, IpcError};

/// WhatsApp's largest media (a 100 MB document) plus room for the request.
const MAX_BODY: usize = 110 * 1024 * 1024;

pub struct WebOptions {
    /// A loopback address; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The built UI (`ui/dist`, made by `npm --prefix ui run build`).
    pub ui_dir: PathBuf,
    pub startup: Startup,
    /// Where exports and saved media go; default `<data dir>/downloads`.
    pub save_dir: Option<PathBuf>,
}

/// A running web shell.
pub struct WebShell {
    /// `http://127.0.0.1:PORT/`: open it in a browser.
    pub url: String,
    engine: Arc<Engine>,
    closing: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

struct WebHost {
    events: broadcast::Sender<(&'static str, String)>,
    save_dir: PathBuf,
}

impl Host for WebHost {
    fn emit(&self, event: ShellEvent) {
        // No page listening is fine: the page reads the current state when it opens.
        let _ = self
            .events
            .send((event.name(), event.payload().to_string()));
    }

    fn app_version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }

    fn save_dir(&self) -> Result<PathBuf, IpcError> {
        std::fs::create_dir_all(&self.save_dir).map_err(|e| {
            IpcError::new(
                ErrorCode::DataDirUnavailable,
                format!("no folder to save to: {e}"),
            )
        })?;
        Ok(self.save_dir.clone())
    }
}

struct Shared {
    engine: Arc<Engine>,
    token: String,
    index_html: String,
    ui_dir: PathBuf,
    allowed_hosts: [String; 3],
    events: broadcast::Sender<(&'static str, String)>,
    closing: watch::Receiver<bool>,
}

impl WebShell {
    /// Opens the profile and starts serving. Call inside a tokio runtime.
    pub async fn start(options: WebOptions) -> anyhow::Result<WebShell> {
        if !options.listen.ip().is_loopback() {
            bail!(
                "the web shell listens on loopback addresses only (127.0.0.1 or ::1), not {}",
                options.listen.ip()
            );
        }
        let index = options.ui_dir.join("index.html");
        let index_html = std::fs::read_to_string(&index).with_context(|| {
            format!(
                "the built UI is missing ({}); run `npm --prefix ui run build`",
                index.display()
            )
        })?;
        let token = new_token();
        let index_html = with_token(&index_html, &token)?;

        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let port = listener.local_addr()?.port();

        let (events, _) = broadcast::channel(1024);
        let host = Arc::new(WebHost {
            events: events.clone(),
            save_dir: options
                .save_dir
                .unwrap_or_else(|| options.startup.data_dir.join("downloads")),
        });
        let engine = Arc::new(Engine::open(host, &options.startup).await);
        let (closing, closing_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            engine: Arc::clone(&engine),
            token,
            index_html,
            ui_dir: options.ui_dir,
            allowed_hosts: [
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ],
            events,
            closing: closing_rx.clone(),
        });
        let app = Router::new()
            .route(
                "/api/call/{command}",
                post(call).layer(DefaultBodyLimit::max(MAX_BODY)),
            )
            .route("/api/events", get(events_stream))
            .fallback(get(ui_file))
            .layer(middleware::from_fn_with_state(
                Arc::clone(&shared),
                loopback_host_only,
            ))
            .with_state(shared);
        let mut stop = closing_rx;
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|closing| *closing).await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("the web shell stopped: {e}");
            }
        });
        tracing::info!(port, "web shell listening");
        Ok(WebShell {
            url: format!("http://127.0.0.1:{port}/"),
            engine,
            closing,
            server,
        })
    }

    /// Finishes requests under way, closes event streams, and stops the engine.
    pub async fn shutdown(self) {
        let _ = self.closing.send(true);
        let _ = self.server.await;
        self.engine.shutdown().await;
    }
}

/// 256 random bits, hex.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    hex::encode(bytes)
}

/// `index.html` with the token the UI's HTTP backend sends back.
fn with_token(index_html: &str, token: &str) -> anyhow::Result<String> {
    let Some(at) = index_html.find("<head>") else {
        bail!("the built UI's index.html has no <head>");
    };
    let at = at + "<head>".len();
    Ok(format!(
        "{}\n    <meta name=\"teamline-web-token\" content=\"{token}\" />{}",
        &index_html[..at],
        &index_html[at..]
    ))
}

async fn loopback_host_only(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if shared.allowed_hosts.iter().any(|allowed| allowed == host) {
        next.run(request).await
    } else {
        refusal(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "The web shell answers only at its own loopback address.",
        )
    }
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message });
    (status, axum::Json(body)).into_response()
}

fn token_matches(shared: &Shared, offered: &str) -> bool {
    offered.as_bytes().ct_eq(shared.token.as_bytes()).into()
}

fn unauthorized() -> Response {
    refusal(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "This page's session with the web shell is not valid; reload the page.",
    )
}

async fn call(
    State(shared): State<Arc<Shared>>,
    UrlPath(command): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !token_matches(&shared, bearer) {
        return unauthorized();
    }
    let text_header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let raw = text_header(header::CONTENT_TYPE.as_str()).starts_with("application/octet-stream");
    let input = if raw {
        Body::Raw {
            bytes: body.to_vec(),
            mime_type: text_header("x-mime-type"),
            file_name: teamline_client::composer::percent_decode(&text_header("x-file-name")),
        }
    } else if body.is_empty() {
        Body::Json(serde_json::Value::Null)
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => Body::Json(value),
            Err(e) => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidArguments.as_str(),
                    &format!("the arguments are not JSON: {e}"),
                );
            }
        }
    };
    tracing::debug!(command = %command, "web shell call");
    match dispatch::call(&shared.engine, &command, input).await {
        Ok(Answer::Json(text)) => {
            ([(header::CONTENT_TYPE, "application/json")], text).into_response()
        }
        Ok(Answer::Bytes(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Err(e) => {
            let status = match e.code.as_str() {
                "unknown_command" => StatusCode::NOT_FOUND,
                "invalid_arguments" => StatusCode::BAD_REQUEST,
                "internal" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (status, axum::Json(e)).into_response()
        }
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    token: String,
}

async fn events_stream(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<EventsQuery>,
) -> Response {
    if !token_matches(&shared, &query.token) {
        return unauthorized();
    }
    // The current connection state first, so a page never misses the one before it listened.
    let now = shared.engine.current().map(|c| {
        sse(&ShellEvent::ConnectionState(
            c.connection_state().borrow().clone(),
        ))
    });
    let state = (shared.events.subscribe(), shared.closing.clone());
    let later = futures_util::stream::unfold(state, |(mut events, mut closing)| async move {
        let event = tokio::select! {
            _ = closing.wait_for(|closing| *closing) => return None,
            received = events.recv() => match received {
                Ok((name, data)) => Event::default().event(name).data(data),
                // This page missed events: tell it to re-read everything, as the window does.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    sse(&ShellEvent::Client(ClientEvent::OutboxChanged))
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
        };
        Some((Ok::<_, Infallible>(event), (events, closing)))
    });
    let stream = futures_util::stream::iter(now.map(Ok)).chain(later);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn sse(event: &ShellEvent) -> Event {
    Event::default()
        .event(event.name())
        .data(event.payload().to_string())
}

/// The built UI; paths without a file (the app's own routes) get `index.html`.
async fn ui_file(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    if relative.is_empty() || relative == "index.html" {
        return index(&shared);
    }
    let Some(path) = inside(&shared.ui_dir, relative) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let kind = HeaderValue::from_static(content_type(&path));
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) if path.extension().is_none() => index(&shared),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn index(shared: &Shared) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        shared.index_html.clone(),
    )
        .into_response()
}

/// `relative` under `root`, or `None` if it would leave it.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(relative))
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
