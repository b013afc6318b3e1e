//! Contacts with the team's edits: search in any script or by number, the profile name
//! never overwriting the team's name, seq guards, conversations of a customer.

mod common;

use common::*;
use serde_json::json;
use teamline_store::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    (dir, store)
}

fn record(wa_id: &str, display: Option<&str>, profile: Option<&str>, seq: u64) -> ContactRecord {
    ContactRecord {
        wa_id: wa_id.into(),
        name: None,
        profile_name: profile.map(str::to_owned),
        display_name: display.map(str::to_owned),
        attributes: json!({"vip": true}),
        updated_at: Some(at(seq as i64)),
        seq,
    }
}

#[test]
fn search_folds_case_in_any_script_and_matches_typed_numbers() {
    let (_d, mut store) = store();
    store
        .write(|b| {
            b.put_contact_record(&record(
                "79123456789",
                Some("Анна Петрова"),
                Some("Anna"),
                1,
            ))?;
            b.put_contact_record(&record("8613800138000", Some("王伟"), None, 2))?;
            b.put_contact_record(&record("14155550100", None, Some("Bob Smith"), 3))?;
            b.put_contact_record(&record("447946095800", None, None, 4))?;
            Ok(())
        })
        .unwrap();
    let names = |q: &str| -> Vec<String> {
        store
            .search_contacts(q, 0, 50)
            .unwrap()
            .into_iter()
            .map(|c| c.name.unwrap_or(c.wa_id))
            .collect()
    };
    assert_eq!(
        names(""),
        ["Bob Smith", "Анна Петрова", "王伟", "447946095800"]
    );
    assert_eq!(names("АННА"), ["Анна Петрова"]);
    assert_eq!(names("王"), ["王伟"]);
    assert_eq!(names("+7 912 345"), ["Анна Петрова"]);
    assert_eq!(names("smith"), ["Bob Smith"]);
    assert_eq!(names("100%"), Vec::<String>::new());
    assert_eq!(store.count_contacts("").unwrap(), 4);
    assert_eq!(
        store.count_contacts("b").unwrap(),
        1,
        "only Bob Smith has a latin b"
    );
    assert_eq!(store.search_contacts("", 1, 2).unwrap().len(), 2);
}

#[test]
fn a_profile_name_change_keeps_the_teams_name_and_attributes() {
    let (_d, mut store) = store();
    let conv = conversation(1);
    store
        .write(|b| {
            b.upsert_conversation(&conv)?;
            b.put_contact_record(&record(
                &conv.contact_wa_id,
                Some("Ana (VIP)"),
                Some("Ana"),
                2,
            ))?;
            b.rename_conversations_of(&conv.contact_wa_id, Some("Ana (VIP)"), 2)?;
            let shown = b.set_contact_profile_name(&conv.contact_wa_id, Some("Ana G."), 3)?;
            assert_eq!(shown.as_deref(), Some("Ana (VIP)"));
            Ok(())
        })
        .unwrap();
    let c = store.contact_record(&conv.contact_wa_id).unwrap().unwrap();
    assert_eq!(c.name.as_deref(), Some("Ana (VIP)"));
    assert_eq!(c.profile_name.as_deref(), Some("Ana G."));
    assert_eq!(c.attributes, json!({"vip": true}));
    let convs = store.conversations_of_contact(&conv.contact_wa_id).unwrap();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].name.as_deref(), Some("Ana (VIP)"));
    // Older data never overwrites newer.
    store
        .write(|b| {
            b.put_contact_record(&record(&conv.contact_wa_id, Some("Old"), None, 1))
                .map(drop)
        })
        .unwrap();
    assert_eq!(
        store
            .contact_record(&conv.contact_wa_id)
            .unwrap()
            .unwrap()
            .display_name
            .as_deref(),
        Some("Ana (VIP)")
    );
    // A contact only known by a profile name.
    store
        .write(|b| b.set_contact_profile_name("15550001111", Some("Zed"), 5))
        .unwrap();
    let z = store.contact_record("15550001111").unwrap().unwrap();
    assert_eq!((z.name.as_deref(), z.attributes), (Some("Zed"), json!({})));
}

#[test]
fn attribute_definitions_are_typed() {
    let (_d, mut store) = store();
    store
        .write(|b| {
            b.put_contact_attribute_def(&ContactAttributeDef {
                key: "vip".into(),
                kind: "boolean".into(),
                seq: 1,
            })?;
            b.put_contact_attribute_def(&ContactAttributeDef {
                key: "city".into(),
                kind: "text".into(),
                seq: 1,
            })
        })
        .unwrap();
    let bad = store.write(|b| {
        b.put_contact_attribute_def(&ContactAttributeDef {
            key: "x".into(),
            kind: "date".into(),
            seq: 2,
        })
    });
    assert!(bad.is_err());
    let keys: Vec<String> = store
        .contact_attribute_defs()
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(keys, ["city", "vip"]);
}
