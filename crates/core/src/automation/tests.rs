//! The issue's seed examples end to end through the engine, and property tests.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Time, Weekday, date};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn member(id: &str, waiting: u32) -> MemberLoad {
    MemberLoad {
        id: id.into(),
        online: true,
        capacity: 20,
        assigned: waiting,
        waiting,
        senior: false,
    }
}

fn live() -> LiveState {
    let mut senior = member("lena", 7);
    senior.senior = true;
    LiveState {
        teams: vec![
            Team {
                id: "logistics".into(),
                name: "Logistics".into(),
                members: vec![member("ana", 3), senior, member("bo", 2)],
            },
            Team {
                id: "after-sales".into(),
                name: "After-sales".into(),
                members: vec![member("chen", 1), member("dima", 4)],
            },
        ],
        supervisors: vec!["sam".into()],
        round_robin: RoundRobinState::default(),
    }
}

fn ctx(text: &str, now: &str) -> Context {
    Context {
        now: ts(now),
        event: Event::MessageReceived,
        message: Some(InboundMessage {
            text: text.into(),
            automated: false,
        }),
        conversation: ConversationFacts {
            id: "c1".into(),
            ..ConversationFacts::default()
        },
        contact: ContactFacts {
            id: "34600000001".into(),
            first_contact_at: Some(ts("2026-01-01T10:00:00Z")),
            interactions: 2,
            ..ContactFacts::default()
        },
    }
}

fn engine(settings: &AutomationSettings) -> CompiledRules {
    CompiledRules::compile(settings).expect("settings compile")
}

fn assigns(e: &Evaluation) -> Vec<(Option<&str>, Option<&str>)> {
    e.planned()
        .filter_map(|p| match p {
            Planned::Assign { team, member } => Some((team.as_deref(), member.as_deref())),
            _ => None,
        })
        .collect()
}

fn replies(e: &Evaluation) -> Vec<&str> {
    e.planned()
        .filter_map(|p| match p {
            Planned::SendAutoReply { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn notified(e: &Evaluation) -> Vec<(Vec<String>, String)> {
    e.planned()
        .filter_map(|p| match p {
            Planned::Notify { members, text } => Some((members.clone(), text.clone())),
            _ => None,
        })
        .collect()
}

const NOON: &str = "2026-11-18T12:00:00Z";

#[test]
fn seed_order_chase_goes_to_logistics_with_30s_sla() {
    let e = engine(&default_settings("Europe/Madrid"))
        .evaluate(&ctx("Hola! #order-chase pedido 123", NOON), &live());
    assert_eq!(assigns(&e), [(Some("logistics"), Some("bo"))]);
    assert!(e.planned().any(|p| *p
        == Planned::SetSla {
            target: SlaTarget {
                first_response_secs: Some(30),
                next_response_secs: None
            }
        }));
    assert_eq!(e.fired[0].rule_id, "default-order-chase");
    assert_eq!(e.fired[0].reason, "hashtag #order-chase");
}

#[test]
fn seed_returns_goes_to_after_sales_with_2h_sla() {
    let e =
        engine(&default_settings("UTC")).evaluate(&ctx("I want a refund #RETURNS", NOON), &live());
    assert_eq!(assigns(&e), [(Some("after-sales"), Some("chen"))]);
    assert!(e.planned().any(|p| matches!(p,
        Planned::SetSla { target } if target.first_response_secs == Some(7200))));
    assert!(e.planned().any(|p| *p
        == Planned::AddLabel {
            label: "returns".into()
        }));
}

#[test]
fn seed_urgent_notifies_supervisors() {
    let e = engine(&default_settings("UTC"))
        .evaluate(&ctx("#urgent the parcel is damaged", NOON), &live());
    assert_eq!(
        notified(&e),
        [(vec!["sam".to_string()], "Urgent conversation".to_string())]
    );
    assert!(e.planned().any(|p| *p
        == Planned::SetPriority {
            priority: Priority::Urgent
        }));
    assert!(assigns(&e).is_empty());
}

#[test]
fn seed_member_with_16_waiting_sends_the_next_conversation_to_one_under_5() {
    let mut settings = default_settings("UTC");
    settings.rules[0].actions[1] = Action::AssignRoundRobin {
        team: "logistics".into(),
    };
    let mut l = live();
    l.teams[0].members = vec![member("ana", 9), member("busy", 16), member("light", 4)];
    // Round robin would pick "busy" next.
    l.round_robin.last.insert("logistics".into(), "ana".into());
    let e = engine(&settings).evaluate(&ctx("#order-chase", NOON), &l);
    assert_eq!(assigns(&e), [(Some("logistics"), Some("light"))]);
    assert_eq!(e.round_robin.last["logistics"], "light");
    assert!(e.actions.iter().any(|a| a.reason.contains("overflow")));
}

#[test]
fn seed_600_usd_customer_goes_to_a_senior_member() {
    let mut c = ctx("#order-chase where is it", NOON);
    c.contact
        .attributes
        .insert("monthly_spend_usd".into(), AttributeValue::Number(600.0));
    let e = engine(&default_settings("UTC")).evaluate(&c, &live());
    // lena has the most waiting but is the only senior.
    assert_eq!(assigns(&e), [(Some("logistics"), Some("lena"))]);
    c.contact
        .attributes
        .insert("monthly_spend_usd".into(), AttributeValue::Number(400.0));
    let e = engine(&default_settings("UTC")).evaluate(&c, &live());
    assert_eq!(assigns(&e), [(Some("logistics"), Some("bo"))]);
}

fn with_hours_and_away() -> AutomationSettings {
    let mut s = default_settings("Europe/Madrid");
    s.business_hours.ranges = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ]
    .into_iter()
    .map(|day| OpenRange {
        day,
        start: Time::constant(9, 0, 0, 0),
        end: Time::constant(18, 0, 0, 0),
    })
    .collect();
    for r in &mut s.rules {
        if r.id == "default-away" {
            r.enabled = true;
        }
    }
    s
}

#[test]
fn seed_away_message_once_per_cooldown_with_the_reply_estimate() {
    let e = engine(&with_hours_and_away());
    // Wed 2026-11-18 06:30 Madrid (05:30Z): opens at 09:00 → 2.5 h → "3 hours".
    let mut c = ctx("hello?", "2026-11-18T05:30:00Z");
    let first = e.evaluate(&c, &live());
    assert_eq!(
        replies(&first),
        ["Thanks for your message! We are closed right now and will reply within 3 hours."]
    );
    c.contact.auto_replies_sent.push(SentAutoReply {
        key: "away".into(),
        at: c.now,
    });
    // Same night, again: nothing.
    c.now = ts("2026-11-18T07:00:00Z");
    let second = e.evaluate(&c, &live());
    assert!(replies(&second).is_empty());
    assert!(second.skipped.iter().any(|s| s.why.contains("recently")));
    // Outside hours again 12 h after the first: the cooldown is over.
    c.now = ts("2026-11-18T17:30:00Z");
    assert_eq!(replies(&e.evaluate(&c, &live())).len(), 1);
    // Inside hours: no away message.
    c.contact.auto_replies_sent.clear();
    c.now = ts("2026-11-18T10:00:00Z");
    assert!(replies(&e.evaluate(&c, &live())).is_empty());
}

#[test]
fn auto_replies_never_answer_an_auto_reply() {
    let e = engine(&with_hours_and_away());
    let mut c = ctx(
        "Автоответ: я в отпуске до понедельника",
        "2026-11-18T05:30:00Z",
    );
    let ev = e.evaluate(&c, &live());
    assert!(replies(&ev).is_empty());
    assert!(ev.automated_inbound.is_some());
    c.message = Some(InboundMessage {
        text: "ok".into(),
        automated: true,
    });
    assert!(replies(&e.evaluate(&c, &live())).is_empty());
    c.message = Some(InboundMessage {
        text: "ok".into(),
        automated: false,
    });
    assert_eq!(replies(&e.evaluate(&c, &live())).len(), 1);
}

#[test]
fn greeting_for_new_customers_is_one_auto_reply_per_message() {
    let mut s = with_hours_and_away();
    for r in &mut s.rules {
        r.enabled = true;
    }
    let e = engine(&s);
    let mut c = ctx("hi", "2026-11-18T05:30:00Z");
    c.contact.first_contact_at = None;
    let ev = e.evaluate(&c, &live());
    // Away (order 50) wins over greeting (order 60); the greeting is listed as skipped.
    assert_eq!(replies(&ev).len(), 1);
    assert!(replies(&ev)[0].starts_with("Thanks"));
    assert!(ev.skipped.iter().any(|s| s.action == "auto-reply greeting"));
    c.now = ts("2026-11-18T10:00:00Z");
    assert!(replies(&e.evaluate(&c, &live()))[0].starts_with("Welcome"));
    // And the automatic label says so.
    assert!(e.evaluate(&c, &live()).planned().any(|p| *p
        == Planned::AddLabel {
            label: "New customer".into()
        }));
}

fn faq_settings() -> AutomationSettings {
    let mut s = default_settings("UTC");
    s.faq.enabled = true;
    s.faq.handoff_team = Some("after-sales".into());
    s.faq.entries = vec![FaqEntry {
        id: "delivery".into(),
        question: "How much is delivery?".into(),
        answer: "Delivery costs 5 EUR.".into(),
        keywords: vec!["delivery".into(), "достав*".into(), "运费".into()],
    }];
    s
}

#[test]
fn seed_faq_answers_and_talk_to_a_person_hands_off() {
    let e = engine(&faq_settings());
    let ev = e.evaluate(&ctx("Сколько стоит доставка?", NOON), &live());
    assert_eq!(
        replies(&ev),
        ["Delivery costs 5 EUR.\n\nReply \"agent\" to talk to a person."]
    );
    assert!(assigns(&ev).is_empty());
    for text in ["I want to talk to a person", "позовите оператора", "转人工"] {
        let ev = e.evaluate(&ctx(text, NOON), &live());
        assert_eq!(
            assigns(&ev),
            [(Some("after-sales"), Some("chen"))],
            "{text}"
        );
        let n = notified(&ev);
        assert!(n.contains(&(
            vec!["chen".to_string()],
            "The customer asks to talk to a person".to_string()
        )));
        assert!(n.contains(&(
            vec!["sam".to_string()],
            "The customer asks to talk to a person".to_string()
        )));
        assert_eq!(replies(&ev), ["A person from our team will reply shortly."]);
    }
    // Once a person has the conversation the bot stays quiet, but a hand-off still notifies.
    let mut c = ctx("delivery?", NOON);
    c.conversation.assignee = Some("dima".into());
    assert!(replies(&e.evaluate(&c, &live())).is_empty());
    c.message = Some(InboundMessage {
        text: "agent please".into(),
        automated: false,
    });
    let ev = e.evaluate(&c, &live());
    assert!(assigns(&ev).is_empty());
    assert!(notified(&ev).contains(&(
        vec!["dima".to_string()],
        "The customer asks to talk to a person".to_string()
    )));
}

fn rule(id: &str, order: i32, mode: Match, items: Vec<Condition>, actions: Vec<Action>) -> Rule {
    Rule {
        id: id.into(),
        name: id.into(),
        enabled: true,
        order,
        trigger: Trigger::MessageReceived,
        conditions: Conditions { mode, items },
        actions,
        stop_processing: false,
    }
}

fn label(l: &str) -> Action {
    Action::AddLabel { label: l.into() }
}

#[test]
fn keywords_attributes_any_all_order_and_stop() {
    let mut s = default_settings("UTC");
    s.rules = vec![
        rule(
            "kw",
            1,
            Match::Any,
            vec![Condition::Keyword {
                any: vec!["refund".into(), "возврат".into(), "退款".into()],
            }],
            vec![label("refund")],
        ),
        rule(
            "gold",
            2,
            Match::All,
            vec![
                Condition::Attribute {
                    key: "tier".into(),
                    test: AttributeTest::TextEquals("Gold".into()),
                },
                Condition::Attribute {
                    key: "orders".into(),
                    test: AttributeTest::Gt(2.0),
                },
                Condition::Attribute {
                    key: "wholesale".into(),
                    test: AttributeTest::Is(false),
                },
            ],
            vec![label("gold")],
        ),
        Rule {
            stop_processing: true,
            ..rule(
                "stop",
                3,
                Match::All,
                vec![Condition::Label {
                    label: "REFUND".into(),
                    present: true,
                }],
                vec![label("stopped")],
            )
        },
        rule("after-stop", 4, Match::All, vec![], vec![label("never")]),
    ];
    let e = engine(&s);
    let mut c = ctx("请帮我退款", NOON);
    c.contact.attributes = BTreeMap::from([
        ("tier".into(), AttributeValue::Text("gold".into())),
        ("orders".into(), AttributeValue::Number(3.0)),
        ("wholesale".into(), AttributeValue::Bool(false)),
    ]);
    let ev = e.evaluate(&c, &live());
    let labels: Vec<&str> = ev
        .planned()
        .filter_map(|p| match p {
            Planned::AddLabel { label } => Some(label.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(labels, ["refund", "gold", "stopped"]);
    assert_eq!(ev.fired[0].reason, "keyword \"退款\"");
    assert_eq!(
        ev.fired[1].reason,
        "tier is \"Gold\" and orders > 2 and wholesale is false"
    );
    c.message = Some(InboundMessage {
        text: "Хочу ВОЗВРАТ".into(),
        automated: false,
    });
    c.contact
        .attributes
        .insert("orders".into(), AttributeValue::Number(2.0));
    let ev = e.evaluate(&c, &live());
    assert_eq!(
        ev.fired
            .iter()
            .map(|f| f.rule_id.as_str())
            .collect::<Vec<_>>(),
        ["kw", "stop"]
    );
    c.message = Some(InboundMessage {
        text: "refunded?".into(),
        automated: false,
    });
    assert_eq!(
        e.evaluate(&c, &live())
            .fired
            .iter()
            .map(|f| f.rule_id.as_str())
            .collect::<Vec<_>>(),
        ["after-stop"]
    );
}

#[test]
fn first_assignment_wins_and_existing_assignee_is_kept() {
    let e = engine(&default_settings("UTC"));
    let ev = e.evaluate(&ctx("#returns #order-chase", NOON), &live());
    assert_eq!(assigns(&ev), [(Some("logistics"), Some("bo"))]);
    assert!(
        ev.skipped
            .iter()
            .any(|s| s.action == "assign to after-sales")
    );
    // Both SLAs apply: the strictest first-response target.
    assert!(ev.planned().any(
        |p| matches!(p, Planned::SetSla { target } if target.first_response_secs == Some(30))
    ));
    let mut c = ctx("#returns", NOON);
    c.conversation.assignee = Some("ana".into());
    let ev = e.evaluate(&c, &live());
    assert!(assigns(&ev).is_empty());
}

#[test]
fn timers_label_and_sla_triggers() {
    let mut s = default_settings("UTC");
    s.rules.push(Rule {
        trigger: Trigger::NoReply { after_secs: 3600 },
        ..rule(
            "nudge",
            100,
            Match::All,
            vec![],
            vec![Action::Notify {
                to: NotifyTarget::Assignee,
                text: "waiting 1 h".into(),
            }],
        )
    });
    s.rules.push(Rule {
        trigger: Trigger::LabelAdded {
            label: Some("VIP".into()),
        },
        ..rule(
            "vip",
            101,
            Match::All,
            vec![],
            vec![Action::SetPriority {
                priority: Priority::High,
            }],
        )
    });
    let e = engine(&s);
    let mut c = ctx("", NOON);
    c.message = None;
    c.conversation.assignee = Some("ana".into());
    c.conversation.unanswered_since = Some(ts("2026-11-18T11:00:00Z"));
    c.event = Event::NoReplyTick {
        previous_tick: Some(ts("2026-11-18T11:59:00Z")),
    };
    assert_eq!(
        notified(&e.evaluate(&c, &live())),
        [(vec!["ana".to_string()], "waiting 1 h".to_string())]
    );
    // The next tick does not fire again.
    c.now = ts("2026-11-18T12:01:00Z");
    c.event = Event::NoReplyTick {
        previous_tick: Some(ts(NOON)),
    };
    assert!(notified(&e.evaluate(&c, &live())).is_empty());
    c.event = Event::LabelAdded {
        label: "vip".into(),
    };
    assert!(e.evaluate(&c, &live()).planned().any(|p| *p
        == Planned::SetPriority {
            priority: Priority::High
        }));
    c.event = Event::SlaDue {
        kind: SlaKind::FirstResponse,
    };
    let n = notified(&e.evaluate(&c, &live()));
    assert_eq!(
        n,
        [
            (vec!["ana".to_string()], "SLA breached".to_string()),
            (vec!["sam".to_string()], "SLA breached".to_string())
        ]
    );
}

#[test]
fn business_hours_and_member_load_conditions() {
    let mut s = with_hours_and_away();
    s.rules = vec![
        rule(
            "closed",
            1,
            Match::All,
            vec![Condition::BusinessHours { open: false }],
            vec![label("after-hours")],
        ),
        rule(
            "overloaded",
            2,
            Match::All,
            vec![Condition::AssigneeWaiting {
                cmp: Comparison::Gt,
                value: 5,
            }],
            vec![label("assignee-busy")],
        ),
        rule(
            "nobody",
            3,
            Match::All,
            vec![Condition::TeamAvailable {
                team: "after-sales".into(),
                available: false,
            }],
            vec![label("no-after-sales")],
        ),
    ];
    let e = engine(&s);
    let mut c = ctx("hi", "2026-11-21T10:00:00Z"); // Saturday
    c.conversation.assignee = Some("lena".into());
    let mut l = live();
    l.teams[1].members.iter_mut().for_each(|m| m.online = false);
    let ids: Vec<String> = e
        .evaluate(&c, &l)
        .fired
        .into_iter()
        .map(|f| f.rule_id)
        .collect();
    assert_eq!(ids, ["closed", "overloaded", "nobody"]);
    c.now = ts("2026-11-20T10:00:00Z"); // Friday 11:00 Madrid
    c.conversation.assignee = Some("bo".into());
    assert!(e.evaluate(&c, &live()).fired.is_empty());
}

#[test]
fn settings_round_trip_as_json_and_bad_settings_are_refused() {
    let s = with_hours_and_away();
    let json = serde_json::to_string(&s).expect("json");
    assert!(
        json.contains(r##"{"type":"hashtag","tag":"#order-chase"}"##),
        "{json}"
    );
    assert!(
        json.contains(r#"{"type":"set_sla","first_response_secs":30}"#),
        "{json}"
    );
    let back: AutomationSettings = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, s);
    let mut bad = s.clone();
    bad.business_hours.time_zone = "Mars/Olympus".into();
    assert!(matches!(
        CompiledRules::compile(&bad),
        Err(CompileError::TimeZone(_))
    ));
    let mut bad = s.clone();
    bad.rules.push(bad.rules[0].clone());
    assert!(matches!(
        CompiledRules::compile(&bad),
        Err(CompileError::DuplicateRuleId(_))
    ));
    let mut bad = s;
    bad.rules[0].conditions.items = vec![Condition::Keyword {
        any: vec![" ".into()],
    }];
    assert!(matches!(
        CompiledRules::compile(&bad),
        Err(CompileError::EmptyKeywords { .. })
    ));
}

#[test]
fn dry_run_lists_fired_rules_and_reasons() {
    let ev = dry_run(
        &default_settings("UTC"),
        &ctx("#urgent #order-chase", NOON),
        &live(),
    )
    .expect("dry run");
    let fired: Vec<&str> = ev.fired.iter().map(|f| f.rule_name.as_str()).collect();
    assert_eq!(fired, ["#order-chase → logistics", "#urgent → supervisors"]);
    assert!(ev.actions.iter().all(|a| !a.reason.is_empty()));
    let json = serde_json::to_value(&ev).expect("json");
    assert_eq!(json["actions"][0]["action"]["type"], "add_label");
}

// ---- properties ----

fn arb_member() -> impl Strategy<Value = MemberLoad> {
    (any::<bool>(), 0u32..6, 0u32..8, 0u32..25, any::<bool>()).prop_map(
        |(online, capacity, assigned, waiting, senior)| MemberLoad {
            id: String::new(),
            online,
            capacity,
            assigned,
            waiting,
            senior,
        },
    )
}

fn arb_team() -> impl Strategy<Value = Team> {
    prop::collection::vec(arb_member(), 0..8).prop_map(|mut ms| {
        for (i, m) in ms.iter_mut().enumerate() {
            m.id = format!("m{i}");
        }
        Team {
            id: "t".into(),
            name: "T".into(),
            members: ms,
        }
    })
}

proptest! {
    #[test]
    fn assignment_never_picks_an_offline_or_full_member(
        team in arb_team(),
        rr in any::<bool>(),
        vip in any::<bool>(),
        above in 0u32..20,
        below in 0u32..20,
        last in prop::option::of(0usize..8),
        rounds in 1usize..6,
    ) {
        let policy = AssignmentPolicy { overflow_above: above, overflow_below: below, ..AssignmentPolicy::default() };
        let mut state = RoundRobinState::default();
        if let Some(l) = last {
            state.last.insert("t".into(), format!("m{l}"));
        }
        let strategy = if rr { assign::Strategy::RoundRobin } else { assign::Strategy::LeastLoaded };
        for _ in 0..rounds {
            let pick = pick_member(&team, strategy, &policy, vip, &mut state);
            match pick.member {
                Some(id) => {
                    let m = team.members.iter().find(|m| m.id == id).expect("a team member");
                    prop_assert!(m.online && m.assigned < m.capacity);
                    let overflow = team.members.iter().any(|m| m.waiting > above);
                    let light = team.members.iter().any(|m| m.available() && m.waiting < below
                        && (!vip || m.senior || !team.members.iter().any(|s| s.available() && s.senior)));
                    if overflow && light {
                        prop_assert!(m.waiting < below);
                    } else if overflow {
                        prop_assert!(m.waiting <= above);
                    }
                }
                None => prop_assert!(team.members.iter().all(|m| !m.available()) || team.members.iter().any(|m| m.waiting > above)),
            }
        }
    }

    #[test]
    fn an_auto_reply_is_never_sent_twice_within_its_cooldown(
        gaps in prop::collection::vec(0i64..30_000, 1..40),
        cooldown in 60u32..50_000,
    ) {
        let mut s = default_settings("UTC");
        s.auto_replies.cooldown_secs = cooldown;
        s.rules = vec![rule("ack", 1, Match::All, vec![], vec![Action::AutoReply {
            key: "ack".into(), text: "got it".into(), cooldown_secs: None, language: Language::En,
        }])];
        let e = engine(&s);
        let mut c = ctx("hello", NOON);
        let mut sends: Vec<Timestamp> = Vec::new();
        for g in gaps {
            c.now += SignedDuration::from_secs(g);
            if !replies(&e.evaluate(&c, &LiveState::default())).is_empty() {
                sends.push(c.now);
                c.contact.auto_replies_sent.push(SentAutoReply { key: "ack".into(), at: c.now });
            }
        }
        prop_assert!(!sends.is_empty());
        for w in sends.windows(2) {
            prop_assert!(w[1].duration_since(w[0]) >= SignedDuration::from_secs(i64::from(cooldown)));
        }
    }

    #[test]
    fn next_open_is_open_and_nothing_earlier_is(
        zone in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai"]),
        ranges in prop::collection::vec((0usize..7, 0i8..24, 0i8..4, 0i8..24, 0i8..4), 0..5),
        holidays in prop::collection::vec(0i32..60, 0..4),
        at_secs in 0i64..(300 * 86_400),
    ) {
        const DAYS: [Weekday; 7] = [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday, Weekday::Sunday];
        let hours = BusinessHours {
            time_zone: zone.into(),
            ranges: ranges.iter().map(|&(d, sh, sq, eh, eq)| OpenRange {
                day: DAYS[d],
                start: Time::new(sh, sq * 15, 0, 0).expect("time"),
                end: Time::new(eh, eq * 15, 0, 0).expect("time"),
            }).collect(),
            holidays: holidays.iter().map(|&d| date(2026, 2, 1) + jiff::Span::new().days(d)).collect(),
        };
        let h = hours.compile().expect("tz");
        // Around 2026's spring and autumn DST changes in both hemispheres.
        let at = ts("2026-02-15T00:00:00Z") + SignedDuration::from_secs(at_secs);
        match h.next_open(at) {
            Some(open) => {
                prop_assert!(open >= at);
                prop_assert!(h.is_open(open));
                let span = open.duration_since(at).as_secs();
                for k in 0..64 {
                    let probe = at + SignedDuration::from_secs(span * k / 64);
                    prop_assert!(probe >= open || !h.is_open(probe), "open at {} before {}", probe, open);
                }
                if open > at {
                    prop_assert!(!h.is_open(open - SignedDuration::from_secs(1)));
                }
            }
            None => {
                for k in 0..200 {
                    prop_assert!(!h.is_open(at + SignedDuration::from_hours(k * 7)));
                }
            }
        }
    }

    #[test]
    fn the_broadcast_planner_reaches_everyone_once(
        audience in prop::collection::vec(0u32..60, 0..80),
        opted in prop::collection::btree_set(0u32..60, 0..10),
        cap in 1u32..30,
        batch in 1usize..15,
    ) {
        let pacing = Pacing::default();
        let audience: Vec<String> = audience.into_iter().map(|i| format!("r{i}")).collect();
        let opted: BTreeSet<String> = opted.into_iter().map(|i| format!("r{i}")).collect();
        let mut attempted = BTreeSet::new();
        let mut sent_today = 0;
        for _day in 0..200 {
            loop {
                let plan = pacing.plan(&audience, &attempted, &opted, cap, sent_today, batch);
                let n = plan.send.len() as u32;
                prop_assert_eq!(&plan, &pacing.plan(&audience, &attempted, &opted, cap, sent_today, batch));
                prop_assert!(plan.send.len() <= batch && sent_today as usize + plan.send.len() <= cap as usize);
                if plan.send.is_empty() {
                    break;
                }
                for r in plan.send {
                    prop_assert!(!opted.contains(r));
                    prop_assert!(attempted.insert(r.to_string()));
                }
                sent_today += n;
            }
            sent_today = 0;
        }
        let expected: BTreeSet<String> = audience.iter().filter(|r| !opted.contains(*r)).cloned().collect();
        prop_assert_eq!(attempted, expected);
    }
}

/// Every type the UI will import renders to TypeScript (the app's bindings test lists them).
#[cfg(feature = "ts")]
#[test]
fn automation_types_render_to_typescript() {
    use ts_rs::{Config, TS};
    fn render<T: TS + 'static>() -> String {
        T::export_to_string(&Config::new()).expect("renders")
    }
    let all = [
        render::<AutomationSettings>(),
        render::<Rule>(),
        render::<Trigger>(),
        render::<Condition>(),
        render::<AttributeTest>(),
        render::<AttributeValue>(),
        render::<Action>(),
        render::<Context>(),
        render::<LiveState>(),
        render::<Evaluation>(),
        render::<PlannedAction>(),
        render::<BusinessHours>(),
        render::<SlaState>(),
        render::<SlaFacts>(),
        render::<Pacing>(),
        render::<broadcast::DayStats>(),
        render::<FaqBot>(),
        render::<AutoLabels>(),
    ];
    assert!(all[6].contains("first_response_secs"), "{}", all[6]);
    assert!(all[7].contains("now: string"), "{}", all[7]);
    for t in &all {
        assert!(t.contains("export type"), "{t}");
    }
}

const VOCAB: [&str; 12] = [
    "Order",
    "refund",
    "ЗАКАЗ",
    "возврат",
    "Ёлка",
    "退货",
    "运费",
    "#order-chase",
    "#Заказ",
    "#退货",
    "hello",
    "доставка",
];

proptest! {
    #[test]
    fn matching_ignores_case_in_every_script(
        words in prop::collection::vec((0usize..VOCAB.len(), any::<bool>()), 0..8),
        keyword in 0usize..VOCAB.len(),
    ) {
        let text: Vec<String> = words
            .iter()
            .map(|&(i, upper)| if upper { VOCAB[i].to_uppercase() } else { VOCAB[i].to_lowercase() })
            .collect();
        let message = text.join(" ");
        let lower = text::PreparedText::new(&message.to_lowercase());
        let as_sent = text::PreparedText::new(&message);
        let raw = VOCAB[keyword];
        if raw.starts_with('#') {
            let tag = text::normalize_tag(raw);
            prop_assert_eq!(as_sent.has_tag(&tag), lower.has_tag(&tag));
            let present = words
                .iter()
                .any(|&(i, _)| VOCAB[i].starts_with('#') && text::normalize_tag(VOCAB[i]) == tag);
            prop_assert_eq!(as_sent.has_tag(&tag), present);
        } else {
            let k = text::classify(&raw.to_uppercase()).expect("keyword");
            prop_assert_eq!(as_sent.matches(&k), lower.matches(&k));
            let want = text::fold(raw);
            let present = words.iter().any(|&(i, _)| {
                let f = text::fold(VOCAB[i]);
                if want.chars().any(text::is_cjk) {
                    f.contains(&want)
                } else {
                    text::words(&f).any(|w| w == want)
                }
            });
            prop_assert_eq!(as_sent.matches(&k), present);
        }
    }
}
