//! `metastable run --seeds k` and `metastable compare`: one scenario (or two) over k seeds,
//! and what the seeds say together (SPEC §9, [`sim_core::replicate`]).
//!
//! The seeds run in parallel like a sweep's points ([`crate::pool`]), sharing the state
//! budget among the threads ([`Budgets`]); each seed's global rows are kept for the bands
//! (the per-bucket mean and quantiles), which the state budget also covers.

use crate::grid::{progress, Budgets};
use crate::input::preflight;
use crate::output::{note, Stdout};
use crate::pool::{run_in_order, Job};
use crate::shard;
use crate::LimitArgs;
use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sim_core::replicate::{
    compare, mean_interval, share_difference, short as figure, Aggregate, Bands, Interval, Replica,
    FIGURES,
};
use sim_core::sweep::Shard;
use sim_core::{Row, Scenario, Sim, GLOBAL_COLUMNS};
use std::sync::Arc;
use std::time::Instant;

/// The runs of one scenario's seeds s, s + 1, …, s + k − 1.
pub struct Seeded {
    pub scenario: Scenario,
    pub replicas: Vec<Replica>,
    /// Each seed's rows, global columns only.
    pub rows: Vec<Vec<Row>>,
}

impl Seeded {
    pub fn aggregate(&self) -> Aggregate {
        Aggregate::of(&self.replicas)
    }

    pub fn bands(&self) -> Bands {
        let runs: Vec<&[Row]> = self.rows.iter().map(Vec::as_slice).collect();
        Bands::of(&runs)
    }
}

/// Runs `scenario` with `seeds` seeds on every core. `label` names it in messages.
pub fn run_seeds(
    label: &str,
    scenario: &Scenario,
    seeds: u32,
    limits: &LimitArgs,
) -> Result<Seeded> {
    let all: Vec<u32> = (0..seeds).collect();
    run_seed_indices(label, scenario, &all, limits)
}

/// Runs `scenario` with the seeds s + i for each i of `indices` (in that order) on every core.
fn run_seed_indices(
    label: &str,
    scenario: &Scenario,
    indices: &[u32],
    limits: &LimitArgs,
) -> Result<Seeded> {
    let seeds = indices.len() as u32;
    let budgets = Arc::new(Budgets::of(limits));
    preflight(label, scenario, &budgets.per_run)?;
    // The kept rows: one `Row` per bucket per seed (their per-block cells dropped).
    let buckets = (scenario.duration_s / scenario.bucket_s).ceil().max(1.0);
    let kept = f64::from(seeds) * buckets * std::mem::size_of::<Row>() as f64;
    let budget = limits.limits().max_state_bytes as f64;
    if kept > budget / 2.0 {
        bail!(
            "{label}: {seeds} seeds × {buckets} buckets of rows would take {:.0} MiB, more than half the state budget ({:.0} MiB): use fewer seeds, a larger bucket_s, or a larger --max-state-mib",
            kept / f64::from(1 << 20),
            budget / f64::from(1 << 20)
        );
    }
    let base = Arc::new(scenario.clone());
    let bar = progress(u64::from(seeds), "seeds");
    let indices: Arc<Vec<u32>> = Arc::new(indices.to_vec());
    let job: Job<(Replica, Vec<Row>)> = {
        let (base, budgets, bar) = (base.clone(), budgets.clone(), bar.clone());
        let (label, indices) = (label.to_string(), indices.clone());
        Arc::new(move |i| {
            let mut scenario = (*base).clone();
            scenario.seed = base.seed.wrapping_add(u64::from(indices[i]));
            let mut sim = Sim::with_limits(&scenario, budgets.per_run)
                .map_err(|e| anyhow!("{label}: {e}"))?;
            let started = Instant::now();
            sim.run();
            let wall_s = started.elapsed().as_secs_f64();
            bar.inc(1);
            if let Some(stopped) = sim.stopped() {
                bail!(
                    "{label}, seed {}: {stopped}{}",
                    scenario.seed,
                    budgets.why(stopped)
                );
            }
            let mut replica = Replica::of(&sim);
            replica.summary.wall_s = Some(wall_s);
            let rows = sim
                .rows()
                .iter()
                .map(|row| Row {
                    blocks: Vec::new(),
                    ..row.clone()
                })
                .collect();
            Ok((replica, rows))
        })
    };
    let mut replicas = Vec::with_capacity(seeds as usize);
    let mut rows = Vec::with_capacity(seeds as usize);
    let threads = budgets.threads;
    let result = run_in_order(seeds as usize, threads, 4 * threads, job, |_, (r, kept)| {
        replicas.push(r);
        rows.push(kept);
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    Ok(Seeded {
        scenario: scenario.clone(),
        replicas,
        rows,
    })
}

/// "12.3 ± 0.41", or "12.3" for one value; "—" for none.
pub fn interval_text(interval: Option<&Interval>, scale: f64) -> String {
    interval.map_or_else(|| "—".into(), |i| i.words(scale))
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// The headline figures of an aggregate, in words, one per line.
pub fn aggregate_lines(aggregate: &Aggregate) -> Vec<String> {
    let verdicts: Vec<String> = aggregate
        .verdicts
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    let recovered = aggregate.recovery_s.as_ref().map_or(0, |i| i.n);
    let recovery = if recovered == 0 {
        "recovery: in no seed did goodput come back".to_string()
    } else {
        format!(
            "recovery: {} s (over the {recovered} seed{} whose goodput came back)",
            interval_text(aggregate.recovery_s.as_ref(), 1.0),
            if recovered == 1 { "" } else { "s" }
        )
    };
    vec![
        if verdicts.len() > 1 {
            format!("{} ({})", aggregate.sentence(), verdicts.join(", "))
        } else {
            aggregate.sentence()
        },
        format!(
            "goodput after: {} requests/s",
            interval_text(aggregate.goodput_after.as_ref(), 1.0)
        ),
        recovery,
        format!(
            "latency p99: {} s",
            interval_text(aggregate.latency_p99_s.as_ref(), 1.0)
        ),
        format!(
            "amplification: {} attempts per request",
            interval_text(aggregate.amplification.as_ref(), 1.0)
        ),
        format!(
            "wasted work: {} % of server work",
            interval_text(aggregate.wasted.as_ref(), 100.0)
        ),
        "(± is the half-width of a 95% t-interval over the seeds)".into(),
    ]
}

/// `run --seeds k`'s per-seed line.
fn seed_line(replica: &Replica) -> String {
    let s = &replica.summary;
    let opt = |v: Option<f64>| v.map_or("—".to_string(), figure);
    format!(
        "seed {}: {} · goodput after {} /s · recovery {} s · p99 {} s",
        replica.seed,
        s.verdict,
        opt(s.goodput_after),
        opt(s.recovery_s),
        opt(s.latency_p99_s)
    )
}

/// What `run --seeds k` prints on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunForm {
    /// `--summary`: the seeds' summaries and their aggregate, as JSON.
    Summary,
    /// The bands as CSV (the default).
    Csv,
    /// `--format json`: the bands, the seeds and the aggregate as one JSON object.
    Json,
}

/// What `run --seeds k` prints: `--summary` the per-seed summaries and the aggregate (JSON);
/// otherwise the bands as CSV (or JSON), with the per-seed lines and the aggregate in words
/// on standard error.
pub fn print_run(seeded: &Seeded, form: RunForm, out: &mut Stdout) -> Result<()> {
    print_seeds(
        &seeded.scenario.name,
        &seeded.replicas,
        &seeded.rows,
        form,
        out,
    )
}

/// [`print_run`] from the seeds' figures and rows (`rows` unused for the summary).
fn print_seeds(
    name: &str,
    replicas: &[Replica],
    rows: &[Vec<Row>],
    form: RunForm,
    out: &mut Stdout,
) -> Result<()> {
    let aggregate = Aggregate::of(replicas);
    /// The order of the keys as written (a `json!` object would sort them).
    #[derive(serde::Serialize)]
    struct Output<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        aggregate: &'a Aggregate,
        seeds: &'a [Replica],
        #[serde(skip_serializing_if = "Option::is_none")]
        columns: Option<&'a [&'a str]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bands: Option<&'a Bands>,
    }
    if form == RunForm::Summary {
        out.line(serde_json::to_string_pretty(&Output {
            name: None,
            aggregate: &aggregate,
            seeds: replicas,
            columns: None,
            bands: None,
        })?)?;
        return Ok(());
    }
    let runs: Vec<&[Row]> = rows.iter().map(Vec::as_slice).collect();
    let bands = Bands::of(&runs);
    if form == RunForm::Json {
        out.line(serde_json::to_string(&Output {
            name: Some(name),
            aggregate: &aggregate,
            seeds: replicas,
            columns: Some(&GLOBAL_COLUMNS[1..]),
            bands: Some(&bands),
        })?)?;
    } else {
        out.bytes(bands.global_csv().as_bytes())?;
    }
    out.flush()?;
    for replica in replicas {
        note!("{}", seed_line(replica));
    }
    for line in aggregate_lines(&aggregate) {
        note!("{line}");
    }
    Ok(())
}

/// What a shard of `run --seeds` carries besides its seeds.
#[derive(Serialize, Deserialize)]
struct RunContext {
    form: RunForm,
    /// The scenario's name (the JSON output's `name`).
    name: String,
}

/// One seed of a `run --seeds` shard: its figures (`wall_s` as measured in its shard) and,
/// unless the output is the summary, its global rows (the columns of [`GLOBAL_COLUMNS`];
/// `null` for no value, or a value that is not a finite number, which the bands leave out).
#[derive(PartialEq, Serialize, Deserialize)]
struct SeedUnit {
    replica: Replica,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<Vec<Vec<Option<f64>>>>,
}

/// `run --seeds k --shard I/N`: the shard's seeds (every Nth, from the (I − 1)th), each
/// written as a unit for `metastable merge` ([`crate::shard`]).
pub fn run_shard(
    scenario: &Scenario,
    seeds: u32,
    form: RunForm,
    shard: Shard,
    limits: &LimitArgs,
    out: &mut Stdout,
) -> Result<()> {
    let context = serde_json::to_value(RunContext {
        form,
        name: scenario.name.clone(),
    })?;
    let fingerprint = format!(
        "{}\nseeds {seeds}\nform {}\n",
        serde_json::to_string(scenario)?,
        serde_json::to_string(&form)?
    );
    let units = shard::Units {
        kind: shard::Kind::Run,
        shard,
        seeds,
        subjects: None,
        fingerprint: &fingerprint,
        context: &context,
    };
    let indices: Vec<u32> = (0..seeds).filter(|&i| units.owns(i as usize, 0)).collect();
    let started = Instant::now();
    let seeded = run_seed_indices("the scenario", scenario, &indices, limits)?;
    let mut text = units.head()?;
    text.push('\n');
    for ((i, replica), rows) in indices.iter().zip(seeded.replicas).zip(seeded.rows) {
        let unit = SeedUnit {
            replica,
            rows: (form != RunForm::Summary).then(|| {
                rows.iter()
                    .map(|row| row.values().map(|v| v.filter(|v| v.is_finite())).collect())
                    .collect()
            }),
        };
        text.push_str(&shard::unit_row(*i as usize, &unit, || {
            format!("seed {}", unit.replica.seed)
        })?);
        text.push('\n');
    }
    out.bytes(text.as_bytes())?;
    out.flush()?;
    note!(
        "shard {shard}: {} of {seeds} seeds in {:.2} s",
        indices.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A row of the global columns back from a shard's cells (a missing value of a column that
/// always has one is not a number, which the bands leave out, as they left out the original).
fn row_of(cells: &[Option<f64>]) -> Row {
    let at = |i: usize| cells[i].unwrap_or(f64::NAN);
    Row {
        t: at(0),
        offered: at(1),
        goodput: at(2),
        throughput: at(3),
        attempts: at(4),
        retries: at(5),
        timeouts: at(6),
        errors: at(7),
        rejected: at(8),
        latency_p50: cells[9],
        latency_p99: cells[10],
        latency_mean: cells[11],
        in_flight: at(12),
        queue: at(13),
        useful: at(14),
        blocks: Vec::new(),
        ended_late: 0.0,
        failed_timeout: 0.0,
        failed_error: 0.0,
        failed_rejected: 0.0,
    }
}

/// `metastable merge` of `run --seeds` shards: what the whole command prints.
pub fn merge(merged: &shard::Merged, out: &mut Stdout) -> Result<()> {
    let context: RunContext = merged.context()?;
    let mut replicas = Vec::with_capacity(merged.units.len());
    let mut rows = Vec::with_capacity(merged.units.len());
    for (i, unit) in merged.units.iter().enumerate() {
        let seed: SeedUnit = unit.parse()?;
        if let Some(first) = replicas.first().map(|r: &Replica| r.seed) {
            let expected = first.wrapping_add(i as u64);
            if seed.replica.seed != expected {
                return Err(unit.error(format_args!(
                    "seed {} where seed {expected} was expected: the shard was altered",
                    seed.replica.seed
                )));
            }
        }
        if context.form != RunForm::Summary {
            let cells = seed
                .rows
                .ok_or_else(|| unit.error("no rows: the shard was altered"))?;
            if cells.iter().any(|c| c.len() != GLOBAL_COLUMNS.len()) {
                return Err(unit.error(format_args!(
                    "a row without its {} cells: the shard was altered",
                    GLOBAL_COLUMNS.len()
                )));
            }
            rows.push(cells.iter().map(|c| row_of(c)).collect());
        }
        replicas.push(seed.replica);
    }
    print_seeds(&context.name, &replicas, &rows, context.form, out)
}

/// "+1.23 (0.52 to 1.94)" for a difference with its interval, "—" for none.
fn difference_text(d: Option<&Interval>, scale: f64) -> String {
    d.map_or_else(|| "—".into(), |i| i.difference_words(scale))
}

/// The output formats of `compare`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CompareFormat {
    /// The two summaries side by side with the differences, for a person.
    Table,
    /// Per bucket, each global column's mean in A, in B, and B − A.
    Csv,
    /// Both aggregates, their seeds and the differences with their intervals.
    Json,
}

/// `metastable compare`'s output.
pub fn print_compare(
    a: &Seeded,
    b: &Seeded,
    format: CompareFormat,
    out: &mut Stdout,
) -> Result<()> {
    let (agg_a, agg_b) = (a.aggregate(), b.aggregate());
    let share = share_difference(agg_a.metastable, agg_a.seeds, agg_b.metastable, agg_b.seeds);
    match format {
        CompareFormat::Table => {
            let name = |s: &Seeded| crate::output::escape(&s.scenario.name).into_owned();
            let head = [
                "".to_string(),
                format!("A: {}", name(a)),
                format!("B: {}", name(b)),
                "B − A (95% CI)".to_string(),
            ];
            let mut rows: Vec<Vec<String>> = vec![head.to_vec()];
            let meta = |agg: &Aggregate| {
                let (l, h) = agg.metastable_interval;
                format!(
                    "{} of {} ({}–{})",
                    agg.metastable,
                    agg.seeds,
                    percent(l),
                    percent(h)
                )
            };
            rows.push(vec![
                "metastable".into(),
                meta(&agg_a),
                meta(&agg_b),
                share.map_or("—".into(), |(d, l, h)| {
                    let d = if d == 0.0 {
                        "0%".to_string()
                    } else {
                        format!("{:+.0}%", 100.0 * d)
                    };
                    format!("{d} ({} to {})", percent(l), percent(h))
                }),
            ]);
            for c in &FIGURES {
                let of = |s: &Seeded| {
                    let v: Vec<f64> = s.replicas.iter().filter_map(c.get).collect();
                    interval_text(mean_interval(&v).as_ref(), c.scale)
                };
                rows.push(vec![
                    format!("{} ({})", c.name, c.unit),
                    of(a),
                    of(b),
                    difference_text(compare(&a.replicas, &b.replicas, c.get).as_ref(), c.scale),
                ]);
            }
            let widths: Vec<usize> = (0..4)
                .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                .collect();
            for row in &rows {
                let mut line = String::new();
                for (i, cell) in row.iter().enumerate() {
                    line.push_str(cell);
                    if i < 3 {
                        let pad = widths[i] - cell.chars().count() + 2;
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
                out.line(line.trim_end())?;
            }
            out.line(format_args!(
                "({} seed{} each, from seed {} in A and {} in B. ± and the intervals are 95%: t-intervals; differences paired by seed when both start from the same seed, else Welch's; Wilson's and Newcombe's for the shares)",
                agg_a.seeds.max(agg_b.seeds),
                if agg_a.seeds == 1 { "" } else { "s" },
                a.scenario.seed,
                b.scenario.seed
            ))?;
        }
        CompareFormat::Csv => {
            use std::fmt::Write as _;
            let (ba, bb) = (a.bands(), b.bands());
            let mut text = String::from("t");
            for name in &GLOBAL_COLUMNS[1..] {
                let _ = write!(text, ",{name}_a,{name}_b,{name}_diff");
            }
            text.push('\n');
            let buckets = ba.t.len().min(bb.t.len());
            for i in 0..buckets {
                let _ = write!(text, "{}", ba.t[i]);
                for (ca, cb) in ba.columns.iter().zip(&bb.columns) {
                    let (x, y) = (ca.mean[i], cb.mean[i]);
                    for cell in [x, y, x.zip(y).map(|(x, y)| y - x)] {
                        text.push(',');
                        if let Some(v) = cell {
                            let _ = write!(text, "{v}");
                        }
                    }
                }
                text.push('\n');
            }
            out.bytes(text.as_bytes())?;
        }
        CompareFormat::Json => {
            let mut differences = serde_json::Map::new();
            differences.insert(
                "metastable_share".into(),
                share.map_or(
                    Value::Null,
                    |(d, l, h)| json!({"mean": d, "low": l, "high": h}),
                ),
            );
            let key = |name: &str| name.replace(' ', "_");
            for c in &FIGURES {
                let d = compare(&a.replicas, &b.replicas, c.get);
                differences.insert(
                    key(c.name),
                    d.map_or(Value::Null, |i| {
                        let (l, h) = i.ends();
                        json!({"mean": i.mean, "low": l, "high": h, "n": i.n})
                    }),
                );
            }
            out.line(serde_json::to_string_pretty(&json!({
                "a": {"name": a.scenario.name, "aggregate": agg_a, "seeds": a.replicas},
                "b": {"name": b.scenario.name, "aggregate": agg_b, "seeds": b.replicas},
                "difference": differences,
            }))?)?;
        }
    }
    Ok(())
}
