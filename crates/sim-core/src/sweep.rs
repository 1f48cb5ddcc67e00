//! Parameter sweeps (SPEC §5): a grid over one or two `--set` paths, every point run with `k`
//! seeds, each point summarised in one CSV row (the swept values, the majority verdict, the
//! fraction of seeds per verdict and the seeds' mean summary).
//!
//! Plain data and pure functions: the caller runs the points however it likes (the CLI on
//! all cores with rayon; a browser in workers). Point `(i, j)` with seed index `s` is always
//! the same scenario: the base document with the two values set and the seed `base seed + s`.

use crate::scenario::{get_path, set_path, Scenario};
use crate::verdict::{Summary, Verdict};
use serde_json::Value;

/// Most points a sweep may have (a grid side is at most this too): a typo such as `:1000`
/// on both axes should be an error, not a day of computing.
pub const MAX_POINTS: usize = 10_000;

/// One swept parameter: a `--set` path and its values, low to high.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<f64>,
}

impl Axis {
    /// Parses `path=lo..hi:n`: `n` evenly spaced values from `lo` to `hi` inclusive (`n` = 1
    /// gives `lo` alone).
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
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("`{spec}`: {what} `{text}` is not a number"))
        };
        let (lo, hi) = (number(lo, "the low end")?, number(hi, "the high end")?);
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("`{spec}`: the number of points `{n}` is not a whole number"))?;
        if n == 0 || n > MAX_POINTS {
            return Err(format!(
                "`{spec}`: the number of points must be 1 to {MAX_POINTS} (got {n})"
            ));
        }
        if hi < lo {
            return Err(format!("`{spec}`: the high end is below the low end"));
        }
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("`{spec}`: no path; {expected}"));
        }
        let values = (0..n)
            .map(|i| {
                if n == 1 {
                    lo
                } else {
                    lo + (hi - lo) * i as f64 / (n - 1) as f64
                }
            })
            .collect();
        Ok(Axis {
            path: path.to_string(),
            values,
        })
    }
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
    base_seed: u64,
    /// Whether each axis's field holds whole numbers (its values are then rounded).
    whole: (bool, bool),
}

impl Sweep {
    /// A sweep of `base` (a scenario document, with any edits applied). Every axis path must
    /// name a number in the document; every point's scenario must be valid (checked here,
    /// so a bad range is an error before anything runs, naming the point).
    pub fn new(base: Value, x: Axis, y: Option<Axis>, seeds: u32) -> Result<Sweep, String> {
        if seeds == 0 || seeds > 1000 {
            return Err(format!("--seeds must be 1 to 1000 (got {seeds})"));
        }
        let points = x.values.len() * y.as_ref().map_or(1, |y| y.values.len());
        if points > MAX_POINTS {
            return Err(format!(
                "the grid has {points} points; a sweep has at most {MAX_POINTS}"
            ));
        }
        // A field takes whole numbers when the validator refuses a fraction as the wrong type
        // (`max_attempts`, `workers`); what the document happens to hold (`2` or `2.0`) does
        // not say.
        let whole_at = |axis: &Axis| -> Result<bool, String> {
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
            set_path(&mut probe, &axis.path, "1.5").map_err(|e| format!("{}: {e}", axis.path))?;
            Ok(Scenario::from_value(probe)
                .is_err_and(|e| e.to_string().contains("invalid type: floating point")))
        };
        let whole = (
            whole_at(&x)?,
            y.as_ref().map(whole_at).transpose()?.unwrap_or(false),
        );
        let base_seed = base.get("seed").and_then(Value::as_u64).unwrap_or(1);
        let sweep = Sweep {
            base,
            x,
            y,
            seeds,
            base_seed,
            whole,
        };
        for point in sweep.points() {
            sweep.scenario(point, 0)?;
        }
        Ok(sweep)
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

    /// The scenario document of a point with seed number `seed_index` (0-based): the base
    /// document with the point's values and the seed set (what "open this point" opens).
    pub fn doc(&self, point: Point, seed_index: u32) -> Result<Value, String> {
        let mut doc = self.base.clone();
        let mut set = |path: &str, value: f64| {
            set_path(&mut doc, path, &number_text(value)).map_err(|e| format!("{path}: {e}"))
        };
        set(&self.x.path, point.x)?;
        if let Some(y) = &self.y {
            set(&y.path, point.y)?;
        }
        set("seed", (self.base_seed + u64::from(seed_index)) as f64)?;
        Ok(doc)
    }

    /// The scenario of a point with seed number `seed_index` (0-based).
    pub fn scenario(&self, point: Point, seed_index: u32) -> Result<Scenario, String> {
        let doc = self.doc(point, seed_index)?;
        Scenario::from_value(doc).map_err(|e| {
            let at = match &self.y {
                Some(y) => format!(
                    "{} = {}, {} = {}",
                    self.x.path,
                    number_text(point.x),
                    y.path,
                    number_text(point.y)
                ),
                None => format!("{} = {}", self.x.path, number_text(point.x)),
            };
            format!("at {at}: {e}")
        })
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
        let mut cells = vec![number_text(point.x)];
        if self.y.is_some() {
            cells.push(number_text(point.y));
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
