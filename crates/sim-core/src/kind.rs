//! The closed sets of block and trigger kinds, and the schema of their parameters.
//!
//! Everything the rest of the program knows about a kind comes from here or from the kind's
//! own file (`blocks/<kind>.rs`, `triggers/<kind>.rs`): its name, what it calls, which
//! triggers may target it, its metric columns, and each parameter's range, default and
//! whether it is a whole number ([`Param`]). The validator checks values against the same
//! [`Param`]s the web inspector draws its inputs from, so a range is written once.
//!
//! Adding a kind is one variant here plus its file: every `match` on these enums is
//! exhaustive, in the core, the CLI and the web app alike.

use crate::blocks::{self, Behaviour, Build, Call, Outcome, ReplyTo, Token};
use crate::ctx::{Ctx, Waiting};
use crate::queue::Time;
use crate::triggers;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The one list of block kinds: each line is a kind's variant, its name in a file, its module
/// in `blocks/`, its spec (the file's part) and its run-time state. From it come the closed
/// enums [`BlockKind`], [`Block`](crate::scenario::Block) (the tagged spec) and the
/// engine's `Node` (the state), with every `match` that dispatches to a kind's own code.
/// Adding a block kind is its file plus one line here.
macro_rules! block_kinds {
    ($($Kind:ident $name:literal => $module:ident :: $Spec:ident / $State:ident,)*) => {
        /// A kind of block.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum BlockKind {
            $($Kind,)*
        }

        impl BlockKind {
            /// Every kind, in palette order.
            pub const ALL: [BlockKind; [$($name),*].len()] = [$(BlockKind::$Kind),*];

            /// The kind's name in a scenario file.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(BlockKind::$Kind => $name,)*
                }
            }

            /// Whether other blocks may call it (a client only makes requests).
            pub fn receives_calls(self) -> bool {
                match self {
                    $(BlockKind::$Kind => blocks::$module::TAKES_CALLS,)*
                }
            }

            /// How many blocks it calls.
            pub fn calls(self) -> Calls {
                match self {
                    $(BlockKind::$Kind => blocks::$module::CALLS,)*
                }
            }

            /// The names of every metric column a block of this kind may have (`<id>.<name>`
            /// in the CSV), in order; a block has those its options ask for
            /// (`Block::metric_names`).
            pub fn metric_names(self) -> &'static [&'static str] {
                match self {
                    $(BlockKind::$Kind => blocks::$module::METRICS,)*
                }
            }

            /// Its parameters, in the order an editor shows them (`to` last).
            pub fn params(self) -> &'static [Param] {
                match self {
                    $(BlockKind::$Kind => blocks::$module::PARAMS,)*
                }
            }

            /// A new block of this kind as an editor adds it: sensible values, `to` not yet
            /// set (JSON without `id`, `kind` and `ui`).
            pub fn template(self) -> &'static str {
                match self {
                    $(BlockKind::$Kind => blocks::$module::TEMPLATE,)*
                }
            }
        }

        /// One block of the system, tagged by `kind`.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Block {
            $($Kind(blocks::$module::$Spec),)*
        }

        impl BlockKind {
            /// Every kind's name, in palette order.
            pub const NAMES: [&'static str; [$($name),*].len()] = [$($name),*];
        }

        impl<'de> Deserialize<'de> for Block {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let (kind, fields) = untag(Value::deserialize(d)?, &BlockKind::NAMES)
                    .map_err(serde::de::Error::custom)?;
                match BlockKind::ALL[kind] {
                    $(BlockKind::$Kind => blocks::$module::$Spec::read(&fields).map(Block::$Kind),)*
                }
                .map_err(serde::de::Error::custom)
            }
        }

        impl Block {
            pub fn id(&self) -> &str {
                match self {
                    $(Block::$Kind(b) => &b.id,)*
                }
            }

            pub fn kind(&self) -> BlockKind {
                match self {
                    $(Block::$Kind(_) => BlockKind::$Kind,)*
                }
            }

            /// The names of this block's metric columns (`<id>.<name>` in the CSV).
            pub fn metric_names(&self) -> &'static [&'static str] {
                match self {
                    $(Block::$Kind(b) => b.metric_names(),)*
                }
            }

            /// How many metric columns this block adds.
            pub fn metric_count(&self) -> usize {
                self.metric_names().len()
            }

            /// The blocks this one calls, in order.
            pub fn downstream(&self) -> Vec<&str> {
                match self {
                    $(Block::$Kind(b) => b.downstream(),)*
                }
            }

            /// Seconds its calls take to arrive and its replies to come back (SPEC §8).
            pub fn link_latency_s(&self) -> f64 {
                match self {
                    $(Block::$Kind(b) => b.link_latency_s,)*
                }
            }

            /// The checks of its own fields (its id, the blocks it names and its link
            /// latency are checked for every kind alike).
            pub(crate) fn validate(&self, v: &mut crate::scenario::Validator) {
                match self {
                    $(Block::$Kind(b) => b.validate(v),)*
                }
            }
        }

        /// A block's run-time state.
        ///
        /// Rationale for `repr(u8)`: a plain tag byte. Without it the compiler may hide the
        /// variant in a niche of the largest block's fields when one block is larger than all
        /// others (the server became so with SPEC §8's additions), and every `match` on a node
        /// then decodes the niche: five instructions more per call delivered (callgrind).
        #[repr(u8)]
        pub(crate) enum Node {
            $($Kind(blocks::$module::$State),)*
        }

        impl Node {
            /// The state of `block` at time 0.
            pub(crate) fn build(block: &Block, b: &mut Build) -> Node {
                match block {
                    $(Block::$Kind(spec) => Node::$Kind(Behaviour::build(spec, b)),)*
                }
            }

            #[inline]
            pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
                match self {
                    $(Node::$Kind(n) => n.on_call(call, ctx),)*
                }
            }

            #[inline]
            pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
                match self {
                    $(Node::$Kind(n) => Behaviour::on_reply(n, token, outcome, ctx),)*
                }
            }

            pub(crate) fn waiting(&self, token: Token) -> Waiting {
                match self {
                    $(Node::$Kind(n) => Behaviour::waiting(n, token),)*
                }
            }

            #[inline]
            pub(crate) fn caller_to_ask(&self, token: Token) -> Option<ReplyTo> {
                match self {
                    $(Node::$Kind(n) => n.caller_to_ask(token),)*
                }
            }

            /// Bytes of live state.
            pub(crate) fn bytes(&self) -> usize {
                match self {
                    $(Node::$Kind(n) => Behaviour::bytes(n),)*
                }
            }

            /// What that state holds, for the message of a run stopped by the state limit.
            pub(crate) fn holding(&self) -> String {
                match self {
                    $(Node::$Kind(n) => n.holding(),)*
                }
            }

            /// Appends this block's metric columns for the bucket ending at `end` and resets
            /// its per-bucket counters.
            pub(crate) fn columns(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
                match self {
                    $(Node::$Kind(n) => Behaviour::columns(n, end, length, out),)*
                }
            }
        }
    };
}

/// A document tagged by `kind` (a block or a trigger), split into the index of its kind in
/// `names` and its other fields, which the kind's spec then reads.
///
/// Rationale: serde's derive for an internally tagged enum buffers the document and reads
/// every variant through a second deserializer of its own, which doubled the code of every
/// spec in the page's wasm (the largest function of it). Here every spec is read from a
/// `serde_json::Value` (`crate::fields`), whatever the document came from; the messages are
/// the derive's ("missing field `kind`", "unknown variant `x`, expected one of …").
pub(crate) fn untag(
    value: Value,
    names: &'static [&'static str],
) -> Result<(usize, Value), serde_json::Error> {
    use serde::de::Error;
    let Value::Object(mut fields) = value else {
        let what = crate::scenario::unexpected_value(&value);
        return Err(Error::invalid_type(what, &"a map"));
    };
    let kind = match fields.remove("kind") {
        Some(Value::String(kind)) => kind,
        Some(other) => {
            let what = crate::scenario::unexpected_value(&other);
            return Err(Error::invalid_type(what, &"variant identifier"));
        }
        None => return Err(Error::missing_field("kind")),
    };
    match names.iter().position(|name| *name == kind) {
        Some(index) => Ok((index, Value::Object(fields))),
        None => Err(Error::unknown_variant(&kind, names)),
    }
}

block_kinds! {
    Client "client" => client::ClientSpec / Client,
    Retry "retry" => retry::RetrySpec / RetryNode,
    Cache "cache" => cache::CacheSpec / Cache,
    Balancer "balancer" => balancer::BalancerSpec / Balancer,
    Breaker "breaker" => breaker::BreakerSpec / Breaker,
    Limiter "limiter" => limiter::LimiterSpec / Limiter,
    Server "server" => server::ServerSpec / Server,
}

/// How many blocks a block of some kind calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    /// Exactly one (`to` is an id).
    One,
    /// None or one (`to` is an optional id: a server's dependency).
    Optional,
    /// One or more (`to` is a list of ids: a balancer).
    Many,
}

impl BlockKind {
    /// The kind with this name.
    pub fn parse(name: &str) -> Option<BlockKind> {
        BlockKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The parameter at this path below a block of this kind.
    pub fn param(self, path: &str) -> Option<&'static Param> {
        self.params().iter().find(|p| p.path == path)
    }
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    LoadSpike,
    LoadSteps,
    Latency,
    Outage,
    Capacity,
    Errors,
    Partition,
    CacheFlush,
}

impl TriggerKind {
    /// Every kind, in menu order.
    pub const ALL: [TriggerKind; 8] = [
        TriggerKind::LoadSpike,
        TriggerKind::LoadSteps,
        TriggerKind::Latency,
        TriggerKind::Outage,
        TriggerKind::Capacity,
        TriggerKind::Errors,
        TriggerKind::Partition,
        TriggerKind::CacheFlush,
    ];

    /// Every kind's name, in menu order.
    pub const NAMES: [&'static str; 8] = [
        "load_spike",
        "load_steps",
        "latency",
        "outage",
        "capacity",
        "errors",
        "partition",
        "cache_flush",
    ];

    /// The kind's name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::LoadSpike => "load_spike",
            TriggerKind::LoadSteps => "load_steps",
            TriggerKind::Latency => "latency",
            TriggerKind::Outage => "outage",
            TriggerKind::Capacity => "capacity",
            TriggerKind::Errors => "errors",
            TriggerKind::Partition => "partition",
            TriggerKind::CacheFlush => "cache_flush",
        }
    }

    /// The kind with this name.
    pub fn parse(name: &str) -> Option<TriggerKind> {
        TriggerKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kinds of block it may target.
    pub fn targets(self) -> &'static [BlockKind] {
        use BlockKind::*;
        match self {
            TriggerKind::LoadSpike | TriggerKind::LoadSteps => &[Client],
            TriggerKind::Latency
            | TriggerKind::Outage
            | TriggerKind::Capacity
            | TriggerKind::Errors => &[Server],
            TriggerKind::Partition => &[Retry, Cache, Balancer, Breaker, Limiter, Server],
            TriggerKind::CacheFlush => &[Cache],
        }
    }

    /// Whether it acts at one instant (no `for_s`). Not every trigger that lasts has a
    /// `for_s`: a `load_steps` lasts as long as its steps (see [`Trigger::for_s`]).
    ///
    /// [`Trigger::for_s`]: crate::scenario::Trigger::for_s
    pub fn instant(self) -> bool {
        matches!(self, TriggerKind::CacheFlush)
    }

    /// Its parameters (`target`, `at_s`, `for_s` when it has one, then its own).
    pub fn params(self) -> &'static [Param] {
        match self {
            TriggerKind::LoadSpike => triggers::load_spike::PARAMS,
            TriggerKind::LoadSteps => triggers::load_steps::PARAMS,
            TriggerKind::Latency => triggers::latency::PARAMS,
            TriggerKind::Outage => triggers::outage::PARAMS,
            TriggerKind::Capacity => triggers::capacity::PARAMS,
            TriggerKind::Errors => triggers::errors::PARAMS,
            TriggerKind::Partition => triggers::partition::PARAMS,
            TriggerKind::CacheFlush => triggers::cache_flush::PARAMS,
        }
    }

    /// The parameter at this path below a trigger of this kind.
    pub fn param(self, path: &str) -> Option<&'static Param> {
        self.params().iter().find(|p| p.path == path)
    }
}

impl fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a parameter means when it is absent from the file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Absent {
    /// It must be given.
    Required,
    /// Absent means "none" (no timeout, an unbounded queue, no TTL).
    Unset,
    /// Absent means this value.
    Is(f64),
}

/// What values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// A finite number from `min` (strictly above it when `above`) to `max`.
    Number {
        min: f64,
        above: bool,
        max: f64,
        absent: Absent,
    },
    /// A whole number from `min` to `max`.
    Whole { min: u64, max: u64, absent: Absent },
    /// One of these words; absent means the first.
    Choice(&'static [&'static str]),
    /// true or false.
    Flag { absent: bool },
    /// Another block's id.
    Target { optional: bool },
    /// A list of block ids.
    Targets,
    /// A list of 1 to `max_len` finite numbers, each from `min` to `max` (a staircase's
    /// factors).
    Numbers { min: f64, max: f64, max_len: usize },
    /// An optional object of sub-parameters (`budget`, `slowdown`); `start` is the JSON it
    /// starts as when an editor switches it on.
    Group { start: &'static str },
    /// Free text.
    Text,
}

/// When a parameter applies (an editor shows only those that do).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum When {
    Always,
    /// When the parameter at this path has this value (its absent value counts).
    Is(&'static str, &'static str),
    /// When the parameter at this path does not have this value.
    Not(&'static str, &'static str),
    /// When the parameter at this path is set.
    Set(&'static str),
}

/// One parameter of a kind: its `--set` path below the block or trigger and its values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    pub path: &'static str,
    pub value: ParamValue,
    pub when: When,
}

impl Param {
    /// A parameter that always applies.
    pub const fn new(path: &'static str, value: ParamValue) -> Param {
        Param {
            path,
            value,
            when: When::Always,
        }
    }

    /// The same parameter, applying only `when`.
    pub const fn when(self, when: When) -> Param {
        Param { when, ..self }
    }

    /// A number in `[min, max]`.
    pub const fn number(path: &'static str, min: f64, max: f64, absent: Absent) -> Param {
        Param::new(
            path,
            ParamValue::Number {
                min,
                above: false,
                max,
                absent,
            },
        )
    }

    /// A number in `(min, max]`.
    pub const fn above(path: &'static str, min: f64, max: f64, absent: Absent) -> Param {
        Param::new(
            path,
            ParamValue::Number {
                min,
                above: true,
                max,
                absent,
            },
        )
    }

    /// A whole number in `[min, max]`.
    pub const fn whole(path: &'static str, min: u64, max: u64, absent: Absent) -> Param {
        Param::new(path, ParamValue::Whole { min, max, absent })
    }

    /// Whether it may be left out (and then means [`Param::absent_text`]).
    pub fn optional(&self) -> bool {
        match self.value {
            ParamValue::Number { absent, .. } | ParamValue::Whole { absent, .. } => {
                absent != Absent::Required
            }
            ParamValue::Target { optional } => optional,
            ParamValue::Choice(_)
            | ParamValue::Flag { .. }
            | ParamValue::Group { .. }
            | ParamValue::Text => true,
            ParamValue::Targets | ParamValue::Numbers { .. } => false,
        }
    }

    /// Whether it takes whole numbers only.
    pub fn is_whole(&self) -> bool {
        matches!(self.value, ParamValue::Whole { .. })
    }

    /// What the simulation uses when it is absent, as an editor shows it ("" for none).
    pub fn absent_text(&self) -> String {
        match self.value {
            ParamValue::Number { absent, .. } | ParamValue::Whole { absent, .. } => match absent {
                Absent::Is(v) => v.to_string(),
                Absent::Required | Absent::Unset => String::new(),
            },
            ParamValue::Choice(options) => options.first().copied().unwrap_or("").to_string(),
            ParamValue::Flag { absent } => absent.to_string(),
            ParamValue::Target { .. }
            | ParamValue::Targets
            | ParamValue::Numbers { .. }
            | ParamValue::Group { .. }
            | ParamValue::Text => String::new(),
        }
    }

    /// Whether it applies to this block or trigger (its JSON) as it stands: by [`When`],
    /// and a group's sub-parameter only while the group is set.
    pub fn applies(&self, params: &'static [Param], item: &Value) -> bool {
        if let Some((group, _)) = self.path.split_once('.') {
            let is_group = params
                .iter()
                .any(|p| p.path == group && matches!(p.value, ParamValue::Group { .. }));
            if is_group && item.get(group).is_none_or(Value::is_null) {
                return false;
            }
        }
        let value_at = |path: &str| -> Option<String> {
            let pointer = format!("/{}", path.replace('.', "/"));
            match item.pointer(&pointer) {
                None | Some(Value::Null) => {
                    let text = params.iter().find(|p| p.path == path)?.absent_text();
                    (!text.is_empty()).then_some(text)
                }
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            }
        };
        match self.when {
            When::Always => true,
            When::Is(path, value) => value_at(path).as_deref() == Some(value),
            When::Not(path, value) => value_at(path).as_deref() != Some(value),
            When::Set(path) => {
                let pointer = format!("/{}", path.replace('.', "/"));
                item.pointer(&pointer).is_some_and(|v| !v.is_null())
            }
        }
    }
}

/// The scenario's own parameters (the seed, a whole number of 64 bits, has its own rules).
pub const SCENARIO_PARAMS: &[Param] = &[
    Param::new("name", ParamValue::Text),
    Param::number(
        "duration_s",
        crate::scenario::limits::MIN_BUCKET_S,
        crate::scenario::limits::MAX_DURATION_S,
        Absent::Required,
    ),
    Param::number(
        "bucket_s",
        crate::scenario::limits::MIN_BUCKET_S,
        crate::scenario::limits::MAX_TIME_S,
        Absent::Is(1.0),
    ),
];

/// The parameter a `--set` path names in this document (`api.workers`, `triggers.0.factor`,
/// `duration_s`), found by the kind of the block or trigger it points into.
pub fn param_at(doc: &Value, path: &str) -> Option<&'static Param> {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if rest.is_empty() {
        return SCENARIO_PARAMS.iter().find(|p| p.path == head);
    }
    if head == "triggers" {
        let (index, rest) = rest.split_once('.')?;
        let trigger = doc.get("triggers")?.get(index.parse::<usize>().ok()?)?;
        let kind = TriggerKind::parse(trigger.get("kind")?.as_str()?)?;
        return kind.param(rest);
    }
    let block = doc
        .get("blocks")?
        .as_array()?
        .iter()
        .find(|b| b.get("id").and_then(Value::as_str) == Some(head))?;
    let kind = BlockKind::parse(block.get("kind")?.as_str()?)?;
    kind.param(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in BlockKind::ALL {
            assert_eq!(BlockKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                Value::from(kind.as_str())
            );
        }
        for kind in TriggerKind::ALL {
            assert_eq!(TriggerKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                Value::from(kind.as_str())
            );
        }
        assert_eq!(BlockKind::parse("nope"), None);
        assert_eq!(BlockKind::ALL.map(BlockKind::as_str), BlockKind::NAMES);
        assert_eq!(
            TriggerKind::ALL.map(TriggerKind::as_str),
            TriggerKind::NAMES
        );
    }

    #[test]
    fn a_tagged_document_is_read_by_its_kind_with_the_derives_messages() {
        let read = |doc: Value| Block::deserialize(&doc).map_err(|e| e.to_string());
        let server = read(
            serde_json::json!({"id": "api", "kind": "server", "workers": 3,
            "service": {"dist": "exponential", "mean_s": 0.1}}),
        );
        assert_eq!(server.unwrap().kind(), BlockKind::Server);
        // From any deserializer, not only a document's values: text, as a worker reads it.
        let text = r#"{"kind": "outage", "target": "api", "at_s": 1, "for_s": 2}"#;
        let trigger: triggers::Trigger = serde_json::from_str(text).unwrap();
        assert_eq!(trigger.kind(), TriggerKind::Outage);
        for (doc, message) in [
            (
                serde_json::json!({"id": "a"}),
                "missing field `kind`".to_string(),
            ),
            (
                serde_json::json!({"id": "a", "kind": 3}),
                "invalid type: integer `3`, expected variant identifier".to_string(),
            ),
            (
                serde_json::json!({"id": "a", "kind": "nope"}),
                format!(
                    "unknown variant `nope`, expected one of {}",
                    BlockKind::NAMES.map(|n| format!("`{n}`")).join(", ")
                ),
            ),
            (
                serde_json::json!("server"),
                "invalid type: string \"server\", expected a map".to_string(),
            ),
            (
                serde_json::json!({"id": "a", "kind": "server", "workers": 1.5}),
                "invalid type: floating point `1.5`, expected u32".to_string(),
            ),
            (
                serde_json::json!({"id": "a", "kind": "server", "wrokers": 1}),
                "unknown field `wrokers`".to_string(),
            ),
        ] {
            let got = read(doc).unwrap_err();
            assert!(
                got.starts_with(&message),
                "{got:?} should start with {message:?}"
            );
        }
    }

    #[test]
    fn param_at_finds_the_field_by_the_kind_of_its_block() {
        let doc = serde_json::json!({"blocks": [
            {"id": "api", "kind": "server"}, {"id": "r", "kind": "retry"}],
            "triggers": [{"kind": "capacity"}]});
        assert!(param_at(&doc, "api.workers").unwrap().is_whole());
        assert!(!param_at(&doc, "api.service.mean_s").unwrap().is_whole());
        assert!(param_at(&doc, "r.max_attempts").unwrap().is_whole());
        assert!(param_at(&doc, "triggers.0.workers").unwrap().is_whole());
        assert!(!param_at(&doc, "duration_s").unwrap().is_whole());
        assert_eq!(param_at(&doc, "api.nope"), None);
        assert_eq!(param_at(&doc, "nobody.workers"), None);
    }

    /// A scenario in which `block` (id `x`) is called by a client and calls a server.
    fn around(kind: BlockKind, mut block: Value) -> Value {
        block["id"] = "x".into();
        block["kind"] = kind.as_str().into();
        match kind.calls() {
            Calls::One => block["to"] = "s".into(),
            Calls::Many => block["to"] = serde_json::json!(["s"]),
            Calls::Optional => {}
        }
        let mut blocks = vec![block];
        blocks.push(
            serde_json::from_str(
                r#"{"id": "s", "kind": "server", "workers": 1,
            "service": {"mean_s": 0.1}}"#,
            )
            .unwrap(),
        );
        if kind.receives_calls() {
            blocks.push(serde_json::json!({"id": "c", "kind": "client", "rate": 1, "to": "x"}));
        }
        serde_json::json!({"version": 1, "duration_s": 10, "blocks": blocks,
            "triggers": [{"kind": "load_spike", "target": if kind.receives_calls() { "c" } else { "x" },
                "at_s": 1, "for_s": 1, "factor": 2}]})
    }

    fn template(kind: BlockKind) -> Value {
        serde_json::from_str(kind.template()).unwrap()
    }

    fn problems(doc: &Value) -> Vec<crate::Problem> {
        match crate::Scenario::from_value_ref(doc) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems(),
        }
    }

    /// Sets one parameter of block `x` (and switches on its group, if it is in one).
    fn with(kind: BlockKind, param: &Param, value: Value) -> Value {
        let mut doc = around(kind, template(kind));
        if let Some((group, _)) = param.path.split_once('.') {
            if let Some(ParamValue::Group { start }) = kind.param(group).map(|p| p.value) {
                doc["blocks"][0][group] = serde_json::from_str(start).unwrap();
            }
        }
        // What it applies under.
        match param.when {
            When::Is(path, wanted) => crate::set_path(
                &mut doc,
                &format!("x.{path}"),
                &Value::from(wanted).to_string(),
            )
            .unwrap(),
            When::Set(path) => crate::set_path(&mut doc, &format!("x.{path}"), "10").unwrap(),
            When::Always | When::Not(..) => {}
        }
        crate::set_path(&mut doc, &format!("x.{}", param.path), &value.to_string()).unwrap();
        assert!(
            param.applies(kind.params(), &doc["blocks"][0]),
            "{kind}.{}",
            param.path
        );
        doc
    }

    #[test]
    fn every_template_is_a_valid_block_once_connected() {
        for kind in BlockKind::ALL {
            let doc = around(kind, template(kind));
            assert_eq!(problems(&doc), vec![], "{kind}");
        }
    }

    /// Every parameter is one the core reads, with the range the validator holds it to: the
    /// schema the editor draws its inputs from cannot drift from the scenario types.
    #[test]
    fn every_parameter_is_read_and_checked_as_the_schema_says() {
        let refused = |doc: &Value, field: &str| problems(doc).iter().any(|p| p.field == field);
        for kind in BlockKind::ALL {
            for param in kind.params() {
                let field = param.path;
                match param.value {
                    ParamValue::Number {
                        min, above, max, ..
                    } => {
                        // Its ends are accepted (one of them may clash with another field:
                        // a backoff cap below its base).
                        let low = if above { min + 0.5 } else { min };
                        let accepted = [low, max]
                            .iter()
                            .filter(|v| !refused(&with(kind, param, (**v).into()), field))
                            .count();
                        assert!(accepted > 0, "{kind}.{field}: neither end accepted");
                        assert!(
                            refused(&with(kind, param, (min - 1.0).into()), field),
                            "{kind}.{field} below"
                        );
                        if above {
                            assert!(
                                refused(&with(kind, param, min.into()), field),
                                "{kind}.{field} at min"
                            );
                        }
                        assert!(
                            refused(&with(kind, param, (max * 2.0).into()), field),
                            "{kind}.{field} above"
                        );
                        assert!(!param.is_whole());
                    }
                    ParamValue::Whole { min, max, .. } => {
                        let doc = with(kind, param, min.max(1).into());
                        assert!(
                            !refused(&doc, field),
                            "{kind}.{field}: {:?}",
                            problems(&doc)
                        );
                        if min > 0 {
                            assert!(
                                refused(&with(kind, param, (min - 1).into()), field),
                                "{kind}.{field} below"
                            );
                        }
                        if max < u64::MAX {
                            assert!(
                                refused(&with(kind, param, (max + 1).into()), field),
                                "{kind}.{field} above"
                            );
                        }
                        assert!(
                            refused(&with(kind, param, 1.5.into()), field),
                            "{kind}.{field} fraction"
                        );
                    }
                    ParamValue::Choice(options) => {
                        for option in options {
                            let doc = with(kind, param, (*option).into());
                            assert!(!refused(&doc, field), "{kind}.{field} = {option}");
                        }
                        assert!(
                            refused(&with(kind, param, "nope".into()), field),
                            "{kind}.{field}"
                        );
                    }
                    ParamValue::Flag { .. } => {
                        for flag in [true, false] {
                            assert!(
                                !refused(&with(kind, param, flag.into()), field),
                                "{kind}.{field}"
                            );
                        }
                        assert!(
                            refused(&with(kind, param, "maybe".into()), field),
                            "{kind}.{field}"
                        );
                    }
                    ParamValue::Group { start } => {
                        let doc = with(kind, param, serde_json::from_str::<Value>(start).unwrap());
                        assert!(
                            !refused(&doc, field),
                            "{kind}.{field}: {:?}",
                            problems(&doc)
                        );
                        // Each of its members is a parameter too.
                        let members: Value = serde_json::from_str(start).unwrap();
                        for key in members.as_object().unwrap().keys() {
                            assert!(
                                kind.param(&format!("{field}.{key}")).is_some(),
                                "{kind}.{field}.{key}"
                            );
                        }
                    }
                    ParamValue::Target { .. } | ParamValue::Targets => {
                        assert_eq!(field, "to", "{kind}");
                        let (value, field) = if param.value == ParamValue::Targets {
                            (serde_json::json!(["nobody"]), "to.0")
                        } else {
                            ("nobody".into(), "to")
                        };
                        assert!(refused(&with(kind, param, value), field), "{kind}.{field}");
                    }
                    ParamValue::Text => panic!("{kind}.{field}: blocks have no free text"),
                    ParamValue::Numbers { .. } => panic!("{kind}.{field}: blocks have no lists"),
                }
            }
            // And nothing else: a field the schema does not list is refused.
            let mut doc = around(kind, template(kind));
            doc["blocks"][0]["surely_not"] = 1.into();
            assert!(refused(&doc, "surely_not"), "{kind}");
        }
    }

    #[test]
    fn every_trigger_template_is_valid_and_its_parameters_are_checked() {
        for kind in TriggerKind::ALL {
            let target_kind = kind.targets()[0];
            let mut doc = around(target_kind, template(target_kind));
            doc["triggers"] = serde_json::json!([]);
            let mut trigger: Value = serde_json::from_str(kind.template()).unwrap();
            trigger["kind"] = kind.as_str().into();
            trigger["target"] = "x".into();
            trigger["at_s"] = 1.into();
            if kind.param("for_s").is_some() {
                trigger["for_s"] = 2.into();
            }
            doc["triggers"] = serde_json::json!([trigger]);
            assert_eq!(problems(&doc), vec![], "{kind}");
            let refused = |path: &str, value: Value| {
                let mut bad = doc.clone();
                bad["triggers"][0][path] = value;
                problems(&bad).iter().any(|p| p.field == path)
            };
            for param in kind.params() {
                let path = param.path;
                match param.value {
                    ParamValue::Number { min, .. } => {
                        assert!(refused(path, (min - 1.0).into()), "{kind}.{path}");
                    }
                    ParamValue::Whole { .. } => {
                        assert!(refused(path, (-1.0).into()), "{kind}.{path}");
                    }
                    ParamValue::Numbers { min, max, max_len } => {
                        let list = |v: Vec<f64>| serde_json::json!(v);
                        assert!(!refused(path, list(vec![min, max])), "{kind}.{path}");
                        assert!(refused(path, list(vec![])), "{kind}.{path} empty");
                        assert!(refused(path, list(vec![min, min - 1.0])), "{kind}.{path}");
                        assert!(refused(path, list(vec![max * 2.0])), "{kind}.{path}");
                        assert!(
                            refused(path, list(vec![min; max_len + 1])),
                            "{kind}.{path} too long"
                        );
                        assert!(!refused(path, list(vec![min; max_len])), "{kind}.{path}");
                    }
                    _ => {}
                }
            }
            // An instant trigger has no length; one that lasts says how long, with or
            // without a `for_s` of its own (a staircase lasts its steps).
            let scenario = crate::Scenario::from_value_ref(&doc).unwrap();
            assert_eq!(
                scenario.triggers[0].for_s().is_none(),
                kind.instant(),
                "{kind}"
            );
            if kind.instant() {
                assert!(kind.param("for_s").is_none(), "{kind}");
            }
        }
    }

    #[test]
    fn metric_names_are_the_columns_a_run_writes() {
        for kind in BlockKind::ALL {
            let scenario = crate::Scenario::from_value(around(kind, template(kind))).unwrap();
            let sim = crate::Sim::new(&scenario).unwrap();
            let mine: Vec<&str> = sim
                .columns()
                .iter()
                .filter_map(|c| c.strip_prefix("x."))
                .collect();
            assert_eq!(mine, scenario.blocks[0].metric_names(), "{kind}");
            assert!(
                mine.iter().all(|m| kind.metric_names().contains(m)),
                "{kind}"
            );
        }
    }
}
