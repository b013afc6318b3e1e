//! The window's one Tauri command: `call` runs an app command by name through
//! `teamline_shell::dispatch` (the web shell runs the same one over HTTP). The name travels
//! in the `x-command` header; the body is the command's arguments (JSON), or for
//! `upload_media` the file's raw bytes with `x-mime-type` and `x-file-name` headers.

use std::sync::Arc;

use tauri::State;
use tauri::ipc::{InvokeBody, Request, Response};
use teamline_shell::{Answer, Body, Engine, IpcError, dispatch};

#[tauri::command]
pub async fn call(
    engine: State<'_, Arc<Engine>>,
    request: Request<'_>,
) -> Result<Response, IpcError> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let body = match request.body() {
        InvokeBody::Json(args) => Body::Json(args.clone()),
        InvokeBody::Raw(bytes) => Body::Raw {
            bytes: bytes.clone(),
            mime_type: header("x-mime-type"),
            file_name: teamline_client::composer::percent_decode(&header("x-file-name")),
        },
    };
    // Media bytes go back raw (an ArrayBuffer in the UI): no base64 for a 100 MB video.
    Ok(
        match dispatch::call(&engine, &header("x-command"), body).await? {
            Answer::Json(text) => Response::new(text),
            Answer::Bytes(bytes) => Response::new(bytes),
        },
    )
}
