//! `cargo xtask bench`: the automation engine's cost per inbound message (issue 8).
//!
//! 200 realistic rules — hashtags and keywords in Latin, Cyrillic and Chinese (whole words,
//! Russian prefixes, Chinese substrings, phrases), contact-attribute comparisons, business
//! hours, new-customer and label conditions, all/any — plus the shipped defaults, the
//! automatic labels and a FAQ bot, evaluated against a mix of customer messages in three
//! languages. Each evaluation (folding and scanning the text included) is timed on its own.
//!
//! Target: ≤ 50 µs per message (p99 reported beside the median).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use anyhow::{Result, ensure};
use jiff::civil::{Time, Weekday};
use serde_json::{Value, json};
use teamline_core::automation::{
    Action, AttributeTest, AttributeValue, AutomationSettings, Comparison, CompiledRules,
    Condition, Conditions, ContactFacts, Context, ConversationFacts, Event, FaqEntry,
    InboundMessage, Language, LiveState, Match, MemberLoad, NotifyTarget, OpenRange, Priority,
    Rule, SentAutoReply, SlaTarget, Team, Trigger, default_settings,
};

const RULES: usize = 200;
const WARMUP: usize = 2_000;
const SAMPLES: usize = 40_000;
const TARGET_US: f64 = 50.0;

const LATIN: [&str; 24] = [
    "refund",
    "invoice",
    "delivery",
    "tracking",
    "broken",
    "damaged",
    "discount",
    "coupon",
    "wholesale",
    "warranty",
    "exchange",
    "size",
    "colour",
    "payment",
    "cancel",
    "address",
    "courier",
    "late",
    "missing",
    "price",
    "stock",
    "gift",
    "receipt",
    "return policy",
];
const CYRILLIC: [&str; 24] = [
    "возврат*",
    "счёт",
    "достав*",
    "трек*",
    "сломан*",
    "поврежд*",
    "скидк*",
    "купон*",
    "опт*",
    "гаранти*",
    "обмен*",
    "размер*",
    "цвет*",
    "оплат*",
    "отмен*",
    "адрес*",
    "курьер*",
    "опозда*",
    "потерял*",
    "цен*",
    "наличи*",
    "подар*",
    "чек*",
    "политика возврата",
];
const CHINESE: [&str; 24] = [
    "退款",
    "发票",
    "快递",
    "物流",
    "坏了",
    "破损",
    "折扣",
    "优惠券",
    "批发",
    "保修",
    "换货",
    "尺码",
    "颜色",
    "付款",
    "取消",
    "地址",
    "快递员",
    "延迟",
    "丢失",
    "价格",
    "库存",
    "礼物",
    "收据",
    "退货政策",
];
const TAGS: [&str; 12] = [
    "#order-chase",
    "#returns",
    "#urgent",
    "#vip",
    "#заказ",
    "#возврат",
    "#срочно",
    "#опт",
    "#退货",
    "#订单",
    "#加急",
    "#批发",
];

fn rule(i: usize) -> Rule {
    let kw = |k: usize| -> Vec<String> {
        vec![
            LATIN[(i + k) % 24].into(),
            CYRILLIC[(i * 7 + k) % 24].into(),
            CHINESE[(i * 5 + k) % 24].into(),
        ]
    };
    let team = ["logistics", "after-sales", "sales"][i % 3];
    let conditions = match i % 8 {
        0 => vec![Condition::Hashtag {
            tag: TAGS[i % TAGS.len()].into(),
        }],
        1 | 2 => vec![Condition::Keyword { any: kw(i) }],
        3 => vec![
            Condition::Keyword { any: kw(i + 1) },
            Condition::Attribute {
                key: "monthly_spend_usd".into(),
                test: AttributeTest::Gt((i * 10) as f64),
            },
        ],
        4 => vec![
            Condition::Attribute {
                key: "tier".into(),
                test: AttributeTest::TextEquals(["gold", "silver"][i % 2].into()),
            },
            Condition::Attribute {
                key: "orders".into(),
                test: AttributeTest::Lt((i % 9) as f64),
            },
            Condition::Attribute {
                key: "wholesale".into(),
                test: AttributeTest::Is(i.is_multiple_of(3)),
            },
        ],
        5 => vec![
            Condition::Keyword { any: kw(i + 2) },
            Condition::BusinessHours {
                open: i.is_multiple_of(2),
            },
        ],
        6 => vec![
            Condition::NewCustomer { within_hours: 24 },
            Condition::Label {
                label: "vip".into(),
                present: false,
            },
            Condition::Keyword { any: kw(i + 3) },
        ],
        _ => vec![
            Condition::Hashtag {
                tag: TAGS[(i + 5) % TAGS.len()].into(),
            },
            Condition::AssigneeWaiting {
                cmp: Comparison::Gt,
                value: 10,
            },
        ],
    };
    let actions = match i % 5 {
        0 => vec![Action::AddLabel {
            label: format!("topic-{}", i % 17),
        }],
        1 => vec![
            Action::AssignLeastLoaded { team: team.into() },
            Action::SetSla {
                target: SlaTarget {
                    first_response_secs: Some(600),
                    next_response_secs: Some(3600),
                },
            },
        ],
        2 => vec![
            Action::AssignRoundRobin { team: team.into() },
            Action::SetPriority {
                priority: Priority::High,
            },
        ],
        3 => vec![Action::Notify {
            to: NotifyTarget::Supervisors,
            text: format!("rule {i}"),
        }],
        _ => vec![Action::AutoReply {
            key: format!("reply-{i}"),
            text: "Thanks! We will reply within {reply_eta}.".into(),
            cooldown_secs: None,
            language: [Language::En, Language::Ru, Language::Zh][i % 3],
        }],
    };
    Rule {
        id: format!("bench-{i:03}"),
        name: format!("Bench rule {i}"),
        enabled: true,
        order: 100 + i as i32,
        trigger: Trigger::MessageReceived,
        conditions: Conditions {
            mode: if i % 4 == 1 { Match::Any } else { Match::All },
            items: conditions,
        },
        actions,
        stop_processing: false,
    }
}

fn settings() -> AutomationSettings {
    let mut s = default_settings("Europe/Madrid");
    let base = s.rules.len();
    s.rules.extend((0..RULES - base).map(rule));
    s.business_hours.ranges = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ]
    .into_iter()
    .flat_map(|day| {
        [(9, 14), (16, 20)].map(|(a, b)| OpenRange {
            day,
            start: Time::constant(a, 0, 0, 0),
            end: Time::constant(b, 0, 0, 0),
        })
    })
    .collect();
    s.faq.enabled = true;
    s.faq.entries = (0..20)
        .map(|i| FaqEntry {
            id: format!("faq-{i}"),
            question: format!("Question {i}"),
            answer: format!("Answer {i}"),
            keywords: vec![
                LATIN[i].into(),
                CYRILLIC[(i + 3) % 24].into(),
                CHINESE[(i + 6) % 24].into(),
            ],
        })
        .collect();
    s
}

const MESSAGES: [&str; 16] = [
    "Hi, where is my order? The tracking number doesn't work #order-chase",
    "I received a damaged parcel, I want a refund please",
    "Hello! Do you have this in a different size and colour?",
    "Здравствуйте! Где мой заказ? Трек-номер не отслеживается #заказ",
    "Посылка пришла повреждённой, хочу оформить возврат",
    "Добрый день, есть ли скидка на оптовую покупку?",
    "你好，我的快递到哪里了？物流一直没有更新",
    "收到的商品破损了，我要退款 #退货",
    "请问有优惠券吗？价格可以便宜一点吗",
    "Can I pay by invoice? Need a receipt for the company",
    "#urgent the courier left the parcel at the wrong address",
    "ok thanks",
    "👍",
    "Hola, quiero cambiar la dirección de entrega",
    "订单什么时候发货 #订单 #加急",
    "Спасибо, всё получил!",
];

fn live() -> LiveState {
    let team = |id: &str, n: usize| Team {
        id: id.into(),
        name: id.into(),
        members: (0..n)
            .map(|k| MemberLoad {
                id: format!("{id}-{k}"),
                online: k % 4 != 3,
                capacity: 20,
                assigned: (k * 3 % 17) as u32,
                waiting: (k * 5 % 13) as u32,
                senior: k.is_multiple_of(3),
            })
            .collect(),
    };
    LiveState {
        teams: vec![
            team("logistics", 8),
            team("after-sales", 6),
            team("sales", 10),
        ],
        supervisors: vec!["sam".into(), "olga".into()],
        round_robin: Default::default(),
    }
}

fn contexts() -> Vec<Context> {
    let base: jiff::Timestamp = "2026-11-18T08:00:00Z".parse().expect("timestamp");
    MESSAGES
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let now = base + jiff::SignedDuration::from_mins(97 * i as i64);
            Context {
                now,
                event: Event::MessageReceived,
                message: Some(InboundMessage {
                    text: (*text).into(),
                    automated: false,
                }),
                conversation: ConversationFacts {
                    id: format!("c{i}"),
                    assignee: i.is_multiple_of(3).then(|| "logistics-1".into()),
                    labels: if i.is_multiple_of(2) {
                        vec!["vip".into(), "topic-3".into()]
                    } else {
                        vec![]
                    },
                    last_customer_message_at: Some(now),
                    ..ConversationFacts::default()
                },
                contact: ContactFacts {
                    id: format!("3460000{i:04}"),
                    first_contact_at: (!i.is_multiple_of(4))
                        .then(|| now - jiff::SignedDuration::from_hours(3 * i as i64)),
                    interactions: i as u32,
                    attributes: BTreeMap::from([
                        (
                            "monthly_spend_usd".into(),
                            AttributeValue::Number((i * 73 % 900) as f64),
                        ),
                        (
                            "tier".into(),
                            AttributeValue::Text(["Gold", "silver", "bronze"][i % 3].into()),
                        ),
                        ("orders".into(), AttributeValue::Number((i % 11) as f64)),
                        (
                            "wholesale".into(),
                            AttributeValue::Bool(i.is_multiple_of(5)),
                        ),
                    ]),
                    auto_replies_sent: vec![SentAutoReply {
                        key: format!("reply-{}", i * 5 + 4),
                        at: now - jiff::SignedDuration::from_hours(2),
                    }],
                },
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run() -> Result<Value> {
    let settings = settings();
    ensure!(settings.rules.len() == RULES, "expected {RULES} rules");
    let t0 = Instant::now();
    let engine = CompiledRules::compile(&settings)?;
    let compile_us = t0.elapsed().as_secs_f64() * 1e6;
    let live = live();
    let contexts = contexts();

    // The figures mean something only if rules actually fire.
    let fired: usize = contexts
        .iter()
        .map(|c| engine.evaluate(c, &live).fired.len())
        .sum();
    let planned: usize = contexts
        .iter()
        .map(|c| engine.evaluate(c, &live).actions.len())
        .sum();
    ensure!(
        fired >= contexts.len(),
        "too few rules fired ({fired}) for a realistic run"
    );

    for i in 0..WARMUP {
        black_box(engine.evaluate(black_box(&contexts[i % contexts.len()]), &live));
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let ctx = &contexts[i % contexts.len()];
        let start = Instant::now();
        let eval = engine.evaluate(black_box(ctx), black_box(&live));
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        black_box(eval);
    }
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    Ok(json!({
        "rules": RULES,
        "messages": contexts.len(),
        "samples": SAMPLES,
        "rules_fired_per_message": fired as f64 / contexts.len() as f64,
        "actions_planned_per_message": planned as f64 / contexts.len() as f64,
        "compile_us": compile_us,
        "rule_eval_median_us": percentile(&samples, 0.5),
        "rule_eval_p99_us": percentile(&samples, 0.99),
        "rule_eval_mean_us": mean,
        "rule_eval_max_us": samples.last().copied().unwrap_or(0.0),
        "targets": {"rule_eval_p99_us": TARGET_US},
    }))
}
