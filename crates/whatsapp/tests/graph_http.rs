//! The Graph client over real HTTP against a small axum server on 127.0.0.1:0 that records
//! what it receives and answers like Meta.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use teamline_whatsapp::error::{ErrorClass, GraphError, TransportKind};
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use teamline_whatsapp::outgoing::OutgoingMessage;

const TOKEN: &str = "EAAtest-secret-token-123";
const PNID: &str = "106540352242922";

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    auth: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

#[derive(Clone)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
    base: String,
}

async fn handle(
    State(server): State<Server>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        auth: header("authorization"),
        content_type: header("content-type"),
        body: body.clone(),
    };
    server.seen.lock().unwrap().push(seen.clone());

    if seen.auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return meta_error(
            401,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
    let path = seen.path.as_str();
    match (method.as_str(), path) {
        ("POST", p) if p == format!("/v26.0/{PNID}/messages") => {
            let v: Value = serde_json::from_slice(&body).unwrap();
            if v.get("status").is_some() {
                return json_ok(json!({"success": true}));
            }
            json_ok(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": v["to"], "wa_id": v["to"]}],
                "messages": [{"id": "wamid.HBgLMzQ2MTEyMjIzMzMVAgARGBIyQUJDREVGMDEyMzQ1Njc4OQA=", "message_status": "accepted"}]
            }))
        }
        ("POST", "/v26.0/window/messages") => meta_error(400, 131047, "Re-engagement message"),
        ("POST", "/v26.0/throttled/messages") => meta_error(400, 130429, "Rate limit hit"),
        ("POST", "/v26.0/broken/messages") => {
            (StatusCode::BAD_GATEWAY, "<html>Bad Gateway</html>").into_response()
        }
        ("POST", "/v26.0/crashing/messages") => {
            meta_error(500, 2, "Service temporarily unavailable")
        }
        ("POST", "/v26.0/slow/messages") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json_ok(json!({}))
        }
        ("POST", p) if p == format!("/v26.0/{PNID}/media") => {
            json_ok(json!({"id": "1479537139650973"}))
        }
        ("GET", "/v26.0/1479537139650973") => json_ok(json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/media-download/1479537139650973?ext=1&hash=abc", server.base),
            "mime_type": "image/jpeg",
            "sha256": "e1c1a1b1",
            "file_size": "7",
            "id": "1479537139650973"
        })),
        ("GET", "/media-download/1479537139650973") => (
            StatusCode::OK,
            [("content-type", "image/jpeg")],
            b"\xff\xd8\xffJPEG".to_vec(),
        )
            .into_response(),
        ("GET", p) if p == format!("/v26.0/{PNID}") => json_ok(json!({
            "verified_name": "Tea & Co",
            "code_verification_status": "VERIFIED",
            "display_phone_number": "+1 555-078-3881",
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": PNID
        })),
        _ => meta_error(400, 100, "Unsupported get request"),
    }
}

fn json_ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

fn meta_error(status: u16, code: i64, title: &str) -> Response {
    let body = json!({"error": {
        "message": format!("(#{code}) {title}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": format!("{title} (test)")},
        "fbtrace_id": "A1b2C3d4E5"
    }});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server {
        seen: Arc::default(),
        base,
    };
    let app = Router::new().fallback(handle).with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    server
}

fn client(server: &Server, phone_number_id: &str, token: &str) -> GraphClient {
    let config = GraphConfig::new(token, phone_number_id)
        .with_base_url(format!("{}/", server.base))
        .with_api_version("v26.0")
        .with_timeout(Duration::from_millis(800));
    GraphClient::new(config).unwrap()
}

impl Server {
    fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

#[tokio::test]
async fn send_posts_the_documented_body_with_the_bearer_token() {
    let server = start().await;
    let c = client(&server, PNID, TOKEN);
    let msg = OutgoingMessage::text("34611222333", "Hola 👋", false).reply_to("wamid.IN");
    let resp = c.send(&msg).await.unwrap();
    assert_eq!(
        resp.message_id(),
        Some("wamid.HBgLMzQ2MTEyMjIzMzMVAgARGBIyQUJDREVGMDEyMzQ1Njc4OQA=")
    );
    assert_eq!(resp.messages[0].message_status.as_deref(), Some("accepted"));
    assert_eq!(resp.contacts[0].input, "34611222333");

    let seen = server.last();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, format!("/v26.0/{PNID}/messages"));
    assert_eq!(
        seen.auth.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body, serde_json::to_value(&msg).unwrap());
}

#[tokio::test]
async fn read_receipts_and_typing_indicators() {
    let server = start().await;
    let c = client(&server, PNID, TOKEN);
    c.mark_as_read("wamid.A").await.unwrap();
    let body: Value = serde_json::from_slice(&server.last().body).unwrap();
    assert_eq!(
        body,
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.A"})
    );
    c.send_typing_indicator("wamid.B").await.unwrap();
    let body: Value = serde_json::from_slice(&server.last().body).unwrap();
    assert_eq!(body["typing_indicator"], json!({"type": "text"}));
    assert_eq!(body["status"], "read");
}

#[tokio::test]
async fn upload_then_look_up_and_download_media_with_the_bearer_token() {
    let server = start().await;
    let c = client(&server, PNID, TOKEN);
    let uploaded = c
        .upload_media(b"\xff\xd8\xffJPEG".to_vec(), "image/jpeg", "box.jpg")
        .await
        .unwrap();
    assert_eq!(uploaded.id, "1479537139650973");
    let seen = server.last();
    assert_eq!(seen.path, format!("/v26.0/{PNID}/media"));
    assert!(seen.auth.is_some());
    let ct = seen.content_type.unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let form = String::from_utf8_lossy(&seen.body);
    assert!(
        form.contains("name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"),
        "{form}"
    );
    assert!(
        form.contains("name=\"type\"\r\n\r\nimage/jpeg\r\n"),
        "{form}"
    );
    assert!(
        form.contains("name=\"file\"; filename=\"box.jpg\""),
        "{form}"
    );
    assert!(form.contains("Content-Type: image/jpeg"), "{form}");
    assert!(seen.body.windows(7).any(|w| w == b"\xff\xd8\xffJPEG"));

    let info = c.media_info(&uploaded.id).await.unwrap();
    let seen = server.last();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path, "/v26.0/1479537139650973");
    assert_eq!(
        seen.query.as_deref(),
        Some(format!("phone_number_id={PNID}").as_str())
    );
    assert_eq!(info.file_size, Some(7));
    assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));

    let bytes = c.download_media(&info.url).await.unwrap();
    assert_eq!(bytes, b"\xff\xd8\xffJPEG");
    let seen = server.last();
    assert_eq!(seen.path, "/media-download/1479537139650973");
    assert_eq!(
        seen.auth.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn phone_number_details_validate_credentials() {
    let server = start().await;
    let info = client(&server, PNID, TOKEN).phone_number().await.unwrap();
    assert_eq!(info.id, PNID);
    assert_eq!(info.verified_name.as_deref(), Some("Tea & Co"));
    assert_eq!(info.throughput.unwrap().level, "STANDARD");

    let err = client(&server, PNID, "wrong-token")
        .phone_number()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(190));
    assert_eq!(err.class(), ErrorClass::Reauthorise);
    assert_eq!(err.api().unwrap().http_status, Some(401));
}

#[tokio::test]
async fn meta_error_bodies_map_to_classes() {
    let server = start().await;
    let msg = OutgoingMessage::text("1", "x", false);

    let err = client(&server, "window", TOKEN)
        .send(&msg)
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.code, api.http_status), (131047, Some(400)));
    assert_eq!(api.details.as_deref(), Some("Re-engagement message (test)"));
    assert_eq!(api.fbtrace_id.as_deref(), Some("A1b2C3d4E5"));
    assert_eq!(err.class(), ErrorClass::WindowClosed);

    let err = client(&server, "throttled", TOKEN)
        .send(&msg)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::RetryLater);

    let err = client(&server, "crashing", TOKEN)
        .send(&msg)
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.class()), (Some(2), ErrorClass::RetryLater));

    let err = client(&server, "broken", TOKEN)
        .send(&msg)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Http { status: 502 }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::RetryLater);
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retry_later() {
    let server = start().await;
    let msg = OutgoingMessage::text("1", "x", false);
    let err = client(&server, "slow", TOKEN).send(&msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::RetryLater);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = GraphConfig::new(TOKEN, PNID).with_base_url(format!("http://{addr}"));
    let err = GraphClient::new(config)
        .unwrap()
        .send(&msg)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::RetryLater);
    assert!(!err.to_string().contains(TOKEN));
}

#[test]
fn debug_output_never_contains_the_token() {
    let config = GraphConfig::new(TOKEN, PNID).with_base_url("https://graph.example.com");
    let config_debug = format!("{config:?}");
    assert!(!config_debug.contains(TOKEN), "{config_debug}");
    assert!(config_debug.contains("<redacted>") && config_debug.contains(PNID));
    let client = GraphClient::new(config).unwrap();
    for dbg in [format!("{client:?}"), format!("{client:#?}")] {
        assert!(!dbg.contains(TOKEN), "{dbg}");
        assert!(!dbg.contains("EAAtest"), "{dbg}");
        assert!(dbg.contains("https://graph.example.com/v26.0"), "{dbg}");
    }
}

#[test]
fn bad_configuration_is_refused() {
    assert!(
        GraphClient::new(GraphConfig::new(TOKEN, PNID).with_base_url("graph.facebook.com"))
            .is_err()
    );
    assert!(GraphClient::new(GraphConfig::new(TOKEN, "")).is_err());
    assert!(GraphClient::new(GraphConfig::new("bad\ntoken", PNID)).is_err());
    let default = GraphConfig::new(TOKEN, PNID);
    assert_eq!(default.base_url, "https://graph.facebook.com");
    assert_eq!(default.api_version, "v26.0");
}
