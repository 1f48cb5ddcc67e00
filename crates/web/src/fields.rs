//! The inspector's table of fields: for every block kind and trigger kind, each parameter of
//! SPEC §2 with its label, unit, input kind and range, and the JSON a new block starts from.
//!
//! Paths are the `--set` paths below a block (`service.mean_s`) or a trigger (`factor`), so an
//! inspector edit goes through [`sim_core::set_path`] and is validated by the core's one
//! validator like every other input. The ranges here only shape the input widgets; the
//! validator's message is what the user reads.

use crate::format;
use serde_json::{json, Value};

/// How a field is edited.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    /// A number; `optional` fields may be left empty (removed from the scenario).
    Number {
        min: f64,
        max: f64,
        step: f64,
        optional: bool,
    },
    /// A whole number.
    Integer { min: f64, max: f64, optional: bool },
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    /// A checkbox.
    Flag,
    /// Another block's id (`to` of a single-downstream block).
    Target { optional: bool },
    /// A list of block ids (a balancer's `to`).
    Targets,
    /// An optional object switched on and off as a whole (`budget`, `slowdown`): when on, it
    /// starts as `default` and its sub-fields appear.
    Group { default: &'static str },
    /// Free text.
    Text,
}

/// One editable parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// Path below the block or trigger, as for `--set`.
    pub path: &'static str,
    pub label: &'static str,
    /// Unit shown after the input ("s", "requests/s"); empty when unitless.
    pub unit: &'static str,
    pub input: Input,
    /// One line shown as the field's description.
    pub help: &'static str,
}

impl Field {
    /// Whether this field applies to a block or trigger in its current state: sub-fields of a
    /// group only when the group is on, open- or closed-loop fields by the client's mode, the
    /// lognormal `cv` only for a lognormal service.
    pub fn applies(&self, item: &Value) -> bool {
        if let Some((group, _)) = self.path.split_once('.') {
            if GROUPS.contains(&group) && item.get(group).is_none_or(Value::is_null) {
                return false;
            }
        }
        let closed = item.get("mode").and_then(Value::as_str) == Some("closed");
        match self.path {
            "rate" | "arrival" => !closed,
            "users" | "think_s" => closed,
            "zipf_s" => item.get("keys").is_some_and(|k| !k.is_null()),
            "service.cv" => {
                item.pointer("/service/dist").and_then(Value::as_str) == Some("lognormal")
            }
            "backoff.base_s" | "backoff.cap_s" | "backoff.jitter" => {
                item.pointer("/backoff/kind")
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    != "none"
            }
            _ => true,
        }
    }

    /// The field's current value as the text an input shows (empty when absent).
    pub fn text(&self, item: &Value) -> String {
        let pointer = format!("/{}", self.path.replace('.', "/"));
        match item.pointer(&pointer) {
            None | Some(Value::Null) => match self.input {
                // Defaults the core applies when the field is absent, shown so the user sees
                // what runs.
                Input::Choice(options) => options.first().copied().unwrap_or("").to_string(),
                _ => absent_default(self.path).to_string(),
            },
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            Some(other) => other.to_string(),
        }
    }

    /// The value an edit stores, as the raw text [`sim_core::set_path`] takes: numbers as
    /// typed (so a bad one reaches the validator), `null` for an emptied optional field, and
    /// strings quoted.
    pub fn raw_value(&self, typed: &str) -> String {
        let typed = typed.trim();
        match self.input {
            Input::Number { optional, .. } | Input::Integer { optional, .. } => {
                if typed.is_empty() && optional {
                    "null".into()
                } else if let Some(v) = parse_number(typed) {
                    // The shortest text of the number (a comma decimal mark read as a point).
                    if typed.parse::<f64>().is_ok() {
                        typed.into()
                    } else {
                        v.to_string()
                    }
                } else {
                    // Quoted, so the validator reports a string where a number belongs.
                    json!(typed).to_string()
                }
            }
            Input::Target { optional: true } if typed.is_empty() => "null".into(),
            Input::Flag => (typed == "true").to_string(),
            Input::Targets => {
                let ids: Vec<&str> = typed
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                json!(ids).to_string()
            }
            Input::Group { default } => {
                if typed == "true" {
                    default.into()
                } else {
                    "null".into()
                }
            }
            Input::Choice(_) | Input::Target { .. } | Input::Text => json!(typed).to_string(),
        }
    }
}

impl Field {
    /// Whether a typed text can be committed, and if not why, in plain words naming the
    /// field ("Workers must be a whole number from 1 to 1,000,000 — you typed 1.5"). Only
    /// what the table knows is checked here (a number, whole, in the input's range); the
    /// core's validator still judges the committed value.
    pub fn check(&self, typed: &str) -> Result<(), String> {
        let typed = typed.trim();
        let (min, max, whole, optional) = match self.input {
            Input::Number {
                min, max, optional, ..
            } => (min, max, false, optional),
            Input::Integer { min, max, optional } => (min, max, true, optional),
            Input::Text => return Ok(()),
            _ => return Ok(()),
        };
        let label = self.label;
        let range = || {
            let unit = if self.unit.is_empty() || self.unit == "×" {
                String::new()
            } else {
                format!(" {}", self.unit)
            };
            format!("from {} to {}{unit}", format::num(min), format::num(max))
        };
        if typed.is_empty() {
            return if optional {
                Ok(())
            } else {
                Err(format!("{label} needs a value ({})", range()))
            };
        }
        // A comma as the decimal mark is read as a point (people type what their locale
        // uses); anything else that is not a finite number is refused in words.
        let value = match parse_number(typed) {
            Some(v) => v,
            None => {
                let kind = if whole { "a whole number" } else { "a number" };
                return Err(format!(
                    "{label} must be {kind} {} — you typed {typed}",
                    range()
                ));
            }
        };
        if whole && value.fract() != 0.0 {
            return Err(format!(
                "{label} must be a whole number {} — you typed {typed}",
                range()
            ));
        }
        if value < min || value > max {
            let kind = if whole { "a whole number" } else { "a number" };
            return Err(format!(
                "{label} must be {kind} {} — you typed {typed}",
                range()
            ));
        }
        Ok(())
    }
}

/// A validator problem in plain words for the page: the block or trigger by what it is, the
/// field by its label, and the core's terse message (kept as it is for the CLI) said as a
/// person would ("The server "api": Workers must be a whole number (got 1.5)").
pub fn plain_problem(problem: &sim_core::Problem, doc: &Value) -> String {
    let who = plain_location(&problem.location, doc);
    if unconnected(problem) {
        return format!(
            "{who} is not connected yet: drag from its output dot onto the block it calls"
        );
    }
    let what = plain_field_message(problem, doc);
    format!("{who}: {what}")
}

/// The message of a problem for the field it is shown under: "Workers must be ...".
pub fn plain_field_message(problem: &sim_core::Problem, doc: &Value) -> String {
    if unconnected(problem) {
        return "Not connected yet: drag from this block's output dot onto the block it calls, or choose one here".into();
    }
    let kind = location_kind(&problem.location, doc);
    let label = if problem.field.is_empty() {
        String::new()
    } else {
        let table = match kind.as_deref() {
            Some("trigger") => TRIGGER_KINDS
                .iter()
                .flat_map(|k| trigger_fields(k).iter())
                .find(|f| f.path == problem.field)
                .copied(),
            Some("scenario") => SCENARIO.iter().find(|f| f.path == problem.field).copied(),
            Some(kind) => block_fields(kind)
                .iter()
                .find(|f| f.path == problem.field)
                .copied(),
            None => None,
        };
        table.map_or_else(|| problem.field.clone(), |f| f.label.to_string())
    };
    let message = plain_message(&problem.message, &problem.field);
    if label.is_empty() {
        capitalise(&message)
    } else {
        format!("{label} {message}")
    }
}

/// A block whose `to` names nothing yet (just added, or its downstream deleted).
fn unconnected(problem: &sim_core::Problem) -> bool {
    problem.field == "to" && problem.message == "no block has the id \"\""
}

fn plain_message(message: &str, field: &str) -> String {
    let message = message.trim();
    if message == "no block has the id \"\"" && field == "target" {
        return "has no target yet: choose a block".into();
    }
    if let Some(rest) = message.strip_prefix("no block has the id ") {
        return format!("names {rest}, but no block has that id");
    }
    if message.starts_with("missing (this build reads version") {
        return "is missing: a scenario file says \"version\": 1".into();
    }
    let message = message
        .replace("must be > ", "must be more than ")
        .replace("must be ≥ ", "must be at least ")
        .replace("must be ≤ ", "must be at most ");
    group_numbers(&message)
}

/// A sentence with its long whole numbers given thousands separators ("1000000" →
/// "1,000,000").
pub fn group_numbers(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            // The number, without its opening bracket and closing punctuation.
            let start = word.len() - word.trim_start_matches('(').len();
            let body = word[start..].trim_end_matches([',', ')', ';', ':']);
            let body = body
                .strip_suffix('.')
                .filter(|b| !b.ends_with('.'))
                .unwrap_or(body);
            let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
            let numeric = whole.len() >= 4
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit());
            match whole.parse::<u64>() {
                Ok(n) if numeric => {
                    let fraction = if fraction.is_empty() {
                        String::new()
                    } else {
                        format!(".{fraction}")
                    };
                    format!(
                        "{}{}{fraction}{}",
                        &word[..start],
                        format::int(n),
                        &word[start + body.len()..]
                    )
                }
                _ => word.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "The server \"api\"", "Trigger 1 (latency)", "The scenario".
fn plain_location(location: &str, doc: &Value) -> String {
    if location == "scenario" {
        return "The scenario".into();
    }
    if let Some(id) = location
        .strip_prefix("block \"")
        .and_then(|r| r.strip_suffix('"'))
    {
        return match location_kind(location, doc) {
            Some(kind) => format!("The {kind} \"{id}\""),
            None => format!("The block \"{id}\""),
        };
    }
    if let Some(rest) = location.strip_prefix("trigger ") {
        let (index, kind) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Ok(i) = index.parse::<usize>() {
            return format!("Trigger {} {}", i + 1, kind.replace('_', " "))
                .trim_end()
                .to_string();
        }
    }
    if let Some(i) = location
        .strip_prefix("blocks[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok())
    {
        return format!("Block {}", i + 1);
    }
    capitalise(location)
}

/// The kind of what a location names: a block's kind, "trigger" or "scenario".
fn location_kind(location: &str, doc: &Value) -> Option<String> {
    if location == "scenario" {
        return Some("scenario".into());
    }
    if location.starts_with("trigger ") {
        return Some("trigger".into());
    }
    let id = location.strip_prefix("block \"")?.strip_suffix('"')?;
    doc.get("blocks")?
        .as_array()?
        .iter()
        .find(|b| b.get("id").and_then(Value::as_str) == Some(id))
        .and_then(|b| b.get("kind"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// A typed number, with a comma read as a decimal point; `None` unless finite.
pub fn parse_number(typed: &str) -> Option<f64> {
    let typed = typed.trim().replace(',', ".").replace('−', "-");
    typed.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// What the core uses for a field that is absent (shown so the user sees what runs); empty
/// for fields whose absence means "none".
fn absent_default(path: &str) -> &'static str {
    match path {
        "error_rate" | "hit_latency_s" | "backoff.base_s" => "0",
        "fill_late" => "true",
        "respect_deadline" | "drop_expired" => "false",
        "failure_threshold" => "0.5",
        "window_s" => "10",
        "min_calls" => "20",
        "open_s" => "5",
        "half_open_probes" => "1",
        _ => "",
    }
}

/// Paths that are optional objects edited as a whole.
const GROUPS: &[&str] = &["budget", "slowdown"];

const fn number(
    path: &'static str,
    label: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    step: f64,
    help: &'static str,
) -> Field {
    Field {
        path,
        label,
        unit,
        input: Input::Number {
            min,
            max,
            step,
            optional: false,
        },
        help,
    }
}

const fn optional_number(
    path: &'static str,
    label: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    step: f64,
    help: &'static str,
) -> Field {
    Field {
        input: Input::Number {
            min,
            max,
            step,
            optional: true,
        },
        ..number(path, label, unit, min, max, step, help)
    }
}

const fn integer(
    path: &'static str,
    label: &'static str,
    min: f64,
    max: f64,
    optional: bool,
    help: &'static str,
) -> Field {
    Field {
        path,
        label,
        unit: "",
        input: Input::Integer { min, max, optional },
        help,
    }
}

const fn choice(
    path: &'static str,
    label: &'static str,
    options: &'static [&'static str],
    help: &'static str,
) -> Field {
    Field {
        path,
        label,
        unit: "",
        input: Input::Choice(options),
        help,
    }
}

const fn flag(path: &'static str, label: &'static str, help: &'static str) -> Field {
    Field {
        path,
        label,
        unit: "",
        input: Input::Flag,
        help,
    }
}

const fn target(
    path: &'static str,
    label: &'static str,
    optional: bool,
    help: &'static str,
) -> Field {
    Field {
        path,
        label,
        unit: "",
        input: Input::Target { optional },
        help,
    }
}

const fn group(
    path: &'static str,
    label: &'static str,
    default: &'static str,
    help: &'static str,
) -> Field {
    Field {
        path,
        label,
        unit: "",
        input: Input::Group { default },
        help,
    }
}

/// The block kinds, in palette order.
pub const BLOCK_KINDS: [&str; 6] = ["client", "retry", "cache", "balancer", "breaker", "server"];

/// The trigger kinds, in menu order.
pub const TRIGGER_KINDS: [&str; 7] = [
    "load_spike",
    "latency",
    "outage",
    "capacity",
    "errors",
    "partition",
    "cache_flush",
];

const CLIENT: &[Field] = &[
    choice(
        "mode",
        "Mode",
        &["open", "closed"],
        "Open loop: requests arrive at a rate. Closed loop: users wait for each reply, then think.",
    ),
    optional_number(
        "rate",
        "Rate",
        "requests/s",
        0.0,
        1e8,
        1.0,
        "New requests per second.",
    ),
    choice(
        "arrival",
        "Arrivals",
        &["poisson", "uniform"],
        "Poisson (random) or evenly spaced arrivals.",
    ),
    integer(
        "users",
        "Users",
        1.0,
        1e6,
        true,
        "Concurrent users of a closed loop.",
    ),
    optional_number(
        "think_s",
        "Think time",
        "s",
        0.0,
        1e8,
        0.1,
        "Mean pause (exponential) before a user's next request.",
    ),
    optional_number(
        "timeout_s",
        "Timeout",
        "s",
        0.0,
        1e8,
        0.1,
        "The user's patience: a request not answered by then has failed. Empty: infinite.",
    ),
    integer(
        "keys",
        "Keys",
        1.0,
        9.0e15,
        true,
        "Distinct keys requested (for caches). Empty: every request has its own key.",
    ),
    optional_number(
        "zipf_s",
        "Zipf exponent",
        "",
        0.0,
        100.0,
        0.1,
        "Popularity skew of keys (0 = uniform).",
    ),
    target(
        "to",
        "Calls",
        false,
        "The block that receives this client's requests.",
    ),
];

const RETRY: &[Field] = &[
    integer(
        "max_attempts",
        "Max attempts",
        1.0,
        100.0,
        false,
        "Tries per call, the first included (1 = no retries).",
    ),
    optional_number(
        "attempt_timeout_s",
        "Attempt timeout",
        "s",
        0.0,
        1e8,
        0.1,
        "Give up on one try after this long. Empty: wait for the reply.",
    ),
    choice(
        "backoff.kind",
        "Backoff",
        &["none", "constant", "exponential"],
        "Wait before each retry.",
    ),
    number(
        "backoff.base_s",
        "Backoff base",
        "s",
        0.0,
        1e8,
        0.01,
        "Constant wait, or the first exponential wait.",
    ),
    optional_number(
        "backoff.cap_s",
        "Backoff cap",
        "s",
        0.0,
        1e8,
        0.1,
        "Longest exponential wait.",
    ),
    choice(
        "backoff.jitter",
        "Jitter",
        &["none", "full", "equal", "decorrelated"],
        "Randomises each wait.",
    ),
    group(
        "budget",
        "Retry budget",
        r#"{"ratio": 0.1, "max_tokens": 10}"#,
        "A token bucket: each first attempt earns `ratio` tokens, a retry costs 1.",
    ),
    number(
        "budget.ratio",
        "Tokens per request",
        "",
        0.0,
        1e6,
        0.01,
        "Tokens each first attempt deposits.",
    ),
    number(
        "budget.max_tokens",
        "Bucket size",
        "tokens",
        1.0,
        1e12,
        1.0,
        "Most tokens the bucket holds (it starts full).",
    ),
    flag(
        "respect_deadline",
        "Respect deadline",
        "Start no retry after the user has given up.",
    ),
    target("to", "Calls", false, "The block this retry layer calls."),
];

const CACHE: &[Field] = &[
    integer(
        "capacity",
        "Capacity",
        0.0,
        1e8,
        false,
        "Entries held (least recently used evicted first).",
    ),
    optional_number(
        "ttl_s",
        "TTL",
        "s",
        0.0,
        1e8,
        1.0,
        "Entries expire after this long. Empty: never.",
    ),
    number(
        "hit_latency_s",
        "Hit latency",
        "s",
        0.0,
        1e8,
        0.001,
        "Time to answer a hit.",
    ),
    flag(
        "fill_late",
        "Fill from late replies",
        "Insert a successful reply even when the caller stopped waiting.",
    ),
    target(
        "to",
        "Calls on a miss",
        false,
        "The block behind the cache.",
    ),
];

const BALANCER: &[Field] = &[
    choice(
        "policy",
        "Policy",
        &["round_robin", "random", "least_outstanding", "power_of_two"],
        "How calls are spread over the downstream blocks.",
    ),
    Field {
        path: "to",
        label: "Spreads over",
        unit: "",
        input: Input::Targets,
        help: "Downstream block ids, separated by commas.",
    },
];

const BREAKER: &[Field] = &[
    number(
        "failure_threshold",
        "Failure threshold",
        "",
        0.0,
        1.0,
        0.05,
        "Opens when the failure fraction over the window exceeds this.",
    ),
    number(
        "window_s",
        "Window",
        "s",
        0.0,
        1e8,
        1.0,
        "The failure fraction is measured over this long.",
    ),
    integer(
        "min_calls",
        "Min calls",
        1.0,
        1e9,
        false,
        "Calls needed in the window before it may open.",
    ),
    number(
        "open_s",
        "Open for",
        "s",
        0.0,
        1e8,
        1.0,
        "Calls fail fast this long once it opens.",
    ),
    integer(
        "half_open_probes",
        "Half-open probes",
        1.0,
        1e6,
        false,
        "Calls let through to test the downstream after that.",
    ),
    target("to", "Protects", false, "The block behind the breaker."),
];

const SERVER: &[Field] = &[
    integer(
        "workers",
        "Workers",
        1.0,
        1e6,
        false,
        "Calls served at once.",
    ),
    integer(
        "queue_capacity",
        "Queue capacity",
        0.0,
        1e9,
        true,
        "Waiting room. Empty: unbounded; 0: none.",
    ),
    choice(
        "on_full",
        "When full",
        &["reject", "drop"],
        "Reject with an error at once, or drop silently (the caller times out).",
    ),
    choice(
        "discipline",
        "Discipline",
        &["fifo", "lifo"],
        "Serve the oldest or the newest waiting call first.",
    ),
    choice(
        "service.dist",
        "Service law",
        &["exponential", "deterministic", "lognormal"],
        "Distribution of service times.",
    ),
    number(
        "service.mean_s",
        "Mean service",
        "s",
        0.0,
        1e8,
        0.01,
        "Mean time a worker spends on a call.",
    ),
    optional_number(
        "service.cv",
        "Service CV",
        "",
        0.0,
        100.0,
        0.1,
        "Coefficient of variation of a lognormal service (default 1).",
    ),
    number(
        "error_rate",
        "Error rate",
        "",
        0.0,
        1.0,
        0.01,
        "Fraction of calls answered with an error after service.",
    ),
    group(
        "slowdown",
        "Slowdown under load",
        r#"{"factor": 2, "queue_above": 50}"#,
        "Thrashing: services slow down while the queue is long.",
    ),
    number(
        "slowdown.factor",
        "Slowdown factor",
        "×",
        0.0,
        1e6,
        0.1,
        "Service time multiplier.",
    ),
    integer(
        "slowdown.queue_above",
        "Queue above",
        0.0,
        1e9,
        false,
        "Slow down while more than this many calls wait.",
    ),
    flag(
        "drop_expired",
        "Drop expired",
        "Answer at once with an error a call whose user deadline has passed.",
    ),
    optional_number(
        "max_queue_wait_s",
        "Max queue wait",
        "s",
        0.0,
        1e8,
        0.1,
        "Shed a call that waited longer than this. Empty: no limit.",
    ),
    target(
        "to",
        "Dependency",
        true,
        "A block called after the local service; the worker waits for it.",
    ),
];

const SCENARIO: &[Field] = &[
    Field {
        path: "name",
        label: "Name",
        unit: "",
        input: Input::Text,
        help: "Shown in the title.",
    },
    number(
        "duration_s",
        "Duration",
        "s",
        0.0,
        1e8,
        10.0,
        "Simulated time of a run.",
    ),
    number(
        "bucket_s",
        "Bucket",
        "s",
        0.001,
        1e8,
        0.5,
        "Width of one metric row.",
    ),
];

/// A soft range for a slider beside the number input, for the fields people sweep by hand.
///
/// `kind` is the block's kind, or `trigger` (a trigger's `rate` is an error fraction, a
/// client's a request rate).
pub fn slider_range(kind: &str, path: &str, duration_s: f64) -> Option<(f64, f64, f64)> {
    Some(match path {
        "rate" if kind == "client" => (0.0, 500.0, 1.0),
        "users" => (1.0, 1000.0, 1.0),
        "think_s" | "timeout_s" | "attempt_timeout_s" => (0.05, 10.0, 0.05),
        "max_attempts" => (1.0, 10.0, 1.0),
        "workers" => (1.0, 100.0, 1.0),
        "service.mean_s" => (0.001, 1.0, 0.001),
        "error_rate" | "failure_threshold" | "rate" => (0.0, 1.0, 0.01),
        "factor" => (0.0, 10.0, 0.1),
        "budget.ratio" => (0.0, 1.0, 0.01),
        "at_s" => (0.0, duration_s, 1.0),
        "for_s" => (0.0, duration_s / 2.0, 1.0),
        "capacity" => (0.0, 10_000.0, 10.0),
        _ => return None,
    })
}

/// The fields of a block kind, in inspector order (empty for an unknown kind).
pub fn block_fields(kind: &str) -> &'static [Field] {
    match kind {
        "client" => CLIENT,
        "retry" => RETRY,
        "cache" => CACHE,
        "balancer" => BALANCER,
        "breaker" => BREAKER,
        "server" => SERVER,
        _ => &[],
    }
}

/// The scenario-level fields (the seed has its own control).
pub fn scenario_fields() -> &'static [Field] {
    SCENARIO
}

const TRIGGER_COMMON: [Field; 3] = [
    target("target", "Target", false, "The block it acts on."),
    number(
        "at_s",
        "Starts at",
        "s",
        0.0,
        1e8,
        1.0,
        "Simulated time it starts.",
    ),
    number(
        "for_s",
        "Lasts",
        "s",
        0.0,
        1e8,
        1.0,
        "How long until it is undone.",
    ),
];

const LOAD_SPIKE: &[Field] = &[
    TRIGGER_COMMON[0],
    TRIGGER_COMMON[1],
    TRIGGER_COMMON[2],
    number(
        "factor",
        "Factor",
        "×",
        0.0,
        1e6,
        0.1,
        "The client's rate is multiplied by this.",
    ),
];
const LATENCY: &[Field] = &[
    TRIGGER_COMMON[0],
    TRIGGER_COMMON[1],
    TRIGGER_COMMON[2],
    number(
        "factor",
        "Factor",
        "×",
        0.0,
        1e6,
        0.1,
        "Service times that start during it are multiplied by this.",
    ),
];
const CAPACITY: &[Field] = &[
    TRIGGER_COMMON[0],
    TRIGGER_COMMON[1],
    TRIGGER_COMMON[2],
    integer(
        "workers",
        "Workers",
        0.0,
        1e6,
        false,
        "The server's worker count while it lasts.",
    ),
];
const ERRORS: &[Field] = &[
    TRIGGER_COMMON[0],
    TRIGGER_COMMON[1],
    TRIGGER_COMMON[2],
    number(
        "rate",
        "Error rate",
        "",
        0.0,
        1.0,
        0.05,
        "The server's error rate while it lasts.",
    ),
];
const SPAN: &[Field] = &[TRIGGER_COMMON[0], TRIGGER_COMMON[1], TRIGGER_COMMON[2]];
const INSTANT: &[Field] = &[TRIGGER_COMMON[0], TRIGGER_COMMON[1]];

/// The fields of a trigger kind (the kind itself is edited separately).
pub fn trigger_fields(kind: &str) -> &'static [Field] {
    match kind {
        "load_spike" => LOAD_SPIKE,
        "latency" => LATENCY,
        "capacity" => CAPACITY,
        "errors" => ERRORS,
        "outage" | "partition" => SPAN,
        "cache_flush" => INSTANT,
        _ => &[],
    }
}

/// The block kinds a trigger kind may target.
pub fn trigger_targets(kind: &str) -> &'static [&'static str] {
    match kind {
        "load_spike" => &["client"],
        "latency" | "outage" | "capacity" | "errors" => &["server"],
        "partition" => &["retry", "cache", "balancer", "breaker", "server"],
        "cache_flush" => &["cache"],
        _ => &[],
    }
}

/// Whether a block of this kind calls downstream blocks (and so has an output port), and
/// whether it may call several.
pub fn outputs(kind: &str) -> (bool, bool) {
    match kind {
        "balancer" => (true, true),
        "client" | "retry" | "cache" | "breaker" | "server" => (true, false),
        _ => (false, false),
    }
}

/// A new block of this kind with sensible defaults, not yet connected (`to` empty, which the
/// validator reports until the user connects it).
pub fn new_block(kind: &str, id: &str, x: f64, y: f64) -> Value {
    let ui = json!({"x": x.round(), "y": y.round()});
    let mut block = match kind {
        "client" => json!({"kind": "client", "rate": 50, "timeout_s": 1.0, "to": ""}),
        "retry" => json!({"kind": "retry", "max_attempts": 3, "attempt_timeout_s": 1.0,
            "backoff": {"kind": "exponential", "base_s": 0.05, "cap_s": 1.0, "jitter": "full"},
            "to": ""}),
        "cache" => json!({"kind": "cache", "capacity": 1000, "ttl_s": 60, "hit_latency_s": 0.001,
            "to": ""}),
        "balancer" => json!({"kind": "balancer", "policy": "round_robin", "to": []}),
        "breaker" => json!({"kind": "breaker", "failure_threshold": 0.5, "window_s": 10,
            "min_calls": 20, "open_s": 5, "half_open_probes": 1, "to": ""}),
        _ => json!({"kind": "server", "workers": 10,
            "service": {"dist": "exponential", "mean_s": 0.1}}),
    };
    block["id"] = json!(id);
    block["ui"] = ui;
    block
}

/// A new trigger of this kind on `target`, starting at `at_s`.
pub fn new_trigger(kind: &str, target: &str, at_s: f64, for_s: f64) -> Value {
    let at_s = (at_s * 10.0).round() / 10.0;
    let for_s = (for_s * 10.0).round() / 10.0;
    match kind {
        "load_spike" => {
            json!({"kind": kind, "target": target, "at_s": at_s, "for_s": for_s, "factor": 2})
        }
        "latency" => {
            json!({"kind": kind, "target": target, "at_s": at_s, "for_s": for_s, "factor": 3})
        }
        "capacity" => {
            json!({"kind": kind, "target": target, "at_s": at_s, "for_s": for_s, "workers": 1})
        }
        "errors" => {
            json!({"kind": kind, "target": target, "at_s": at_s, "for_s": for_s, "rate": 0.5})
        }
        "cache_flush" => json!({"kind": kind, "target": target, "at_s": at_s}),
        _ => json!({"kind": kind, "target": target, "at_s": at_s, "for_s": for_s}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{set_path, Scenario};

    /// Every field path of every block kind must be one the core reads: setting it to its
    /// shown value on a default block keeps the scenario valid.
    #[test]
    fn every_field_round_trips_through_set_path() {
        for kind in BLOCK_KINDS {
            let mut block = new_block(kind, "x", 0.0, 0.0);
            let mut blocks = vec![new_block("server", "s", 0.0, 0.0)];
            match kind {
                "balancer" => block["to"] = json!(["s"]),
                "server" => {}
                _ => block["to"] = json!("s"),
            }
            if kind != "client" {
                let mut client = new_block("client", "c", 0.0, 0.0);
                client["to"] = json!("x");
                blocks.push(client);
            }
            blocks.push(block.clone());
            let doc = json!({"version": 1, "duration_s": 60, "blocks": blocks});
            Scenario::from_value(doc.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            for field in block_fields(kind) {
                if !field.applies(&block) {
                    continue;
                }
                let shown = field.text(&block);
                let raw = field.raw_value(&shown);
                let mut edited = doc.clone();
                set_path(&mut edited, &format!("x.{}", field.path), &raw).unwrap();
                Scenario::from_value(edited)
                    .unwrap_or_else(|e| panic!("{kind}.{} = {raw}: {e}", field.path));
            }
        }
    }

    #[test]
    fn a_bad_number_reaches_the_validator_with_its_field() {
        let field = SERVER.iter().find(|f| f.path == "service.mean_s").unwrap();
        let mut doc: Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        set_path(&mut doc, "api.service.mean_s", &field.raw_value("-1")).unwrap();
        let problems = Scenario::from_value(doc).unwrap_err().problems();
        assert_eq!(problems[0].location, "block \"api\"");
        assert_eq!(problems[0].field, "service.mean_s");
        assert!(problems[0].message.contains("must be > 0"), "{problems:?}");
    }

    #[test]
    fn emptied_optional_fields_are_removed_and_text_is_quoted() {
        let timeout = CLIENT.iter().find(|f| f.path == "timeout_s").unwrap();
        assert_eq!(timeout.raw_value(""), "null");
        assert_eq!(timeout.raw_value("abc"), "\"abc\"");
        assert_eq!(timeout.raw_value(" 2.5 "), "2.5");
        let to = BALANCER[1];
        assert_eq!(to.raw_value("a, b,"), r#"["a","b"]"#);
    }

    #[test]
    fn problems_are_said_in_plain_words() {
        let doc =
            json!({"blocks": [{"id": "api", "kind": "server"}, {"id": "users", "kind": "client"}]});
        let problem = |location: &str, field: &str, message: &str| sim_core::Problem {
            location: location.into(),
            field: field.into(),
            message: message.into(),
        };
        assert_eq!(
            plain_problem(
                &problem(
                    "block \"api\"",
                    "workers",
                    "must be a whole number, 0 or more (got 1.5)"
                ),
                &doc
            ),
            "The server \"api\": Workers must be a whole number, 0 or more (got 1.5)"
        );
        assert_eq!(
            plain_problem(&problem("block \"users\"", "to", "no block has the id \"\""), &doc),
            "The client \"users\" is not connected yet: drag from its output dot onto the block it calls"
        );
        assert_eq!(
            plain_field_message(
                &problem("scenario", "duration_s", "must be > 0 (got -1)"),
                &doc
            ),
            "Duration must be more than 0 (got -1)"
        );
        assert_eq!(
            plain_problem(
                &problem("trigger 0 (load_spike)", "factor", "must be ≥ 0 (got -2)"),
                &doc
            ),
            "Trigger 1 (load spike): Factor must be at least 0 (got -2)"
        );
        assert!(plain_problem(
            &problem(
                "scenario",
                "version",
                "missing (this build reads version 1)"
            ),
            &doc
        )
        .contains("\"version\": 1"));
        // A cleared number field, through the core: the field is named, no type name shows.
        let mut storm: serde_json::Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        sim_core::set_path(&mut storm, "api.workers", "\"\"").unwrap();
        let problems = sim_core::Scenario::from_value(storm.clone())
            .unwrap_err()
            .problems();
        assert_eq!(problems[0].field, "workers");
        assert_eq!(
            plain_field_message(&problems[0], &storm),
            "Workers needs a value (a whole number, 0 or more)"
        );
    }

    #[test]
    fn long_numbers_in_sentences_get_separators() {
        assert_eq!(
            group_numbers("(0.8 of 19977.2 per second). 4199374 queued calls, t = 350 s"),
            "(0.8 of 19,977.2 per second). 4,199,374 queued calls, t = 350 s"
        );
        assert_eq!(
            group_numbers("between 1 and 1000000 (got 0)"),
            "between 1 and 1,000,000 (got 0)"
        );
        assert_eq!(
            group_numbers("version 2026-12 id abc1234"),
            "version 2026-12 id abc1234"
        );
    }

    #[test]
    fn typed_values_are_checked_in_plain_words() {
        let workers = SERVER.iter().find(|f| f.path == "workers").unwrap();
        assert_eq!(workers.check("7"), Ok(()));
        assert_eq!(
            workers.check("1.5"),
            Err("Workers must be a whole number from 1 to 1,000,000 — you typed 1.5".into())
        );
        assert_eq!(
            workers.check("-5"),
            Err("Workers must be a whole number from 1 to 1,000,000 — you typed -5".into())
        );
        assert_eq!(
            workers.check(""),
            Err("Workers needs a value (from 1 to 1,000,000)".into())
        );
        assert!(workers
            .check("many")
            .unwrap_err()
            .contains("you typed many"));
        let duration = SCENARIO.iter().find(|f| f.path == "duration_s").unwrap();
        assert_eq!(duration.check("0.5"), Ok(()));
        assert_eq!(duration.check("0,5"), Ok(()));
        assert_eq!(duration.raw_value("0,5"), "0.5");
        assert!(
            duration.check("0.").is_ok(),
            "a half-typed number is still a number"
        );
        assert!(duration.check("1e400").is_err(), "not finite");
        let queue = SERVER.iter().find(|f| f.path == "queue_capacity").unwrap();
        assert_eq!(queue.check(""), Ok(()), "optional: empty means none");
    }

    #[test]
    fn fields_follow_the_block_state() {
        let rate = CLIENT[1];
        let users = CLIENT[3];
        let open = json!({"kind": "client", "rate": 5});
        let closed = json!({"kind": "client", "mode": "closed", "users": 5});
        assert!(rate.applies(&open) && !users.applies(&open));
        assert!(!rate.applies(&closed) && users.applies(&closed));
        let ratio = RETRY.iter().find(|f| f.path == "budget.ratio").unwrap();
        assert!(!ratio.applies(&json!({"kind": "retry"})));
        assert!(ratio.applies(&json!({"kind": "retry", "budget": {"ratio": 1}})));
    }

    #[test]
    fn every_trigger_kind_has_fields_and_a_valid_default() {
        for kind in TRIGGER_KINDS {
            assert!(!trigger_fields(kind).is_empty());
            let target = match trigger_targets(kind)[0] {
                "client" => "users",
                "cache" => "cache",
                _ => "api",
            };
            let doc = json!({"version": 1, "duration_s": 60, "blocks": [
                {"id": "users", "kind": "client", "rate": 5, "to": "cache"},
                {"id": "cache", "kind": "cache", "capacity": 5, "to": "api"},
                {"id": "api", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}},
            ], "triggers": [new_trigger(kind, target, 10.0, 5.0)]});
            Scenario::from_value(doc).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
}
