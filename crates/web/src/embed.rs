//! Embed mode: the page as a chart inside someone else's page (an `<iframe>` in a blog post).
//!
//! The author's choices live in the URL beside the scenario, so the snippet is a plain link:
//! `?embed&charts=traffic,backlog&knobs=users.rate,retries.max_attempts&autoplay=1&s=…`.
//! Everything here is plain data and text; the wasm side reads the URL and renders it.

use crate::charts::ChartKind;
use crate::fields::{self, Field};
use crate::state::{block_kind, Owner};
use serde_json::Value;

/// Most knobs (sliders) an embed offers its readers.
pub const MAX_KNOBS: usize = 3;

/// What an embed shows.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbedConfig {
    /// The charts, in order (empty: the charts that apply to the scenario).
    pub charts: Vec<ChartKind>,
    /// `--set` paths of the parameters readers get as sliders.
    pub knobs: Vec<String>,
    /// Whether the run starts by itself.
    pub autoplay: bool,
}

impl Default for EmbedConfig {
    fn default() -> EmbedConfig {
        EmbedConfig {
            charts: vec![ChartKind::Traffic, ChartKind::Backlog],
            knobs: Vec::new(),
            autoplay: true,
        }
    }
}

/// The value of `key` in a query string (`a=1&b`; a bare key reads as "").
pub fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .trim_start_matches(['?', '#'])
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if pair == key => Some(""),
            _ => None,
        })
}

/// Percent-decoding of a query value (`%2C` → `,`); invalid escapes are kept as they are.
pub(crate) fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl EmbedConfig {
    /// The embed configuration of a page's query string, or `None` when the page is not in
    /// embed mode. Unknown chart ids and knobs beyond [`MAX_KNOBS`] are ignored (a link is
    /// input from anyone: it must never break the page).
    pub fn from_query(query: &str) -> Option<EmbedConfig> {
        query_value(query, "embed")?;
        let mut config = EmbedConfig::default();
        if let Some(list) = query_value(query, "charts") {
            let charts: Vec<ChartKind> = unescape(list)
                .split(',')
                .filter_map(|id| ChartKind::from_id(id.trim()))
                .collect();
            if !charts.is_empty() {
                config.charts = charts;
            }
        }
        if let Some(list) = query_value(query, "knobs") {
            config.knobs = unescape(list)
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .take(MAX_KNOBS)
                .map(str::to_string)
                .collect();
        }
        if let Some(value) = query_value(query, "autoplay") {
            config.autoplay = !matches!(value, "0" | "false" | "no");
        }
        Some(config)
    }

    /// The query parameters of this configuration (without the scenario), e.g.
    /// `embed&charts=traffic,backlog&knobs=users.rate&autoplay=1`.
    pub fn to_query(&self) -> String {
        let charts: Vec<&str> = self.charts.iter().map(|c| c.id()).collect();
        let mut out = format!("embed&charts={}", charts.join(","));
        if !self.knobs.is_empty() {
            out.push_str("&knobs=");
            out.push_str(&self.knobs.join(","));
        }
        out.push_str(if self.autoplay {
            "&autoplay=1"
        } else {
            "&autoplay=0"
        });
        out
    }
}

/// A knob resolved against a scenario document: where the value lives and how to edit it.
#[derive(Clone, Debug, PartialEq)]
pub struct Knob {
    pub path: String,
    pub owner: Owner,
    /// The path below the owner (what [`crate::state::Action::SetField`] takes).
    pub field_path: String,
    pub field: Field,
    /// A label for readers: the owner and the field ("users: Rate").
    pub label: String,
}

/// Resolves a `--set` path (`users.rate`, `api.service.mean_s`, `triggers.0.factor`,
/// `duration_s`) to a numeric field of the document, or `None` if it names nothing numeric.
pub fn resolve_knob(doc: &Value, path: &str) -> Option<Knob> {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let (owner, field_path, fields_list, owner_label) = if head == "triggers" {
        let (index, field) = rest.split_once('.')?;
        let index: usize = index.parse().ok()?;
        let kind = doc.pointer(&format!("/triggers/{index}/kind"))?.as_str()?;
        (
            Owner::Trigger(index),
            field.to_string(),
            fields::trigger_fields(kind),
            format!("{} {}", kind.replace('_', " "), index + 1),
        )
    } else if rest.is_empty() {
        (
            Owner::Scenario,
            head.to_string(),
            fields::scenario_fields(),
            "scenario".to_string(),
        )
    } else {
        let block = doc
            .get("blocks")?
            .as_array()?
            .iter()
            .find(|b| b.get("id").and_then(Value::as_str) == Some(head))?;
        (
            Owner::Block(head.to_string()),
            rest.to_string(),
            fields::block_fields(block_kind(block)),
            head.to_string(),
        )
    };
    let field = *fields_list.iter().find(|f| f.path == field_path)?;
    if !matches!(
        field.input,
        fields::Input::Number { .. } | fields::Input::Integer { .. }
    ) {
        return None;
    }
    Some(Knob {
        path: path.to_string(),
        owner,
        field_path,
        label: format!("{owner_label}: {}", field.label),
        field,
    })
}

/// Every numeric parameter of the document as a knob path, in document order: what an
/// author may offer readers as sliders.
pub fn knob_candidates(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for block in doc
        .get("blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = block.get("id").and_then(Value::as_str) else {
            continue;
        };
        for field in fields::block_fields(block_kind(block)) {
            if field.applies(block)
                && matches!(
                    field.input,
                    fields::Input::Number { .. } | fields::Input::Integer { .. }
                )
            {
                out.push(format!("{id}.{}", field.path));
            }
        }
    }
    for (i, trigger) in doc
        .get("triggers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = trigger.get("kind").and_then(Value::as_str).unwrap_or("");
        for field in fields::trigger_fields(kind) {
            if matches!(
                field.input,
                fields::Input::Number { .. } | fields::Input::Integer { .. }
            ) {
                out.push(format!("triggers.{i}.{}", field.path));
            }
        }
    }
    out
}

/// Escapes text for an HTML attribute or text node: a scenario's name goes into the embed
/// snippet's `title`, and a name is input from anyone.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The snippet an author pastes into a post: the iframe, and a few lines that resize it to
/// its content as the embed reports its height (messages from other origins are ignored).
pub fn snippet(embed_url: &str, origin: &str, title: &str, height_px: u32) -> String {
    let url = escape_html(embed_url);
    let title = escape_html(title);
    // The origin goes into a JavaScript string: keep only characters an origin can have.
    let origin: String = origin
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '-' | '[' | ']'))
        .collect();
    format!(
        "<iframe src=\"{url}\" title=\"{title}\" data-metastable width=\"100%\" height=\"{height_px}\" \
style=\"border:0;max-width:100%\" loading=\"lazy\"></iframe>\n\
<script>addEventListener(\"message\",function(e){{if(e.origin!==\"{origin}\"||!e.data||e.data.type!==\"metastable:height\")return;\
document.querySelectorAll(\"iframe[data-metastable]\").forEach(function(f){{if(f.contentWindow===e.source)f.style.height=e.data.height+\"px\"}})}});</script>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storm() -> Value {
        serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap()
    }

    #[test]
    fn an_embed_url_round_trips_its_choices() {
        let config = EmbedConfig {
            charts: vec![ChartKind::Latency, ChartKind::Traffic],
            knobs: vec!["users.rate".into(), "retries.max_attempts".into()],
            autoplay: false,
        };
        let query = config.to_query();
        assert_eq!(
            EmbedConfig::from_query(&format!("?{query}&s=1.abc")),
            Some(config)
        );
        assert_eq!(
            EmbedConfig::from_query("?s=1.abc"),
            None,
            "no `embed`: the playground"
        );
    }

    #[test]
    fn a_hostile_embed_url_is_trimmed_not_obeyed() {
        let config = EmbedConfig::from_query(
            "?embed&charts=nope,%3Cscript%3E&knobs=a.b,c.d,e.f,g.h,i.j&autoplay=maybe",
        )
        .unwrap();
        assert_eq!(config.charts, EmbedConfig::default().charts);
        assert_eq!(config.knobs.len(), MAX_KNOBS);
        assert!(config.autoplay);
        assert_eq!(
            EmbedConfig::from_query("?embed&charts=traffic%2Clatency")
                .unwrap()
                .charts,
            vec![ChartKind::Traffic, ChartKind::Latency]
        );
    }

    #[test]
    fn knobs_resolve_to_numeric_fields_only() {
        let doc = storm();
        let rate = resolve_knob(&doc, "users.rate").unwrap();
        assert_eq!(rate.owner, Owner::Block("users".into()));
        assert_eq!(rate.label, "users: Rate");
        let factor = resolve_knob(&doc, "triggers.0.factor").unwrap();
        assert_eq!(factor.owner, Owner::Trigger(0));
        assert_eq!(
            resolve_knob(&doc, "duration_s").unwrap().owner,
            Owner::Scenario
        );
        assert!(resolve_knob(&doc, "api.service.mean_s").is_some());
        assert!(
            resolve_knob(&doc, "api.discipline").is_none(),
            "not a number"
        );
        assert!(resolve_knob(&doc, "nobody.rate").is_none());
        assert!(resolve_knob(&doc, "triggers.9.factor").is_none());
        let candidates = knob_candidates(&doc);
        assert!(candidates.contains(&"retries.max_attempts".to_string()));
        assert!(candidates.iter().all(|k| resolve_knob(&doc, k).is_some()));
    }

    #[test]
    fn the_snippet_escapes_the_scenario_name() {
        let s = snippet(
            "https://x.example/?embed&s=1.a",
            "https://x.example\"+alert(1)+\"",
            "<img src=x onerror=alert(1)>",
            400,
        );
        assert!(!s.contains("<img"), "{s}");
        assert!(s.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(s.contains("?embed&amp;s=1.a"));
        assert!(s.contains("e.origin!==\"https://x.examplealert1\""), "{s}");
        assert_eq!(query_value("?a=1&embed&b=2", "embed"), Some(""));
    }
}
