//! What the playground says to the binaries it fetches the first time they are used, and
//! what they answer: they share no memory, so they talk in text (`app::lazy` on the
//! playground's side, `app::hosted` on theirs).
//!
//! - The analysis view (`app::analysis_host`): the playground sends an [`Input`] (the
//!   scenario's document, its name, whether it has problems, the settings from the address)
//!   whenever one of those changes; the view answers with a [`Message`] (new settings, or a
//!   point of a figure to open in the playground).
//! - The dialogs (`app::dialog_host`): the playground sends a [`Dialog`] (the share dialog's
//!   links and choices, or the fix dialog's scenario and seeds); a dialog answers with a
//!   [`DialogMessage`] (close me, or open this scenario).

use crate::analysis::AnalysisConfig;
use crate::charts::ChartKind;
use serde_json::{json, Value};
use std::rc::Rc;

/// What the view reads of the playground.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub doc: Rc<Value>,
    pub name: String,
    pub has_problems: bool,
    pub config: Option<AnalysisConfig>,
}

impl Input {
    /// The text the playground sends.
    pub fn encode(
        doc: &Value,
        name: &str,
        has_problems: bool,
        config: Option<&AnalysisConfig>,
    ) -> String {
        json!({
            "doc": doc,
            "name": name,
            "problems": has_problems,
            "view": config.map(AnalysisConfig::to_query),
        })
        .to_string()
    }

    /// The input in `text` (an empty scenario if it is not one: the playground wrote it).
    pub fn decode(text: &str) -> Input {
        let mut value: Value = serde_json::from_str(text).unwrap_or_default();
        let doc = value.get_mut("doc").map(Value::take).unwrap_or_default();
        let config = value
            .get("view")
            .and_then(Value::as_str)
            .and_then(|query| AnalysisConfig::from_query(query, &doc));
        Input {
            name: value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            has_problems: value.get("problems").and_then(Value::as_bool) == Some(true),
            config,
            doc: Rc::new(doc),
        }
    }
}

/// What the view asks of the playground.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// New settings (the address records them), as their query text.
    Config(String),
    /// A point of a figure, to open in the playground.
    Open(Value),
}

impl Message {
    pub fn encode(&self) -> String {
        match self {
            Message::Config(query) => json!({ "view": query }),
            Message::Open(doc) => json!({ "open": doc }),
        }
        .to_string()
    }

    pub fn decode(text: &str) -> Option<Message> {
        let mut value: Value = serde_json::from_str(text).ok()?;
        if let Some(query) = value.get("view").and_then(Value::as_str) {
            return Some(Message::Config(query.to_string()));
        }
        value.get_mut("open").map(Value::take).map(Message::Open)
    }
}

/// A dialog the playground opens, with what it shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Share(ShareInput),
    Fix(FixInput),
}

/// What the share dialog shows: the playground makes the links (its codec holds them), the
/// dialog composes the embed's from the author's choices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShareInput {
    /// The scenario's name (the embed's title) and seed.
    pub name: String,
    pub seed: u64,
    /// How many problems the document has: a link holds a scenario that runs.
    pub problems: usize,
    /// The share link; empty while it is being made.
    pub url: String,
    /// The page's address without query or fragment (what links are built on).
    pub base: String,
    /// The scenario as a link's `s=` payload (empty while it is being made), and the
    /// instrument's part of the query (`crate::link::instrument_query`).
    pub payload: String,
    pub extra: String,
    /// The charts the scenario draws, in the page's order.
    pub charts: Vec<ChartKind>,
    /// The numeric parameters an author may give readers as sliders: (path, label).
    pub knobs: Vec<(String, String)>,
}

/// What the fix dialog runs: the scenario's document, its name, the first seed and the
/// playground's seed count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FixInput {
    pub doc: Value,
    pub name: String,
    pub seed: u64,
    pub seeds: u32,
}

impl Dialog {
    /// The text the playground sends.
    pub fn encode(&self) -> String {
        match self {
            Dialog::Share(s) => json!({ "share": {
                "name": s.name,
                "seed": s.seed,
                "problems": s.problems,
                "url": s.url,
                "base": s.base,
                "payload": s.payload,
                "extra": s.extra,
                "charts": s.charts.iter().map(|c| c.id()).collect::<Vec<_>>(),
                "knobs": s.knobs,
            } }),
            Dialog::Fix(f) => json!({ "fix": {
                "doc": f.doc,
                "name": f.name,
                "seed": f.seed,
                "seeds": f.seeds,
            } }),
        }
        .to_string()
    }

    /// The dialog in `text`, or `None` if it is not one (the playground wrote it).
    pub fn decode(text: &str) -> Option<Dialog> {
        let mut value: Value = serde_json::from_str(text).ok()?;
        let text = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64).unwrap_or_default();
        if let Some(s) = value.get("share") {
            let list = |key: &str| {
                s.get(key)
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
            };
            return Some(Dialog::Share(ShareInput {
                name: text(s, "name"),
                seed: number(s, "seed"),
                problems: number(s, "problems") as usize,
                url: text(s, "url"),
                base: text(s, "base"),
                payload: text(s, "payload"),
                extra: text(s, "extra"),
                charts: list("charts")
                    .iter()
                    .filter_map(|c| ChartKind::from_id(c.as_str()?))
                    .collect(),
                knobs: list("knobs")
                    .iter()
                    .filter_map(|pair| match pair.as_array()?.as_slice() {
                        [path, label] => Some((path.as_str()?.into(), label.as_str()?.into())),
                        _ => None,
                    })
                    .collect(),
            }));
        }
        let f = value.get_mut("fix")?;
        Some(Dialog::Fix(FixInput {
            name: text(f, "name"),
            seed: number(f, "seed"),
            seeds: u32::try_from(number(f, "seeds")).unwrap_or(1),
            doc: f.get_mut("doc").map(Value::take).unwrap_or_default(),
        }))
    }
}

/// What a dialog asks of the playground.
#[derive(Clone, Debug, PartialEq)]
pub enum DialogMessage {
    /// Close the dialog (its ✕, Escape, a click beside it).
    Close,
    /// Open this scenario (a fix), with the scenario as it was pinned as the baseline when
    /// `pin`; the dialog closes.
    Open { doc: Value, pin: bool },
}

impl DialogMessage {
    pub fn encode(&self) -> String {
        match self {
            DialogMessage::Close => json!({ "close": true }),
            DialogMessage::Open { doc, pin } => json!({ "open": doc, "pin": pin }),
        }
        .to_string()
    }

    pub fn decode(text: &str) -> Option<DialogMessage> {
        let mut value: Value = serde_json::from_str(text).ok()?;
        if value.get("close").is_some() {
            return Some(DialogMessage::Close);
        }
        let pin = value.get("pin").and_then(Value::as_bool) == Some(true);
        let doc = value.get_mut("open").map(Value::take)?;
        Some(DialogMessage::Open { doc, pin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogs_and_their_answers_survive_their_text() {
        let doc: Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        let share = Dialog::Share(ShareInput {
            name: "Retry \"storm\" <b>".into(),
            seed: u64::MAX,
            problems: 2,
            url: "https://example.org/?s=1.abc".into(),
            base: "https://example.org/".into(),
            payload: "1.abc".into(),
            extra: "seeds=10&".into(),
            charts: vec![ChartKind::Traffic, ChartKind::CacheHitRate],
            knobs: vec![("users.rate".into(), "users: Rate".into())],
        });
        assert_eq!(Dialog::decode(&share.encode()), Some(share));
        let fix = Dialog::Fix(FixInput {
            doc: doc.clone(),
            name: "Retry storm".into(),
            seed: 7,
            seeds: 5,
        });
        assert_eq!(Dialog::decode(&fix.encode()), Some(fix));
        assert_eq!(Dialog::decode("{}"), None);
        assert_eq!(Dialog::decode("not json"), None);
        for message in [
            DialogMessage::Close,
            DialogMessage::Open {
                doc: doc.clone(),
                pin: true,
            },
            DialogMessage::Open { doc, pin: false },
        ] {
            assert_eq!(DialogMessage::decode(&message.encode()), Some(message));
        }
        assert_eq!(DialogMessage::decode("[]"), None);
    }

    #[test]
    fn input_and_messages_survive_their_text() {
        let doc: Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        let config = AnalysisConfig::default_for(&doc);
        let text = Input::encode(&doc, "Retry storm", true, Some(&config));
        let input = Input::decode(&text);
        assert_eq!(*input.doc, doc);
        assert_eq!(input.name, "Retry storm");
        assert!(input.has_problems);
        assert_eq!(input.config, Some(config.clone()));
        let none = Input::decode(&Input::encode(&doc, "", false, None));
        assert_eq!((none.config, none.has_problems), (None, false));
        for message in [Message::Config(config.to_query()), Message::Open(doc)] {
            assert_eq!(Message::decode(&message.encode()), Some(message));
        }
        assert_eq!(Message::decode("not json"), None);
    }
}
