//! What the playground and the analysis view, two binaries that share no memory, say to each
//! other (the view is fetched the first time it opens: `app::analysis_host`, `app::lazy`).
//!
//! The playground sends an [`Input`] (the scenario's document, its name, whether it has
//! problems, the settings from the address) whenever one of those changes; the view answers
//! with a [`Message`] (new settings, or a point of a figure to open in the playground).

use crate::analysis::AnalysisConfig;
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

#[cfg(test)]
mod tests {
    use super::*;

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
