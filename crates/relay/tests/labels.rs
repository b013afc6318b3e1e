//! The team's labels over real HTTP: colours, one spelling per label, the limit of 20
//! with a clear refusal, and who may create, recolour and delete.

mod commands_env;

use commands_env::*;
use serde_json::json;
use teamline_relay::labels::MAX_TEAM_LABELS;

async fn label_names(env: &Env, d: &Device) -> Vec<String> {
    let (s, v) = call(env, d, "GET", "/v1/labels", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["limit"], MAX_TEAM_LABELS);
    v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn labels_have_colours_one_spelling_a_limit_of_20_and_managers() {
    let env = Env::start().await;
    let admin = env.device("admin", "Olga").await;
    let agent = env.device("standard", "Wei").await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let (_, conv) = env
        .customer_writes(
            &mut watch,
            json!({"from": "34600111000", "name": "Pedro", "text": "Hola"}),
        )
        .await;
    env.command(&agent, json!({"type": "claim", "conversation_id": conv}))
        .await;

    // A manager creates "VIP" in gold; every device hears of it.
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/labels",
        Some(json!({"name": "VIP", "colour": "#ca8a04"})),
    )
    .await;
    assert_eq!((s, v["colour"].clone()), (201, json!("#ca8a04")), "{v}");
    let saved = watch
        .until(|e| e["kind"] == "label.saved" && e["payload"]["label"]["name"] == "VIP")
        .await;
    assert_eq!(
        saved["payload"]["label"],
        json!({"name": "VIP", "colour": "#ca8a04"})
    );
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/labels",
        Some(json!({"name": "vip", "colour": "#000000"})),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (409, json!("label_exists")));
    // Members who may not manage labels neither create, recolour nor delete.
    for (method, path, body) in [
        (
            "POST",
            "/v1/labels",
            Some(json!({"name": "Mine", "colour": "#000000"})),
        ),
        (
            "PATCH",
            "/v1/labels/VIP",
            Some(json!({"colour": "#000000"})),
        ),
        ("DELETE", "/v1/labels/VIP", None),
    ] {
        let (s, v) = call(&env, &agent, method, path, body).await;
        assert_eq!(s, 403, "{method} {path}: {v}");
    }

    // Applied as "vip", kept under the team's spelling.
    let (s, v) = env
        .command(
            &agent,
            json!({"type": "add_label", "conversation_id": conv, "label": "vip"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let labels = v["result"]["labels"].as_array().unwrap().clone();
    assert!(
        labels.contains(&json!("VIP")) && !labels.contains(&json!("vip")),
        "{labels:?}"
    );

    // Fill the team up to the limit; the next new name is refused in plain words and the
    // conversation keeps what it had.
    let have = label_names(&env, &admin).await.len();
    for i in have..MAX_TEAM_LABELS {
        let (s, v) = call(
            &env,
            &admin,
            "POST",
            "/v1/labels",
            Some(json!({"name": format!("step-{i}"), "colour": "#475569"})),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    assert_eq!(label_names(&env, &admin).await.len(), MAX_TEAM_LABELS);
    let (s, v) = env
        .command(
            &agent,
            json!({"type": "add_label", "conversation_id": conv, "label": "one-too-many"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "label_limit");
    assert_eq!(
        v["message"],
        "The team already has 20 labels; remove one first."
    );
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/labels",
        Some(json!({"name": "one-too-many", "colour": "#475569"})),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (409, json!("label_limit")));
    // An existing label still applies at the limit.
    let (s, v) = env
        .command(
            &agent,
            json!({"type": "add_label", "conversation_id": conv, "label": "STEP-19"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Recolour, then delete "VIP": it leaves the conversation too, and makes room.
    let (s, v) = call(
        &env,
        &admin,
        "PATCH",
        "/v1/labels/vip",
        Some(json!({"colour": "#db2777"})),
    )
    .await;
    assert_eq!((s, v["colour"].clone()), (200, json!("#db2777")), "{v}");
    watch
        .until(|e| e["kind"] == "label.saved" && e["payload"]["label"]["colour"] == "#db2777")
        .await;
    let (s, v) = call(&env, &admin, "DELETE", "/v1/labels/VIP", None).await;
    assert_eq!((s, v["conversations"].clone()), (200, json!(1)), "{v}");
    let changed = watch
        .until(|e| e["kind"] == "labels.changed" && e["payload"]["removed"] == "VIP")
        .await;
    let left = changed["payload"]["labels"].as_array().unwrap().clone();
    assert!(
        left.contains(&json!("step-19")) && !left.contains(&json!("VIP")),
        "{left:?}"
    );
    watch
        .until(|e| e["kind"] == "label.deleted" && e["payload"]["name"] == "VIP")
        .await;
    let (s, v) = env
        .command(
            &agent,
            json!({"type": "add_label", "conversation_id": conv, "label": "one-too-many"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Bad input is refused with a reason.
    let (s, v) = call(
        &env,
        &admin,
        "PATCH",
        "/v1/labels/step-0",
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (400, json!("invalid_request")));
}
