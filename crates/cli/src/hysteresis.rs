//! `metastable hysteresis`: a client's load up a staircase and back down, per step goodput and
//! backlog both ways, the tipping and recovery loads and the band between them, beside the
//! fluid model's bistable loads (SPEC §9, [`sim_core::hysteresis`], `docs/hysteresis.md`).
//!
//! The seeds run in parallel like a sweep's points ([`crate::pool`]), sharing the state budget
//! among the threads ([`Budgets`]). Standard output gets one CSV row per step, in time order;
//! standard error the tipping load, the recovery load, the band and the fluid model's band.

use crate::grid::{progress, Budgets};
use crate::input::{load_doc, preflight, validate, Edits};
use crate::output::{escape, note, write_file, Stdout};
use crate::pool::{run_in_order, Job};
use crate::shard;
use crate::LimitArgs;
use anyhow::{anyhow, bail, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::hysteresis::{
    csv_row, Band, Direction, Edges, Experiment, Hysteresis, Level, LoadField, Measure, COLLAPSE,
    CSV_HEADER, DEFAULT_HOLD_S, SETTLE,
};
use sim_core::sweep::{number_text, Shard};
use sim_core::Sim;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The arguments of `metastable hysteresis`.
#[derive(clap::Args)]
pub struct Args {
    /// A scenario file, `-` for standard input, a share link, or a preset name.
    scenario: String,
    #[command(flatten)]
    edits: Edits,
    /// The load: a client's `rate` (open loop, requests/s) or `think_s` (closed loop) and the
    /// absolute values it takes, N evenly spaced from LO to HI (e.g. `users.rate=20..110:10`).
    /// The staircase climbs through the N loads and comes back down: 2N − 1 steps.
    #[arg(long, value_name = "PATH=LO..HI:N")]
    load: String,
    /// How long each step lasts, in seconds; its latter half is measured.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_HOLD_S, allow_negative_numbers = true)]
    hold_s: f64,
    /// Seeds: the scenario's seed s, then s + 1, … s + k − 1. A step counts as collapsed when
    /// at least half of them collapse there, and as back when more than half are back.
    #[arg(long, default_value_t = 1)]
    seeds: u32,
    /// Also draw goodput against the load, up and down, with the band and the fluid model's
    /// bistable loads, to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Run only shard I of N of the seeds (1 ≤ I ≤ N), for `metastable merge`: each seed's
    /// per-step measures, after a line naming the shard and the experiment
    /// (docs/distributed.md).
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
}

/// What a shard of `hysteresis` carries besides its seeds: the experiment, as given.
#[derive(Serialize, Deserialize)]
struct Context {
    /// The scenario document with its edits.
    scenario: Value,
    load: String,
    hold_s: f64,
    seeds: u32,
}

/// `metastable hysteresis`.
pub fn run(args: Args, out: &mut Stdout) -> Result<()> {
    args.limits.check()?;
    if let (Some(shard), Some(plot)) = (args.shard, &args.plot) {
        bail!(
            "--plot draws every seed's mean, and shard {shard} runs a part of the seeds: draw it when the shards are merged (`metastable merge SHARDS… --plot {}`)",
            escape(&plot.display().to_string())
        );
    }
    // The document as written (with the edits), validated first, so that a problem of the
    // scenario itself is not blamed on the experiment.
    let (label, base) = load_doc(&args.scenario, &args.edits)?;
    let scenario = validate(&label, base.clone())?;
    let context = Context {
        scenario: base.clone(),
        load: args.load.clone(),
        hold_s: args.hold_s,
        seeds: args.seeds,
    };
    let experiment = Arc::new(
        Experiment::parse(base, &args.load, args.hold_s, args.seeds).map_err(|e| anyhow!("{e}"))?,
    );
    let budgets = Arc::new(Budgets::of(&args.limits));
    preflight("the experiment", &experiment.scenario(0), &budgets.per_run)?;
    if experiment.removed_triggers > 0 {
        note!(
            "the scenario's {} left out: the staircase is the only change of load",
            match experiment.removed_triggers {
                1 => "trigger is".to_string(),
                n => format!("{n} triggers are"),
            }
        );
    }

    let seeds = args.seeds;
    let context = serde_json::to_value(context)?;
    let fingerprint = format!(
        "{}\nload {}\nhold_s {:016x}\nseeds {seeds}\n",
        serde_json::to_string(&context["scenario"])?,
        args.load.trim(),
        args.hold_s.to_bits()
    );
    let units = args.shard.map(|shard| shard::Units {
        kind: shard::Kind::Hysteresis,
        shard,
        seeds,
        subjects: None,
        fingerprint: &fingerprint,
        context: &context,
    });
    let indices: Arc<Vec<u32>> = Arc::new(
        (0..seeds)
            .filter(|&i| units.as_ref().is_none_or(|u| u.owns(i as usize, 0)))
            .collect(),
    );
    let bar = progress(indices.len() as u64, "seeds");
    let started = Instant::now();
    let job: Job<Vec<Measure>> = {
        let (experiment, budgets, bar) = (experiment.clone(), budgets.clone(), bar.clone());
        let indices = indices.clone();
        Arc::new(move |i| {
            let scenario = experiment.scenario(indices[i]);
            let mut sim = Sim::with_limits(&scenario, budgets.per_run)
                .map_err(|e| anyhow!("the experiment: {e}"))?;
            sim.run();
            bar.inc(1);
            if let Some(stopped) = sim.stopped() {
                bail!(
                    "the experiment, seed {}: {stopped}{}",
                    scenario.seed,
                    budgets.why(stopped)
                );
            }
            experiment
                .measure(sim.rows())
                .map_err(|e| anyhow!("the experiment, seed {}: {e}", scenario.seed))
        })
    };
    let mut runs = Vec::with_capacity(indices.len());
    let threads = budgets.threads;
    let result = run_in_order(indices.len(), threads, 4 * threads, job, |_, measured| {
        runs.push(measured);
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    let wall_s = started.elapsed().as_secs_f64();
    if let Some(units) = &units {
        let mut text = units.head()?;
        text.push('\n');
        for (&i, measures) in indices.iter().zip(&runs) {
            text.push_str(&shard::unit_row(i as usize, measures, || {
                format!("seed {}", experiment.scenario(i).seed)
            })?);
            text.push('\n');
        }
        out.bytes(text.as_bytes())?;
        out.flush()?;
        note!(
            "shard {}: {} of {seeds} seeds × {} steps of {} s in {wall_s:.2} s on {threads} threads ({})",
            units.shard,
            indices.len(),
            experiment.steps().len(),
            number_text(experiment.hold_s),
            budgets.per_run_text()
        );
        return Ok(());
    }
    let result = experiment.result(&runs);
    print(&experiment, &result, out)?;
    note!(
        "{seeds} seed{} × {} steps of {} s in {wall_s:.2} s on {threads} threads ({})",
        if seeds == 1 { "" } else { "s" },
        result.steps.len(),
        number_text(experiment.hold_s),
        budgets.per_run_text()
    );
    if let Some(path) = &args.plot {
        let svg = draw(&scenario.name, &experiment, &result)?;
        write_file(path, svg.as_bytes())?;
        note!("plot: {}", escape(&path.display().to_string()));
    }
    Ok(())
}

/// The CSV on standard output, then the summary on standard error.
fn print(experiment: &Experiment, result: &Hysteresis, out: &mut Stdout) -> Result<()> {
    out.line(CSV_HEADER)?;
    for step in &result.steps {
        out.line(csv_row(step))?;
    }
    out.flush()?;
    for line in summary(experiment, result) {
        note!("{line}");
    }
    Ok(())
}

/// `metastable merge` of `hysteresis` shards: the CSV (and `--plot`'s figure) of the whole
/// experiment.
pub fn merge(merged: &shard::Merged, plot: Option<&Path>, out: &mut Stdout) -> Result<()> {
    let context: Context = merged.context()?;
    let scenario = validate("the shards' scenario", context.scenario.clone())?;
    let experiment = Experiment::parse(
        context.scenario,
        &context.load,
        context.hold_s,
        context.seeds,
    )
    .map_err(|e| anyhow!("the shards' experiment: {e}"))?;
    if context.seeds != merged.seeds {
        bail!(
            "the shards' line says {} seeds and their experiment {}: they were altered",
            merged.seeds,
            context.seeds
        );
    }
    let steps = experiment.steps().len();
    let mut runs = Vec::with_capacity(merged.units.len());
    for unit in &merged.units {
        let measures: Vec<Measure> = unit.parse()?;
        if measures.len() != steps {
            return Err(unit.error(format_args!(
                "{} steps where the staircase has {steps}: the shard was altered",
                measures.len()
            )));
        }
        runs.push(measures);
    }
    let result = experiment.result(&runs);
    // The figure first, so that a failure to draw it comes before any output.
    let svg = match plot {
        Some(_) => Some(draw(&scenario.name, &experiment, &result)?),
        None => None,
    };
    print(&experiment, &result, out)?;
    if let (Some(path), Some(svg)) = (plot, svg) {
        write_file(path, svg.as_bytes())?;
        note!("plot: {}", escape(&path.display().to_string()));
    }
    Ok(())
}

/// The lines of the summary: tipping, recovery, band, the fluid model's band, and each
/// seed's own edges when there are several.
fn summary(experiment: &Experiment, result: &Hysteresis) -> Vec<String> {
    let path = &result.path;
    let lightest = number_text(experiment.levels[0]);
    let heaviest = number_text(experiment.levels[experiment.levels.len() - 1]);
    let majority = if result.seeds > 1 {
        format!(" in at least half of the {} seeds", result.seeds)
    } else {
        String::new()
    };
    let mut lines = vec![format!(
        "steps of {} s, measured over the latter {:.0}% of each; a step collapsed when goodput < {:.0}% of the offered load{majority}",
        number_text(experiment.hold_s),
        (1.0 - SETTLE) * 100.0,
        COLLAPSE * 100.0
    )];
    let Edges {
        tipping,
        recovery,
        healthy_again,
    } = result.edges;
    lines.push(match tipping {
        Some(t) => format!(
            "tipping load: {path} = {} (the first step up at which goodput collapsed)",
            number_text(t.load)
        ),
        None => format!("tipping load: none (goodput never collapsed on the way up to {heaviest})"),
    });
    lines.push(match (tipping, recovery) {
        (None, _) => "recovery load: none (it never tipped)".to_string(),
        _ if result.band == Band::CollapsedAtStart => {
            "recovery load: not measured (collapsed from the lightest load on)".to_string()
        }
        (Some(_), Some(r)) => format!(
            "recovery load: {path} = {} (the first step down at which it was back: goodput healthy, or the backlog draining)",
            number_text(r.load)
        ),
        (Some(_), None) => format!(
            "recovery load: none (still collapsed, the backlog not draining, at {lightest}, the lightest load, on the way down)"
        ),
    });
    if tipping.is_some() && healthy_again != recovery {
        lines.push(match healthy_again {
            Some(h) => format!(
                "goodput itself healthy again at: {path} = {} (the backlog took that long to drain)",
                number_text(h.load)
            ),
            None => format!(
                "goodput itself healthy again at: none down to {lightest} (the backlog was still draining)"
            ),
        });
    }
    lines.push(match result.band {
        Band::NotTipped => format!(
            "band: not measured: goodput never collapsed up to {heaviest}; raise HI past the tipping load"
        ),
        Band::CollapsedAtStart => format!(
            "band: not measured: goodput had already collapsed at the lightest load, {lightest}; lower LO"
        ),
        Band::None => "band: none (it recovered within one step of where it tipped: the two paths agree)".to_string(),
        Band::Between {
            recovery: Some(r),
            tipping: t,
        } => format!(
            "band: {path} from {} to {} ({} wide): loads it served on the way up and not on the way down",
            number_text(r),
            number_text(t),
            number_text((t - r).abs())
        ),
        Band::Between {
            recovery: None,
            tipping: t,
        } => format!(
            "band: {path} from below {lightest} to {} (at least {} wide): it never came back on the way down",
            number_text(t),
            number_text((t - experiment.levels[0]).abs())
        ),
    });
    lines.push(match &result.fluid {
        Ok(Some((low, high))) => format!(
            "fluid model: bistable (a good point and a saddle) for {path} from {low:.1} to {high:.1}"
        ),
        Ok(None) => "fluid model: never bistable (no trigger can tip it)".to_string(),
        Err(why) => format!("fluid model: does not apply ({why})"),
    });
    if result.per_seed.len() > 1 {
        let edge = |l: Option<Level>| l.map_or("none".to_string(), |l| number_text(l.load));
        let seeds: Vec<String> = result
            .per_seed
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!(
                    "{} {}→{}",
                    experiment.scenario(i as u32).seed,
                    edge(e.tipping),
                    edge(e.recovery)
                )
            })
            .collect();
        lines.push(format!(
            "per seed (seed: tipping→recovery): {}",
            seeds.join(", ")
        ));
    }
    lines
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 640;
/// The way up and the way down (Okabe–Ito blue and vermillion), the band (a pale orange), the
/// fluid model (reddish purple) and the offered load (grey).
const UP: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const DOWN: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const BAND: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const FLUID: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
const OFFERED: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// A tick label: at most two decimals, no trailing zeros.
fn tick(v: f64) -> String {
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Goodput against the load as SVG: the way up and the way down, the measured band shaded,
/// the fluid model's bistable loads as dashed verticals over it.
fn draw(name: &str, experiment: &Experiment, result: &Hysteresis) -> Result<String> {
    let mut svg = String::new();
    draw_into(&mut svg, name, experiment, result)?;
    Ok(svg)
}

fn draw_into(
    svg: &mut String,
    name: &str,
    experiment: &Experiment,
    result: &Hysteresis,
) -> Result<()> {
    let plot = |e| anyhow!("drawing the hysteresis plot: {e}");
    let levels = &experiment.levels;
    let (low, high) = (
        levels.iter().copied().fold(f64::INFINITY, f64::min),
        levels.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let half_step = (high - low) / (levels.len() - 1) as f64 / 2.0;
    let (x_lo, x_hi) = (low - half_step, high + half_step);
    let y_hi = result
        .steps
        .iter()
        .map(|s| s.offered.max(s.goodput))
        .fold(1.0, f64::max)
        * 1.12;
    let path_of = |direction: Direction| -> Vec<(f64, f64)> {
        let top = levels.len() - 1;
        result
            .steps
            .iter()
            // The top step is the turning point: the end of the way up, the start of the way down.
            .filter(|s| s.step.direction == direction || s.step.index == top)
            .map(|s| (s.step.load, s.goodput))
            .collect()
    };

    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(plot)?;
    let seeds = match result.seeds {
        1 => "1 seed".to_string(),
        k => format!("mean of {k} seeds"),
    };
    let x_desc = match experiment.field {
        LoadField::Rate => format!("{} (offered load, requests/s)", result.path),
        LoadField::ThinkS => format!(
            "{} (think time, s: the load rises to the left)",
            result.path
        ),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Hysteresis of \u{201c}{name}\u{201d}: {} ({} s a step, {seeds})",
                result.band.words(experiment.levels[0]),
                number_text(experiment.hold_s)
            ),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        // A little room below zero, so that a path along zero is not hidden by the axis.
        .build_cartesian_2d(x_lo..x_hi, -0.025 * y_hi..y_hi)
        .map_err(plot)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(x_desc)
        .y_desc(format!(
            "goodput, requests/s (latter {:.0}% of each step)",
            (1.0 - SETTLE) * 100.0
        ))
        .draw()
        .map_err(plot)?;

    // The band: from the recovery load (or the axis's end, when it never recovered) to the
    // tipping load.
    if let Band::Between { recovery, tipping } = result.band {
        let from = recovery.unwrap_or(match experiment.field {
            LoadField::Rate => x_lo,
            LoadField::ThinkS => x_hi,
        });
        let label = match recovery {
            Some(_) => "measured band (recovery → tipping load)",
            None => "measured band (no recovery on the axis → tipping load)",
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(from.min(tipping), 0.0), (from.max(tipping), y_hi)],
                BAND.mix(0.22).filled(),
            )))
            .map_err(plot)?
            .label(label)
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAND.mix(0.4).filled()));
    }

    // The fluid model's bistable loads: dashed verticals at its ends (within the axis), joined
    // at the top by a dashed bar.
    if let Ok(Some((f_lo, f_hi))) = result.fluid {
        let (a, b) = (f_lo.max(x_lo), f_hi.min(x_hi));
        if a < b {
            let top = y_hi * 0.95;
            let mut lines = Vec::new();
            for x in [f_lo, f_hi] {
                if (x_lo..=x_hi).contains(&x) {
                    lines.push(vec![(x, 0.0), (x, top)]);
                }
            }
            lines.push(vec![(a, top), (b, top)]);
            let text = ("sans-serif", 13).into_font().color(&FLUID);
            for x in [f_lo, f_hi] {
                if (x_lo..=x_hi).contains(&x) {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{x:.1}"),
                            (x, top),
                            text.clone().pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )))
                        .map_err(plot)?;
                }
            }
            let mut first = true;
            for line in lines {
                let series = chart
                    .draw_series(DashedLineSeries::new(line, 8, 5, FLUID.stroke_width(2)))
                    .map_err(plot)?;
                if std::mem::take(&mut first) {
                    series
                        .label(format!("fluid model: bistable from {f_lo:.1} to {f_hi:.1}"))
                        .legend(|(x, y)| {
                            PathElement::new([(x, y), (x + 18, y)], FLUID.stroke_width(2))
                        });
                }
            }
        }
    }

    // The offered load, for reference: what goodput would be if every request were served.
    let offered: Vec<(f64, f64)> = result
        .steps
        .iter()
        .filter(|s| s.step.direction == Direction::Up)
        .map(|s| (s.step.load, s.offered))
        .collect();
    chart
        .draw_series(DashedLineSeries::new(
            offered,
            4,
            4,
            OFFERED.stroke_width(1),
        ))
        .map_err(plot)?
        .label("offered load (measured, way up)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], OFFERED.stroke_width(1)));

    let up = path_of(Direction::Up);
    chart
        .draw_series(LineSeries::new(up.clone(), UP.stroke_width(2)))
        .map_err(plot)?
        .label("goodput on the way up")
        .legend(|(x, y)| {
            EmptyElement::at((x + 9, y))
                + PathElement::new([(-9, 0), (9, 0)], UP.stroke_width(2))
                + Circle::new((0, 0), 4, UP.filled())
        });
    chart
        .draw_series(up.iter().map(|&p| Circle::new(p, 5, UP.filled())))
        .map_err(plot)?;
    let down = path_of(Direction::Down);
    chart
        .draw_series(LineSeries::new(down.clone(), DOWN.stroke_width(2)))
        .map_err(plot)?
        .label("goodput on the way down")
        .legend(|(x, y)| {
            EmptyElement::at((x + 9, y))
                + PathElement::new([(-9, 0), (9, 0)], DOWN.stroke_width(2))
                + TriangleMarker::new((0, 0), 5, DOWN.filled())
        });
    chart
        .draw_series(
            down.iter()
                .map(|&p| TriangleMarker::new(p, 6, DOWN.filled())),
        )
        .map_err(plot)?;
    // Steps down that count as back while goodput is still collapsed: the backlog drains.
    let draining: Vec<(f64, f64)> = result
        .steps
        .iter()
        .filter(|s| s.step.direction == Direction::Down && s.back && s.collapsed)
        .map(|s| (s.step.load, s.goodput))
        .collect();
    if !draining.is_empty() {
        chart
            .draw_series(
                draining
                    .iter()
                    .map(|&p| Circle::new(p, 11, DOWN.stroke_width(2))),
            )
            .map_err(plot)?
            .label("way down: goodput low, backlog draining (counts as back)")
            .legend(|(x, y)| Circle::new((x + 9, y), 6, DOWN.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        // Upper left, below the fluid model's bar and its labels.
        .position(SeriesLabelPosition::Coordinate(10, 40))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot)?;
    root.present().map_err(plot)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::presets;

    fn experiment(load: &str) -> Experiment {
        let doc = serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap();
        Experiment::parse(doc, load, 10.0, 1).unwrap()
    }

    /// A run healthy where `healthy` says, offering the step's load.
    fn run(e: &Experiment, healthy: &[bool]) -> Vec<Measure> {
        e.steps()
            .iter()
            .zip(healthy)
            .map(|(s, &h)| Measure {
                offered: s.load,
                goodput: if h { s.load } else { 0.0 },
                throughput: 100.0,
                backlog: if h { 5.0 } else { 5000.0 },
                backlog_slope: 0.0,
                draining: false,
            })
            .collect()
    }

    #[test]
    fn the_summary_says_tipping_recovery_band_and_the_fluid_model() {
        let e = experiment("users.rate=20..100:5");
        // 20 40 60 80 100 | 80 60 40 20: tips at 100, healthy again at 40.
        let (t, f) = (true, false);
        let result = e.result(&[run(&e, &[t, t, t, t, f, f, f, t, t])]);
        let lines = summary(&e, &result).join("\n");
        for says in [
            "tipping load: users.rate = 100 (",
            "recovery load: users.rate = 40 (",
            "goodput healthy, or the backlog draining",
            "band: users.rate from 40 to 100 (60 wide)",
            "fluid model: bistable (a good point and a saddle) for users.rate from 25.5 to 99.5",
        ] {
            assert!(lines.contains(says), "{says}: {lines}");
        }
        let stuck = e.result(&[run(&e, &[t, t, t, t, f, f, f, f, f])]);
        let lines = summary(&e, &stuck).join("\n");
        assert!(
            lines.contains("band: users.rate from below 20 to 100 (at least 80 wide)"),
            "{lines}"
        );
        assert!(lines.contains("the backlog not draining, at 20"), "{lines}");
        let at_once = e.result(&[run(&e, &[f, f, t, t, t, t, t, t, t])]);
        let lines = summary(&e, &at_once).join("\n");
        assert!(lines.contains("recovery load: not measured"), "{lines}");
        assert!(lines.contains("lower LO"), "{lines}");
        let never = e.result(&[run(&e, &[t; 9])]);
        assert!(summary(&e, &never).join("\n").contains("raise HI"));
    }

    #[test]
    fn the_plot_has_both_paths_the_band_and_the_fluid_band() {
        let e = experiment("users.rate=20..100:5");
        let (t, f) = (true, false);
        let result = e.result(&[run(&e, &[t, t, t, t, f, f, f, t, t])]);
        let svg = draw("Retry storm", &e, &result).unwrap();
        for says in [
            "goodput on the way up",
            "goodput on the way down",
            "measured band (recovery → tipping load)",
            "fluid model: bistable from 25.5 to 99.5",
            "users.rate (offered load, requests/s)",
            "Hysteresis of \u{201c}Retry storm\u{201d}: band 40 to 100 (10 s a step, 1 seed)",
        ] {
            assert!(svg.contains(says), "{says}");
        }
        // Five circles up (the legend's sixth), five triangles down: the top is on both.
        assert_eq!(svg.matches("<circle").count(), 6, "{svg}");
        // Without a band or a model, neither is drawn.
        let plain = e.result(&[run(&e, &[t; 9])]);
        let no_model = Hysteresis {
            fluid: Err("no".into()),
            ..plain
        };
        let svg = draw("Retry storm", &e, &no_model).unwrap();
        assert!(!svg.contains("measured band") && !svg.contains("fluid model"));
    }
}
