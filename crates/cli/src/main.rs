//! `metastable`: run, validate and list scenarios of the simulator from a terminal.
//!
//! This binary is glue: it parses arguments, loads a scenario (file, stdin, preset or share
//! link), applies `--seed` and `--set`, calls the core and prints. `main` is the one place that
//! turns errors into messages and exit codes: 0 ok, 2 invalid input (the message names block
//! and field).

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use sim_core::fluid::Fluid;
use sim_core::sweep::{Axis, Outcome, Sweep};
use sim_core::{presets, set_path, share, Limits, Scenario, Sim, Summary, Verdict};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Instant;

/// Where `metastable url` points links when neither `--base` nor `METASTABLE_BASE_URL` says
/// otherwise: the hosted playground. A macro rather than only a `const` so that the help text
/// can quote it (`concat!` takes literals) and the address is written once.
macro_rules! default_base_url {
    () => {
        "https://metastable.example/"
    };
}
const DEFAULT_BASE_URL: &str = default_base_url!();

/// The environment variable that overrides [`DEFAULT_BASE_URL`] (e.g. for a self-hosted copy).
macro_rules! base_url_variable {
    () => {
        "METASTABLE_BASE_URL"
    };
}
const BASE_URL_VARIABLE: &str = base_url_variable!();

mod phase;
mod state_space;

#[derive(Parser)]
#[command(
    name = "metastable",
    version,
    about = "Simulate metastable failures: retry storms, cold caches, stale queues."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its metrics (CSV by default) or its summary.
    Run {
        /// A scenario file, `-` for standard input, a share link (a URL, `?s=…`, `#s=…` or
        /// the bare payload `1.…`), or a preset name (see `metastable presets`).
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// Output format of the metric rows.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Print one JSON object with the verdict and totals instead of the rows.
        #[arg(long)]
        summary: bool,
        /// Stop the run after this many events (default 10^9).
        #[arg(long)]
        max_events: Option<u64>,
        /// Stop the run when its state passes this many MiB (default 1024).
        #[arg(long)]
        max_state_mib: Option<u64>,
    },
    /// Check a scenario and list every problem found.
    Validate {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
    },
    /// Print the share link of a scenario: the playground's address with the scenario in it.
    ///
    /// The link opens the exact run (same seed, same numbers) in the playground, and
    /// `metastable run LINK` runs it here.
    Url {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        #[arg(
            long,
            value_name = "URL",
            help = concat!(
                "The playground's address the link points to [default: $",
                base_url_variable!(),
                " if set, else ",
                default_base_url!(),
                "]. A sub-path works (`https://host/metastable/`), and other query parameters \
                 (`?embed&charts=…`) are kept"
            )
        )]
        base: Option<String>,
    },
    /// Run a grid of one or two parameters, every point with k seeds, on all cores, and print
    /// one CSV row per point: the swept values, the majority verdict, the fraction of seeds
    /// per verdict and the seeds' mean summary.
    Sweep {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// The first parameter: `PATH=LO..HI:N`, N evenly spaced values (e.g.
        /// `users.rate=50..150:11`).
        #[arg(long, value_name = "PATH=LO..HI:N")]
        x: String,
        /// The second parameter, for a two-dimensional grid.
        #[arg(long, value_name = "PATH=LO..HI:N")]
        y: Option<String>,
        /// Seeds per point: the scenario's seed, then the next k - 1.
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Also draw the phase diagram to this SVG file (colour: the majority verdict; shade:
        /// how many seeds agree).
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<std::path::PathBuf>,
    },
    /// For each load, find by bisection the smallest trigger that tips the scenario into
    /// `metastable` in at least half of k seeds, and print one CSV row per load: the minimum
    /// trigger that causes a metastable failure, as a function of load.
    Tip {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// The load axis: `PATH=LO..HI:N` (e.g. `users.rate=40..100:13`).
        #[arg(long, value_name = "PATH=LO..HI:N")]
        load: String,
        /// The trigger's size and the range searched: `PATH=LO..HI` (e.g.
        /// `triggers.0.factor=1..5` or `triggers.0.for_s=1..60`).
        #[arg(long, value_name = "PATH=LO..HI")]
        trigger: String,
        /// Seeds per trial: a trigger tips the system when at least half of them end
        /// metastable.
        #[arg(long, default_value_t = 3)]
        seeds: u32,
        /// Halvings of the searched range after its two ends (the bracket ends up
        /// 1/2^steps of the range wide).
        #[arg(long, default_value_t = 6)]
        steps: u32,
        /// Also draw the curve to this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<std::path::PathBuf>,
    },
    /// The fluid model beside the simulation (client → retry → FIFO server): its equilibria
    /// and their stability, the loads at which it is bistable, and its verdict; with `--csv`,
    /// its trajectory through the triggers, one row per second.
    Fluid {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// Print the trajectory as CSV (t, q, r, attempts, goodput) instead.
        #[arg(long)]
        csv: bool,
        /// Also draw the state space as SVG: the model's vector field over q × r, its
        /// equilibria, its trajectory, and the simulated path (one run) on it.
        #[arg(long, value_name = "OUT.svg")]
        plot: Option<std::path::PathBuf>,
    },
    /// List the presets.
    Presets {
        /// Also print each preset's caption.
        #[arg(long)]
        captions: bool,
    },
}

#[derive(clap::Args)]
struct Edits {
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Set a field before running: `users.rate=90`, `api.service.mean_s=0.2`,
    /// `triggers.0.factor=3`, `duration_s=600`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`metastable run … | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            edits,
            format,
            summary,
            max_events,
            max_state_mib,
        } => {
            let scenario = load(&scenario, &edits)?;
            let mut limits = Limits::default();
            if let Some(n) = max_events {
                limits.max_events = n;
            }
            if let Some(mib) = max_state_mib {
                limits.max_state_bytes = mib.saturating_mul(1 << 20);
            }
            let mut sim = Sim::with_limits(&scenario, limits).map_err(|e| anyhow!("{e}"))?;
            let started = Instant::now();
            sim.run();
            let wall_s = started.elapsed().as_secs_f64();
            let mut out = std::io::stdout().lock();
            if summary {
                let mut summary = sim.summary();
                summary.wall_s = Some(wall_s);
                writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
            } else {
                match format {
                    Format::Csv => {
                        out.write_all(sim_core::to_csv(sim.columns(), sim.rows()).as_bytes())?
                    }
                    Format::Json => {
                        writeln!(out, "{}", serde_json::to_string(&json_output(&sim))?)?
                    }
                }
                let report = sim.report();
                eprintln!("verdict: {} — {}", report.verdict, report.explanation);
            }
            if let Some(stopped) = sim.stopped() {
                bail!("{stopped}");
            }
            Ok(())
        }
        Command::Validate { scenario, edits } => {
            let parsed = load(&scenario, &edits)?;
            println!(
                "ok: \"{}\" ({} blocks, {} triggers, {} s)",
                parsed.name,
                parsed.blocks.len(),
                parsed.triggers.len(),
                parsed.duration_s
            );
            Ok(())
        }
        Command::Url {
            scenario,
            edits,
            base,
        } => {
            let scenario = load(&scenario, &edits)?;
            let base = base
                .or_else(|| std::env::var(BASE_URL_VARIABLE).ok())
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
            println!("{}", share::link(&base, &scenario));
            Ok(())
        }
        Command::Sweep {
            scenario,
            edits,
            x,
            y,
            seeds,
            plot,
        } => sweep(&scenario, &edits, &x, y.as_deref(), seeds, plot.as_deref()),
        Command::Tip {
            scenario,
            edits,
            load,
            trigger,
            seeds,
            steps,
            plot,
        } => tip(
            &scenario,
            &edits,
            &load,
            &trigger,
            seeds,
            steps,
            plot.as_deref(),
        ),
        Command::Fluid {
            scenario,
            edits,
            csv,
            plot,
        } => {
            let scenario = load(&scenario, &edits)?;
            let model = Fluid::of(&scenario).map_err(|e| anyhow!("{e}"))?;
            if let Some(path) = &plot {
                let mut sim = Sim::new(&scenario).map_err(|e| anyhow!("{e}"))?;
                sim.run();
                if let Some(stopped) = sim.stopped() {
                    bail!("the simulation stopped: {stopped}");
                }
                state_space::draw(
                    path,
                    &scenario.name,
                    &model,
                    &model.trajectory(scenario.bucket_s),
                    sim.fluid_trace(),
                )
                .with_context(|| format!("drawing {}", path.display()))?;
                eprintln!("state space: {}", path.display());
            }
            let mut out = std::io::stdout().lock();
            if csv {
                writeln!(out, "t,q,r,attempts,goodput")?;
                for s in model.trajectory(1.0) {
                    writeln!(
                        out,
                        "{:.0},{:.3},{:.3},{:.3},{:.3}",
                        s.t, s.q, s.r, s.attempts, s.goodput
                    )?;
                }
                return Ok(());
            }
            writeln!(
                out,
                "model: λ = {} requests/s, c = {} workers of μ = {:.3}/s (capacity {:.1}/s), τ = {} s, m = {}, mean backoff {:.3} s",
                model.lambda,
                model.c,
                model.mu,
                model.c * model.mu,
                model.tau,
                model.m,
                1.0 / model.beta
            )?;
            writeln!(out, "equilibria at λ = {}:", model.lambda)?;
            for e in model.equilibria(model.lambda) {
                writeln!(out, "  q = {:.2}, r = {:.3}: {:?}", e.q, e.r, e.stability)?;
            }
            match model.bistable_loads() {
                Some((low, high)) => writeln!(
                    out,
                    "bistable (a good point and a saddle) for λ from {low:.1} to {high:.1} requests/s"
                )?,
                None => writeln!(out, "never bistable: no trigger can tip it")?,
            }
            writeln!(out, "verdict: {}", model.verdict())?;
            Ok(())
        }
        Command::Presets { captions } => {
            for preset in presets::ALL {
                let scenario = Scenario::from_json(preset.json)
                    .map_err(|e| anyhow!("preset {}: {e}", preset.name))?;
                println!("{:<28} {}", preset.name, scenario.name);
                if captions {
                    println!("    {}\n", scenario.caption.unwrap_or_default());
                }
            }
            Ok(())
        }
    }
}

/// `metastable sweep`: every (point, seed) run in parallel, the rows printed in grid order.
fn sweep(
    source: &str,
    edits: &Edits,
    x: &str,
    y: Option<&str>,
    seeds: u32,
    plot: Option<&std::path::Path>,
) -> Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};
    use rayon::prelude::*;
    use std::io::IsTerminal;

    // The document as written (with the edits), so every field it names can be swept; it is
    // validated first, so that a problem of the scenario itself is not blamed on a point. (Read
    // once: standard input cannot be read twice.)
    let (label, base) = load_doc(source, edits)?;
    validate(&label, base.clone())?;
    let x = Axis::parse(x).map_err(|e| anyhow!("--x {e}"))?;
    let y = y
        .map(Axis::parse)
        .transpose()
        .map_err(|e| anyhow!("--y {e}"))?;
    let sweep = Sweep::new(base, x, y, seeds).map_err(|e| anyhow!("{e}"))?;
    let points = sweep.points();
    let jobs: Vec<(usize, u32)> = (0..points.len())
        .flat_map(|p| (0..seeds).map(move |s| (p, s)))
        .collect();
    // A bar for a person at a terminal; nothing in a pipe or a log.
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(jobs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs · {elapsed} · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let summaries: Vec<Result<Summary>> = jobs
        .par_iter()
        .map(|&(p, s)| {
            let scenario = sweep.scenario(points[p], s).map_err(|e| anyhow!("{e}"))?;
            let mut sim = Sim::new(&scenario).map_err(|e| anyhow!("{e}"))?;
            sim.run();
            bar.inc(1);
            if let Some(stopped) = sim.stopped() {
                bail!("at point {} seed {}: {stopped}", p + 1, scenario.seed);
            }
            Ok(sim.summary())
        })
        .collect();
    bar.finish_and_clear();
    let summaries: Vec<Summary> = summaries.into_iter().collect::<Result<_>>()?;
    let wall_s = started.elapsed().as_secs_f64();

    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sweep.header())?;
    let per_point: Vec<&[Summary]> = summaries.chunks(seeds as usize).collect();
    for (point, seeds_of_point) in points.iter().zip(&per_point) {
        writeln!(out, "{}", sweep.row(*point, seeds_of_point))?;
    }
    eprintln!(
        "{} points × {seeds} seeds = {} runs in {wall_s:.2} s on {} threads",
        points.len(),
        jobs.len(),
        rayon::current_num_threads()
    );
    if let Some(path) = plot {
        let outcomes: Vec<Outcome> = per_point.iter().map(|s| Outcome::of(s)).collect();
        phase::draw(path, &sweep, &points, &outcomes)
            .with_context(|| format!("drawing {}", path.display()))?;
        eprintln!("phase diagram: {}", path.display());
    }
    Ok(())
}

/// `metastable tip`: a bisection per load point, the load points in parallel, each trial's
/// seeds in parallel too.
fn tip(
    source: &str,
    edits: &Edits,
    load_axis: &str,
    trigger: &str,
    seeds: u32,
    steps: u32,
    plot: Option<&std::path::Path>,
) -> Result<()> {
    use rayon::prelude::*;
    use sim_core::sweep::{bisect, Point};

    if steps > 30 {
        bail!("--steps must be 0 to 30 (got {steps})");
    }
    let (label, base) = load_doc(source, edits)?;
    validate(&label, base.clone())?;
    let loads = Axis::parse(load_axis).map_err(|e| anyhow!("--load {e}"))?;
    if !trigger.contains('=') || !trigger.contains("..") || trigger.contains(':') {
        bail!("--trigger `{trigger}`: expected PATH=LO..HI, e.g. triggers.0.factor=1..5");
    }
    // The searched range is an axis of two values: its ends, checked like any grid point.
    let range = Axis::parse(&format!("{trigger}:2")).map_err(|e| anyhow!("--trigger {e}"))?;
    let (low, high) = (range.values[0], range.values[1]);
    let sweep = Sweep::new(base, loads, Some(range), seeds).map_err(|e| anyhow!("{e}"))?;
    let whole = sweep.y_is_whole();
    let started = Instant::now();
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let load_points: Vec<Point> = sweep.points().into_iter().filter(|p| p.iy == 0).collect();
    let thresholds: Vec<Result<sim_core::sweep::Threshold>> = load_points
        .par_iter()
        .map(|&point| {
            let mut failure = None;
            let threshold = bisect(low, high, steps, whole, |size| {
                let trial = Point { y: size, ..point };
                let verdicts: Vec<Result<Verdict>> = (0..seeds)
                    .into_par_iter()
                    .map(|s| {
                        let scenario = sweep.scenario(trial, s).map_err(|e| anyhow!("{e}"))?;
                        let mut sim = Sim::new(&scenario).map_err(|e| anyhow!("{e}"))?;
                        // Only the verdict is wanted: an overloaded run stops once that
                        // is certain (`Sim::run_for_verdict`).
                        let verdict = sim.run_for_verdict();
                        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if let Some(stopped) = sim.stopped() {
                            bail!("at {} seed {}: {stopped}", trial.x, scenario.seed);
                        }
                        Ok(verdict)
                    })
                    .collect();
                let mut metastable = 0;
                for verdict in verdicts {
                    match verdict {
                        Ok(Verdict::Metastable) => metastable += 1,
                        Ok(_) => {}
                        Err(e) => failure = Some(e),
                    }
                }
                2 * metastable >= seeds
            });
            match failure {
                Some(e) => Err(e),
                None => Ok(threshold),
            }
        })
        .collect();
    let thresholds: Vec<sim_core::sweep::Threshold> =
        thresholds.into_iter().collect::<Result<_>>()?;
    let wall_s = started.elapsed().as_secs_f64();
    let trigger_path = sweep.y.as_ref().map_or("", |y| y.path.as_str());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        sim_core::sweep::tip_header(&sweep.x.path, trigger_path)
    )?;
    for (point, threshold) in load_points.iter().zip(&thresholds) {
        writeln!(
            out,
            "{}",
            sim_core::sweep::tip_row(point.x, Some(*threshold), seeds, low, high)
        )?;
    }
    eprintln!(
        "{} loads, {} runs in {wall_s:.2} s on {} threads",
        load_points.len(),
        runs.into_inner(),
        rayon::current_num_threads()
    );
    if let Some(path) = plot {
        phase::draw_tipping(path, &sweep, &load_points, &thresholds, (low, high))
            .with_context(|| format!("drawing {}", path.display()))?;
        eprintln!("tipping curve: {}", path.display());
    }
    Ok(())
}

/// Reads a scenario from a file, stdin, a share link or a preset, applies the edits and
/// validates it.
fn load(source: &str, edits: &Edits) -> Result<Scenario> {
    let (label, doc) = load_doc(source, edits)?;
    validate(&label, doc)
}

/// The scenario of a document read from `label`, or every problem with it.
fn validate(label: &str, doc: Value) -> Result<Scenario> {
    Scenario::from_value(doc).map_err(|e| anyhow!("{label} is not a valid scenario:\n{e}"))
}

/// The scenario document of a source with the edits applied, and the source's label (for
/// messages); not yet validated.
fn load_doc(source: &str, edits: &Edits) -> Result<(String, Value)> {
    let (label, text) = read_source(source)?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{label}: not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    if let Some(seed) = edits.seed {
        set_path(&mut doc, "seed", &seed.to_string()).map_err(|e| anyhow!("--seed: {e}"))?;
    }
    for assignment in &edits.sets {
        let (path, value) = assignment.split_once('=').ok_or_else(|| {
            anyhow!("--set {assignment}: expected PATH=VALUE, e.g. users.rate=90")
        })?;
        set_path(&mut doc, path.trim(), value).map_err(|e| anyhow!("--set {e}"))?;
    }
    Ok((label, doc))
}

fn read_source(source: &str) -> Result<(String, String)> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(("standard input".into(), text));
    }
    let path = std::path::Path::new(source);
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {source}"))?;
        return Ok((source.to_string(), text));
    }
    if looks_like_link(source) {
        // The link's own errors say what is wrong with it; the edits and the validator then
        // see the scenario as JSON, like any file's.
        let scenario = share::decode(source).map_err(|e| anyhow!("{e}"))?;
        return Ok(("the share link".into(), serde_json::to_string(&scenario)?));
    }
    if let Some(preset) = presets::find(source) {
        return Ok((format!("preset {source}"), preset.json.to_string()));
    }
    let names: Vec<&str> = presets::ALL.iter().map(|p| p.name).collect();
    bail!(
        "{source}: no such file or preset (presets: {})",
        names.join(", ")
    )
}

/// A share link as a user pastes it: a URL (any scheme, so that a mistyped one gets the link
/// decoder's message, not "no such file"), a bare `?s=…`/`#s=…`, or a payload
/// `<digits>.<base64url>` of at least [`MIN_PAYLOAD_DATA_CHARS`]. Only asked when no file has
/// that name.
/// The smallest valid scenario's payload is about 100 characters; a shorter `<digits>.<word>`
/// is more likely a mistyped file name (`1.json`) and gets the "no such file" message.
const MIN_PAYLOAD_DATA_CHARS: usize = 20;

fn looks_like_link(source: &str) -> bool {
    let source = source.trim();
    if source.contains("://") || source.starts_with("?s=") || source.starts_with("#s=") {
        return true;
    }
    match source.split_once('.') {
        Some((format, data)) => {
            data.len() >= MIN_PAYLOAD_DATA_CHARS
                && !format.is_empty()
                && format.bytes().all(|b| b.is_ascii_digit())
                && data
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => false,
    }
}

fn json_output(sim: &Sim) -> Value {
    let rows: Vec<Value> = sim
        .rows()
        .iter()
        .map(|row| {
            Value::Array(
                row.values()
                    .map(|v| v.map_or(Value::Null, Value::from))
                    .collect(),
            )
        })
        .collect();
    let report = sim.report();
    json!({
        "name": sim.scenario().name,
        "seed": sim.scenario().seed,
        "columns": sim.columns(),
        "rows": rows,
        "verdict": report.verdict,
        "explanation": report.explanation,
        "summary": sim.summary(),
    })
}
