#![allow(dead_code)]
//! Webhook bodies in Meta's shape, for tests and the benchmark.

use serde_json::{Value, json};

pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// One `messages` change carrying `messages` (with the sender's contact card).
pub fn inbound(from: &str, name: &str, wamid: &str, message: Value) -> Vec<u8> {
    let mut m = message;
    m["from"] = json!(from);
    m["id"] = json!(wamid);
    if m.get("timestamp").is_none() {
        m["timestamp"] = json!("1700000000");
    }
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": name}, "wa_id": from}],
                    "messages": [m]
                }
            }]
        }]
    });
    serde_json::to_vec(&body).unwrap()
}

pub fn text(from: &str, wamid: &str, body: &str) -> Vec<u8> {
    inbound(
        from,
        "Ana",
        wamid,
        json!({"type": "text", "text": {"body": body}}),
    )
}

/// One status of a message the business sent.
pub fn status(wamid: &str, recipient: &str, status: &str, ts: u64) -> Vec<u8> {
    let mut st = json!({
        "id": wamid,
        "status": status,
        "timestamp": ts.to_string(),
        "recipient_id": recipient,
    });
    if status == "failed" {
        st["errors"] = json!([{"code": 131047, "title": "Re-engagement message"}]);
    }
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                    "statuses": [st]
                }
            }]
        }]
    });
    serde_json::to_vec(&body).unwrap()
}
