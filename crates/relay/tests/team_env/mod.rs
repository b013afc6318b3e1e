//! Team helpers on top of `common`: PIN-authenticated admin calls, members, devices.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Device, TestRelay};

pub const ROOT_PIN: &str = "111111";
pub const MEMBER_PIN: &str = "222222";

pub async fn call(
    t: &TestRelay,
    token: &str,
    method: &str,
    path: &str,
    pin: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = t
        .http
        .request(m, format!("{}{}", t.url, path))
        .bearer_auth(token);
    if let Some(pin) = pin {
        req = req.header("x-teamline-pin", pin);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A relay with cheap PINs and a root admin (PIN set, device cap raised).
pub async fn start() -> (TestRelay, Device) {
    let t = TestRelay::start().await;
    t.relay.state().pin_cost.set(8, 1);
    let root = t.device("admin", Some("Root")).await;
    let (s, v) = call(
        &t,
        &root.token,
        "PUT",
        "/v1/me/pin",
        None,
        Some(json!({"new_pin": ROOT_PIN})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    (t, root)
}

pub async fn admin(t: &TestRelay, root: &Device, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = call(t, &root.token, method, path, Some(ROOT_PIN), Some(body)).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

pub async fn member(
    t: &TestRelay,
    root: &Device,
    name: &str,
    preset: &str,
    templates: &[Uuid],
) -> Uuid {
    let v = admin(
        t,
        root,
        "POST",
        "/v1/team/members",
        json!({"name": name, "preset": preset, "templates": templates}),
    )
    .await;
    let id: Uuid = v["member"]["id"].as_str().unwrap().parse().unwrap();
    admin(
        t,
        root,
        "PUT",
        &format!("/v1/team/members/{id}/pin"),
        json!({"new_pin": MEMBER_PIN}),
    )
    .await;
    id
}

/// Links a device for `member_id` at a preset level through the admin's pairing route.
pub async fn link(
    t: &TestRelay,
    root: &Device,
    member_id: Option<Uuid>,
    level: &str,
    name: &str,
) -> Device {
    let (s, v) = call(
        t,
        &root.token,
        "POST",
        "/v1/pairing/codes",
        None,
        Some(json!({"level": {"preset": level}, "member_id": member_id})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let resp = t.claim(v["code"].as_str().unwrap(), name).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    Device {
        token: v["token"].as_str().unwrap().to_owned(),
        device_id: v["device_id"].as_str().unwrap().parse().unwrap(),
        member_id: v["member_id"]
            .as_str()
            .map(|m| m.parse().unwrap())
            .unwrap_or_default(),
    }
}

/// A conversation from a customer's first message; returns its id.
pub async fn conversation(t: &TestRelay, root: &Device, wa: &str) -> Uuid {
    let wamid = format!("wamid.{wa}.{}", Uuid::now_v7());
    assert_eq!(
        t.post_webhook(crate::common::payloads::text(wa, &wamid, "hello"))
            .await,
        200
    );
    let (_, v) = t.get(root, "/v1/conversations?limit=200").await;
    v["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_wa_id"] == wa)
        .map(|c| c["id"].as_str().unwrap().parse().unwrap())
        .unwrap()
}

pub async fn command(t: &TestRelay, d: &Device, command: Value) -> (StatusCode, Value) {
    call(
        t,
        &d.token,
        "POST",
        "/v1/commands",
        None,
        Some(json!({"id": Uuid::now_v7(), "command": command})),
    )
    .await
}

pub async fn assign(t: &TestRelay, root: &Device, conv: Uuid, member: Uuid) {
    let (s, v) = command(
        t,
        root,
        json!({"type": "assign", "conversation_id": conv, "member_id": member}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}
