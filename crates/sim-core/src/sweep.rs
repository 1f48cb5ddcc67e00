//! Parameter sweeps (SPEC §5): a grid over one or two `--set` paths, every point run with `k`
//! seeds, each point summarised in one CSV row (the swept values, the majority verdict, the
//! fraction of seeds per verdict and the seeds' mean summary).
//!
//! Plain data and pure functions: the caller runs the points however it likes (the CLI on
//! all cores; a browser in workers). Point `(i, j)` with seed index `s` is always the same
//! scenario: the base document with the two values set and the seed `base seed + s`.
//!
//! Seeds are `u64` end to end (SPEC §10): the base seed is read from the validated scenario,
//! never through an `f64`, and a `seed` axis holds its seeds as exact whole numbers
//! ([`Axis::seeds`]). The `k` seeds of a point are `s, s + 1, …, s + k − 1` modulo 2⁶⁴: after
//! 18446744073709551615 comes 0 ([`u64::wrapping_add`]).

use crate::scenario::{get_path, set_path, Scenario};
use crate::verdict::{Summary, Verdict};
use serde_json::Value;

/// Most points a sweep may have (a grid side is at most this too): a typo such as `:1000`
/// on both axes should be an error, not a day of computing.
pub const MAX_POINTS: usize = 10_000;

/// Most seeds per point.
pub const MAX_SEEDS: u32 = 1000;

/// The path of the scenario's seed: an axis over it sweeps seeds.
pub const SEED_PATH: &str = "seed";

/// One swept parameter: a `--set` path and its values, low to high.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<f64>,
    /// The same values as exact whole numbers, for an axis over the `seed` (an `f64` is exact
    /// only up to 2⁵³; a seed goes to 2⁶⁴ − 1). `None` elsewhere; `None` on a seed axis
    /// means "read them from `values`" (each must then be a whole number in range).
    pub seeds: Option<Vec<u64>>,
}

impl Axis {
    /// An axis of these values (exact seeds, for a `seed` axis, are read from them).
    pub fn new(path: impl Into<String>, values: Vec<f64>) -> Axis {
        Axis {
            path: path.into(),
            values,
            seeds: None,
        }
    }

    /// An axis over the scenario's seed with exactly these seeds.
    pub fn of_seeds(seeds: Vec<u64>) -> Axis {
        Axis {
            path: SEED_PATH.into(),
            values: seeds.iter().map(|&s| s as f64).collect(),
            seeds: Some(seeds),
        }
    }

    /// Whether this axis sweeps the scenario's seed.
    pub fn is_seed(&self) -> bool {
        self.path == SEED_PATH
    }

    /// Parses `path=lo..hi:n`: `n` evenly spaced values from `lo` to `hi` inclusive (`n` = 1
    /// gives `lo` alone). A `seed` axis takes whole numbers from 0 to 2⁶⁴ − 1, read and
    /// spaced exactly (rounded to whole numbers).
    pub fn parse(spec: &str) -> Result<Axis, String> {
        let expected = "expected PATH=LO..HI:N, e.g. users.rate=50..150:11";
        let (path, range) = spec
            .split_once('=')
            .ok_or_else(|| format!("`{spec}`: {expected}"))?;
        let (bounds, n) = range
            .rsplit_once(':')
            .ok_or_else(|| format!("`{spec}`: no number of points (`:N`); {expected}"))?;
        let (lo, hi) = bounds
            .split_once("..")
            .ok_or_else(|| format!("`{spec}`: no range (`LO..HI`); {expected}"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("`{spec}`: the number of points `{n}` is not a whole number"))?;
        if n == 0 || n > MAX_POINTS {
            return Err(format!(
                "`{spec}`: the number of points must be 1 to {MAX_POINTS} (got {n})"
            ));
        }
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("`{spec}`: no path; {expected}"));
        }
        if path == SEED_PATH {
            let seed = |text: &str, what: &str| {
                parse_seed(text).map_err(|e| format!("`{spec}`: {what} of the seed axis {e}"))
            };
            let (lo, hi) = (seed(lo, "the low end")?, seed(hi, "the high end")?);
            if hi < lo {
                return Err(format!("`{spec}`: the high end is below the low end"));
            }
            // Evenly spaced, rounded to the nearest whole number, in exact arithmetic.
            let span = u128::from(hi - lo);
            let seeds = (0..n as u128)
                .map(|i| {
                    if n == 1 {
                        lo
                    } else {
                        let steps = n as u128 - 1;
                        lo + ((span * i + steps / 2) / steps) as u64
                    }
                })
                .collect();
            return Ok(Axis::of_seeds(seeds));
        }
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("`{spec}`: {what} `{text}` is not a number"))
        };
        let (lo_text, hi_text) = (lo.trim(), hi.trim());
        let (lo, hi) = (number(lo, "the low end")?, number(hi, "the high end")?);
        if hi < lo {
            return Err(format!("`{spec}`: the high end is below the low end"));
        }
        // `lo + (hi - lo) · t`: the width of a range such as -1e308..1e308 is not a finite
        // number, and neither would its points be.
        if n > 1 && !(hi - lo).is_finite() {
            return Err(format!(
                "`{spec}`: the range is too wide: the distance from {lo_text} to {hi_text} is past the largest number ({:e}), so its points would not be numbers",
                f64::MAX
            ));
        }
        let values: Vec<f64> = (0..n)
            .map(|i| {
                if n == 1 {
                    lo
                } else {
                    lo + (hi - lo) * i as f64 / (n - 1) as f64
                }
            })
            .collect();
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "`{spec}`: point {} of the range is not a finite number",
                bad + 1
            ));
        }
        Ok(Axis::new(path, values))
    }

    /// The exact seeds of a seed axis (checked: whole numbers from 0 to 2⁶⁴ − 1), or
    /// `None` for an axis over another field.
    fn checked_seeds(&self) -> Result<Option<Vec<u64>>, String> {
        if !self.is_seed() {
            return Ok(None);
        }
        match &self.seeds {
            Some(seeds) if seeds.len() == self.values.len() => Ok(Some(seeds.clone())),
            Some(seeds) => Err(format!(
                "the seed axis has {} seeds for {} values",
                seeds.len(),
                self.values.len()
            )),
            None => self
                .values
                .iter()
                .map(|&v| {
                    seed_of_f64(v).ok_or_else(|| {
                        format!(
                            "the seed axis: a seed must be a whole number from 0 to {} (got {})",
                            u64::MAX,
                            number_text(v)
                        )
                    })
                })
                .collect::<Result<Vec<u64>, String>>()
                .map(Some),
        }
    }
}

/// A seed as text: a whole number from 0 to 2⁶⁴ − 1 in digits (`18446744073709551615`), or
/// in another notation (`1e3`) up to 2⁵³, where an `f64` is still exact. The error says why
/// not.
fn parse_seed(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(seed) = text.parse::<u64>() {
        return Ok(seed);
    }
    let range = format!("must be a whole number from 0 to {}", u64::MAX);
    match text.parse::<f64>() {
        Ok(v) if seed_of_f64(v).is_some() && v > EXACT_F64 => Err(format!(
            "{range} (got `{text}`; write a seed above 2^53 in digits, so that it is exact)"
        )),
        Ok(v) => seed_of_f64(v).ok_or_else(|| format!("{range} (got `{text}`)")),
        Err(_) => Err(format!("{range} (got `{text}`, not a number)")),
    }
}

/// 2⁵³: above it, not every whole number is an `f64`.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// An `f64` that is a whole number from 0 to 2⁶⁴ − 1, as a `u64`.
fn seed_of_f64(value: f64) -> Option<u64> {
    // 2⁶⁴ itself is the first `f64` past the range; `as` would saturate it to 2⁶⁴ − 1.
    let in_range = (0.0..18_446_744_073_709_551_616.0).contains(&value);
    (value.is_finite() && value.fract() == 0.0 && in_range).then_some(value as u64)
}

/// A grid point: its indices and values (`y` is 0 and `iy` 0 for a one-axis sweep).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub ix: usize,
    pub iy: usize,
    pub x: f64,
    pub y: f64,
}

/// A sweep over a base scenario document.
#[derive(Clone, Debug)]
pub struct Sweep {
    base: Value,
    pub x: Axis,
    pub y: Option<Axis>,
    pub seeds: u32,
    /// The validated base scenario's seed (0 when the document has none).
    base_seed: u64,
    /// Whether each axis's field holds whole numbers (its values are then rounded).
    whole: (bool, bool),
    /// The exact seeds of each axis that sweeps the seed ([`Axis::seeds`]).
    axis_seeds: (Option<Vec<u64>>, Option<Vec<u64>>),
}

impl Sweep {
    /// A sweep of `base` (a scenario document, with any edits applied). The base must be a
    /// valid scenario; every axis path must name a number in the document; every point's
    /// scenario must be valid (checked here, so a bad range is an error before anything
    /// runs, naming the point).
    pub fn new(base: Value, x: Axis, y: Option<Axis>, seeds: u32) -> Result<Sweep, String> {
        if seeds == 0 || seeds > MAX_SEEDS {
            return Err(format!("--seeds must be 1 to {MAX_SEEDS} (got {seeds})"));
        }
        let points = x.values.len() * y.as_ref().map_or(1, |y| y.values.len());
        if points > MAX_POINTS {
            return Err(format!(
                "the grid has {points} points; a sweep has at most {MAX_POINTS}"
            ));
        }
        if y.as_ref().is_some_and(|y| y.path == x.path) {
            return Err(format!(
                "both axes sweep {}: a grid needs two different parameters",
                x.path
            ));
        }
        // The seed as the validator reads it: a `u64`, never through an `f64`.
        let base_seed = Scenario::from_value(base.clone())
            .map_err(|e| format!("the scenario itself is invalid: {e}"))?
            .seed;
        // A field takes whole numbers when its kind's schema says so (`max_attempts`,
        // `workers`); what the document happens to hold (`2` or `2.0`) does not say.
        let whole_at = |axis: &Axis| -> Result<bool, String> {
            if axis.is_seed() {
                return Ok(true);
            }
            let mut probe = base.clone();
            // A field left at its default is absent: setting it is fine.
            match get_path(&mut probe, &axis.path) {
                Ok(Value::Number(_)) | Err(_) => {}
                Ok(other) => {
                    return Err(format!(
                        "{}: is {other}, not a number: only numeric fields can be swept",
                        axis.path
                    ))
                }
            }
            set_path(&mut probe, &axis.path, "1").map_err(|e| format!("{}: {e}", axis.path))?;
            Ok(crate::kind::param_at(&base, &axis.path).is_some_and(|p| p.is_whole()))
        };
        let whole = (
            whole_at(&x)?,
            y.as_ref().map(whole_at).transpose()?.unwrap_or(false),
        );
        let axis_seeds = (
            x.checked_seeds()?,
            y.as_ref().map(Axis::checked_seeds).transpose()?.flatten(),
        );
        let sweep = Sweep {
            base,
            x,
            y,
            seeds,
            base_seed,
            whole,
            axis_seeds,
        };
        for point in sweep.points() {
            sweep.scenario(point, 0)?;
        }
        Ok(sweep)
    }

    /// How many runs the sweep makes: points × seeds.
    pub fn runs(&self) -> u64 {
        let points = self.x.values.len() * self.y.as_ref().map_or(1, |y| y.values.len());
        points as u64 * u64::from(self.seeds)
    }

    /// Every grid point, `x` varying fastest.
    pub fn points(&self) -> Vec<Point> {
        let ys: Vec<f64> = self.y.as_ref().map_or(vec![0.0], |y| y.values.clone());
        let mut out = Vec::with_capacity(self.x.values.len() * ys.len());
        for (iy, &y) in ys.iter().enumerate() {
            for (ix, &x) in self.x.values.iter().enumerate() {
                out.push(Point {
                    ix,
                    iy,
                    x: round_if(x, self.whole.0),
                    y: round_if(y, self.whole.1),
                });
            }
        }
        out
    }

    /// The seed of a point's seed number `seed_index` (0-based): the seed axis's value at the
    /// point (or the base scenario's seed) plus the index, modulo 2⁶⁴.
    pub fn seed(&self, point: Point, seed_index: u32) -> u64 {
        let on_axis = |seeds: &Option<Vec<u64>>, index: usize, value: f64| {
            let seeds = seeds.as_ref()?;
            // A point off the grid (a bisection's trial) has only its value.
            Some(match seeds.get(index) {
                Some(&seed) if seed as f64 == value => seed,
                _ => seed_of_f64(value.round()).unwrap_or(u64::MAX),
            })
        };
        let start = on_axis(&self.axis_seeds.0, point.ix, point.x)
            .or_else(|| on_axis(&self.axis_seeds.1, point.iy, point.y))
            .unwrap_or(self.base_seed);
        start.wrapping_add(u64::from(seed_index))
    }

    /// The scenario document of a point with seed number `seed_index` (0-based): the base
    /// document with the point's values and the seed set (what "open this point" opens).
    pub fn doc(&self, point: Point, seed_index: u32) -> Result<Value, String> {
        let mut doc = self.base.clone();
        let mut set = |axis: &Axis, value: f64| {
            if axis.is_seed() {
                // Set below, exactly.
                return Ok(());
            }
            set_path(&mut doc, &axis.path, &number_text(value))
                .map_err(|e| format!("{}: {e}", axis.path))
        };
        set(&self.x, point.x)?;
        if let Some(y) = &self.y {
            set(y, point.y)?;
        }
        let seed = self.seed(point, seed_index);
        match &mut doc {
            Value::Object(map) => {
                map.insert(SEED_PATH.into(), Value::from(seed));
            }
            _ => return Err("the scenario is not a JSON object".into()),
        }
        Ok(doc)
    }

    /// The scenario of a point with seed number `seed_index` (0-based).
    pub fn scenario(&self, point: Point, seed_index: u32) -> Result<Scenario, String> {
        let doc = self.doc(point, seed_index)?;
        Scenario::from_value(doc).map_err(|e| format!("at {}: {e}", self.place(point)))
    }

    /// Where a point is, in words: "users.rate = 50, triggers.0.factor = 2".
    pub fn place(&self, point: Point) -> String {
        match &self.y {
            Some(y) => format!(
                "{} = {}, {} = {}",
                self.x.path,
                self.x_text(point),
                y.path,
                self.y_text(point)
            ),
            None => format!("{} = {}", self.x.path, self.x_text(point)),
        }
    }

    /// A point's `x` as the CSV writes it (a seed exactly).
    pub fn x_text(&self, point: Point) -> String {
        match &self.axis_seeds.0 {
            Some(_) => self.seed(point, 0).to_string(),
            None => number_text(point.x),
        }
    }

    /// A point's `y` as the CSV writes it (a seed exactly).
    pub fn y_text(&self, point: Point) -> String {
        match &self.axis_seeds.1 {
            Some(_) => self.seed(point, 0).to_string(),
            None => number_text(point.y),
        }
    }

    /// The CSV header of [`Sweep::row`].
    pub fn header(&self) -> String {
        let mut columns = self.verdict_columns();
        columns.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
        columns.join(",")
    }

    /// The first columns of [`Sweep::header`]: the swept paths, `seeds`, `verdict`,
    /// `agreement` and `frac_…` per verdict (what a verdicts-only sweep, the browser's, has).
    pub fn verdict_columns(&self) -> Vec<String> {
        let mut columns = vec![self.x.path.clone()];
        if let Some(y) = &self.y {
            columns.push(y.path.clone());
        }
        columns.extend(["seeds", "verdict", "agreement"].map(String::from));
        columns.extend(Verdict::ALL.iter().map(|v| format!("frac_{v}")));
        columns
    }

    /// The cells of [`Sweep::verdict_columns`] for a point whose `seeds` seeds gave
    /// `outcome` (none yet: the verdict's cells are empty).
    pub fn verdict_cells(
        &self,
        point: Point,
        seeds: usize,
        outcome: Option<&Outcome>,
    ) -> Vec<String> {
        let mut cells = vec![self.x_text(point)];
        if self.y.is_some() {
            cells.push(self.y_text(point));
        }
        cells.push(seeds.to_string());
        match outcome {
            Some(o) => {
                cells.push(o.verdict.to_string());
                cells.push(fraction(o.agreement));
                cells.extend(o.fractions.iter().map(|f| fraction(*f)));
            }
            None => cells.extend(std::iter::repeat_n(String::new(), 2 + Verdict::ALL.len())),
        }
        cells
    }

    /// The CSV row of a point from its seeds' summaries.
    pub fn row(&self, point: Point, summaries: &[Summary]) -> String {
        let outcome = Outcome::of(summaries);
        let mut cells = self.verdict_cells(point, summaries.len(), Some(&outcome));
        let mean = |value: &dyn Fn(&Summary) -> Option<f64>| -> String {
            let present: Vec<f64> = summaries.iter().filter_map(value).collect();
            if present.is_empty() {
                String::new()
            } else {
                number_text(present.iter().sum::<f64>() / present.len() as f64)
            }
        };
        cells.push(mean(&|s| Some(s.requests as f64)));
        cells.push(mean(&|s| Some(s.good as f64)));
        cells.push(mean(&|s| Some(s.late as f64)));
        cells.push(mean(&|s| Some(s.failed as f64)));
        cells.push(mean(&|s| Some(s.in_flight as f64)));
        cells.push(mean(&|s| Some(s.events as f64)));
        cells.push(mean(&|s| s.goodput_before));
        cells.push(mean(&|s| s.goodput_after));
        cells.push(mean(&|s| s.recovery_s));
        cells.push(mean(&|s| s.latency_mean_s));
        cells.push(mean(&|s| s.latency_p99_s));
        cells.join(",")
    }
}

/// The summary columns of a sweep row: means over the seeds (over the seeds that have the
/// value, for the optional ones; empty when none has it).
pub const SUMMARY_COLUMNS: [&str; 11] = [
    "requests",
    "good",
    "late",
    "failed",
    "in_flight",
    "events",
    "goodput_before",
    "goodput_after",
    "recovery_s",
    "latency_mean_s",
    "latency_p99_s",
];

/// What the seeds of one point say together.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The verdict of most seeds (a tie goes to the verdict first in [`Verdict::ALL`]).
    pub verdict: Verdict,
    /// The fraction of seeds with that verdict.
    pub agreement: f64,
    /// The fraction of seeds per verdict, in [`Verdict::ALL`] order.
    pub fractions: [f64; 7],
}

impl Outcome {
    pub fn of(summaries: &[Summary]) -> Outcome {
        Outcome::of_verdicts(summaries.iter().map(|s| s.verdict))
    }

    /// What these verdicts of the seeds of one point say together.
    pub fn of_verdicts(verdicts: impl IntoIterator<Item = Verdict>) -> Outcome {
        let mut counts = [0usize; 7];
        let mut total = 0usize;
        for verdict in verdicts {
            total += 1;
            if let Some(i) = Verdict::ALL.iter().position(|v| *v == verdict) {
                counts[i] += 1;
            }
        }
        // Counted, then divided: ten seeds that agree give exactly 1.
        let n = total.max(1) as f64;
        let fractions = counts.map(|c| c as f64 / n);
        let (best, agreement) = fractions.iter().enumerate().fold(
            (Verdict::ALL.len() - 1, -1.0),
            |(bi, bf), (i, &f)| {
                if f > bf + 1e-12 {
                    (i, f)
                } else {
                    (bi, bf)
                }
            },
        );
        Outcome {
            verdict: Verdict::ALL[best],
            agreement,
            fractions,
        }
    }
}

/// The colour of a verdict in phase diagrams, the CLI's and the browser's alike: Okabe–Ito,
/// safe for colour-blind readers.
pub fn verdict_rgb(verdict: Verdict) -> [u8; 3] {
    match verdict {
        Verdict::Stable => [0x00, 0x9E, 0x73],
        Verdict::Recovered => [0x56, 0xB4, 0xE9],
        Verdict::Degraded => [0xE6, 0x9F, 0x00],
        Verdict::Recovering => [0xF0, 0xE4, 0x42],
        Verdict::Metastable => [0xD5, 0x5E, 0x00],
        Verdict::Overloaded => [0xCC, 0x79, 0xA7],
        Verdict::Undefined => [0x99, 0x99, 0x99],
    }
}

/// A colour mixed with white by the agreement of a point's seeds: full colour when every
/// seed agrees, a pale tint when few do.
pub fn shade_rgb(rgb: [u8; 3], agreement: f64) -> [u8; 3] {
    let strength = 0.25 + 0.75 * agreement.clamp(0.0, 1.0);
    rgb.map(|c| (255.0 - (255.0 - f64::from(c)) * strength).round() as u8)
}

/// Where a trigger starts to tip a system, as far as a bisection can tell.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Even the largest trigger tried does not tip it.
    Never,
    /// The smallest trigger tried already tips it: the threshold is at or below it.
    AtOrBelow(f64),
    /// The threshold lies in `(low, high]`: `low` does not tip it, `high` does.
    Between(f64, f64),
}

impl Threshold {
    /// The smallest trigger known to tip the system (`None`: none tried does).
    pub fn tipping(self) -> Option<f64> {
        match self {
            Threshold::Never => None,
            Threshold::AtOrBelow(t) | Threshold::Between(_, t) => Some(t),
        }
    }
}

/// Bisection for the smallest trigger in `[low, high]` for which `tips` holds, in `steps`
/// halvings, assuming that a larger trigger tips whatever a smaller one tips (the premise of
/// the "minimum trigger" picture; where it fails, the result is one crossing among several).
/// `whole` keeps every value tried a whole number (a field such as `max_attempts`).
pub fn bisect(
    low: f64,
    high: f64,
    steps: u32,
    whole: bool,
    mut tips: impl FnMut(f64) -> bool,
) -> Threshold {
    let (mut low, mut high) = (round_if(low, whole), round_if(high, whole));
    if !tips(high) {
        return Threshold::Never;
    }
    if tips(low) {
        return Threshold::AtOrBelow(low);
    }
    for _ in 0..steps {
        let mid = round_if((low + high) / 2.0, whole);
        if mid <= low || mid >= high {
            break;
        }
        if tips(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    Threshold::Between(low, high)
}

/// The CSV header of a tipping search (`metastable tip`, the browser's tipping view): the
/// load's path, then the trigger's.
pub fn tip_header(load_path: &str, trigger_path: &str) -> String {
    format!("{load_path},min_{trigger_path},not_tipping_below,seeds,searched_low,searched_high")
}

/// A tipping search's CSV row for one load: the smallest trigger found to tip it and the
/// largest tried that did not (empty where there is none), the seeds and the range searched.
pub fn tip_row(load: f64, threshold: Option<Threshold>, seeds: u32, low: f64, high: f64) -> String {
    tip_row_at(&format!("{load}"), threshold, seeds, low, high)
}

/// [`tip_row`] with the load's cell as given (a seed, exactly: [`Sweep::x_text`]).
pub fn tip_row_at(
    load: &str,
    threshold: Option<Threshold>,
    seeds: u32,
    low: f64,
    high: f64,
) -> String {
    let text = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    let below = match threshold {
        Some(Threshold::Between(low, _)) => Some(low),
        _ => None,
    };
    format!(
        "{load},{},{},{seeds},{low},{high}",
        text(threshold.and_then(Threshold::tipping)),
        text(below)
    )
}

impl Sweep {
    /// Whether the values of the `y` axis must be whole numbers.
    pub fn y_is_whole(&self) -> bool {
        self.whole.1
    }
}

/// Most shards a grid may be cut into ([`Shard`]): as many as a grid may have points.
pub const MAX_SHARDS: u32 = MAX_POINTS as u32;

/// One of `count` disjoint slices of a grid (`--shard index/count`, counted from 1), so that
/// a sweep or a tipping search can run on several machines and be joined back together.
///
/// Shard `i` of `n` owns the point `(ix, iy)` when `(ix + iy) mod n = i − 1`: every `n`th
/// point of each row, one further along in each next row (diagonal stripes; on a one-axis
/// grid, every `n`th point). Every point is in exactly one shard, and each shard holds every
/// `x` and every `y` value about equally often: a run's cost grows along an axis (a higher
/// load runs more events; a metastable corner the most), and contiguous blocks would give
/// one shard that whole corner. Shard sizes differ by at most `min(a, b, n − a, n − b)`
/// points, where `a` and `b` are the two sides of the grid modulo `n` (by at most one on a
/// one-axis grid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` (1 to `count`) of `count` (1 to [`MAX_SHARDS`]).
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "the number of shards must be 1 to {MAX_SHARDS} (got {count})"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "the shard number must be 1 to {count} (got {index}; shards are counted from 1)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses `I/N` (`2/3`: the second of three shards). The error says what is wrong, not
    /// the text (which the caller quotes with its flag or file).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let expected = || "expected I/N, e.g. 2/3 (the second of three shards)".to_string();
        let (index, count) = text.trim().split_once('/').ok_or_else(expected)?;
        let number = |part: &str| {
            let part = part.trim();
            // Digits only: no sign, no spaces inside (`u32::from_str` takes a `+`).
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(expected());
            }
            // A number past `u32` is past every limit below; say so with the limit.
            Ok(part.parse::<u32>().unwrap_or(u32::MAX))
        };
        let (index, count) = (number(index)?, number(count)?);
        Shard::new(index, count)
    }

    /// The shard's number, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards the grid is cut into.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The shards of a grid cut into `count`, in order.
    pub fn all(count: u32) -> impl Iterator<Item = Shard> {
        (1..=count).map(move |index| Shard { index, count })
    }

    /// The number (from 1) of the shard of `count` that owns a grid point.
    pub fn number_of(point: Point, count: u32) -> u32 {
        let count = count.max(1) as usize;
        ((point.ix % count + point.iy % count) % count) as u32 + 1
    }

    /// Whether this shard owns a grid point.
    pub fn owns(self, point: Point) -> bool {
        Shard::number_of(point, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Sweep {
    /// How many values the `x` axis has (a row of the grid).
    pub fn nx(&self) -> usize {
        self.x.values.len()
    }

    /// A grid point's place in grid order ([`Sweep::points`], `x` varying fastest): the
    /// number a shard's rows are tagged with.
    pub fn index(&self, point: Point) -> usize {
        point.iy * self.nx() + point.ix
    }

    /// The points a shard owns, in grid order.
    pub fn shard_points(&self, shard: Shard) -> Vec<Point> {
        self.points()
            .into_iter()
            .filter(|p| shard.owns(*p))
            .collect()
    }

    /// A 64-bit fingerprint of everything the rows of the grid depend on: the base document
    /// (with its edits), both axes' paths and exact values, and the seeds per point, with
    /// `purpose` (what the grid is run for, e.g. `sweep` or a tipping search's settings).
    /// Shards whose fingerprints differ are not parts of one sweep. FNV-1a over a canonical
    /// text: the same on every machine and build (not a defence against forgery).
    pub fn fingerprint(&self, purpose: &str) -> u64 {
        let mut text = format!("metastable grid\n{purpose}\n{}\n", self.base);
        for axis in std::iter::once(&self.x).chain(self.y.as_ref()) {
            text.push_str(&format!("{}\n", axis.path));
            for value in &axis.values {
                text.push_str(&format!("{:016x} ", value.to_bits()));
            }
            text.push('\n');
        }
        for (axis, seeds) in [("x", &self.axis_seeds.0), ("y", &self.axis_seeds.1)] {
            if let Some(seeds) = seeds {
                text.push_str(&format!("{axis} seeds"));
                for seed in seeds {
                    text.push_str(&format!(" {seed}"));
                }
                text.push('\n');
            }
        }
        text.push_str(&format!("seeds {}\n", self.seeds));
        fnv1a_64(text.as_bytes())
    }
}

/// The 64-bit FNV-1a hash of some bytes.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn round_if(value: f64, whole: bool) -> f64 {
    if whole {
        value.round()
    } else {
        value
    }
}

/// A value as the shortest text that reads back the same (`3` rather than `3.0`).
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A fraction as the CSV writes it: at most four decimals, no trailing zeros.
fn fraction(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    fn storm() -> Value {
        serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap()
    }

    #[test]
    fn an_axis_is_n_evenly_spaced_values_inclusive() {
        let axis = Axis::parse("users.rate=50..150:5").unwrap();
        assert_eq!(axis.path, "users.rate");
        assert_eq!(axis.values, vec![50.0, 75.0, 100.0, 125.0, 150.0]);
        assert_eq!(Axis::parse("a.b=3..9:1").unwrap().values, vec![3.0]);
        for (bad, says) in [
            ("users.rate", "expected PATH=LO..HI:N"),
            ("users.rate=1..2", "no number of points"),
            ("users.rate=1:3", "no range"),
            ("users.rate=x..2:3", "the low end `x` is not a number"),
            ("users.rate=1..2:0", "must be 1 to"),
            ("users.rate=5..2:3", "below the low end"),
            ("=1..2:3", "no path"),
        ] {
            let error = Axis::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn points_set_the_values_and_whole_number_fields_get_whole_numbers() {
        let sweep = Sweep::new(
            storm(),
            Axis::parse("retries.max_attempts=1..4:3").unwrap(),
            Some(Axis::parse("users.rate=60..90:2").unwrap()),
            3,
        )
        .unwrap();
        let points = sweep.points();
        assert_eq!(points.len(), 6);
        assert_eq!(
            points.iter().map(|p| p.x).collect::<Vec<_>>(),
            vec![1.0, 3.0, 4.0, 1.0, 3.0, 4.0],
            "2.5 rounds to a whole number of attempts"
        );
        let scenario = sweep.scenario(points[4], 2).unwrap();
        assert_eq!(
            scenario.seed,
            7 + 2,
            "the preset's seed plus the seed index"
        );
        let mut doc = serde_json::to_value(&scenario).unwrap();
        assert_eq!(*get_path(&mut doc, "retries.max_attempts").unwrap(), 3);
        assert_eq!(*get_path(&mut doc, "users.rate").unwrap(), 90.0);
    }

    #[test]
    fn whole_numbers_come_from_the_field_not_from_how_the_file_writes_it() {
        // The preset writes the spike's factor as `2`: it is still a real number.
        let sweep = Sweep::new(
            storm(),
            Axis::parse("triggers.0.factor=1..2:3").unwrap(),
            None,
            1,
        )
        .unwrap();
        let xs: Vec<f64> = sweep.points().iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![1.0, 1.5, 2.0]);
    }

    #[test]
    fn a_bad_sweep_is_refused_before_anything_runs() {
        let error =
            Sweep::new(storm(), Axis::parse("api.workers=0..4:3").unwrap(), None, 1).unwrap_err();
        assert!(error.starts_with("at api.workers = 0: "), "{error}");
        assert!(error.contains("workers"), "{error}");
        let error = Sweep::new(
            storm(),
            Axis::parse("api.discipline=1..2:2").unwrap(),
            None,
            1,
        )
        .unwrap_err();
        assert!(
            error.contains("only numeric fields can be swept"),
            "{error}"
        );
        assert!(Sweep::new(storm(), Axis::parse("nobody.rate=1..2:2").unwrap(), None, 1).is_err());
        assert!(Sweep::new(storm(), Axis::parse("users.rate=1..2:2").unwrap(), None, 0).is_err());
        let error = Sweep::new(
            storm(),
            Axis::parse("users.rate=1..2:200").unwrap(),
            Some(Axis::parse("api.workers=1..2:200").unwrap()),
            1,
        )
        .unwrap_err();
        assert!(error.contains("40000 points"), "{error}");
    }

    #[test]
    fn a_shard_is_i_of_n_counted_from_1_and_anything_else_says_why() {
        let shard = Shard::parse("2/3").unwrap();
        assert_eq!((shard.index(), shard.count()), (2, 3));
        assert_eq!(shard.to_string(), "2/3");
        assert_eq!(Shard::parse(" 1 / 1 ").unwrap(), Shard::new(1, 1).unwrap());
        for (bad, says) in [
            (
                "0/3",
                "the shard number must be 1 to 3 (got 0; shards are counted from 1)",
            ),
            ("4/3", "the shard number must be 1 to 3 (got 4;"),
            ("1/0", "the number of shards must be 1 to 10000 (got 0)"),
            (
                "1/10001",
                "the number of shards must be 1 to 10000 (got 10001)",
            ),
            (
                "1/99999999999",
                "the number of shards must be 1 to 10000 (got 4294967295)",
            ),
            ("2", "expected I/N, e.g. 2/3"),
            ("a/3", "expected I/N"),
            ("-1/3", "expected I/N"),
            ("+1/3", "expected I/N"),
            ("1/2/3", "expected I/N"),
            ("/3", "expected I/N"),
            ("", "expected I/N"),
        ] {
            let error = Shard::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn shards_take_diagonal_stripes_of_a_grid() {
        let sweep = Sweep::new(
            storm(),
            Axis::parse("triggers.0.factor=1..3:3").unwrap(),
            Some(Axis::parse("users.rate=50..90:3").unwrap()),
            1,
        )
        .unwrap();
        let owners: Vec<u32> = sweep
            .points()
            .iter()
            .map(|p| Shard::number_of(*p, 3))
            .collect();
        // Rows of the grid (x fastest): each shard has one point per row and per column.
        assert_eq!(owners, [1, 2, 3, 2, 3, 1, 3, 1, 2]);
        let second = sweep.shard_points(Shard::new(2, 3).unwrap());
        let indices: Vec<usize> = second.iter().map(|p| sweep.index(*p)).collect();
        assert_eq!(indices, [1, 3, 8]);
        // One axis: every n-th point.
        let line = Sweep::new(
            storm(),
            Axis::parse("users.rate=50..90:5").unwrap(),
            None,
            1,
        )
        .unwrap();
        let first: Vec<usize> = line
            .shard_points(Shard::new(1, 2).unwrap())
            .iter()
            .map(|p| line.index(*p))
            .collect();
        assert_eq!(first, [0, 2, 4]);
        assert!(line.shard_points(Shard::new(7, 7).unwrap()).is_empty());
    }

    #[test]
    fn the_fingerprint_changes_with_everything_the_rows_depend_on() {
        let x = || Axis::parse("users.rate=50..90:3").unwrap();
        let of = |base: Value, x: Axis, y: Option<Axis>, seeds: u32, purpose: &str| {
            Sweep::new(base, x, y, seeds).unwrap().fingerprint(purpose)
        };
        let reference = of(storm(), x(), None, 2, "sweep");
        assert_eq!(
            reference,
            of(storm(), x(), None, 2, "sweep"),
            "the same sweep"
        );
        let mut other = storm();
        set_path(&mut other, "api.workers", "9").unwrap();
        let y = Axis::parse("triggers.0.factor=1..2:2").unwrap();
        for (what, fingerprint) in [
            ("the scenario", of(other, x(), None, 2, "sweep")),
            (
                "x's values",
                of(
                    storm(),
                    Axis::parse("users.rate=50..91:3").unwrap(),
                    None,
                    2,
                    "sweep",
                ),
            ),
            (
                "x's path",
                of(
                    storm(),
                    Axis::parse("api.workers=50..90:3").unwrap(),
                    None,
                    2,
                    "sweep",
                ),
            ),
            ("a y axis", of(storm(), x(), Some(y), 2, "sweep")),
            ("the seeds", of(storm(), x(), None, 3, "sweep")),
            ("the purpose", of(storm(), x(), None, 2, "tip 6")),
        ] {
            assert_ne!(fingerprint, reference, "{what} changes the fingerprint");
        }
        // Two seeds that are one `f64` apart only in their exact values.
        let seed = |s: u64| of(storm(), Axis::of_seeds(vec![s]), None, 1, "sweep");
        assert_ne!(seed(1 << 60), seed((1 << 60) + 1));
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn seeds_are_exact_u64s_and_wrap_modulo_2_64() {
        // 2⁵³ + 1 is not an f64: through one it ran 2⁵³.
        let mut base = storm();
        base["seed"] = Value::from(9_007_199_254_740_993u64);
        let sweep = Sweep::new(
            base.clone(),
            Axis::parse("users.rate=80..80:1").unwrap(),
            None,
            2,
        )
        .unwrap();
        let point = sweep.points()[0];
        assert_eq!(
            sweep.scenario(point, 0).unwrap().seed,
            9_007_199_254_740_993
        );
        assert_eq!(
            sweep.scenario(point, 1).unwrap().seed,
            9_007_199_254_740_994
        );
        base["seed"] = Value::from(u64::MAX);
        let sweep = Sweep::new(
            base.clone(),
            Axis::parse("users.rate=80..80:1").unwrap(),
            None,
            3,
        )
        .unwrap();
        let seeds: Vec<u64> = (0..3)
            .map(|s| sweep.scenario(point, s).unwrap().seed)
            .collect();
        assert_eq!(
            seeds,
            [u64::MAX, 0, 1],
            "the seeds after 2^64 - 1 wrap to 0"
        );
        // A document without a seed runs seed 0, as `run` does.
        base.as_object_mut().unwrap().remove("seed");
        let sweep = Sweep::new(base, Axis::parse("users.rate=80..80:1").unwrap(), None, 1).unwrap();
        assert_eq!(sweep.scenario(point, 0).unwrap().seed, 0);
    }

    #[test]
    fn a_seed_axis_holds_exact_whole_seeds_and_sets_each_points_seed() {
        let axis = Axis::parse("seed=18446744073709551613..18446744073709551615:3").unwrap();
        assert_eq!(axis.seeds, Some(vec![u64::MAX - 2, u64::MAX - 1, u64::MAX]));
        let sweep = Sweep::new(storm(), axis, None, 2).unwrap();
        let points = sweep.points();
        assert_eq!(sweep.scenario(points[1], 0).unwrap().seed, u64::MAX - 1);
        assert_eq!(sweep.scenario(points[2], 1).unwrap().seed, 0);
        assert!(sweep.header().starts_with("seed,seeds,"));
        let row = sweep.verdict_cells(points[1], 2, None);
        assert_eq!(row[0], "18446744073709551614", "the CSV has the exact seed");
        assert_eq!(
            Axis::parse("seed=0..10:3").unwrap().seeds,
            Some(vec![0, 5, 10])
        );
        for (bad, says) in [
            ("seed=-1..1:3", "the low end of the seed axis must be a whole number from 0 to 18446744073709551615 (got `-1`)"),
            ("seed=0.5..1:3", "(got `0.5`)"),
            ("seed=0..18446744073709551616:2", "(got `18446744073709551616`)"),
            ("seed=0..1e19:2", "write a seed above 2^53 in digits"),
            ("seed=a..1:2", "not a number"),
        ] {
            let error = Axis::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
        // Built from values (as a browser's message carries them): checked the same way.
        let error = Sweep::new(storm(), Axis::new("seed", vec![-1.0]), None, 1).unwrap_err();
        assert!(
            error.contains("the seed axis: a seed must be a whole number"),
            "{error}"
        );
        assert!(Sweep::new(storm(), Axis::new("seed", vec![4.0]), None, 1).is_ok());
    }

    #[test]
    fn a_range_whose_points_are_not_finite_is_refused() {
        let error = Axis::parse("users.rate=-1e308..1e308:3").unwrap_err();
        assert!(
            error.starts_with("`users.rate=-1e308..1e308:3`: the range is too wide"),
            "{error}"
        );
        assert!(Axis::parse("users.rate=-1e308..1e308:1").is_ok());
        let error = Axis::parse("users.rate=1..inf:2").unwrap_err();
        assert!(
            error.contains("the high end `inf` is not a number"),
            "{error}"
        );
    }

    #[test]
    fn both_axes_on_one_parameter_are_refused() {
        let error = Sweep::new(
            storm(),
            Axis::parse("users.rate=1..2:2").unwrap(),
            Some(Axis::parse("users.rate=1..2:2").unwrap()),
            1,
        )
        .unwrap_err();
        assert!(error.contains("both axes sweep users.rate"), "{error}");
    }

    #[test]
    fn bisection_brackets_the_smallest_tipping_trigger() {
        let mut tried = Vec::new();
        let found = bisect(1.0, 5.0, 6, false, |t| {
            tried.push(t);
            t >= 2.3
        });
        let Threshold::Between(low, high) = found else {
            panic!("{found:?}");
        };
        assert!(
            low < 2.3 && 2.3 <= high && high - low <= 4.0 / 64.0,
            "{found:?}"
        );
        assert_eq!(tried.len(), 2 + 6, "both ends, then one run per halving");
        assert_eq!(bisect(1.0, 5.0, 6, false, |_| false), Threshold::Never);
        assert_eq!(
            bisect(1.0, 5.0, 6, false, |_| true),
            Threshold::AtOrBelow(1.0)
        );
        assert_eq!(
            bisect(1.0, 10.0, 20, true, |t| t >= 4.0),
            Threshold::Between(3.0, 4.0),
            "whole numbers stop when the bracket is one apart"
        );
        assert_eq!(Threshold::Between(3.0, 4.0).tipping(), Some(4.0));
    }

    #[test]
    fn an_outcome_is_the_majority_with_its_share() {
        let summary = |verdict| Summary {
            verdict,
            requests: 10,
            good: 5,
            late: 0,
            failed: 0,
            in_flight: 0,
            events: 100,
            work: 250,
            goodput_before: Some(1.0),
            goodput_after: None,
            recovery_s: None,
            latency_mean_s: None,
            latency_p99_s: None,
            wall_s: None,
        };
        let seeds = [
            summary(Verdict::Metastable),
            summary(Verdict::Recovered),
            summary(Verdict::Metastable),
        ];
        let outcome = Outcome::of(&seeds);
        assert_eq!(outcome.verdict, Verdict::Metastable);
        assert!((outcome.agreement - 2.0 / 3.0).abs() < 1e-12);
        assert!((outcome.fractions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let sweep = Sweep::new(
            storm(),
            Axis::parse("users.rate=80..80:1").unwrap(),
            None,
            3,
        )
        .unwrap();
        let row = sweep.row(sweep.points()[0], &seeds);
        assert_eq!(
            row,
            "80,3,metastable,0.6667,0,0.3333,0,0,0.6667,0,0,10,5,0,0,0,100,1,,,,"
        );
        assert_eq!(sweep.header().split(',').count(), row.split(',').count());
    }
}
