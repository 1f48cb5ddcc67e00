//! The inspector's table of fields: for every block kind and trigger kind, each parameter
//! with its label, unit, input kind and range, and the JSON a new block starts from.
//!
//! What a parameter *is* — its path, range, default, whether it is a whole number, when it
//! applies — comes from the core's schema ([`sim_core::kind`]), the same one the validator
//! checks against; this table adds only how people read it: label, unit, step and help.
//! Paths are the `--set` paths below a block (`service.mean_s`) or a trigger (`factor`), so
//! an inspector edit goes through [`sim_core::set_path`] and is validated by the core's one
//! validator like every other input.

use crate::format;
use serde_json::{json, Value};
use sim_core::kind::{Absent, Calls, Param, ParamValue, SCENARIO_PARAMS};
use sim_core::{BlockKind, Location, TriggerKind};

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
    /// A list of 1 to `max_len` numbers from `min` to `max` (a staircase's factors), typed
    /// separated by commas.
    Numbers { min: f64, max: f64, max_len: usize },
    /// An optional object switched on and off as a whole (`budget`, `slowdown`): when on, it
    /// starts as `default` and its sub-fields appear.
    Group { default: &'static str },
    /// Free text.
    Text,
}

/// One editable parameter: the core's [`Param`] and how the page shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// Path below the block or trigger, as for `--set`.
    pub path: &'static str,
    pub label: &'static str,
    /// Unit shown after the input ("s", "requests/s"); empty when unitless.
    pub unit: &'static str,
    pub input: Input,
    /// The core's parameter, and the parameters of its kind (for [`Field::applies`]).
    pub param: &'static Param,
    siblings: &'static [Param],
}

impl Field {
    /// Whether this field applies to a block or trigger in its current state: sub-fields of a
    /// group only when the group is on, open- or closed-loop fields by the client's mode, the
    /// lognormal `cv` only for a lognormal service (the core's schema says which).
    pub fn applies(&self, item: &Value) -> bool {
        self.param.applies(self.siblings, item)
    }

    /// The field's current value as the text an input shows (empty when absent).
    pub fn text(&self, item: &Value) -> String {
        let pointer = format!("/{}", self.path.replace('.', "/"));
        match item.pointer(&pointer) {
            // What the core uses when the field is absent, shown so the user sees what runs.
            None | Some(Value::Null) => self.param.absent_text(),
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
            Input::Numbers { .. } => {
                // Each number as its shortest text (`1`, `1.5`): "1, 1.5, 2" is `[1,1.5,2]`.
                let numbers: Option<Vec<String>> = list_items(typed)
                    .map(|item| parse_number(item).map(|v| v.to_string()))
                    .collect();
                match numbers {
                    Some(numbers) => format!("[{}]", numbers.join(",")),
                    // Quoted, so the validator reports text where a list belongs.
                    None => json!(typed).to_string(),
                }
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
            Input::Numbers { min, max, max_len } => {
                return self.check_numbers(typed, min, max, max_len)
            }
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

impl Field {
    /// [`Field::check`] for a list of numbers: at least one, at most `max_len`, each a number
    /// from `min` to `max`.
    fn check_numbers(&self, typed: &str, min: f64, max: f64, max_len: usize) -> Result<(), String> {
        let label = self.label;
        let range = format!("from {} to {}", format::num(min), format::num(max));
        let items: Vec<&str> = list_items(typed).collect();
        if items.is_empty() {
            return Err(format!(
                "{label} needs at least one number ({range}), separated by commas"
            ));
        }
        if items.len() > max_len {
            return Err(format!(
                "{label} takes at most {} numbers — you typed {}",
                format::int(max_len as u64),
                format::int(items.len() as u64)
            ));
        }
        for item in items {
            match parse_number(item) {
                Some(v) if (min..=max).contains(&v) => {}
                _ => {
                    return Err(format!(
                        "{label} must be numbers {range}, separated by commas — you typed {item}"
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The items of a typed list: separated by commas, semicolons or spaces, blanks skipped.
fn list_items(typed: &str) -> impl Iterator<Item = &str> {
    typed
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|item| !item.is_empty())
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
        let table: Vec<Field> = match kind.as_deref() {
            Some("trigger") => trigger_kinds().flat_map(trigger_fields).collect(),
            Some("scenario") => scenario_fields(),
            Some(kind) => block_fields(kind),
            None => Vec::new(),
        };
        table
            .iter()
            .find(|f| f.path == problem.field)
            .map_or_else(|| problem.field.clone(), |f| f.label.to_string())
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
fn plain_location(location: &Location, doc: &Value) -> String {
    match location {
        Location::Scenario => "The scenario".into(),
        Location::Block { index, id } => {
            let id = id.clone().or_else(|| {
                block_at(doc, *index)?
                    .get("id")?
                    .as_str()
                    .map(str::to_string)
            });
            match (location_kind(location, doc), id) {
                (Some(kind), Some(id)) if !id.is_empty() => format!("The {kind} \"{id}\""),
                (None, Some(id)) if !id.is_empty() => format!("The block \"{id}\""),
                _ => format!("Block {}", index + 1),
            }
        }
        Location::Trigger { index, kind } => match kind {
            Some(kind) => format!("Trigger {} ({})", index + 1, kind.replace('_', " ")),
            None => format!("Trigger {}", index + 1),
        },
    }
}

fn block_at(doc: &Value, index: usize) -> Option<&Value> {
    doc.get("blocks")?.as_array()?.get(index)
}

/// The kind of what a location names: a block's kind, "trigger" or "scenario".
fn location_kind(location: &Location, doc: &Value) -> Option<String> {
    match location {
        Location::Scenario => Some("scenario".into()),
        Location::Trigger { .. } => Some("trigger".into()),
        Location::Block { index, .. } => block_at(doc, *index)?
            .get("kind")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A typed number, with a comma read as a decimal point; `None` unless finite.
pub fn parse_number(typed: &str) -> Option<f64> {
    let typed = typed.trim().replace(',', ".").replace('−', "-");
    typed.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// How people read a parameter: its label, unit and the step of its input (its line of help
/// is apart: [`block_help`], [`trigger_help`], [`scenario_help`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Label {
    pub path: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub step: f64,
}

const fn label(path: &'static str, label: &'static str, unit: &'static str, step: f64) -> Label {
    Label {
        path,
        label,
        unit,
        step,
    }
}

const CLIENT: &[Label] = &[
    label("mode", "Mode", "", 1.0),
    label("rate", "Rate", "requests/s", 1.0),
    label("arrival", "Arrivals", "", 1.0),
    label("users", "Users", "", 1.0),
    label("think_s", "Think time", "s", 0.1),
    label("timeout_s", "Timeout", "s", 0.1),
    label("keys", "Keys", "", 1.0),
    label("zipf_s", "Zipf exponent", "", 0.1),
    label("priority", "Priority", "", 1.0),
    label("to", "Calls", "", 1.0),
];

const RETRY: &[Label] = &[
    label("max_attempts", "Max attempts", "", 1.0),
    label("attempt_timeout_s", "Attempt timeout", "s", 0.1),
    label("hedge_after_s", "Hedge after", "s", 0.01),
    label("backoff.kind", "Backoff", "", 1.0),
    label("backoff.base_s", "Backoff base", "s", 0.01),
    label("backoff.cap_s", "Backoff cap", "s", 0.1),
    label("backoff.jitter", "Jitter", "", 1.0),
    label("budget", "Retry budget", "", 1.0),
    label("budget.ratio", "Tokens per request", "", 0.01),
    label("budget.max_tokens", "Bucket size", "tokens", 1.0),
    label("respect_deadline", "Respect deadline", "", 1.0),
    label("to", "Calls", "", 1.0),
];

const CACHE: &[Label] = &[
    label("capacity", "Capacity", "", 1.0),
    label("ttl_s", "TTL", "s", 1.0),
    label("hit_latency_s", "Hit latency", "s", 0.001),
    label("fill_late", "Fill from late replies", "", 1.0),
    label("to", "Calls on a miss", "", 1.0),
];

const BALANCER: &[Label] = &[
    label("policy", "Policy", "", 1.0),
    label("to", "Spreads over", "", 1.0),
];

const BREAKER: &[Label] = &[
    label("failure_threshold", "Failure threshold", "", 0.05),
    label("window_s", "Window", "s", 1.0),
    label("min_calls", "Min calls", "", 1.0),
    label("open_s", "Open for", "s", 1.0),
    label("half_open_probes", "Half-open probes", "", 1.0),
    label("to", "Protects", "", 1.0),
];

const SERVER: &[Label] = &[
    label("workers", "Workers", "", 1.0),
    label("queue_capacity", "Queue capacity", "", 1.0),
    label("on_full", "When full", "", 1.0),
    label("discipline", "Discipline", "", 1.0),
    label("codel", "CoDel times", "", 1.0),
    label("codel.target_s", "Target wait", "s", 0.001),
    label("codel.interval_s", "Interval", "s", 0.01),
    label("service.dist", "Service law", "", 1.0),
    label("service.mean_s", "Mean service", "s", 0.01),
    label("service.cv", "Service CV", "", 0.1),
    label("error_rate", "Error rate", "", 0.01),
    label("slowdown", "Slowdown under load", "", 1.0),
    label("slowdown.factor", "Slowdown factor", "×", 0.1),
    label("slowdown.queue_above", "Queue above", "", 1.0),
    label("drop_expired", "Drop expired", "", 1.0),
    label("max_queue_wait_s", "Max queue wait", "s", 0.1),
    label("shed_cost_s", "Shed cost", "s", 0.01),
    label("autoscale", "Autoscaling", "", 1.0),
    label(
        "autoscale.target_utilization",
        "Target utilization",
        "",
        0.05,
    ),
    label("autoscale.min_workers", "Min workers", "", 1.0),
    label("autoscale.max_workers", "Max workers", "", 1.0),
    label("autoscale.interval_s", "Decide every", "s", 1.0),
    label("autoscale.warmup_s", "Warm-up", "s", 1.0),
    label("autoscale.cooldown_s", "Cool-down", "s", 1.0),
    label("to", "Dependency", "", 1.0),
];

const SCENARIO: &[Label] = &[
    label("name", "Name", "", 1.0),
    label("duration_s", "Duration", "s", 10.0),
    label("bucket_s", "Bucket", "s", 0.5),
];

const TRIGGER_COMMON: &[Label] = &[
    label("target", "Target", "", 1.0),
    label("at_s", "Starts at", "s", 1.0),
    label("for_s", "Lasts", "s", 1.0),
];

const LOAD_SPIKE: &[Label] = &[label("factor", "Factor", "×", 0.1)];

const LOAD_STEPS: &[Label] = &[
    label("step_s", "Step length", "s", 1.0),
    label("factors", "Factors", "×", 0.1),
];

const LATENCY: &[Label] = &[label("factor", "Factor", "×", 0.1)];

const CAPACITY: &[Label] = &[label("workers", "Workers", "", 1.0)];

const ERRORS: &[Label] = &[label("rate", "Error rate", "", 0.05)];

const LIMITER: &[Label] = &[
    label("mode", "Mode", "", 1.0),
    label("rate", "Rate", "calls/s", 1.0),
    label("burst", "Burst", "tokens", 1.0),
    label("limit", "Limit", "calls", 1.0),
    label("initial_limit", "Initial limit", "calls", 1.0),
    label("min_limit", "Lowest limit", "calls", 1.0),
    label("max_limit", "Highest limit", "calls", 1.0),
    label("target_latency_s", "Target latency", "s", 0.01),
    label("decrease", "Decrease", "×", 0.05),
    label("to", "Protects", "", 1.0),
];

const BLOCK_COMMON: &[Label] = &[label("link_latency_s", "Link latency", "s", 0.001)];

const OUTAGE: &[Label] = &[];

const PARTITION: &[Label] = &[];

const CACHE_FLUSH: &[Label] = &[];

// Each parameter's line of help, in the order of its kind's labels, apart from them: only
// the inspector shows help, and kept apart it stays out of embed mode's binary, which reads
// the labels for its sliders (docs/performance.md).

const CLIENT_HELP: &[&str] = &[
    "Open loop: requests arrive at a rate. Closed loop: users wait for each reply, then think.",
    "New requests per second.",
    "Poisson (random) or evenly spaced arrivals.",
    "Concurrent users of a closed loop.",
    "Mean pause (exponential) before a user's next request.",
    "The user's patience: a request not answered by then has failed. Empty: infinite.",
    "Distinct keys requested (for caches). Empty: every request has its own key.",
    "Popularity skew of keys (0 = uniform).",
    "0 is the most important. A server with the priority discipline serves lower numbers first.",
    "The block that receives this client's requests.",
];

const RETRY_HELP: &[&str] = &[
    "Tries per call, the first included (1 = no retries).",
    "Give up on one try after this long. Empty: wait for the reply.",
    "Send the next try beside one that has had no reply for this long; the first success wins. Empty: no hedging.",
    "Wait before each retry.",
    "Constant wait, or the first exponential wait.",
    "Longest exponential wait.",
    "Randomises each wait.",
    "A token bucket: each first attempt earns `ratio` tokens, a retry costs 1.",
    "Tokens each first attempt deposits.",
    "Most tokens the bucket holds (it starts full).",
    "Start no retry after the user has given up.",
    "The block this retry layer calls.",
];

const CACHE_HELP: &[&str] = &[
    "Entries held (least recently used evicted first).",
    "Entries expire after this long. Empty: never.",
    "Time to answer a hit.",
    "Insert a successful reply even when the caller stopped waiting.",
    "The block behind the cache.",
];

const BALANCER_HELP: &[&str] = &[
    "How calls are spread over the downstream blocks.",
    "Downstream block ids, separated by commas.",
];

const BREAKER_HELP: &[&str] = &[
    "Opens when the failure fraction over the window exceeds this.",
    "The failure fraction is measured over this long.",
    "Calls needed in the window before it may open.",
    "Calls fail fast this long once it opens.",
    "Calls let through to test the downstream after that.",
    "The block behind the breaker.",
];

const SERVER_HELP: &[&str] = &[
    "Calls served at once.",
    "Waiting room. Empty: unbounded; 0: none.",
    "Reject with an error at once, or drop silently (the caller times out).",
    "Which waiting call goes next: oldest (fifo), newest (lifo), most important client and first tries first (priority), each client in turn (fair), or adaptive LIFO that sheds old calls (codel).",
    "Set how long calls may wait. Off: 5 ms when congested, 100 ms otherwise.",
    "Calls that arrive while the queue is congested are shed after waiting this long.",
    "The queue is congested when it has not been empty for this long; other calls may wait this long.",
    "Distribution of service times.",
    "Mean time a worker spends on a call.",
    "Coefficient of variation of a lognormal service (default 1).",
    "Fraction of calls answered with an error after service.",
    "Thrashing: services slow down while the queue is long.",
    "Service time multiplier.",
    "Slow down while more than this many calls wait.",
    "Answer at once with an error a call whose user deadline has passed.",
    "Shed a call that waited longer than this. Empty: no limit.",
    "Worker time spent answering a call it sheds (a slow error path). 0: the error is instant.",
    "Add or remove workers to keep utilization near a target.",
    "The busy fraction the scaler aims for (0 to 1).",
    "Never fewer workers than this.",
    "Never more workers than this: the ceiling.",
    "How often the scaler looks at utilization and picks a worker count.",
    "How long a new worker takes before it serves (provisioning time).",
    "Least time after the last change before workers are removed. Adding is never delayed.",
    "A block called after the local service; the worker waits for it.",
];

const SCENARIO_HELP: &[&str] = &[
    "Shown in the title.",
    "Simulated time of a run.",
    "Width of one metric row.",
];

const TRIGGER_COMMON_HELP: &[&str] = &[
    "The block it acts on.",
    "Simulated time it starts.",
    "How long until it is undone.",
];

const LOAD_SPIKE_HELP: &[&str] = &["The client's rate is multiplied by this."];

const LOAD_STEPS_HELP: &[&str] = &[
    "How long each step lasts.",
    "The client's rate is multiplied by each in turn, one per step, separated by commas; undone after the last.",
];

const LATENCY_HELP: &[&str] = &["Service times that start during it are multiplied by this."];

const CAPACITY_HELP: &[&str] = &["The server's worker count while it lasts."];

const ERRORS_HELP: &[&str] = &["The server's error rate while it lasts."];

const LIMITER_HELP: &[&str] = &[
    "Rate: a token bucket. Concurrency: a fixed limit on calls in flight. Adaptive: a limit that grows while calls are fast and shrinks when they fail or are slow (AIMD).",
    "Tokens added per second; a call takes one.",
    "Tokens the bucket holds (it starts full).",
    "Most calls forwarded and not yet answered.",
    "The adaptive limit at the start.",
    "The limit never falls below this.",
    "The limit never grows above this.",
    "A reply slower than this counts as a failure; the limit falls at most once per this long.",
    "A failure multiplies the limit by this.",
    "The block behind the limiter.",
];

const BLOCK_COMMON_HELP: &[&str] = &[
    "Network time: each call this block sends arrives this much later, and each reply to it comes back this much later.",
];

const OUTAGE_HELP: &[&str] = &[];

const PARTITION_HELP: &[&str] = &[];

const CACHE_FLUSH_HELP: &[&str] = &[];

/// The labels of a block kind's parameters.
pub fn block_labels(kind: BlockKind) -> &'static [Label] {
    match kind {
        BlockKind::Client => CLIENT,
        BlockKind::Retry => RETRY,
        BlockKind::Cache => CACHE,
        BlockKind::Balancer => BALANCER,
        BlockKind::Breaker => BREAKER,
        BlockKind::Limiter => LIMITER,
        BlockKind::Server => SERVER,
    }
}

/// A one-line summary of a block's main parameters (numbers as people write them).
pub fn summary(block: &Value) -> String {
    let num = |path: &str| {
        block
            .pointer(path)
            .and_then(Value::as_f64)
            .map(crate::format::num)
    };
    let Some(kind) = BlockKind::parse(block.get("kind").and_then(Value::as_str).unwrap_or(""))
    else {
        return String::new();
    };
    match kind {
        BlockKind::Client => match block.get("mode").and_then(Value::as_str) {
            Some("closed") => format!("{} users", num("/users").unwrap_or_default()),
            _ => format!("{}/s", num("/rate").unwrap_or_else(|| "?".into())),
        },
        BlockKind::Retry => format!("× {} attempts", num("/max_attempts").unwrap_or_default()),
        BlockKind::Cache => format!("{} entries", num("/capacity").unwrap_or_default()),
        BlockKind::Balancer => block
            .get("policy")
            .and_then(Value::as_str)
            .unwrap_or("round_robin")
            .replace('_', " "),
        BlockKind::Breaker => format!(
            "opens at {}",
            num("/failure_threshold").unwrap_or_else(|| "0.5".into())
        ),
        BlockKind::Limiter => match block.get("mode").and_then(Value::as_str) {
            Some("concurrency") => format!("≤ {} at once", num("/limit").unwrap_or_default()),
            Some("adaptive") => "adaptive limit".into(),
            _ => format!("{}/s", num("/rate").unwrap_or_else(|| "?".into())),
        },
        BlockKind::Server => format!(
            "{} workers · {} s",
            num("/workers").unwrap_or_default(),
            num("/service/mean_s").unwrap_or_default()
        ),
    }
}

/// The colour that marks a block kind in the editor and the palette (Okabe–Ito, safe for
/// colour-blind readers); grey for a kind this build does not know.
pub fn kind_colour(kind: &str) -> &'static str {
    match BlockKind::parse(kind) {
        Some(BlockKind::Client) => "#0072B2",
        Some(BlockKind::Retry) => "#D55E00",
        Some(BlockKind::Cache) => "#009E73",
        Some(BlockKind::Balancer) => "#CC79A7",
        Some(BlockKind::Breaker) => "#E69F00",
        Some(BlockKind::Limiter) => "#000000",
        Some(BlockKind::Server) => "#56B4E9",
        None => "#555555",
    }
}

/// The labels of a trigger kind's own parameters (`target`, `at_s` and `for_s` are common).
pub fn trigger_labels(kind: TriggerKind) -> &'static [Label] {
    match kind {
        TriggerKind::LoadSpike => LOAD_SPIKE,
        TriggerKind::LoadSteps => LOAD_STEPS,
        TriggerKind::Latency => LATENCY,
        TriggerKind::Outage => OUTAGE,
        TriggerKind::Capacity => CAPACITY,
        TriggerKind::Errors => ERRORS,
        TriggerKind::Partition => PARTITION,
        TriggerKind::CacheFlush => CACHE_FLUSH,
    }
}

/// The lines of help of a block kind's own parameters, in the order of [`block_labels`].
fn block_helps(kind: BlockKind) -> &'static [&'static str] {
    match kind {
        BlockKind::Client => CLIENT_HELP,
        BlockKind::Retry => RETRY_HELP,
        BlockKind::Cache => CACHE_HELP,
        BlockKind::Balancer => BALANCER_HELP,
        BlockKind::Breaker => BREAKER_HELP,
        BlockKind::Limiter => LIMITER_HELP,
        BlockKind::Server => SERVER_HELP,
    }
}

/// The lines of help of a trigger kind's own parameters, in the order of [`trigger_labels`].
fn trigger_helps(kind: TriggerKind) -> &'static [&'static str] {
    match kind {
        TriggerKind::LoadSpike => LOAD_SPIKE_HELP,
        TriggerKind::LoadSteps => LOAD_STEPS_HELP,
        TriggerKind::Latency => LATENCY_HELP,
        TriggerKind::Outage => OUTAGE_HELP,
        TriggerKind::Capacity => CAPACITY_HELP,
        TriggerKind::Errors => ERRORS_HELP,
        TriggerKind::Partition => PARTITION_HELP,
        TriggerKind::CacheFlush => CACHE_FLUSH_HELP,
    }
}

/// The line of help of the parameter `path` of a block kind (empty if it has none).
pub fn block_help(kind: &str, path: &str) -> &'static str {
    let Some(kind) = BlockKind::parse(kind) else {
        return "";
    };
    help_in(
        &[
            (block_labels(kind), block_helps(kind)),
            (BLOCK_COMMON, BLOCK_COMMON_HELP),
        ],
        path,
    )
}

/// The line of help of the parameter `path` of a trigger kind (empty if it has none).
pub fn trigger_help(kind: &str, path: &str) -> &'static str {
    let Some(kind) = TriggerKind::parse(kind) else {
        return "";
    };
    let own = trigger_helps(kind);
    help_in(
        &[
            (trigger_labels(kind), own),
            (TRIGGER_COMMON, TRIGGER_COMMON_HELP),
        ],
        path,
    )
}

/// The line of help of the scenario's parameter `path` (empty if it has none).
pub fn scenario_help(path: &str) -> &'static str {
    help_in(&[(SCENARIO, SCENARIO_HELP)], path)
}

/// The help of `path` in tables of labels and their lines of help, in the same order.
fn help_in(tables: &[(&[Label], &'static [&'static str])], path: &str) -> &'static str {
    tables
        .iter()
        .find_map(|(labels, helps)| {
            let at = labels.iter().position(|l| l.path == path)?;
            helps.get(at).copied()
        })
        .unwrap_or("")
}

/// The input that edits a parameter.
fn input(param: &Param, step: f64) -> Input {
    let optional = |absent: Absent| absent != Absent::Required;
    match param.value {
        ParamValue::Number {
            min, max, absent, ..
        } => Input::Number {
            min,
            max,
            step,
            optional: optional(absent),
        },
        ParamValue::Whole { min, max, absent } => Input::Integer {
            min: min as f64,
            max: max as f64,
            optional: optional(absent),
        },
        ParamValue::Choice(options) => Input::Choice(options),
        ParamValue::Flag { .. } => Input::Flag,
        ParamValue::Target { optional } => Input::Target { optional },
        ParamValue::Targets => Input::Targets,
        ParamValue::Numbers { min, max, max_len } => Input::Numbers { min, max, max_len },
        ParamValue::Group { start } => Input::Group { default: start },
        ParamValue::Text => Input::Text,
    }
}

/// The fields of a kind: each of its parameters, in the core's order, with its label (a
/// parameter without one is shown by its path: the tests require a label for every one).
fn fields_of(params: &'static [Param], labels: &[&'static [Label]]) -> Vec<Field> {
    params
        .iter()
        .map(|param| {
            let found = labels
                .iter()
                .flat_map(|l| l.iter())
                .find(|l| l.path == param.path);
            let l = found.copied().unwrap_or(Label {
                path: param.path,
                label: param.path,
                unit: "",
                step: 1.0,
            });
            Field {
                path: param.path,
                label: l.label,
                unit: l.unit,
                input: input(param, l.step),
                param,
                siblings: params,
            }
        })
        .collect()
}

/// The fields of a block kind, in inspector order (none for a kind this build does not know).
pub fn block_fields(kind: &str) -> Vec<Field> {
    BlockKind::parse(kind).map_or_else(Vec::new, |k| {
        fields_of(k.params(), &[block_labels(k), BLOCK_COMMON])
    })
}

/// The scenario-level fields (the seed has its own control).
pub fn scenario_fields() -> Vec<Field> {
    fields_of(SCENARIO_PARAMS, &[SCENARIO])
}

/// The fields of a trigger kind (the kind itself is edited separately).
pub fn trigger_fields(kind: &str) -> Vec<Field> {
    TriggerKind::parse(kind).map_or_else(Vec::new, |k| {
        fields_of(k.params(), &[trigger_labels(k), TRIGGER_COMMON])
    })
}

/// The block kinds, in palette order.
pub fn block_kinds() -> impl Iterator<Item = &'static str> {
    BlockKind::ALL.into_iter().map(BlockKind::as_str)
}

/// The trigger kinds, in menu order.
pub fn trigger_kinds() -> impl Iterator<Item = &'static str> {
    TriggerKind::ALL.into_iter().map(TriggerKind::as_str)
}

/// The block kinds a trigger kind may target.
pub fn trigger_targets(kind: &str) -> Vec<&'static str> {
    TriggerKind::parse(kind).map_or_else(Vec::new, |k| {
        k.targets().iter().map(|t| t.as_str()).collect()
    })
}

/// Whether a block of this kind calls downstream blocks (and so has an output port), and
/// whether it may call several.
pub fn outputs(kind: &str) -> (bool, bool) {
    match BlockKind::parse(kind).map(BlockKind::calls) {
        Some(Calls::Many) => (true, true),
        Some(Calls::One | Calls::Optional) => (true, false),
        None => (false, false),
    }
}

/// Whether blocks of this kind take calls (a client does not).
pub fn receives_calls(kind: &str) -> bool {
    BlockKind::parse(kind).is_some_and(BlockKind::receives_calls)
}

/// A new block of this kind as the core's template has it, not yet connected (`to` empty,
/// which the validator reports until the user connects it); `None` for an unknown kind.
pub fn new_block(kind: &str, id: &str, x: f64, y: f64) -> Option<Value> {
    let kind = BlockKind::parse(kind)?;
    let mut block: Value = serde_json::from_str(kind.template()).ok()?;
    let fields = block.as_object_mut()?;
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(id));
    out.insert("kind".into(), json!(kind.as_str()));
    out.append(fields);
    out.insert("ui".into(), json!({"x": x.round(), "y": y.round()}));
    Some(Value::Object(out))
}

/// A new trigger of this kind on `target`, starting at `at_s`; `None` for an unknown kind.
pub fn new_trigger(kind: &str, target: &str, at_s: f64, for_s: f64) -> Option<Value> {
    let kind = TriggerKind::parse(kind)?;
    let at_s = (at_s * 10.0).round() / 10.0;
    let for_s = (for_s * 10.0).round() / 10.0;
    let mut trigger = json!({"kind": kind.as_str(), "target": target, "at_s": at_s});
    if kind.param("for_s").is_some() {
        trigger["for_s"] = json!(for_s);
    }
    let own: Value = serde_json::from_str(kind.template()).ok()?;
    for (key, value) in own.as_object()? {
        trigger[key] = value.clone();
    }
    // A staircase has no `for_s`: it lasts as long as asked through its steps' length.
    if trigger.get("step_s").is_some() {
        set_trigger_length(&mut trigger, for_s);
    }
    Some(trigger)
}

/// How long a trigger lasts, as its document says: its `for_s`, or a staircase's `step_s` ×
/// its number of steps; `None` for an instant trigger (or one that does not say).
pub fn trigger_length_s(trigger: &Value) -> Option<f64> {
    if let Some(for_s) = trigger.get("for_s") {
        return for_s.as_f64();
    }
    let step_s = trigger.get("step_s")?.as_f64()?;
    let steps = trigger.get("factors")?.as_array()?.len();
    Some(step_s * steps as f64)
}

/// Makes a trigger last `length_s` (at least 0.1 s; to a tenth of a second): its `for_s`,
/// or a staircase's `step_s` (its length over its steps, to a tenth, at least 0.1 s). An
/// instant trigger is left as it is.
pub fn set_trigger_length(trigger: &mut Value, length_s: f64) {
    let tenth = |x: f64| ((x * 10.0).round() / 10.0).max(0.1);
    if trigger.get("for_s").is_some() {
        trigger["for_s"] = json!(tenth(length_s.max(0.1)));
    } else if trigger.get("step_s").is_some() {
        let steps = trigger
            .get("factors")
            .and_then(Value::as_array)
            .map_or(1, Vec::len)
            .max(1);
        trigger["step_s"] = json!(tenth(length_s / steps as f64));
    }
}

/// A soft range for a slider beside the number input, for the fields people sweep by hand.
///
/// `kind` is the block's kind, or `trigger` (a trigger's `rate` is an error fraction, a
/// client's a request rate).
pub fn slider_range(kind: &str, path: &str, duration_s: f64) -> Option<(f64, f64, f64)> {
    Some(match path {
        "rate" if kind == "client" => (0.0, 500.0, 1.0),
        "users" => (1.0, 1000.0, 1.0),
        "think_s" | "timeout_s" | "attempt_timeout_s" | "hedge_after_s" => (0.05, 10.0, 0.05),
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

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{set_path, Scenario};

    fn field_of(kind: &str, path: &str) -> Field {
        block_fields(kind)
            .into_iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{kind}.{path}"))
    }

    #[test]
    fn a_block_reads_in_one_line() {
        let retry = json!({"kind": "retry", "max_attempts": 3});
        assert_eq!(summary(&retry), "× 3 attempts");
        let server = json!({"kind": "server", "workers": 10, "service": {"mean_s": 0.1}});
        assert_eq!(summary(&server), "10 workers · 0.1 s");
        let limiter = json!({"kind": "limiter", "mode": "concurrency", "limit": 5});
        assert_eq!(summary(&limiter), "≤ 5 at once");
        assert_eq!(summary(&json!({"kind": "nope"})), "");
    }

    fn scenario_field(path: &str) -> Field {
        scenario_fields()
            .into_iter()
            .find(|f| f.path == path)
            .unwrap()
    }

    /// Every parameter of the core's schema has a label here, and every label names one:
    /// a kind's parameters are written once, in the core, and only read here.
    #[test]
    fn every_parameter_has_a_label_and_every_label_a_parameter() {
        let check = |what: &str, params: &[Param], labels: &[&[Label]]| {
            for param in params {
                assert!(
                    labels
                        .iter()
                        .flat_map(|l| l.iter())
                        .any(|l| l.path == param.path),
                    "{what}.{} has no label",
                    param.path
                );
            }
            for label in labels.iter().flat_map(|l| l.iter()) {
                assert!(
                    params.iter().any(|p| p.path == label.path),
                    "{what}: the label {} names no parameter",
                    label.path
                );
            }
        };
        for kind in BlockKind::ALL {
            check(
                kind.as_str(),
                kind.params(),
                &[block_labels(kind), BLOCK_COMMON],
            );
        }
        for kind in TriggerKind::ALL {
            let common: Vec<Label> = TRIGGER_COMMON
                .iter()
                .copied()
                .filter(|l| kind.param(l.path).is_some())
                .collect();
            check(
                kind.as_str(),
                kind.params(),
                &[trigger_labels(kind), &common],
            );
        }
        check("scenario", SCENARIO_PARAMS, &[SCENARIO]);
    }

    /// Every labelled parameter has its line of help, kept apart from its label; the help
    /// tables name no parameter the labels do not, and each says something of its own.
    #[test]
    fn every_label_has_its_line_of_help_and_every_help_a_label() {
        let check = |what: &str,
                     labels: &[&[Label]],
                     helps: &[&[&str]],
                     help: &dyn Fn(&str) -> &'static str| {
            for (labels, helps) in labels.iter().zip(helps) {
                assert_eq!(
                    labels.len(),
                    helps.len(),
                    "{what}: one line of help per label, in order"
                );
            }
            for label in labels.iter().flat_map(|l| l.iter()) {
                let line = help(label.path);
                assert!(!line.is_empty(), "{what}.{} has no help", label.path);
                assert!(
                    line.ends_with('.') || line.ends_with(')'),
                    "{what}.{}: {line}",
                    label.path
                );
            }
        };
        for kind in BlockKind::ALL {
            check(
                kind.as_str(),
                &[block_labels(kind), BLOCK_COMMON],
                &[block_helps(kind), BLOCK_COMMON_HELP],
                &|path| block_help(kind.as_str(), path),
            );
        }
        for kind in TriggerKind::ALL {
            check(
                kind.as_str(),
                &[trigger_labels(kind), TRIGGER_COMMON],
                &[trigger_helps(kind), TRIGGER_COMMON_HELP],
                &|path| trigger_help(kind.as_str(), path),
            );
        }
        check("scenario", &[SCENARIO], &[SCENARIO_HELP], &scenario_help);
        assert_eq!(block_help("server", "workers"), "Calls served at once.");
        assert_eq!(block_help("nope", "workers"), "");
        assert_eq!(trigger_help("load_spike", "nope"), "");
    }

    /// Every field path of every block kind must be one the core reads: setting it to its
    /// shown value on a default block keeps the scenario valid.
    #[test]
    fn every_field_round_trips_through_set_path() {
        for kind in block_kinds() {
            let mut block = new_block(kind, "x", 0.0, 0.0).unwrap();
            let mut blocks = vec![new_block("server", "s", 0.0, 0.0).unwrap()];
            match kind {
                "balancer" => block["to"] = json!(["s"]),
                "server" => {}
                _ => block["to"] = json!("s"),
            }
            if kind != "client" {
                let mut client = new_block("client", "c", 0.0, 0.0).unwrap();
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
        let field = &field_of("server", "service.mean_s");
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
        let timeout = &field_of("client", "timeout_s");
        assert_eq!(timeout.raw_value(""), "null");
        assert_eq!(timeout.raw_value("abc"), "\"abc\"");
        assert_eq!(timeout.raw_value(" 2.5 "), "2.5");
        let to = field_of("balancer", "to");
        assert_eq!(to.raw_value("a, b,"), r#"["a","b"]"#);
    }

    fn trigger_field(kind: &str, path: &str) -> Field {
        trigger_fields(kind)
            .into_iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{kind}.{path}"))
    }

    #[test]
    fn a_list_of_numbers_is_typed_separated_by_commas() {
        let factors = trigger_field("load_steps", "factors");
        assert!(matches!(
            factors.input,
            Input::Numbers { max_len: 1000, .. }
        ));
        assert_eq!(factors.raw_value("1, 1.5, 2"), "[1,1.5,2]");
        assert_eq!(factors.raw_value(" 1;2  3, "), "[1,2,3]");
        assert_eq!(factors.raw_value("0.1, 1e3"), "[0.1,1000]");
        assert_eq!(
            factors.raw_value("1, lots"),
            "\"1, lots\"",
            "text reaches the validator as text"
        );
        assert_eq!(factors.check("1, 1.1, 1.2"), Ok(()));
        assert_eq!(factors.check("0"), Ok(()));
        assert_eq!(
            factors.check(""),
            Err(
                "Factors needs at least one number (from 0 to 1,000,000), separated by commas"
                    .into()
            )
        );
        assert_eq!(
            factors.check("1, -1"),
            Err(
                "Factors must be numbers from 0 to 1,000,000, separated by commas — you typed -1"
                    .into()
            )
        );
        assert!(factors
            .check("1, two")
            .unwrap_err()
            .contains("you typed two"));
        let long = vec!["1"; 1001].join(",");
        assert_eq!(
            factors.check(&long),
            Err("Factors takes at most 1,000 numbers — you typed 1,001".into())
        );
        // What the inspector shows is what it reads back.
        let steps = new_trigger("load_steps", "users", 10.0, 30.0).unwrap();
        assert_eq!(factors.text(&steps), "1.2, 1.4, 1.2");
        assert_eq!(factors.raw_value(&factors.text(&steps)), "[1.2,1.4,1.2]");
    }

    /// Every field of every trigger kind, set to what it shows, keeps the scenario valid.
    #[test]
    fn every_trigger_field_round_trips_through_set_path() {
        for kind in trigger_kinds() {
            let target = match trigger_targets(kind)[0] {
                "client" => "users",
                "cache" => "cache",
                _ => "api",
            };
            let trigger = new_trigger(kind, target, 10.0, 6.0).unwrap();
            let doc = json!({"version": 1, "duration_s": 60, "blocks": [
                {"id": "users", "kind": "client", "rate": 5, "to": "cache"},
                {"id": "cache", "kind": "cache", "capacity": 5, "to": "api"},
                {"id": "api", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}},
            ], "triggers": [trigger.clone()]});
            for field in trigger_fields(kind) {
                let raw = field.raw_value(&field.text(&trigger));
                let mut edited = doc.clone();
                set_path(&mut edited, &format!("triggers.0.{}", field.path), &raw).unwrap();
                Scenario::from_value(edited)
                    .unwrap_or_else(|e| panic!("{kind}.{} = {raw}: {e}", field.path));
            }
        }
    }

    #[test]
    fn a_staircase_lasts_its_steps_and_is_resized_through_them() {
        let mut steps = new_trigger("load_steps", "users", 10.0, 30.0).unwrap();
        assert!(steps.get("for_s").is_none(), "a staircase has no for_s");
        assert_eq!(steps["step_s"], json!(10.0), "30 s over 3 steps");
        assert_eq!(trigger_length_s(&steps), Some(30.0));
        set_trigger_length(&mut steps, 45.0);
        assert_eq!(steps["step_s"], json!(15.0));
        set_trigger_length(&mut steps, 0.0);
        assert_eq!(
            steps["step_s"],
            json!(0.1),
            "never shorter than a tenth per step"
        );
        let mut spike = new_trigger("load_spike", "users", 10.0, 30.0).unwrap();
        assert_eq!(trigger_length_s(&spike), Some(30.0));
        set_trigger_length(&mut spike, 12.34);
        assert_eq!(spike["for_s"], json!(12.3));
        let mut flush = new_trigger("cache_flush", "cache", 10.0, 30.0).unwrap();
        assert_eq!(trigger_length_s(&flush), None);
        set_trigger_length(&mut flush, 5.0);
        assert!(flush.get("for_s").is_none() && flush.get("step_s").is_none());
    }

    #[test]
    fn a_retry_block_hedges_only_when_asked() {
        let hedge = field_of("retry", "hedge_after_s");
        assert!(matches!(hedge.input, Input::Number { optional: true, .. }));
        assert_eq!(
            hedge.text(&json!({"kind": "retry"})),
            "",
            "empty: no hedging"
        );
        assert_eq!(hedge.raw_value(""), "null");
    }

    #[test]
    fn problems_are_said_in_plain_words() {
        let doc =
            json!({"blocks": [{"id": "api", "kind": "server"}, {"id": "users", "kind": "client"}]});
        // The location as the core writes it, read back for the test's convenience.
        let at = |text: &str| -> Location {
            if let Some(id) = text
                .strip_prefix("block \"")
                .and_then(|t| t.strip_suffix('"'))
            {
                let index = doc["blocks"]
                    .as_array()
                    .and_then(|b| b.iter().position(|b| b["id"] == id))
                    .unwrap_or(99);
                return Location::block(index, id);
            }
            if let Some(rest) = text.strip_prefix("trigger ") {
                let (index, kind) = rest.split_once(' ').unwrap();
                return Location::Trigger {
                    index: index.parse().unwrap(),
                    kind: Some(kind.trim_matches(['(', ')']).to_string()),
                };
            }
            assert_eq!(text, "scenario");
            Location::Scenario
        };
        let problem = |location: &str, field: &str, message: &str| sim_core::Problem {
            location: at(location),
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
        let workers = &field_of("server", "workers");
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
        let duration = &scenario_field("duration_s");
        assert_eq!(duration.check("0.5"), Ok(()));
        assert_eq!(duration.check("0,5"), Ok(()));
        assert_eq!(duration.raw_value("0,5"), "0.5");
        assert!(
            duration.check("1.").is_ok(),
            "a half-typed number is still a number"
        );
        assert!(duration.check("1e400").is_err(), "not finite");
        let queue = &field_of("server", "queue_capacity");
        assert_eq!(queue.check(""), Ok(()), "optional: empty means none");
    }

    #[test]
    fn fields_follow_the_block_state() {
        let rate = field_of("client", "rate");
        let users = field_of("client", "users");
        let open = json!({"kind": "client", "rate": 5});
        let closed = json!({"kind": "client", "mode": "closed", "users": 5});
        assert!(rate.applies(&open) && !users.applies(&open));
        assert!(!rate.applies(&closed) && users.applies(&closed));
        let ratio = &field_of("retry", "budget.ratio");
        assert!(!ratio.applies(&json!({"kind": "retry"})));
        assert!(ratio.applies(&json!({"kind": "retry", "budget": {"ratio": 1}})));
    }

    #[test]
    fn every_trigger_kind_has_fields_and_a_valid_default() {
        for kind in trigger_kinds() {
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
            ], "triggers": [new_trigger(kind, target, 10.0, 5.0).unwrap()]});
            Scenario::from_value(doc).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
}
