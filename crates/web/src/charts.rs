//! The live charts of a run (SPEC §6), drawn over any plotters [`DrawingBackend`].
//!
//! Every chart shares one time axis, `0..scenario.duration_s`, fixed for the whole run so that
//! the lines grow to the right while the simulation runs and charts stacked above each other
//! line up. The same code draws to `plotters-canvas` in the browser and to `SVGBackend` in the
//! native tests, so what the tests see is what the user sees.
//!
//! Drawing is meant to run about 30 times a second for every chart while a run grows: the work
//! per frame is one pass over the rows to find the y range and one to build the lines, and a
//! long run is reduced to a minimum and a maximum per pixel column before anything is drawn.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::scenario::Block;
use sim_core::{fluid, Row, Scenario, GLOBAL_COLUMNS};
use std::ops::Range;

/// One chart of the run view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChartKind {
    /// Offered load, server throughput and goodput.
    Traffic,
    /// How user requests ended, per second: good, and the failures by cause (stacked), with
    /// the successes that came after their user left.
    Outcomes,
    /// End-to-end latency p50 and p99 of successful requests, with the client's timeout.
    Latency,
    /// Calls queued at servers and user requests in flight.
    Backlog,
    /// Attempts per offered request.
    Amplification,
    /// The share of server work that became part of a good request (`useful / throughput`).
    Useful,
    /// Hit rate of each cache.
    CacheHitRate,
    /// Tokens left in each retry budget.
    RetryTokens,
    /// State of each circuit breaker.
    BreakerState,
    /// Calls each limiter refused, per second.
    LimiterRejected,
    /// Hedged attempts each hedging retry layer sent, per second.
    Hedges,
    /// Each autoscaled server's active and warming-up workers.
    Workers,
}

impl ChartKind {
    /// Every chart, in display order.
    pub const ALL: [ChartKind; 12] = [
        ChartKind::Traffic,
        ChartKind::Outcomes,
        ChartKind::Latency,
        ChartKind::Backlog,
        ChartKind::Amplification,
        ChartKind::Useful,
        ChartKind::CacheHitRate,
        ChartKind::RetryTokens,
        ChartKind::BreakerState,
        ChartKind::LimiterRejected,
        ChartKind::Hedges,
        ChartKind::Workers,
    ];

    /// A short stable name, used in embed URLs and element ids.
    pub fn id(self) -> &'static str {
        match self {
            ChartKind::Traffic => "traffic",
            ChartKind::Outcomes => "outcomes",
            ChartKind::Latency => "latency",
            ChartKind::Backlog => "backlog",
            ChartKind::Amplification => "amplification",
            ChartKind::Useful => "useful",
            ChartKind::CacheHitRate => "cache",
            ChartKind::RetryTokens => "tokens",
            ChartKind::BreakerState => "breaker",
            ChartKind::LimiterRejected => "limiter",
            ChartKind::Hedges => "hedges",
            ChartKind::Workers => "workers",
        }
    }

    /// The heading drawn in the chart's top line.
    pub fn title(self) -> &'static str {
        match self {
            ChartKind::Traffic => "Offered, throughput and goodput",
            ChartKind::Outcomes => "What happened to requests",
            ChartKind::Latency => "Latency of successful requests (p50, p99)",
            ChartKind::Backlog => "Queue and requests in flight",
            ChartKind::Amplification => "Retry amplification",
            ChartKind::Useful => "Useful work: share of server work that mattered",
            ChartKind::CacheHitRate => "Cache hit rate",
            ChartKind::RetryTokens => "Retry budget tokens",
            ChartKind::BreakerState => "Circuit breaker state",
            ChartKind::LimiterRejected => "Calls refused by limiters",
            ChartKind::Hedges => "Hedged attempts",
            ChartKind::Workers => "Autoscaled workers",
        }
    }

    /// The y axis label, with its unit.
    pub fn y_label(self) -> &'static str {
        match self {
            ChartKind::Traffic | ChartKind::Outcomes => "requests/s",
            ChartKind::Latency => "latency (s)",
            ChartKind::Backlog => "count",
            ChartKind::Amplification => "attempts per request",
            ChartKind::Useful => "share of work",
            ChartKind::CacheHitRate => "hit rate",
            ChartKind::RetryTokens => "tokens",
            ChartKind::BreakerState => "state",
            ChartKind::LimiterRejected => "calls/s",
            ChartKind::Hedges => "hedges/s",
            ChartKind::Workers => "workers",
        }
    }

    /// The chart with this [`ChartKind::id`].
    pub fn from_id(id: &str) -> Option<ChartKind> {
        ChartKind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// What a chart draws: the scenario (for the time axis, triggers and blocks) and the rows so
/// far, with their column names as given by `Sim::columns`.
#[derive(Clone, Copy, Debug)]
pub struct ChartData<'a> {
    pub scenario: &'a Scenario,
    pub columns: &'a [String],
    pub rows: &'a [Row],
    /// The fluid model's trajectory for this scenario, when the model covers it: drawn
    /// dashed over the simulated goodput and queue, as far as the run has got.
    pub model: Option<&'a [fluid::State]>,
    /// Every seed's rows when a run has several seeds (SPEC §9), the current run's among
    /// them: each line is then the seeds' median, over a shaded band from their 2.5% to their
    /// 97.5% quantile, and each stacked area the seeds' median.
    pub seeds: &'a [&'a [Row]],
    /// The pinned baseline's rows (one per seed): drawn beside the run as dashed, lighter
    /// lines of the same colours (the global series: the baseline's blocks are its own).
    pub baseline: Option<&'a [&'a [Row]]>,
}

/// The fluid model's line on a chart.
struct ModelLine {
    label: &'static str,
    /// The colour of the simulated series it shadows.
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// The model's line on a chart, up to the run's time `until`.
fn model_line(kind: ChartKind, data: &ChartData, until: f64) -> Option<ModelLine> {
    let states = data.model?;
    let (label, color, value): (_, _, fn(&fluid::State) -> f64) = match kind {
        ChartKind::Traffic => ("model goodput", GREEN.rgb, |s| s.goodput),
        ChartKind::Backlog => ("model queue", VERMILLION.rgb, |s| s.q),
        _ => return None,
    };
    let points = states
        .iter()
        .take_while(|s| s.t <= until)
        .map(|s| (s.t, value(s).min(VALUE_LIMIT)))
        .collect();
    Some(ModelLine {
        label,
        color,
        points,
    })
}

/// The charts that apply to this scenario: the first five always; cache hit rate only if a
/// cache block exists; retry tokens only if a retry block has a budget; breaker state only if a
/// breaker exists.
pub fn charts_for(scenario: &Scenario) -> Vec<ChartKind> {
    let has = |f: fn(&Block) -> bool| scenario.blocks.iter().any(f);
    let mut kinds = vec![
        ChartKind::Traffic,
        ChartKind::Outcomes,
        ChartKind::Latency,
        ChartKind::Backlog,
        ChartKind::Amplification,
        ChartKind::Useful,
    ];
    if has(|b| matches!(b, Block::Cache(_))) {
        kinds.push(ChartKind::CacheHitRate);
    }
    if has(|b| matches!(b, Block::Retry(r) if r.budget.is_some())) {
        kinds.push(ChartKind::RetryTokens);
    }
    if has(|b| matches!(b, Block::Breaker(_))) {
        kinds.push(ChartKind::BreakerState);
    }
    if has(|b| matches!(b, Block::Limiter(_))) {
        kinds.push(ChartKind::LimiterRejected);
    }
    if has(|b| matches!(b, Block::Retry(r) if r.hedge_after_s.is_some())) {
        kinds.push(ChartKind::Hedges);
    }
    if has(|b| matches!(b, Block::Server(s) if s.autoscale.is_some())) {
        kinds.push(ChartKind::Workers);
    }
    kinds
}

/// Light or dark colours for everything but the series, which keep one palette in both themes
/// so that a hover readout's colour matches the line whatever the theme.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    pub dark: bool,
}

impl Theme {
    pub const LIGHT: Theme = Theme { dark: false };
    pub const DARK: Theme = Theme { dark: true };

    /// The background the charts fill themselves with, as `#rrggbb` (for the page around them).
    pub fn background_hex(self) -> &'static str {
        if self.dark {
            "#1b1f24"
        } else {
            "#ffffff"
        }
    }

    fn background(self) -> RGBColor {
        if self.dark {
            RGBColor(0x1b, 0x1f, 0x24)
        } else {
            WHITE
        }
    }

    fn text(self) -> RGBColor {
        if self.dark {
            RGBColor(0xe6, 0xed, 0xf3)
        } else {
            RGBColor(0x1f, 0x23, 0x28)
        }
    }

    fn grid(self) -> RGBColor {
        if self.dark {
            RGBColor(0x2d, 0x33, 0x3b)
        } else {
            RGBColor(0xe4, 0xe7, 0xeb)
        }
    }

    fn axis(self) -> RGBColor {
        if self.dark {
            RGBColor(0x76, 0x83, 0x90)
        } else {
            RGBColor(0x8c, 0x95, 0x9f)
        }
    }

    fn band(self) -> RGBAColor {
        // The same neutral grey reads as a light veil on white and a faint lift on dark.
        if self.dark {
            RGBColor(0xa0, 0xa6, 0xad).mix(0.2)
        } else {
            RGBColor(0x80, 0x80, 0x80).mix(0.16)
        }
    }
}

/// Where the plot area landed, in backend pixels, so a pointer x maps back to simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PlotArea {
    pub left: i32,
    pub right: i32,
    pub top: i32,
    pub bottom: i32,
    pub t_max: f64,
}

impl PlotArea {
    /// The simulated time under pixel column `x_px`; `None` outside the plot area.
    pub fn time_at(&self, x_px: f64) -> Option<f64> {
        let (left, right) = (f64::from(self.left), f64::from(self.right));
        if !x_px.is_finite() || right <= left || x_px < left || x_px > right {
            return None;
        }
        let t = (x_px - left) / (right - left) * self.t_max;
        t.is_finite().then_some(t)
    }

    /// The pixel column of simulated time `t` (the inverse of [`PlotArea::time_at`]).
    pub fn x_at(&self, t: f64) -> f64 {
        if self.t_max > 0.0 {
            f64::from(self.left) + t / self.t_max * f64::from(self.right - self.left)
        } else {
            f64::from(self.left)
        }
    }
}

/// One line of the hover readout.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    pub label: String,
    pub value: String,
    /// The series colour, as `#rrggbb`.
    pub color: String,
}

/// The hover readout: one entry per series of the chart at the row containing time t (label,
/// value formatted with unit, colour as "#rrggbb"). Empty if no row covers t.
///
/// Reference lines (the timeout, amplification 1) are not series: they do not change with t.
pub fn readout(kind: ChartKind, data: &ChartData, t: f64) -> Vec<Readout> {
    let Some(row) = row_at(data, t) else {
        return Vec::new();
    };
    series_of(kind, data)
        .iter()
        .map(|s| Readout {
            label: s.label.to_string(),
            value: format_value(s.unit, s.source.value(row)),
            color: s.swatch.hex.to_string(),
        })
        .collect()
}

/// The row whose bucket `[t, t + bucket_s)` contains `t`.
fn row_at<'a>(data: &ChartData<'a>, t: f64) -> Option<&'a Row> {
    if !t.is_finite() || t < 0.0 {
        return None;
    }
    let after = data.rows.partition_point(|r| r.t <= t);
    let row = data.rows.get(after.checked_sub(1)?)?;
    (t < row.t + bucket_s(data.scenario)).then_some(row)
}

/// A colour of the Okabe–Ito palette, with its hex form for the readout.
#[derive(Clone, Copy, Debug)]
struct Swatch {
    rgb: RGBColor,
    hex: &'static str,
}

const BLUE: Swatch = Swatch {
    rgb: RGBColor(0x00, 0x72, 0xb2),
    hex: "#0072b2",
};
const ORANGE: Swatch = Swatch {
    rgb: RGBColor(0xe6, 0x9f, 0x00),
    hex: "#e69f00",
};
const GREEN: Swatch = Swatch {
    rgb: RGBColor(0x00, 0x9e, 0x73),
    hex: "#009e73",
};
const VERMILLION: Swatch = Swatch {
    rgb: RGBColor(0xd5, 0x5e, 0x00),
    hex: "#d55e00",
};
const PURPLE: Swatch = Swatch {
    rgb: RGBColor(0xcc, 0x79, 0xa7),
    hex: "#cc79a7",
};
const SKY: Swatch = Swatch {
    rgb: RGBColor(0x56, 0xb4, 0xe9),
    hex: "#56b4e9",
};
const YELLOW: Swatch = Swatch {
    rgb: RGBColor(0xf0, 0xe4, 0x42),
    hex: "#f0e442",
};

/// The order per-block series take their colours in; yellow last, as it is faint on white.
const PALETTE: [Swatch; 7] = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW];

/// Where a series reads its value in a row.
#[derive(Clone, Copy, Debug)]
enum Source {
    Offered,
    Throughput,
    Goodput,
    Late,
    FailedTimeout,
    FailedError,
    FailedRejected,
    P50,
    P99,
    Queue,
    InFlight,
    Amplification,
    /// `useful / throughput`, at most 1 (a bucket can count a success whose service finished
    /// in the bucket before).
    UsefulShare,
    /// An index into `Row::blocks`; `None` when the column is missing (no run yet).
    Block(Option<usize>),
}

impl Source {
    /// Sets this series' value in `row`, for the sources a stack is made of (the seeds'
    /// medians drawn as one stack); other sources are left alone.
    fn set(self, row: &mut Row, v: f64) {
        match self {
            Source::Goodput => row.goodput = v,
            Source::FailedTimeout => row.failed_timeout = v,
            Source::FailedError => row.failed_error = v,
            Source::FailedRejected => row.failed_rejected = v,
            _ => {}
        }
    }

    /// The value of this series in `row`; `None` for a gap, including NaN and infinities, so
    /// odd data breaks the line instead of dragging the axis or the line to nonsense.
    fn value(self, row: &Row) -> Option<f64> {
        let v = match self {
            Source::Offered => Some(row.offered),
            Source::Throughput => Some(row.throughput),
            Source::Goodput => Some(row.goodput),
            Source::Late => Some(row.ended_late),
            Source::FailedTimeout => Some(row.failed_timeout),
            Source::FailedError => Some(row.failed_error),
            Source::FailedRejected => Some(row.failed_rejected),
            Source::P50 => row.latency_p50,
            Source::P99 => row.latency_p99,
            Source::Queue => Some(row.queue),
            Source::InFlight => Some(row.in_flight),
            Source::Amplification => (row.offered > 0.0).then(|| row.attempts / row.offered),
            Source::UsefulShare => {
                (row.throughput > 0.0).then(|| (row.useful / row.throughput).min(1.0))
            }
            Source::Block(i) => i.and_then(|i| row.blocks.get(i).copied().flatten()),
        };
        v.filter(|v| v.is_finite())
    }
}

/// How a series' value reads in the hover readout.
#[derive(Clone, Copy, Debug)]
enum Unit {
    Rate,
    Seconds,
    Calls,
    Requests,
    Ratio,
    Fraction,
    Tokens,
    BreakerState,
}

/// One series of a chart: a line, or a band of a stack of areas.
#[derive(Clone, Copy, Debug)]
struct Series<'a> {
    label: &'a str,
    swatch: Swatch,
    source: Source,
    unit: Unit,
    /// Drawn as an area stacked on the stacked series before it (in series order) rather
    /// than as a line.
    stacked: bool,
}

/// The series of a chart, in legend order.
fn series_of<'a>(kind: ChartKind, data: &ChartData<'a>) -> Vec<Series<'a>> {
    let global = |label, swatch, source, unit| Series {
        label,
        swatch,
        source,
        unit,
        stacked: false,
    };
    let area = |label, swatch, source| Series {
        stacked: true,
        ..global(label, swatch, source, Unit::Rate)
    };
    match kind {
        ChartKind::Traffic => vec![
            global("offered", ORANGE, Source::Offered, Unit::Rate),
            global("throughput", BLUE, Source::Throughput, Unit::Rate),
            global("goodput", GREEN, Source::Goodput, Unit::Rate),
        ],
        // The stack is every request that ended in the bucket (about `offered` in a steady
        // state), good at the bottom; late successes are not a second end of their request
        // (it was counted when its user gave up), so they are a line over the stack.
        ChartKind::Outcomes => vec![
            area("good", GREEN, Source::Goodput),
            global("late", BLUE, Source::Late, Unit::Rate),
            area("timed out", VERMILLION, Source::FailedTimeout),
            area("errors", ORANGE, Source::FailedError),
            area("rejected", PURPLE, Source::FailedRejected),
        ],
        ChartKind::Latency => vec![
            global("p50", BLUE, Source::P50, Unit::Seconds),
            global("p99", VERMILLION, Source::P99, Unit::Seconds),
        ],
        ChartKind::Backlog => vec![
            global("queue", VERMILLION, Source::Queue, Unit::Calls),
            global("in flight", BLUE, Source::InFlight, Unit::Requests),
        ],
        ChartKind::Amplification => vec![global(
            "attempts / request",
            PURPLE,
            Source::Amplification,
            Unit::Ratio,
        )],
        ChartKind::Useful => vec![global(
            "useful / throughput",
            GREEN,
            Source::UsefulShare,
            Unit::Fraction,
        )],
        ChartKind::CacheHitRate => block_series(data, "hit_rate", Unit::Fraction, |b| {
            matches!(b, Block::Cache(_))
        }),
        ChartKind::RetryTokens => block_series(
            data,
            "tokens",
            Unit::Tokens,
            |b| matches!(b, Block::Retry(r) if r.budget.is_some()),
        ),
        ChartKind::BreakerState => block_series(data, "state", Unit::BreakerState, |b| {
            matches!(b, Block::Breaker(_))
        }),
        ChartKind::LimiterRejected => block_series(data, "rejected", Unit::Rate, |b| {
            matches!(b, Block::Limiter(_))
        }),
        ChartKind::Hedges => block_series(
            data,
            "hedges",
            Unit::Rate,
            |b| matches!(b, Block::Retry(r) if r.hedge_after_s.is_some()),
        ),
        // One autoscaled server: its active and its warming-up workers; several: each one's
        // active workers, by id.
        ChartKind::Workers => {
            let wanted = |b: &Block| matches!(b, Block::Server(s) if s.autoscale.is_some());
            let mut servers = data.scenario.blocks.iter().filter(|b| wanted(b));
            match (servers.next(), servers.next()) {
                (Some(one), None) => {
                    let column =
                        |metric| Source::Block(block_column(data.columns, one.id(), metric));
                    vec![
                        global("active", BLUE, column("workers"), Unit::Calls),
                        global("warming up", ORANGE, column("pending"), Unit::Calls),
                    ]
                }
                _ => block_series(data, "workers", Unit::Calls, wanted),
            }
        }
    }
}

/// One series per block that `wanted` picks, labelled with the block id, reading the block's
/// `<id>.<metric>` column.
fn block_series<'a>(
    data: &ChartData<'a>,
    metric: &str,
    unit: Unit,
    wanted: fn(&Block) -> bool,
) -> Vec<Series<'a>> {
    data.scenario
        .blocks
        .iter()
        .filter(|b| wanted(b))
        .enumerate()
        .map(|(i, b)| Series {
            label: b.id(),
            swatch: PALETTE[i % PALETTE.len()],
            source: Source::Block(block_column(data.columns, b.id(), metric)),
            unit,
            stacked: false,
        })
        .collect()
}

/// The index into `Row::blocks` of column `<id>.<metric>`, compared piecewise so that looking
/// a column up allocates nothing.
fn block_column(columns: &[String], id: &str, metric: &str) -> Option<usize> {
    let at = columns.iter().position(|c| {
        c.strip_prefix(id)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|m| m == metric)
    })?;
    at.checked_sub(GLOBAL_COLUMNS.len())
}

/// The user's patience of the first client, if it has one.
fn timeout_s(scenario: &Scenario) -> Option<f64> {
    scenario
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Client(c) => Some(c.timeout_s),
            _ => None,
        })
        .flatten()
        .filter(|t| t.is_finite() && *t > 0.0)
}

fn bucket_s(scenario: &Scenario) -> f64 {
    let b = scenario.bucket_s;
    if b.is_finite() && b > 0.0 {
        b
    } else {
        1.0
    }
}

/// The right end of the shared time axis: the scenario's duration, whatever the rows so far.
fn axis_t_max(data: &ChartData) -> f64 {
    let d = data.scenario.duration_s;
    if d.is_finite() && d > 0.0 {
        return d.min(VALUE_LIMIT);
    }
    // An invalid duration still gets an axis that shows the rows, rather than an error.
    data.rows
        .last()
        .map(|r| r.t + bucket_s(data.scenario))
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(1.0, |t| t.min(VALUE_LIMIT))
}

/// The rows that fall on the axis; rows are in time order, so this is a slice.
fn visible_rows(rows: &[Row], t_max: f64) -> &[Row] {
    let start = rows.partition_point(|r| r.t < 0.0);
    let end = rows.partition_point(|r| r.t < t_max).max(start);
    &rows[start..end]
}

/// The y range: from 0 (or below, for negative data) to 10% above the highest value or
/// reference line; fixed for the charts whose values are bounded.
fn y_range(kind: ChartKind, series: &[Series], rows: &[Row], data: &ChartData) -> Range<f64> {
    match kind {
        ChartKind::CacheHitRate => return 0.0..1.05,
        ChartKind::BreakerState => return -0.05..1.05,
        _ => {}
    }
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for s in series.iter().filter(|s| !s.stacked) {
        for row in rows {
            if let Some(v) = s.source.value(row) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    // A stack reaches the sum of its series, and never below 0.
    let stacked: Vec<Source> = series
        .iter()
        .filter(|s| s.stacked)
        .map(|s| s.source)
        .collect();
    if !stacked.is_empty() {
        for row in rows {
            hi = hi.max(stacked.iter().map(|&s| stacked_value(s, row)).sum());
        }
    }
    match kind {
        // The timeout line is the point of the latency chart, so it is always in view.
        ChartKind::Latency => hi = hi.max(timeout_s(data.scenario).unwrap_or(0.0)),
        ChartKind::Amplification | ChartKind::Useful => hi = hi.max(1.0),
        // The budget's size keeps the axis still while tokens come and go.
        ChartKind::RetryTokens => {
            for b in &data.scenario.blocks {
                if let Block::Retry(r) = b {
                    if let Some(budget) = &r.budget {
                        if budget.max_tokens.is_finite() {
                            hi = hi.max(budget.max_tokens);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    let hi = if hi > 0.0 {
        pad(hi).min(VALUE_LIMIT)
    } else {
        1.0
    };
    let lo = if lo < 0.0 {
        pad(lo).max(-VALUE_LIMIT)
    } else {
        0.0
    };
    lo..hi
}

/// The largest magnitude an axis shows. Beyond it plotters' tick computation degenerates (an
/// infinite range never ends), and no metric of a valid run comes near it.
const VALUE_LIMIT: f64 = 1e12;

/// `v` × 1.1, unless that overflows.
fn pad(v: f64) -> f64 {
    let p = v * 1.1;
    if p.is_finite() {
        p
    } else {
        v
    }
}

/// A trigger in a few words for its band: "spike ×2", "latency ×3", "outage".
fn trigger_words(trigger: &sim_core::scenario::Trigger) -> String {
    use sim_core::scenario::Trigger;
    match trigger {
        Trigger::LoadSpike(t) => format!("spike ×{}", crate::format::num(t.factor)),
        Trigger::LoadSteps(t) => format!("steps {}", crate::format::factor_span(&t.factors)),
        Trigger::Latency(t) => format!("latency ×{}", crate::format::num(t.factor)),
        Trigger::Outage(_) => "outage".into(),
        Trigger::Capacity(t) => format!("{} workers", t.workers),
        Trigger::Errors(t) => format!("errors {:.0}%", t.rate * 100.0),
        Trigger::Partition(_) => "partition".into(),
        Trigger::CacheFlush(_) => "flush".into(),
    }
}

/// The trigger bands as time ranges clipped to the axis. An instant trigger gets a thin band
/// of 0.5% of the duration so it stays visible.
fn trigger_bands(scenario: &Scenario, t_max: f64) -> Vec<(f64, f64)> {
    scenario
        .triggers
        .iter()
        .filter_map(|tr| {
            let at = tr.at_s();
            let end = match tr.for_s() {
                Some(f) if f > 0.0 => at + f,
                _ => at + 0.005 * t_max,
            };
            let (a, b) = (at.max(0.0), end.min(t_max));
            (a.is_finite() && b.is_finite() && a < b).then_some((a, b))
        })
        .collect()
}

/// Numbers in at most about three significant digits, without trailing zeros.
fn short_number(v: f64) -> String {
    if !v.is_finite() {
        return String::from("–");
    }
    let a = v.abs();
    if a != 0.0 && a < 1e-3 {
        return format!("{v:.1e}");
    }
    let decimals = if a >= 100.0 || a == 0.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = String::from("0");
    }
    s
}

/// An axis tick: large values with k/M/G so the y labels stay narrow on a phone.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let mut s = short_number(scaled);
    s.push_str(suffix);
    s
}

/// The breaker's state as a y tick: short, as the left margin is the same for all charts.
fn breaker_tick(v: f64) -> &'static str {
    match breaker_label(v) {
        "half-open" => "half",
        other => other,
    }
}

fn breaker_label(v: f64) -> &'static str {
    if v < 0.25 {
        "closed"
    } else if v < 0.75 {
        "half-open"
    } else {
        "open"
    }
}

/// A readout value with its unit; a dash when the row has no value (no success in a bucket).
fn format_value(unit: Unit, value: Option<f64>) -> String {
    let Some(v) = value else {
        return String::from("—");
    };
    match unit {
        Unit::Rate => format!("{} req/s", short_number(v)),
        Unit::Seconds if v.abs() < 1.0 => format!("{} ms", short_number(v * 1000.0)),
        Unit::Seconds => format!("{} s", short_number(v)),
        Unit::Calls => format!("{} calls", short_number(v)),
        Unit::Requests => format!("{} requests", short_number(v)),
        Unit::Ratio => format!("{v:.2}×"),
        Unit::Fraction => format!("{:.0}%", v * 100.0),
        Unit::Tokens => format!("{} tokens", short_number(v)),
        Unit::BreakerState => String::from(breaker_label(v)),
    }
}

/// What the lines of a chart are fitted to.
struct Axes {
    y: Range<f64>,
    t_max: f64,
    /// The plot's width in pixels, which decides whether to decimate.
    width_px: usize,
    /// The bucket length, for a series drawn as steps (a state that holds until the next
    /// bucket) rather than as ramps between values.
    step: Option<f64>,
}

/// The points of a line, reused from series to series: `runs` index the stretches of
/// `points` without gaps.
#[derive(Default)]
struct Line {
    points: Vec<(f64, f64)>,
    runs: Vec<Range<usize>>,
}

/// The points of one series, split into runs without gaps, reusing the caller's buffers.
///
/// With more than two rows per pixel column, each column contributes its minimum and maximum
/// (in the order they happened) at the column's centre: the line looks the same as with every
/// point, a one-bucket spike included, at a cost bounded by the plot's width.
fn build_line(rows: &[Row], source: Source, axes: &Axes, line: &mut Line) {
    let values: Vec<(f64, Option<f64>)> = rows.iter().map(|r| (r.t, source.value(r))).collect();
    build_line_of(&values, axes, line);
}

/// [`build_line`] of values already read: `(t, value)` per bucket, in time order.
fn build_line_of(rows: &[(f64, Option<f64>)], axes: &Axes, line: &mut Line) {
    let Axes {
        ref y,
        t_max,
        width_px,
        step,
    } = *axes;
    let Line { points, runs } = line;
    // Plotters does not clip, so a value beyond the axis (only absurd data has one) is held
    // at its edge rather than drawn over the labels.
    let value = |row: &(f64, Option<f64>)| row.1.map(|v| v.clamp(y.start, y.end));
    points.clear();
    runs.clear();
    let mut start = 0;
    let mut close = |points: &Vec<(f64, f64)>, start: &mut usize| {
        if points.len() > *start {
            runs.push(*start..points.len());
        }
        *start = points.len();
    };
    let width_px = width_px.max(1);
    if rows.len() <= 2 * width_px {
        for row in rows {
            match value(row) {
                Some(v) => {
                    points.push((row.0, v));
                    if let Some(bucket) = step {
                        points.push(((row.0 + bucket).min(t_max), v));
                    }
                }
                None => close(points, &mut start),
            }
        }
        close(points, &mut start);
        return;
    }
    let column_of = |t: f64| pixel_column(t, t_max, width_px);
    // The current column's (minimum, maximum, whether the minimum came first), once it has a
    // value: the order keeps the line's shape when the column is joined to its neighbours.
    let mut column = column_of(rows[0].0);
    let mut extremes: Option<(f64, f64, bool)> = None;
    let flush = |column: usize, extremes: Option<(f64, f64, bool)>, points: &mut Vec<_>| {
        let x = (column as f64 + 0.5) / width_px as f64 * t_max;
        match extremes {
            Some((min, max, min_first)) => {
                let (a, b) = if min_first { (min, max) } else { (max, min) };
                points.push((x, a));
                if b != a {
                    points.push((x, b));
                }
                true
            }
            None => false,
        }
    };
    for row in rows {
        let c = column_of(row.0);
        if c != column {
            if !flush(column, extremes, points) {
                close(points, &mut start);
            }
            column = c;
            extremes = None;
        }
        if let Some(v) = value(row) {
            extremes = Some(match extremes {
                None => (v, v, true),
                Some((min, max, min_first)) => {
                    if v < min {
                        // The minimum is now the later of the two.
                        (v, max, false)
                    } else if v > max {
                        (min, v, true)
                    } else {
                        (min, max, min_first)
                    }
                }
            });
        }
    }
    flush(column, extremes, points);
    close(points, &mut start);
}

/// The pixel column (of `width_px` ≥ 1 across the axis) that time `t` falls in.
fn pixel_column(t: f64, t_max: f64, width_px: usize) -> usize {
    let c = (t / t_max * width_px as f64).floor();
    if c.is_finite() && c > 0.0 {
        (c as usize).min(width_px - 1)
    } else {
        0
    }
}

/// Per bucket: its start and the seeds' (median, 2.5%, 97.5% quantile), if any has a value.
type Spread = Vec<(f64, Option<(f64, f64, f64)>)>;
/// Per bucket: its start and a value, if any.
type Values = Vec<(f64, Option<f64>)>;

/// How opaque the band of the seeds' 2.5%–97.5% quantiles is.
const BAND_ALPHA: f64 = 0.22;
/// How opaque the baseline's dashed lines are: the run's own lines stand out over them.
const BASELINE_ALPHA: f64 = 0.6;

/// Sorts the few values of one bucket across seeds (at most [`crate::state::MAX_SEEDS`]):
/// insertion sort, which for so few is as fast as the standard library's and keeps its
/// general sorts (several kilobytes each) out of the page.
fn sort_few(values: &mut [f64]) {
    for i in 1..values.len() {
        let mut j = i;
        while j > 0 && values[j - 1].total_cmp(&values[j]).is_gt() {
            values.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The rows of a run that fall on the axis (`t < t_max`).
fn on_axis(rows: &[Row], t_max: f64) -> usize {
    rows.partition_point(|r| r.t < t_max)
}

/// Per bucket that every seed has (on the axis): the seeds' median, 2.5% and 97.5% quantiles
/// of a series (`None` where no seed has a value).
fn spread(seeds: &[&[Row]], source: Source, t_max: f64) -> Spread {
    use sim_core::replicate::quantile;
    let n = seeds.iter().map(|r| on_axis(r, t_max)).min().unwrap_or(0);
    let mut values = Vec::with_capacity(seeds.len());
    (0..n)
        .map(|b| {
            values.clear();
            values.extend(seeds.iter().filter_map(|r| source.value(&r[b])));
            sort_few(&mut values);
            let q = |p| quantile(&values, p);
            let cell = match (q(0.5), q(0.025), q(0.975)) {
                (Some(m), Some(l), Some(h)) => Some((m, l, h)),
                _ => None,
            };
            (seeds[0][b].t, cell)
        })
        .collect()
}

/// The band's outlines: one polygon per stretch without gaps (the low edge forward, the high
/// edge back). With more than two buckets per pixel column, each column spans its lowest low
/// and highest high, as lines keep their extremes.
fn band_polygons(spread: &Spread, axes: &Axes) -> Vec<Vec<(f64, f64)>> {
    let (lo, hi) = (axes.y.start, axes.y.end);
    let width = axes.width_px.max(1);
    let mut cells: Vec<Option<(f64, f64, f64)>> = Vec::new();
    if spread.len() <= 2 * width {
        cells.extend(
            spread
                .iter()
                .map(|&(t, v)| v.map(|(_, l, h)| (t, l.clamp(lo, hi), h.clamp(lo, hi)))),
        );
    } else {
        let mut column = pixel_column(spread[0].0, axes.t_max, width);
        let mut acc: Option<(f64, f64)> = None;
        let centre = |c: usize| (c as f64 + 0.5) / width as f64 * axes.t_max;
        for &(t, v) in spread {
            let c = pixel_column(t, axes.t_max, width);
            if c != column {
                cells.push(acc.map(|(l, h)| (centre(column), l, h)));
                column = c;
                acc = None;
            }
            if let Some((_, l, h)) = v {
                let (l, h) = (l.clamp(lo, hi), h.clamp(lo, hi));
                acc = Some(acc.map_or((l, h), |(a, b)| (a.min(l), b.max(h))));
            }
        }
        cells.push(acc.map(|(l, h)| (centre(column), l, h)));
    }
    let mut polygons = Vec::new();
    for stretch in cells.split(Option::is_none) {
        let points: Vec<(f64, f64, f64)> = stretch.iter().flatten().copied().collect();
        if points.len() < 2 {
            continue;
        }
        let outline = points
            .iter()
            .map(|&(t, l, _)| (t, l))
            .chain(points.iter().rev().map(|&(t, _, h)| (t, h)))
            .collect();
        polygons.push(outline);
    }
    polygons
}

/// A series of a set of runs as one line: the runs' median per bucket, or the one run's
/// values.
fn median_values(runs: &[&[Row]], source: Source, t_max: f64) -> Values {
    match runs {
        [one] => one[..on_axis(one, t_max)]
            .iter()
            .map(|r| (r.t, source.value(r)))
            .collect(),
        _ => spread(runs, source, t_max)
            .into_iter()
            .map(|(t, v)| (t, v.map(|c| c.0)))
            .collect(),
    }
}

/// The seeds' medians of a stack's sources, as rows the stack is built from.
fn median_rows(seeds: &[&[Row]], sources: &[Source], t_max: f64) -> Vec<Row> {
    use sim_core::replicate::quantile;
    let n = seeds.iter().map(|r| on_axis(r, t_max)).min().unwrap_or(0);
    let mut values = Vec::with_capacity(seeds.len());
    (0..n)
        .map(|b| {
            let mut row = seeds[0][b].clone();
            for &source in sources {
                values.clear();
                values.extend(seeds.iter().map(|r| stacked_value(source, &r[b])));
                sort_few(&mut values);
                source.set(&mut row, quantile(&values, 0.5).unwrap_or(0.0));
            }
            row
        })
        .collect()
}

/// A stacked series' value in a row: a count, so a gap or a negative value counts as 0.
fn stacked_value(source: Source, row: &Row) -> f64 {
    source.value(row).unwrap_or(0.0).max(0.0)
}

/// The upper edges of a stack of areas, one per source in stacking order, all at the same
/// times: each edge is the sum of its source and those below it, held inside the y range.
///
/// With more than two rows per pixel column, each column contributes the mean of its rows at
/// the column's centre: an area's size is what it means (requests), so a mean keeps it, where
/// the lines' minimum and maximum would make every noisy stretch a solid block.
fn build_stack(rows: &[Row], sources: &[Source], axes: &Axes) -> Vec<Vec<(f64, f64)>> {
    let Axes {
        ref y,
        t_max,
        width_px,
        ..
    } = *axes;
    let mut edges: Vec<Vec<(f64, f64)>> = vec![Vec::new(); sources.len()];
    let mut push = |x: f64, values: &[f64]| {
        let mut sum = 0.0;
        for (edge, v) in edges.iter_mut().zip(values) {
            sum += v;
            edge.push((x, sum.clamp(y.start, y.end)));
        }
    };
    let mut values = vec![0.0; sources.len()];
    let width_px = width_px.max(1);
    if rows.len() <= 2 * width_px {
        for row in rows {
            for (v, &s) in values.iter_mut().zip(sources) {
                *v = stacked_value(s, row);
            }
            push(row.t, &values);
        }
    } else {
        let mut column = pixel_column(rows[0].t, t_max, width_px);
        let mut n = 0usize;
        let mut flush = |column: usize, n: usize, values: &mut [f64]| {
            if n > 0 {
                values.iter_mut().for_each(|v| *v /= n as f64);
                push((column as f64 + 0.5) / width_px as f64 * t_max, values);
                values.fill(0.0);
            }
        };
        for row in rows {
            let c = pixel_column(row.t, t_max, width_px);
            if c != column {
                flush(column, n, &mut values);
                column = c;
                n = 0;
            }
            for (v, &s) in values.iter_mut().zip(sources) {
                *v += stacked_value(s, row);
            }
            n += 1;
        }
        flush(column, n, &mut values);
    }
    edges
}

/// How opaque stacked areas are: the trigger bands under them still show through.
const AREA_ALPHA: f64 = 0.9;

/// What the latency chart says when no request it shows succeeded.
const NO_SUCCESS: &str = "no request succeeded";

const FONT: FontFamily<'static> = FontFamily::SansSerif;
const PAD: i32 = 8;
const LINE_H: i32 = 17;

/// How a legend entry's swatch looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// A series line.
    Line,
    /// A reference line or a model's line.
    Dashed,
    /// A stacked area.
    Area,
    /// The light band of the seeds' spread.
    Band,
}

/// One legend entry: a swatch and its label.
struct LegendEntry<'a> {
    label: &'a str,
    color: RGBColor,
    mark: Mark,
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws one chart filling the whole backend. `cursor_t`: draw a vertical cursor line at that
/// simulated time.
pub fn draw<DB: DrawingBackend>(
    backend: DB,
    kind: ChartKind,
    data: &ChartData,
    theme: Theme,
    cursor_t: Option<f64>,
) -> Result<PlotArea, String> {
    let root = backend.into_drawing_area();
    root.fill(&theme.background()).map_err(err)?;

    let t_max = axis_t_max(data);
    let rows = visible_rows(data.rows, t_max);
    let series = series_of(kind, data);
    let until = rows.last().map_or(0.0, |r| r.t + bucket_s(data.scenario));
    // Drawn (and named in the legend) once the run has got far enough for a line.
    let model = model_line(kind, data, until).filter(|m| m.points.len() > 1);
    let mut y = y_range(kind, &series, rows, data);
    if let Some(line) = &model {
        let top = line.points.iter().map(|p| p.1).fold(0.0, f64::max);
        if top > y.end {
            y.end = pad(top).min(VALUE_LIMIT);
        }
    }
    // Several seeds: each line's spread across them. A baseline: its lines (the global
    // series; of a stack, its bottom area's edge). Both stay inside the y range.
    let seeded = data.seeds.len() > 1;
    let spreads: Vec<Option<Spread>> = series
        .iter()
        .map(|s| (seeded && !s.stacked).then(|| spread(data.seeds, s.source, t_max)))
        .collect();
    let first_stacked = series.iter().position(|s| s.stacked);
    let baseline_lines: Vec<Option<Values>> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let runs = data.baseline.filter(|b| !b.is_empty())?;
            let drawn =
                !matches!(s.source, Source::Block(_)) && (!s.stacked || Some(i) == first_stacked);
            drawn.then(|| median_values(runs, s.source, t_max))
        })
        .collect();
    if !matches!(kind, ChartKind::CacheHitRate | ChartKind::BreakerState) {
        let highs = spreads
            .iter()
            .flatten()
            .flatten()
            .filter_map(|(_, c)| c.map(|c| c.2));
        let baselines = baseline_lines
            .iter()
            .flatten()
            .flatten()
            .filter_map(|p| p.1);
        let top = highs
            .chain(baselines)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        if top > y.end {
            y.end = pad(top).min(VALUE_LIMIT);
        }
    }
    let timeout = match kind {
        ChartKind::Latency => timeout_s(data.scenario),
        _ => None,
    };

    let text = theme.text();
    let title_style = TextStyle::from((FONT, 13, FontStyle::Bold).into_font())
        .color(&text)
        .pos(Pos::new(HPos::Left, VPos::Top));
    let label_style = TextStyle::from((FONT, 12).into_font()).color(&text);
    let legend_style = label_style.pos(Pos::new(HPos::Left, VPos::Top));

    let mut legend: Vec<LegendEntry> = series
        .iter()
        .map(|s| LegendEntry {
            label: s.label,
            color: s.swatch.rgb,
            mark: if s.stacked { Mark::Area } else { Mark::Line },
        })
        .collect();
    if let Some(line) = &model {
        legend.push(LegendEntry {
            label: line.label,
            color: line.color,
            mark: Mark::Dashed,
        });
    }
    if timeout.is_some() {
        legend.push(LegendEntry {
            label: "timeout",
            color: PURPLE.rgb,
            mark: Mark::Dashed,
        });
    }
    if spreads.iter().any(Option::is_some) {
        legend.push(LegendEntry {
            label: "95% of seeds",
            color: theme.axis(),
            mark: Mark::Band,
        });
    }
    if baseline_lines.iter().any(Option::is_some) {
        legend.push(LegendEntry {
            label: "baseline",
            color: theme.axis(),
            mark: Mark::Dashed,
        });
    }
    let header_h = draw_header(&root, kind.title(), &title_style, &legend, &legend_style)?;
    let (_, body) = root.split_vertically(header_h);

    // One left margin for every chart and every moment of a run, whatever its data, so that
    // stacked charts share their time axis pixel for pixel and the plot does not shift as the
    // y range grows: wide enough for the widest tick label (`tick_label` keeps them to about
    // five characters) and the rotated axis label.
    let mut tick_w = 0;
    for widest in ["00000", "closed"] {
        tick_w = tick_w.max(
            root.estimate_text_size(widest, &label_style)
                .map_err(err)?
                .0,
        );
    }
    let y_area = i32::try_from(tick_w).unwrap_or(40).clamp(12, 90) + 26;

    let mut chart = ChartBuilder::on(&body)
        .margin_top(4)
        .margin_right(14)
        .margin_bottom(2)
        .margin_left(2)
        .x_label_area_size(34)
        .y_label_area_size(y_area)
        .build_cartesian_2d(0.0..t_max, y.clone())
        .map_err(err)?;

    let x_fmt = |v: &f64| tick_label(*v);
    let y_fmt = |v: &f64| {
        if kind == ChartKind::BreakerState {
            let nearest = [0.0, 0.5, 1.0].into_iter().find(|s| (v - s).abs() < 1e-6);
            nearest.map_or_else(String::new, |s| String::from(breaker_tick(s)))
        } else {
            tick_label(*v)
        }
    };
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(if kind == ChartKind::BreakerState {
            3
        } else {
            5
        })
        .max_light_lines(0)
        .bold_line_style(theme.grid().stroke_width(1))
        .axis_style(theme.axis().stroke_width(1))
        .set_all_tick_mark_size(3)
        .label_style(label_style.clone())
        .axis_desc_style(label_style.clone())
        .x_desc("time (s)")
        .y_desc(kind.y_label())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(err)?;

    let (left, top) = chart.backend_coord(&(0.0, y.end));
    let (right, bottom) = chart.backend_coord(&(t_max, y.start));
    let area = PlotArea {
        left,
        right,
        top,
        bottom,
        t_max,
    };

    // Bands first, so the series are drawn over them.
    let band = theme.band().filled();
    chart
        .draw_series(
            trigger_bands(data.scenario, t_max)
                .into_iter()
                .map(|(a, b)| Rectangle::new([(a, y.start), (b, y.end)], band)),
        )
        .map_err(err)?;

    // The traffic chart names each band (the embed has no trigger strip above its charts):
    // inside the band when the words fit, beside it otherwise.
    if kind == ChartKind::Traffic && right > left {
        let band_style = TextStyle::from((FONT, 11).into_font()).color(&text);
        for (trigger, (a, b)) in data
            .scenario
            .triggers
            .iter()
            .zip(trigger_bands(data.scenario, t_max))
        {
            let words = trigger_words(trigger);
            let (x_a, y_top) = chart.backend_coord(&(a, y.end));
            let (x_b, _) = chart.backend_coord(&(b, y.end));
            let (w, _) = root.estimate_text_size(&words, &band_style).map_err(err)?;
            let w = i32::try_from(w).unwrap_or(0);
            let x = if x_b - x_a >= w + 6 { x_a + 3 } else { x_b + 3 };
            let x = x.min(right - w - 2).max(left + 2);
            root.draw_text(&words, &band_style, (x, y_top + 2))
                .map_err(err)?;
        }
    }
    if let Some(t) = timeout.filter(|t| *t < y.end) {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, t), (t_max, t)],
                6,
                4,
                PURPLE.rgb.stroke_width(1),
            ))
            .map_err(err)?;
    }
    if kind == ChartKind::Amplification {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 1.0), (t_max, 1.0)],
                4,
                4,
                theme.axis().stroke_width(1),
            ))
            .map_err(err)?;
    }

    let axes = Axes {
        y: y.clone(),
        t_max,
        width_px: usize::try_from(right - left).unwrap_or(1).max(1),
        step: matches!(kind, ChartKind::BreakerState | ChartKind::Workers)
            .then_some(bucket_s(data.scenario)),
    };
    let stacked: Vec<&Series> = series.iter().filter(|s| s.stacked).collect();
    if !stacked.is_empty() {
        let sources: Vec<Source> = stacked.iter().map(|s| s.source).collect();
        let medians;
        let stack_rows = if seeded {
            medians = median_rows(data.seeds, &sources, t_max);
            &medians[..]
        } else {
            rows
        };
        let edges = build_stack(stack_rows, &sources, &axes);
        let floor = y.start.max(0.0).min(y.end);
        for (i, (s, upper)) in stacked.iter().zip(&edges).enumerate() {
            let lower: Vec<(f64, f64)> = match i.checked_sub(1) {
                Some(below) => edges[below].clone(),
                None => upper.iter().map(|&(x, _)| (x, floor)).collect(),
            };
            // A series that is 0 throughout adds nothing to draw (its legend entry stays).
            let shows = upper.iter().zip(&lower).any(|(u, l)| u.1 > l.1);
            if upper.len() < 2 || !shows {
                continue;
            }
            let outline: Vec<(f64, f64)> =
                upper.iter().chain(lower.iter().rev()).copied().collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    s.swatch.rgb.mix(AREA_ALPHA).filled(),
                )))
                .map_err(err)?;
        }
    }
    let mut buffers = Line::default();
    for (s, spread) in series.iter().zip(&spreads).filter(|(s, _)| !s.stacked) {
        match spread {
            Some(spread) => {
                let fill = s.swatch.rgb.mix(BAND_ALPHA).filled();
                chart
                    .draw_series(
                        band_polygons(spread, &axes)
                            .into_iter()
                            .map(|outline| Polygon::new(outline, fill)),
                    )
                    .map_err(err)?;
                let medians: Vec<(f64, Option<f64>)> =
                    spread.iter().map(|(t, c)| (*t, c.map(|c| c.0))).collect();
                build_line_of(&medians, &axes, &mut buffers);
            }
            None => build_line(rows, s.source, &axes, &mut buffers),
        }
        let Line { points, runs } = &buffers;
        let line = s.swatch.rgb.stroke_width(2);
        chart
            .draw_series(
                runs.iter()
                    .filter(|r| r.len() > 1)
                    .map(|r| PathElement::new(points[r.clone()].to_vec(), line)),
            )
            .map_err(err)?;
        // A lone value between gaps (one success in a dead stretch) is a dot, not nothing.
        let dot = s.swatch.rgb.filled();
        chart
            .draw_series(
                runs.iter()
                    .filter(|r| r.len() == 1)
                    .map(|r| Circle::new(points[r.start], 2, dot)),
            )
            .map_err(err)?;
    }

    for (s, values) in series.iter().zip(&baseline_lines) {
        let Some(values) = values else {
            continue;
        };
        build_line_of(values, &axes, &mut buffers);
        let style = s.swatch.rgb.mix(BASELINE_ALPHA).stroke_width(2);
        for run in buffers.runs.iter().filter(|r| r.len() > 1) {
            chart
                .draw_series(DashedLineSeries::new(
                    buffers.points[run.clone()].to_vec(),
                    7,
                    4,
                    style,
                ))
                .map_err(err)?;
        }
    }

    if let Some(line) = model {
        chart
            .draw_series(DashedLineSeries::new(
                line.points,
                5,
                3,
                line.color.stroke_width(2),
            ))
            .map_err(err)?;
    }

    // Latencies are of successful requests only: an empty latency chart says why, rather than
    // looking like a chart still waiting for data. Buckets without a success among others are
    // gaps in the lines.
    let none_succeeded = kind == ChartKind::Latency
        && !rows.is_empty()
        && rows
            .iter()
            .all(|r| Source::P50.value(r).is_none() && Source::P99.value(r).is_none());
    if none_succeeded {
        let note_style = TextStyle::from((FONT, 13).into_font())
            .color(&text)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let (w, h) = root
            .estimate_text_size(NO_SUCCESS, &note_style)
            .map_err(err)?;
        let (w, h) = (
            i32::try_from(w).unwrap_or(0) / 2 + 6,
            i32::try_from(h).unwrap_or(0) / 2 + 4,
        );
        let (cx, cy) = ((left + right) / 2, (top + bottom) / 2);
        root.draw(&Rectangle::new(
            [(cx - w, cy - h), (cx + w, cy + h)],
            theme.background().filled(),
        ))
        .map_err(err)?;
        root.draw_text(NO_SUCCESS, &note_style, (cx, cy))
            .map_err(err)?;
    }

    if let Some(t) = cursor_t.filter(|t| t.is_finite() && (0.0..=t_max).contains(t)) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, y.start), (t, y.end)],
                text.mix(0.7).stroke_width(1),
            )))
            .map_err(err)?;
    }

    root.present().map_err(err)?;
    Ok(area)
}

/// The top of the legend's first row: a line below the title's.
const LEGEND_TOP: i32 = 4 + LINE_H + 2;

/// Draws the title on the top line and the legend under it, and returns their height.
///
/// The legend has rows of its own, never the title's, so nothing depends on how wide the
/// title is measured. Rationale: in the browser plotters measures text in a `<span>` styled
/// `font-style: bold`, which CSS ignores (bold is a weight), so a bold title is measured
/// narrower than the canvas draws it, and a legend placed after it ran into its last word
/// (also in the PNG export). Entries wrap onto further rows when they do not fit the width,
/// so a phone-width chart keeps every label readable.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    title_style: &TextStyle,
    legend: &[LegendEntry],
    legend_style: &TextStyle,
) -> Result<i32, String> {
    let width = i32::try_from(root.dim_in_pixel().0).unwrap_or(i32::MAX);
    root.draw_text(title, title_style, (PAD, 4)).map_err(err)?;
    if legend.is_empty() {
        return Ok(LEGEND_TOP);
    }

    let mut x = PAD;
    let mut y = LEGEND_TOP;
    for entry in legend {
        let label_w = root
            .estimate_text_size(entry.label, legend_style)
            .map_err(err)?
            .0;
        let entry_w = 18 + i32::try_from(label_w).unwrap_or(0);
        if x + entry_w > width - PAD && x > PAD {
            x = PAD;
            y += LINE_H;
        }
        let mid = y + 7;
        match entry.mark {
            Mark::Dashed => {
                for dx in [0, 6, 12] {
                    root.draw(&Rectangle::new(
                        [(x + dx, mid), (x + dx + 3, mid + 2)],
                        entry.color.filled(),
                    ))
                    .map_err(err)?;
                }
            }
            Mark::Line => {
                root.draw(&Rectangle::new(
                    [(x, mid - 1), (x + 14, mid + 2)],
                    entry.color.filled(),
                ))
                .map_err(err)?;
            }
            Mark::Area => {
                root.draw(&Rectangle::new(
                    [(x + 2, mid - 5), (x + 12, mid + 5)],
                    entry.color.mix(AREA_ALPHA).filled(),
                ))
                .map_err(err)?;
            }
            Mark::Band => {
                root.draw(&Rectangle::new(
                    [(x, mid - 5), (x + 14, mid + 5)],
                    entry.color.mix(2.0 * BAND_ALPHA).filled(),
                ))
                .map_err(err)?;
            }
        }
        root.draw_text(entry.label, legend_style, (x + 18, y + 1))
            .map_err(err)?;
        x += entry_w + 12;
    }
    Ok(y + LINE_H + 2)
}

// Native only: the SVG backend the tests draw to is not built into the wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use sim_core::{presets, Sim};

    /// A finished run of a scenario: the scenario, its columns and rows.
    struct Run {
        scenario: Scenario,
        columns: Vec<String>,
        rows: Vec<Row>,
    }

    impl Run {
        fn of(scenario: Scenario) -> Run {
            let mut sim = Sim::new(&scenario).unwrap();
            sim.run();
            Run {
                columns: sim.columns().to_vec(),
                rows: sim.rows().to_vec(),
                scenario,
            }
        }

        fn preset(name: &str) -> Run {
            Run::of(presets::load(name).unwrap().unwrap())
        }

        fn data(&self) -> ChartData<'_> {
            ChartData {
                scenario: &self.scenario,
                columns: &self.columns,
                rows: &self.rows,
                model: None,
                seeds: &[],
                baseline: None,
            }
        }
    }

    /// Runs of a preset with consecutive seeds.
    fn seeds_of(name: &str, first: u64, k: u64) -> Vec<Run> {
        (first..first + k)
            .map(|seed| {
                let mut scenario = presets::load(name).unwrap().unwrap();
                scenario.seed = seed;
                Run::of(scenario)
            })
            .collect()
    }

    #[test]
    fn seeds_draw_their_median_over_a_band_of_their_quantiles() {
        let runs = seeds_of("retry-storm", 7, 5);
        let rows: Vec<&[Row]> = runs.iter().map(|r| r.rows.as_slice()).collect();
        let data = ChartData {
            seeds: &rows,
            ..runs[0].data()
        };
        let (svg, _) = svg_of(ChartKind::Traffic, &data, (800, 220), Theme::LIGHT, None);
        assert!(has_text(&svg, "95% of seeds"), "the band is in the legend");
        // A band per line, in the line's colour, light.
        let bands = polygons(&svg, GREEN.hex);
        assert!(!bands.is_empty(), "goodput has a band");
        let height = |p: &Vec<(i32, i32)>| {
            p.iter().map(|q| q.1).max().unwrap() - p.iter().map(|q| q.1).min().unwrap()
        };
        assert!(
            bands.iter().any(|b| height(b) > 20),
            "the seeds differ: the band is wide"
        );
        // The median is not seed 7's own line.
        let (single, _) = svg_of(
            ChartKind::Traffic,
            &runs[0].data(),
            (800, 220),
            Theme::LIGHT,
            None,
        );
        assert_ne!(polylines(&svg, GREEN.hex), polylines(&single, GREEN.hex));
        assert!(!has_text(&single, "95% of seeds"));

        // Identical seeds: the median is the run's own line and the band has no height.
        let same: Vec<&[Row]> = vec![&runs[0].rows; 3];
        let data = ChartData {
            seeds: &same,
            ..runs[0].data()
        };
        let (svg, _) = svg_of(ChartKind::Traffic, &data, (800, 220), Theme::LIGHT, None);
        assert_eq!(polylines(&svg, GREEN.hex), polylines(&single, GREEN.hex));
        for band in polygons(&svg, GREEN.hex) {
            // Each outline goes out along the low edge and back along the high edge.
            let n = band.len();
            for i in 0..n / 2 {
                assert_eq!(
                    band[i],
                    band[n - 1 - i],
                    "a band of identical seeds is a line"
                );
            }
        }
        // Every chart of every kind draws with seeds (the stacked outcomes take medians).
        for run in [Run::preset("cold-cache"), Run::preset("retry-storm-budget")] {
            let many: Vec<&[Row]> = vec![&run.rows; 2];
            let data = ChartData {
                seeds: &many,
                ..run.data()
            };
            for kind in charts_for(&run.scenario) {
                svg_of(kind, &data, (600, 200), Theme::DARK, None);
            }
        }
    }

    #[test]
    fn a_baseline_is_drawn_dashed_and_lighter_beside_the_run() {
        let run = Run::preset("retry-storm-budget");
        let before = Run::preset("retry-storm");
        let baseline: Vec<&[Row]> = vec![&before.rows];
        let data = ChartData {
            baseline: Some(&baseline),
            ..run.data()
        };
        for kind in [ChartKind::Traffic, ChartKind::Outcomes, ChartKind::Backlog] {
            let (svg, _) = svg_of(kind, &data, (800, 220), Theme::LIGHT, None);
            assert!(has_text(&svg, "baseline"), "{kind:?}: in the legend");
            let (alone, _) = svg_of(kind, &run.data(), (800, 220), Theme::LIGHT, None);
            assert!(!has_text(&alone, "baseline"));
            let faint = |svg: &str| {
                tags(svg, "polyline")
                    .into_iter()
                    .filter(|t| attr(t, "opacity").is_some_and(|o| o.starts_with("0.6")))
                    .count()
            };
            assert!(faint(&svg) > 10, "{kind:?}: dashes of the baseline");
            assert_eq!(faint(&alone), 0, "{kind:?}");
        }
        // The baseline's collapse is higher than the fixed run: the axis grows to show it.
        let (svg, _) = svg_of(ChartKind::Backlog, &data, (800, 220), Theme::LIGHT, None);
        let (alone, _) = svg_of(
            ChartKind::Backlog,
            &run.data(),
            (800, 220),
            Theme::LIGHT,
            None,
        );
        assert_ne!(texts(&svg), texts(&alone), "the y ticks differ");
    }

    fn svg_of(
        kind: ChartKind,
        data: &ChartData,
        size: (u32, u32),
        theme: Theme,
        cursor: Option<f64>,
    ) -> (String, PlotArea) {
        let mut svg = String::new();
        let area = draw(
            SVGBackend::with_string(&mut svg, size),
            kind,
            data,
            theme,
            cursor,
        )
        .unwrap();
        (svg, area)
    }

    /// The value of attribute `name` in an SVG tag.
    fn attr<'s>(tag: &'s str, name: &str) -> Option<&'s str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let len = tag[start..].find('"')?;
        Some(&tag[start..start + len])
    }

    /// The x position and content of every text of the SVG.
    fn texts(svg: &str) -> Vec<(i32, String)> {
        svg.match_indices("<text ")
            .map(|(i, _)| {
                let open_end = i + svg[i..].find('>').unwrap() + 1;
                let close = open_end + svg[open_end..].find("</text>").unwrap();
                let x = attr(&svg[i..open_end], "x").unwrap().parse().unwrap();
                (x, svg[open_end..close].trim().to_string())
            })
            .collect()
    }

    fn has_text(svg: &str, text: &str) -> bool {
        texts(svg).iter().any(|(_, t)| t == text)
    }

    /// Every tag `<name ...>` of the SVG.
    fn tags<'s>(svg: &'s str, name: &str) -> Vec<&'s str> {
        let open = format!("<{name} ");
        svg.match_indices(&open)
            .map(|(i, _)| {
                let end = svg[i..].find('>').map_or(svg.len(), |e| i + e + 1);
                &svg[i..end]
            })
            .collect()
    }

    /// Every polyline drawn in `hex`, as pixel points.
    fn polylines(svg: &str, hex: &str) -> Vec<Vec<(i32, i32)>> {
        shapes(svg, "polyline", "stroke", hex)
    }

    /// Every filled polygon (a stacked area) in `hex`, as pixel points.
    fn polygons(svg: &str, hex: &str) -> Vec<Vec<(i32, i32)>> {
        shapes(svg, "polygon", "fill", hex)
    }

    /// The points of every `<name>` whose attribute `paint` is `hex`.
    fn shapes(svg: &str, name: &str, paint: &str, hex: &str) -> Vec<Vec<(i32, i32)>> {
        tags(svg, name)
            .into_iter()
            .filter(|t| attr(t, paint).is_some_and(|s| s.eq_ignore_ascii_case(hex)))
            .map(|t| {
                attr(t, "points")
                    .unwrap()
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    fn breaker_scenario() -> Scenario {
        Scenario::from_json(
            r#"{"version": 1, "seed": 3, "duration_s": 60, "blocks": [
                {"id": "users", "kind": "client", "rate": 50, "timeout_s": 1.0, "to": "guard"},
                {"id": "guard", "kind": "breaker", "to": "api", "min_calls": 5, "open_s": 3},
                {"id": "api", "kind": "server", "workers": 10, "service": {"mean_s": 0.05}}
              ], "triggers": [{"kind": "outage", "target": "api", "at_s": 20, "for_s": 10}]}"#,
        )
        .unwrap()
    }

    fn row(t: f64, offered: f64) -> Row {
        Row {
            t,
            offered,
            goodput: offered,
            throughput: offered,
            attempts: offered,
            latency_p50: Some(0.1),
            latency_p99: Some(0.2),
            latency_mean: Some(0.12),
            in_flight: 5.0,
            queue: 1.0,
            ..Row::default()
        }
    }

    #[test]
    fn ids_round_trip_and_are_distinct() {
        for kind in ChartKind::ALL {
            assert_eq!(ChartKind::from_id(kind.id()), Some(kind));
            assert!(!kind.title().is_empty());
        }
        assert_eq!(ChartKind::from_id("nope"), None);
        assert_eq!(ChartKind::from_id("cache"), Some(ChartKind::CacheHitRate));
    }

    #[test]
    fn charts_for_picks_the_block_charts_exactly_when_their_blocks_exist() {
        let base = [
            ChartKind::Traffic,
            ChartKind::Outcomes,
            ChartKind::Latency,
            ChartKind::Backlog,
            ChartKind::Amplification,
            ChartKind::Useful,
        ];
        let storm = presets::load("retry-storm").unwrap().unwrap();
        assert_eq!(
            charts_for(&storm),
            base,
            "retries without a budget: no tokens"
        );
        let cache = presets::load("cold-cache").unwrap().unwrap();
        assert_eq!(
            charts_for(&cache),
            [&base[..], &[ChartKind::CacheHitRate]].concat()
        );
        let budget = presets::load("retry-storm-budget").unwrap().unwrap();
        assert_eq!(
            charts_for(&budget),
            [&base[..], &[ChartKind::RetryTokens]].concat()
        );
        assert_eq!(
            charts_for(&breaker_scenario()),
            [&base[..], &[ChartKind::BreakerState]].concat()
        );
        let limiter = presets::load("retry-storm-rate-limiter").unwrap().unwrap();
        assert_eq!(
            charts_for(&limiter),
            [&base[..], &[ChartKind::LimiterRejected]].concat()
        );
        let hedging = presets::load("hedging-cuts-the-tail").unwrap().unwrap();
        assert!(charts_for(&hedging).contains(&ChartKind::Hedges));
        let autoscale = presets::load("retry-storm-autoscale").unwrap().unwrap();
        assert_eq!(
            charts_for(&autoscale),
            [&base[..], &[ChartKind::Workers]].concat()
        );
    }

    #[test]
    fn every_applicable_chart_draws_its_lines_legend_and_axis_labels() {
        let runs = [
            Run::preset("retry-storm"),
            Run::preset("cold-cache"),
            Run::preset("retry-storm-budget"),
            Run::preset("retry-storm-rate-limiter"),
            Run::preset("hedging-cuts-the-tail"),
            Run::preset("retry-storm-autoscale"),
            Run::of(breaker_scenario()),
        ];
        for run in &runs {
            let data = run.data();
            for kind in charts_for(&run.scenario) {
                for theme in [Theme::LIGHT, Theme::DARK] {
                    let (svg, _) = svg_of(kind, &data, (800, 300), theme, None);
                    let what = format!("{} / {kind:?}", run.scenario.name);
                    assert!(has_text(&svg, kind.title()), "{what}: title");
                    assert!(has_text(&svg, "time (s)"), "{what}: x label");
                    assert!(has_text(&svg, kind.y_label()), "{what}: y label");
                    for s in series_of(kind, &data) {
                        assert!(has_text(&svg, s.label), "{what}: legend {}", s.label);
                        if s.stacked {
                            // An area, when the series is not 0 throughout.
                            let any = run.rows.iter().any(|r| stacked_value(s.source, r) > 0.0);
                            let areas = polygons(&svg, s.swatch.hex);
                            assert_eq!(areas.len(), usize::from(any), "{what}: {}", s.label);
                            continue;
                        }
                        let longest = polylines(&svg, s.swatch.hex)
                            .iter()
                            .map(Vec::len)
                            .max()
                            .unwrap_or(0);
                        assert!(longest >= 20, "{what}: {} has {longest} points", s.label);
                    }
                    assert!(
                        svg.contains(&format!("fill=\"{}\"", theme.background_hex()))
                            || svg.contains(&format!(
                                "fill=\"{}\"",
                                theme.background_hex().to_ascii_uppercase()
                            )),
                        "{what}: background"
                    );
                }
            }
        }
    }

    #[test]
    fn the_retry_storm_traffic_chart_has_three_long_lines() {
        let run = Run::preset("retry-storm");
        let (svg, _) = svg_of(
            ChartKind::Traffic,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        for hex in [ORANGE.hex, BLUE.hex, GREEN.hex] {
            let lines = polylines(&svg, hex);
            assert_eq!(lines.len(), 1, "{hex}: one unbroken line");
            assert_eq!(
                lines[0].len(),
                300,
                "{hex}: every row below 2 rows per pixel"
            );
        }
        assert!(has_text(&svg, "requests/s"));
    }

    #[test]
    fn latency_chart_shows_the_timeout_line() {
        let run = Run::preset("retry-storm");
        let (svg, area) = svg_of(
            ChartKind::Latency,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        assert!(has_text(&svg, "timeout"));
        // The dashed line is many short purple segments, all at the same height.
        let dashes = polylines(&svg, PURPLE.hex);
        assert!(dashes.len() > 10, "{} dashes", dashes.len());
        let y = dashes[0][0].1;
        assert!(dashes.iter().flatten().all(|p| p.1 == y));
        assert!(y > area.top && y < area.bottom);
    }

    #[test]
    fn the_trigger_band_sits_under_the_spike() {
        let run = Run::preset("retry-storm");
        for kind in ChartKind::ALL {
            let (svg, area) = svg_of(kind, &run.data(), (800, 300), Theme::LIGHT, None);
            let (x60, x70) = (area.x_at(60.0), area.x_at(70.0));
            let band = tags(&svg, "rect").into_iter().find(|r| {
                let x: f64 = attr(r, "x").unwrap().parse().unwrap();
                let w: f64 = attr(r, "width").unwrap().parse().unwrap();
                (x - x60).abs() <= 1.0 && (x + w - x70).abs() <= 1.0
            });
            let band = band.unwrap_or_else(|| panic!("{kind:?}: no band at 60..70 s"));
            let opacity: f64 = attr(band, "opacity").unwrap().parse().unwrap();
            assert!(opacity < 0.5, "translucent");
            // Drawn before the series, so the lines stay on top.
            let band_at = svg.find(band).unwrap();
            if let Some(line_at) = svg.find("stroke=\"#0072B2\" stroke-width=\"2\"") {
                assert!(line_at > band_at, "{kind:?}: band over the line");
            }
        }
    }

    #[test]
    fn an_instant_trigger_gets_a_thin_band() {
        let run = Run::preset("cold-cache");
        let (svg, area) = svg_of(
            ChartKind::CacheHitRate,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        let x60 = area.x_at(60.0);
        let widths: Vec<f64> = tags(&svg, "rect")
            .into_iter()
            .filter(|r| (attr(r, "x").unwrap().parse::<f64>().unwrap() - x60).abs() <= 1.0)
            .map(|r| attr(r, "width").unwrap().parse().unwrap())
            .collect();
        assert!(
            widths.iter().any(|w| *w >= 1.0 && *w <= 8.0),
            "a flush is a thin band: {widths:?}"
        );
    }

    #[test]
    fn empty_rows_draw_the_axes_and_bands_without_lines() {
        let scenario = presets::load("retry-storm").unwrap().unwrap();
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &[],
            model: None,
            seeds: &[],
            baseline: None,
        };
        for kind in ChartKind::ALL {
            let (svg, area) = svg_of(kind, &data, (360, 220), Theme::DARK, Some(10.0));
            assert!(has_text(&svg, "time (s)"), "{kind:?}");
            assert!(area.right > area.left && area.bottom > area.top, "{kind:?}");
            assert_eq!(area.t_max, 300.0);
            for s in series_of(kind, &data) {
                assert!(polylines(&svg, s.swatch.hex).is_empty(), "{kind:?}");
            }
            assert!(readout(kind, &data, 10.0).is_empty());
        }
    }

    #[test]
    fn the_fluid_model_is_drawn_dashed_over_the_queue_and_goodput_only() {
        let run = Run::preset("retry-storm");
        let trajectory = fluid::Fluid::of(&run.scenario).unwrap().trajectory(1.0);
        let with_model = ChartData {
            model: Some(&trajectory),
            seeds: &[],
            baseline: None,
            ..run.data()
        };
        let size = (800, 220);
        for kind in [ChartKind::Backlog, ChartKind::Traffic] {
            let (svg, _) = svg_of(kind, &with_model, size, Theme::LIGHT, None);
            let (plain, _) = svg_of(kind, &run.data(), size, Theme::LIGHT, None);
            let label = if kind == ChartKind::Backlog {
                "model queue"
            } else {
                "model goodput"
            };
            assert!(has_text(&svg, label), "{kind:?}: legend {label}");
            assert!(!has_text(&plain, label));
            // Dashes: many short segments more than the chart without the model.
            let count = |svg: &str| tags(svg, "polyline").len() + tags(svg, "line").len();
            assert!(
                count(&svg) > count(&plain) + 50,
                "{kind:?}: {} vs {}",
                count(&svg),
                count(&plain)
            );
        }
        let (latency, _) = svg_of(ChartKind::Latency, &with_model, size, Theme::LIGHT, None);
        assert!(!has_text(&latency, "model queue") && !has_text(&latency, "model goodput"));
        // Before the run has rows, nothing of the model is drawn.
        let empty = ChartData {
            rows: &[],
            ..with_model
        };
        let (svg, _) = svg_of(ChartKind::Backlog, &empty, size, Theme::LIGHT, None);
        assert!(!has_text(&svg, "model queue"));
    }

    #[test]
    fn the_axis_stays_at_the_full_duration_while_the_run_grows() {
        let run = Run::preset("retry-storm");
        let partial = ChartData {
            rows: &run.rows[..50],
            ..run.data()
        };
        let (svg, full) = svg_of(
            ChartKind::Traffic,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        let (partial_svg, grown) =
            svg_of(ChartKind::Traffic, &partial, (800, 300), Theme::LIGHT, None);
        assert_eq!(full, grown, "the plot area does not move");
        let last_x = |svg: &str| polylines(svg, GREEN.hex)[0].last().unwrap().0;
        assert!(
            last_x(&partial_svg) < area_mid(&grown),
            "50 s of 300 ends on the left"
        );
        assert!(last_x(&svg) > area_mid(&full));
    }

    fn area_mid(area: &PlotArea) -> i32 {
        (area.left + area.right) / 2
    }

    #[test]
    fn time_at_maps_the_plot_edges_to_the_axis_ends() {
        let run = Run::preset("retry-storm");
        let (_, area) = svg_of(
            ChartKind::Traffic,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        assert_eq!(area.time_at(f64::from(area.left)), Some(0.0));
        assert_eq!(area.time_at(f64::from(area.right)), Some(300.0));
        let mid = area.time_at(area.x_at(150.0)).unwrap();
        assert!((mid - 150.0).abs() < 1e-9);
        assert_eq!(area.time_at(f64::from(area.left) - 1.0), None);
        assert_eq!(area.time_at(f64::from(area.right) + 1.0), None);
        assert_eq!(area.time_at(f64::NAN), None);
        assert_eq!(PlotArea::default().time_at(0.0), None);
        assert!(area.left > 20 && area.right < 800 && area.right - area.left > 600);
    }

    #[test]
    fn readout_gives_every_series_with_units_and_colours() {
        let run = Run::preset("retry-storm");
        let data = run.data();
        let traffic = readout(ChartKind::Traffic, &data, 100.0);
        let labels: Vec<&str> = traffic.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["offered", "throughput", "goodput"]);
        for r in &traffic {
            let (number, unit) = r.value.split_once(' ').unwrap();
            assert!(number.parse::<f64>().unwrap().is_finite(), "{r:?}");
            assert_eq!(unit, "req/s");
            assert!(r.color.len() == 7 && r.color.starts_with('#'), "{r:?}");
            assert!(u32::from_str_radix(&r.color[1..], 16).is_ok());
        }
        let row = &run.rows[100];
        assert_eq!(
            traffic[0].value,
            format!("{} req/s", short_number(row.offered))
        );
        // Any t inside the bucket reads the same row.
        assert_eq!(readout(ChartKind::Traffic, &data, 100.99), traffic);

        let amplification = readout(ChartKind::Amplification, &data, 200.0);
        assert_eq!(amplification.len(), 1);
        assert!(amplification[0].value.ends_with('×'));
        // The retry storm's servers stay busy, but after the collapse nothing they do matters.
        assert_eq!(readout(ChartKind::Useful, &data, 30.0)[0].value, "100%");
        assert_eq!(readout(ChartKind::Useful, &data, 250.0)[0].value, "0%");
        assert_eq!(readout(ChartKind::Latency, &data, 150.0).len(), 2);
        assert_eq!(readout(ChartKind::Backlog, &data, 150.0).len(), 2);
        assert!(readout(ChartKind::Traffic, &data, -1.0).is_empty());
        assert!(readout(ChartKind::Traffic, &data, 300.0).is_empty());
        assert!(readout(ChartKind::Traffic, &data, f64::NAN).is_empty());
    }

    #[test]
    fn block_readouts_use_block_ids_and_block_units() {
        let cache = Run::preset("cold-cache");
        let hit = readout(ChartKind::CacheHitRate, &cache.data(), 30.0);
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].label, "cache");
        assert!(hit[0].value.ends_with('%'), "{hit:?}");

        let budget = Run::preset("retry-storm-budget");
        let tokens = readout(ChartKind::RetryTokens, &budget.data(), 30.0);
        assert_eq!(tokens[0].label, "retries");
        assert!(tokens[0].value.ends_with(" tokens"), "{tokens:?}");

        let breaker = Run::of(breaker_scenario());
        let states: Vec<String> = (0..60)
            .flat_map(|t| readout(ChartKind::BreakerState, &breaker.data(), f64::from(t)))
            .map(|r| r.value)
            .collect();
        assert_eq!(states.len(), 60);
        assert_eq!(states[5], "closed");
        assert!(states.iter().any(|s| s == "open"), "{states:?}");
        assert!(states
            .iter()
            .all(|s| ["closed", "half-open", "open"].contains(&s.as_str())));
    }

    #[test]
    fn latency_gaps_break_the_line_instead_of_dropping_to_zero() {
        let scenario = presets::load("retry-storm").unwrap().unwrap();
        let rows: Vec<Row> = (0..300)
            .map(|t| {
                let mut r = row(f64::from(t), 80.0);
                if (100..150).contains(&t) {
                    r.latency_p50 = None;
                    r.latency_p99 = None;
                }
                r
            })
            .collect();
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &rows,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let (svg, area) = svg_of(ChartKind::Latency, &data, (800, 300), Theme::LIGHT, None);
        for hex in [BLUE.hex, VERMILLION.hex] {
            let lines = polylines(&svg, hex);
            assert_eq!(lines.len(), 2, "{hex}: two pieces around the gap");
            let (x100, x150) = (area.x_at(100.0), area.x_at(150.0));
            for p in lines.iter().flatten() {
                assert!(p.1 < area.bottom - 5, "{hex}: a point at zero: {p:?}");
                let x = f64::from(p.0);
                assert!(
                    x < x100 || x >= x150 - 1.0,
                    "{hex}: a point in the gap: {p:?}"
                );
            }
        }
        let reading = readout(ChartKind::Latency, &data, 120.0);
        assert!(reading.iter().all(|r| r.value == "—"), "{reading:?}");
        assert_eq!(readout(ChartKind::Latency, &data, 10.0)[0].value, "100 ms");
    }

    #[test]
    fn a_lone_value_between_gaps_is_a_dot() {
        let scenario = presets::load("retry-storm").unwrap().unwrap();
        let rows: Vec<Row> = (0..300)
            .map(|t| {
                let mut r = row(f64::from(t), 80.0);
                if t != 200 {
                    r.latency_p99 = None;
                }
                r
            })
            .collect();
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &rows,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let (svg, _) = svg_of(ChartKind::Latency, &data, (800, 300), Theme::LIGHT, None);
        assert!(polylines(&svg, VERMILLION.hex).is_empty());
        let dots = tags(&svg, "circle")
            .into_iter()
            .filter(|c| attr(c, "fill").is_some_and(|f| f.eq_ignore_ascii_case(VERMILLION.hex)))
            .count();
        assert_eq!(dots, 1);
    }

    #[test]
    fn decimation_keeps_a_one_bucket_spike_on_a_long_run() {
        let mut scenario = presets::load("retry-storm").unwrap().unwrap();
        scenario.duration_s = 3600.0;
        let rows: Vec<Row> = (0..3600)
            .map(|t| row(f64::from(t), if t == 1234 { 1000.0 } else { 10.0 }))
            .collect();
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &rows,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let (svg, area) = svg_of(ChartKind::Traffic, &data, (300, 200), Theme::LIGHT, None);
        let lines = polylines(&svg, ORANGE.hex);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        let width = usize::try_from(area.right - area.left).unwrap();
        assert!(
            line.len() <= 2 * width + 2,
            "{} points for {width} px",
            line.len()
        );
        // The y axis runs to 1100, so the spike's top is 1/11 of the plot below its top.
        let spike_y = area.top + (area.bottom - area.top) / 11;
        let highest = line.iter().map(|p| p.1).min().unwrap();
        assert!((highest - spike_y).abs() <= 2, "{highest} vs {spike_y}");
        let spike_x = area.x_at(1234.0);
        let at = line.iter().find(|p| p.1 == highest).unwrap();
        assert!(
            (f64::from(at.0) - spike_x).abs() <= 2.0,
            "{at:?} vs {spike_x}"
        );
        // The baseline stays near the bottom.
        let baseline = line.iter().filter(|p| p.1 > area.bottom - 5).count();
        assert!(baseline > width / 2);
    }

    #[test]
    fn the_cursor_is_a_vertical_line_at_its_time() {
        let run = Run::preset("retry-storm");
        let (svg, area) = svg_of(
            ChartKind::Backlog,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            Some(150.0),
        );
        let x = area.x_at(150.0);
        let cursor = tags(&svg, "polyline").into_iter().any(|t| {
            let points: Vec<&str> = attr(t, "points").unwrap().split_whitespace().collect();
            points.len() == 2
                && points.iter().all(|p| {
                    let px: f64 = p.split_once(',').unwrap().0.parse().unwrap();
                    (px - x).abs() <= 1.0
                })
        });
        assert!(cursor, "no cursor at x = {x}");
        let (no_cursor, _) = svg_of(
            ChartKind::Backlog,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            Some(f64::NAN),
        );
        let (plain, _) = svg_of(
            ChartKind::Backlog,
            &run.data(),
            (800, 300),
            Theme::LIGHT,
            None,
        );
        assert_eq!(no_cursor, plain);
    }

    #[test]
    fn a_phone_width_chart_keeps_the_legend_inside() {
        let run = Run::preset("retry-storm");
        for kind in charts_for(&run.scenario) {
            let (svg, area) = svg_of(kind, &run.data(), (360, 220), Theme::LIGHT, None);
            for (x, text) in texts(&svg) {
                assert!((0..360).contains(&x), "{kind:?}: {text} at x = {x}");
            }
            assert!(area.right - area.left > 250, "{kind:?}: {area:?}");
            assert!(area.bottom - area.top > 100, "{kind:?}: {area:?}");
            let x_labels = tags(&svg, "text")
                .into_iter()
                .filter(|t| attr(t, "text-anchor") == Some("middle"))
                .count();
            assert!(x_labels <= 8, "{kind:?}: {x_labels} x labels");
        }
    }

    #[test]
    fn odd_data_never_panics() {
        // The budget preset, so that the NaN block value below is read by the tokens chart.
        let mut scenario = presets::load("retry-storm-budget").unwrap().unwrap();
        let mut odd = vec![row(0.0, f64::NAN), row(1.0, f64::INFINITY), row(2.0, 0.0)];
        odd[0].latency_p99 = Some(f64::NAN);
        odd[1].latency_p50 = Some(f64::NEG_INFINITY);
        odd[2].blocks = vec![Some(f64::NAN); 5];
        let zeros: Vec<Row> = (0..10).map(|t| row(f64::from(t), 0.0)).collect();
        let one = vec![row(0.0, 5.0)];
        let huge = vec![row(0.0, f64::MAX), row(1.0, -f64::MAX)];
        let columns: Vec<String> = GLOBAL_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .chain(["retries.tokens".into(), "x".into()])
            .collect();
        for rows in [&odd, &zeros, &one, &huge] {
            for duration in [300.0, 0.0, f64::NAN, 1e8] {
                scenario.duration_s = duration;
                let data = ChartData {
                    scenario: &scenario,
                    columns: &columns,
                    rows,
                    model: None,
                    seeds: &[],
                    baseline: None,
                };
                for kind in ChartKind::ALL {
                    for size in [(800, 300), (360, 200), (20, 20), (1, 1)] {
                        let mut svg = String::new();
                        let drawn = draw(
                            SVGBackend::with_string(&mut svg, size),
                            kind,
                            &data,
                            Theme::DARK,
                            Some(1.0),
                        );
                        assert!(drawn.is_ok(), "{kind:?} {size:?}: {drawn:?}");
                    }
                    for t in [0.0, 0.5, 2.0, -3.0, f64::INFINITY] {
                        readout(kind, &data, t);
                    }
                }
            }
        }
    }

    #[test]
    fn an_all_zero_run_keeps_a_unit_axis_and_no_amplification() {
        let scenario = presets::load("retry-storm").unwrap().unwrap();
        let zeros: Vec<Row> = (0..10).map(|t| row(f64::from(t), 0.0)).collect();
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &zeros,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let series = series_of(ChartKind::Traffic, &data);
        assert_eq!(
            y_range(ChartKind::Traffic, &series, &zeros, &data),
            0.0..1.0
        );
        // Nothing offered: attempts per request is undefined, a gap rather than 0 or NaN.
        assert_eq!(readout(ChartKind::Amplification, &data, 3.0)[0].value, "—");
        let (svg, _) = svg_of(
            ChartKind::Amplification,
            &data,
            (800, 300),
            Theme::LIGHT,
            None,
        );
        assert!(
            polylines(&svg, PURPLE.hex).is_empty(),
            "no amplification line"
        );
    }

    /// Every text of the SVG: its content, x, top (`y`, drawn from the top with `dy`) and
    /// font size, so its box is `top..top + size` high.
    fn text_boxes(svg: &str) -> Vec<(String, i32, f64, f64)> {
        tags(svg, "text")
            .into_iter()
            .zip(texts(svg))
            .map(|(tag, (x, text))| {
                let y: f64 = attr(tag, "y").unwrap().parse().unwrap();
                let size: f64 = attr(tag, "font-size").unwrap().parse().unwrap();
                let top = match attr(tag, "dy") {
                    Some("0.76em") => y,
                    // Centred or bottom-anchored text: its box reaches half or all of it up.
                    Some("0.5ex") => y - size / 2.0,
                    _ => y - size,
                };
                (text, x, top, size)
            })
            .collect()
    }

    #[test]
    fn the_legend_never_shares_a_line_with_the_title() {
        let runs = [
            Run::preset("retry-storm"),
            Run::preset("cold-cache"),
            Run::preset("retry-storm-budget"),
            Run::of(breaker_scenario()),
        ];
        for run in &runs {
            let trajectory = fluid::Fluid::of(&run.scenario)
                .ok()
                .map(|f| f.trajectory(1.0));
            let data = ChartData {
                model: trajectory.as_deref(),
                seeds: &[],
                baseline: None,
                ..run.data()
            };
            for kind in charts_for(&run.scenario) {
                let mut labels: Vec<&str> =
                    series_of(kind, &data).iter().map(|s| s.label).collect();
                labels.extend(["timeout", "model goodput", "model queue"]);
                for width in [360, 800, 1200] {
                    let (svg, area) = svg_of(kind, &data, (width, 220), Theme::LIGHT, None);
                    let what = format!("{} / {kind:?} at {width} px", run.scenario.name);
                    let boxes = text_boxes(&svg);
                    let title = boxes
                        .iter()
                        .find(|b| b.0 == kind.title())
                        .unwrap_or_else(|| panic!("{what}: no title"));
                    let title_y = title.2..title.2 + title.3;
                    let legend: Vec<_> = boxes
                        .iter()
                        .filter(|b| labels.contains(&b.0.as_str()))
                        .collect();
                    assert!(!legend.is_empty(), "{what}: no legend");
                    for entry in legend {
                        let entry_y = entry.2..entry.2 + entry.3;
                        assert!(
                            entry_y.start >= title_y.end || entry_y.end <= title_y.start,
                            "{what}: {} at {entry_y:?} on the title's line {title_y:?}",
                            entry.0
                        );
                        assert!(
                            entry_y.end <= f64::from(area.top),
                            "{what}: {} runs into the plot",
                            entry.0
                        );
                    }
                }
            }
        }
    }

    fn outcome_rows(n: u32, f: impl Fn(u32, &mut Row)) -> Vec<Row> {
        (0..n)
            .map(|t| {
                let mut r = row(f64::from(t), 80.0);
                f(t, &mut r);
                r
            })
            .collect()
    }

    #[test]
    fn outcomes_stack_good_under_the_failures_with_late_as_a_line() {
        let scenario = presets::load("retry-storm").unwrap().unwrap();
        let rows = outcome_rows(300, |_, r| {
            r.goodput = 30.0;
            r.failed_timeout = 50.0;
            r.ended_late = 20.0;
        });
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &rows,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let (svg, area) = svg_of(ChartKind::Outcomes, &data, (800, 300), Theme::LIGHT, None);
        // The axis runs to 1.1 × the stack's top, 80.
        let y_of =
            |v: f64| f64::from(area.top) + (1.0 - v / 88.0) * f64::from(area.bottom - area.top);
        let near = |p: &(i32, i32), v: f64| (f64::from(p.1) - y_of(v)).abs() <= 1.0;
        let good = polygons(&svg, GREEN.hex);
        assert_eq!(good.len(), 1);
        assert!(
            good[0].iter().all(|p| near(p, 30.0) || near(p, 0.0)),
            "{good:?}"
        );
        assert!(good[0].iter().any(|p| near(p, 30.0)) && good[0].iter().any(|p| near(p, 0.0)));
        let timed_out = polygons(&svg, VERMILLION.hex);
        assert_eq!(timed_out.len(), 1);
        assert!(timed_out[0].iter().all(|p| near(p, 80.0) || near(p, 30.0)));
        assert!(timed_out[0].iter().any(|p| near(p, 80.0)));
        for hex in [ORANGE.hex, PURPLE.hex] {
            assert!(polygons(&svg, hex).is_empty(), "{hex}: nothing to stack");
        }
        let late = polylines(&svg, BLUE.hex);
        assert_eq!(late.len(), 1);
        assert!(late[0].iter().all(|p| near(p, 20.0)), "late is not stacked");
        // The legend names every series, the areas with squares.
        for label in ["good", "late", "timed out", "errors", "rejected"] {
            assert!(has_text(&svg, label), "{label}");
        }
        let reading = readout(ChartKind::Outcomes, &data, 10.0);
        let pairs: Vec<(&str, &str)> = reading
            .iter()
            .map(|r| (r.label.as_str(), r.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("good", "30 req/s"),
                ("late", "20 req/s"),
                ("timed out", "50 req/s"),
                ("errors", "0 req/s"),
                ("rejected", "0 req/s")
            ]
        );
    }

    #[test]
    fn a_decimated_stack_keeps_the_mean_of_each_column() {
        let mut scenario = presets::load("retry-storm").unwrap().unwrap();
        scenario.duration_s = 3600.0;
        // Good alternates 0 and 100: 50 on average; the rest always 20 rejected.
        let rows = outcome_rows(3600, |t, r| {
            r.goodput = if t % 2 == 0 { 0.0 } else { 100.0 };
            r.failed_rejected = 20.0;
        });
        let data = ChartData {
            scenario: &scenario,
            columns: &[],
            rows: &rows,
            model: None,
            seeds: &[],
            baseline: None,
        };
        let (svg, area) = svg_of(ChartKind::Outcomes, &data, (300, 200), Theme::LIGHT, None);
        let width = usize::try_from(area.right - area.left).unwrap();
        // The axis runs to 1.1 × 120, the highest single row.
        let y_of =
            |v: f64| f64::from(area.top) + (1.0 - v / 132.0) * f64::from(area.bottom - area.top);
        // A column holds 14 or 15 rows, so its mean of good is 50 or 7/15 or 8/15 of 100.
        let within = |edge: &[(i32, i32)], lo: f64, hi: f64| {
            edge.iter().all(|p| {
                let y = f64::from(p.1);
                y >= y_of(hi) - 1.0 && y <= y_of(lo) + 1.0
            })
        };
        let good = polygons(&svg, GREEN.hex);
        assert_eq!(good.len(), 1);
        let points = good[0].len();
        assert!(
            points <= 2 * (2 * width + 2),
            "{points} points for {width} px"
        );
        // The outline is the top edge, then the bottom one back.
        let (top, bottom) = good[0].split_at(points / 2);
        assert!(within(top, 46.0, 54.0), "{top:?}");
        assert!(within(bottom, 0.0, 0.0));
        let rejected = polygons(&svg, PURPLE.hex);
        assert!(within(rejected[0].split_at(points / 2).0, 66.0, 74.0));
    }

    #[test]
    fn the_retry_storm_shows_its_requests_timing_out() {
        let run = Run::preset("retry-storm");
        let data = run.data();
        let (svg, _) = svg_of(ChartKind::Outcomes, &data, (800, 300), Theme::LIGHT, None);
        assert_eq!(polygons(&svg, GREEN.hex).len(), 1);
        assert_eq!(polygons(&svg, VERMILLION.hex).len(), 1);
        assert!(polygons(&svg, ORANGE.hex).is_empty() && polygons(&svg, PURPLE.hex).is_empty());
        assert_eq!(polylines(&svg, BLUE.hex).len(), 1, "late");
        let reading = readout(ChartKind::Outcomes, &data, 200.0);
        let labels: Vec<&str> = reading.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["good", "late", "timed out", "errors", "rejected"]);
        let row = &run.rows[200];
        assert!(row.failed_timeout > 60.0, "{row:?}");
        assert_eq!(
            reading[2].value,
            format!("{} req/s", short_number(row.failed_timeout))
        );
    }

    fn note_at(svg: &str) -> Option<(i32, f64)> {
        text_boxes(svg)
            .into_iter()
            .find(|b| b.0 == NO_SUCCESS)
            .map(|b| (b.1, b.2 + b.3 / 2.0))
    }

    #[test]
    fn a_latency_chart_without_any_success_says_so() {
        let failing = Run::of(
            Scenario::from_json(
                r#"{"version": 1, "seed": 1, "duration_s": 60, "blocks": [
                {"id": "users", "kind": "client", "rate": 20, "timeout_s": 1, "to": "api"},
                {"id": "api", "kind": "server", "workers": 4, "error_rate": 1,
                 "service": {"mean_s": 0.05}}]}"#,
            )
            .unwrap(),
        );
        assert!(failing.rows.iter().all(|r| r.latency_p50.is_none()));
        for (width, rows) in [(800, 60), (360, 60), (800, 5)] {
            let data = ChartData {
                rows: &failing.rows[..rows],
                ..failing.data()
            };
            let (svg, area) = svg_of(ChartKind::Latency, &data, (width, 220), Theme::DARK, None);
            let (x, y) =
                note_at(&svg).unwrap_or_else(|| panic!("{width} px, {rows} rows: no note"));
            assert!(
                (x - (area.left + area.right) / 2).abs() <= 1,
                "{x} in {area:?}"
            );
            let mid = f64::from(area.top + area.bottom) / 2.0;
            assert!((y - mid).abs() <= 4.0, "{y} in {area:?}");
            // Only on the latency chart.
            let (traffic, _) = svg_of(ChartKind::Traffic, &data, (width, 220), Theme::DARK, None);
            assert!(note_at(&traffic).is_none());
        }
        // Not before the run has rows, nor when some buckets had successes.
        let (empty, _) = svg_of(
            ChartKind::Latency,
            &ChartData {
                rows: &[],
                ..failing.data()
            },
            (800, 220),
            Theme::LIGHT,
            None,
        );
        assert!(note_at(&empty).is_none());
        let storm = Run::preset("retry-storm");
        let (svg, _) = svg_of(
            ChartKind::Latency,
            &storm.data(),
            (800, 220),
            Theme::LIGHT,
            None,
        );
        assert!(
            storm.rows.iter().any(|r| r.latency_p50.is_none()),
            "the storm has gaps"
        );
        assert!(note_at(&svg).is_none());
        assert!(has_text(&svg, "Latency of successful requests (p50, p99)"));
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(short_number(80.0), "80");
        assert_eq!(short_number(0.2 + 0.1), "0.3");
        assert_eq!(short_number(12.345), "12.3");
        assert_eq!(short_number(-0.0), "0");
        assert_eq!(tick_label(46_000.0), "46k");
        assert_eq!(tick_label(2_500.0), "2500");
        assert_eq!(tick_label(3.0e6), "3M");
        assert_eq!(format_value(Unit::Seconds, Some(1.5)), "1.5 s");
        assert_eq!(format_value(Unit::Fraction, Some(0.666)), "67%");
        assert_eq!(format_value(Unit::Ratio, Some(4.0)), "4.00×");
    }
}
