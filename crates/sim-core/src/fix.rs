//! What fixes it (SPEC §9): a catalogue of mitigations as data, the ones that apply to a
//! scenario, and how their runs rank.
//!
//! Each [`Entry`] of [`CATALOGUE`] names the blocks it applies to ([`Applies`]), the fields it
//! sets on each of them (`--set`-style: `retries.budget = {ratio 0.1, max_tokens 10}`, with
//! values that may be read from the block: `workers × 1.25`, 90% of a server's capacity), and
//! the block it inserts in front of each, if any (a limiter before a server, a breaker before a
//! retry layer; whatever called the block then calls the new one). [`applicable`] turns the
//! entries into [`Candidate`]s for one scenario: an entry with no block to act on, or whose
//! edits would change nothing (the scenario already has that fix), is not offered. An entry
//! that applies to several blocks of a kind (two retry layers, three servers behind a
//! balancer) acts on all of them in one candidate.
//!
//! Nothing here runs a simulation: the caller runs each candidate (and the original, for
//! reference) over k seeds — the CLI on its threads, the playground in its workers — reduces
//! each run with [`crate::replicate::Replica::of`], aggregates a candidate's seeds with
//! [`Aggregate::of`], and orders the aggregates with [`rank`]. `docs/model.md` ("What fixes
//! it") says what each entry does and why.

use crate::kind::{BlockKind, ParamValue};
use crate::replicate::{Aggregate, Interval};
use crate::scenario::{get_path, set_path, Block, Scenario, ScenarioError};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Which blocks of a scenario an entry acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Retry blocks that retry (`max_attempts` above 1): a retry block with one attempt is
    /// only a timeout, and the retry entries leave it alone.
    Retrying,
    /// Retry blocks that retry and that a client with a `timeout_s` reaches (through any
    /// blocks): there is a user's deadline to respect.
    RetryingWithDeadline,
    /// Every retry block, retrying or not: what a breaker goes in front of, where the layer's
    /// give-ups reach it (a breaker has no timeout of its own, so in front of a server it
    /// would see only errors and never a timeout).
    Retry,
    /// Every server.
    Server,
    /// Servers that a retrying block calls, directly or through other blocks: where retries
    /// queue beside first attempts.
    ServerBelowRetries,
    /// Servers whose queue is unbounded (no `queue_capacity`).
    ServerUnbounded,
    /// Servers without an autoscaler.
    ServerFixedSize,
    /// Caches with `fill_late` off.
    CacheNotFillingLate,
}

impl Applies {
    /// In words, for the docs and the tests' messages.
    pub fn describe(self) -> &'static str {
        match self {
            Applies::Retrying => "retry blocks with max_attempts > 1",
            Applies::RetryingWithDeadline => {
                "retry blocks with max_attempts > 1 below a client with timeout_s"
            }
            Applies::Retry => "retry blocks",
            Applies::Server => "servers",
            Applies::ServerBelowRetries => "servers below a retry block with max_attempts > 1",
            Applies::ServerUnbounded => "servers without queue_capacity",
            Applies::ServerFixedSize => "servers without autoscale",
            Applies::CacheNotFillingLate => "caches with fill_late false",
        }
    }
}

/// A value an entry writes, found from the block it acts on (for an inserted block: the block
/// it goes in front of). Numbers are fitted to the field's range (whole fields rounded up)
/// and derived ones rounded to four significant figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    /// This JSON, as written.
    Json(&'static str),
    /// The field's own value times this; no edit where the field is absent.
    Scale(f64),
    /// The server's workers times this.
    Workers(f64),
    /// This share of the server's capacity: workers (an autoscaler's `max_workers`) divided
    /// by the mean service time, in calls per second.
    Capacity(f64),
    /// The server's mean service time times this, in seconds.
    Service(f64),
    /// The calls the server serves in half the scenario's shortest timeout (a client's
    /// `timeout_s` or a retry block's `attempt_timeout_s`; one second's worth without any):
    /// a queue that full still answers its last call in time.
    QueueWithinTimeout,
    /// An object of such values.
    Object(&'static [(&'static str, Amount)]),
    /// The field removed (a server's `codel` settings when it leaves the `codel` discipline);
    /// no edit where it is absent.
    Unset,
}

/// A block an entry inserts in front of each block it acts on: its kind, the suffix of its id
/// (`api` gets `api-limiter`), and its fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Insert {
    pub kind: BlockKind,
    pub suffix: &'static str,
    pub fields: &'static [(&'static str, Amount)],
}

/// One mitigation of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// Stable, kebab-case: what `--emit` takes and the tests name.
    pub name: &'static str,
    /// One line, a noun phrase: "a retry budget of 10%".
    pub title: &'static str,
    pub applies: Applies,
    /// The fields set on each block it applies to, in order (paths below the block).
    pub set: &'static [(&'static str, Amount)],
    pub insert: Option<Insert>,
}

/// The catalogue, in the order candidates are listed before ranking (and ties keep).
pub const CATALOGUE: &[Entry] = &[
    Entry {
        name: "no-retries",
        title: "no retries",
        applies: Applies::Retrying,
        set: &[("max_attempts", Amount::Json("1"))],
        insert: None,
    },
    Entry {
        name: "retry-budget",
        title: "a retry budget of 10%",
        applies: Applies::Retrying,
        set: &[(
            "budget",
            Amount::Json(r#"{"ratio": 0.1, "max_tokens": 10}"#),
        )],
        insert: None,
    },
    Entry {
        name: "deadline-aware",
        title: "deadline-aware retries",
        applies: Applies::RetryingWithDeadline,
        set: &[("respect_deadline", Amount::Json("true"))],
        insert: None,
    },
    Entry {
        name: "backoff-jitter",
        title: "exponential backoff with full jitter",
        applies: Applies::Retrying,
        set: &[(
            "backoff",
            Amount::Json(
                r#"{"kind": "exponential", "base_s": 0.1, "cap_s": 20, "jitter": "full"}"#,
            ),
        )],
        insert: None,
    },
    Entry {
        name: "lifo-drop-expired",
        title: "LIFO and dropping expired calls",
        applies: Applies::Server,
        set: &[
            ("discipline", Amount::Json(r#""lifo""#)),
            ("codel", Amount::Unset),
            ("drop_expired", Amount::Json("true")),
        ],
        insert: None,
    },
    Entry {
        name: "codel",
        title: "adaptive LIFO with CoDel",
        applies: Applies::Server,
        set: &[
            ("discipline", Amount::Json(r#""codel""#)),
            (
                "codel",
                Amount::Object(&[
                    ("target_s", Amount::Service(0.5)),
                    ("interval_s", Amount::Service(5.0)),
                ]),
            ),
        ],
        insert: None,
    },
    Entry {
        name: "priority-first-attempts",
        title: "first attempts served before retries",
        applies: Applies::ServerBelowRetries,
        set: &[
            ("discipline", Amount::Json(r#""priority""#)),
            ("codel", Amount::Unset),
        ],
        insert: None,
    },
    Entry {
        name: "rate-limiter",
        title: "a rate limiter at 90% of capacity",
        applies: Applies::Server,
        set: &[],
        insert: Some(Insert {
            kind: BlockKind::Limiter,
            suffix: "limiter",
            fields: &[
                ("mode", Amount::Json(r#""rate""#)),
                ("rate", Amount::Capacity(0.9)),
                ("burst", Amount::Workers(1.0)),
            ],
        }),
    },
    Entry {
        name: "adaptive-limiter",
        title: "an adaptive concurrency limiter",
        applies: Applies::Server,
        set: &[],
        insert: Some(Insert {
            kind: BlockKind::Limiter,
            suffix: "limiter",
            fields: &[
                ("mode", Amount::Json(r#""adaptive""#)),
                ("initial_limit", Amount::Workers(2.0)),
                ("min_limit", Amount::Workers(0.5)),
                ("max_limit", Amount::Workers(5.0)),
                ("target_latency_s", Amount::Service(3.0)),
            ],
        }),
    },
    Entry {
        name: "bounded-queue",
        title: "a bounded queue",
        applies: Applies::ServerUnbounded,
        set: &[("queue_capacity", Amount::QueueWithinTimeout)],
        insert: None,
    },
    Entry {
        name: "breaker",
        title: "a circuit breaker",
        applies: Applies::Retry,
        set: &[],
        insert: Some(Insert {
            kind: BlockKind::Breaker,
            suffix: "breaker",
            fields: &[
                ("failure_threshold", Amount::Json("0.5")),
                ("window_s", Amount::Json("10")),
                ("min_calls", Amount::Json("20")),
                ("open_s", Amount::Json("5")),
                ("half_open_probes", Amount::Json("1")),
            ],
        }),
    },
    Entry {
        name: "fill-late",
        title: "caches filled by late replies",
        applies: Applies::CacheNotFillingLate,
        set: &[("fill_late", Amount::Json("true"))],
        insert: None,
    },
    Entry {
        name: "autoscale",
        title: "autoscaling up to 4× the workers",
        applies: Applies::ServerFixedSize,
        set: &[(
            "autoscale",
            Amount::Object(&[
                ("target_utilization", Amount::Json("0.75")),
                ("min_workers", Amount::Workers(1.0)),
                ("max_workers", Amount::Workers(4.0)),
                ("interval_s", Amount::Json("5")),
                ("warmup_s", Amount::Json("10")),
                ("cooldown_s", Amount::Json("60")),
            ]),
        )],
        insert: None,
    },
    Entry {
        name: "more-workers",
        title: "25% more workers",
        applies: Applies::Server,
        set: &[
            ("workers", Amount::Scale(1.25)),
            ("autoscale.min_workers", Amount::Scale(1.25)),
            ("autoscale.max_workers", Amount::Scale(1.25)),
        ],
        insert: None,
    },
];

/// The catalogue entry with this name.
pub fn entry(name: &str) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.name == name)
}

/// One field an applicable entry changes: `path` is a `--set` path (`retries.budget`);
/// `value` `None` means the field is removed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edit {
    pub path: String,
    pub value: Option<Value>,
}

/// A block an applicable entry inserts in front of `before` (whatever called `before` calls
/// it instead); `block` is its JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inserted {
    pub id: String,
    pub before: String,
    pub block: Value,
}

/// A catalogue entry applied to one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub name: &'static str,
    pub title: &'static str,
    pub edits: Vec<Edit>,
    pub inserts: Vec<Inserted>,
    /// The scenario document with the fix in it (not yet validated).
    #[serde(skip)]
    doc: Value,
}

impl Candidate {
    /// What it changes, in words: `retries.budget = {ratio 0.1, max_tokens 10}`;
    /// `insert limiter api-limiter {mode adaptive, …} before api`.
    pub fn words(&self) -> String {
        let mut parts: Vec<String> = self
            .edits
            .iter()
            .map(|e| match &e.value {
                Some(v) => format!("{} = {}", e.path, value_words(v)),
                None => format!("{} removed", e.path),
            })
            .collect();
        for insert in &self.inserts {
            let kind = insert
                .block
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut fields = insert.block.clone();
            if let Some(map) = fields.as_object_mut() {
                for key in ["id", "kind", "to", "ui"] {
                    map.remove(key);
                }
            }
            parts.push(format!(
                "insert {kind} {} {} before {}",
                insert.id,
                value_words(&fields),
                insert.before
            ));
        }
        parts.join("; ")
    }

    /// The scenario document with the fix in it.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The scenario with the fix in it, validated; an error names the entry and, through the
    /// validator, the block and field.
    pub fn scenario(&self) -> Result<Scenario, String> {
        Scenario::from_value_ref(&self.doc).map_err(|e: ScenarioError| {
            format!("the fix {} gives an invalid scenario: {e}", self.name)
        })
    }
}

/// A JSON value as the table writes it: strings bare, objects as `{key value, …}`.
pub fn value_words(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} {}", value_words(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value_words).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// The catalogue's entries that apply to `scenario`, in catalogue order, each with its
/// edits and its scenario document. Entries with no block to act on, or that would change
/// nothing, are left out. Linear in the scenario's size per entry.
pub fn applicable(scenario: &Scenario) -> Vec<Candidate> {
    let Ok(base) = serde_json::to_value(scenario) else {
        return Vec::new();
    };
    let facts = Facts::of(scenario);
    CATALOGUE
        .iter()
        .filter_map(|entry| candidate(entry, scenario, &facts, &base))
        .collect()
}

/// What the entries read from a scenario once: which blocks a retrying block or a client
/// with a deadline reaches, and the shortest timeout.
struct Facts {
    below_retries: Vec<bool>,
    below_deadline: Vec<bool>,
    shortest_timeout_s: Option<f64>,
}

impl Facts {
    fn of(scenario: &Scenario) -> Facts {
        let index: BTreeMap<&str, usize> = scenario
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id(), i))
            .collect();
        let downstream: Vec<Vec<usize>> = scenario
            .blocks
            .iter()
            .map(|b| {
                b.downstream()
                    .iter()
                    .filter_map(|id| index.get(id).copied())
                    .collect()
            })
            .collect();
        // Every block reachable from the sources, the sources excluded unless reached.
        let reach = |sources: &mut dyn Iterator<Item = usize>| {
            let mut seen = vec![false; scenario.blocks.len()];
            let mut stack: Vec<usize> = sources.flat_map(|s| downstream[s].clone()).collect();
            while let Some(b) = stack.pop() {
                if !seen[b] {
                    seen[b] = true;
                    stack.extend(downstream[b].iter().copied().filter(|&d| !seen[d]));
                }
            }
            seen
        };
        let blocks = &scenario.blocks;
        let below_retries = reach(
            &mut (0..blocks.len())
                .filter(|&i| matches!(&blocks[i], Block::Retry(r) if r.max_attempts > 1)),
        );
        let below_deadline = reach(
            &mut (0..blocks.len())
                .filter(|&i| matches!(&blocks[i], Block::Client(c) if c.timeout_s.is_some())),
        );
        let shortest_timeout_s = blocks
            .iter()
            .filter_map(|b| match b {
                Block::Client(c) => c.timeout_s,
                Block::Retry(r) => r.attempt_timeout_s,
                _ => None,
            })
            .min_by(f64::total_cmp);
        Facts {
            below_retries,
            below_deadline,
            shortest_timeout_s,
        }
    }

    fn applies(&self, applies: Applies, index: usize, block: &Block) -> bool {
        match (applies, block) {
            (Applies::Retrying, Block::Retry(r)) => r.max_attempts > 1,
            (Applies::RetryingWithDeadline, Block::Retry(r)) => {
                r.max_attempts > 1 && self.below_deadline[index]
            }
            (Applies::Retry, Block::Retry(_)) | (Applies::Server, Block::Server(_)) => true,
            (Applies::ServerBelowRetries, Block::Server(_)) => self.below_retries[index],
            (Applies::ServerUnbounded, Block::Server(s)) => s.queue_capacity.is_none(),
            (Applies::ServerFixedSize, Block::Server(s)) => s.autoscale.is_none(),
            (Applies::CacheNotFillingLate, Block::Cache(c)) => !c.fill_late,
            _ => false,
        }
    }
}

/// How far right a block moves when one is inserted before it (the editor's layer width).
const LAYER_DX: f64 = 210.0;

fn candidate(
    entry: &'static Entry,
    scenario: &Scenario,
    facts: &Facts,
    base: &Value,
) -> Option<Candidate> {
    let targets: Vec<usize> = (0..scenario.blocks.len())
        .filter(|&i| facts.applies(entry.applies, i, &scenario.blocks[i]))
        .collect();
    if targets.is_empty() {
        return None;
    }
    let mut doc = base.clone();
    let mut edits = Vec::new();
    for &t in &targets {
        let block = &scenario.blocks[t];
        for &(field, amount) in entry.set {
            let path = format!("{}.{field}", block.id());
            let current = get_path(&mut doc, &path).ok().cloned();
            if amount == Amount::Unset {
                if current.is_some() && remove_field(&mut doc, t, field) {
                    edits.push(Edit { path, value: None });
                }
                continue;
            }
            let Some(value) = resolve(amount, block, block.kind(), field, current.as_ref(), facts)
            else {
                continue;
            };
            let unchanged = match &current {
                Some(c) => same(c, &value),
                None => absent_default(block, field, &value),
            };
            if unchanged {
                continue;
            }
            if set_path(&mut doc, &path, &value.to_string()).is_ok() {
                edits.push(Edit {
                    path,
                    value: Some(value),
                });
            }
        }
    }
    let inserts = match entry.insert {
        Some(insert) => insert_blocks(&mut doc, scenario, &targets, insert, facts),
        None => Vec::new(),
    };
    if edits.is_empty() && inserts.is_empty() {
        return None;
    }
    if let Some(map) = doc.as_object_mut() {
        // The original's story and promised verdict are not the fixed scenario's.
        map.remove("caption");
        map.remove("expect");
        let name = if scenario.name.is_empty() {
            format!("With {}", entry.title)
        } else {
            format!("{} with {}", scenario.name, entry.title)
        };
        map.insert("name".into(), Value::String(name));
    }
    Some(Candidate {
        name: entry.name,
        title: entry.title,
        edits,
        inserts,
        doc,
    })
}

/// Whether two JSON values mean the same (numbers compared as numbers: `1` and `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// Whether setting an absent field to `value` would change nothing: the value is what the
/// field means when absent (a flag's default, a choice's first word).
fn absent_default(block: &Block, field: &str, value: &Value) -> bool {
    let Some(param) = block.kind().param(field) else {
        return false;
    };
    match (param.value, value) {
        (ParamValue::Flag { absent }, Value::Bool(b)) => absent == *b,
        (ParamValue::Choice(words), Value::String(s)) => words.first() == Some(&s.as_str()),
        _ => false,
    }
}

/// Removes `field` (one segment) from block `index` of the document.
fn remove_field(doc: &mut Value, index: usize, field: &str) -> bool {
    doc.get_mut("blocks")
        .and_then(|b| b.get_mut(index))
        .and_then(Value::as_object_mut)
        .is_some_and(|map| map.remove(field).is_some())
}

/// The value `amount` gives for `field` (a path below a block of kind `kind`) of a block
/// acting on `block`; `None` where it gives none (a scaled field that is absent, a server's
/// figure asked of another kind).
fn resolve(
    amount: Amount,
    block: &Block,
    kind: BlockKind,
    field: &str,
    current: Option<&Value>,
    facts: &Facts,
) -> Option<Value> {
    let server = match block {
        Block::Server(s) => Some(s),
        _ => None,
    };
    let number = match amount {
        Amount::Json(text) => return serde_json::from_str(text).ok(),
        Amount::Unset => return None,
        Amount::Object(fields) => {
            let mut map = Map::new();
            for &(key, sub) in fields {
                let path = format!("{field}.{key}");
                if let Some(v) = resolve(sub, block, kind, &path, None, facts) {
                    map.insert(key.to_string(), v);
                }
            }
            return Some(Value::Object(map));
        }
        Amount::Scale(factor) => current?.as_f64()? * factor,
        Amount::Workers(factor) => f64::from(server?.workers) * factor,
        Amount::Capacity(share) => capacity(server?) * share,
        Amount::Service(factor) => server?.service.mean_s * factor,
        Amount::QueueWithinTimeout => {
            let window_s = facts.shortest_timeout_s.map_or(1.0, |t| t / 2.0);
            (capacity(server?) * window_s).floor().max(1.0)
        }
    };
    fit(kind, field, number)
}

/// A server's capacity in calls per second: workers (an autoscaler's most) over the mean
/// service time. An upper bound for a server with a dependency (its workers also wait on it).
fn capacity(server: &crate::scenario::ServerSpec) -> f64 {
    let workers = server
        .autoscale
        .as_ref()
        .map_or(server.workers, |a| a.max_workers.max(server.workers));
    f64::from(workers) / server.service.mean_s
}

/// A derived number fitted to the field's range: whole fields rounded up, others to four
/// significant figures; `None` if it is not finite.
fn fit(kind: BlockKind, field: &str, value: f64) -> Option<Value> {
    if !value.is_finite() {
        return None;
    }
    match kind.param(field).map(|p| p.value) {
        Some(ParamValue::Whole { min, max, .. }) => {
            let v = value.ceil().clamp(min as f64, max as f64);
            Some(Value::from(v as u64))
        }
        Some(ParamValue::Number { min, max, .. }) => {
            let v = significant(value, 4).clamp(min, max);
            Some(number_value(v))
        }
        _ => Some(number_value(significant(value, 4))),
    }
}

/// `value` rounded to `digits` significant figures.
fn significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = libm::floor(libm::log10(value.abs()));
    let scale = libm::pow(10.0, f64::from(digits - 1) - magnitude);
    let rounded = libm::round(value * scale) / scale;
    // Re-read through its shortest text, so 0.30000000000000004 is 0.3.
    format!("{rounded:.*e}", (digits - 1) as usize)
        .parse()
        .unwrap_or(rounded)
}

/// A number as JSON: a whole one without a fraction (`90`, not `90.0`).
fn number_value(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// Inserts a block of `insert` before each target: each gets a free id, the target's place in
/// the editor (the target and the blocks it calls move one layer right), and every block that
/// called the target calls it instead. One pass over the blocks, whatever the number of
/// targets.
fn insert_blocks(
    doc: &mut Value,
    scenario: &Scenario,
    targets: &[usize],
    insert: Insert,
    facts: &Facts,
) -> Vec<Inserted> {
    let mut taken: BTreeSet<String> = scenario.blocks.iter().map(|b| b.id().to_string()).collect();
    let mut new_ids: BTreeMap<usize, String> = BTreeMap::new();
    for &t in targets {
        let id = free_id(scenario.blocks[t].id(), insert.suffix, &taken);
        taken.insert(id.clone());
        new_ids.insert(t, id);
    }
    let Some(blocks) = doc.get_mut("blocks").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    // Every block that called a target calls its new block.
    let renamed: BTreeMap<String, String> = new_ids
        .iter()
        .map(|(&t, id)| (scenario.blocks[t].id().to_string(), id.clone()))
        .collect();
    let rename = |v: &mut Value| {
        if let Value::String(s) = v {
            if let Some(id) = renamed.get(s.as_str()) {
                *s = id.clone();
            }
        }
    };
    for block in blocks.iter_mut() {
        match block.get_mut("to") {
            Some(Value::Array(items)) => items.iter_mut().for_each(rename),
            Some(to) => rename(to),
            None => {}
        }
    }
    // The targets and what they call move right to make room, where they have places.
    let moved = moved_right(scenario, targets);
    let old = std::mem::take(blocks);
    let mut inserted = Vec::with_capacity(targets.len());
    for (i, mut block) in old.into_iter().enumerate() {
        if let Some(id) = new_ids.get(&i) {
            let target = &scenario.blocks[i];
            let mut map = Map::new();
            map.insert("id".into(), Value::String(id.clone()));
            map.insert("kind".into(), Value::String(insert.kind.as_str().into()));
            for &(field, amount) in insert.fields {
                if let Some(v) = resolve(amount, target, insert.kind, field, None, facts) {
                    map.insert(field.into(), v);
                }
            }
            map.insert("to".into(), Value::String(target.id().into()));
            if let Some(ui) = block
                .get("ui")
                .filter(|ui| ui.get("x").is_some_and(Value::is_number))
            {
                map.insert("ui".into(), ui.clone());
            }
            let new_block = Value::Object(map);
            inserted.push(Inserted {
                id: id.clone(),
                before: target.id().to_string(),
                block: new_block.clone(),
            });
            blocks.push(new_block);
        }
        if moved[i] {
            if let Some(x) = block.get_mut("ui").and_then(|ui| ui.get_mut("x")) {
                if let Some(old_x) = x.as_f64() {
                    *x = number_value(old_x + LAYER_DX);
                }
            }
        }
        blocks.push(block);
    }
    inserted
}

/// The targets and every block they call, directly or not.
fn moved_right(scenario: &Scenario, targets: &[usize]) -> Vec<bool> {
    let index: BTreeMap<&str, usize> = scenario
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id(), i))
        .collect();
    let mut moved = vec![false; scenario.blocks.len()];
    let mut stack: Vec<usize> = targets.to_vec();
    while let Some(b) = stack.pop() {
        if moved[b] {
            continue;
        }
        moved[b] = true;
        for id in scenario.blocks[b].downstream() {
            if let Some(&d) = index.get(id) {
                if !moved[d] {
                    stack.push(d);
                }
            }
        }
    }
    moved
}

/// `<target>-<suffix>`, shortened to fit 64 characters and numbered (`-2`, `-3`, …) if taken.
fn free_id(target: &str, suffix: &str, taken: &BTreeSet<String>) -> String {
    const MAX_ID: usize = 64;
    for n in 1usize.. {
        let tail = if n == 1 {
            format!("-{suffix}")
        } else {
            format!("-{suffix}-{n}")
        };
        // Ids are ASCII (the validator refuses anything else), so bytes are characters.
        let keep = target.len().min(MAX_ID.saturating_sub(tail.len()));
        let id = format!("{}{tail}", &target[..keep]);
        if !taken.contains(&id) {
            return id;
        }
    }
    unreachable!("there is always a free number")
}

/// How two aggregates rank (SPEC §9): the share of seeds recovered (more first), then goodput
/// after (higher first) in steps of [`GOODPUT_STEP`] of goodput before, recovery time
/// (shorter first), p99 latency (lower first), wasted work (less first) and last goodput
/// after itself; a figure that is missing (no seed recovered, no good request) ranks after
/// any value.
///
/// Rationale: fixes that all recover differ in goodput after by tenths of a request per
/// second (a limiter refuses 1% of calls in the steady state), so goodput compared exactly
/// would decide every ranking and recovery time never would: a scenario that took two
/// minutes to recover would rank above fixes that recover at once. Steps of a fixed share of
/// goodput before keep the comparison a total order.
pub fn compare(a: &Aggregate, b: &Aggregate) -> Ordering {
    let share = |x: &Aggregate| (x.recovered as u128, x.seeds.max(1) as u128);
    let ((ra, na), (rb, nb)) = (share(a), share(b));
    // Higher share first: compare rb/nb with ra/na without division.
    (rb * na)
        .cmp(&(ra * nb))
        .then_with(|| goodput_step(b).cmp(&goodput_step(a)))
        .then_with(|| lower_first(a.recovery_s, b.recovery_s))
        .then_with(|| lower_first(a.latency_p99_s, b.latency_p99_s))
        .then_with(|| lower_first(a.wasted, b.wasted))
        .then_with(|| lower_first(b.goodput_after, a.goodput_after))
}

/// The share of goodput before that counts as a difference in goodput after when fixes are
/// ranked.
pub const GOODPUT_STEP: f64 = 0.05;

/// Goodput after in steps of [`GOODPUT_STEP`] of goodput before (`None`, which ranks last,
/// without either).
fn goodput_step(a: &Aggregate) -> Option<i64> {
    let after = a.goodput_after?.mean;
    let before = a.goodput_before?.mean;
    let step = (after / before / GOODPUT_STEP).round();
    (before > 0.0 && step.is_finite()).then_some(step as i64)
}

/// The lower mean first, a missing one last.
fn lower_first(a: Option<Interval>, b: Option<Interval>) -> Ordering {
    let value = |i: Option<Interval>| i.map(|i| i.mean).filter(|m| m.is_finite());
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The order of `aggregates` by [`compare`], as indices, best first; ties keep their order.
pub fn rank(aggregates: &[&Aggregate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..aggregates.len()).collect();
    order.sort_by(|&i, &j| compare(aggregates[i], aggregates[j]));
    order
}

/// One row of the ranking, as the CLI's JSON and CSV and the playground's table have it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranked {
    /// 1 for the best.
    pub rank: usize,
    /// The entry's name, or `original` for the scenario as given.
    pub name: String,
    pub title: String,
    /// What it changes, in words (empty for the original).
    pub changes: String,
    pub aggregate: Aggregate,
}

/// The name of the reference row: the scenario as given.
pub const ORIGINAL: &str = "original";

/// The CSV header of [`Ranked::csv_row`].
pub const CSV_HEADER: &str = "rank,name,recovered,seeds,goodput_after,goodput_after_pm,recovery_s,recovery_s_pm,recovery_s_seeds,latency_p99_s,latency_p99_s_pm,wasted,wasted_pm,amplification,amplification_pm,changes";

impl Ranked {
    /// The row of [`CSV_HEADER`]: means and 95% half-widths (empty where there are none), the
    /// changes quoted.
    pub fn csv_row(&self) -> String {
        let a = &self.aggregate;
        let mut out = format!("{},{},{},{}", self.rank, self.name, a.recovered, a.seeds);
        for interval in [a.goodput_after, a.recovery_s] {
            push_interval(&mut out, interval);
        }
        let _ = write!(out, ",{}", a.recovery_s.map_or(0, |i| i.n));
        for interval in [a.latency_p99_s, a.wasted, a.amplification] {
            push_interval(&mut out, interval);
        }
        let _ = write!(out, ",\"{}\"", self.changes.replace('"', "\"\""));
        out
    }
}

fn push_interval(out: &mut String, interval: Option<Interval>) {
    match interval {
        Some(i) => {
            let _ = write!(out, ",{}", i.mean);
            match i.half_width {
                Some(h) => {
                    let _ = write!(out, ",{h}");
                }
                None => out.push(','),
            }
        }
        None => out.push_str(",,"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    fn preset(name: &str) -> Scenario {
        presets::load(name).unwrap().unwrap()
    }

    fn names(candidates: &[Candidate]) -> Vec<&'static str> {
        candidates.iter().map(|c| c.name).collect()
    }

    #[test]
    fn every_entry_has_a_unique_kebab_case_name_and_json_that_parses() {
        let mut seen = BTreeSet::new();
        for entry in CATALOGUE {
            assert!(seen.insert(entry.name), "{} twice", entry.name);
            assert!(
                entry
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                entry.name
            );
            assert!(!entry.title.is_empty());
            let fields = entry
                .set
                .iter()
                .chain(entry.insert.iter().flat_map(|i| i.fields.iter()));
            let mut amounts: Vec<Amount> = fields.map(|&(_, a)| a).collect();
            while let Some(amount) = amounts.pop() {
                match amount {
                    Amount::Json(text) => {
                        assert!(serde_json::from_str::<Value>(text).is_ok(), "{text}")
                    }
                    Amount::Object(fields) => amounts.extend(fields.iter().map(|&(_, a)| a)),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_retry_storm_is_offered_every_entry_but_fill_late() {
        let candidates = applicable(&preset("retry-storm"));
        let expected: Vec<&str> = CATALOGUE
            .iter()
            .map(|e| e.name)
            .filter(|n| *n != "fill-late")
            .collect();
        assert_eq!(names(&candidates), expected);
    }

    #[test]
    fn edits_read_their_values_from_the_blocks_and_say_so() {
        let candidates = applicable(&preset("retry-storm"));
        let words = |name: &str| {
            candidates
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name} not offered"))
                .words()
        };
        assert_eq!(
            words("retry-budget"),
            "retries.budget = {max_tokens 10, ratio 0.1}"
        );
        assert_eq!(words("more-workers"), "api.workers = 13");
        assert_eq!(words("bounded-queue"), "api.queue_capacity = 50");
        assert_eq!(
            words("rate-limiter"),
            "insert limiter api-limiter {burst 10, mode rate, rate 90} before api"
        );
        assert_eq!(
            words("adaptive-limiter"),
            "insert limiter api-limiter {initial_limit 20, max_limit 50, min_limit 5, mode adaptive, target_latency_s 0.3} before api"
        );
        assert_eq!(
            words("lifo-drop-expired"),
            "api.discipline = lifo; api.drop_expired = true"
        );
    }

    #[test]
    fn an_inserted_block_takes_the_calls_and_the_place_of_the_one_it_guards() {
        let candidate = applicable(&preset("retry-storm"))
            .into_iter()
            .find(|c| c.name == "adaptive-limiter")
            .unwrap();
        let scenario = candidate.scenario().unwrap();
        let ids: Vec<&str> = scenario.blocks.iter().map(Block::id).collect();
        assert_eq!(ids, ["users", "retries", "api-limiter", "api"]);
        assert_eq!(
            scenario.block("retries").unwrap().downstream(),
            ["api-limiter"]
        );
        assert_eq!(scenario.block("api-limiter").unwrap().downstream(), ["api"]);
        let x = |id: &str| {
            let blocks = candidate.doc()["blocks"].as_array().unwrap();
            let b = blocks.iter().find(|b| b["id"] == id).unwrap();
            b["ui"]["x"].as_f64().unwrap()
        };
        assert_eq!(
            (x("retries"), x("api-limiter"), x("api")),
            (260.0, 480.0, 690.0)
        );
        // The story and its promise belong to the original.
        assert!(scenario.caption.is_none() && scenario.expect.is_none());
        assert_eq!(
            scenario.name,
            "Retry storm with an adaptive concurrency limiter"
        );
    }

    #[test]
    fn a_fix_already_in_place_is_not_offered() {
        let offered = |p: &str| names(&applicable(&preset(p)));
        assert!(!offered("retry-storm-budget").contains(&"retry-budget"));
        assert!(!offered("retry-storm-deadline-aware").contains(&"deadline-aware"));
        assert!(!offered("retry-storm-lifo-shed").contains(&"lifo-drop-expired"));
        assert!(!offered("retry-storm-priority").contains(&"priority-first-attempts"));
        assert!(!offered("stale-queue-codel").contains(&"codel"));
        assert!(!offered("retry-storm-autoscale").contains(&"autoscale"));
        assert!(!offered("cold-cache-fill-late").contains(&"fill-late"));
        assert!(offered("cold-cache").contains(&"fill-late"));
    }

    #[test]
    fn without_retries_no_retry_entry_is_offered() {
        let retry_entries: Vec<&str> = CATALOGUE
            .iter()
            .filter(|e| {
                matches!(
                    e.applies,
                    Applies::Retrying | Applies::RetryingWithDeadline | Applies::ServerBelowRetries
                )
            })
            .map(|e| e.name)
            .collect();
        assert!(retry_entries.len() >= 5);
        for name in ["stale-queue", "retry-storm-no-retries", "thrashing"] {
            let offered = names(&applicable(&preset(name)));
            for entry in &retry_entries {
                assert!(!offered.contains(entry), "{name} offers {entry}");
            }
            assert!(
                offered.contains(&"lifo-drop-expired"),
                "{name}: {offered:?}"
            );
        }
    }

    #[test]
    fn a_codel_server_leaves_codel_for_lifo_and_its_settings_go() {
        let candidate = applicable(&preset("stale-queue-codel"))
            .into_iter()
            .find(|c| c.name == "lifo-drop-expired")
            .unwrap();
        assert!(
            candidate.words().contains("api.codel removed"),
            "{}",
            candidate.words()
        );
        candidate.scenario().unwrap();
    }

    #[test]
    fn every_block_of_a_kind_gets_the_fix() {
        let candidates = applicable(&preset("layered-retries"));
        let budget = candidates
            .iter()
            .find(|c| c.name == "retry-budget")
            .unwrap();
        let paths: Vec<&str> = budget.edits.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["edge.budget", "api.budget", "data.budget"]);
        let breaker = candidates.iter().find(|c| c.name == "breaker").unwrap();
        let scenario = breaker.scenario().unwrap();
        assert_eq!(
            scenario.block("users").unwrap().downstream(),
            ["edge-breaker"]
        );
        assert_eq!(
            scenario.block("edge").unwrap().downstream(),
            ["api-breaker"]
        );
        assert_eq!(
            scenario.block("data-breaker").unwrap().downstream(),
            ["data"]
        );
        // Behind a balancer, every server gets its own limiter.
        let limiter = applicable(&preset("slow-server-round-robin"))
            .into_iter()
            .find(|c| c.name == "rate-limiter")
            .unwrap();
        let scenario = limiter.scenario().unwrap();
        assert_eq!(
            scenario.block("lb").unwrap().downstream(),
            ["a-limiter", "b-limiter", "c-limiter"]
        );
    }

    #[test]
    fn more_workers_scales_an_autoscaler_with_them() {
        let candidate = applicable(&preset("retry-storm-autoscale"))
            .into_iter()
            .find(|c| c.name == "more-workers")
            .unwrap();
        assert_eq!(
            candidate.words(),
            "api.workers = 13; api.autoscale.min_workers = 13; api.autoscale.max_workers = 75"
        );
        candidate.scenario().unwrap();
    }

    #[test]
    fn inserted_ids_are_free_and_fit() {
        let taken: BTreeSet<String> = ["api-limiter".to_string()].into();
        assert_eq!(free_id("api", "limiter", &taken), "api-limiter-2");
        let long = "a".repeat(64);
        let id = free_id(&long, "limiter", &BTreeSet::new());
        assert_eq!(id.len(), 64);
        assert!(id.ends_with("-limiter"));
    }

    #[test]
    fn derived_numbers_are_round() {
        assert_eq!(significant(99.00000000000001, 4), 99.0);
        assert_eq!(significant(0.30000000000000004, 4), 0.3);
        assert_eq!(significant(123_456.0, 4), 123_500.0);
        assert_eq!(significant(0.000_123_45, 4), 0.000_123_5);
    }

    fn aggregate(
        recovered: usize,
        seeds: usize,
        goodput: Option<f64>,
        recovery: Option<f64>,
    ) -> Aggregate {
        let interval = |mean| Interval {
            mean,
            half_width: None,
            n: seeds,
        };
        Aggregate {
            seeds,
            verdicts: Vec::new(),
            metastable: seeds - recovered,
            metastable_share: 0.0,
            metastable_interval: (0.0, 1.0),
            recovered,
            goodput_before: Some(interval(100.0)),
            goodput_after: goodput.map(interval),
            recovery_s: recovery.map(interval),
            latency_p99_s: None,
            amplification: None,
            wasted: None,
        }
    }

    #[test]
    fn ranking_goes_by_recovered_share_then_goodput_in_steps_then_recovery_time() {
        // Goodput before is 100 throughout: steps of 5 requests/s.
        let all = [
            aggregate(0, 5, Some(0.0), None),        // 0: never recovers
            aggregate(5, 5, Some(79.0), Some(20.0)), // 1: 79 and 80 are one step
            aggregate(5, 5, Some(80.0), Some(30.0)), // 2
            aggregate(4, 5, Some(90.0), Some(1.0)),  // 3: one seed short loses to any 5/5
            aggregate(5, 5, Some(80.0), Some(10.0)), // 4: the fastest of the step
            aggregate(5, 5, Some(80.0), None),       // 5: no recovery time ranks last of those
            aggregate(8, 10, Some(95.0), Some(1.0)), // 6: 80%, like 3, a step more goodput
            aggregate(5, 5, Some(70.0), Some(1.0)),  // 7: two steps less goodput than 1–5
        ];
        let refs: Vec<&Aggregate> = all.iter().collect();
        assert_eq!(rank(&refs), [4, 1, 2, 5, 7, 6, 3, 0]);
    }
}
