//! The team's labels (issue 7): create with a colour, recolour and delete (the relay
//! checks ManageLabels and the team's limit of 20), and a full read from the relay into
//! the store, so a device linked after the label events left the relay's retention still
//! shows every colour. Labels also reach the store through `label.saved` /
//! `label.deleted` events.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use teamline_store::Label;

use crate::client::Client;
use crate::error::Result;
use crate::views::LabelChip;

#[derive(Deserialize)]
struct RelayLabel {
    name: String,
    colour: String,
}

#[derive(Deserialize)]
struct RelayLabels {
    labels: Vec<RelayLabel>,
}

/// A label name as a path segment.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// Creates a team label with `colour` (`#rrggbb`).
    pub async fn create_label(&self, name: &str, colour: &str) -> Result<()> {
        let body = json!({ "name": name.trim(), "colour": colour });
        let _: serde_json::Value = self
            .team_call(Method::POST, "/v1/labels", Some(body), None)
            .await?;
        Ok(())
    }

    /// Gives a team label another colour.
    pub async fn recolour_label(&self, name: &str, colour: &str) -> Result<()> {
        let path = format!("/v1/labels/{}", segment(name.trim()));
        let _: serde_json::Value = self
            .team_call(
                Method::PATCH,
                &path,
                Some(json!({ "colour": colour })),
                None,
            )
            .await?;
        Ok(())
    }

    /// Deletes a team label (it leaves every conversation).
    pub async fn delete_label(&self, name: &str) -> Result<()> {
        let path = format!("/v1/labels/{}", segment(name.trim()));
        let _: serde_json::Value = self.team_call(Method::DELETE, &path, None, None).await?;
        Ok(())
    }

    /// Reads the team's labels from the relay into the store (rows written at the current
    /// cursor, so a later event still wins) and returns them as chips.
    pub async fn refresh_labels(&self) -> Result<Vec<LabelChip>> {
        let list: RelayLabels = self
            .team_call(Method::GET, "/v1/labels", None, None)
            .await?;
        self.with_store_mut(move |s| {
            let seq = s.cursor()?;
            let known = s.labels()?;
            s.write(|b| {
                for l in &list.labels {
                    let existing = known
                        .iter()
                        .find(|k| k.name.to_lowercase() == l.name.to_lowercase());
                    b.upsert_label(&Label {
                        id: existing.map_or_else(|| crate::apply::label_id(&l.name), |k| k.id),
                        name: l.name.clone(),
                        colour: l.colour.clone(),
                        urgent: existing.is_some_and(|k| k.urgent),
                        seq,
                    })?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await?;
        self.label_chips().await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_names_are_safe_path_segments() {
        assert_eq!(super::segment("VIP"), "VIP");
        assert_eq!(super::segment("#urgent"), "%23urgent");
        assert_eq!(super::segment("a/b c"), "a%2Fb%20c");
        assert_eq!(
            super::segment("Срочно"),
            "%D0%A1%D1%80%D0%BE%D1%87%D0%BD%D0%BE"
        );
    }
}
