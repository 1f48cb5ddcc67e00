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
use crate::shard;
use crate::LimitArgs;
use anyhow::{anyhow, bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use sim_core::fix::{self, Candidate, Ranked, CSV_HEADER, ORIGINAL};
use sim_core::replicate::{Aggregate, Replica};
use sim_core::sweep::{Shard, MAX_SEEDS};
use sim_core::{Scenario, Sim};
use std::sync::Arc;
use std::time::Instant;

/// How `fix` prints its ranking.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    pub shard: Option<Shard>,
}

/// One row to run: the original or a fix.
struct Subject {
    name: String,
    title: String,
    changes: String,
    scenario: Scenario,
}

/// A row of the ranking as a shard carries it: what the ranking prints besides the figures.
#[derive(Serialize, Deserialize)]
struct Named {
    name: String,
    title: String,
    changes: String,
}

/// What a shard of `fix` carries besides its runs.
#[derive(Serialize, Deserialize)]
struct FixContext {
    format: FixFormat,
    /// The scenario's name.
    name: String,
    /// The first seed.
    seed: u64,
    /// The original, then the fixes that ran, in the catalogue's order.
    subjects: Vec<Named>,
}

/// `metastable fix`.
pub fn fix(args: FixArgs, out: &mut Stdout) -> Result<()> {
    let budgets = Arc::new(Budgets::of(args.limits));
    let scenario = load(args.source, args.edits, &args.limits.limits())?;
    let candidates = fix::applicable(&scenario);
    if let Some(name) = args.emit {
        if let Some(shard) = args.shard {
            bail!("--emit prints one fix's scenario, and --shard {shard} computes a part of the ranking's runs: give one of them");
        }
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
    // The runs to make, subject by subject: all of them, or the shard's.
    let context = serde_json::to_value(FixContext {
        format: args.format,
        name: scenario.name.clone(),
        seed: scenario.seed,
        subjects: subjects
            .iter()
            .map(|s| Named {
                name: s.name.clone(),
                title: s.title.clone(),
                changes: s.changes.clone(),
            })
            .collect(),
    })?;
    let names: Vec<&str> = subjects.iter().map(|s| s.name.as_str()).collect();
    let fingerprint = format!(
        "{}\nseeds {seeds}\nformat {}\nsubjects {}\n",
        serde_json::to_string(&scenario)?,
        serde_json::to_string(&args.format)?,
        names.join(" ")
    );
    let units = args.shard.map(|shard| shard::Units {
        kind: shard::Kind::Fix,
        shard,
        seeds,
        subjects: Some(subjects.len()),
        fingerprint: &fingerprint,
        context: &context,
    });
    let chosen: Vec<(usize, usize)> = (0..subjects.len())
        .flat_map(|r| (0..seeds as usize).map(move |s| (r, s)))
        .filter(|&(r, s)| units.as_ref().is_none_or(|u| u.owns(s, r)))
        .collect();
    let runs = chosen.len() as u64;
    check_runs(runs, args.max_runs, || {
        format!(
            "{}{} fixes and the original × {seeds} seed{}",
            args.shard
                .map_or(String::new(), |s| format!("shard {s} has {runs} runs of ")),
            subjects.len() - 1,
            plural(seeds)
        )
    })?;
    preflight("the scenario", &scenario, &budgets.per_run)?;

    let subjects = Arc::new(subjects);
    let chosen = Arc::new(chosen);
    let bar = progress(runs, "runs");
    let started = Instant::now();
    let job: Job<Replica> = {
        let (subjects, budgets, bar) = (subjects.clone(), budgets.clone(), bar.clone());
        let chosen = chosen.clone();
        Arc::new(move |j| {
            let (r, s) = chosen[j];
            let s = s as u64;
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
    let mut rows = String::new();
    let threads = budgets.threads;
    let result = run_in_order(
        runs as usize,
        threads,
        4 * threads + 16,
        job,
        |j, replica| {
            let (r, s) = chosen[j];
            match &units {
                Some(units) => {
                    rows.push_str(&shard::unit_row(units.index(s, r), &replica, || {
                        format!("{}, seed {}", subjects[r].name, replica.seed)
                    })?);
                    rows.push('\n');
                }
                None => replicas[r].push(replica),
            }
            Ok(())
        },
    );
    bar.finish_and_clear();
    result?;
    let wall_s = started.elapsed().as_secs_f64();
    if let Some(units) = &units {
        out.line(units.head()?)?;
        out.bytes(rows.as_bytes())?;
        out.flush()?;
        note!(
            "shard {}: {runs} of the {} runs in {wall_s:.2} s on {threads} threads ({})",
            units.shard,
            subjects.len() * seeds as usize,
            budgets.per_run_text()
        );
        return Ok(());
    }

    let named: Vec<Named> = subjects
        .iter()
        .map(|s| Named {
            name: s.name.clone(),
            title: s.title.clone(),
            changes: s.changes.clone(),
        })
        .collect();
    print_ranking(
        &scenario.name,
        scenario.seed,
        seeds,
        &named,
        &replicas,
        args.format,
        out,
    )?;
    note!(
        "{} fixes and the original × {seeds} seed{} = {runs} runs in {wall_s:.2} s on {threads} threads ({})",
        subjects.len() - 1,
        plural(seeds),
        budgets.per_run_text()
    );
    Ok(())
}

/// The ranking of the subjects' runs, printed in `format`.
fn print_ranking(
    name: &str,
    first: u64,
    seeds: u32,
    subjects: &[Named],
    replicas: &[Vec<Replica>],
    format: FixFormat,
    out: &mut Stdout,
) -> Result<()> {
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
    let last = first.wrapping_add(u64::from(seeds - 1));
    match format {
        FixFormat::Table => table(name, first, last, &ranked, out)?,
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
                "name": name,
                "seeds": seeds,
                "ranking": ranked,
            });
            out.line(serde_json::to_string_pretty(&report)?)?;
        }
    }
    out.flush()
}

/// `metastable merge` of `fix` shards: the ranking the whole command prints.
pub fn merge(merged: &shard::Merged, out: &mut Stdout) -> Result<()> {
    let context: FixContext = merged.context()?;
    let seeds = merged.seeds;
    if merged.units.len() != context.subjects.len() * seeds as usize {
        bail!(
            "the shards have {} runs where {} fixes and the original × {seeds} seeds make {}: they were altered",
            merged.units.len(),
            context.subjects.len().saturating_sub(1),
            context.subjects.len() * seeds as usize
        );
    }
    let mut replicas: Vec<Vec<Replica>> = Vec::with_capacity(context.subjects.len());
    for (j, unit) in merged.units.iter().enumerate() {
        let replica: Replica = unit.parse()?;
        let expected = context.seed.wrapping_add((j % seeds as usize) as u64);
        if replica.seed != expected {
            return Err(unit.error(format_args!(
                "seed {} where seed {expected} was expected: the shard was altered",
                replica.seed
            )));
        }
        if j % seeds as usize == 0 {
            replicas.push(Vec::with_capacity(seeds as usize));
        }
        if let Some(last) = replicas.last_mut() {
            last.push(replica);
        }
    }
    print_ranking(
        &context.name,
        context.seed,
        seeds,
        &context.subjects,
        &replicas,
        context.format,
        out,
    )
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
fn table(name: &str, first: u64, last: u64, ranked: &[Ranked], out: &mut Stdout) -> Result<()> {
    let seeds = ranked.first().map_or(0, |r| r.aggregate.seeds);
    let seed_text = if first == last {
        format!("seed {first}")
    } else {
        format!("seeds {first}–{last}")
    };
    out.line(format_args!(
        "{}: {} fixes and the original, {seed_text}, ranked by share recovered, goodput after (to 5% of before), recovery time, p99, wasted work",
        escape(if name.is_empty() { "the scenario" } else { name }),
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
