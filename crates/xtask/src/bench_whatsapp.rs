//! `cargo xtask bench`: webhook signature verification and parsing throughput.
//!
//! The relay does both on every webhook before answering Meta, so this bounds how many
//! webhooks one relay can take. The batch mixes what a real number receives: single text
//! messages (many with emoji and `\uXXXX` escapes, as Meta sends them), media, replies,
//! reactions, status bursts and multi-entry batches.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use teamline_whatsapp::signature;
use teamline_whatsapp::webhook::WebhookPayload;

const SECRET: &[u8] = b"bench-app-secret";
/// Time spent measuring each of the three figures.
const MEASURE_FOR: Duration = Duration::from_millis(700);

/// Runs the benchmark (about two seconds) and returns its figures as JSON.
pub fn run() -> anyhow::Result<Value> {
    run_for(MEASURE_FOR)
}

/// The same with a chosen time per figure (tests use a short one).
pub fn run_for(per_figure: Duration) -> anyhow::Result<Value> {
    let batch: Vec<(Vec<u8>, String)> = payloads()
        .into_iter()
        .map(|body| {
            let header = signature::sign(SECRET, &body);
            (body, header)
        })
        .collect();
    let batch_bytes: usize = batch.iter().map(|(b, _)| b.len()).sum();

    // Sanity: every payload verifies and parses to at least one item, else the figures lie.
    for (body, header) in &batch {
        signature::verify(SECRET, body, Some(header)).context("bench payload must verify")?;
        let parsed = WebhookPayload::from_slice(body).context("bench payload must parse")?;
        ensure!(!parsed.items.is_empty(), "bench payload parsed to no items");
    }

    let verify_only = measure(per_figure, batch_bytes, || {
        for (body, header) in &batch {
            black_box(signature::verify(SECRET, black_box(body), Some(header)).is_ok());
        }
    });
    let parse_only = measure(per_figure, batch_bytes, || {
        for (body, _) in &batch {
            black_box(
                WebhookPayload::from_slice(black_box(body))
                    .map(|p| p.items.len())
                    .ok(),
            );
        }
    });
    let both = measure(per_figure, batch_bytes, || {
        for (body, header) in &batch {
            if signature::verify(SECRET, black_box(body), Some(header)).is_ok() {
                black_box(WebhookPayload::from_slice(body).map(|p| p.items.len()).ok());
            }
        }
    });

    Ok(json!({
        "webhook_parse_verify_mb_per_s": both.mb_per_s,
        "webhook_verify_only_mb_per_s": verify_only.mb_per_s,
        "webhook_parse_only_mb_per_s": parse_only.mb_per_s,
        "webhook_parse_verify_payloads_per_s": both.batches_per_s * batch.len() as f64,
        "payloads": batch.len(),
        "payload_bytes": batch_bytes,
        "iterations": both.iterations,
        "iterations_verify_only": verify_only.iterations,
        "iterations_parse_only": parse_only.iterations,
    }))
}

struct Figure {
    mb_per_s: f64,
    batches_per_s: f64,
    iterations: u64,
}

/// Runs `pass` (one pass over the batch) repeatedly for about `budget`.
fn measure(budget: Duration, batch_bytes: usize, mut pass: impl FnMut()) -> Figure {
    pass(); // warm caches and the allocator
    let start = Instant::now();
    let mut iterations = 0u64;
    while start.elapsed() < budget || iterations == 0 {
        pass();
        iterations += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = batch_bytes as f64 * iterations as f64;
    Figure {
        mb_per_s: round2(bytes / secs / 1_000_000.0),
        batches_per_s: iterations as f64 / secs,
        iterations,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Compact JSON the way Meta writes it: `\/` for slashes and lowercase `\uXXXX` for
/// everything outside ASCII.
fn meta_bytes(v: &Value) -> Vec<u8> {
    let compact = serde_json::to_string(v).expect("JSON values serialize");
    let mut out = String::with_capacity(compact.len() * 2);
    for c in compact.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.into_bytes()
}

fn envelope(changes: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": changes}]})
}

fn messages_change(contacts: Value, messages: Value) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": contacts,
        "messages": messages
    }})
}

fn statuses_change(statuses: Value) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": statuses
    }})
}

fn contact(name: &str, wa_id: &str) -> Value {
    json!([{"profile": {"name": name}, "wa_id": wa_id}])
}

fn text(from: &str, n: u32, body: &str) -> Value {
    json!({"from": from, "id": format!("wamid.HBgLMzQ2MTEyMjIzMzMVAgASGBQzQUY{n:08}"), "timestamp": (1_750_000_000 + n).to_string(), "type": "text", "text": {"body": body}})
}

fn status(n: u32, kind: &str) -> Value {
    json!({"id": format!("wamid.HBgLMzQ2MTEyMjIzMzMVAgARGBI{n:08}"), "status": kind, "timestamp": (1_750_000_000 + n).to_string(), "recipient_id": "34611222333",
        "conversation": {"id": "7c1f0b8a2e9d4c3b5a6f7e8d9c0b1a2f", "origin": {"type": "service"}},
        "pricing": {"billable": true, "pricing_model": "PMP", "category": "service", "type": "regular"}})
}

fn payloads() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let bodies = [
        "Hola, ¿dónde está mi pedido #1042? 📦",
        "Здравствуйте! Когда придёт мой заказ? Уже неделя прошла 😟",
        "你好，我的订单什么时候发货？谢谢 🙏",
        "Hi, can I return the blue teapot? It arrived with a crack in the lid. Order 2291.",
        "#urgent the parcel was left in the rain and everything inside is wet!!!",
        "ok thanks 👍",
    ];
    for (i, body) in bodies.iter().enumerate() {
        let n = i as u32;
        let v = envelope(vec![messages_change(
            contact("Ana García", "34611222333"),
            json!([text("34611222333", n, body)]),
        )]);
        // Half as Meta escapes them, half as raw UTF-8.
        out.push(if i % 2 == 0 {
            meta_bytes(&v)
        } else {
            serde_json::to_vec(&v).expect("serializes")
        });
    }
    out.push(meta_bytes(&envelope(vec![messages_change(
        contact("Дмитрий", "79161234567"),
        json!([{"from": "79161234567", "id": "wamid.IMG1", "timestamp": "1750000100", "type": "image",
            "image": {"caption": "Вот фото коробки", "mime_type": "image/jpeg", "sha256": "ZxjmYqF+zG7XnTIq9q8vW1b2mVvPcE3tKf0xk3r1n4Q=", "id": "1003383421387256"}}]),
    )])));
    out.push(meta_bytes(&envelope(vec![messages_change(
        contact("王芳", "8613800138000"),
        json!([{"from": "8613800138000", "id": "wamid.DOC1", "timestamp": "1750000101", "type": "document",
            "context": {"from": "15550783881", "id": "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"},
            "document": {"caption": "发票", "filename": "invoice-2025-06.pdf", "mime_type": "application/pdf", "sha256": "x0lU2QJ2e6e6Zk2a4b5c6d7e8f9g0h1i2j3k4l5m6n7=", "id": "1074536264193578"}}]),
    )])));
    out.push(meta_bytes(&envelope(vec![messages_change(
        contact("Ana García", "34611222333"),
        json!([{"from": "34611222333", "id": "wamid.REA1", "timestamp": "1750000102", "type": "reaction",
            "reaction": {"message_id": "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "emoji": "❤️"}}]),
    )])));
    // A status burst, as Meta batches them under load.
    let burst: Vec<Value> = (0..20)
        .map(|n| status(n, ["sent", "delivered", "read"][n as usize % 3]))
        .collect();
    out.push(meta_bytes(&envelope(vec![statuses_change(Value::Array(
        burst,
    ))])));
    // A batch: several changes with messages, statuses and an unknown type.
    let msgs: Vec<Value> = (0..8)
        .map(|n| text("79161234567", 100 + n, "Спасибо, всё получил! Отличный чай ☕"))
        .chain([json!({"from": "79161234567", "id": "wamid.POLL", "timestamp": "1750000200", "type": "poll", "poll": {"name": "?"}})])
        .collect();
    out.push(meta_bytes(&envelope(vec![
        messages_change(contact("Дмитрий", "79161234567"), Value::Array(msgs)),
        statuses_change(json!([status(200, "delivered"), status(201, "read")])),
    ])));
    out
}
