//! `metastable sweep` and `metastable tip`: many runs of one scenario on every core.
//!
//! Both share one memory budget among their threads (SPEC §10): each of `n` threads runs one
//! scenario at a time with `max_state_bytes / n` of state, so that all of them together stay
//! within the limit a single run has; the work budget applies to each run. Both refuse a
//! search of more than [`DEFAULT_MAX_RUNS`] runs unless `--max-points` raises it, and both
//! stream their rows in grid order as the points finish ([`crate::pool`]), with a progress
//! bar on standard error when it is a terminal. With `--shard I/N` either makes only its
//! shard's points and tags its rows for `metastable merge` ([`crate::shard`]); the limits are
//! then the shard's: its runs count against `--max-points`, its threads share the budget.

use crate::input::{load_doc, preflight, validate, Edits};
use crate::output::{note, write_file, Stdout};
use crate::pool::{run_in_order, Job};
use crate::shard::{self, Kind};
use crate::{phase, LimitArgs};
use anyhow::{anyhow, bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sim_core::sweep::{
    bisect, tip_header, tip_row_at, Axis, Outcome, Point, Shard, Sweep, Threshold,
};
use sim_core::{Budget, LimitExceeded, Limits, Sim, Summary, Verdict};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Most runs a sweep or a tipping search makes unless `--max-points` says more: at the
/// default limits a few minutes on a laptop for ordinary scenarios, and a typo such as
/// `:1000` with `--seeds 1000` is an error rather than a night of computing.
pub const DEFAULT_MAX_RUNS: u64 = 10_000;

/// Every point built and its rows costed before anything runs: a grid refused for its
/// memory is refused at once, not after its first points have run.
fn preflight_points(
    sweep: &Sweep,
    points: impl IntoIterator<Item = Point>,
    budgets: &Budgets,
) -> Result<()> {
    for point in points {
        let scenario = sweep.scenario(point, 0).map_err(|e| anyhow!("{e}"))?;
        preflight(
            &format!("the point {}", sweep.place(point)),
            &scenario,
            &budgets.per_run,
        )?;
    }
    Ok(())
}

/// How the runs of a sweep or tip share the machine.
pub(crate) struct Budgets {
    pub(crate) threads: usize,
    /// Each run's limits: the work budget whole, the state budget divided among the threads.
    pub(crate) per_run: Limits,
    /// The state budget as given (for messages).
    total_state_bytes: u64,
}

impl Budgets {
    pub(crate) fn of(limits: &LimitArgs) -> Budgets {
        let total = limits.limits();
        let threads = rayon::current_num_threads().max(1);
        Budgets {
            threads,
            per_run: Limits {
                max_state_bytes: total.max_state_bytes / threads as u64,
                ..total
            },
            total_state_bytes: total.max_state_bytes,
        }
    }

    /// The sentence after a run's stop: for the state budget, that it is shared.
    pub(crate) fn why(&self, stopped: &LimitExceeded) -> String {
        if stopped.budget == Budget::State && self.threads > 1 {
            format!(
                " (the state budget of {} MiB is shared: each of the {} threads' runs has {} MiB of it)",
                mib(self.total_state_bytes),
                self.threads,
                mib(self.per_run.max_state_bytes)
            )
        } else {
            String::new()
        }
    }

    /// "16 MiB of state and 4000000000 units of work per run".
    pub(crate) fn per_run_text(&self) -> String {
        format!(
            "{} MiB of state and {} units of work per run",
            mib(self.per_run.max_state_bytes),
            self.per_run.max_work
        )
    }
}

fn mib(bytes: u64) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib.fract() == 0.0 {
        format!("{mib:.0}")
    } else {
        format!("{mib:.1}")
    }
}

/// A progress bar on a terminal; nothing in a pipe or a log.
pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} · {{elapsed}} · ETA {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The refusal of a search larger than allowed.
pub(crate) fn check_runs(
    runs: u64,
    max_runs: Option<u64>,
    what: impl FnOnce() -> String,
) -> Result<()> {
    let max = max_runs.unwrap_or(DEFAULT_MAX_RUNS);
    if runs > max {
        bail!(
            "{} = {runs} runs, more than {max}, the most one command makes unless asked: use a smaller grid or fewer seeds, or --max-points {runs} to run them all",
            what()
        );
    }
    Ok(())
}

/// The arguments of `metastable sweep`.
pub struct SweepArgs<'a> {
    pub source: &'a str,
    pub edits: &'a Edits,
    pub x: &'a str,
    pub y: Option<&'a str>,
    pub seeds: u32,
    pub plot: Option<&'a Path>,
    pub limits: &'a LimitArgs,
    pub max_runs: Option<u64>,
    pub shard: Option<Shard>,
}

/// `--plot` draws a whole grid: with `--shard`, `merge --plot` draws it.
fn check_plot(shard: Option<Shard>, plot: Option<&Path>) -> Result<()> {
    if let (Some(shard), Some(plot)) = (shard, plot) {
        bail!(
            "--plot draws the whole grid, and shard {shard} computes a part of it: draw it when the shards are merged (`metastable merge SHARDS… --plot {}`)",
            crate::output::escape(&plot.display().to_string())
        );
    }
    Ok(())
}

/// "shard 2/3: " before a note, or nothing.
fn shard_prefix(shard: Option<Shard>) -> String {
    shard.map_or(String::new(), |s| format!("shard {s}: "))
}

/// `metastable sweep`: every (point, seed) run in parallel, each point's row printed as soon
/// as it and every point before it are done.
pub fn sweep(args: SweepArgs, out: &mut Stdout) -> Result<()> {
    check_plot(args.shard, args.plot)?;
    // The document as written (with the edits), so every field it names can be swept; it is
    // validated first, so that a problem of the scenario itself is not blamed on a point. (Read
    // once: standard input cannot be read twice.)
    let (label, base) = load_doc(args.source, args.edits)?;
    validate(&label, base.clone())?;
    let x = Axis::parse(args.x).map_err(|e| anyhow!("--x {e}"))?;
    let y = args
        .y
        .map(Axis::parse)
        .transpose()
        .map_err(|e| anyhow!("--y {e}"))?;
    let seeds = args.seeds;
    let sweep = Arc::new(Sweep::new(base, x, y, seeds).map_err(|e| anyhow!("{e}"))?);
    let points = Arc::new(match args.shard {
        Some(shard) => sweep.shard_points(shard),
        None => sweep.points(),
    });
    let runs = points.len() as u64 * u64::from(seeds);
    check_runs(runs, args.max_runs, || match args.shard {
        Some(shard) => format!(
            "shard {shard} has {} of the grid's {} points × {seeds} seed{}",
            points.len(),
            sweep.runs() / u64::from(seeds),
            plural(seeds)
        ),
        None => format!(
            "the grid has {} points × {seeds} seed{}",
            points.len(),
            plural(seeds)
        ),
    })?;
    let budgets = Arc::new(Budgets::of(args.limits));
    preflight_points(&sweep, points.iter().copied(), &budgets)?;

    let bar = progress(runs, "runs");
    let started = Instant::now();
    let job: Job<Summary> = {
        let (sweep, points, budgets, bar) =
            (sweep.clone(), points.clone(), budgets.clone(), bar.clone());
        Arc::new(move |j| {
            let (p, s) = (j / seeds as usize, (j % seeds as usize) as u32);
            let point = points[p];
            let scenario = sweep.scenario(point, s).map_err(|e| anyhow!("{e}"))?;
            let mut sim = Sim::with_limits(&scenario, budgets.per_run)
                .map_err(|e| anyhow!("at {}: {e}", sweep.place(point)))?;
            sim.run();
            bar.inc(1);
            if let Some(stopped) = sim.stopped() {
                bail!(
                    "at {}, seed {}: {stopped}{}",
                    sweep.place(point),
                    scenario.seed,
                    budgets.why(stopped)
                );
            }
            Ok(sim.summary())
        })
    };
    match args.shard {
        Some(shard) => out.line(shard::head(
            Kind::Sweep,
            shard,
            &sweep,
            "sweep",
            &sweep.header(),
        ))?,
        None => out.line(sweep.header())?,
    }
    out.flush()?;
    let mut seeds_of_point: Vec<Summary> = Vec::with_capacity(seeds as usize);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(points.len());
    let threads = budgets.threads;
    let result = run_in_order(
        runs as usize,
        threads,
        16 * threads + 64,
        job,
        |j, summary| {
            seeds_of_point.push(summary);
            if seeds_of_point.len() == seeds as usize {
                let point = points[j / seeds as usize];
                let mut row = sweep.row(point, &seeds_of_point);
                if args.shard.is_some() {
                    row = shard::row(sweep.index(point), &row);
                }
                outcomes.push(Outcome::of(&seeds_of_point));
                seeds_of_point.clear();
                bar.suspend(|| out.line(row).and_then(|()| out.flush()))?;
            }
            Ok(())
        },
    );
    bar.finish_and_clear();
    result?;
    let wall_s = started.elapsed().as_secs_f64();
    note!(
        "{}{} points × {seeds} seeds = {runs} runs in {wall_s:.2} s on {threads} threads ({})",
        shard_prefix(args.shard),
        points.len(),
        budgets.per_run_text()
    );
    if let Some(path) = args.plot {
        let svg = phase::draw(&sweep, &points, &outcomes)?;
        write_file(path, svg.as_bytes())?;
        note!("phase diagram: {}", path.display());
    }
    Ok(())
}

pub(crate) fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The arguments of `metastable tip`.
pub struct TipArgs<'a> {
    pub source: &'a str,
    pub edits: &'a Edits,
    pub load: &'a str,
    pub trigger: &'a str,
    pub seeds: u32,
    pub steps: u32,
    pub plot: Option<&'a Path>,
    pub limits: &'a LimitArgs,
    pub max_runs: Option<u64>,
    pub shard: Option<Shard>,
}

/// `metastable tip`: a bisection per load point, the load points in parallel, each trial's
/// seeds in parallel too; each load's row printed as soon as it and every load before it
/// are done.
pub fn tip(args: TipArgs, out: &mut Stdout) -> Result<()> {
    use rayon::prelude::*;

    check_plot(args.shard, args.plot)?;
    let (seeds, steps) = (args.seeds, args.steps);
    if steps > 30 {
        bail!("--steps must be 0 to 30 (got {steps})");
    }
    let (label, base) = load_doc(args.source, args.edits)?;
    validate(&label, base.clone())?;
    let loads = Axis::parse(args.load).map_err(|e| anyhow!("--load {e}"))?;
    let trigger = args.trigger;
    if !trigger.contains('=') || !trigger.contains("..") || trigger.contains(':') {
        bail!("--trigger `{trigger}`: expected PATH=LO..HI, e.g. triggers.0.factor=1..5");
    }
    // The searched range is an axis of two values: its ends, checked like any grid point.
    let range = Axis::parse(&format!("{trigger}:2")).map_err(|e| anyhow!("--trigger {e}"))?;
    if range.is_seed() {
        bail!("--trigger `{trigger}`: the seed is not the size of a trigger; search a trigger's field, e.g. triggers.0.factor=1..5");
    }
    let (low, high) = (range.values[0], range.values[1]);
    let sweep = Arc::new(Sweep::new(base, loads, Some(range), seeds).map_err(|e| anyhow!("{e}"))?);
    let whole = sweep.y_is_whole();
    // A shard's loads: the loads are the grid (the trigger's two ends are not points of it).
    let load_points: Arc<Vec<Point>> = Arc::new(
        sweep
            .points()
            .into_iter()
            .filter(|p| p.iy == 0 && args.shard.is_none_or(|s| s.owns(*p)))
            .collect(),
    );
    // Both ends, then one trial per halving at most: the most runs the search can make.
    let most_runs = load_points.len() as u64 * u64::from(seeds) * (u64::from(steps) + 2);
    check_runs(most_runs, args.max_runs, || {
        format!(
            "{}the search may make {} loads × {seeds} seed{} × ({steps} halvings + 2 ends)",
            shard_prefix(args.shard),
            load_points.len(),
            plural(seeds)
        )
    })?;
    let budgets = Arc::new(Budgets::of(args.limits));
    preflight_points(
        &sweep,
        sweep
            .points()
            .into_iter()
            .filter(|p| args.shard.is_none_or(|s| s.owns(Point { iy: 0, ..*p }))),
        &budgets,
    )?;

    let bar = progress(load_points.len() as u64, "loads");
    let started = Instant::now();
    let runs = Arc::new(AtomicU64::new(0));
    let job: Job<Threshold> = {
        let (sweep, load_points, budgets, bar, runs) = (
            sweep.clone(),
            load_points.clone(),
            budgets.clone(),
            bar.clone(),
            runs.clone(),
        );
        Arc::new(move |i| {
            let point = load_points[i];
            let mut failure = None;
            let threshold = bisect(low, high, steps, whole, |size| {
                if failure.is_some() {
                    return false;
                }
                let trial = Point { y: size, ..point };
                let verdicts: Vec<Result<Verdict>> = (0..seeds)
                    .into_par_iter()
                    .map(|s| {
                        let scenario = sweep.scenario(trial, s).map_err(|e| anyhow!("{e}"))?;
                        let mut sim = Sim::with_limits(&scenario, budgets.per_run)
                            .map_err(|e| anyhow!("at {}: {e}", sweep.place(trial)))?;
                        // Only the verdict is wanted: an overloaded run stops once that
                        // is certain (`Sim::run_for_verdict`).
                        let verdict = sim.run_for_verdict();
                        runs.fetch_add(1, Ordering::Relaxed);
                        if let Some(stopped) = sim.stopped() {
                            bail!(
                                "at {}, seed {}: {stopped}{}",
                                sweep.place(trial),
                                scenario.seed,
                                budgets.why(stopped)
                            );
                        }
                        Ok(verdict)
                    })
                    .collect();
                let mut metastable = 0;
                for verdict in verdicts {
                    match verdict {
                        Ok(Verdict::Metastable) => metastable += 1,
                        Ok(_) => {}
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
                2 * metastable >= seeds
            });
            bar.inc(1);
            match failure {
                Some(e) => Err(e),
                None => Ok(threshold),
            }
        })
    };
    let trigger_path = sweep.y.as_ref().map_or("", |y| y.path.as_str());
    let header = tip_header(&sweep.x.path, trigger_path);
    match args.shard {
        Some(shard) => out.line(shard::head(
            Kind::Tip,
            shard,
            &sweep,
            &format!("tip steps={steps}"),
            &header,
        ))?,
        None => out.line(header)?,
    }
    out.flush()?;
    let threads = budgets.threads;
    let mut thresholds = Vec::with_capacity(load_points.len());
    let result = run_in_order(load_points.len(), threads, 4 * threads + 16, job, |i, t| {
        let point = load_points[i];
        let mut row = tip_row_at(&sweep.x_text(point), Some(t), seeds, low, high);
        if args.shard.is_some() {
            row = shard::row(point.ix, &row);
        }
        thresholds.push(t);
        bar.suspend(|| out.line(row).and_then(|()| out.flush()))
    });
    bar.finish_and_clear();
    result?;
    let wall_s = started.elapsed().as_secs_f64();
    note!(
        "{}{} loads, {} runs in {wall_s:.2} s on {threads} threads ({})",
        shard_prefix(args.shard),
        load_points.len(),
        runs.load(Ordering::Relaxed),
        budgets.per_run_text()
    );
    if let Some(path) = args.plot {
        let svg = phase::draw_tipping(&sweep, &load_points, &thresholds, (low, high))?;
        write_file(path, svg.as_bytes())?;
        note!("tipping curve: {}", path.display());
    }
    Ok(())
}
