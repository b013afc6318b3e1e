//! Request bodies serialize to exactly the JSON Meta documents, and parse back for the emulator.

use serde_json::{Value, json};
use teamline_whatsapp::outgoing::*;

fn body(m: &OutgoingMessage) -> Value {
    serde_json::to_value(m).unwrap()
}

fn roundtrips(m: &OutgoingMessage) {
    let bytes = serde_json::to_vec(m).unwrap();
    match MessagesRequest::from_slice(&bytes).unwrap() {
        MessagesRequest::Send(back) => assert_eq!(&*back, m),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn text_with_preview_url() {
    let m = OutgoingMessage::text(
        "34611222333",
        "Your order: https://shop.example.com/o/1",
        true,
    );
    assert_eq!(
        body(&m),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "34611222333",
            "type": "text",
            "text": {"preview_url": true, "body": "Your order: https://shop.example.com/o/1"}
        })
    );
    roundtrips(&m);
}

#[test]
fn any_message_as_a_reply_with_callback_data() {
    let m = OutgoingMessage::text("34611222333", "Sure!", false)
        .reply_to("wamid.HBgLMzQ2MTEyMjIzMzMVAgASGBQzQUY0001")
        .with_callback_data("outbox:42");
    assert_eq!(
        body(&m),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "34611222333",
            "context": {"message_id": "wamid.HBgLMzQ2MTEyMjIzMzMVAgASGBQzQUY0001"},
            "biz_opaque_callback_data": "outbox:42",
            "type": "text",
            "text": {"preview_url": false, "body": "Sure!"}
        })
    );
    let img = OutgoingMessage::image("1", MediaSource::Id("9".into()), None).reply_to("wamid.Q");
    assert_eq!(body(&img)["context"], json!({"message_id": "wamid.Q"}));
    roundtrips(&m);
}

#[test]
fn media_by_id_or_link_with_caption_and_filename() {
    let cases = [
        (
            OutgoingMessage::image(
                "1",
                MediaSource::Id("1479537139650973".into()),
                Some("Box".into()),
            ),
            json!({"type": "image", "image": {"id": "1479537139650973", "caption": "Box"}}),
        ),
        (
            OutgoingMessage::image(
                "1",
                MediaSource::Link("https://cdn.example.com/a.jpg".into()),
                None,
            ),
            json!({"type": "image", "image": {"link": "https://cdn.example.com/a.jpg"}}),
        ),
        (
            OutgoingMessage::video(
                "1",
                MediaSource::Link("https://cdn.example.com/v.mp4".into()),
                Some("Unboxing".into()),
            ),
            json!({"type": "video", "video": {"link": "https://cdn.example.com/v.mp4", "caption": "Unboxing"}}),
        ),
        (
            OutgoingMessage::audio("1", MediaSource::Id("1013859600285441".into())),
            json!({"type": "audio", "audio": {"id": "1013859600285441"}}),
        ),
        (
            OutgoingMessage::document(
                "1",
                MediaSource::Link("https://cdn.example.com/invoice.pdf".into()),
                Some("Invoice".into()),
                Some("invoice-1042.pdf".into()),
            ),
            json!({"type": "document", "document": {"link": "https://cdn.example.com/invoice.pdf", "caption": "Invoice", "filename": "invoice-1042.pdf"}}),
        ),
        (
            OutgoingMessage::sticker("1", MediaSource::Id("798882015472548".into())),
            json!({"type": "sticker", "sticker": {"id": "798882015472548"}}),
        ),
    ];
    for (m, expected) in cases {
        let mut want =
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "1"});
        want.as_object_mut()
            .unwrap()
            .extend(expected.as_object().unwrap().clone());
        assert_eq!(body(&m), want);
        assert_eq!(m.validate(), Ok(()));
        roundtrips(&m);
    }
}

#[test]
fn template_with_header_body_and_button_parameters() {
    let template = Template::new("order_shipped", "en_US")
        .with_component(TemplateComponent::header(vec![TemplateParameter::Image {
            image: MediaObject::new(MediaSource::Link(
                "https://cdn.example.com/parcel.png".into(),
            )),
        }]))
        .with_component(TemplateComponent::body(vec![
            TemplateParameter::text("Ana"),
            TemplateParameter::Currency {
                currency: CurrencyParameter {
                    fallback_value: "$100.99".into(),
                    code: "USD".into(),
                    amount_1000: 100_990,
                },
            },
            TemplateParameter::DateTime {
                date_time: DateTimeParameter {
                    fallback_value: "February 25, 1977".into(),
                },
            },
        ]))
        .with_component(TemplateComponent::quick_reply_button(0, "TRACK_1042"))
        .with_component(TemplateComponent::url_button(1, "1042"));
    assert_eq!(template.parameter_count(), 6);
    let m = OutgoingMessage::template("34611222333", template);
    assert_eq!(
        body(&m),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "34611222333",
            "type": "template",
            "template": {
                "name": "order_shipped",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "header", "parameters": [
                        {"type": "image", "image": {"link": "https://cdn.example.com/parcel.png"}}
                    ]},
                    {"type": "body", "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                        {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}
                    ]},
                    {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [
                        {"type": "payload", "payload": "TRACK_1042"}
                    ]},
                    {"type": "button", "sub_type": "url", "index": "1", "parameters": [
                        {"type": "text", "text": "1042"}
                    ]}
                ]
            }
        })
    );
    roundtrips(&m);

    // Named parameters and a template without components.
    let named =
        Template::new("hello_world", "en_US").with_component(TemplateComponent::body(vec![
            TemplateParameter::named_text("order_id", "1042"),
        ]));
    assert_eq!(
        serde_json::to_value(&named).unwrap()["components"][0]["parameters"][0],
        json!({"type": "text", "text": "1042", "parameter_name": "order_id"})
    );
    assert_eq!(
        serde_json::to_value(Template::new("hello_world", "en_US")).unwrap(),
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
    // The emulator may receive the index as a number; it is accepted.
    let parsed: TemplateComponent = serde_json::from_value(
        json!({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []}),
    )
    .unwrap();
    assert_eq!(parsed.index.as_deref(), Some("0"));
}

#[test]
fn reaction_and_its_removal() {
    let m = OutgoingMessage::reaction("34611222333", "wamid.ABC", "😀");
    assert_eq!(
        body(&m),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "34611222333",
            "type": "reaction",
            "reaction": {"message_id": "wamid.ABC", "emoji": "😀"}
        })
    );
    let removal = OutgoingMessage::reaction("34611222333", "wamid.ABC", "");
    assert_eq!(
        body(&removal)["reaction"],
        json!({"message_id": "wamid.ABC", "emoji": ""})
    );
    roundtrips(&m);
}

#[test]
fn interactive_buttons_and_list() {
    let m = OutgoingMessage::buttons(
        "79161234567",
        "Did your parcel arrive?",
        &[("yes", "Yes"), ("no", "No, not yet")],
    );
    assert_eq!(
        body(&m),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "79161234567",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Did your parcel arrive?"},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No, not yet"}}
                ]}
            }
        })
    );
    assert_eq!(m.validate(), Ok(()));
    roundtrips(&m);

    let list = OutgoingMessage::list(
        "8613800138000",
        "What is wrong with the order?",
        "Choose",
        vec![ListSection {
            title: Some("Returns".into()),
            rows: vec![
                ListRow {
                    id: "damaged".into(),
                    title: "Damaged item".into(),
                    description: Some("Arrived broken".into()),
                },
                ListRow {
                    id: "wrong".into(),
                    title: "Wrong item".into(),
                    description: None,
                },
            ],
        }],
    );
    assert_eq!(
        body(&list)["interactive"],
        json!({
            "type": "list",
            "body": {"text": "What is wrong with the order?"},
            "action": {
                "button": "Choose",
                "sections": [{"title": "Returns", "rows": [
                    {"id": "damaged", "title": "Damaged item", "description": "Arrived broken"},
                    {"id": "wrong", "title": "Wrong item"}
                ]}]
            }
        })
    );
    assert_eq!(list.validate(), Ok(()));
    roundtrips(&list);
}

#[test]
fn read_receipt_and_typing_indicator() {
    assert_eq!(
        serde_json::to_value(ReadReceipt::read("wamid.R")).unwrap(),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.R"})
    );
    let typing = ReadReceipt::typing("wamid.R");
    assert_eq!(
        serde_json::to_value(&typing).unwrap(),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.R", "typing_indicator": {"type": "text"}})
    );
    let parsed = MessagesRequest::from_slice(&serde_json::to_vec(&typing).unwrap()).unwrap();
    assert_eq!(parsed, MessagesRequest::Read(typing));
}

#[test]
fn unknown_types_and_missing_fields_are_refused_when_parsing_requests() {
    for bad in [
        json!({"messaging_product": "whatsapp", "to": "1", "type": "hologram", "hologram": {}}),
        json!({"messaging_product": "whatsapp", "to": "1", "type": "text"}),
        json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}),
        json!({"messaging_product": "whatsapp", "status": "read"}),
    ] {
        assert!(
            MessagesRequest::from_slice(&serde_json::to_vec(&bad).unwrap()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn validation_enforces_documented_limits() {
    let long = "x".repeat(MAX_TEXT_BODY_CHARS + 1);
    assert!(OutgoingMessage::text("1", long, false).validate().is_err());
    // Limits count characters, not bytes.
    assert_eq!(
        OutgoingMessage::text("1", "я".repeat(MAX_TEXT_BODY_CHARS), false).validate(),
        Ok(())
    );
    assert!(OutgoingMessage::text("1", "", false).validate().is_err());
    assert!(OutgoingMessage::text(" ", "hi", false).validate().is_err());
    let caption = "c".repeat(MAX_CAPTION_CHARS + 1);
    assert!(
        OutgoingMessage::image("1", MediaSource::Id("9".into()), Some(caption))
            .validate()
            .is_err()
    );
    let mut audio = OutgoingMessage::audio("1", MediaSource::Id("9".into()));
    if let OutgoingContent::Audio { audio } = &mut audio.content {
        audio.caption = Some("no".into());
    }
    assert!(audio.validate().is_err(), "audio takes no caption");
    let mut both = OutgoingMessage::sticker("1", MediaSource::Id("9".into()));
    if let OutgoingContent::Sticker { sticker } = &mut both.content {
        sticker.link = Some("https://x".into());
    }
    assert!(both.validate().is_err(), "id and link together");
    let four =
        OutgoingMessage::buttons("1", "b", &[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]);
    assert!(four.validate().is_err());
    let long_title = OutgoingMessage::buttons("1", "b", &[("a", "This title is far too long")]);
    assert!(long_title.validate().is_err());
}
