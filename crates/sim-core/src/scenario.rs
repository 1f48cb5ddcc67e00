//! The scenario format (SPEC §3) and its one validator.
//!
//! A scenario is plain data: serde types that mirror the JSON file, the share-URL payload and
//! what the editor edits. Every entry point (a file, stdin, a preset, a URL, a UI edit) goes
//! through [`Scenario::from_json`] / [`Scenario::from_value`] or [`Scenario::validate`], so a
//! scenario means the same thing everywhere and bad input is refused the same way: with every
//! problem listed, each naming the block (or trigger) and the field.

pub use crate::blocks::balancer::{BalancerSpec, Policy};
pub use crate::blocks::breaker::BreakerSpec;
pub use crate::blocks::cache::CacheSpec;
pub use crate::blocks::client::{Arrival, ClientMode, ClientSpec};
pub use crate::blocks::limiter::{LimiterMode, LimiterSpec};
pub use crate::blocks::retry::{Backoff, BackoffKind, Budget, Jitter, RetrySpec};
pub use crate::blocks::server::{Discipline, Dist, OnFull, ServerSpec, Service, Slowdown};
pub use crate::triggers::{
    CacheFlush, Capacity, Errors, Latency, LoadSpike, LoadSteps, Outage, Partition, Trigger,
};

pub use crate::kind::Block;
use crate::kind::{self, BlockKind, Calls, Param, ParamValue};
use crate::triggers;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The only format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Hard limits checked before a run (the engine adds limits on events and state while running).
pub mod limits {
    /// Longest simulated run, in seconds (about 3 years).
    pub const MAX_DURATION_S: f64 = 1e8;
    /// Most metric rows a run may produce.
    pub const MAX_BUCKETS: f64 = 1e6;
    /// Smallest metric bucket, in seconds.
    pub const MIN_BUCKET_S: f64 = 1e-3;
    /// Most blocks in a scenario.
    pub const MAX_BLOCKS: usize = 1000;
    /// Most triggers in a scenario.
    pub const MAX_TRIGGERS: usize = 1000;
    /// Largest worker or user count.
    pub const MAX_WORKERS: u32 = 1_000_000;
    /// Largest attempt count of a retry block.
    pub const MAX_ATTEMPTS: u32 = 100;
    /// Largest finite time parameter (timeouts, backoffs, TTLs), in seconds.
    pub const MAX_TIME_S: f64 = 1e8;
    /// Largest request rate, per second.
    pub const MAX_RATE: f64 = 1e8;
    /// Largest multiplicative factor (spikes, latency, slowdown).
    pub const MAX_FACTOR: f64 = 1e6;
    /// Largest scenario file or standard input, in bytes: refused unread above it. The
    /// largest scenario the other limits allow in practice (1,000 blocks, 1,000 triggers,
    /// long ids) is well under a megabyte.
    pub const MAX_FILE_BYTES: u64 = 4 << 20;
}

/// Scenario-level field names; block ids may not take them (they would shadow `--set` paths).
const TOP_LEVEL_FIELDS: &[&str] = &[
    "version",
    "name",
    "caption",
    "expect",
    "seed",
    "duration_s",
    "bucket_s",
    "blocks",
    "triggers",
];

fn default_bucket_s() -> f64 {
    1.0
}

pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

pub(crate) fn is_true(value: &bool) -> bool {
    *value
}

pub(crate) fn yes() -> bool {
    true
}

/// A whole scenario: blocks, triggers, run length and seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Teaching text of a preset or an embed; ignored by the simulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The verdict the caption promises (a preset's story); ignored by the simulation, kept
    /// through round trips, checked by the tests of every preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Verdict>,
    #[serde(default)]
    pub seed: u64,
    pub duration_s: f64,
    #[serde(default = "default_bucket_s")]
    pub bucket_s: f64,
    pub blocks: Vec<Block>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

/// Where a problem is: the scenario, a block, or a trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Scenario,
    /// A block: its index in `blocks`, and its id when it has one that can be shown.
    Block {
        index: usize,
        id: Option<String>,
    },
    /// A trigger: its index in `triggers`, and its kind as the file gives it.
    Trigger {
        index: usize,
        kind: Option<String>,
    },
}

impl Location {
    /// The block at `index`, named by its id (`block "api"`).
    pub fn block(index: usize, id: &str) -> Location {
        Location::Block {
            index,
            id: Some(id.to_string()),
        }
    }

    /// The block's index, when the problem is in a block.
    pub fn block_index(&self) -> Option<usize> {
        match self {
            Location::Block { index, .. } => Some(*index),
            Location::Scenario | Location::Trigger { .. } => None,
        }
    }

    /// The trigger's index, when the problem is in a trigger.
    pub fn trigger_index(&self) -> Option<usize> {
        match self {
            Location::Trigger { index, .. } => Some(*index),
            Location::Scenario | Location::Block { .. } => None,
        }
    }
}

impl fmt::Display for Location {
    /// `scenario`, `block "api"`, `blocks[3]` (a block without a usable id),
    /// `trigger 0 (latency)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Scenario => f.write_str("scenario"),
            Location::Block { id: Some(id), .. } => write!(f, "block \"{}\"", escape_text(id)),
            Location::Block { index, id: None } => write!(f, "blocks[{index}]"),
            Location::Trigger {
                index,
                kind: Some(kind),
            } => write!(f, "trigger {index} ({kind})"),
            Location::Trigger { index, kind: None } => write!(f, "trigger {index}"),
        }
    }
}

impl PartialEq<&str> for Location {
    /// Whether it reads as this text (its [`Display`](fmt::Display) form).
    fn eq(&self, other: &&str) -> bool {
        /// Consumes the expected text as the location writes itself.
        struct Matches<'t>(&'t str);
        impl fmt::Write for Matches<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Matches(other);
        fmt::write(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One thing wrong with a scenario, located by block (or trigger) and field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub location: Location,
    /// The field, as a `--set`-style path below the location (`service.mean_s`); empty when
    /// the problem is the location as a whole.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(
                f,
                "{}, field `{}`: {}",
                self.location, self.field, self.message
            )
        }
    }
}

/// Why a scenario was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("not valid JSON (line {line}, column {column}): {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}", join_problems(.0))]
    Invalid(Vec<Problem>),
}

fn join_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl ScenarioError {
    /// The individual problems (one for a syntax error).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ScenarioError::Syntax { .. } => vec![Problem {
                location: Location::Scenario,
                field: String::new(),
                message: self.to_string(),
            }],
            ScenarioError::Invalid(problems) => problems.clone(),
        }
    }
}

/// The scenario-level fields, with blocks and triggers still raw so that their errors can be
/// reported with their index and id.
struct RawScenario {
    /// Checked before this struct is read (see `parse`).
    #[allow(dead_code)]
    version: Value,
    name: String,
    caption: Option<String>,
    expect: Option<Verdict>,
    seed: u64,
    duration_s: f64,
    bucket_s: f64,
    /// Read in place from the document (see `parse`): only their being lists is checked here.
    #[allow(dead_code)]
    blocks: Vec<serde::de::IgnoredAny>,
    #[allow(dead_code)]
    triggers: Vec<serde::de::IgnoredAny>,
}

crate::fields::by_name!(RawScenario {
    version: required,
    name: default,
    caption: default,
    expect: default,
    seed: default,
    duration_s: required,
    bucket_s: or(default_bucket_s),
    blocks: required,
    triggers: default,
});

impl Scenario {
    /// Parses and validates a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        check_shape(text).map_err(|p| ScenarioError::Invalid(vec![p]))?;
        let value: Value = serde_json::from_str(text).map_err(|e| ScenarioError::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        Scenario::from_value(value)
    }

    /// Parses and validates a scenario from a JSON value (e.g. after `--set` edits).
    pub fn from_value(value: Value) -> Result<Scenario, ScenarioError> {
        Scenario::from_value_ref(&value)
    }

    /// [`Scenario::from_value`] for a document the caller keeps.
    pub fn from_value_ref(value: &Value) -> Result<Scenario, ScenarioError> {
        let scenario = parse(value).map_err(ScenarioError::Invalid)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Pretty JSON, as a scenario file.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The block with this id.
    pub fn block(&self, id: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.id() == id)
    }

    /// Checks everything SPEC §3 asks for and returns every problem found.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let mut v = Validator::default();
        v.scenario(self);
        if v.problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError::Invalid(v.problems))
        }
    }
}

/// serde_json appends " at line L column C" to messages; the Syntax variant carries those.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn block_location(index: usize, raw: &Value) -> Location {
    Location::Block {
        index,
        id: raw.get("id").and_then(Value::as_str).map(str::to_string),
    }
}

fn trigger_location(index: usize, kind: &str) -> Location {
    Location::Trigger {
        index,
        kind: Some(kind.to_string()),
    }
}

/// Reads JSON text only to check its shape, building nothing: a list longer than
/// [`limits::MAX_BLOCKS`] anywhere is refused as soon as its entry past the limit is read.
/// Building a document of a million short strings takes a browser tab a second; checking
/// the text first takes a few milliseconds (SPEC §10).
pub fn check_shape(text: &str) -> Result<(), Problem> {
    let mut de = serde_json::Deserializer::from_str(text);
    let path = std::cell::RefCell::new(Vec::new());
    let result = serde::de::DeserializeSeed::deserialize(Shape { path: &path }, &mut de);
    let Err(e) = result else {
        return Ok(());
    };
    // Syntax errors are the full parser's to report, with their position.
    if !strip_position(&e.to_string()).ends_with(LONG_LIST) {
        return Ok(());
    }
    let path: Vec<String> = path
        .into_inner()
        .into_iter()
        .map(|segment| match segment {
            Segment::Key(key) => escape_text(&key),
            Segment::Index(i) => i.to_string(),
        })
        .collect();
    let index = |text: &str| text.parse::<usize>().unwrap_or(usize::MAX);
    let (location, field) = match path.as_slice() {
        [list, i, rest @ ..] if list == "blocks" && !rest.is_empty() => (
            Location::Block {
                index: index(i),
                id: None,
            },
            rest.join("."),
        ),
        [list, i, rest @ ..] if list == "triggers" && !rest.is_empty() => (
            Location::Trigger {
                index: index(i),
                kind: None,
            },
            rest.join("."),
        ),
        _ => (Location::Scenario, path.join(".")),
    };
    let n = limits::MAX_BLOCKS;
    Err(Problem {
        location,
        field,
        message: format!("lists more than {n} entries; a list here may hold at most {n}"),
    })
}

const LONG_LIST: &str = "a list longer than the limit";

/// A step of the path [`check_shape`] keeps to name a list that is too long.
enum Segment {
    Key(String),
    Index(usize),
}

/// The visitor of [`check_shape`]. The path is one stack shared by every level, pushed and
/// popped, and left as it is at an error: the path of the list that is too long.
struct Shape<'p> {
    path: &'p std::cell::RefCell<Vec<Segment>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Shape<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Shape<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for index in 0..=limits::MAX_BLOCKS {
            if index == limits::MAX_BLOCKS {
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom(LONG_LIST));
                }
                break;
            }
            self.path.borrow_mut().push(Segment::Index(index));
            if seq.next_element_seed(Shape { path: self.path })?.is_none() {
                self.path.borrow_mut().pop();
                break;
            }
            self.path.borrow_mut().pop();
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            self.path.borrow_mut().push(Segment::Key(key.into_owned()));
            map.next_value_seed(Shape { path: self.path })?;
            self.path.borrow_mut().pop();
        }
        Ok(())
    }
}

/// The first list in `raw` (depth first) longer than `limit`: its path and length.
fn long_list(raw: &Value, limit: usize) -> Option<(String, usize)> {
    match raw {
        Value::Array(items) if items.len() > limit => Some((String::new(), items.len())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            long_list(v, limit).map(|(p, n)| (join_path(&i.to_string(), &p), n))
        }),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| long_list(v, limit).map(|(p, n)| (join_path(k, &p), n))),
        _ => None,
    }
}

fn join_path(head: &str, rest: &str) -> String {
    if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}.{rest}")
    }
}

/// Reads a document into a [`Scenario`] without validating it, in time linear in its size:
/// lists over the limits are refused before their entries are read (a forged link can hold a
/// million of them), and blocks and triggers are read in place, not copied.
fn parse(value: &Value) -> Result<Scenario, Vec<Problem>> {
    let problem = |location: Location, message: String| Problem {
        location,
        field: String::new(),
        message,
    };
    if !value.is_object() {
        return Err(vec![problem(
            Location::Scenario,
            "must be a JSON object".into(),
        )]);
    }
    // Check the version first: a file of a future version should say so, not list the
    // fields this build does not know.
    match value.get("version") {
        None => {
            return Err(vec![Problem {
                location: Location::Scenario,
                field: "version".into(),
                message: format!("missing (this build reads version {FORMAT_VERSION})"),
            }])
        }
        Some(v) if v.as_u64() != Some(u64::from(FORMAT_VERSION)) => {
            return Err(vec![Problem {
                location: Location::Scenario,
                field: "version".into(),
                message: format!(
                    "unsupported version {v} (this build reads version {FORMAT_VERSION})"
                ),
            }])
        }
        Some(_) => {}
    }
    let raw = RawScenario::read(value)
        .map_err(|e| vec![type_problem(Location::Scenario, value, &e.to_string())])?;
    let list = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let (raw_blocks, raw_triggers) = (list("blocks"), list("triggers"));
    let mut problems = Vec::new();
    for (field, items, limit) in [
        ("blocks", raw_blocks, limits::MAX_BLOCKS),
        ("triggers", raw_triggers, limits::MAX_TRIGGERS),
    ] {
        if items.len() > limit {
            problems.push(Problem {
                location: Location::Scenario,
                field: field.into(),
                message: format!(
                    "lists {} {field}; a scenario may have at most {limit}",
                    items.len()
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut blocks = Vec::with_capacity(raw_blocks.len());
    for (index, raw_block) in raw_blocks.iter().enumerate() {
        if let Some((path, n)) = long_list(raw_block, limits::MAX_BLOCKS) {
            problems.push(Problem {
                location: block_location(index, raw_block),
                field: path,
                message: format!(
                    "lists {n} entries; a list here may hold at most {}",
                    limits::MAX_BLOCKS
                ),
            });
            continue;
        }
        let kind = raw_block.get("kind").and_then(Value::as_str);
        if kind.is_none() {
            problems.push(Problem {
                location: block_location(index, raw_block),
                field: "kind".into(),
                message: format!(
                    "missing (one of {})",
                    BlockKind::ALL.map(BlockKind::as_str).join(", ")
                ),
            });
            continue;
        }
        match Block::deserialize(raw_block) {
            Ok(block) => blocks.push(block),
            Err(e) => problems.push(type_problem(
                block_location(index, raw_block),
                raw_block,
                &e.to_string(),
            )),
        }
    }
    let mut triggers = Vec::with_capacity(raw_triggers.len());
    for (index, raw_trigger) in raw_triggers.iter().enumerate() {
        let kind = raw_trigger
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("no kind");
        match Trigger::deserialize(raw_trigger) {
            Ok(trigger) => triggers.push(trigger),
            Err(e) => problems.push(type_problem(
                trigger_location(index, kind),
                raw_trigger,
                &e.to_string(),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Scenario {
        version: FORMAT_VERSION,
        name: raw.name,
        caption: raw.caption,
        expect: raw.expect,
        seed: raw.seed,
        duration_s: raw.duration_s,
        bucket_s: raw.bucket_s,
        blocks,
        triggers,
    })
}

/// The path of a missing field: `field` itself when the block or trigger lacks it, or
/// `group.field` when a group of its kind that is present lacks it (serde names the leaf
/// alone: `max_workers` of `autoscale`).
fn group_path(raw: &Value, field: String) -> String {
    if raw.get(&field).is_some() || !raw.is_object() {
        return field;
    }
    let kind = raw.get("kind").and_then(Value::as_str).unwrap_or("");
    let params = BlockKind::parse(kind)
        .map(BlockKind::params)
        .or_else(|| crate::kind::TriggerKind::parse(kind).map(crate::kind::TriggerKind::params))
        .unwrap_or(&[]);
    if params.iter().any(|p| p.path == field) {
        return field;
    }
    params
        .iter()
        .filter_map(|p| p.path.split_once('.').filter(|(_, leaf)| *leaf == field))
        .find(|(group, _)| {
            raw.get(*group)
                .is_some_and(|g| g.is_object() && g.get(&field).is_none())
        })
        .map_or(field.clone(), |(group, _)| format!("{group}.{field}"))
}

/// A serde error said in words and pinned to its field.
///
/// serde names the type it wanted and the value it got, but not the field (an internally
/// tagged enum reads its fields from a buffer that loses the path); the field is the one
/// whose value is the one serde got: `block "api", field `workers`: must be a whole number
/// from 0 to 4,294,967,295 (got 1.5)`.
fn type_problem(location: Location, raw: &Value, message: &str) -> Problem {
    let between = |text: &str, open: char, close: char| -> Option<String> {
        let start = text.find(open)? + open.len_utf8();
        let end = start + text[start..].find(close)?;
        Some(text[start..end].to_string())
    };
    let plain = |field: String, message: String| Problem {
        location: location.clone(),
        field,
        message,
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        let field = between(rest, '`', '`').unwrap_or_default();
        return plain(group_path(raw, field), "missing".into());
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let field = between(rest, '`', '`').unwrap_or_default();
        let known = rest
            .split_once("expected ")
            .map(|(_, e)| e.trim_start_matches("one of ").replace('`', ""))
            .unwrap_or_default();
        return plain(field, format!("not a field here (the fields are {known})"));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let got = between(rest, '`', '`').unwrap_or_default();
        let known = rest
            .split_once("expected ")
            .map(|(_, e)| e.replace('`', ""))
            .unwrap_or_default();
        let field = find_leaf(raw, &|v| v.as_str() == Some(got.as_str())).unwrap_or_default();
        return plain(
            field,
            format!("must be {known} (got \"{}\")", escape_text(&got)),
        );
    }
    let found = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((got, wanted)) = found.and_then(|rest| rest.split_once(", expected ")) {
        let field = find_leaf(raw, &|v| match v {
            // serde_json says "null" where serde would say "unit value".
            Value::Null => got == "null" || got == "unit value",
            v => unexpected(v) == got,
        })
        .unwrap_or_default();
        // A whole number too large for its type says the type's bound; any other misfit
        // says what a whole number is (the validator says the field's own range).
        let too_large = got.starts_with("integer `") && !got.starts_with("integer `-");
        let wanted = match wanted {
            "u32" if too_large => "a whole number no larger than 4,294,967,295".to_string(),
            "u64" if too_large => {
                "a whole number no larger than 18,446,744,073,709,551,615".to_string()
            }
            "u32" | "u64" => "a whole number, 0 or more".to_string(),
            "u8" | "u16" | "usize" | "i32" | "i64" => "a whole number".to_string(),
            "f64" | "f32" => "a number".to_string(),
            "a string" => "text in quotes".to_string(),
            "a boolean" => "true or false".to_string(),
            "a sequence" => "a list".to_string(),
            w if w.starts_with("struct ") || w.starts_with("a map") => "an object".to_string(),
            w => w.replace('`', ""),
        };
        if got == "string \"\"" {
            return plain(field, format!("needs a value ({wanted})"));
        }
        return plain(field, format!("must be {wanted} (got {})", got_words(got)));
    }
    plain(String::new(), message.to_string())
}

/// serde's description of a JSON value in an error message (`floating point `1.5``).
fn unexpected(value: &Value) -> String {
    unexpected_value(value).to_string()
}

/// What serde calls a JSON value in an error message.
pub(crate) fn unexpected_value(value: &Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (_, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// A value of serde's message as a person would write it.
fn got_words(got: &str) -> String {
    match got {
        "unit value" => "null".into(),
        "sequence" => "a list".into(),
        "map" => "an object".into(),
        _ => {
            let value = got
                .split_once(' ')
                .map_or(got, |(_, v)| v)
                .trim_start_matches("point ")
                .trim_matches('`');
            escape_text(value)
        }
    }
}

/// The `--set`-style path of the first value in `raw` (depth first, in order, not `raw`
/// itself) for which `wanted` holds.
fn find_leaf(raw: &Value, wanted: &dyn Fn(&Value) -> bool) -> Option<String> {
    let children: Vec<(String, &Value)> = match raw {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return None,
    };
    for (key, child) in &children {
        if wanted(child) {
            return Some(key.clone());
        }
    }
    for (key, child) in children {
        if let Some(below) = find_leaf(child, wanted) {
            return Some(format!("{key}.{below}"));
        }
    }
    None
}

/// Text from a document, safe to print on a terminal: control characters escaped as the
/// command line writes them (`\x1b`), and cut short when long.
pub fn escape_text(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        if c.is_control() && (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Collects every problem of a scenario, each at its location; each kind's `validate`
/// (in its own file) checks its fields through [`Validator::param`] and the few rules that
/// tie fields together.
#[derive(Default)]
pub(crate) struct Validator<'a> {
    problems: Vec<Problem>,
    location: Option<Location>,
    /// Each block's kind by its id: the index of the last block with that id in `kinds`.
    /// (One map type for every index by id in the crate: each map type adds its code to
    /// every page's wasm.)
    by_id: BTreeMap<&'a str, usize>,
    kinds: Vec<BlockKind>,
}

impl<'a> Validator<'a> {
    fn at(&mut self, location: Location) {
        self.location = Some(location);
    }

    /// Reports a problem with `field` at the current location.
    pub(crate) fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            location: self.location.clone().unwrap_or(Location::Scenario),
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Checks a value against its parameter's range: a finite number within `[min, max]`
    /// (strictly above `min` when the parameter says so), or a whole number within its range.
    pub(crate) fn param(&mut self, param: &Param, value: f64) {
        let field = param.path;
        match param.value {
            ParamValue::Number {
                min, above, max, ..
            } => {
                if !value.is_finite() {
                    self.problem(field, format!("must be a finite number (got {value})"));
                } else if above && value <= min {
                    self.problem(field, format!("must be > {min} (got {value})"));
                } else if !above && value < min {
                    self.problem(field, format!("must be ≥ {min} (got {value})"));
                } else if value > max {
                    self.problem(field, format!("must be ≤ {max} (got {value})"));
                }
            }
            ParamValue::Whole { .. } => match value {
                v if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 => {
                    self.whole(param, v as u64)
                }
                _ => self.problem(field, format!("must be a whole number (got {value})")),
            },
            ParamValue::Choice(_)
            | ParamValue::Flag { .. }
            | ParamValue::Target { .. }
            | ParamValue::Targets
            | ParamValue::Numbers { .. }
            | ParamValue::Group { .. }
            | ParamValue::Text => {}
        }
    }

    /// Checks a list of numbers against its parameter: 1 to `max_len` entries, each finite and
    /// within `[min, max]` (the first entry out of range is named by its position, from 1).
    pub(crate) fn numbers(&mut self, param: &Param, values: &[f64]) {
        let ParamValue::Numbers { min, max, max_len } = param.value else {
            return;
        };
        let field = param.path;
        if values.is_empty() {
            self.problem(field, "needs at least one number");
        } else if values.len() > max_len {
            self.problem(
                field,
                format!("lists {} numbers; at most {max_len}", values.len()),
            );
        } else if let Some((i, value)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || **v < min || **v > max)
        {
            self.problem(
                field,
                format!(
                    "entry {} must be a number from {min} to {max} (got {value})",
                    i + 1
                ),
            );
        }
    }

    /// Checks a whole number against its parameter's range, exactly.
    pub(crate) fn whole(&mut self, param: &Param, value: u64) {
        if let ParamValue::Whole { min, max, .. } = param.value {
            if value < min || value > max {
                self.problem(
                    param.path,
                    format!("must be between {min} and {max} (got {value})"),
                );
            }
        }
    }

    /// The kind of the block called `id` (the last, if several are).
    fn kind_of(&self, id: &str) -> Option<BlockKind> {
        self.by_id.get(id).map(|&i| self.kinds[i])
    }

    /// The id a block or trigger names must be a block that takes calls.
    fn target(&mut self, field: &str, to: &str) {
        match self.kind_of(to) {
            None => self.problem(
                field,
                format!("no block has the id \"{}\"", escape_text(to)),
            ),
            Some(kind) if !kind.receives_calls() => self.problem(
                field,
                format!("\"{to}\" is a {kind}: a {kind} makes requests, it cannot receive calls"),
            ),
            Some(_) => {}
        }
    }

    fn scenario(&mut self, s: &'a Scenario) {
        self.at(Location::Scenario);
        if s.version != FORMAT_VERSION {
            self.problem(
                "version",
                format!(
                    "unsupported version {} (this build reads version {FORMAT_VERSION})",
                    s.version
                ),
            );
        }
        for param in kind::SCENARIO_PARAMS {
            match param.path {
                // At least one smallest bucket: a shorter run would have no metric row.
                "duration_s" => self.param(param, s.duration_s),
                "bucket_s" => self.param(param, s.bucket_s),
                _ => {}
            }
        }
        if s.duration_s.is_finite() && s.bucket_s.is_finite() && s.bucket_s > 0.0 {
            let buckets = (s.duration_s / s.bucket_s).ceil();
            if buckets > limits::MAX_BUCKETS {
                self.problem(
                    "bucket_s",
                    format!(
                        "{buckets} metric rows is more than the limit of {}: use a larger bucket_s",
                        limits::MAX_BUCKETS
                    ),
                );
            }
        }
        if s.blocks.is_empty() {
            self.problem(
                "blocks",
                "a scenario needs at least one client and one server",
            );
        }
        if s.blocks.len() > limits::MAX_BLOCKS {
            self.problem("blocks", format!("more than {} blocks", limits::MAX_BLOCKS));
        }
        if s.triggers.len() > limits::MAX_TRIGGERS {
            self.problem(
                "triggers",
                format!("more than {} triggers", limits::MAX_TRIGGERS),
            );
        }
        if !s.blocks.is_empty() && !s.blocks.iter().any(|b| matches!(b, Block::Client(_))) {
            self.problem("blocks", "a scenario needs at least one client block");
        }

        for (index, block) in s.blocks.iter().enumerate() {
            let id = block.id();
            self.at(Location::block(index, id));
            if id.is_empty() || id.len() > 64 {
                self.at(Location::Block { index, id: None });
                self.problem("id", "must be 1 to 64 characters");
            } else if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                self.problem("id", "may only contain letters, digits, '_' and '-'");
            } else if TOP_LEVEL_FIELDS.contains(&id) {
                self.problem(
                    "id",
                    format!("\"{id}\" is reserved: a scenario field has that name"),
                );
            }
            self.kinds.push(block.kind());
            if self.by_id.insert(id, self.kinds.len() - 1).is_some() {
                self.problem("id", "another block has the same id");
            }
        }
        for (index, block) in s.blocks.iter().enumerate() {
            self.at(Location::block(index, block.id()));
            self.downstream(block);
            self.param(&crate::blocks::LINK_LATENCY_S, block.link_latency_s());
            block.validate(self);
        }
        self.cycles(s);
        for (index, trigger) in s.triggers.iter().enumerate() {
            self.at(trigger_location(index, trigger.kind().as_str()));
            self.trigger(trigger);
        }
    }

    /// The blocks a block calls, as its kind says it calls them.
    fn downstream(&mut self, block: &Block) {
        let to = block.downstream();
        match block.kind().calls() {
            Calls::One | Calls::Optional => {
                if let Some(to) = to.first() {
                    self.target("to", to);
                }
            }
            Calls::Many => {
                if to.is_empty() {
                    self.problem(
                        "to",
                        format!("a {} needs at least one downstream block", block.kind()),
                    );
                }
                if to.len() > limits::MAX_BLOCKS {
                    // Said once; the entries are not looked at (a forged list can be long).
                    self.problem(
                        "to",
                        format!(
                            "lists {} downstream blocks; a {} may list at most {}",
                            to.len(),
                            block.kind(),
                            limits::MAX_BLOCKS
                        ),
                    );
                    return;
                }
                for (i, to) in to.iter().enumerate() {
                    self.target(&format!("to.{i}"), to);
                }
            }
        }
    }

    /// Calls must form an acyclic graph: a cycle would let one request call itself forever.
    ///
    /// Linear in the blocks and their links: each block's downstream list is resolved once,
    /// without repeats, and a list over the limit (already reported) is not followed.
    fn cycles(&mut self, s: &Scenario) {
        // Inserted one by one rather than collected: `collect` sorts with the standard
        // library's stable sort, a few KB more of every page's wasm (docs/performance.md).
        // The same map: a repeated id keeps its last block either way.
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, b) in s.blocks.iter().enumerate() {
            index.insert(b.id(), i);
        }
        let edges: Vec<Vec<usize>> = s
            .blocks
            .iter()
            .map(|block| {
                let downstream = block.downstream();
                if downstream.len() > limits::MAX_BLOCKS {
                    return Vec::new();
                }
                let mut children: Vec<usize> = downstream
                    .iter()
                    .filter_map(|to| index.get(to).copied())
                    .collect();
                // Order kept (the first cycle found is the one reported), repeats dropped.
                let mut seen = std::collections::BTreeSet::new();
                children.retain(|c| seen.insert(*c));
                children
            })
            .collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; s.blocks.len()];
        for start in 0..s.blocks.len() {
            if state[start] != 0 {
                continue;
            }
            // Iterative depth-first search: (block, next downstream to visit).
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let downstream = &edges[node];
                if *next < downstream.len() {
                    let child = downstream[*next];
                    *next += 1;
                    {
                        match state[child] {
                            0 => {
                                state[child] = 1;
                                stack.push((child, 0));
                            }
                            1 => {
                                let mut path: Vec<&str> = stack
                                    .iter()
                                    .skip_while(|(n, _)| *n != child)
                                    .map(|(n, _)| s.blocks[*n].id())
                                    .collect();
                                path.push(s.blocks[child].id());
                                self.at(Location::block(node, s.blocks[node].id()));
                                self.problem(
                                    "to",
                                    format!("calls form a cycle: {}", path.join(" → ")),
                                );
                            }
                            _ => {}
                        }
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }

    fn trigger(&mut self, t: &Trigger) {
        let wanted = t.kind().targets();
        match self.kind_of(t.target()) {
            None => self.problem(
                "target",
                format!("no block has the id \"{}\"", escape_text(t.target())),
            ),
            Some(kind) if !wanted.contains(&kind) => {
                let names: Vec<&str> = wanted.iter().map(|k| k.as_str()).collect();
                self.problem(
                    "target",
                    format!(
                        "\"{}\" is a {kind}; a {} trigger targets a {}",
                        t.target(),
                        t.kind(),
                        names.join(" or ")
                    ),
                )
            }
            Some(_) => {}
        }
        self.param(&triggers::AT_S, t.at_s());
        // A kind without a `for_s` of its own (a staircase) checks its length itself.
        if let (Some(for_s), Some(param)) = (t.for_s(), t.kind().param("for_s")) {
            self.param(param, for_s);
        }
        t.validate(self);
    }
}

/// Sets `path` (e.g. `users.rate`, `api.service.mean_s`, `triggers.0.factor`, `duration_s`)
/// in a scenario's JSON to `value` (parsed as JSON, else taken as a string).
///
/// The first segment is a scenario field if one has that name, else a block id; the rest walk
/// objects by key and arrays by index. The result is not validated here: callers parse it with
/// [`Scenario::from_value`], so a bad value gets the validator's message.
pub fn set_path(doc: &mut Value, path: &str, value: &str) -> Result<(), String> {
    let parsed = match serde_json::from_str::<Value>(value.trim()) {
        Ok(parsed) => parsed,
        // `NaN`, `inf`, `1e400`: a number, but not one a scenario can hold.
        Err(_) if value.trim().parse::<f64>().is_ok() => {
            return Err(format!(
                "`{path}`: {} is not a finite number",
                escape_text(value.trim())
            ))
        }
        Err(_) => Value::String(value.to_string()),
    };
    let slot = path_slot(doc, path, true)?;
    *slot = parsed;
    Ok(())
}

/// The value at `path` (same paths as [`set_path`]).
pub fn get_path<'a>(doc: &'a mut Value, path: &str) -> Result<&'a Value, String> {
    path_slot(doc, path, false).map(|v| &*v)
}

fn path_slot<'a>(
    doc: &'a mut Value,
    path: &str,
    create_last: bool,
) -> Result<&'a mut Value, String> {
    let mut segments = path.split('.');
    let first = segments
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("empty path `{path}`"))?;
    let mut current: &mut Value = if TOP_LEVEL_FIELDS.contains(&first) {
        doc.get_mut(first)
            .ok_or_else(|| format!("`{path}`: the scenario has no `{first}` field"))?
    } else {
        let blocks = doc
            .get_mut("blocks")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| format!("`{path}`: the scenario has no blocks"))?;
        blocks
            .iter_mut()
            .find(|b| b.get("id").and_then(Value::as_str) == Some(first))
            .ok_or_else(|| format!("`{path}`: no block or scenario field is named `{first}`"))?
    };
    let rest: Vec<&str> = segments.collect();
    for (i, segment) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        current = match current {
            Value::Object(map) => {
                if last && create_last && !map.contains_key(*segment) {
                    map.insert(segment.to_string(), Value::Null);
                }
                map.get_mut(*segment)
                    .ok_or_else(|| format!("`{path}`: no field `{segment}` there"))?
            }
            Value::Array(items) => {
                let index: usize = segment
                    .parse()
                    .map_err(|_| format!("`{path}`: `{segment}` should be an index into a list"))?;
                let len = items.len();
                items.get_mut(index).ok_or_else(|| {
                    format!("`{path}`: index {index} is past the end (the list has {len})")
                })?
            }
            _ => {
                return Err(format!(
                    "`{path}`: `{segment}` is below a value that is not an object or a list"
                ))
            }
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORM: &str = r#"{
      "version": 1, "name": "Retry storm", "seed": 7, "duration_s": 300, "bucket_s": 1,
      "blocks": [
        {"id": "users", "kind": "client", "rate": 80, "timeout_s": 1.0, "to": "retries"},
        {"id": "retries", "kind": "retry", "max_attempts": 4, "attempt_timeout_s": 1.0,
         "backoff": {"kind": "exponential", "base_s": 0.05, "cap_s": 1.0, "jitter": "full"},
         "to": "api"},
        {"id": "api", "kind": "server", "workers": 10, "discipline": "fifo",
         "service": {"dist": "exponential", "mean_s": 0.1}}
      ],
      "triggers": [{"kind": "load_spike", "target": "users", "at_s": 60, "for_s": 10, "factor": 2}]
    }"#;

    fn errors(text: &str) -> Vec<String> {
        match Scenario::from_json(text) {
            Ok(_) => vec![],
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    fn with(path: &str, value: &str) -> Vec<String> {
        let mut doc: Value = serde_json::from_str(STORM).unwrap();
        set_path(&mut doc, path, value).unwrap();
        match Scenario::from_value(doc) {
            Ok(_) => vec![],
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_spec_example_parses_and_round_trips() {
        let s = Scenario::from_json(STORM).unwrap();
        assert_eq!(s.blocks.len(), 3);
        assert_eq!(s.triggers.len(), 1);
        let again = Scenario::from_json(&s.to_json_pretty()).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn presentation_fields_survive_a_round_trip() {
        let mut doc: Value = serde_json::from_str(STORM).unwrap();
        doc["caption"] = Value::String("why".into());
        doc["blocks"][0]["ui"] = serde_json::json!({"x": 10, "y": 20});
        let s = Scenario::from_value(doc).unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("\"caption\":\"why\""), "{text}");
        assert!(text.contains("\"ui\":{\"x\":10,\"y\":20}"), "{text}");
    }

    #[test]
    fn unknown_fields_are_named_with_their_block() {
        let e = with("api.servce", "1");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("block \"api\""), "{e:?}");
        assert!(
            e[0].contains("field `servce`: not a field here (the fields are id, workers,"),
            "{e:?}"
        );
        let e = with("triggers.0.factr", "1");
        assert!(e[0].starts_with("trigger 0 (load_spike)"), "{e:?}");
        assert!(e[0].contains("factr"), "{e:?}");
        let e = errors(&STORM.replace("\"bucket_s\": 1,", "\"bucket_s\": 1, \"colour\": 3,"));
        assert!(e[0].contains("field `colour`: not a field here"), "{e:?}");
    }

    #[test]
    fn unknown_kinds_are_refused() {
        let e = with("api.kind", "\"database\"");
        assert!(e[0].starts_with("block \"api\""), "{e:?}");
        assert!(
            e[0].contains(
                "field `kind`: must be one of client, retry, cache, balancer, breaker, limiter, server (got \"database\")"
            ),
            "{e:?}"
        );
        let e = with("triggers.0.kind", "\"earthquake\"");
        assert!(e[0].contains("earthquake"), "{e:?}");
    }

    #[test]
    fn dangling_and_wrong_kind_targets_are_refused() {
        let e = with("retries.to", "\"nowhere\"");
        assert_eq!(
            e,
            vec!["block \"retries\", field `to`: no block has the id \"nowhere\""]
        );
        let e = with("retries.to", "\"users\"");
        assert!(e[0].contains("is a client"), "{e:?}");
        let e = with("triggers.0.target", "\"api\"");
        assert!(
            e[0].starts_with("trigger 0 (load_spike), field `target`"),
            "{e:?}"
        );
        assert!(e[0].contains("targets a client"), "{e:?}");
    }

    #[test]
    fn cycles_are_refused() {
        let e = with("api.to", "\"retries\"");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("cycle: retries → api → retries"), "{e:?}");
        let e = with("api.to", "\"api\"");
        assert!(e[0].contains("cycle: api → api"), "{e:?}");
    }

    #[test]
    fn bad_numbers_are_refused_with_block_and_field() {
        let e = with("api.service.mean_s", "-1");
        assert_eq!(
            e,
            vec!["block \"api\", field `service.mean_s`: must be > 0 (got -1)"]
        );
        assert!(with("users.rate", "-5")[0].contains("field `rate`"));
        assert!(with("api.workers", "0")[0].contains("field `workers`"));
        assert!(with("api.error_rate", "1.5")[0].contains("field `error_rate`"));
        assert!(with("retries.max_attempts", "0")[0].contains("field `max_attempts`"));
        assert!(with("duration_s", "0")[0].contains("scenario, field `duration_s`"));
        assert!(with("triggers.0.for_s", "0")[0].contains("field `for_s`"));
        // A negative integer is a type error from serde; it still names the block.
        assert!(with("api.workers", "-3")[0].starts_with("block \"api\""));
        // Too many metric rows is a limit, reported before the run.
        assert!(with("bucket_s", "0.0001")[0].contains("bucket_s"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut doc: Value = serde_json::from_str(STORM).unwrap();
        set_path(&mut doc, "api.workers", "0").unwrap();
        set_path(&mut doc, "users.rate", "-1").unwrap();
        set_path(&mut doc, "retries.to", "\"x\"").unwrap();
        let e = Scenario::from_value(doc).unwrap_err().problems();
        assert_eq!(e.len(), 3, "{e:?}");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = Scenario::from_json("{\n  \"version\": 1,\n  oops\n}").unwrap_err();
        match e {
            ScenarioError::Syntax { line, .. } => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn versions_are_checked_first() {
        let e = errors(&STORM.replace("\"version\": 1", "\"version\": 2"));
        assert_eq!(
            e,
            vec!["scenario, field `version`: unsupported version 2 (this build reads version 1)"]
        );
    }

    #[test]
    fn duplicate_and_reserved_ids_are_refused() {
        assert!(with("api.id", "\"retries\"")
            .iter()
            .any(|e| e.contains("same id")));
        let e = with("api.id", "\"seed\"");
        assert!(e.iter().any(|e| e.contains("reserved")), "{e:?}");
        let e = with("api.id", "\"a.b\"");
        assert!(e.iter().any(|e| e.contains("may only contain")), "{e:?}");
    }

    #[test]
    fn set_path_walks_blocks_fields_and_lists() {
        let mut doc: Value = serde_json::from_str(STORM).unwrap();
        set_path(&mut doc, "users.rate", "90").unwrap();
        set_path(&mut doc, "triggers.0.factor", "3").unwrap();
        set_path(&mut doc, "retries.backoff.jitter", "equal").unwrap();
        set_path(&mut doc, "seed", "11").unwrap();
        let s = Scenario::from_value(doc.clone()).unwrap();
        assert_eq!(s.seed, 11);
        assert_eq!(get_path(&mut doc, "users.rate").unwrap(), &Value::from(90));
        assert!(set_path(&mut doc, "nobody.rate", "1")
            .unwrap_err()
            .contains("nobody"));
        assert!(set_path(&mut doc, "triggers.4.factor", "1")
            .unwrap_err()
            .contains("past the end"));
    }
}
