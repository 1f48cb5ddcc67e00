//! A structure-aware fuzz harness for scenario documents and `--set` edits (SPEC §10), on the
//! stable toolchain like `fuzz_share`. Every input is a document mutated from a real one (a
//! preset, `tests/scenarios/every-block.json`, the hostile scenarios of `sim_core::hostile`)
//! or random JSON text; each is parsed, edited through `set_path`, validated and, when valid,
//! run with small budgets. For each input the harness checks:
//!
//! - no panic;
//! - an answer within the work budget: the run ends, finished or stopped by a limit, and the
//!   slowest input's wall time is reported;
//! - peak memory within the state budget: a counting global allocator measures the bytes live
//!   at the input's peak, which must stay under the state limit plus the input's own size (its
//!   text, its document and the scenario made from it) plus a constant;
//! - conservation (`good + late + failed + in_flight = requests`) of every run.
//!
//! ```text
//! cargo run -p sim-core --release --example fuzz_scenario -- --seconds 60 --seed 1
//! cargo run -p sim-core --release --example fuzz_scenario -- --iterations 1000000 --seed 7
//! ```
//!
//! Inputs depend only on the seed and the iteration number. Exits 1 on any failed check.

// The one unsafe code of the workspace: a global allocator is an `unsafe impl`, and this one
// only forwards to the system allocator and counts.
#![allow(unsafe_code)]

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64;
use serde_json::{json, Map, Value};
use sim_core::{hostile, presets, set_path, Limits, Scenario, Sim};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EVERY_BLOCK: &str = include_str!("../../../tests/scenarios/every-block.json");
const USAGE: &str =
    "usage: fuzz_scenario [--seconds N | --iterations N] [--seed N] [--show ITERATION]";

/// The budgets every input runs with.
const LIMITS: Limits = Limits {
    max_work: 20_000,
    max_state_bytes: 4 << 20,
    max_events_per_instant: 10_000,
};
/// Memory an input may use besides the state budget and copies of itself: the engine's
/// fixed buffers, metric rows' columns, the parser's stack.
const SLACK_BYTES: usize = 8 << 20;

/// Counts the bytes live and the peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                // A moving realloc holds both blocks for a moment.
                let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(
                    live + if q == p { 0 } else { layout.size() },
                    Ordering::Relaxed,
                );
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

struct Options {
    seconds_limit: Option<f64>,
    iterations_limit: Option<u64>,
    seed: u64,
    /// Print this iteration's input and answer, and stop.
    show: Option<u64>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds_limit: None,
        iterations_limit: None,
        seed: 1,
        show: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--seconds" => {
                let seconds: f64 = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
                options.seconds_limit = Some(seconds);
            }
            "--iterations" => {
                let n = value()?.parse().map_err(|e| format!("--iterations: {e}"))?;
                options.iterations_limit = Some(n);
            }
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--show" => options.show = Some(value()?.parse().map_err(|e| format!("--show: {e}"))?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if options.seconds_limit.is_none() && options.iterations_limit.is_none() {
        options.seconds_limit = Some(10.0);
    }
    Ok(options)
}

/// The documents mutations start from.
fn corpus() -> Vec<Value> {
    let mut texts: Vec<String> = presets::ALL.iter().map(|p| p.json.to_string()).collect();
    texts.push(EVERY_BLOCK.to_string());
    texts.push(hostile::retry_chain(30, 3));
    texts.push(hostile::closed_clients(3, 1000));
    texts.push(hostile::many_rows(20, 2000));
    texts.push(hostile::balancer_chain(20, 50, "least_outstanding", 1000.0));
    texts.push(hostile::balancer_chain(40, 1, "round_robin", 1e5));
    texts.push(hostile::long_to_list(900));
    texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("corpus JSON"))
        .collect()
}

/// Numbers that sit on an edge of some field's range or of a type.
const EXTREME: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1.5,
    2.0,
    1e-9,
    1e-3,
    5e-324,
    1e8,
    1.000_000_1e8,
    1e12,
    1e15,
    9_007_199_254_740_993.0,
    4_294_967_295.0,
    4_294_967_296.0,
    1e19,
    1.8e19,
    1e300,
    1.7e308,
    -1e308,
];

struct Mutator {
    rng: Pcg64,
}

impl Mutator {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.rng.next_u64() % one_in == 0
    }

    fn number(&mut self) -> Value {
        match self.below(4) {
            0 => json!(EXTREME[self.below(EXTREME.len())]),
            1 => json!(self.rng.next_u64()),
            2 => json!(-(self.below(1000) as i64)),
            _ => json!(
                (self.rng.next_u64() as f64 / u64::MAX as f64)
                    * 10f64.powi(self.below(12) as i32 - 3)
            ),
        }
    }

    fn string(&mut self, ids: &[String]) -> Value {
        match self.below(7) {
            0 if !ids.is_empty() => json!(ids[self.below(ids.len())]),
            1 => json!(""),
            2 => json!("x".repeat(self.below(300))),
            3 => json!("\u{1b}[31mred\u{7}"),
            4 => json!(
                [
                    "fifo",
                    "lifo",
                    "reject",
                    "drop_oldest",
                    "exponential",
                    "deterministic",
                    "lognormal",
                    "closed",
                    "open",
                    "uniform",
                    "poisson",
                    "least_outstanding",
                    "power_of_two",
                    "random",
                    "round_robin",
                    "full",
                    "equal",
                    "decorrelated",
                    "none",
                    "constant",
                    "linear"
                ][self.below(21)]
            ),
            5 => json!(
                [
                    "client",
                    "retry",
                    "cache",
                    "balancer",
                    "breaker",
                    "server",
                    "load_spike",
                    "latency",
                    "outage",
                    "capacity",
                    "errors",
                    "partition",
                    "cache_flush"
                ][self.below(13)]
            ),
            _ => json!("NaN"),
        }
    }

    /// Any value, at most `depth` deep.
    fn value(&mut self, ids: &[String], depth: usize) -> Value {
        // Long lists and deep nesting are dear to make: one value in a few hundred.
        let rare = self.chance(300);
        match self.below(if depth == 0 {
            5
        } else if rare {
            8
        } else {
            6
        }) {
            0 => Value::Null,
            1 => json!(self.chance(2)),
            2 | 3 => self.number(),
            4 => self.string(ids),
            5 => {
                let n = if rare {
                    900 + self.below(300)
                } else {
                    self.below(4)
                };
                Value::Array((0..n).map(|_| self.value(ids, depth - 1)).collect())
            }
            6 if rare => {
                // Deep nesting: past serde_json's recursion limit at times.
                let mut v = json!(1);
                for _ in 0..self.below(200) {
                    v = json!([v]);
                }
                v
            }
            _ => {
                let keys = [
                    "kind", "id", "to", "rate", "workers", "mean_s", "x", "service", "backoff",
                ];
                let mut map = Map::new();
                for _ in 0..self.below(4) {
                    map.insert(
                        keys[self.below(keys.len())].into(),
                        self.value(ids, depth - 1),
                    );
                }
                Value::Object(map)
            }
        }
    }

    /// Every path to a value in `doc`, as `set_path` writes it where it can.
    fn paths(doc: &Value) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, prefix: String, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    for (k, c) in map {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        out.push(p.clone());
                        walk(c, p, out);
                    }
                }
                Value::Array(items) => {
                    for (i, c) in items.iter().enumerate().take(50) {
                        let p = format!("{prefix}.{i}");
                        out.push(p.clone());
                        walk(c, p, out);
                    }
                }
                _ => {}
            }
        }
        // `set_path` addresses blocks by id.
        for block in doc
            .get("blocks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = block.get("id").and_then(Value::as_str) {
                out.push(id.to_string());
                if let Value::Object(map) = block {
                    for (k, c) in map {
                        out.push(format!("{id}.{k}"));
                        walk(c, format!("{id}.{k}"), &mut out);
                    }
                }
            }
        }
        for top in ["seed", "duration_s", "bucket_s", "name", "triggers"] {
            if let Some(v) = doc.get(top) {
                out.push(top.to_string());
                walk(v, top.to_string(), &mut out);
            }
        }
        out
    }

    /// A mutable reference to a random node of `doc` (the root included).
    fn node<'a>(&mut self, doc: &'a mut Value) -> &'a mut Value {
        let mut current = doc;
        loop {
            if self.chance(3) {
                return current;
            }
            let len = match &*current {
                Value::Object(map) if !map.is_empty() => map.len(),
                Value::Array(items) if !items.is_empty() => items.len(),
                _ => return current,
            };
            let i = self.below(len);
            current = match current {
                Value::Object(map) => map.values_mut().nth(i).expect("in range"),
                Value::Array(items) => &mut items[i],
                _ => unreachable!(),
            };
        }
    }

    fn ids(doc: &Value) -> Vec<String> {
        doc.get("blocks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| b.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// One structural change of `doc`.
    fn mutate(&mut self, doc: &mut Value) {
        let ids = Self::ids(doc);
        match self.below(9) {
            // Replace a value anywhere.
            0..=2 => {
                let v = self.value(&ids, 3);
                *self.node(doc) = v;
            }
            // Remove a key or an entry.
            3 => match self.node(doc) {
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(self.below(map.len())).cloned().expect("key");
                    map.remove(&key);
                }
                Value::Array(items) if !items.is_empty() => {
                    let i = self.below(items.len());
                    items.remove(i);
                }
                _ => {}
            },
            // Add a key (known or not).
            4 => {
                let v = self.value(&ids, 2);
                let keys = [
                    "ui",
                    "caption",
                    "timeout_s",
                    "users",
                    "think_s",
                    "keys",
                    "zipf_s",
                    "budget",
                    "slowdown",
                    "max_queue_wait_s",
                    "to",
                    "bogus",
                ];
                let key = keys[self.below(keys.len())];
                if let Value::Object(map) = self.node(doc) {
                    map.insert(key.into(), v);
                }
            }
            // Duplicate a block or a trigger, or a lot of them.
            5 => {
                for list in ["blocks", "triggers"] {
                    if let Some(items) = doc.get_mut(list).and_then(Value::as_array_mut) {
                        if let Some(item) = items.get(self.below(items.len())).cloned() {
                            let n = if self.chance(300) { 1000 } else { 1 };
                            items.extend(std::iter::repeat_n(item, n));
                        }
                    }
                }
            }
            // Rewire: point a `to` at another block (cycles, clients, itself).
            6 => {
                if let Some(blocks) = doc.get_mut("blocks").and_then(Value::as_array_mut) {
                    if !blocks.is_empty() && !ids.is_empty() {
                        let i = self.below(blocks.len());
                        let target = json!(ids[self.below(ids.len())]);
                        if let Some(to) = blocks[i].get_mut("to") {
                            match to {
                                Value::Array(items) if !items.is_empty() => {
                                    let j = self.below(items.len());
                                    items[j] = target;
                                }
                                other => *other = target,
                            }
                        }
                    }
                }
            }
            // A trigger of any kind on any block.
            7 => {
                let kinds = sim_core::kind::TriggerKind::NAMES;
                let target = ids.get(self.below(ids.len())).cloned().unwrap_or_default();
                let kind = kinds[self.below(kinds.len())];
                let trigger = if kind == "load_steps" {
                    // A staircase of up to 1,200 steps (past its limit of 1,000).
                    let steps = [0, 1, 3, 1000, 1200][self.below(5)];
                    let factors: Vec<Value> = (0..steps).map(|_| self.number()).collect();
                    json!({"kind": kind, "target": target, "at_s": self.number(),
                        "step_s": self.number(), "factors": factors})
                } else {
                    json!({"kind": kind, "target": target,
                        "at_s": self.number(), "for_s": self.number(), "factor": self.number()})
                };
                if let Some(items) = doc.get_mut("triggers").and_then(Value::as_array_mut) {
                    items.push(trigger);
                } else if let Value::Object(map) = doc {
                    map.insert("triggers".into(), json!([trigger]));
                }
            }
            // Make the run short enough to finish sometimes, or long.
            _ => {
                if let Value::Object(map) = doc {
                    let d = [0.5, 2.0, 10.0, 1e-308, 1e8][self.below(5)];
                    map.insert("duration_s".into(), json!(d));
                }
            }
        }
    }

    /// A `--set` edit: a real path (or a made-up one) and a value as a person types it.
    fn edit(&mut self, doc: &Value) -> (String, String) {
        let paths = Self::paths(doc);
        let path = if paths.is_empty() || self.chance(10) {
            [
                "",
                ".",
                "nope.x",
                "blocks.0",
                "triggers.99.at_s",
                "api..x",
                "seed.x",
            ][self.below(7)]
            .to_string()
        } else {
            paths[self.below(paths.len())].clone()
        };
        let texts = [
            "1.5",
            "-1",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "1e-400",
            "null",
            "true",
            "[1,2]",
            "{}",
            "\"x\"",
            "x",
            "",
            " 7 ",
            "18446744073709551615",
            "18446744073709551616",
            "9007199254740993",
            "0x10",
            "\u{1b}[2J",
        ];
        let value = if self.chance(2) {
            texts[self.below(texts.len())].to_string()
        } else {
            self.number().to_string()
        };
        (path, value)
    }

    /// Random JSON-ish text: brackets, quotes, digits and letters.
    fn text(&mut self) -> String {
        let alphabet = b"{}[]\",:0123456789.-eE truefalsnl\\u";
        (0..self.below(200))
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

#[derive(Default)]
struct Stats {
    inputs: u64,
    /// Per answer: how many inputs, and their total time.
    answers: BTreeMap<&'static str, (u64, Duration)>,
    failures: Vec<String>,
    slowest: (Duration, u64),
    peak: (usize, u64),
}

/// One input: its text, what it became, and the checks.
fn one(mutator: &mut Mutator, corpus: &[Value], iteration: u64, stats: &mut Stats, show: bool) {
    let text = if mutator.chance(20) {
        mutator.text()
    } else {
        let mut doc = corpus[mutator.below(corpus.len())].clone();
        for _ in 0..1 + mutator.below(4) {
            mutator.mutate(&mut doc);
        }
        doc.to_string()
    };
    let edits: Vec<(String, String)> = match serde_json::from_str::<Value>(&text) {
        Ok(doc) if mutator.chance(3) => (0..1 + mutator.below(3))
            .map(|_| mutator.edit(&doc))
            .collect(),
        _ => Vec::new(),
    };
    if show {
        println!(
            "input ({} bytes): {}",
            text.len(),
            &text[..text.len().min(3000)]
        );
        println!("edits: {edits:?}");
    }
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<&'static str, String> {
        // As the command line and the page read a document: its shape first, unbuilt.
        if sim_core::scenario::check_shape(&text).is_err() {
            return Ok("refused: a list too long");
        }
        let mut doc: Value = match serde_json::from_str(&text) {
            Ok(doc) => doc,
            Err(_) => {
                return Ok(match Scenario::from_json(&text) {
                    Ok(_) => "accepted text the parser refused",
                    Err(_) => "refused: syntax",
                })
            }
        };
        for (path, value) in &edits {
            if set_path(&mut doc, path, value).is_err() {
                return Ok("refused: --set");
            }
        }
        let scenario = match Scenario::from_value(doc) {
            Ok(s) => s,
            Err(_) => return Ok("refused: invalid"),
        };
        let mut sim = match Sim::with_limits(&scenario, LIMITS) {
            Ok(sim) => sim,
            Err(_) => return Ok("refused: over the budgets"),
        };
        sim.run();
        let t = sim.totals();
        if t.good + t.late + t.failed + t.in_flight != t.requests {
            return Err(format!("conservation: {t:?}"));
        }
        if sim.work() > LIMITS.max_work + 5_000 {
            return Err(format!(
                "work {} past the budget {}",
                sim.work(),
                LIMITS.max_work
            ));
        }
        Ok(match sim.stopped() {
            None if sim.finished() => "ran: finished",
            None => return Err("the run neither finished nor stopped".into()),
            Some(s) => match s.budget {
                sim_core::Budget::Work => "ran: stopped by work",
                sim_core::Budget::State => "ran: stopped by state",
                sim_core::Budget::Instant => "ran: stopped at one instant",
            },
        })
    }));
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    stats.inputs += 1;
    let allowed = LIMITS.max_state_bytes as usize + 40 * text.len() + SLACK_BYTES;
    match outcome {
        Ok(Ok(answer)) => {
            let entry = stats.answers.entry(answer).or_default();
            entry.0 += 1;
            entry.1 += took;
        }
        Ok(Err(failure)) => stats
            .failures
            .push(format!("iteration {iteration}: {failure}\n{text}")),
        Err(_) => stats
            .failures
            .push(format!("iteration {iteration}: panicked\n{text}")),
    }
    if peak > allowed {
        stats.failures.push(format!(
            "iteration {iteration}: {peak} bytes at the peak, more than {allowed}\n{}",
            &text[..text.len().min(2000)]
        ));
    }
    if took > stats.slowest.0 {
        stats.slowest = (took, iteration);
    }
    if peak > stats.peak.0 {
        stats.peak = (peak, iteration);
    }
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Panics are caught and counted; their messages would only drown the report.
    std::panic::set_hook(Box::new(|_| {}));
    let corpus = corpus();
    let mut stats = Stats::default();
    let started = Instant::now();
    if let Some(iteration) = options.show {
        let mut mutator = Mutator {
            rng: Pcg64::seed_from_u64(options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ iteration),
        };
        one(&mut mutator, &corpus, iteration, &mut stats, true);
        println!(
            "answer: {:?}; failures: {:?}; {:.2} ms; peak {} bytes",
            stats.answers.keys().collect::<Vec<_>>(),
            stats.failures,
            stats.slowest.0.as_secs_f64() * 1e3,
            stats.peak.0
        );
        return ExitCode::SUCCESS;
    }
    let mut iteration = 0u64;
    loop {
        if options.iterations_limit.is_some_and(|n| iteration >= n)
            || options
                .seconds_limit
                .is_some_and(|s| started.elapsed().as_secs_f64() >= s)
        {
            break;
        }
        // Each input from its own stream: replayable from the seed and the iteration alone.
        let mut mutator = Mutator {
            rng: Pcg64::seed_from_u64(options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ iteration),
        };
        one(&mut mutator, &corpus, iteration, &mut stats, false);
        iteration += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "fuzz_scenario: seed {}, {} inputs in {seconds:.1} s ({:.0}/s), {} failures; slowest input {:.2} ms (iteration {}); largest peak {:.2} MiB (iteration {}) against a state budget of {} MiB",
        options.seed,
        stats.inputs,
        stats.inputs as f64 / seconds,
        stats.failures.len(),
        stats.slowest.0.as_secs_f64() * 1e3,
        stats.slowest.1,
        stats.peak.0 as f64 / f64::from(1u32 << 20),
        stats.peak.1,
        LIMITS.max_state_bytes >> 20,
    );
    for (answer, (count, time)) in &stats.answers {
        println!(
            "  {count:>10}  {answer} ({:.3} ms each)",
            time.as_secs_f64() * 1e3 / *count as f64
        );
    }
    for failure in stats.failures.iter().take(5) {
        println!("FAILED {}", &failure[..failure.len().min(3000)]);
    }
    if stats.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
