//! `metastable`: run, validate and list scenarios of the simulator from a terminal.
//!
//! This binary is glue: it parses arguments, loads a scenario (file, stdin, preset or share
//! link; [`input`]), applies `--seed` and `--set`, calls the core and prints ([`output`]).
//! `main` is the one place that turns errors into messages and exit codes: 0 ok (also when
//! the reader of standard output closed it early), 2 invalid input, a run past its limits or
//! an output that could not be written (the message names block and field, or the file).
//! Nothing it writes can make it panic (SPEC §10).

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

mod fix;
mod grid;
mod hysteresis;
mod input;
mod output;
mod phase;
mod pool;
mod replicas;
mod shard;
mod state_space;

use anyhow::{anyhow, bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use input::{load, Edits};
use output::{escape, escape_lines, note, write_file, Stdout};
use serde_json::Value;
use sim_core::fluid::Fluid;
use sim_core::sweep::Shard;
use sim_core::{presets, share, Limits, Scenario, Sim};
use std::process::ExitCode;
use std::time::Instant;

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
        /// A scenario file (at most 4 MiB), `-` for standard input, a share link (a URL,
        /// `?s=…`, `#s=…`, `s=…` or the bare payload `1.…`), or a preset name (see
        /// `metastable presets`).
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// Output format of the metric rows.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Print one JSON object with the verdict and totals instead of the rows (with
        /// `--seeds`: every seed's summary and their aggregate).
        #[arg(long)]
        summary: bool,
        /// Run k seeds (the scenario's seed s, then s + 1, … s + k − 1) in parallel and say
        /// what they say together: the rows become, per bucket, each global column's mean and
        /// 2.5% / 97.5% quantiles across seeds, and standard error gets every seed's verdict
        /// and the aggregate (the share metastable with its 95% Wilson interval, the figures'
        /// means with 95% t-intervals).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        seeds: u32,
        #[command(flatten)]
        limits: LimitArgs,
        /// With `--seeds k`: run only shard I of N of the seeds (1 ≤ I ≤ N), for `metastable
        /// merge`: each seed's figures and rows, after a line naming the shard and the run
        /// (docs/distributed.md).
        #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
    },
    /// Run two scenarios over the same number of seeds and print their summaries side by side
    /// with the difference and its 95% interval: does B (a change) help compared with A?
    ///
    /// `--set` and `--seed` apply to both. `--format csv` prints per bucket each global
    /// column's mean in A, in B, and B − A.
    Compare {
        /// The baseline: a scenario file, `-` for standard input, a share link, or a preset.
        a: String,
        /// The change, in the same forms.
        b: String,
        #[command(flatten)]
        edits: Edits,
        /// Seeds per scenario (each from its own seed s: s, s + 1, … s + k − 1).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        seeds: u32,
        #[arg(long, value_enum, default_value_t = replicas::CompareFormat::Table)]
        format: replicas::CompareFormat,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Check a scenario and list every problem found, including whether it can be built
    /// and its rows stored within the limits.
    Validate {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the share link of a scenario: the playground's address with the scenario in it.
    ///
    /// The link opens the exact run (same seed, same numbers) in the playground, and
    /// `metastable run LINK` runs it here. A scenario that `run` would refuse, or that is too
    /// large for a link, gets no link.
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
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run a grid of one or two parameters, every point with k seeds, on all cores, and print
    /// one CSV row per point as it finishes (in grid order): the swept values, the majority
    /// verdict, the fraction of seeds per verdict and the seeds' mean summary.
    ///
    /// The threads share one state budget (each run has `--max-state-mib` divided by the
    /// number of threads); the work budget applies to each run. A grid of more than 10,000
    /// runs (points × seeds) is refused unless `--max-points` allows it.
    Sweep {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// The first parameter: `PATH=LO..HI:N`, N evenly spaced values (e.g.
        /// `users.rate=50..150:11`; `seed=0..99:100` sweeps seeds, whole numbers from 0 to
        /// 18446744073709551615).
        #[arg(long, value_name = "PATH=LO..HI:N")]
        x: String,
        /// The second parameter, for a two-dimensional grid.
        #[arg(long, value_name = "PATH=LO..HI:N")]
        y: Option<String>,
        /// Seeds per point: the scenario's seed s, then s + 1, … s + k - 1 (modulo 2^64: after
        /// 18446744073709551615 comes 0).
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Also draw the phase diagram to this SVG file (colour: the majority verdict; shade:
        /// how many seeds agree).
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<std::path::PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
        /// Most runs (grid points × seeds) to make [default: 10000].
        #[arg(long, visible_alias = "max-runs", value_name = "N")]
        max_points: Option<u64>,
        /// Compute only shard I of N of the grid (1 ≤ I ≤ N), for `metastable merge`: its rows
        /// tagged by point, after a line naming the shard and the sweep (docs/distributed.md).
        #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
    },
    /// For each load, find by bisection the smallest trigger that tips the scenario into
    /// `metastable` in at least half of k seeds, and print one CSV row per load as it is
    /// found (in load order): the minimum trigger that causes a metastable failure, as a
    /// function of load.
    ///
    /// Like `sweep`, the threads share one state budget, and a search that may make more than
    /// 10,000 runs (loads × seeds × (steps + 2)) is refused unless `--max-points` allows it.
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
        #[command(flatten)]
        limits: LimitArgs,
        /// Most runs the search may make (loads × seeds × (steps + 2)) [default: 10000].
        #[arg(long, visible_alias = "max-runs", value_name = "N")]
        max_points: Option<u64>,
        /// Compute only shard I of N of the loads (1 ≤ I ≤ N), for `metastable merge`: its rows
        /// tagged by point, after a line naming the shard and the search (docs/distributed.md).
        #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
    },
    /// Join the shards of `sweep --shard I/N` (or of `tip`, `fix`, `hysteresis` or `run
    /// --seeds k` with `--shard I/N`) into exactly what the whole command prints; refuse,
    /// naming the file, a missing shard, one given twice, one cut short, or shards of
    /// different commands.
    Merge {
        /// The shard files, in any order; `-` reads standard input (which, like a file, may
        /// hold several shards one after another).
        #[arg(required = true, value_name = "SHARDS")]
        files: Vec<String>,
        /// Also draw the figure the whole command's `--plot` draws (the phase diagram, the
        /// tipping curve, or the hysteresis plot) to this SVG file.
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
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Drive a client's load up a staircase and back down, and print per step goodput and
    /// backlog both ways (CSV), then, on standard error, the tipping load (the first step up
    /// at which goodput collapses), the recovery load (the first step down at which goodput is
    /// healthy again or the backlog drains), the band between them, and the fluid model's
    /// bistable loads.
    ///
    /// The scenario's own triggers are left out. Like `sweep`, the seeds run on all cores
    /// and share one state budget. See docs/hysteresis.md.
    Hysteresis(hysteresis::Args),
    /// Try each mitigation of the catalogue that applies to a scenario (no retries, a retry
    /// budget, LIFO with expiry, CoDel, limiters, a breaker, autoscaling, more workers, …),
    /// each over k seeds beside the scenario as given, and print them ranked: share of seeds
    /// recovered, then goodput after, recovery time, p99 latency, wasted work.
    Fix {
        /// A scenario file, `-` for standard input, a share link, or a preset name.
        scenario: String,
        #[command(flatten)]
        edits: Edits,
        /// Seeds per fix: the scenario's seed s, then s + 1, … s + k - 1, the same for every
        /// fix.
        #[arg(long, default_value_t = 5)]
        seeds: u32,
        /// Print the scenario of this fix (pretty JSON, which `metastable run -` runs) instead.
        #[arg(long, value_name = "NAME")]
        emit: Option<String>,
        /// How to print the ranking.
        #[arg(long, value_enum, default_value_t = fix::FixFormat::Table)]
        format: fix::FixFormat,
        #[command(flatten)]
        limits: LimitArgs,
        /// Most runs ((fixes + 1) × seeds) to make [default: 10000].
        #[arg(long, visible_alias = "max-runs", value_name = "N")]
        max_points: Option<u64>,
        /// Make only shard I of N of the runs (1 ≤ I ≤ N), for `metastable merge`: each run's
        /// figures, after a line naming the shard and the ranking (docs/distributed.md).
        #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
    },
    /// List the presets.
    Presets {
        /// Also print each preset's caption.
        #[arg(long)]
        captions: bool,
    },
}

/// The budgets of a run (SPEC §10).
#[derive(clap::Args)]
struct LimitArgs {
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..),
        help = format!(
            "Stop a run after this many units of work: one per event, per call or reply \
             delivered, per downstream block a balancer looks at (default {}, about a minute)",
            Limits::default().max_work
        )
    )]
    max_work: Option<u64>,
    /// Stop a run when its state (queued events, blocks' state, stored rows) passes this many
    /// MiB (default 1024). A sweep or tip divides it among its threads.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    max_state_mib: Option<u64>,
    /// Replaced by --max-work (which counts calls delivered and balancer scans too).
    #[arg(long, hide = true, value_name = "N")]
    max_events: Option<String>,
}

impl LimitArgs {
    /// The limits these flags set, the defaults elsewhere.
    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(n) = self.max_work {
            limits.max_work = n;
        }
        if let Some(mib) = self.max_state_mib {
            limits.max_state_bytes = mib.saturating_mul(1 << 20);
        }
        limits
    }

    /// Refuses the flag that no longer exists, saying what replaced it.
    fn check(&self) -> Result<()> {
        if self.max_events.is_some() {
            bail!(
                "--max-events is now --max-work: the work budget counts events, calls and replies delivered and balancer scans (default {}, about a minute)",
                Limits::default().max_work
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

/// Fixes glibc's threshold for serving an allocation with its own mapping at 128 KiB (its
/// initial value). By default glibc raises the threshold to the size of the largest mapping
/// freed (up to 32 MiB), so that once one run has ended, the next run on that thread grows
/// its queues inside the heap, where each doubling leaves the old buffer behind as a hole
/// and the memory stays with the process after the run: a sweep's threads then held up to
/// twice their share of the state budget. With the threshold fixed, a queue's buffer is a
/// mapping that grows in place (`mremap`) and goes back to the system when the run ends.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn steady_allocator() {
    // SAFETY: `mallopt` sets one of glibc's allocator parameters; it is called first thing
    // in `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn steady_allocator() {}

fn main() -> ExitCode {
    steady_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help, version and usage errors: clap's text, written without a panic.
        Err(error) => {
            let code = error.exit_code();
            return match error.print() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe && code == 0 => {
                    note!("error: writing to standard output: {e}");
                    ExitCode::from(2)
                }
                _ => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    let mut out = Stdout::new();
    let result = run(cli, &mut out).and_then(|()| out.flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`metastable run … | head`) is not an error.
        Err(error) if output::is_closed_stdout(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // What was printed before the error (a sweep's first rows) still goes out.
            let _ = out.flush();
            note!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli, out: &mut Stdout) -> Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            edits,
            format,
            summary,
            seeds,
            limits,
            shard,
        } => {
            limits.check()?;
            if let (Some(shard), 1) = (shard, seeds) {
                bail!("--shard {shard} splits the seeds of `run --seeds k` (k of 2 or more), and this run has one seed");
            }
            if seeds > 1 {
                let scenario = load(&scenario, &edits, &limits.limits())?;
                let form = match (summary, format) {
                    (true, _) => replicas::RunForm::Summary,
                    (false, Format::Csv) => replicas::RunForm::Csv,
                    (false, Format::Json) => replicas::RunForm::Json,
                };
                if let Some(shard) = shard {
                    return replicas::run_shard(&scenario, seeds, form, shard, &limits, out);
                }
                let seeded = replicas::run_seeds("the scenario", &scenario, seeds, &limits)?;
                return replicas::print_run(&seeded, form, out);
            }
            let limits = limits.limits();
            let scenario = load(&scenario, &edits, &limits)?;
            let mut sim = Sim::with_limits(&scenario, limits).map_err(|e| anyhow!("{e}"))?;
            let started = Instant::now();
            sim.run();
            let wall_s = started.elapsed().as_secs_f64();
            if summary {
                let mut summary = sim.summary();
                summary.wall_s = Some(wall_s);
                out.line(serde_json::to_string_pretty(&summary)?)?;
            } else {
                match format {
                    Format::Csv => write_csv(&sim, out)?,
                    Format::Json => write_json(&sim, out)?,
                }
                out.flush()?;
                let report = sim.report();
                note!("verdict: {} — {}", report.verdict, report.explanation);
            }
            if let Some(stopped) = sim.stopped() {
                bail!("{stopped}");
            }
            Ok(())
        }
        Command::Compare {
            a,
            b,
            edits,
            seeds,
            format,
            limits,
        } => {
            limits.check()?;
            if a == "-" && b == "-" {
                bail!("A and B cannot both be `-`: standard input can be read once");
            }
            let scenario_a = load(&a, &edits, &limits.limits())?;
            let scenario_b = load(&b, &edits, &limits.limits())?;
            let run_a = replicas::run_seeds("A", &scenario_a, seeds, &limits)?;
            let run_b = replicas::run_seeds("B", &scenario_b, seeds, &limits)?;
            replicas::print_compare(&run_a, &run_b, format, out)
        }
        Command::Validate {
            scenario,
            edits,
            limits,
        } => {
            limits.check()?;
            let parsed = load(&scenario, &edits, &limits.limits())?;
            out.line(format_args!(
                "ok: \"{}\" ({} blocks, {} triggers, {} s)",
                escape(&parsed.name),
                parsed.blocks.len(),
                parsed.triggers.len(),
                parsed.duration_s
            ))
        }
        Command::Url {
            scenario,
            edits,
            base,
            limits,
        } => {
            limits.check()?;
            let scenario = load(&scenario, &edits, &limits.limits())?;
            let base = base
                .or_else(|| std::env::var(BASE_URL_VARIABLE).ok())
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
            out.line(escape(&shareable_link(&base, &scenario)?))
        }
        Command::Sweep {
            scenario,
            edits,
            x,
            y,
            seeds,
            plot,
            limits,
            max_points,
            shard,
        } => {
            limits.check()?;
            grid::sweep(
                grid::SweepArgs {
                    source: &scenario,
                    edits: &edits,
                    x: &x,
                    y: y.as_deref(),
                    seeds,
                    plot: plot.as_deref(),
                    limits: &limits,
                    max_runs: max_points,
                    shard,
                },
                out,
            )
        }
        Command::Tip {
            scenario,
            edits,
            load,
            trigger,
            seeds,
            steps,
            plot,
            limits,
            max_points,
            shard,
        } => {
            limits.check()?;
            grid::tip(
                grid::TipArgs {
                    source: &scenario,
                    edits: &edits,
                    load: &load,
                    trigger: &trigger,
                    seeds,
                    steps,
                    plot: plot.as_deref(),
                    limits: &limits,
                    max_runs: max_points,
                    shard,
                },
                out,
            )
        }
        Command::Merge { files, plot } => shard::merge(&files, plot.as_deref(), out),
        Command::Fluid {
            scenario,
            edits,
            csv,
            plot,
            limits,
        } => {
            limits.check()?;
            let limits = limits.limits();
            let scenario = load(&scenario, &edits, &limits)?;
            fluid(&scenario, csv, plot.as_deref(), limits, out)
        }
        Command::Hysteresis(args) => hysteresis::run(args, out),
        Command::Fix {
            scenario,
            edits,
            seeds,
            emit,
            format,
            limits,
            max_points,
            shard,
        } => {
            limits.check()?;
            fix::fix(
                fix::FixArgs {
                    source: &scenario,
                    edits: &edits,
                    seeds,
                    emit: emit.as_deref(),
                    format,
                    limits: &limits,
                    max_runs: max_points,
                    shard,
                },
                out,
            )
        }
        Command::Presets { captions } => {
            for preset in presets::ALL {
                let scenario = Scenario::from_json(preset.json)
                    .map_err(|e| anyhow!("preset {}: {e}", preset.name))?;
                out.line(format_args!(
                    "{:<28} {}",
                    preset.name,
                    escape(&scenario.name)
                ))?;
                if captions {
                    out.line(format_args!(
                        "    {}\n",
                        escape_lines(&scenario.caption.unwrap_or_default())
                    ))?;
                }
            }
            Ok(())
        }
    }
}

/// The share link of a scenario at `base`, if it is one that opens: its payload within
/// [`share::MAX_PAYLOAD_CHARS`], its JSON within [`share::MAX_SCENARIO_BYTES`], and decoding
/// it gives the scenario back (what `run LINK` and the playground do with it).
fn shareable_link(base: &str, scenario: &Scenario) -> Result<String> {
    let json_bytes = serde_json::to_string(scenario)?.len();
    if json_bytes > share::MAX_SCENARIO_BYTES {
        bail!(
            "this scenario is too large for a link: its JSON is {json_bytes} bytes, and a link holds at most {} (1 MiB); share the file instead",
            share::MAX_SCENARIO_BYTES
        );
    }
    let payload = share::encode(scenario);
    if payload.len() > share::MAX_PAYLOAD_CHARS {
        bail!(
            "this scenario is too large for a link: its link would be {} characters, and a link holds at most {}; share the file instead",
            payload.len(),
            share::MAX_PAYLOAD_CHARS
        );
    }
    // What opening the link does, so that no link is printed that would not open.
    match share::decode(&payload) {
        Ok(decoded) if decoded == *scenario => Ok(share::link_with_payload(base, &payload)),
        Ok(_) => {
            bail!("this scenario's link would not open the same scenario; share the file instead")
        }
        Err(e) => bail!("this scenario's link would not open ({e}); share the file instead"),
    }
}

/// `metastable fluid`.
fn fluid(
    scenario: &Scenario,
    csv: bool,
    plot: Option<&std::path::Path>,
    limits: Limits,
    out: &mut Stdout,
) -> Result<()> {
    let model = Fluid::of(scenario).map_err(|e| anyhow!("{e}"))?;
    if let Some(path) = plot {
        let mut sim = Sim::with_limits(scenario, limits).map_err(|e| anyhow!("{e}"))?;
        sim.run();
        if let Some(stopped) = sim.stopped() {
            bail!("the simulation stopped: {stopped}");
        }
        let svg = state_space::draw(
            &scenario.name,
            &model,
            &model.trajectory(scenario.bucket_s),
            sim.fluid_trace(),
        )?;
        write_file(path, svg.as_bytes())?;
        note!("state space: {}", path.display());
    }
    if csv {
        out.line("t,q,r,attempts,goodput")?;
        for s in model.trajectory(1.0) {
            out.line(format_args!(
                "{:.0},{:.3},{:.3},{:.3},{:.3}",
                s.t, s.q, s.r, s.attempts, s.goodput
            ))?;
        }
        return Ok(());
    }
    out.line(format_args!(
        "model: λ = {} requests/s, c = {} workers of μ = {:.3}/s (capacity {:.1}/s), τ = {} s, m = {}, mean backoff {:.3} s",
        model.lambda,
        model.c,
        model.mu,
        model.c * model.mu,
        model.tau,
        model.m,
        1.0 / model.beta
    ))?;
    out.line(format_args!("equilibria at λ = {}:", model.lambda))?;
    for e in model.equilibria(model.lambda) {
        out.line(format_args!(
            "  q = {:.2}, r = {:.3}: {:?}",
            e.q, e.r, e.stability
        ))?;
    }
    match model.bistable_loads() {
        Some((low, high)) => out.line(format_args!(
            "bistable (a good point and a saddle) for λ from {low:.1} to {high:.1} requests/s"
        ))?,
        None => out.line("never bistable: no trigger can tip it")?,
    }
    out.line(format_args!("verdict: {}", model.verdict()))
}

/// The rows as CSV, written row by row: exactly [`sim_core::to_csv`], without a second copy
/// of every row in memory (a run may store a million rows).
fn write_csv(sim: &Sim, out: &mut Stdout) -> Result<()> {
    use std::fmt::Write as _;
    out.line(sim.columns().join(","))?;
    let mut line = String::new();
    for row in sim.rows() {
        line.clear();
        for (i, value) in row.values().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if let Some(v) = value {
                let _ = write!(line, "{v}");
            }
        }
        out.line(&line)?;
    }
    Ok(())
}

/// `--format json`: one object, its keys in order (`columns`, `explanation`, `name`, `rows`,
/// `seed`, `summary`, `verdict`), written row by row rather than built as one value (a JSON
/// value per cell would take several times the rows' own memory).
fn write_json(sim: &Sim, out: &mut Stdout) -> Result<()> {
    let report = sim.report();
    let head = format!(
        "{{\"columns\":{},\"explanation\":{},\"name\":{},\"rows\":[",
        serde_json::to_string(sim.columns())?,
        serde_json::to_string(&report.explanation)?,
        serde_json::to_string(&sim.scenario().name)?,
    );
    out.bytes(head.as_bytes())?;
    let mut values: Vec<Value> = Vec::new();
    for (i, row) in sim.rows().iter().enumerate() {
        if i > 0 {
            out.bytes(b",")?;
        }
        values.clear();
        values.extend(row.values().map(|v| v.map_or(Value::Null, Value::from)));
        out.bytes(serde_json::to_string(&values)?.as_bytes())?;
    }
    out.line(format_args!(
        "],\"seed\":{},\"summary\":{},\"verdict\":{}}}",
        sim.scenario().seed,
        // Through a `Value`, whose keys are sorted, as they always were here.
        serde_json::to_value(sim.summary())?,
        serde_json::to_string(&report.verdict)?,
    ))
}
