//! `metastable fix`: every mitigation of the core's catalogue that applies to a scenario, run
//! over k seeds beside the scenario as given, and ranked (SPEC §9, `sim_core::fix`).
//!
//! The runs (fixes × seeds, the original's first) go through [`crate::pool`] on every core
//! with the state budget shared as `sweep` shares it ([`crate::grid::Budgets`]); the table is
//! printed once all are done, in rank order. `--emit NAME` prints one fix's scenario instead.

use crate::grid::{check_runs, plural, progress, Budgets};
use crate::input::{load, preflight, Edits};
use crate::output::{escape, note, Stdout};
use crate::pool::{run_in_order, Job};
use crate::replicas::interval_text;
use crate::LimitArgs;
use anyhow::{anyhow, bail, Result};
use clap::ValueEnum;
use sim_core::fix::{self, Candidate, Ranked, CSV_HEADER, ORIGINAL};
use sim_core::replicate::{Aggregate, Replica};
use sim_core::sweep::MAX_SEEDS;
use sim_core::{Scenario, Sim};
use std::sync::Arc;
use std::time::Instant;

/// How `fix` prints its ranking.
#[derive(Clone, Copy, ValueEnum)]
pub enum FixFormat {
    /// A table for people.
    Table,
    /// One CSV row per fix, in rank order.
    Csv,
    /// One JSON object: the scenario's name, the seeds and the ranked rows.
    Json,
}

/// The arguments of `metastable fix`.
pub struct FixArgs<'a> {
    pub source: &'a str,
    pub edits: &'a Edits,
    pub seeds: u32,
    pub emit: Option<&'a str>,
    pub format: FixFormat,
    pub limits: &'a LimitArgs,
    pub max_runs: Option<u64>,
}

/// One row to run: the original or a fix.
struct Subject {
    name: String,
    title: String,
    changes: String,
    scenario: Scenario,
}

/// `metastable fix`.
pub fn fix(args: FixArgs, out: &mut Stdout) -> Result<()> {
    let budgets = Arc::new(Budgets::of(args.limits));
    let scenario = load(args.source, args.edits, &args.limits.limits())?;
    let candidates = fix::applicable(&scenario);
    if let Some(name) = args.emit {
        let candidate = find(&candidates, name)?;
        let fixed = candidate.scenario().map_err(|e| anyhow!("{e}"))?;
        return out.line(fixed.to_json_pretty());
    }
    let seeds = args.seeds;
    if seeds == 0 || seeds > MAX_SEEDS {
        bail!("--seeds must be 1 to {MAX_SEEDS} (got {seeds})");
    }
    let mut subjects = vec![Subject {
        name: ORIGINAL.into(),
        title: "the scenario as given".into(),
        changes: String::new(),
        scenario: scenario.clone(),
    }];
    for candidate in &candidates {
        // A fix that cannot run here (a hostile scenario pushed past a limit by it) is left
        // out with the reason; the others still run.
        let fixed = candidate
            .scenario()
            .map_err(|e| anyhow!("{e}"))
            .and_then(|s| {
                preflight(&format!("the fix {}", candidate.name), &s, &budgets.per_run)?;
                Ok(s)
            });
        match fixed {
            Ok(fixed) => subjects.push(Subject {
                name: candidate.name.into(),
                title: candidate.title.into(),
                changes: candidate.words(),
                scenario: fixed,
            }),
            Err(e) => note!("left out: {e:#}"),
        }
    }
    let runs = subjects.len() as u64 * u64::from(seeds);
    check_runs(runs, args.max_runs, || {
        format!(
            "{} fixes and the original × {seeds} seed{}",
            subjects.len() - 1,
            plural(seeds)
        )
    })?;
    preflight("the scenario", &scenario, &budgets.per_run)?;

    let subjects = Arc::new(subjects);
    let bar = progress(runs, "runs");
    let started = Instant::now();
    let job: Job<Replica> = {
        let (subjects, budgets, bar) = (subjects.clone(), budgets.clone(), bar.clone());
        Arc::new(move |j| {
            let (r, s) = (j / seeds as usize, (j % seeds as usize) as u64);
            let subject = &subjects[r];
            let mut run = subject.scenario.clone();
            // Seeds s, s + 1, …, s + k − 1 for every row: the same draws for every fix.
            run.seed = subject.scenario.seed.wrapping_add(s);
            let mut sim = Sim::with_limits(&run, budgets.per_run)
                .map_err(|e| anyhow!("{}: {e}", subject.name))?;
            sim.run();
            bar.inc(1);
            if let Some(stopped) = sim.stopped() {
                bail!(
                    "{}, seed {}: {stopped}{}",
                    subject.name,
                    run.seed,
                    budgets.why(stopped)
                );
            }
            Ok(Replica::of(&sim))
        })
    };
    let mut replicas: Vec<Vec<Replica>> = vec![Vec::with_capacity(seeds as usize); subjects.len()];
    let threads = budgets.threads;
    let result = run_in_order(
        runs as usize,
        threads,
        4 * threads + 16,
        job,
        |j, replica| {
            replicas[j / seeds as usize].push(replica);
            Ok(())
        },
    );
    bar.finish_and_clear();
    result?;
    let wall_s = started.elapsed().as_secs_f64();

    let aggregates: Vec<Aggregate> = replicas.iter().map(|r| Aggregate::of(r)).collect();
    let order = fix::rank(&aggregates.iter().collect::<Vec<_>>());
    let ranked: Vec<Ranked> = order
        .iter()
        .enumerate()
        .map(|(place, &i)| Ranked {
            rank: place + 1,
            name: subjects[i].name.clone(),
            title: subjects[i].title.clone(),
            changes: subjects[i].changes.clone(),
            aggregate: aggregates[i].clone(),
        })
        .collect();
    let first = scenario.seed;
    let last = first.wrapping_add(u64::from(seeds - 1));
    match args.format {
        FixFormat::Table => table(&scenario, first, last, &ranked, out)?,
        FixFormat::Csv => {
            out.line(CSV_HEADER)?;
            for row in &ranked {
                out.line(row.csv_row())?;
            }
        }
        FixFormat::Json => {
            let seeds: Vec<u64> = (0..u64::from(seeds))
                .map(|s| first.wrapping_add(s))
                .collect();
            let report = serde_json::json!({
                "name": scenario.name,
                "seeds": seeds,
                "ranking": ranked,
            });
            out.line(serde_json::to_string_pretty(&report)?)?;
        }
    }
    out.flush()?;
    note!(
        "{} fixes and the original × {seeds} seed{} = {runs} runs in {wall_s:.2} s on {threads} threads ({})",
        subjects.len() - 1,
        plural(seeds),
        budgets.per_run_text()
    );
    Ok(())
}

/// The applicable fix named `name`, or an error listing those that apply.
fn find<'a>(candidates: &'a [Candidate], name: &str) -> Result<&'a Candidate> {
    if let Some(c) = candidates.iter().find(|c| c.name == name) {
        return Ok(c);
    }
    let names: Vec<&str> = candidates.iter().map(|c| c.name).collect();
    let offered = if names.is_empty() {
        "no fix applies to this scenario".to_string()
    } else {
        format!("the fixes that apply: {}", names.join(", "))
    };
    match fix::entry(name) {
        Some(entry) => bail!(
            "--emit {name}: the fix {name} does not apply to this scenario (it acts on {} and must change something); {offered}",
            entry.applies.describe()
        ),
        None => bail!(
            "--emit {}: no fix has that name; {offered}",
            escape(name)
        ),
    }
}

/// The ranking as a table, best first.
fn table(
    scenario: &Scenario,
    first: u64,
    last: u64,
    ranked: &[Ranked],
    out: &mut Stdout,
) -> Result<()> {
    let seeds = ranked.first().map_or(0, |r| r.aggregate.seeds);
    let seed_text = if first == last {
        format!("seed {first}")
    } else {
        format!("seeds {first}–{last}")
    };
    out.line(format_args!(
        "{}: {} fixes and the original, {seed_text}, ranked by share recovered, goodput after (to 5% of before), recovery time, p99, wasted work",
        escape(if scenario.name.is_empty() { "the scenario" } else { &scenario.name }),
        ranked.len().saturating_sub(1),
    ))?;
    let header = [
        "#",
        "fix",
        "recovered",
        "goodput after /s",
        "recovery s",
        "p99 s",
        "wasted %",
        "changes",
    ];
    let rows: Vec<[String; 8]> = ranked
        .iter()
        .map(|r| {
            let a = &r.aggregate;
            let recovery = match a.recovery_s {
                Some(i) if i.n < seeds => format!("{} ({} of {seeds})", i.words(1.0), i.n),
                Some(i) => i.words(1.0),
                None => "never".into(),
            };
            [
                r.rank.to_string(),
                r.name.clone(),
                format!("{}/{}", a.recovered, a.seeds),
                interval_text(a.goodput_after.as_ref(), 1.0),
                recovery,
                interval_text(a.latency_p99_s.as_ref(), 1.0),
                a.wasted
                    .map_or("—".into(), |i| format!("{}%", i.words(100.0))),
                if r.name == ORIGINAL {
                    "(the scenario as given)".into()
                } else {
                    escape(&r.changes).into_owned()
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text
    };
    out.line(line(&header))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.line(line(&cells))?;
    }
    Ok(())
}
