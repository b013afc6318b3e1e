//! Meta's error bodies parse, and each documented code lands in the right class.

use serde_json::json;
use teamline_whatsapp::error::*;

fn meta_body(code: i64, subcode: Option<i64>) -> Vec<u8> {
    let mut error = json!({
        "message": format!("(#{code}) {}", title(code).unwrap_or("Unknown")),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": format!("details for {code}")},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    serde_json::to_vec(&json!({ "error": error })).unwrap()
}

#[test]
fn error_body_parses_every_field() {
    let e = ApiError::from_body(Some(400), &meta_body(131047, Some(2494010))).unwrap();
    assert_eq!(e.http_status, Some(400));
    assert_eq!(e.code, 131047);
    assert_eq!(e.error_subcode, Some(2494010));
    assert_eq!(e.message, "(#131047) Re-engagement message");
    assert_eq!(e.error_type.as_deref(), Some("OAuthException"));
    assert_eq!(e.details.as_deref(), Some("details for 131047"));
    assert_eq!(e.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
    assert_eq!(e.class(), ErrorClass::WindowClosed);
    assert!(e.describe().contains("template"));
    assert!(e.to_string().contains("131047"));

    // Minimal bodies (no error_data, no trace id) still parse.
    let min = ApiError::from_body(Some(401), br#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}"#)
        .unwrap();
    assert_eq!(
        (min.code, min.details.clone(), min.class()),
        (190, None, ErrorClass::Reauthorise)
    );
    // Not Meta's shape.
    assert_eq!(
        ApiError::from_body(Some(502), b"<html>Bad Gateway</html>"),
        None
    );
    assert_eq!(
        ApiError::from_body(Some(400), br#"{"error":"Invalid request"}"#),
        None
    );
}

#[test]
fn each_listed_code_is_classified() {
    let cases: &[(i64, u16, ErrorClass)] = &[
        (130429, 400, ErrorClass::RetryLater),
        (131057, 400, ErrorClass::RetryLater),
        (131016, 503, ErrorClass::RetryLater),
        (2, 503, ErrorClass::RetryLater),
        (131056, 400, ErrorClass::PairRate),
        (131047, 400, ErrorClass::WindowClosed),
        (190, 401, ErrorClass::Reauthorise),
        (0, 401, ErrorClass::Reauthorise),
        (131026, 400, ErrorClass::Permanent),
        (131051, 400, ErrorClass::Permanent),
        (132000, 400, ErrorClass::Permanent),
        (132001, 404, ErrorClass::Permanent),
        (100, 400, ErrorClass::Permanent),
        // Unknown code with a 5xx status: the status decides.
        (999_999, 500, ErrorClass::RetryLater),
        (999_999, 400, ErrorClass::Permanent),
    ];
    for &(code, status, class) in cases {
        let e = ApiError::from_body(Some(status), &meta_body(code, None)).unwrap();
        assert_eq!(e.class(), class, "code {code} HTTP {status}");
        assert_eq!(
            GraphError::from(e).class(),
            class,
            "code {code} via GraphError"
        );
        assert_eq!(classify(code, Some(status)), class);
    }
    assert!(ErrorClass::RetryLater.is_retryable() && ErrorClass::PairRate.is_retryable());
    assert!(!ErrorClass::WindowClosed.is_retryable());
    assert!(!ErrorClass::Reauthorise.is_retryable() && !ErrorClass::Permanent.is_retryable());
}

#[test]
fn errors_without_a_meta_body_classify_by_transport_and_status() {
    let timeout = GraphError::Transport {
        kind: TransportKind::Timeout,
        message: "timed out".into(),
    };
    assert_eq!(timeout.class(), ErrorClass::RetryLater);
    assert_eq!(timeout.code(), None);
    assert_eq!(
        GraphError::Http { status: 502 }.class(),
        ErrorClass::RetryLater
    );
    assert_eq!(
        GraphError::Http { status: 429 }.class(),
        ErrorClass::RetryLater
    );
    assert_eq!(
        GraphError::Http { status: 401 }.class(),
        ErrorClass::Reauthorise
    );
    assert_eq!(
        GraphError::Http { status: 404 }.class(),
        ErrorClass::Permanent
    );
    let odd = GraphError::UnexpectedResponse {
        status: 200,
        reason: "x".into(),
    };
    assert_eq!(
        odd.class(),
        ErrorClass::Permanent,
        "may have been sent; never retried blindly"
    );
}

#[test]
fn common_codes_have_titles_and_plain_descriptions() {
    for code in [
        0, 2, 4, 10, 100, 190, 130429, 131026, 131047, 131051, 131056, 131057, 132000, 132001,
        131016,
    ] {
        assert!(title(code).is_some(), "title for {code}");
        let d = describe(code).unwrap();
        assert!(
            d.len() > 20 && !d.contains('#'),
            "plain description for {code}: {d}"
        );
    }
    assert_eq!(
        title(131056),
        Some("(Business Account, Consumer Account) pair rate limit hit")
    );
    assert_eq!(describe(123_456_789), None);
    // Unknown codes fall back to Meta's own words.
    let e = ApiError::from_body(Some(400), &meta_body(123_456, None)).unwrap();
    assert_eq!(e.describe(), "details for 123456");
}

#[test]
fn emulator_error_bodies_have_metas_exact_shape() {
    let body = ErrorEnvelope {
        error: ErrorBody::meta(
            131047,
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
            "AbCdEf123",
        ),
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"error": {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "fbtrace_id": "AbCdEf123"
        }})
    );
    let parsed = ApiError::from_body(Some(400), &serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(parsed.class(), ErrorClass::WindowClosed);
}
