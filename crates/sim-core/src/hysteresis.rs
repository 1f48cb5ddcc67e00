//! Hysteresis (SPEC §9): how far from the edge a system is, both ways.
//!
//! The experiment drives one client's load up a staircase from the lightest load to the
//! heaviest and back down (one `load_steps` trigger), holds each step `hold_s` seconds, and
//! reads, per step, goodput and backlog on the way up and on the way down. The *tipping
//! load* is the first step up at which goodput collapses; the *recovery load* is the first
//! step down at which it is healthy again. A metastable system shows a band between the two:
//! loads it serves on the way up and not on the way down.
//!
//! "Healthy again" on the way down means goodput is back, *or* the backlog is draining (its
//! least-squares slope over the step's measured part is negative by more than three standard
//! errors, as for the `recovering` verdict): a collapse that has stopped sustaining itself.
//! Waiting for goodput itself would measure how long the system spent collapsed, not the
//! system — a retry storm's runaway builds a backlog that no symmetric staircase drains. The
//! definitions, and why each choice was made, are in `docs/hysteresis.md`.
//!
//! Plain data and pure functions, like [`crate::sweep`]: [`Experiment::new`] builds the
//! experiment's scenario (one per seed, [`Experiment::scenario`]) from a base scenario, a load
//! axis and a hold time; the caller runs them however it likes (the CLI on its threads, the
//! browser in Web Workers); [`Experiment::measure`] reads one finished run's rows into its
//! steps, and [`Experiment::result`] adds the seeds up into tipping, recovery and band.

use crate::fluid::Fluid;
use crate::metrics::Row;
use crate::scenario::{limits, Block, ClientMode, LoadSteps, Scenario, Trigger};
use crate::sweep::{number_text, Axis, MAX_SEEDS};
use crate::verdict::slope;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Metric buckets per step: the bucket is `hold_s / BUCKETS_PER_STEP`, so steps start and
/// end on bucket boundaries.
pub const BUCKETS_PER_STEP: usize = 20;

/// The part of each step skipped before measuring: the system settles after each change of
/// load (and warms up from empty in the first step); the step's latter half is measured.
pub const SETTLE: f64 = 0.5;

/// Goodput below this share of the offered load is a collapse.
pub const COLLAPSE: f64 = 0.5;

/// The hold time when none is given, in seconds.
pub const DEFAULT_HOLD_S: f64 = 60.0;

/// Most loads on the axis: the staircase up and down has 2N − 1 steps, and a `load_steps`
/// trigger has at most [`crate::scenario::LoadSteps`]' 1000.
pub const MAX_LOADS: usize = 500;

/// Which of the experiment's inputs a refusal is about (the CLI names it by its flag, a
/// form by its field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Load,
    HoldS,
    Seeds,
}

impl Input {
    /// The command-line flag of this input.
    pub fn flag(self) -> &'static str {
        match self {
            Input::Load => "--load",
            Input::HoldS => "--hold-s",
            Input::Seeds => "--seeds",
        }
    }
}

/// Why an experiment cannot be built: the input at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub input: Input,
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.input.flag(), self.message)
    }
}

impl std::error::Error for Refusal {}

fn refuse(input: Input, message: impl Into<String>) -> Refusal {
    Refusal {
        input,
        message: message.into(),
    }
}

/// The client field the load axis sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadField {
    /// An open-loop client's requests per second: the load rises with the value.
    Rate,
    /// A closed-loop client's think time: the load (the users' pace) rises as it falls.
    ThinkS,
}

/// Which way the load moves at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One step of the staircase.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Its place in time: 0 is the first, 2N − 2 the last.
    pub index: usize,
    /// Its load's place among the loads, lightest first (0 to N − 1).
    pub level: usize,
    /// Up to the top step (the turning point, which belongs to the way up), down after it.
    pub direction: Direction,
    /// The value of the load path at this step (requests/s, or a think time).
    pub load: f64,
    /// When the step starts, in simulated seconds.
    pub start_s: f64,
}

/// What one run did during one step's measured part (its latter half): means per second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub offered: f64,
    pub goodput: f64,
    pub throughput: f64,
    /// Requests in flight plus calls queued at the servers, at the buckets' ends.
    pub backlog: f64,
    /// The backlog's least-squares slope, per second (0 when it cannot be fitted).
    pub backlog_slope: f64,
    /// Whether that slope is negative by more than three standard errors.
    pub draining: bool,
}

impl Measure {
    /// Whether the step was healthy in this run: goodput at least [`COLLAPSE`] of the offered
    /// load (nothing offered is healthy).
    pub fn healthy(&self) -> bool {
        self.goodput >= COLLAPSE * self.offered
    }

    /// Whether the system was back in this run: healthy, or its backlog draining.
    pub fn back(&self) -> bool {
        self.healthy() || self.draining
    }
}

/// A load of the axis: its level (lightest first) and its value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub level: usize,
    pub load: f64,
}

/// The tipping and recovery loads of one run or of the seeds' majority.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edges {
    /// The first step up at which goodput collapsed (none: it never did).
    pub tipping: Option<Level>,
    /// After a collapse, the first step down (the top step first) at which it was back:
    /// healthy, or its backlog draining (none: stuck at the lightest load too, or it never
    /// tipped).
    pub recovery: Option<Level>,
    /// After a collapse, the first step down at which goodput itself was healthy again (at or
    /// below the recovery load: a draining backlog takes time).
    pub healthy_again: Option<Level>,
}

/// What the two paths say together.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Band {
    /// No step up collapsed: the axis stops below the tipping load.
    NotTipped,
    /// Collapsed already at the lightest load, on the way up: the axis starts above the edge.
    CollapsedAtStart,
    /// The recovery load is within one step of the tipping load (or above it): the two paths
    /// agree as far as the staircase can tell.
    None,
    /// Loads served on the way up and not on the way down lie between `recovery` and
    /// `tipping`; `recovery` is `None` when the system was still collapsed at the lightest
    /// load on the way down (the band reaches below the axis).
    Between { recovery: Option<f64>, tipping: f64 },
}

impl Band {
    /// The band in a few words, for a figure's title ("band 20 to 100", "no band");
    /// `lightest` is the axis's lightest load (a band reaching below it starts "from below").
    pub fn words(self, lightest: f64) -> String {
        match self {
            Band::NotTipped => "never tipped".into(),
            Band::CollapsedAtStart => "collapsed at the lightest load".into(),
            Band::None => "no band".into(),
            Band::Between {
                recovery: Some(r),
                tipping,
            } => format!("band {} to {}", number_text(r), number_text(tipping)),
            Band::Between {
                recovery: None,
                tipping,
            } => format!(
                "band from below {} to {}",
                number_text(lightest),
                number_text(tipping)
            ),
        }
    }
}

/// A step's figures over the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub step: Step,
    /// The seeds' means of the step's [`Measure`] figures.
    pub offered: f64,
    pub goodput: f64,
    pub throughput: f64,
    pub backlog: f64,
    pub backlog_slope: f64,
    /// The share of seeds healthy at this step.
    pub healthy: f64,
    /// The share of seeds whose backlog was draining.
    pub draining: f64,
    /// Whether the step counts as collapsed: at least half of the seeds were not healthy.
    pub collapsed: bool,
    /// Whether the step counts as back: more than half of the seeds healthy or draining.
    pub back: bool,
}

/// The experiment's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hysteresis {
    pub path: String,
    pub seeds: usize,
    pub hold_s: f64,
    /// Every step, in time order.
    pub steps: Vec<StepResult>,
    /// Tipping and recovery of the seeds' majority per step.
    pub edges: Edges,
    pub band: Band,
    /// Each seed's own tipping and recovery.
    pub per_seed: Vec<Edges>,
    /// The fluid model's bistable loads (`Ok(None)`: never bistable; `Err`: why the model
    /// does not apply).
    pub fluid: Result<Option<(f64, f64)>, String>,
}

/// The experiment: a base scenario's client driven up and down a staircase of loads.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The load path as given (`users.rate`).
    pub path: String,
    /// The id of the client it drives.
    pub client: String,
    pub field: LoadField,
    /// The loads' values, lightest load first.
    pub levels: Vec<f64>,
    pub hold_s: f64,
    pub seeds: u32,
    /// How many triggers of the base scenario the experiment leaves out.
    pub removed_triggers: usize,
    /// The experiment's scenario with the base scenario's seed.
    scenario: Scenario,
}

impl Experiment {
    /// The experiment over a base scenario document (with any edits applied): `load` names a
    /// client's `rate` (open loop) or `think_s` (closed loop) and its absolute values; each
    /// step lasts `hold_s` seconds; `seeds` runs (seeds s, s + 1, …). Everything is checked
    /// here, so a bad input is refused before anything runs, naming the input.
    pub fn new(base: Value, load: Axis, hold_s: f64, seeds: u32) -> Result<Experiment, Refusal> {
        let spec = axis_text(&load);
        Experiment::build(base, load, &spec, hold_s, seeds)
    }

    /// [`Experiment::new`] with the load axis as text, `PATH=LO..HI:N` ([`Axis::parse`]);
    /// refusals quote it as written.
    pub fn parse(base: Value, load: &str, hold_s: f64, seeds: u32) -> Result<Experiment, Refusal> {
        let axis = Axis::parse(load).map_err(|e| refuse(Input::Load, e))?;
        Experiment::build(base, axis, load.trim(), hold_s, seeds)
    }

    fn build(
        base: Value,
        load: Axis,
        spec: &str,
        hold_s: f64,
        seeds: u32,
    ) -> Result<Experiment, Refusal> {
        if seeds == 0 || seeds > MAX_SEEDS {
            return Err(refuse(
                Input::Seeds,
                format!("must be 1 to {MAX_SEEDS} (got {seeds})"),
            ));
        }
        let base = Scenario::from_value(base).map_err(|e| {
            refuse(
                Input::Load,
                format!("cannot be applied: the scenario itself is invalid: {e}"),
            )
        })?;
        let (client, field, base_value) = load_target(&base, &load.path)
            .map_err(|e| refuse(Input::Load, format!("`{spec}`: {e}")))?;
        let n = load.values.len();
        if n < 2 {
            return Err(refuse(
                Input::Load,
                format!("`{spec}`: the staircase needs at least 2 loads (got {n})"),
            ));
        }
        if n > MAX_LOADS {
            return Err(refuse(
                Input::Load,
                format!(
                    "`{spec}`: at most {MAX_LOADS} loads (got {n}): the way up and down has 2N − 1 steps, and a staircase at most {}",
                    crate::triggers::load_steps::MAX_STEPS
                ),
            ));
        }
        let (lo, hi) = (load.values[0], load.values[n - 1]);
        if load.values.iter().any(|v| !v.is_finite()) || lo >= hi {
            return Err(refuse(
                Input::Load,
                format!("`{spec}`: LO must be below HI (got {} and {}): the staircase climbs from one to the other", shown(lo), shown(hi)),
            ));
        }
        let factor = |value: f64| -> Result<f64, Refusal> {
            let factor = match field {
                LoadField::Rate => {
                    if value < 0.0 {
                        return Err(refuse(
                            Input::Load,
                            format!("`{spec}`: a rate must be 0 or more (got {})", shown(value)),
                        ));
                    }
                    value / base_value
                }
                LoadField::ThinkS => {
                    if value <= 0.0 {
                        return Err(refuse(
                            Input::Load,
                            format!(
                                "`{spec}`: a think time must be above 0 (got {}): the staircase multiplies the users' pace, 1 / think time",
                                shown(value)
                            ),
                        ));
                    }
                    base_value / value
                }
            };
            if factor.is_nan() || factor > limits::MAX_FACTOR {
                return Err(refuse(
                    Input::Load,
                    format!(
                        "`{spec}`: {} is {factor:e} times the scenario's own {} ({}), more than a staircase's largest factor ({:e})",
                        shown(value),
                        load.path,
                        shown(base_value),
                        limits::MAX_FACTOR
                    ),
                ));
            }
            Ok(factor)
        };
        // Lightest load first: a think time's load rises as the time falls.
        let levels: Vec<f64> = match field {
            LoadField::Rate => load.values.clone(),
            LoadField::ThinkS => load.values.iter().rev().copied().collect(),
        };
        let level_factors = levels
            .iter()
            .map(|&v| factor(v))
            .collect::<Result<Vec<f64>, Refusal>>()?;

        if !(hold_s.is_finite() && hold_s > 0.0) {
            return Err(refuse(
                Input::HoldS,
                format!(
                    "must be a number of seconds above 0 (got {})",
                    shown(hold_s)
                ),
            ));
        }
        let bucket_s = hold_s / BUCKETS_PER_STEP as f64;
        if bucket_s < limits::MIN_BUCKET_S {
            return Err(refuse(
                Input::HoldS,
                format!(
                    "must be at least {} s (got {}): each step is measured in {BUCKETS_PER_STEP} buckets, and a bucket is at least {} s",
                    shown(limits::MIN_BUCKET_S * BUCKETS_PER_STEP as f64),
                    shown(hold_s),
                    limits::MIN_BUCKET_S
                ),
            ));
        }
        let steps = 2 * n - 1;
        let duration_s = hold_s * steps as f64;
        if duration_s > limits::MAX_DURATION_S {
            return Err(refuse(
                Input::HoldS,
                format!(
                    "{} s × {steps} steps = {duration_s:e} s, longer than the longest run ({:e} s)",
                    shown(hold_s),
                    limits::MAX_DURATION_S
                ),
            ));
        }

        // Up the levels, then down from the one below the top.
        let factors: Vec<f64> = (0..steps).map(|i| level_factors[level_of(i, n)]).collect();
        let removed_triggers = base.triggers.len();
        let mut scenario = base;
        scenario.caption = None;
        scenario.expect = None;
        scenario.duration_s = duration_s;
        scenario.bucket_s = bucket_s;
        scenario.triggers = vec![Trigger::LoadSteps(LoadSteps {
            target: client.clone(),
            at_s: 0.0,
            step_s: hold_s,
            factors,
        })];
        scenario.validate().map_err(|e| {
            refuse(
                Input::Load,
                format!("`{spec}`: the experiment's scenario is not valid: {e}"),
            )
        })?;
        Ok(Experiment {
            path: load.path,
            client,
            field,
            levels,
            hold_s,
            seeds,
            removed_triggers,
            scenario,
        })
    }

    /// The steps in time order: N up (the last is the top), N − 1 down.
    pub fn steps(&self) -> Vec<Step> {
        let n = self.levels.len();
        (0..2 * n - 1)
            .map(|index| {
                let level = level_of(index, n);
                Step {
                    index,
                    level,
                    direction: if index < n {
                        Direction::Up
                    } else {
                        Direction::Down
                    },
                    load: self.levels[level],
                    start_s: self.hold_s * index as f64,
                }
            })
            .collect()
    }

    /// The scenario of seed number `seed_index` (0-based): the experiment with seed
    /// `base seed + seed_index` (modulo 2⁶⁴).
    pub fn scenario(&self, seed_index: u32) -> Scenario {
        let mut scenario = self.scenario.clone();
        scenario.seed = scenario.seed.wrapping_add(u64::from(seed_index));
        scenario
    }

    /// One finished run's figures per step: the means over the latter part of each step
    /// ([`SETTLE`]). An error when the rows do not cover every step (a run stopped early).
    pub fn measure(&self, rows: &[Row]) -> Result<Vec<Measure>, String> {
        let steps = 2 * self.levels.len() - 1;
        let needed = steps * BUCKETS_PER_STEP;
        if rows.len() < needed {
            return Err(format!(
                "the run has {} of the {needed} buckets the experiment reads: it stopped early",
                rows.len()
            ));
        }
        let skip = (SETTLE * BUCKETS_PER_STEP as f64).round() as usize;
        Ok(rows[..needed]
            .chunks(BUCKETS_PER_STEP)
            .map(|step| {
                let measured = &step[skip.min(BUCKETS_PER_STEP - 1)..];
                let mean = |f: &dyn Fn(&Row) -> f64| {
                    measured.iter().map(f).sum::<f64>() / measured.len() as f64
                };
                let backlog: Vec<(f64, f64)> = measured
                    .iter()
                    .map(|r| (r.t, r.in_flight + r.queue))
                    .collect();
                let slope = slope(&backlog);
                Measure {
                    offered: mean(&|r| r.offered),
                    goodput: mean(&|r| r.goodput),
                    throughput: mean(&|r| r.throughput),
                    backlog: mean(&|r| r.in_flight + r.queue),
                    backlog_slope: slope.map_or(0.0, |(b, _)| b),
                    draining: slope.is_some_and(|(b, se)| b < -3.0 * se),
                }
            })
            .collect())
    }

    /// A run's tipping and recovery loads from whether each step was healthy and whether it
    /// was back (healthy or draining).
    pub fn edges(&self, healthy: &[bool], back: &[bool]) -> Edges {
        let steps = self.steps();
        let n = self.levels.len();
        let at = |s: &Step| Level {
            level: s.level,
            load: s.load,
        };
        let tipping = steps
            .iter()
            .zip(healthy)
            .take(n)
            .find(|(_, h)| !**h)
            .map(|(s, _)| at(s));
        // Down from the top step (the turning point), the first one where `flags` holds.
        let first_down = |flags: &[bool]| {
            tipping.and_then(|_| {
                steps
                    .iter()
                    .zip(flags)
                    .skip(n - 1)
                    .find(|(_, f)| **f)
                    .map(|(s, _)| at(s))
            })
        };
        Edges {
            tipping,
            recovery: first_down(back),
            healthy_again: first_down(healthy),
        }
    }

    /// What the seeds' runs say together: `runs` holds each seed's [`Experiment::measure`].
    /// A step counts as collapsed when at least half of the seeds collapsed there; the tipping
    /// and recovery loads are read from those majorities (each seed's own are in `per_seed`).
    pub fn result(&self, runs: &[Vec<Measure>]) -> Hysteresis {
        let steps = self.steps();
        let k = runs.len().max(1) as f64;
        let results: Vec<StepResult> = steps
            .iter()
            .enumerate()
            .map(|(i, &step)| {
                let of_step: Vec<Measure> = runs.iter().filter_map(|r| r.get(i).copied()).collect();
                let mean = |f: &dyn Fn(&Measure) -> f64| of_step.iter().map(f).sum::<f64>() / k;
                let count = |f: &dyn Fn(&Measure) -> bool| of_step.iter().filter(|m| f(m)).count();
                let (healthy, draining, back) = (
                    count(&Measure::healthy),
                    count(&|m| m.draining),
                    count(&Measure::back),
                );
                StepResult {
                    step,
                    offered: mean(&|m| m.offered),
                    goodput: mean(&|m| m.goodput),
                    throughput: mean(&|m| m.throughput),
                    backlog: mean(&|m| m.backlog),
                    backlog_slope: mean(&|m| m.backlog_slope),
                    healthy: healthy as f64 / k,
                    draining: draining as f64 / k,
                    // At least half not healthy is a collapse; more than half back is back:
                    // a tie counts against the system both ways.
                    collapsed: 2 * (of_step.len() - healthy) >= runs.len().max(1),
                    back: 2 * back > runs.len(),
                }
            })
            .collect();
        let healthy: Vec<bool> = results.iter().map(|r| !r.collapsed).collect();
        let back: Vec<bool> = results.iter().map(|r| r.back).collect();
        let edges = self.edges(&healthy, &back);
        let per_seed = runs
            .iter()
            .map(|run| {
                let healthy: Vec<bool> = run.iter().map(Measure::healthy).collect();
                let back: Vec<bool> = run.iter().map(Measure::back).collect();
                self.edges(&healthy, &back)
            })
            .collect();
        Hysteresis {
            path: self.path.clone(),
            seeds: runs.len(),
            hold_s: self.hold_s,
            steps: results,
            edges,
            band: self.band(edges),
            per_seed,
            fluid: self.fluid_band(),
        }
    }

    /// The band of a run's or the majority's edges.
    pub fn band(&self, edges: Edges) -> Band {
        let Some(tipping) = edges.tipping else {
            return Band::NotTipped;
        };
        if tipping.level == 0 {
            return Band::CollapsedAtStart;
        }
        match edges.recovery {
            // Recovered within one step below the tipping load, or at or above it.
            Some(r) if r.level + 1 >= tipping.level => Band::None,
            recovery => Band::Between {
                recovery: recovery.map(|r| r.load),
                tipping: tipping.load,
            },
        }
    }

    /// The fluid model's bistable loads for this experiment's system, where the model applies
    /// (an open-loop client's rate, client → retry → FIFO server; `docs/fluid.md`).
    pub fn fluid_band(&self) -> Result<Option<(f64, f64)>, String> {
        if self.field != LoadField::Rate {
            return Err("the fluid model covers open-loop clients only".into());
        }
        Fluid::of(&self.scenario).map(|model| model.bistable_loads())
    }
}

/// The level of step `index` of a staircase over `n` loads: up 0, 1, …, n − 1, then down
/// n − 2, …, 0.
fn level_of(index: usize, n: usize) -> usize {
    if index < n {
        index
    } else {
        2 * (n - 1) - index
    }
}

/// A number in a message: as [`number_text`], in scientific notation when very large or very
/// small (`1e-300`, not three hundred digits).
fn shown(value: f64) -> String {
    let size = value.abs();
    if size != 0.0 && !(1e-4..1e15).contains(&size) {
        format!("{value:e}")
    } else {
        number_text(value)
    }
}

/// The axis as the person wrote it, for messages.
fn axis_text(axis: &Axis) -> String {
    let (lo, hi) = (
        axis.values.first().copied().unwrap_or(0.0),
        axis.values.last().copied().unwrap_or(0.0),
    );
    format!(
        "{}={}..{}:{}",
        axis.path,
        shown(lo),
        shown(hi),
        axis.values.len()
    )
}

const LOAD_HELP: &str = "the load is a client's `rate` (open loop) or `think_s` (closed loop), e.g. users.rate=20..120:11";

/// The client a load path drives, which of its fields, and that field's value in the base
/// scenario (the staircase's factors are the loads divided by it). Paths are `ID.FIELD` or
/// `blocks.I.FIELD`, as `--set` takes them.
fn load_target(scenario: &Scenario, path: &str) -> Result<(String, LoadField, f64), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let (block, field) = match segments.as_slice() {
        ["blocks", index, field] => {
            let block = index
                .parse::<usize>()
                .ok()
                .and_then(|i| scenario.blocks.get(i))
                .ok_or_else(|| {
                    format!(
                        "`{path}`: the scenario has no block {index} (it has {})",
                        scenario.blocks.len()
                    )
                })?;
            (block, *field)
        }
        [id, field] => {
            let block = scenario
                .block(id)
                .ok_or_else(|| format!("no block is named `{id}`: {LOAD_HELP}"))?;
            (block, *field)
        }
        _ => return Err(format!("`{path}` is not a load: {LOAD_HELP}")),
    };
    let id = block.id().to_string();
    let Block::Client(client) = block else {
        return Err(format!(
            "`{id}` is a {}, not a client: {LOAD_HELP}",
            block.kind().as_str()
        ));
    };
    match (field, client.mode) {
        ("rate", ClientMode::Open) => {
            let rate = client.rate.unwrap_or(0.0);
            if rate > 0.0 {
                Ok((id, LoadField::Rate, rate))
            } else {
                Err(format!(
                    "the client's own rate is 0, and the staircase multiplies it: give it a rate first (--set {id}.rate=1)"
                ))
            }
        }
        ("think_s", ClientMode::Closed) => {
            let think = client.think_s.unwrap_or(0.0);
            if think > 0.0 {
                Ok((id, LoadField::ThinkS, think))
            } else {
                Err(format!(
                    "the client's own think time is 0, and the staircase multiplies its users' pace (1 / think time): give it one first (--set {id}.think_s=1)"
                ))
            }
        }
        ("rate", ClientMode::Closed) => Err(format!(
            "`{id}` is a closed-loop client: its load is its users' pace, `{id}.think_s`"
        )),
        ("think_s", ClientMode::Open) => Err(format!(
            "`{id}` is an open-loop client: its load is `{id}.rate`"
        )),
        (other, _) => Err(format!("`{other}` of `{id}` is not a load: {LOAD_HELP}")),
    }
}

/// The CSV header of [`csv_row`].
pub const CSV_HEADER: &str =
    "load,direction,goodput,backlog,offered,throughput,backlog_slope,healthy,draining,step,start_s";

/// A step's CSV row: the load, its direction, the seeds' mean goodput, backlog, offered load,
/// throughput and backlog slope (per second; backlog in requests and calls), the share of
/// seeds healthy and the share draining, the step's place and start.
pub fn csv_row(step: &StepResult) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{}",
        number_text(step.step.load),
        step.step.direction.as_str(),
        decimals(step.goodput),
        decimals(step.backlog),
        decimals(step.offered),
        decimals(step.throughput),
        decimals(step.backlog_slope),
        decimals(step.healthy),
        decimals(step.draining),
        step.step.index,
        number_text(step.step.start_s),
    )
}

/// A figure with at most three decimals and no trailing zeros (`79.333`, `0`, `1`).
fn decimals(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "" | "-0" => "0".into(),
        t => t.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    fn storm() -> Value {
        serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap()
    }

    fn axis(spec: &str) -> Axis {
        Axis::parse(spec).unwrap()
    }

    /// A step of a run: healthy (`H`), collapsed and stuck (`S`) or collapsed and draining
    /// (`D`).
    fn state(c: char) -> Measure {
        Measure {
            offered: 10.0,
            goodput: if c == 'H' { 10.0 } else { 1.0 },
            throughput: 10.0,
            backlog: if c == 'H' { 1.0 } else { 1000.0 },
            backlog_slope: if c == 'D' { -5.0 } else { 0.0 },
            draining: c == 'D',
        }
    }

    fn run(states: &str) -> Vec<Measure> {
        states.chars().filter(|c| *c != ' ').map(state).collect()
    }

    fn row(i: usize) -> Row {
        Row {
            t: i as f64,
            ..Row::default()
        }
    }

    #[test]
    fn a_load_as_text_is_quoted_as_written() {
        let refusal = Experiment::parse(storm(), " users.rate=10..110:1", 60.0, 1).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "--load `users.rate=10..110:1`: the staircase needs at least 2 loads (got 1)"
        );
        let refusal = Experiment::parse(storm(), "users.rate=9..1:3", 60.0, 1).unwrap_err();
        assert_eq!(refusal.input, Input::Load);
        assert!(refusal.message.contains("below the low end"), "{refusal}");
        let e = Experiment::parse(storm(), "users.rate=10..110:3", 60.0, 1).unwrap();
        assert_eq!(e.levels, [10.0, 60.0, 110.0]);
    }

    #[test]
    fn the_staircase_climbs_and_comes_back_down_with_absolute_loads() {
        let e = Experiment::new(storm(), axis("users.rate=40..100:4"), 30.0, 2).unwrap();
        assert_eq!(e.client, "users");
        assert_eq!(e.levels, vec![40.0, 60.0, 80.0, 100.0]);
        assert_eq!(e.removed_triggers, 1, "the preset's spike is left out");
        let s = e.scenario(1);
        assert_eq!(s.seed, 8, "the preset's seed 7 plus the seed index");
        assert_eq!(s.duration_s, 7.0 * 30.0);
        assert_eq!(s.bucket_s * BUCKETS_PER_STEP as f64, 30.0);
        assert_eq!(s.expect, None);
        let [Trigger::LoadSteps(t)] = s.triggers.as_slice() else {
            panic!("{:?}", s.triggers);
        };
        assert_eq!(t.target, "users");
        assert_eq!((t.at_s, t.step_s), (0.0, 30.0));
        // The preset's rate is 80: the factors are the loads ÷ 80.
        assert_eq!(t.factors, vec![0.5, 0.75, 1.0, 1.25, 1.0, 0.75, 0.5]);
        let steps = e.steps();
        let loads: Vec<(f64, &str)> = steps
            .iter()
            .map(|s| (s.load, s.direction.as_str()))
            .collect();
        assert_eq!(
            loads,
            [
                (40.0, "up"),
                (60.0, "up"),
                (80.0, "up"),
                (100.0, "up"),
                (80.0, "down"),
                (60.0, "down"),
                (40.0, "down")
            ]
        );
        assert_eq!(steps[4].start_s, 120.0);
    }

    #[test]
    fn a_think_time_axis_climbs_from_the_longest_think_time() {
        let doc = serde_json::from_str(presets::find("closed-loop").unwrap().json).unwrap();
        let scenario = Scenario::from_value_ref(&doc).unwrap();
        let client = scenario
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Client(c) => Some(c.clone()),
                _ => None,
            })
            .unwrap();
        let think = client.think_s.unwrap();
        let path = format!("{}.think_s", client.id);
        let e = Experiment::new(doc, axis(&format!("{path}=0.5..2:4")), 10.0, 1).unwrap();
        assert_eq!(e.field, LoadField::ThinkS);
        assert_eq!(e.levels, vec![2.0, 1.5, 1.0, 0.5], "lightest load first");
        let Trigger::LoadSteps(t) = &e.scenario(0).triggers[0] else {
            panic!()
        };
        assert!((t.factors[0] - think / 2.0).abs() < 1e-12);
        assert!((t.factors[3] - think / 0.5).abs() < 1e-12);
        assert!(e.fluid_band().is_err(), "the fluid model is open loop only");
    }

    #[test]
    fn inputs_that_are_not_an_experiment_are_refused_naming_the_input() {
        let cases: [(&str, f64, u32, Input, &str); 12] = [
            (
                "api.workers=1..10:3",
                60.0,
                1,
                Input::Load,
                "`api` is a server, not a client",
            ),
            (
                "users.timeout_s=1..2:3",
                60.0,
                1,
                Input::Load,
                "`timeout_s` of `users` is not a load",
            ),
            ("duration_s=1..2:3", 60.0, 1, Input::Load, "is not a load"),
            (
                "nobody.rate=1..2:3",
                60.0,
                1,
                Input::Load,
                "no block is named `nobody`",
            ),
            (
                "users.think_s=1..2:3",
                60.0,
                1,
                Input::Load,
                "open-loop client: its load is `users.rate`",
            ),
            ("blocks.9.rate=1..2:3", 60.0, 1, Input::Load, "no block 9"),
            (
                "users.rate=1..2:1",
                60.0,
                1,
                Input::Load,
                "at least 2 loads",
            ),
            (
                "users.rate=5..5:3",
                60.0,
                1,
                Input::Load,
                "LO must be below HI",
            ),
            (
                "users.rate=-5..5:3",
                60.0,
                1,
                Input::Load,
                "a rate must be 0 or more",
            ),
            (
                "users.rate=1..2:501",
                60.0,
                1,
                Input::Load,
                "at most 500 loads",
            ),
            (
                "users.rate=1..1e9:3",
                60.0,
                1,
                Input::Load,
                "largest factor",
            ),
            (
                "users.rate=1..2:3",
                60.0,
                0,
                Input::Seeds,
                "must be 1 to 1000",
            ),
        ];
        for (spec, hold, seeds, input, says) in cases {
            let refusal = Experiment::new(storm(), axis(spec), hold, seeds).unwrap_err();
            assert_eq!(refusal.input, input, "{spec}: {refusal}");
            assert!(refusal.message.contains(says), "{spec}: {refusal}");
            assert!(refusal.to_string().starts_with(input.flag()), "{refusal}");
        }
        for (hold, says) in [
            (0.0, "above 0"),
            (f64::NAN, "above 0"),
            (0.001, "at least 0.02 s"),
            (1e8, "longer than the longest run"),
        ] {
            let refusal = Experiment::new(storm(), axis("users.rate=1..2:3"), hold, 1).unwrap_err();
            assert_eq!(refusal.input, Input::HoldS, "{refusal}");
            assert!(refusal.message.contains(says), "{hold}: {refusal}");
        }
        // `blocks.I.rate` names the same field.
        assert!(Experiment::new(storm(), axis("blocks.0.rate=1..2:3"), 60.0, 1).is_ok());
        let mut zero = storm();
        zero["blocks"][0]["rate"] = 0.into();
        let refusal = Experiment::new(zero, axis("users.rate=1..2:3"), 60.0, 1).unwrap_err();
        assert!(refusal.message.contains("own rate is 0"), "{refusal}");
    }

    #[test]
    fn a_step_is_measured_over_its_latter_half() {
        let e = Experiment::new(storm(), axis("users.rate=40..100:2"), 20.0, 1).unwrap();
        // The first half of each step offers 1000 (warm-up, settling), the second half
        // 10 × (step + 1), with goodput 5. The backlog is flat at 3 in step 0, falls by 50 a
        // bucket (with a little noise) in the latter half of step 1 and rises in step 2.
        let rows: Vec<Row> = (0..3 * BUCKETS_PER_STEP)
            .map(|i| {
                let step = i / BUCKETS_PER_STEP;
                let late = i % BUCKETS_PER_STEP >= BUCKETS_PER_STEP / 2;
                let wobble = if i % 2 == 0 { 1.0 } else { -1.0 };
                let backlog = match step {
                    0 => 3.0,
                    1 => 5000.0 - 50.0 * (i % BUCKETS_PER_STEP) as f64 + wobble,
                    _ => 100.0 + 50.0 * (i % BUCKETS_PER_STEP) as f64,
                };
                Row {
                    offered: if late {
                        10.0 * (step + 1) as f64
                    } else {
                        1000.0
                    },
                    goodput: if late { 5.0 } else { 0.0 },
                    in_flight: 1.0,
                    queue: backlog - 1.0,
                    ..row(i)
                }
            })
            .collect();
        let m = e.measure(&rows).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m.iter().map(|m| m.offered).collect::<Vec<_>>(),
            [10.0, 20.0, 30.0]
        );
        assert_eq!(m[0].backlog, 3.0);
        assert_eq!(
            m.iter().map(Measure::healthy).collect::<Vec<_>>(),
            [true, false, false],
            "5 of 10 is healthy, 5 of 20 is not"
        );
        assert_eq!(
            m.iter().map(|m| m.draining).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert!((m[1].backlog_slope + 50.0).abs() < 1.0, "{m:?}");
        assert!((m[2].backlog_slope - 50.0).abs() < 1e-9, "{m:?}");
        assert_eq!(
            m.iter().map(Measure::back).collect::<Vec<_>>(),
            [true, true, false]
        );
        let error = e.measure(&rows[..59]).unwrap_err();
        assert!(error.contains("59 of the 60 buckets"), "{error}");
    }

    #[test]
    fn tipping_recovery_and_band_follow_the_two_paths() {
        let e = Experiment::new(storm(), axis("users.rate=20..100:5"), 10.0, 1).unwrap();
        let loads = |l: Option<Level>| l.map(|l| l.load);
        // Steps:                    20 40 60 80 100 | 80 60 40 20
        // Collapsed at 80 going up, healthy again only at 20 coming down.
        let storm_like = e.result(&[run("HHHSS SSSH")]);
        assert_eq!(loads(storm_like.edges.tipping), Some(80.0));
        assert_eq!(loads(storm_like.edges.recovery), Some(20.0));
        assert_eq!(
            storm_like.band,
            Band::Between {
                recovery: Some(20.0),
                tipping: 80.0
            }
        );
        // Stuck all the way down: the band reaches below the axis.
        let stuck = e.result(&[run("HHHSS SSSS")]);
        assert_eq!(
            stuck.band,
            Band::Between {
                recovery: None,
                tipping: 80.0
            }
        );
        assert_eq!(stuck.edges.healthy_again, None);
        // Draining from 40 down: back at 40, goodput itself only at 20.
        let draining = e.result(&[run("HHHSS SSDH")]);
        assert_eq!(loads(draining.edges.recovery), Some(40.0));
        assert_eq!(loads(draining.edges.healthy_again), Some(20.0));
        assert_eq!(
            draining.band,
            Band::Between {
                recovery: Some(40.0),
                tipping: 80.0
            }
        );
        // Back one step below where it tipped (draining there): no band.
        let plain = e.result(&[run("HHHSS SDHH")]);
        assert_eq!(loads(plain.edges.recovery), Some(60.0));
        assert_eq!(plain.band, Band::None);
        // Healthy again at the top (a blip at 80): recovery above tipping, no band.
        let blip = e.result(&[run("HHHSH HHHH")]);
        assert_eq!(loads(blip.edges.recovery), Some(100.0));
        assert_eq!(blip.band, Band::None);
        let never = e.result(&[run("HHHHH HHHH")]);
        assert_eq!(never.band, Band::NotTipped);
        assert_eq!(never.edges.recovery, None);
        assert_eq!(e.result(&[run("SSSSS SSSS")]).band, Band::CollapsedAtStart);
    }

    #[test]
    fn seeds_count_by_majority_and_keep_their_own_edges() {
        let e = Experiment::new(storm(), axis("users.rate=20..60:3"), 10.0, 3).unwrap();
        let loads = |l: Option<Level>| l.map(|l| l.load);
        // Steps: 20 40 60 | 40 20.
        let runs = [run("HSS SS"), run("HHS SH"), run("HSS DH")];
        let r = e.result(&runs);
        assert_eq!(r.seeds, 3);
        let healthy: Vec<f64> = r.steps.iter().map(|s| s.healthy).collect();
        assert_eq!(healthy, [1.0, 1.0 / 3.0, 0.0, 0.0, 2.0 / 3.0]);
        let draining: Vec<f64> = r.steps.iter().map(|s| s.draining).collect();
        assert_eq!(draining, [0.0, 0.0, 0.0, 1.0 / 3.0, 0.0]);
        assert_eq!(loads(r.edges.tipping), Some(40.0));
        assert_eq!(
            loads(r.edges.recovery),
            Some(20.0),
            "one seed of three back at 40 is not a majority"
        );
        assert_eq!(r.band, Band::None, "20 is one step below 40");
        assert_eq!(r.per_seed[0].recovery, None);
        assert_eq!(loads(r.per_seed[1].tipping), Some(60.0));
        assert_eq!(loads(r.per_seed[2].recovery), Some(40.0));
        assert_eq!(loads(r.per_seed[2].healthy_again), Some(20.0));
        assert!((r.steps[0].goodput - 10.0).abs() < 1e-12);
        assert!((r.steps[1].goodput - 4.0).abs() < 1e-12);
        // Two seeds of four: collapsed (at least half), not back (not more than half).
        let e4 = Experiment::new(storm(), axis("users.rate=20..60:3"), 10.0, 4).unwrap();
        let r = e4.result(&[run("HSS SS"), run("HSS SS"), run("HHH DD"), run("HHH DD")]);
        assert_eq!(loads(r.edges.tipping), Some(40.0));
        assert_eq!(r.edges.recovery, None);
    }

    #[test]
    fn the_fluid_band_is_the_models_where_it_applies() {
        let e = Experiment::new(storm(), axis("users.rate=20..100:5"), 10.0, 1).unwrap();
        let (low, high) = e.fluid_band().unwrap().unwrap();
        assert!(
            (25.0..26.0).contains(&low) && (99.0..100.0).contains(&high),
            "{low}..{high}"
        );
        let mut cached = storm();
        cached["blocks"][2]["discipline"] = "lifo".into();
        let e = Experiment::new(cached, axis("users.rate=20..100:5"), 10.0, 1).unwrap();
        assert!(e.fluid_band().unwrap_err().contains("FIFO"));
    }

    #[test]
    fn rows_of_the_csv() {
        let e = Experiment::new(storm(), axis("users.rate=20..60:3"), 10.0, 1).unwrap();
        let step = Measure {
            offered: 20.123_456,
            goodput: 20.0,
            throughput: 19.999_9,
            backlog: 2.5,
            backlog_slope: -0.000_1,
            draining: false,
        };
        let r = e.result(&[vec![step; 5]]);
        assert_eq!(csv_row(&r.steps[3]), "40,down,20,2.5,20.123,20,0,1,0,3,30");
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_row(&r.steps[0]).split(',').count()
        );
    }
}
