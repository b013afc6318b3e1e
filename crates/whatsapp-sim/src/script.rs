//! `--script demo`: a day at a small online shop, told through the same inbound path tests
//! use. Customers write in English, Russian and Chinese: order-status questions, a return
//! (`#returns`), `#urgent` complaints, a VIP buyer, photos, a PDF purchase order, a location,
//! and replies quoting the business's own messages when it has answered them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Shared;
use crate::config::ScriptConfig;
use crate::control::{InboundRequest, inject_inbound};

enum Says {
    Text(&'static str),
    Image(&'static str),
    Document(&'static str, &'static str),
    Location(f64, f64, &'static str, &'static str),
    /// Quotes the business's latest message to this customer, if there is one.
    Reply(&'static str),
}

struct Step {
    pause_secs: f64,
    from: &'static str,
    name: &'static str,
    says: Says,
}

const EMMA: (&str, &str) = ("447700900123", "Emma Wilson");
const DMITRY: (&str, &str) = ("79123456789", "Дмитрий Соколов");
const LI_NA: (&str, &str) = ("8613800138000", "李娜");
const CARLOS: (&str, &str) = ("351912345678", "Carlos Mendes (VIP)");
const OLGA: (&str, &str) = ("79261234567", "Ольга Иванова");
const WANG: (&str, &str) = ("8613911112222", "王伟");
const JAMES: (&str, &str) = ("14155550123", "James Carter");

fn step(pause_secs: f64, who: (&'static str, &'static str), says: Says) -> Step {
    Step {
        pause_secs,
        from: who.0,
        name: who.1,
        says,
    }
}

fn demo_day() -> Vec<Step> {
    use Says::*;
    vec![
        step(
            1.0,
            EMMA,
            Text("Hi! Where is my order #1042? It was supposed to arrive yesterday."),
        ),
        step(
            3.0,
            DMITRY,
            Text(
                "Здравствуйте! Хочу оформить возврат #returns — кроссовки не подошли по размеру, заказ 2231.",
            ),
        ),
        step(4.0, LI_NA, Text("你好，我的订单 5567 什么时候发货？")),
        step(
            4.0,
            CARLOS,
            Text(
                "Hi, Carlos here. I'm a VIP member and I'd like to order 20 leather bags for my boutique.",
            ),
        ),
        step(
            3.0,
            EMMA,
            Image("This is what arrived — the box is crushed 😞"),
        ),
        step(
            5.0,
            OLGA,
            Text(
                "#urgent Мне прислали не тот товар, а завтра день рождения дочери! Помогите срочно!",
            ),
        ),
        step(4.0, LI_NA, Image("这是我想要的颜色 👜")),
        step(
            4.0,
            CARLOS,
            Document(
                "purchase_order_PO-7781.pdf",
                "Purchase order PO-7781: 20 x leather bag",
            ),
        ),
        step(
            5.0,
            JAMES,
            Text("Do you ship to Canada? How long does it usually take?"),
        ),
        step(4.0, EMMA, Reply("Thanks, a replacement works for me!")),
        step(
            4.0,
            WANG,
            Text("#urgent 我的付款被扣了两次！订单 6610，请尽快处理。"),
        ),
        step(
            4.0,
            DMITRY,
            Reply("Спасибо! Отправил посылку сегодня, трек-номер RU123456789."),
        ),
        step(
            4.0,
            CARLOS,
            Location(
                38.7223,
                -9.1393,
                "Mendes Boutique",
                "Rua Augusta 100, Lisboa",
            ),
        ),
        step(5.0, LI_NA, Reply("好的，谢谢！")),
        step(4.0, OLGA, Reply("Спасибо, жду курьера 🙏")),
        step(
            5.0,
            JAMES,
            Text("Also, is order #1099 eligible for the spring sale price?"),
        ),
        step(
            4.0,
            CARLOS,
            Reply("Perfect, please send the invoice to my email."),
        ),
    ]
}

fn request(shared: &Shared, s: &Step) -> InboundRequest {
    let mut req = InboundRequest {
        from: s.from.to_string(),
        name: Some(s.name.to_string()),
        ..InboundRequest::default()
    };
    let put = |req: &mut InboundRequest, kind: &str, obj: Value| {
        req.kind = Some(kind.to_string());
        req.rest.insert(kind.to_string(), obj);
    };
    match s.says {
        Says::Text(t) => req.text = Some(t.to_string()),
        Says::Image(caption) => put(&mut req, "image", json!({ "caption": caption })),
        Says::Document(filename, caption) => {
            put(
                &mut req,
                "document",
                json!({ "filename": filename, "caption": caption }),
            );
        }
        Says::Location(latitude, longitude, name, address) => put(
            &mut req,
            "location",
            json!({"latitude": latitude, "longitude": longitude, "name": name, "address": address}),
        ),
        Says::Reply(t) => {
            req.text = Some(t.to_string());
            let last = shared
                .state
                .lock()
                .expect("state lock")
                .sent
                .iter()
                .rev()
                .find(|m| m.to == s.from)
                .map(|m| m.id.clone());
            req.context = last.map(|id| json!({ "message_id": id }));
        }
    }
    req
}

pub async fn run(shared: Arc<Shared>, script: ScriptConfig) {
    if script.name != "demo" {
        tracing::warn!(script = %script.name, "unknown script; only `demo` exists");
        return;
    }
    let speed = if script.speed.is_finite() && script.speed > 0.0 {
        script.speed
    } else {
        1.0
    };
    let steps = demo_day();
    let total = steps.len();
    for (i, s) in steps.iter().enumerate() {
        tokio::time::sleep(Duration::from_secs_f64(s.pause_secs / speed)).await;
        if let Err(e) = inject_inbound(&shared, request(&shared, s)) {
            tracing::warn!(error = %e, "demo step failed");
        } else {
            tracing::info!(step = i + 1, total, "demo customer message sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_day_covers_what_the_issue_asks_for() {
        let day = demo_day();
        let texts: Vec<&str> = day
            .iter()
            .filter_map(|s| match s.says {
                Says::Text(t) | Says::Reply(t) => Some(t),
                _ => None,
            })
            .collect();
        assert!(texts.iter().any(|t| t.contains("#returns")));
        assert!(texts.iter().filter(|t| t.contains("#urgent")).count() >= 2);
        assert!(
            texts
                .iter()
                .any(|t| t.chars().any(|c| ('\u{0400}'..='\u{04ff}').contains(&c)))
        );
        assert!(
            texts
                .iter()
                .any(|t| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        );
        assert!(day.iter().any(|s| matches!(s.says, Says::Image(_))));
        assert!(day.iter().any(|s| matches!(s.says, Says::Document(..))));
        assert!(day.iter().any(|s| matches!(s.says, Says::Reply(_))));
        assert!(day.iter().any(|s| s.name.contains("VIP")));
    }
}
