//! The analysis view (SPEC §6, §9): a phase diagram over one or two parameters of the current
//! scenario, the tipping curve (the smallest trigger that tips it, per load), the fluid
//! model's state space, and hysteresis (goodput as the load climbs a staircase and comes back
//! down), computed in Web Workers.
//!
//! Everything here is plain Rust, tested natively: the view's settings and their place in the
//! address, the plan of jobs, the workers' protocol and what a worker does with a job, and
//! how the replies add up. The grid and the bisection are the core's ([`sim_core::sweep`]),
//! so a cell here is the same run as the CLI's `sweep` row: same scenario, same seed, same
//! verdict. The hysteresis experiment is the core's too ([`sim_core::hysteresis`]), built and
//! run only in the workers ([`WorkerState::handle`]): the page sends its settings and draws
//! the [`HysteresisMsg`] that comes back, so the page's own wasm does not carry it.

use crate::embed::{knob_candidates, query_value, resolve_knob, unescape};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::hysteresis::{
    csv_row, Band, Edges, Experiment, Hysteresis, Input, LoadField, Measure, Refusal, StepResult,
    CSV_HEADER, DEFAULT_HOLD_S,
};
use sim_core::replicate::Replica;
use sim_core::sweep::{
    bisect, number_text, tip_header, tip_row, Axis, Outcome, Point, Sweep, Threshold,
};
use sim_core::{get_path, Budget, LimitExceeded, Limits, Row, Scenario, Sim, Verdict};

/// Most runs one analysis may ask of a browser (a phase grid's points × seeds; a tipping
/// search's loads × trials × seeds, at most).
pub const MAX_RUNS: usize = 20_000;
/// Most values along one axis.
pub const MAX_SIDE: usize = 60;
/// Most seeds per point.
pub const MAX_SEEDS: u32 = 20;
/// Most halvings of a tipping search.
pub const MAX_STEPS: u32 = 12;
/// The shortest and longest hold time of a hysteresis step the browser runs, in seconds.
pub const MIN_HOLD_S: f64 = 1.0;
pub const MAX_HOLD_S: f64 = 3600.0;
/// Loads on a hysteresis staircase by default (twelve equal steps from zero).
pub const LOAD_STEPS: usize = 12;

/// Which picture the view draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Colour = verdict over one or two parameters.
    Phase,
    /// The smallest trigger that tips the system, per load.
    Tip,
    /// The fluid model's state space with the simulated path on it.
    Model,
    /// Goodput against the load, up a staircase and back down (SPEC §9).
    Hysteresis,
}

impl Mode {
    pub fn id(self) -> &'static str {
        match self {
            Mode::Phase => "phase",
            Mode::Tip => "tip",
            Mode::Model => "model",
            Mode::Hysteresis => "hysteresis",
        }
    }
}

/// A parameter and the values to try: `path=lo..hi:n` as on the CLI.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub path: String,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

impl Range {
    /// A first range for a parameter, around its value in the document: a spike's factor
    /// from 1 to twice it; anything else from half to one and a half times it.
    pub fn around(doc: &Value, path: &str, n: usize) -> Range {
        let value = get_path(&mut doc.clone(), path)
            .ok()
            .and_then(Value::as_f64)
            .or_else(|| {
                // A field left at its default: start from its lowest sensible value.
                resolve_knob(doc, path).and_then(|k| match k.field.input {
                    crate::fields::Input::Number { min, .. }
                    | crate::fields::Input::Integer { min, .. } => Some(min.max(1.0)),
                    _ => None,
                })
            })
            .unwrap_or(1.0);
        let (lo, hi) = if path.ends_with(".factor") {
            (1.0, nice((2.0 * value).max(2.0)))
        } else if value > 0.0 {
            (nice(value * 0.5), nice(value * 1.5))
        } else {
            (0.0, 1.0)
        };
        Range {
            path: path.to_string(),
            lo,
            hi,
            n,
        }
    }

    /// A first staircase for a client's load: for a rate, twelve equal steps from zero to one
    /// and a half times it (the retry storm's 80 gives 10, 20, … 120). The top is past
    /// capacity for a client that runs at two thirds of it or more, as the presets that tip
    /// do; the bottom is low enough to find where a retry storm's collapse drains (its band's
    /// lower edge is capacity ÷ attempts, a quarter of capacity for four attempts, which is
    /// above an eighth of any rate over half of capacity). For a think time (the load rises
    /// as it falls): from two thirds of it to four times it. Anything else: [`Range::around`].
    pub fn for_load(doc: &Value, path: &str) -> Range {
        let value = get_path(&mut doc.clone(), path)
            .ok()
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite() && *v > 0.0);
        let steps = LOAD_STEPS as f64;
        match value {
            Some(rate) if path.ends_with(".rate") => {
                let hi = nice(1.5 * rate);
                Range {
                    path: path.to_string(),
                    lo: hi / steps,
                    hi,
                    n: LOAD_STEPS,
                }
            }
            Some(think) if path.ends_with(".think_s") => Range {
                path: path.to_string(),
                lo: nice(think * 2.0 / 3.0),
                hi: nice(think * 4.0),
                n: LOAD_STEPS,
            },
            _ => Range::around(doc, path, LOAD_STEPS),
        }
    }

    /// The CLI's spelling: `users.rate=40..100:7`.
    pub fn spec(&self) -> String {
        format!(
            "{}={}..{}:{}",
            self.path,
            number_text(self.lo),
            number_text(self.hi),
            self.n
        )
    }

    /// Reads [`Range::spec`]'s spelling (`:n` may be left out; it is then 2).
    pub fn parse(spec: &str) -> Option<Range> {
        let (path, rest) = spec.split_once('=')?;
        let (bounds, n) = match rest.rsplit_once(':') {
            Some((bounds, n)) => (bounds, n.trim().parse().ok()?),
            None => (rest, 2),
        };
        let (lo, hi) = bounds.split_once("..")?;
        let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let path = path.trim();
        (!path.is_empty() && path.len() <= 200).then_some(())?;
        Some(Range {
            path: path.to_string(),
            lo: number(lo)?,
            hi: number(hi)?,
            n,
        })
    }
}

/// The analysis view's settings: what the address records, so a link reopens the same view.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisConfig {
    pub mode: Mode,
    /// The phase diagram's horizontal axis, the tipping curve's load, and the hysteresis
    /// staircase's loads.
    pub x: Range,
    /// The phase diagram's vertical axis (none: a one-parameter strip).
    pub y: Option<Range>,
    /// The tipping search's trigger parameter and the range searched (`n` unused).
    pub trigger: Option<Range>,
    pub seeds: u32,
    /// Halvings per tipping search.
    pub steps: u32,
    /// How long each step of the hysteresis staircase holds its load, in seconds.
    pub hold_s: f64,
}

/// Every numeric parameter the view can sweep, by its `--set` path: each block's and
/// trigger's (as an embed's sliders), then the scenario's own (`duration_s`, `seed`, …).
pub fn parameters(doc: &Value) -> Vec<String> {
    let mut out = knob_candidates(doc);
    out.extend(
        crate::fields::scenario_fields()
            .iter()
            .filter(|f| {
                matches!(
                    f.input,
                    crate::fields::Input::Number { .. } | crate::fields::Input::Integer { .. }
                )
            })
            .map(|f| f.path.to_string()),
    );
    out
}

/// The loads a hysteresis staircase can drive: each client's `rate` (open loop) or `think_s`
/// (closed loop), by its `--set` path.
pub fn load_parameters(doc: &Value) -> Vec<String> {
    let clients: Vec<&str> = doc
        .get("blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| b.get("kind").and_then(Value::as_str) == Some("client"))
        .filter_map(|b| b.get("id").and_then(Value::as_str))
        .collect();
    knob_candidates(doc)
        .into_iter()
        .filter(|p| match p.rsplit_once('.') {
            Some((id, "rate" | "think_s")) => clients.contains(&id),
            _ => false,
        })
        .collect()
}

/// Percent-encodes what a query value must not hold raw.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl AnalysisConfig {
    /// Sensible first settings for a scenario: the first client's rate from half to one and a
    /// half times its value, against the first trigger's size (a spike's factor, otherwise its
    /// duration).
    pub fn default_for(doc: &Value) -> AnalysisConfig {
        let candidates = knob_candidates(doc);
        let load_path = candidates
            .iter()
            .find(|p| p.ends_with(".rate") && !p.starts_with("triggers."))
            .or_else(|| candidates.first())
            .cloned()
            .unwrap_or_else(|| "duration_s".into());
        let trigger = ["factor", "duration_s"].iter().find_map(|field| {
            let path = candidates
                .iter()
                .find(|p| p.starts_with("triggers.") && p.ends_with(&format!(".{field}")))?;
            Some(Range::around(doc, path, 8))
        });
        AnalysisConfig {
            mode: Mode::Phase,
            x: Range::around(doc, &load_path, 10),
            y: trigger.clone(),
            trigger,
            seeds: 1,
            steps: 5,
            hold_s: DEFAULT_HOLD_S,
        }
    }

    /// The load range a picture starts with: the hysteresis staircase's over the first
    /// client's load ([`Range::for_load`]), the other pictures' from [`Self::default_for`].
    pub fn default_load(mode: Mode, doc: &Value) -> Range {
        let fallback = AnalysisConfig::default_for(doc).x;
        match mode {
            Mode::Hysteresis => {
                let loads = load_parameters(doc);
                let path = loads
                    .iter()
                    .find(|p| p.ends_with(".rate"))
                    .or(loads.first())
                    .cloned()
                    .unwrap_or(fallback.path);
                Range::for_load(doc, &path)
            }
            Mode::Phase | Mode::Tip | Mode::Model => fallback,
        }
    }

    /// These settings with another picture. A load range left as the previous picture chose
    /// it becomes the new picture's own first range; one the person set stays.
    pub fn with_mode(&self, mode: Mode, doc: &Value) -> AnalysisConfig {
        let mut next = AnalysisConfig {
            mode,
            ..self.clone()
        };
        if self.x == AnalysisConfig::default_load(self.mode, doc) {
            next.x = AnalysisConfig::default_load(mode, doc);
        }
        next
    }

    /// The settings in a query string, or `None` unless the page asks for the analysis view
    /// (`view=phase`, `tip`, `model` or `hysteresis`). Settings missing or unreadable fall
    /// back to the scenario's defaults: a link is anyone's text, and never breaks the page.
    /// Values out of range are kept, for the plan to refuse in words ([`Plan::new`]).
    pub fn from_query(query: &str, doc: &Value) -> Option<AnalysisConfig> {
        let mode = match query_value(query, "view")? {
            "phase" => Mode::Phase,
            "tip" => Mode::Tip,
            "model" => Mode::Model,
            "hysteresis" => Mode::Hysteresis,
            _ => return None,
        };
        let mut config = AnalysisConfig::default_for(doc);
        config.mode = mode;
        config.x = AnalysisConfig::default_load(mode, doc);
        let range = |key: &str| query_value(query, key).and_then(|v| Range::parse(&unescape(v)));
        if let Some(x) = range("x") {
            config.x = x;
        }
        match query_value(query, "y") {
            Some("") => config.y = None,
            Some(_) => config.y = range("y").or(config.y),
            None => {}
        }
        if let Some(trigger) = range("trigger") {
            config.trigger = Some(trigger);
        }
        let number = |key: &str| query_value(query, key).and_then(|v| v.parse::<u32>().ok());
        if let Some(seeds) = number("seeds") {
            config.seeds = seeds.clamp(1, MAX_SEEDS);
        }
        if let Some(steps) = number("steps") {
            config.steps = steps.min(MAX_STEPS);
        }
        if let Some(hold) = query_value(query, "hold")
            .and_then(|v| unescape(v).trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
        {
            config.hold_s = hold;
        }
        Some(config)
    }

    /// The query parameters of these settings (without the scenario).
    pub fn to_query(&self) -> String {
        let mut out = format!("view={}&x={}", self.mode.id(), escape(&self.x.spec()));
        out.push_str("&y=");
        if let Some(y) = &self.y {
            out.push_str(&escape(&y.spec()));
        }
        if let Some(trigger) = &self.trigger {
            out.push_str("&trigger=");
            out.push_str(&escape(&trigger.spec()));
        }
        out.push_str(&format!(
            "&seeds={}&steps={}&hold={}",
            self.seeds,
            self.steps,
            escape(&number_text(self.hold_s))
        ));
        out
    }
}

/// A round number near `v` (two significant digits), for default ranges.
fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powf(v.log10().floor() - 1.0);
    (v / scale).round() * scale
}

/// What the workers are asked to do: the grid (the core's [`Sweep`]) and the order of jobs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub mode: Mode,
    pub sweep: Sweep,
    /// Phase: every grid point; tip: every load (with `y` the low end of the search); model
    /// and hysteresis: the scenario itself.
    pub points: Vec<Point>,
    /// Tip: the trigger range searched.
    pub low: f64,
    pub high: f64,
    pub steps: u32,
    /// The `Setup` each worker is sent first (none for hysteresis: each of its jobs carries
    /// the whole experiment).
    pub setup: Option<Request>,
    /// Hysteresis: the experiment's settings, as the workers take them.
    pub staircase: Option<Staircase>,
}

/// A hysteresis experiment as the page asks for it: the scenario, the load axis as the CLI
/// spells it, the hold time and the seeds. The workers build the experiment
/// ([`sim_core::hysteresis::Experiment`]); the page only checks what it can without it.
#[derive(Clone, Debug, PartialEq)]
pub struct Staircase {
    pub doc: Value,
    pub load: String,
    pub hold_s: f64,
    pub seeds: u32,
}

impl Plan {
    /// Checks the settings against the scenario and plans the jobs; the message names the
    /// setting (or the grid point) that cannot be run.
    pub fn new(doc: &Value, config: &AnalysisConfig) -> Result<Plan, String> {
        let seeds = config.seeds;
        if !(1..=MAX_SEEDS).contains(&seeds) {
            return Err(format!("Seeds must be 1 to {MAX_SEEDS} (got {seeds})."));
        }
        let side = |name: &str, range: &Range| {
            if !(1..=MAX_SIDE).contains(&range.n) {
                Err(format!(
                    "{name}: the number of values must be 1 to {MAX_SIDE} (got {}).",
                    range.n
                ))
            } else {
                Axis::parse(&range.spec()).map_err(|e| format!("{name}: {e}"))
            }
        };
        let (x_name, y_name) = match config.mode {
            Mode::Phase => ("The horizontal axis", "The vertical axis"),
            Mode::Tip => ("The load", "The trigger"),
            Mode::Model => return Plan::model(doc),
            Mode::Hysteresis => return Plan::hysteresis(doc, config),
        };
        let x = side(x_name, &config.x)?;
        let (y, low, high) = match config.mode {
            Mode::Model | Mode::Hysteresis => (None, 0.0, 0.0),
            Mode::Phase => (
                config.y.as_ref().map(|y| side(y_name, y)).transpose()?,
                0.0,
                0.0,
            ),
            Mode::Tip => {
                let trigger = config
                    .trigger
                    .as_ref()
                    .ok_or_else(|| format!("{y_name}: choose the trigger parameter to search."))?;
                let range = side(
                    y_name,
                    &Range {
                        n: 2,
                        ..trigger.clone()
                    },
                )?;
                let (low, high) = (range.values[0], range.values[1]);
                (Some(range), low, high)
            }
        };
        if y.as_ref().is_some_and(|y| y.path == x.path) {
            return Err(format!(
                "{x_name} and {} are the same parameter ({}).",
                y_name.to_ascii_lowercase(),
                x.path
            ));
        }
        let setup = Request::Setup {
            doc: doc.clone(),
            x: x.clone().into(),
            y: y.clone().map(Into::into),
            seeds,
            workers: 1,
        };
        let sweep = Sweep::new(doc.clone(), x, y, seeds).map_err(sentence)?;
        let mut points = sweep.points();
        if config.mode == Mode::Tip {
            points.retain(|p| p.iy == 0);
        }
        let plan = Plan {
            mode: config.mode,
            sweep,
            points,
            low,
            high,
            steps: config.steps.min(MAX_STEPS),
            setup: Some(setup),
            staircase: None,
        };
        if plan.most_runs() > MAX_RUNS {
            return Err(format!(
                "This asks for up to {} runs; the browser does at most {MAX_RUNS} at a time \
                 (use fewer values or seeds, or the CLI).",
                plan.most_runs()
            ));
        }
        Ok(plan)
    }

    /// The fluid model's plan: the scenario itself (a one-point grid over its own seed),
    /// whose simulated path a worker traces. Refused, with the reason, where the model does
    /// not apply.
    fn model(doc: &Value) -> Result<Plan, String> {
        let scenario =
            sim_core::Scenario::from_value(doc.clone()).map_err(|e| sentence(e.to_string()))?;
        sim_core::fluid::Fluid::of(&scenario).map_err(|e| {
            sentence(format!(
                "the fluid model covers client → retry → FIFO server scenarios; here {e}"
            ))
        })?;
        let x = Axis::of_seeds(vec![scenario.seed]);
        let setup = Request::Setup {
            doc: doc.clone(),
            x: x.clone().into(),
            y: None,
            seeds: 1,
            workers: 1,
        };
        let sweep = Sweep::new(doc.clone(), x, None, 1).map_err(sentence)?;
        Ok(Plan {
            mode: Mode::Model,
            points: sweep.points(),
            sweep,
            low: 0.0,
            high: 0.0,
            steps: 0,
            setup: Some(setup),
            staircase: None,
        })
    }

    /// The hysteresis plan: one job per seed, each the whole staircase. The page checks the
    /// settings it can read without the experiment (how many loads, their order, the hold
    /// time); whether the load is a client's rate or think time, and what the staircase
    /// makes of it, the first worker's [`Experiment::parse`] says, in words naming the
    /// setting. Its grid is the scenario alone, as the fluid model's.
    fn hysteresis(doc: &Value, config: &AnalysisConfig) -> Result<Plan, String> {
        let load = &config.x;
        if !(2..=MAX_SIDE).contains(&load.n) {
            return Err(format!(
                "The load: the number of loads must be 2 to {MAX_SIDE} (got {}).",
                load.n
            ));
        }
        Axis::parse(&load.spec()).map_err(|e| sentence(format!("The load {e}")))?;
        if load.lo >= load.hi {
            return Err(format!(
                "The load: the staircase climbs from its first load to its last, so \"from\" must be below \"to\" (got {} and {}).",
                shown(load.lo),
                shown(load.hi)
            ));
        }
        let hold_s = config.hold_s;
        if !(MIN_HOLD_S..=MAX_HOLD_S).contains(&hold_s) {
            return Err(format!(
                "Hold time must be {} to {} seconds a step (got {}).",
                number_text(MIN_HOLD_S),
                number_text(MAX_HOLD_S),
                shown(hold_s)
            ));
        }
        let scenario = Scenario::from_value(doc.clone()).map_err(|e| sentence(e.to_string()))?;
        let sweep = Sweep::new(doc.clone(), Axis::of_seeds(vec![scenario.seed]), None, 1)
            .map_err(sentence)?;
        Ok(Plan {
            mode: Mode::Hysteresis,
            points: sweep.points(),
            sweep,
            low: 0.0,
            high: 0.0,
            steps: 0,
            setup: None,
            staircase: Some(Staircase {
                doc: doc.clone(),
                load: load.spec(),
                hold_s,
                seeds: config.seeds,
            }),
        })
    }

    /// How many jobs there are (phase: points × seeds; tip: one per load; model: one trace;
    /// hysteresis: one per seed, and then the one that adds them up,
    /// [`Results::follow_up`], which is not counted).
    pub fn jobs(&self) -> usize {
        match self.mode {
            Mode::Model => 1,
            Mode::Phase => self.points.len() * self.sweep.seeds as usize,
            Mode::Tip => self.points.len(),
            Mode::Hysteresis => self.staircase.as_ref().map_or(0, |s| s.seeds as usize),
        }
    }

    /// The most simulation runs the plan can take.
    pub fn most_runs(&self) -> usize {
        match self.mode {
            Mode::Phase | Mode::Model | Mode::Hysteresis => self.jobs(),
            Mode::Tip => self.points.len() * (self.steps as usize + 2) * self.sweep.seeds as usize,
        }
    }

    /// Job `i`. A phase grid goes seed by seed, so the whole diagram appears early and
    /// firms up as further seeds arrive.
    pub fn job(&self, i: usize) -> Request {
        match self.mode {
            Mode::Phase => {
                let n = self.points.len();
                Request::Run {
                    point: i % n,
                    seed: (i / n) as u32,
                }
            }
            Mode::Model => Request::Trace { point: 0 },
            Mode::Hysteresis => match &self.staircase {
                Some(s) => Request::Hysteresis {
                    doc: s.doc.clone(),
                    load: s.load.clone(),
                    hold_s: s.hold_s,
                    seeds: s.seeds,
                    seed_index: i as u32,
                    workers: 1,
                },
                // A hysteresis plan always has its staircase ([`Plan::hysteresis`]); a job
                // without one is answered with a failure, never run.
                None => Request::Trace { point: 0 },
            },
            Mode::Tip => Request::Tip {
                load: i,
                low: self.low,
                high: self.high,
                steps: self.steps,
            },
        }
    }

    /// The scenario document at a grid point (phase) or a load's threshold (tip), with the
    /// first seed: what clicking it opens in the playground.
    ///
    /// Its name says what the point changed ("Retry storm · users.rate = 71.6 · spike ×2.05"),
    /// so the playground never shows it under the preset's title as if it were the preset.
    pub fn doc_at(&self, point: usize, y: Option<f64>) -> Option<Value> {
        let mut p = *self.points.get(point)?;
        if let Some(y) = y {
            p.y = y;
        }
        let mut doc = self.sweep.doc(p, 0).ok()?;
        let mut parts = vec![setting_words(&doc, &self.sweep.x.path, p.x)];
        if let Some(axis) = &self.sweep.y {
            parts.push(setting_words(&doc, &axis.path, p.y));
        }
        let name = doc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("Untitled");
        let name = format!("{name} · {}", parts.join(" · "));
        doc["name"] = Value::String(name);
        Some(doc)
    }
}

/// A swept setting in words: a trigger's factor by what it multiplies ("spike ×2.05",
/// "latency ×3"), anything else as `path = value`, numbers to three figures.
fn setting_words(doc: &Value, path: &str, value: f64) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    if let ["triggers", index, "factor"] = parts.as_slice() {
        let kind = doc
            .pointer(&format!("/triggers/{index}/kind"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let word = match sim_core::TriggerKind::parse(kind) {
            Some(sim_core::TriggerKind::LoadSpike) => "spike",
            Some(sim_core::TriggerKind::Latency) => "latency",
            Some(_) | None => "factor",
        };
        return format!("{word} ×{}", crate::format::num(value));
    }
    format!("{path} = {}", crate::format::num(value))
}

/// A number in a message: for people, or in scientific notation when a link holds something
/// huge or tiny (`1e300`, not three hundred digits).
fn shown(value: f64) -> String {
    let size = value.abs();
    if size != 0.0 && !(1e-3..1e9).contains(&size) {
        format!("{value:e}")
    } else {
        crate::format::num(value)
    }
}

/// The core's messages read "at users.rate = 5: block …"; the view shows sentences.
fn sentence(message: String) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_ascii_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => message,
    }
}

/// An axis as it travels to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisMsg {
    pub path: String,
    pub values: Vec<f64>,
    /// A seed axis's exact seeds ([`Axis::seeds`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
}

impl From<Axis> for AxisMsg {
    fn from(a: Axis) -> AxisMsg {
        AxisMsg {
            path: a.path,
            values: a.values,
            seeds: a.seeds,
        }
    }
}

impl From<AxisMsg> for Axis {
    fn from(a: AxisMsg) -> Axis {
        Axis {
            path: a.path,
            values: a.values,
            seeds: a.seeds,
        }
    }
}

/// A message to a worker (JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// The grid every later job refers to.
    Setup {
        doc: Value,
        x: AxisMsg,
        y: Option<AxisMsg>,
        seeds: u32,
        /// How many workers share the tab's state budget (SPEC §10): each run in a worker
        /// may hold its share of [`Limits::web`]'s state.
        #[serde(default = "one")]
        workers: u32,
    },
    /// One run: a grid point with one seed.
    Run { point: usize, seed: u32 },
    /// One run's path in the fluid model's state space (the first seed).
    Trace { point: usize },
    /// A tipping search at one load.
    Tip {
        load: usize,
        low: f64,
        high: f64,
        steps: u32,
    },
    /// One seed of a whole scenario, for the playground's replications (SPEC §9): its rows
    /// and its figures. `batch` names the page's request it belongs to, so the page can tell
    /// an answer to an old request (the scenario has changed since) from a current one.
    Replicate {
        batch: u64,
        scenario: Value,
        seed: u64,
        #[serde(default = "one")]
        workers: u32,
        /// Whether the answer carries the run's rows (the charts' bands need them; a
        /// ranking of fixes needs only the figures).
        #[serde(default = "yes")]
        rows: bool,
    },
    /// The fixes of the catalogue that apply to a scenario (SPEC §9), each with its document:
    /// worked out in the worker, so the page never carries the catalogue.
    Candidates { scenario: Value },
    /// One seed of a hysteresis experiment (SPEC §9): the worker builds the experiment from
    /// the scenario, the load (`users.rate=10..120:12`), the hold time and the number of
    /// seeds, runs seed number `seed_index` and measures its steps.
    Hysteresis {
        doc: Value,
        load: String,
        hold_s: f64,
        seeds: u32,
        seed_index: u32,
        #[serde(default = "one")]
        workers: u32,
    },
    /// The experiment's result from every seed's measurements (`runs`, in seed order).
    HysteresisResult {
        doc: Value,
        load: String,
        hold_s: f64,
        seeds: u32,
        runs: Vec<Vec<Measure>>,
    },
}

impl Request {
    /// The text of one of the playground's jobs (a seed, the fixes) for a worker, as
    /// `serde_json::to_string` writes it; `None` for any other request. The pool writes its
    /// jobs with this, not with `Request`'s whole serialiser, so the playground's and the
    /// embed's binaries do not carry the writers of the analysis view's jobs.
    pub fn to_pool_text(&self) -> Option<String> {
        /// The variants of [`Request`] the pool sends, in its shape.
        #[derive(Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum PoolRequest<'a> {
            Replicate {
                batch: u64,
                scenario: &'a Value,
                seed: u64,
                workers: u32,
                rows: bool,
            },
            Candidates {
                scenario: &'a Value,
            },
        }
        let request = match self {
            Request::Replicate {
                batch,
                scenario,
                seed,
                workers,
                rows,
            } => PoolRequest::Replicate {
                batch: *batch,
                scenario,
                seed: *seed,
                workers: *workers,
                rows: *rows,
            },
            Request::Candidates { scenario } => PoolRequest::Candidates { scenario },
            _ => return None,
        };
        serde_json::to_string(&request).ok()
    }
}

impl Request {
    /// This request for one of `count` workers that share the tab's state budget (a job
    /// that runs nothing is unchanged).
    pub fn with_workers(mut self, count: u32) -> Request {
        match &mut self {
            Request::Setup { workers, .. }
            | Request::Replicate { workers, .. }
            | Request::Hysteresis { workers, .. } => *workers = count.max(1),
            _ => {}
        }
        self
    }
}

/// A worker's answer to a job (JSON). Externally tagged (`{"ran": {…}}`): an internally
/// tagged enum is read through a buffer of every field's content, which costs the page a
/// second deserialiser for each field's type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The worker has loaded and listens (sent once, first).
    Ready,
    Ran {
        point: usize,
        seed: u32,
        verdict: Verdict,
    },
    Tipped {
        load: usize,
        threshold: Threshold,
        runs: usize,
        /// The seeds' majority verdict with the largest trigger searched (what a load that
        /// no trigger tips does instead: recovers, or is overloaded anyway).
        at_high: Verdict,
    },
    /// The simulated `(q, r)` per bucket (at most [`MAX_TRACE`] of them, evenly thinned),
    /// and the run's verdict.
    Traced {
        trace: Vec<(f64, f64)>,
        bucket_s: f64,
        verdict: Verdict,
    },
    Failed {
        message: String,
    },
    /// One seed's run: its rows ([`row_to_wire`]) and figures ([`replica_to_wire`]).
    Replicated {
        batch: u64,
        seed: u64,
        rows: Vec<Vec<Option<f64>>>,
        replica: Vec<Option<f64>>,
    },
    /// The fixes that apply, in catalogue order.
    Candidates {
        candidates: Vec<CandidateMsg>,
    },
    /// A seed that could not run, or stopped at a limit: why, in words.
    Refused {
        batch: u64,
        message: String,
    },
    /// One seed of a hysteresis experiment: each step's measurements, in time order.
    Measured {
        seed_index: u32,
        measures: Vec<Measure>,
    },
    /// The hysteresis experiment's result.
    Hysteresis {
        result: Box<HysteresisMsg>,
    },
}

impl Reply {
    /// A reply to one of the playground's jobs (the other seeds, a baseline, the fixes), read
    /// from a worker's text; `None` for any other. The pool reads its replies with this, not
    /// with `Reply`'s whole deserialiser, so the playground's and the embed's binaries do not
    /// carry the readers of the analysis view's replies (the hysteresis result above all).
    pub fn of_the_pool(text: &str) -> Option<Reply> {
        // Read by hand from the document, not by a derived reader of these variants: serde's
        // derive reads every struct variant both as an object and as a list, from the text's
        // own deserialiser, for messages nobody reads here (any misfit is `None`).
        let value: Value = serde_json::from_str(text).ok()?;
        if value.as_str() == Some("ready") {
            return Some(Reply::Ready);
        }
        let object = value.as_object().filter(|object| object.len() == 1)?;
        let (tag, body) = object.iter().next()?;
        let text_of = |item: &Value, name: &str| item.get(name)?.as_str().map(str::to_string);
        let text = |name: &str| text_of(body, name);
        let whole = |name: &str| body.get(name)?.as_u64();
        let numbers = |list: &Value| -> Option<Vec<Option<f64>>> {
            list.as_array()?
                .iter()
                .map(|x| {
                    if x.is_null() {
                        Some(None)
                    } else {
                        x.as_f64().map(Some)
                    }
                })
                .collect()
        };
        Some(match tag.as_str() {
            "failed" => Reply::Failed {
                message: text("message")?,
            },
            "replicated" => Reply::Replicated {
                batch: whole("batch")?,
                seed: whole("seed")?,
                rows: body
                    .get("rows")?
                    .as_array()?
                    .iter()
                    .map(numbers)
                    .collect::<Option<_>>()?,
                replica: numbers(body.get("replica")?)?,
            },
            "candidates" => Reply::Candidates {
                candidates: body
                    .get("candidates")?
                    .as_array()?
                    .iter()
                    .map(|c| {
                        Some(CandidateMsg {
                            name: text_of(c, "name")?,
                            title: text_of(c, "title")?,
                            changes: text_of(c, "changes")?,
                            doc: c.get("doc")?.clone(),
                        })
                    })
                    .collect::<Option<_>>()?,
            },
            "refused" => Reply::Refused {
                batch: whole("batch")?,
                message: text("message")?,
            },
            _ => return None,
        })
    }
}

/// A hysteresis experiment's result as the page draws it: what
/// [`sim_core::hysteresis::Hysteresis`] holds, the fluid model's band split into the band and
/// why there is none, and the CLI's CSV, so that the page carries none of the experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HysteresisMsg {
    /// The load path (`users.rate`).
    pub path: String,
    /// A rate (the load rises with it) or a think time (the load rises as it falls).
    pub field: LoadField,
    /// The loads' values, lightest load first.
    pub levels: Vec<f64>,
    pub seeds: usize,
    /// The seed of the first run (the others follow it).
    pub first_seed: u64,
    pub hold_s: f64,
    /// Every step, in time order: the way up, its top, the way down.
    pub steps: Vec<StepResult>,
    /// Tipping, recovery and goodput healthy again, from the seeds' majority per step.
    pub edges: Edges,
    pub band: Band,
    /// Each seed's own edges.
    pub per_seed: Vec<Edges>,
    /// The fluid model's bistable loads, when the model applies and is bistable.
    pub fluid: Option<(f64, f64)>,
    /// Otherwise why not, in the CLI's words: "never bistable (…)", "does not apply (…)".
    pub fluid_note: Option<String>,
    /// How many of the scenario's triggers the experiment leaves out.
    pub removed_triggers: usize,
    /// What `metastable hysteresis` prints on standard output: the CSV, a row per step.
    pub csv: String,
}

impl HysteresisMsg {
    fn of(experiment: &Experiment, result: Hysteresis) -> HysteresisMsg {
        let (fluid, fluid_note) = match result.fluid {
            Ok(Some(band)) => (Some(band), None),
            Ok(None) => (
                None,
                Some("never bistable (no trigger can tip it)".to_string()),
            ),
            Err(why) => (None, Some(format!("does not apply ({why})"))),
        };
        let mut csv = format!("{CSV_HEADER}\n");
        for step in &result.steps {
            csv.push_str(&csv_row(step));
            csv.push('\n');
        }
        HysteresisMsg {
            path: result.path,
            field: experiment.field,
            levels: experiment.levels.clone(),
            seeds: result.seeds,
            first_seed: experiment.scenario(0).seed,
            hold_s: result.hold_s,
            steps: result.steps,
            edges: result.edges,
            band: result.band,
            per_seed: result.per_seed,
            fluid,
            fluid_note,
            removed_triggers: experiment.removed_triggers,
            csv,
        }
    }
}

/// A refusal of the experiment in the view's words: the setting by its label.
fn refusal_words(refusal: Refusal) -> String {
    let setting = match refusal.input {
        Input::Load => "The load",
        Input::HoldS => "Hold time",
        Input::Seeds => "Seeds",
    };
    sentence(format!("{setting} {}", refusal.message))
}

/// The experiment of a [`Request::Hysteresis`] or [`Request::HysteresisResult`], or why not.
fn build_experiment(doc: Value, load: &str, hold_s: f64, seeds: u32) -> Result<Experiment, Reply> {
    Experiment::parse(doc, load, hold_s, seeds).map_err(|refusal| Reply::Failed {
        message: refusal_words(refusal),
    })
}

/// Runs one seed of a hysteresis experiment and measures its steps.
fn measure_seed(experiment: &Experiment, seed_index: u32, limits: Limits) -> Reply {
    if seed_index >= experiment.seeds {
        return Reply::Failed {
            message: format!(
                "There is no seed {} of {}.",
                u64::from(seed_index) + 1,
                experiment.seeds
            ),
        };
    }
    let scenario = experiment.scenario(seed_index);
    let mut sim = match Sim::with_limits(&scenario, limits) {
        Ok(sim) => sim,
        Err(e) => {
            return Reply::Failed {
                message: sentence(format!("the experiment: {e}")),
            }
        }
    };
    sim.run();
    if let Some(stopped) = sim.stopped() {
        return Reply::Failed {
            message: format!(
                "The experiment's run with seed {} stopped: {}",
                scenario.seed,
                stop_words(
                    stopped,
                    limits,
                    "Shorten the hold time or use fewer loads, or run the experiment on the command line (`metastable hysteresis`)"
                )
            ),
        };
    }
    match experiment.measure(sim.rows()) {
        Ok(measures) => Reply::Measured {
            seed_index,
            measures,
        },
        Err(e) => Reply::Failed {
            message: sentence(format!("seed {}: {e}", scenario.seed)),
        },
    }
}

/// Adds up every seed's measurements into the experiment's result.
fn combine(experiment: &Experiment, runs: Vec<Vec<Measure>>) -> Reply {
    let steps = experiment.steps().len();
    if runs.len() != experiment.seeds as usize || runs.iter().any(|r| r.len() != steps) {
        return Reply::Failed {
            message: format!(
                "The experiment needs {} seeds' measurements of {steps} steps each.",
                experiment.seeds
            ),
        };
    }
    let result = experiment.result(&runs);
    Reply::Hysteresis {
        result: Box::new(HysteresisMsg::of(experiment, result)),
    }
}

/// A fix that applies, as the page shows and runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateMsg {
    pub name: String,
    pub title: String,
    /// What it changes, in words.
    pub changes: String,
    /// The scenario with the fix in it.
    pub doc: Value,
}

/// The fixes of the catalogue that apply to the scenario `doc`.
fn candidates(doc: Value) -> Reply {
    match Scenario::from_value(doc) {
        Ok(scenario) => Reply::Candidates {
            candidates: sim_core::fix::applicable(&scenario)
                .into_iter()
                .map(|c| CandidateMsg {
                    name: c.name.to_string(),
                    title: c.title.to_string(),
                    changes: c.words(),
                    doc: c.doc().clone(),
                })
                .collect(),
        },
        Err(e) => Reply::Failed {
            message: sentence(e.to_string()),
        },
    }
}

/// A row as a worker sends it: [`Row::values`] (the CSV's cells, per-block ones included),
/// then how requests ended, which the CSV leaves out (`ended_late`, `failed_timeout`,
/// `failed_error`, `failed_rejected`).
pub fn row_to_wire(row: &Row) -> Vec<Option<f64>> {
    row.values()
        .chain([
            Some(row.ended_late),
            Some(row.failed_timeout),
            Some(row.failed_error),
            Some(row.failed_rejected),
        ])
        .collect()
}

/// A run's figures as a worker sends them: numbers in a fixed order (the verdict by its place
/// in [`Verdict::ALL`]), read by the same code as the rows, so the page carries no
/// deserialiser of its own for them.
pub fn replica_to_wire(r: &Replica) -> Vec<Option<f64>> {
    let s = &r.summary;
    let whole = |n: u64| Some(n as f64);
    vec![
        Verdict::ALL
            .iter()
            .position(|v| *v == s.verdict)
            .map(|i| i as f64),
        whole(s.requests),
        whole(s.good),
        whole(s.late),
        whole(s.failed),
        whole(s.in_flight),
        whole(s.events),
        whole(s.work),
        s.goodput_before,
        s.goodput_after,
        s.recovery_s,
        s.latency_mean_s,
        s.latency_p99_s,
        s.wall_s,
        r.amplification,
        r.wasted,
    ]
}

/// The figures [`replica_to_wire`] sent for the run of `seed` (`None` if they are not such).
pub fn replica_from_wire(seed: u64, cells: &[Option<f64>]) -> Option<Replica> {
    let &[verdict, requests, good, late, failed, in_flight, events, work, goodput_before, goodput_after, recovery_s, latency_mean_s, latency_p99_s, wall_s, amplification, wasted] =
        cells
    else {
        return None;
    };
    // Counts below 2^53 pass through an f64 exactly.
    let whole = |v: Option<f64>| v.map_or(0, |v| v as u64);
    Some(Replica {
        seed,
        summary: sim_core::Summary {
            verdict: *Verdict::ALL.get(verdict? as usize)?,
            requests: whole(requests),
            good: whole(good),
            late: whole(late),
            failed: whole(failed),
            in_flight: whole(in_flight),
            events: whole(events),
            work: whole(work),
            goodput_before,
            goodput_after,
            recovery_s,
            latency_mean_s,
            latency_p99_s,
            wall_s,
        },
        amplification,
        wasted,
    })
}

/// The row that [`row_to_wire`] sent (`None` for cells too few to be one).
pub fn row_from_wire(cells: &[Option<f64>]) -> Option<Row> {
    const GLOBAL: usize = 15;
    const ENDINGS: usize = 4;
    if cells.len() < GLOBAL + ENDINGS {
        return None;
    }
    let (values, endings) = cells.split_at(cells.len() - ENDINGS);
    let n = |i: usize| values[i].unwrap_or(0.0);
    let e = |i: usize| endings[i].unwrap_or(0.0);
    Some(Row {
        t: n(0),
        offered: n(1),
        goodput: n(2),
        throughput: n(3),
        attempts: n(4),
        retries: n(5),
        timeouts: n(6),
        errors: n(7),
        rejected: n(8),
        latency_p50: values[9],
        latency_p99: values[10],
        latency_mean: values[11],
        in_flight: n(12),
        queue: n(13),
        useful: n(14),
        blocks: values[GLOBAL..].to_vec(),
        ended_late: e(0),
        failed_timeout: e(1),
        failed_error: e(2),
        failed_rejected: e(3),
    })
}

/// Runs one seed of a scenario for [`Request::Replicate`].
fn replicate(batch: u64, mut doc: Value, seed: u64, limits: Limits, with_rows: bool) -> Reply {
    if let Some(object) = doc.as_object_mut() {
        object.insert("seed".into(), Value::from(seed));
    }
    let refused = |message: String| Reply::Refused { batch, message };
    let scenario = match Scenario::from_value(doc) {
        Ok(scenario) => scenario,
        Err(e) => return refused(sentence(e.to_string())),
    };
    let mut sim = match Sim::with_limits(&scenario, limits) {
        Ok(sim) => sim,
        Err(e) => return refused(sentence(e.to_string())),
    };
    sim.run();
    if let Some(stopped) = sim.stopped() {
        return refused(format!("Seed {seed} stopped at a limit: {stopped}."));
    }
    Reply::Replicated {
        batch,
        seed,
        rows: if with_rows {
            sim.rows().iter().map(row_to_wire).collect()
        } else {
            Vec::new()
        },
        replica: replica_to_wire(&Replica::of(&sim)),
    }
}

/// Most points of a traced path sent back to the page.
pub const MAX_TRACE: usize = 2000;

/// What a worker holds between jobs, and does with each.
pub struct WorkerState {
    /// The grid and its points (computed once, at setup).
    sweep: Option<(Sweep, Vec<Point>)>,
    /// This worker's limits: the tab's, its state divided among the workers.
    limits: Limits,
}

impl Default for WorkerState {
    fn default() -> WorkerState {
        WorkerState {
            sweep: None,
            limits: Limits::web(),
        }
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// The limits of each of `workers` workers: the tab's work budget for each run, and a share
/// of its state budget, so that all of them together stay within what one run may hold.
pub fn worker_limits(workers: u32) -> Limits {
    let tab = Limits::web();
    Limits {
        max_state_bytes: tab.max_state_bytes / u64::from(workers.max(1)),
        ..tab
    }
}

impl WorkerState {
    /// Handles one request; a setup has no reply.
    pub fn handle(&mut self, request: Request) -> Option<Reply> {
        match request {
            Request::Setup {
                doc,
                x,
                y,
                seeds,
                workers,
            } => {
                self.limits = worker_limits(workers);
                match Sweep::new(doc, x.into(), y.map(Into::into), seeds) {
                    Ok(sweep) => {
                        let points = sweep.points();
                        self.sweep = Some((sweep, points));
                        None
                    }
                    Err(message) => {
                        self.sweep = None;
                        Some(Reply::Failed {
                            message: sentence(message),
                        })
                    }
                }
            }
            Request::Run { point, seed } => Some(self.run(point, seed)),
            Request::Trace { point } => Some(self.trace(point)),
            Request::Tip {
                load,
                low,
                high,
                steps,
            } => Some(self.tip(load, low, high, steps)),
            Request::Replicate {
                batch,
                scenario,
                seed,
                workers,
                rows,
            } => Some(replicate(
                batch,
                scenario,
                seed,
                worker_limits(workers),
                rows,
            )),
            Request::Candidates { scenario } => Some(candidates(scenario)),
            Request::Hysteresis {
                doc,
                load,
                hold_s,
                seeds,
                seed_index,
                workers,
            } => Some(match build_experiment(doc, &load, hold_s, seeds) {
                Ok(e) => measure_seed(&e, seed_index, worker_limits(workers)),
                Err(reply) => reply,
            }),
            Request::HysteresisResult {
                doc,
                load,
                hold_s,
                seeds,
                runs,
            } => Some(match build_experiment(doc, &load, hold_s, seeds) {
                Ok(e) => combine(&e, runs),
                Err(reply) => reply,
            }),
        }
    }

    /// The grid and its point `index`, or the reply saying why there is none.
    fn point(&self, index: usize) -> Result<(&Sweep, Point), Reply> {
        let (sweep, points) = self.sweep.as_ref().ok_or_else(|| Reply::Failed {
            message: "The worker was given a job before its grid.".into(),
        })?;
        let point = points.get(index).ok_or_else(|| Reply::Failed {
            message: format!("There is no grid point {index}."),
        })?;
        Ok((sweep, *point))
    }

    fn run(&self, point: usize, seed: u32) -> Reply {
        let (sweep, p) = match self.point(point) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        match verdict_of(sweep, p, seed, self.limits) {
            Ok(verdict) => Reply::Ran {
                point,
                seed,
                verdict,
            },
            Err(message) => Reply::Failed { message },
        }
    }

    fn trace(&self, point: usize) -> Reply {
        let (sweep, p) = match self.point(point) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let scenario = match sweep.scenario(p, 0) {
            Ok(s) => s,
            Err(e) => {
                return Reply::Failed {
                    message: sentence(e),
                }
            }
        };
        let mut sim = match Sim::with_limits(&scenario, self.limits) {
            Ok(sim) => sim,
            Err(e) => {
                return Reply::Failed {
                    message: sentence(e.to_string()),
                }
            }
        };
        sim.run();
        if let Some(stopped) = sim.stopped() {
            return Reply::Failed {
                message: format!(
                    "The run stopped: {}",
                    stop_words(stopped, self.limits, SWEEP_REMEDY)
                ),
            };
        }
        let full = sim.fluid_trace();
        let every = full.len().div_ceil(MAX_TRACE).max(1);
        Reply::Traced {
            // The state at the end of every `every`-th bucket.
            trace: full
                .iter()
                .skip(every - 1)
                .step_by(every)
                .copied()
                .collect(),
            bucket_s: scenario.bucket_s * every as f64,
            verdict: sim.report().verdict,
        }
    }

    fn tip(&self, load: usize, low: f64, high: f64, steps: u32) -> Reply {
        // The loads are the grid's first row (x varies fastest).
        let (sweep, p) = match self.point(load) {
            Ok((sweep, p)) if p.iy == 0 => (sweep, p),
            Ok(_) => {
                return Reply::Failed {
                    message: format!("There is no load {load}."),
                }
            }
            Err(reply) => return reply,
        };
        let mut runs = 0;
        let mut failure = None;
        let mut at_high = None;
        let threshold = bisect(
            low,
            high,
            steps.min(MAX_STEPS),
            sweep.y_is_whole(),
            |size| {
                let trial = Point { y: size, ..p };
                let mut verdicts = Vec::with_capacity(sweep.seeds as usize);
                for seed in 0..sweep.seeds {
                    runs += 1;
                    match verdict_of(sweep, trial, seed, self.limits) {
                        Ok(verdict) => verdicts.push(verdict),
                        Err(message) => failure = Some(message),
                    }
                }
                // The first trial is the largest trigger.
                at_high.get_or_insert(Outcome::of_verdicts(verdicts.iter().copied()).verdict);
                let metastable = verdicts
                    .iter()
                    .filter(|v| **v == Verdict::Metastable)
                    .count();
                2 * metastable as u32 >= sweep.seeds
            },
        );
        match failure {
            Some(message) => Reply::Failed { message },
            None => Reply::Tipped {
                load,
                threshold,
                runs,
                at_high: at_high.unwrap_or(Verdict::Undefined),
            },
        }
    }
}

/// One run's verdict, under this worker's limits.
fn verdict_of(sweep: &Sweep, point: Point, seed: u32, limits: Limits) -> Result<Verdict, String> {
    let scenario = sweep.scenario(point, seed).map_err(sentence)?;
    let mut sim = Sim::with_limits(&scenario, limits).map_err(|e| sentence(e.to_string()))?;
    // Only the verdict is wanted: an overloaded run stops once that is certain.
    let verdict = sim.run_for_verdict();
    if let Some(stopped) = sim.stopped() {
        return Err(format!(
            "The run at {} with seed {} stopped: {}",
            place(sweep, point),
            scenario.seed,
            stop_words(stopped, limits, SWEEP_REMEDY)
        ));
    }
    Ok(verdict)
}

/// What to do about a sweep's run over the work budget.
const SWEEP_REMEDY: &str =
    "Lower the load or shorten the duration, or sweep on the command line (`metastable sweep`)";

/// Why a run in a worker stopped, in the page's words: the command line's flags mean nothing
/// here, and the command line is where a larger budget is (`remedy` says which command).
fn stop_words(stopped: &LimitExceeded, limits: Limits, remedy: &str) -> String {
    let at = crate::format::seconds(stopped.at_s);
    match stopped.budget {
        Budget::Work => format!(
            "at t = {at} it used this tab's budget of work for one run ({} steps of simulation). {remedy}, whose budget is larger and can be raised with --max-work.",
            crate::format::int(limits.max_work)
        ),
        _ => format!(
            "at t = {at}: {}.",
            stopped.reason.replace(
                " (the limit; raise it with --max-state-mib)",
                " (this tab's limit, shared by the analysis's workers)"
            )
        ),
    }
}

/// "users.rate = 50, triggers.0.factor = 2".
pub fn place(sweep: &Sweep, point: Point) -> String {
    match &sweep.y {
        Some(y) => format!(
            "{} = {}, {} = {}",
            sweep.x.path,
            number_text(point.x),
            y.path,
            number_text(point.y)
        ),
        None => format!("{} = {}", sweep.x.path, number_text(point.x)),
    }
}

/// A simulated run in the fluid model's state space.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// `(q, r)` per point ([`sim_core::Sim::fluid_trace`], thinned to [`MAX_TRACE`]).
    pub path: Vec<(f64, f64)>,
    /// Seconds between points.
    pub bucket_s: f64,
    pub verdict: Verdict,
}

/// The replies so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results {
    /// Phase: each point's verdicts, one per seed done.
    pub verdicts: Vec<Vec<Verdict>>,
    /// Tip: each load's threshold, once searched.
    pub thresholds: Vec<Option<Threshold>>,
    /// Tip: each load's majority verdict with the largest trigger.
    pub at_high: Vec<Option<Verdict>>,
    /// Model: the simulated run's path.
    pub trace: Option<Trace>,
    /// Hysteresis: each seed's measurements, once in.
    pub measures: Vec<Option<Vec<Measure>>>,
    /// Hysteresis: whether the job that adds the seeds up has been handed out.
    pub combining: bool,
    /// Hysteresis: the experiment's result.
    pub hysteresis: Option<HysteresisMsg>,
    /// Jobs answered.
    pub done: usize,
    /// Simulation runs done.
    pub runs: usize,
}

impl Results {
    pub fn for_plan(plan: &Plan) -> Results {
        Results {
            verdicts: vec![Vec::new(); plan.points.len()],
            thresholds: vec![None; plan.points.len()],
            at_high: vec![None; plan.points.len()],
            trace: None,
            measures: vec![None; plan.staircase.as_ref().map_or(0, |s| s.seeds as usize)],
            combining: false,
            hysteresis: None,
            done: 0,
            runs: 0,
        }
    }

    /// Whether everything the plan asks for is in.
    pub fn complete(&self, plan: &Plan) -> bool {
        match plan.mode {
            Mode::Hysteresis => self.hysteresis.is_some(),
            Mode::Phase | Mode::Tip | Mode::Model => self.done >= plan.jobs(),
        }
    }

    /// A job that only the answers so far make possible, handed out once: a hysteresis
    /// experiment's result, once every seed is measured.
    pub fn follow_up(&mut self, plan: &Plan) -> Option<Request> {
        let staircase = plan.staircase.as_ref()?;
        if self.combining || self.measures.iter().any(Option::is_none) {
            return None;
        }
        self.combining = true;
        Some(Request::HysteresisResult {
            doc: staircase.doc.clone(),
            load: staircase.load.clone(),
            hold_s: staircase.hold_s,
            seeds: staircase.seeds,
            runs: self.measures.iter().flatten().cloned().collect(),
        })
    }

    /// Adds a reply; a failure is returned as the message to show.
    pub fn add(&mut self, reply: Reply) -> Result<(), String> {
        match reply {
            Reply::Ran { point, verdict, .. } => {
                if let Some(v) = self.verdicts.get_mut(point) {
                    v.push(verdict);
                    self.done += 1;
                    self.runs += 1;
                }
                Ok(())
            }
            Reply::Tipped {
                load,
                threshold,
                runs,
                at_high,
            } => {
                if let Some(t) = self.thresholds.get_mut(load) {
                    *t = Some(threshold);
                    self.at_high[load] = Some(at_high);
                    self.done += 1;
                    self.runs += runs;
                }
                Ok(())
            }
            Reply::Traced {
                trace,
                bucket_s,
                verdict,
            } => {
                self.trace = Some(Trace {
                    path: trace,
                    bucket_s,
                    verdict,
                });
                self.done += 1;
                self.runs += 1;
                Ok(())
            }
            Reply::Measured {
                seed_index,
                measures,
            } => {
                if let Some(slot @ None) = self.measures.get_mut(seed_index as usize) {
                    *slot = Some(measures);
                    self.done += 1;
                    self.runs += 1;
                }
                Ok(())
            }
            Reply::Hysteresis { result } => {
                self.hysteresis = Some(*result);
                Ok(())
            }
            Reply::Ready => Ok(()),
            Reply::Failed { message } | Reply::Refused { message, .. } => Err(message),
            Reply::Replicated { .. } | Reply::Candidates { .. } => {
                Err("A worker answered a job of another view.".into())
            }
        }
    }

    /// A phase point's outcome so far (`None` before its first seed).
    pub fn outcome(&self, point: usize) -> Option<Outcome> {
        let verdicts = self.verdicts.get(point)?;
        (!verdicts.is_empty()).then(|| Outcome::of_verdicts(verdicts.iter().copied()))
    }
}

/// The analysis as CSV, in the CLI's columns: a phase grid as `metastable sweep` writes its
/// first columns (the swept values, `seeds`, `verdict`, `agreement`, `frac_…`; the browser
/// keeps verdicts only), a tipping search as `metastable tip` does, the fluid model's
/// simulated path as `t,q,r`, hysteresis as `metastable hysteresis` (its rows once the seeds
/// are added up). Points not computed yet have empty cells.
pub fn csv(plan: &Plan, results: &Results) -> String {
    let mut out = String::new();
    let sweep = &plan.sweep;
    match plan.mode {
        Mode::Phase => {
            out.push_str(&sweep.verdict_columns().join(","));
            out.push('\n');
            for (i, point) in plan.points.iter().enumerate() {
                let cells = sweep.verdict_cells(
                    *point,
                    results.verdicts[i].len(),
                    results.outcome(i).as_ref(),
                );
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
        Mode::Tip => {
            let trigger = sweep.y.as_ref().map_or("", |y| y.path.as_str());
            out.push_str(&tip_header(&sweep.x.path, trigger));
            out.push('\n');
            for (point, threshold) in plan.points.iter().zip(&results.thresholds) {
                out.push_str(&tip_row(
                    point.x,
                    *threshold,
                    sweep.seeds,
                    plan.low,
                    plan.high,
                ));
                out.push('\n');
            }
        }
        Mode::Model => {
            out.push_str("t,q,r\n");
            let end = plan
                .points
                .first()
                .and_then(|p| sweep.scenario(*p, 0).ok())
                .map_or(f64::INFINITY, |s| s.duration_s);
            if let Some(trace) = &results.trace {
                for (k, (q, r)) in trace.path.iter().enumerate() {
                    // A bucket's state is at its end (the last bucket may end early).
                    let t = ((k + 1) as f64 * trace.bucket_s).min(end);
                    out.push_str(&format!("{},{q},{r}\n", number_text(t)));
                }
            }
        }
        Mode::Hysteresis => match &results.hysteresis {
            Some(h) => out.push_str(&h.csv),
            None => {
                out.push_str(CSV_HEADER);
                out.push('\n');
            }
        },
    }
    out
}

/// A verdict's fill in the diagram (`#rrggbb`), shaded by the seeds' agreement as the CLI's
/// phase diagrams are.
pub fn fill(verdict: Verdict, agreement: f64) -> String {
    let [r, g, b] = sim_core::sweep::shade_rgb(sim_core::sweep::verdict_rgb(verdict), agreement);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A value as a tick label: at most three significant digits (`30.5`, `1.16`, `120`).
pub fn tick_text(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return number_text(value);
    }
    let decimals = (2 - value.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Tick positions for `n` values: all of them when they fit, otherwise every k-th (always
/// the first and the last).
pub fn ticks(n: usize, room: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let step = n.div_ceil(room.max(1)).max(1);
    let mut out: Vec<usize> = (0..n).step_by(step).collect();
    if out.last() != Some(&(n - 1)) {
        if out.len() > 1 && n - 1 - out[out.len() - 1] < step / 2 + 1 {
            out.pop();
        }
        out.push(n - 1);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_run_over_the_tabs_budget_is_said_in_the_pages_words() {
        let scenario: Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        let sweep = Sweep::new(
            scenario,
            Axis::parse("users.rate=40..40:1").unwrap(),
            None,
            1,
        )
        .unwrap();
        let point = sweep.points()[0];
        let limits = Limits {
            max_work: 20_000,
            ..worker_limits(2)
        };
        let message = verdict_of(&sweep, point, 0, limits).unwrap_err();
        assert!(
            message.contains("this tab's budget of work for one run"),
            "{message}"
        );
        assert!(message.contains("20,000 steps"), "{message}");
        assert!(!message.contains("raise it with"), "{message}");
        // Past the state limit: the page's words for it, not the command line's flag.
        let limits = Limits {
            max_state_bytes: 512 << 10,
            ..worker_limits(2)
        };
        let sweep = Sweep::new(
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap(),
            Axis::parse("users.rate=95..95:1").unwrap(),
            None,
            1,
        )
        .unwrap();
        let message = verdict_of(&sweep, sweep.points()[0], 0, limits).unwrap_err();
        assert!(
            message.contains("this tab's limit, shared by the analysis's workers"),
            "{message}"
        );
        assert!(!message.contains("--max-state-mib"), "{message}");
    }

    #[test]
    fn the_workers_share_the_tabs_state_budget() {
        let tab = Limits::web();
        assert_eq!(worker_limits(1), tab);
        assert_eq!(worker_limits(4).max_state_bytes, tab.max_state_bytes / 4);
        assert_eq!(worker_limits(4).max_work, tab.max_work, "work is per run");
        // A setup says how many workers share it; an old one without the field means one.
        let request: Request = serde_json::from_value(serde_json::json!({
            "kind": "setup", "doc": {}, "x": {"path": "users.rate", "values": [1.0, 2.0]},
            "y": null, "seeds": 1, "workers": 8
        }))
        .unwrap();
        let mut worker = WorkerState::default();
        worker.handle(request);
        assert_eq!(worker.limits.max_state_bytes, tab.max_state_bytes / 8);
    }

    use super::*;
    use sim_core::presets;

    #[test]
    fn the_pool_writes_its_jobs_as_serde_does_and_no_other() {
        let doc = serde_json::to_value(presets::load("retry-storm").unwrap().unwrap()).unwrap();
        for job in [
            Request::Replicate {
                batch: 3,
                scenario: doc.clone(),
                seed: 9,
                workers: 2,
                rows: false,
            },
            Request::Candidates {
                scenario: doc.clone(),
            },
        ] {
            assert_eq!(job.to_pool_text(), serde_json::to_string(&job).ok());
        }
        assert_eq!(Request::Trace { point: 1 }.to_pool_text(), None);
    }

    #[test]
    fn the_pool_reads_the_replies_to_its_jobs_and_no_other() {
        let doc = serde_json::to_value(presets::load("retry-storm").unwrap().unwrap()).unwrap();
        let candidates = WorkerState::default()
            .handle(Request::Candidates { scenario: doc })
            .unwrap();
        assert!(matches!(&candidates, Reply::Candidates { candidates } if !candidates.is_empty()));
        for reply in [
            Reply::Ready,
            Reply::Failed {
                message: "why".into(),
            },
            Reply::Refused {
                batch: 3,
                message: "why".into(),
            },
            candidates,
        ] {
            let text = serde_json::to_string(&reply).unwrap();
            assert_eq!(Reply::of_the_pool(&text), Some(reply));
        }
        let ran = Reply::Ran {
            point: 1,
            seed: 2,
            verdict: Verdict::Stable,
        };
        assert_eq!(
            Reply::of_the_pool(&serde_json::to_string(&ran).unwrap()),
            None
        );
        assert_eq!(Reply::of_the_pool("not json"), None);
    }

    #[test]
    fn a_replicated_seed_is_the_run_of_that_seed_rows_and_endings_included() {
        let mut scenario = presets::load("cold-cache").unwrap().unwrap();
        let doc = serde_json::to_value(&scenario).unwrap();
        let reply = WorkerState::default().handle(Request::Replicate {
            batch: 4,
            scenario: doc,
            seed: 99,
            workers: 2,
            rows: true,
        });
        let Some(Reply::Replicated {
            batch,
            seed,
            rows,
            replica,
        }) = reply
        else {
            panic!("{reply:?}");
        };
        assert_eq!((batch, seed), (4, 99));
        scenario.seed = 99;
        let mut sim = Sim::new(&scenario).unwrap();
        sim.run();
        let back: Vec<Row> = rows.iter().map(|r| row_from_wire(r).unwrap()).collect();
        assert_eq!(
            back,
            sim.rows(),
            "every cell, per-block ones and how requests ended"
        );
        assert!(back
            .iter()
            .any(|r| r.failed_timeout > 0.0 || r.failed_rejected > 0.0));
        assert_eq!(replica_from_wire(99, &replica), Some(Replica::of(&sim)));
        assert_eq!(replica_from_wire(99, &replica[1..]), None);
        // Through the JSON the page reads.
        let text = serde_json::to_string(&Reply::Replicated {
            batch,
            seed,
            rows,
            replica,
        })
        .unwrap();
        assert!(matches!(
            serde_json::from_str::<Reply>(&text),
            Ok(Reply::Replicated { .. })
        ));
        // As the pool reads it: the same reply.
        assert_eq!(
            Reply::of_the_pool(&text),
            serde_json::from_str::<Reply>(&text).ok()
        );
        // A scenario that cannot run says why, for its batch.
        let refused = WorkerState::default().handle(Request::Replicate {
            batch: 5,
            scenario: serde_json::json!({"version": 1}),
            seed: 1,
            workers: 1,
            rows: false,
        });
        assert!(
            matches!(refused, Some(Reply::Refused { batch: 5, .. })),
            "{refused:?}"
        );
        assert_eq!(row_from_wire(&[Some(1.0); 5]), None);
    }

    fn storm() -> Value {
        serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap()
    }

    #[test]
    fn the_defaults_sweep_the_clients_rate_against_the_spike() {
        let config = AnalysisConfig::default_for(&storm());
        assert_eq!(config.mode, Mode::Phase);
        assert_eq!(config.x.path, "users.rate");
        assert!(config.x.lo < config.x.hi);
        let y = config.y.unwrap();
        assert_eq!(y.path, "triggers.0.factor");
        assert_eq!(y.lo, 1.0);
        assert!(Plan::new(&storm(), &AnalysisConfig::default_for(&storm())).is_ok());
    }

    #[test]
    fn every_numeric_parameter_can_be_swept() {
        let doc = storm();
        let all = parameters(&doc);
        for path in [
            "users.rate",
            "retries.max_attempts",
            "api.workers",
            "triggers.0.factor",
            "duration_s",
        ] {
            assert!(all.iter().any(|p| p == path), "{path} in {all:?}");
        }
        assert!(!all.iter().any(|p| p == "name" || p.ends_with(".kind")));
        let config = AnalysisConfig {
            x: Range::parse("duration_s=200..400:3").unwrap(),
            y: None,
            ..AnalysisConfig::default_for(&doc)
        };
        assert_eq!(Plan::new(&doc, &config).unwrap().jobs(), 3);
    }

    #[test]
    fn settings_round_trip_through_the_address() {
        let doc = storm();
        let config = AnalysisConfig {
            mode: Mode::Tip,
            x: Range::parse("users.rate=40..100:7").unwrap(),
            y: None,
            trigger: Range::parse("triggers.0.duration_s=1..60"),
            seeds: 3,
            steps: 4,
            hold_s: DEFAULT_HOLD_S,
        };
        let query = config.to_query();
        assert!(query.starts_with("view=tip&x=users.rate%3D40..100:7&y=&trigger="));
        assert_eq!(AnalysisConfig::from_query(&query, &doc), Some(config));
        // Not the analysis view, or nonsense: the page still opens.
        assert_eq!(AnalysisConfig::from_query("embed&s=1", &doc), None);
        let odd = AnalysisConfig::from_query("view=phase&x=%%%&seeds=9999&steps=x", &doc).unwrap();
        assert_eq!(odd.x, AnalysisConfig::default_for(&doc).x);
        assert_eq!(odd.seeds, MAX_SEEDS);
    }

    #[test]
    fn a_bad_setting_is_refused_with_a_sentence_naming_it() {
        let doc = storm();
        let mut config = AnalysisConfig::default_for(&doc);
        config.x = Range::parse("users.nope=1..2:3").unwrap();
        let e = Plan::new(&doc, &config).unwrap_err();
        assert!(e.contains("users.nope"), "{e}");
        config.x = Range::parse("users.rate=-5..10:3").unwrap();
        let e = Plan::new(&doc, &config).unwrap_err();
        assert!(e.starts_with("At users.rate = -5"), "{e}");
        config.x = Range::parse("users.rate=1..10:3000").unwrap();
        assert!(Plan::new(&doc, &config).unwrap_err().contains("1 to 60"));
        config.x = Range::parse("users.rate=1..10:60").unwrap();
        config.y = Range::parse("triggers.0.factor=1..3:60");
        config.seeds = 10;
        assert!(Plan::new(&doc, &config).unwrap_err().contains("36000 runs"));
        config.seeds = 1;
        config.y = Range::parse("users.rate=1..3:6");
        assert!(Plan::new(&doc, &config)
            .unwrap_err()
            .contains("same parameter (users.rate)"));
    }

    /// What a browser's workers compute is what the CLI's sweep computes: the same verdict
    /// per point and seed, whichever worker ran it and in whatever order.
    #[test]
    fn workers_answer_jobs_with_the_cores_verdicts() {
        let doc = storm();
        let config = AnalysisConfig {
            mode: Mode::Phase,
            x: Range::parse("users.rate=40..90:2").unwrap(),
            y: Range::parse("triggers.0.factor=1.2..3:2"),
            trigger: None,
            seeds: 2,
            steps: 0,
            hold_s: DEFAULT_HOLD_S,
        };
        let plan = Plan::new(&doc, &config).unwrap();
        assert_eq!(plan.jobs(), 8);
        let mut workers = [WorkerState::default(), WorkerState::default()];
        for w in &mut workers {
            assert_eq!(w.handle(plan.setup.clone().unwrap()), None);
        }
        let mut results = Results::for_plan(&plan);
        // Backwards, alternating workers, and through JSON as in the browser.
        for i in (0..plan.jobs()).rev() {
            let request: Request =
                serde_json::from_str(&serde_json::to_string(&plan.job(i)).unwrap()).unwrap();
            let reply = workers[i % 2].handle(request).unwrap();
            let reply: Reply =
                serde_json::from_str(&serde_json::to_string(&reply).unwrap()).unwrap();
            results.add(reply).unwrap();
        }
        assert_eq!((results.done, results.runs), (8, 8));
        for (i, point) in plan.points.iter().enumerate() {
            let expected: Vec<Verdict> = (0..2)
                .rev()
                .map(|s| {
                    let mut sim = Sim::new(&plan.sweep.scenario(*point, s).unwrap()).unwrap();
                    sim.run();
                    sim.report().verdict
                })
                .collect();
            assert_eq!(
                results.verdicts[i],
                expected,
                "at {}",
                place(&plan.sweep, *point)
            );
        }
        // The CSV's columns are the CLI sweep's first ones, value for value.
        let table = csv(&plan, &results);
        let lines: Vec<&str> = table.lines().collect();
        assert!(plan.sweep.header().starts_with(lines[0]), "{}", lines[0]);
        for (i, point) in plan.points.iter().enumerate() {
            let summaries: Vec<sim_core::Summary> = (0..2)
                .map(|s| {
                    let mut sim = Sim::new(&plan.sweep.scenario(*point, s).unwrap()).unwrap();
                    sim.run();
                    sim.summary()
                })
                .collect();
            let row = plan.sweep.row(*point, &summaries);
            assert!(
                row.starts_with(&format!("{},", lines[i + 1])),
                "{row}\n{}",
                lines[i + 1]
            );
        }
        // The low rate with the small spike recovers; the high rate with the large one does not.
        assert_eq!(results.outcome(0).unwrap().verdict, Verdict::Recovered);
        assert_eq!(results.outcome(3).unwrap().verdict, Verdict::Metastable);
        // Clicking a cell opens its exact scenario (the first seed).
        let mut opened = plan.doc_at(3, None).unwrap();
        assert_eq!(get_path(&mut opened, "users.rate").unwrap(), 90);
        assert_eq!(get_path(&mut opened, "triggers.0.factor").unwrap(), 3);
        assert_eq!(opened["seed"], doc["seed"]);
        assert_eq!(opened["name"], "Retry storm · users.rate = 90 · spike ×3");
    }

    #[test]
    fn a_tipping_job_bisects_one_load() {
        let doc = storm();
        let config = AnalysisConfig {
            mode: Mode::Tip,
            x: Range::parse("users.rate=50..90:2").unwrap(),
            y: None,
            trigger: Range::parse("triggers.0.factor=1..4"),
            seeds: 1,
            steps: 3,
            hold_s: DEFAULT_HOLD_S,
        };
        let plan = Plan::new(&doc, &config).unwrap();
        assert_eq!((plan.jobs(), plan.most_runs()), (2, 10));
        let mut worker = WorkerState::default();
        worker.handle(plan.setup.clone().unwrap());
        let mut results = Results::for_plan(&plan);
        for i in 0..plan.jobs() {
            results.add(worker.handle(plan.job(i)).unwrap()).unwrap();
        }
        let at = |i: usize| results.thresholds[i].unwrap().tipping().unwrap();
        assert_eq!(results.at_high, vec![Some(Verdict::Metastable); 2]);
        assert!(at(1) < at(0), "{:?}", results.thresholds);
        assert!(results.runs <= plan.most_runs());
    }

    #[test]
    fn the_model_view_traces_the_scenarios_own_run_or_says_why_not() {
        let doc = storm();
        let config = AnalysisConfig {
            mode: Mode::Model,
            ..AnalysisConfig::default_for(&doc)
        };
        let plan = Plan::new(&doc, &config).unwrap();
        assert_eq!((plan.jobs(), plan.most_runs()), (1, 1));
        let mut worker = WorkerState::default();
        worker.handle(plan.setup.clone().unwrap());
        let mut results = Results::for_plan(&plan);
        results.add(worker.handle(plan.job(0)).unwrap()).unwrap();
        let trace = results.trace.clone().unwrap();
        let mut sim = Sim::new(&sim_core::Scenario::from_value(doc.clone()).unwrap()).unwrap();
        sim.run();
        assert_eq!(trace.path, sim.fluid_trace());
        assert_eq!((trace.bucket_s, trace.verdict), (1.0, Verdict::Metastable));

        let cache: Value = serde_json::from_str(presets::find("cold-cache").unwrap().json).unwrap();
        let e = Plan::new(&cache, &config).unwrap_err();
        assert!(
            e.starts_with("The fluid model covers client → retry → FIFO server"),
            "{e}"
        );
        assert!(e.contains("block \"cache\""), "{e}");
    }

    #[test]
    fn a_job_before_setup_or_off_the_grid_is_an_answer_not_a_panic() {
        let mut worker = WorkerState::default();
        assert!(matches!(
            worker.handle(Request::Run { point: 0, seed: 0 }),
            Some(Reply::Failed { .. })
        ));
        let plan = Plan::new(&storm(), &AnalysisConfig::default_for(&storm())).unwrap();
        worker.handle(plan.setup.clone().unwrap());
        assert!(matches!(
            worker.handle(Request::Run {
                point: 99_999,
                seed: 0
            }),
            Some(Reply::Failed { .. })
        ));
    }

    #[test]
    fn hysteresis_settings_round_trip_through_the_address() {
        let doc = storm();
        // Its own first staircase: the retry storm's rate (80) in twelve steps up to 1.5 × 80.
        let opened = AnalysisConfig::from_query("view=hysteresis", &doc).unwrap();
        assert_eq!(opened.mode, Mode::Hysteresis);
        assert_eq!(opened.x.spec(), "users.rate=10..120:12");
        assert_eq!(opened.hold_s, DEFAULT_HOLD_S);
        let config = AnalysisConfig {
            mode: Mode::Hysteresis,
            x: Range::parse("users.rate=5..105:21").unwrap(),
            seeds: 3,
            hold_s: 12.5,
            ..AnalysisConfig::default_for(&doc)
        };
        let query = config.to_query();
        assert!(
            query.starts_with("view=hysteresis&x=users.rate%3D5..105:21&"),
            "{query}"
        );
        assert!(query.ends_with("&seeds=3&steps=5&hold=12.5"), "{query}");
        assert_eq!(
            AnalysisConfig::from_query(&query, &doc),
            Some(config.clone())
        );
        // Through the page's address and back.
        let url = format!("https://example.org/p/?{query}&s=1.x");
        assert_eq!(crate::link::view_of(&url, &doc), Some(config.clone()));
        // A hold time that is not a number is the default; one out of range is kept, for the
        // plan to refuse in words naming it.
        let odd = AnalysisConfig::from_query("view=hysteresis&hold=soon", &doc).unwrap();
        assert_eq!(odd.hold_s, DEFAULT_HOLD_S);
        let nan = AnalysisConfig::from_query("view=hysteresis&hold=NaN", &doc).unwrap();
        assert_eq!(nan.hold_s, DEFAULT_HOLD_S);
        for (hold, got) in [
            ("1e300", "got 1e300"),
            ("0.5", "got 0.5"),
            ("-60", "got −60"),
        ] {
            let far =
                AnalysisConfig::from_query(&format!("view=hysteresis&hold={hold}"), &doc).unwrap();
            let e = Plan::new(&doc, &far).unwrap_err();
            assert!(e.starts_with("Hold time must be 1 to 3600 seconds"), "{e}");
            assert!(e.contains(got), "{e}");
        }
    }

    #[test]
    fn a_load_range_left_alone_follows_the_picture_and_one_set_stays() {
        let doc = storm();
        let phase = AnalysisConfig::default_for(&doc);
        let hysteresis = phase.with_mode(Mode::Hysteresis, &doc);
        assert_eq!(hysteresis.x.spec(), "users.rate=10..120:12");
        assert_eq!(hysteresis.with_mode(Mode::Tip, &doc).x, phase.x);
        let mine = AnalysisConfig {
            x: Range::parse("users.rate=30..90:4").unwrap(),
            ..hysteresis.clone()
        };
        assert_eq!(mine.with_mode(Mode::Phase, &doc).x, mine.x);
        assert_eq!(
            mine.with_mode(Mode::Phase, &doc)
                .with_mode(Mode::Hysteresis, &doc)
                .x,
            mine.x
        );
        // Only clients' loads can climb a staircase.
        assert_eq!(load_parameters(&doc), ["users.rate"]);
        let closed: Value =
            serde_json::from_str(presets::find("closed-loop").unwrap().json).unwrap();
        let loads = load_parameters(&closed);
        assert!(
            loads.len() == 1 && loads[0].ends_with(".think_s"),
            "{loads:?}"
        );
        let range = AnalysisConfig::default_load(Mode::Hysteresis, &closed);
        assert_eq!(range.path, loads[0]);
        assert!(range.lo < range.hi && range.n == LOAD_STEPS, "{range:?}");
    }

    #[test]
    fn the_page_refuses_what_it_can_read_and_names_the_setting() {
        let doc = storm();
        let with = |x: &str| AnalysisConfig {
            mode: Mode::Hysteresis,
            x: Range::parse(x).unwrap(),
            ..AnalysisConfig::default_for(&doc)
        };
        let refused = |x: &str| Plan::new(&doc, &with(x)).unwrap_err();
        assert!(refused("users.rate=10..120:1")
            .contains("The load: the number of loads must be 2 to 60 (got 1)"));
        assert!(refused("users.rate=10..120:61").contains("2 to 60 (got 61)"));
        assert!(refused("users.rate=120..10:3")
            .starts_with("The load `users.rate=120..10:3`: the high end is below the low end"));
        assert!(refused("users.rate=10..10:3")
            .contains("\"from\" must be below \"to\" (got 10 and 10)"));
        let mut seeds = with("users.rate=10..120:12");
        seeds.seeds = 0;
        assert!(Plan::new(&doc, &seeds)
            .unwrap_err()
            .starts_with("Seeds must be 1 to"));
        // What needs the experiment itself is the worker's to say: the page plans it.
        let plan = Plan::new(&doc, &with("api.workers=1..10:3")).unwrap();
        assert_eq!((plan.jobs(), plan.most_runs()), (1, 1));
        assert_eq!(plan.setup, None, "each job carries the whole experiment");
    }

    /// The workers' hysteresis jobs give what the core gives: each seed measured by a worker,
    /// then one job adding them up, through JSON as in the browser.
    #[test]
    fn hysteresis_jobs_in_the_workers_give_the_cores_numbers() {
        let doc = storm();
        let config = AnalysisConfig {
            mode: Mode::Hysteresis,
            x: Range::parse("users.rate=20..120:6").unwrap(),
            seeds: 2,
            hold_s: 30.0,
            ..AnalysisConfig::default_for(&doc)
        };
        let plan = Plan::new(&doc, &config).unwrap();
        assert_eq!(plan.jobs(), 2);
        let through_json = |request: Request, worker: &mut WorkerState| -> Reply {
            let request: Request =
                serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
            let reply = worker.handle(request).unwrap();
            serde_json::from_str(&serde_json::to_string(&reply).unwrap()).unwrap()
        };
        let mut workers = [WorkerState::default(), WorkerState::default()];
        let mut results = Results::for_plan(&plan);
        // Backwards, each seed on its own worker.
        for i in (0..plan.jobs()).rev() {
            let job = plan.job(i).with_workers(2);
            assert!(
                matches!(job, Request::Hysteresis { workers: 2, .. }),
                "{job:?}"
            );
            let reply = through_json(job, &mut workers[i]);
            assert!(
                matches!(reply, Reply::Measured { seed_index, .. } if seed_index as usize == i),
                "{reply:?}"
            );
            assert!(!results.complete(&plan));
            results.add(reply).unwrap();
            if i > 0 {
                assert_eq!(results.follow_up(&plan), None, "seed 0 is not in yet");
            }
        }
        assert_eq!((results.done, results.runs), (2, 2));
        let last = results.follow_up(&plan).expect("every seed is in");
        assert_eq!(results.follow_up(&plan), None, "asked for once");
        assert!(!results.complete(&plan));
        results.add(through_json(last, &mut workers[1])).unwrap();
        assert!(results.complete(&plan));
        let got = results.hysteresis.clone().unwrap();

        // The core, called directly.
        let experiment = Experiment::parse(doc.clone(), "users.rate=20..120:6", 30.0, 2).unwrap();
        let runs: Vec<Vec<Measure>> = (0..2)
            .map(|i| {
                let mut sim = Sim::new(&experiment.scenario(i)).unwrap();
                sim.run();
                experiment.measure(sim.rows()).unwrap()
            })
            .collect();
        let want = experiment.result(&runs);
        assert_eq!(got.steps, want.steps);
        assert_eq!((got.edges, got.band), (want.edges, want.band));
        assert_eq!(got.per_seed, want.per_seed);
        assert_eq!(got.fluid, want.fluid.clone().unwrap());
        assert_eq!(got.fluid_note, None);
        assert_eq!((got.seeds, got.hold_s, got.first_seed), (2, 30.0, 7));
        assert_eq!(got.levels, [20.0, 40.0, 60.0, 80.0, 100.0, 120.0]);
        assert_eq!(
            (got.path.as_str(), got.field),
            ("users.rate", LoadField::Rate)
        );
        assert_eq!(got.removed_triggers, 1, "the preset's spike");
        // The retry storm: tipped on the way up, back only far down; a band.
        assert!(
            matches!(got.band, Band::Between { recovery: Some(r), tipping: t } if r < t),
            "{:?}",
            got.band
        );
        // The page's CSV is the CLI's standard output.
        let csv = crate::analysis::csv(&plan, &results);
        let mut expected = format!("{CSV_HEADER}\n");
        for step in &want.steps {
            expected.push_str(&csv_row(step));
            expected.push('\n');
        }
        assert_eq!(csv, expected);
        assert_eq!(csv.lines().count(), 1 + 11);
    }

    /// The default staircase for the retry storm crosses both edges: the band of
    /// docs/hysteresis.md.
    #[test]
    fn the_retry_storms_first_staircase_shows_its_band() {
        let doc = storm();
        let config = AnalysisConfig::default_for(&doc).with_mode(Mode::Hysteresis, &doc);
        let plan = Plan::new(&doc, &config).unwrap();
        let mut worker = WorkerState::default();
        let mut results = Results::for_plan(&plan);
        results.add(worker.handle(plan.job(0)).unwrap()).unwrap();
        let last = results.follow_up(&plan).unwrap();
        results.add(worker.handle(last).unwrap()).unwrap();
        let h = results.hysteresis.unwrap();
        assert_eq!(
            h.band,
            Band::Between {
                recovery: Some(20.0),
                tipping: 100.0
            }
        );
        let (low, high) = h.fluid.unwrap();
        assert!((25.0..26.0).contains(&low) && (99.0..100.0).contains(&high));
    }

    #[test]
    fn a_refused_experiment_is_a_failure_in_words_naming_the_setting() {
        let doc = storm();
        let mut worker = WorkerState::default();
        let job = |load: &str, hold_s: f64, seeds: u32, seed_index: u32| Request::Hysteresis {
            doc: doc.clone(),
            load: load.into(),
            hold_s,
            seeds,
            seed_index,
            workers: 1,
        };
        let failed = |reply: Option<Reply>| match reply {
            Some(Reply::Failed { message }) => message,
            other => panic!("{other:?}"),
        };
        let m = failed(worker.handle(job("api.workers=1..10:3", 60.0, 1, 0)));
        assert!(
            m.starts_with("The load `api.workers=1..10:3`: `api` is a server, not a client"),
            "{m}"
        );
        assert!(m.ends_with('.'), "{m}");
        let m = failed(worker.handle(job("users.timeout_s=1..2:3", 60.0, 1, 0)));
        assert!(m.contains("is not a load"), "{m}");
        let m = failed(worker.handle(job("users.rate=1..2:3", 0.001, 1, 0)));
        assert!(m.starts_with("Hold time must be at least"), "{m}");
        let m = failed(worker.handle(job("users.rate=1..2:3", 60.0, 1, 5)));
        assert_eq!(m, "There is no seed 6 of 1.");
        // Over the tab's budget of work: said in the page's words, with the command to use.
        let mut tight = WorkerState::default();
        let m = match measure_seed(
            &Experiment::parse(doc.clone(), "users.rate=10..120:12", 60.0, 1).unwrap(),
            0,
            Limits {
                max_work: 50_000,
                ..worker_limits(1)
            },
        ) {
            Reply::Failed { message } => message,
            other => panic!("{other:?}"),
        };
        assert!(
            m.starts_with("The experiment's run with seed 7 stopped: at t = "),
            "{m}"
        );
        assert!(m.contains("`metastable hysteresis`"), "{m}");
        // Adding up measurements that do not fit the experiment: an answer, not a panic.
        let m = failed(tight.handle(Request::HysteresisResult {
            doc: doc.clone(),
            load: "users.rate=10..120:12".into(),
            hold_s: 60.0,
            seeds: 1,
            runs: vec![Vec::new()],
        }));
        assert!(m.contains("needs 1 seeds' measurements of 23 steps"), "{m}");
        // Through the view: the failure stops the computation with that message.
        let plan = Plan::new(
            &doc,
            &AnalysisConfig {
                mode: Mode::Hysteresis,
                x: Range::parse("users.timeout_s=1..2:3").unwrap(),
                ..AnalysisConfig::default_for(&doc)
            },
        )
        .unwrap();
        let mut results = Results::for_plan(&plan);
        let e = results
            .add(worker.handle(plan.job(0)).unwrap())
            .unwrap_err();
        assert!(e.starts_with("The load `users.timeout_s=1..2:3`"), "{e}");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_text(30.526315789), "30.5");
        assert_eq!(tick_text(1.157894), "1.16");
        assert_eq!(tick_text(120.0), "120");
        assert_eq!(tick_text(0.0012345), "0.00123");
        assert_eq!(tick_text(2.5), "2.5");
        assert_eq!(tick_text(12345.6), "12346");
    }

    #[test]
    fn ticks_keep_the_ends_and_fit_the_room() {
        assert_eq!(ticks(5, 10), vec![0, 1, 2, 3, 4]);
        assert_eq!(ticks(20, 6), vec![0, 4, 8, 12, 16, 19]);
        assert!(ticks(60, 8).len() <= 9);
        assert_eq!(ticks(1, 8), vec![0]);
    }
}
