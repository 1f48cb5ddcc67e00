//! Replications: how sure a verdict is (SPEC §9).
//!
//! One run is one draw from a random process. The same scenario with seeds s, s + 1, …,
//! s + k − 1 gives k independent draws; this module says what they say together:
//!
//! - the share of seeds that ended metastable, with a 95% Wilson score interval (it stays
//!   inside [0, 1] and is honest at 0 of k and k of k, where the normal interval is not);
//! - the mean of each headline figure with a 95% Student t-interval (the seeds' figures are
//!   independent, their spread unknown);
//! - the difference of two scenarios' means with Welch's interval (their spreads may differ);
//! - per bucket, the mean, median and 2.5% / 97.5% quantiles of every column across seeds:
//!   the band a chart shades.
//!
//! Nothing here runs a simulation: the CLI runs the seeds on its threads, the playground in
//! its workers, and both hand the runs to [`Replica::of`] and [`Aggregate::of`].

use crate::verdict::{after_start_s, mean, window};
use crate::{Row, Scenario, Sim, Summary, Verdict};
use serde::{Deserialize, Serialize};

/// The 97.5% quantile of the standard normal distribution: a 95% two-sided interval is
/// ±`Z_975` standard errors.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of a proportion: `successes` of `n`. `None` for `n = 0`.
pub fn wilson(successes: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = successes.min(n as usize) as f64 / n;
    let z2 = Z_975 * Z_975;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_975 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), taken on the side where it converges fast.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln())
            .exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let away = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / away(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=400 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / away(1.0 + even * d);
        c = away(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / away(1.0 + odd * d);
        c = away(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// P(T > t) for Student's t with `df` degrees of freedom (t ≥ 0).
fn t_upper_tail(t: f64, df: f64) -> f64 {
    0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (not necessarily whole:
/// Welch's interval has fractional ones), by bisection on the distribution function. `df`
/// below 1 is taken as 1.
pub fn t_975(df: f64) -> f64 {
    let df = if df.is_finite() { df.max(1.0) } else { 1e12 };
    let (mut low, mut high) = (0.0_f64, 100.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if t_upper_tail(mid, df) > 0.025 {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// A mean with the half-width of its 95% interval (`None` with fewer than two values).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub mean: f64,
    pub half_width: Option<f64>,
    /// How many values it is the mean of.
    pub n: usize,
}

impl Interval {
    /// The interval's ends (the mean twice without a half-width).
    pub fn ends(&self) -> (f64, f64) {
        let h = self.half_width.unwrap_or(0.0);
        (self.mean - h, self.mean + h)
    }
}

/// "4.0029 ± 0.0081": a mean to the decimals of its half-width's second significant digit
/// (the digits the interval vouches for), "12.5 ± 0" when the seeds agree exactly.
pub fn plus_minus(mean: f64, half_width: f64) -> String {
    if half_width.is_nan() || half_width <= 0.0 || !half_width.is_finite() {
        return format!("{} ± 0", short(mean));
    }
    let decimals = (1 - half_width.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{mean:.decimals$} ± {half_width:.decimals$}")
}

/// A number for a person: three significant figures (whole numbers from 100 up), no
/// exponent for ordinary sizes.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let text = if a == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    };
    // "-0.000" is zero.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".into()
    } else {
        text
    }
}

impl Interval {
    /// "+1.23 (0.52 to 1.94)": a difference (scaled) with its interval's ends, to the
    /// decimals of the half-width's second significant digit; "0 (0 to 0)" for none at all.
    pub fn difference_words(&self, scale: f64) -> String {
        let mean = self.mean * scale;
        match self.half_width.map(|h| h * scale) {
            Some(h) if h > 0.0 && h.is_finite() => {
                let d = (1 - h.log10().floor() as i32).clamp(0, 6) as usize;
                format!("{mean:+.d$} ({:.d$} to {:.d$})", mean - h, mean + h)
            }
            Some(_) if mean == 0.0 => "0 (0 to 0)".into(),
            _ if mean == 0.0 => "0".into(),
            _ => format!("{}{}", if mean > 0.0 { "+" } else { "" }, short(mean)),
        }
    }

    /// "12.3 ± 0.41" (scaled, e.g. by 100 for a percentage), or the mean alone for one value.
    pub fn words(&self, scale: f64) -> String {
        match self.half_width {
            Some(h) => plus_minus(self.mean * scale, h * scale),
            None => short(self.mean * scale),
        }
    }
}

/// The mean of `values` with its 95% t-interval; `None` for no values.
pub fn mean_interval(values: &[f64]) -> Option<Interval> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let half_width = (n >= 2).then(|| {
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        t_975(nf - 1.0) * (variance / nf).sqrt()
    });
    Some(Interval {
        mean,
        half_width,
        n,
    })
}

/// The difference of means `mean(b) − mean(a)` with Welch's 95% interval (the two samples
/// independent, their variances not assumed equal). `None` if either is empty; no half-width
/// unless both have two values or more.
pub fn difference(a: &[f64], b: &[f64]) -> Option<Interval> {
    let ia = mean_interval(a)?;
    let ib = mean_interval(b)?;
    let half_width = (a.len() >= 2 && b.len() >= 2)
        .then(|| {
            let var = |v: &[f64], m: f64| {
                v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
            };
            let sa = var(a, ia.mean) / a.len() as f64;
            let sb = var(b, ib.mean) / b.len() as f64;
            let se2 = sa + sb;
            if se2 <= 0.0 {
                return Some(0.0);
            }
            let df =
                se2 * se2 / (sa * sa / (a.len() as f64 - 1.0) + sb * sb / (b.len() as f64 - 1.0));
            Some(t_975(df) * se2.sqrt())
        })
        .flatten();
    Some(Interval {
        mean: ib.mean - ia.mean,
        half_width,
        n: a.len().min(b.len()),
    })
}

/// The difference of two proportions `b − a` (`sa` of `na`, `sb` of `nb`) with Newcombe's
/// 95% interval, built from the two Wilson intervals (his method 10): like them it stays
/// inside [−1, 1] and is honest at 0 and at 1. `None` if either count is zero.
pub fn share_difference(sa: usize, na: usize, sb: usize, nb: usize) -> Option<(f64, f64, f64)> {
    let (la, ua) = wilson(sa, na)?;
    let (lb, ub) = wilson(sb, nb)?;
    let pa = sa.min(na) as f64 / na as f64;
    let pb = sb.min(nb) as f64 / nb as f64;
    let d = pb - pa;
    let low = d - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt();
    let high = d + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt();
    Some((d, low.max(-1.0), high.min(1.0)))
}

/// The `p` quantile of sorted values, interpolating between order statistics (Hyndman and
/// Fan's type 7, the default of R and NumPy). `None` for no values.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let below = h.floor() as usize;
    let above = (below + 1).min(last);
    Some(sorted[below] + (h - below as f64) * (sorted[above] - sorted[below]))
}

/// One seed's run, reduced to what the aggregate reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    pub seed: u64,
    pub summary: Summary,
    /// Attempts per offered request over the after window (the verdict's): how far retries
    /// multiply the load. `None` when nothing was offered then.
    pub amplification: Option<f64>,
    /// The share of server work over the whole run whose result no user received in time:
    /// 1 − Σ useful / Σ throughput (SPEC §8). `None` when no server completed anything.
    pub wasted: Option<f64>,
}

impl Replica {
    /// The figures of a finished run.
    pub fn of(sim: &Sim) -> Replica {
        Replica::of_rows(sim.scenario(), sim.rows(), sim.summary())
    }

    /// The figures of a run's rows and summary.
    pub fn of_rows(scenario: &Scenario, rows: &[Row], summary: Summary) -> Replica {
        let duration = scenario.duration_s;
        let after = window(rows, after_start_s(scenario), duration, duration);
        let offered = mean(&after, |r| r.offered).unwrap_or(0.0);
        let attempts = mean(&after, |r| r.attempts).unwrap_or(0.0);
        let all = window(rows, 0.0, duration, duration);
        let throughput = mean(&all, |r| r.throughput).unwrap_or(0.0);
        let useful = mean(&all, |r| r.useful).unwrap_or(0.0);
        Replica {
            seed: scenario.seed,
            summary,
            amplification: (offered > 0.0).then(|| attempts / offered),
            wasted: (throughput > 0.0).then(|| (1.0 - useful / throughput).clamp(0.0, 1.0)),
        }
    }
}

/// A figure two runs are compared on: its name, unit and scale for people, and where a
/// replica has it.
pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    /// What the value is multiplied by for display (100 for a share shown in %).
    pub scale: f64,
    pub get: fn(&Replica) -> Option<f64>,
}

/// The figures a comparison shows, after the share metastable (SPEC §9).
pub const FIGURES: [Figure; 5] = [
    Figure {
        name: "goodput after",
        unit: "requests/s",
        scale: 1.0,
        get: |r| r.summary.goodput_after,
    },
    Figure {
        name: "recovery",
        unit: "s",
        scale: 1.0,
        get: |r| r.summary.recovery_s,
    },
    Figure {
        name: "latency p99",
        unit: "s",
        scale: 1.0,
        get: |r| r.summary.latency_p99_s,
    },
    Figure {
        name: "amplification",
        unit: "×",
        scale: 1.0,
        get: |r| r.amplification,
    },
    Figure {
        name: "wasted work",
        unit: "%",
        scale: 100.0,
        get: |r| r.wasted,
    },
];

/// B − A of one figure over two sets of runs: paired by seed when both ran the same seeds
/// and every seed has the figure on both sides (what the seeds share then cancels: common
/// random numbers), else Welch's interval over the seeds that have it.
pub fn compare(a: &[Replica], b: &[Replica], get: fn(&Replica) -> Option<f64>) -> Option<Interval> {
    let same_seeds = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.seed == y.seed);
    let paired: Option<Vec<f64>> = same_seeds
        .then(|| {
            a.iter()
                .zip(b)
                .map(|(x, y)| Some(get(y)? - get(x)?))
                .collect()
        })
        .flatten();
    match paired {
        Some(d) => mean_interval(&d),
        None => {
            let values = |r: &[Replica]| r.iter().filter_map(get).collect::<Vec<f64>>();
            difference(&values(a), &values(b))
        }
    }
}

/// What k seeds say together (SPEC §9).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub seeds: usize,
    /// How many seeds gave each verdict, in [`Verdict::ALL`] order, verdicts no seed gave
    /// left out.
    pub verdicts: Vec<(Verdict, usize)>,
    pub metastable: usize,
    /// The share of seeds metastable and its 95% Wilson interval.
    pub metastable_share: f64,
    pub metastable_interval: (f64, f64),
    /// Seeds that recovered (`stable` or `recovered`).
    pub recovered: usize,
    /// Goodput before the first trigger: what goodput after is measured against.
    pub goodput_before: Option<Interval>,
    pub goodput_after: Option<Interval>,
    /// Over the seeds whose goodput came back (those with a `recovery_s`).
    pub recovery_s: Option<Interval>,
    pub latency_p99_s: Option<Interval>,
    pub amplification: Option<Interval>,
    pub wasted: Option<Interval>,
}

impl Aggregate {
    /// The aggregate of the replicas (at least one).
    pub fn of(replicas: &[Replica]) -> Aggregate {
        let n = replicas.len();
        let verdicts: Vec<(Verdict, usize)> = Verdict::ALL
            .into_iter()
            .map(|v| {
                (
                    v,
                    replicas.iter().filter(|r| r.summary.verdict == v).count(),
                )
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        let count = |v: Verdict| replicas.iter().filter(|r| r.summary.verdict == v).count();
        let metastable = count(Verdict::Metastable);
        let figure = |f: &dyn Fn(&Replica) -> Option<f64>| {
            let values: Vec<f64> = replicas.iter().filter_map(f).collect();
            mean_interval(&values)
        };
        Aggregate {
            seeds: n,
            verdicts,
            metastable,
            metastable_share: if n == 0 {
                0.0
            } else {
                metastable as f64 / n as f64
            },
            metastable_interval: wilson(metastable, n).unwrap_or((0.0, 1.0)),
            recovered: count(Verdict::Stable) + count(Verdict::Recovered),
            goodput_before: figure(&|r| r.summary.goodput_before),
            goodput_after: figure(&|r| r.summary.goodput_after),
            recovery_s: figure(&|r| r.summary.recovery_s),
            latency_p99_s: figure(&|r| r.summary.latency_p99_s),
            amplification: figure(&|r| r.amplification),
            wasted: figure(&|r| r.wasted),
        }
    }

    /// "metastable in 9 of 10 seeds (95% CI 60–98%)".
    pub fn sentence(&self) -> String {
        let (low, high) = self.metastable_interval;
        format!(
            "metastable in {} of {} seeds (95% CI {:.0}–{:.0}%)",
            self.metastable,
            self.seeds,
            100.0 * low,
            100.0 * high
        )
    }
}

/// Per bucket and column, what the seeds' values were: the band a chart shades.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bands {
    /// The buckets' starts (those every run has).
    pub t: Vec<f64>,
    /// Per column (the runs' [`Row::values`] after `t`), per bucket.
    pub columns: Vec<Band>,
}

/// One column's band: per bucket, `None` where no seed had a value (latency with no good
/// request).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Band {
    pub mean: Vec<Option<f64>>,
    pub median: Vec<Option<f64>>,
    /// The 2.5% and 97.5% quantiles across seeds.
    pub low: Vec<Option<f64>>,
    pub high: Vec<Option<f64>>,
}

impl Bands {
    /// The bands of the seeds' rows (the runs of one scenario, which share their buckets; a
    /// run stopped early contributes the buckets it has). Every column of [`Row::values`]
    /// after `t`, per-block ones included.
    pub fn of(runs: &[&[Row]]) -> Bands {
        let buckets = runs.iter().map(|r| r.len()).min().unwrap_or(0);
        let width = runs
            .first()
            .and_then(|r| r.first())
            .map_or(0, |row| row.values().count().saturating_sub(1));
        let mut columns = vec![Band::default(); width];
        let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(runs.len()); width];
        for bucket in 0..buckets {
            for v in &mut values {
                v.clear();
            }
            for run in runs {
                for (column, value) in run[bucket].values().skip(1).take(width).enumerate() {
                    if let Some(value) = value.filter(|v| v.is_finite()) {
                        values[column].push(value);
                    }
                }
            }
            for (band, v) in columns.iter_mut().zip(&mut values) {
                // Unstable is exact here: values equal under `total_cmp` are the same bits.
                v.sort_unstable_by(f64::total_cmp);
                band.mean
                    .push((!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64));
                band.median.push(quantile(v, 0.5));
                band.low.push(quantile(v, 0.025));
                band.high.push(quantile(v, 0.975));
            }
        }
        Bands {
            t: runs
                .first()
                .map(|r| r[..buckets].iter().map(|row| row.t).collect())
                .unwrap_or_default(),
            columns,
        }
    }

    /// The CSV of SPEC §9: `t`, then per global column its mean and 2.5% / 97.5% quantiles
    /// across seeds (`goodput_mean,goodput_p2_5,goodput_p97_5`, …); an empty cell where no
    /// seed had a value.
    pub fn global_csv(&self) -> String {
        use std::fmt::Write as _;
        let global = &crate::GLOBAL_COLUMNS[1..];
        let mut out = String::from("t");
        for name in global {
            let _ = write!(out, ",{name}_mean,{name}_p2_5,{name}_p97_5");
        }
        out.push('\n');
        for (i, t) in self.t.iter().enumerate() {
            let _ = write!(out, "{t}");
            for band in self.columns.iter().take(global.len()) {
                for cell in [band.mean[i], band.low[i], band.high[i]] {
                    out.push(',');
                    if let Some(v) = cell {
                        let _ = write!(out, "{v}");
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn wilson_matches_hand_computed_intervals() {
        // 9 of 10: centre (0.9 + z²/20) / (1 + z²/10), half-width
        // z / (1 + z²/10) · √(0.9·0.1/10 + z²/400), with z = 1.959964.
        let (low, high) = wilson(9, 10).unwrap();
        assert!(close(low, 0.59585, 1e-4), "{low}");
        assert!(close(high, 0.98212, 1e-4), "{high}");
        // 0 of 10: [0, z²/(n + z²)] = [0, 0.27753].
        let (low, high) = wilson(0, 10).unwrap();
        assert!(low == 0.0 && close(high, 0.27753, 1e-4), "{low} {high}");
        // 10 of 10 mirrors it.
        let (low, high) = wilson(10, 10).unwrap();
        assert!(close(low, 1.0 - 0.27753, 1e-4) && close(high, 1.0, 1e-12));
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        for (df, t) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (4.0, 2.7764),
            (9.0, 2.2622),
            (29.0, 2.0452),
            (1000.0, 1.9623),
        ] {
            let got = t_975(df);
            assert!(close(got, t, 1e-4), "df {df}: {got} (tables: {t})");
        }
        // Fractional degrees of freedom lie between their neighbours.
        let t = t_975(4.5);
        assert!(t < t_975(4.0) && t > t_975(5.0));
    }

    #[test]
    fn t_interval_matches_a_hand_computation() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s² = 32/7, half-width t(7) · s/√8 with
        // t(7) = 2.364624.
        let i = mean_interval(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(i.mean, 5.0);
        let expected = 2.364_624 * (32.0_f64 / 7.0 / 8.0).sqrt();
        assert!(close(i.half_width.unwrap(), expected, 1e-5), "{i:?}");
        assert_eq!(mean_interval(&[3.0]).unwrap().half_width, None);
        assert_eq!(mean_interval(&[]), None);
    }

    #[test]
    fn welch_difference_is_antisymmetric_and_zero_for_equal_samples() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [2.0, 4.0, 6.0, 8.0, 10.0];
        let ab = difference(&a, &b).unwrap();
        let ba = difference(&b, &a).unwrap();
        assert_eq!(ab.mean, 3.5);
        assert_eq!(ab.mean, -ba.mean);
        assert_eq!(ab.half_width, ba.half_width);
        // By hand: s²a/na = (5/3)/4, s²b/nb = 10/5; Welch's df = 5.5208…
        let (sa, sb) = (5.0 / 12.0, 2.0_f64);
        let df = (sa + sb).powi(2) / (sa * sa / 3.0 + sb * sb / 4.0);
        let expected = t_975(df) * (sa + sb).sqrt();
        assert!(close(ab.half_width.unwrap(), expected, 1e-12));
        assert!(close(df, 5.5208, 1e-3), "{df}");
        let same = difference(&a, &a).unwrap();
        assert_eq!(same.mean, 0.0);
    }

    #[test]
    fn share_differences_follow_newcombe() {
        // Newcombe (1998), table II, example (a): 56/70 − 48/80 = 0.2, interval
        // 0.0524 to 0.3339 (method 10).
        let (d, low, high) = share_difference(48, 80, 56, 70).unwrap();
        assert!(close(d, 0.2, 1e-12));
        assert!(close(low, 0.0524, 1e-4), "{low}");
        assert!(close(high, 0.3339, 1e-4), "{high}");
        // Swapping the two negates it.
        let (d2, low2, high2) = share_difference(56, 70, 48, 80).unwrap();
        assert!(close(d2, -d, 1e-12) && close(low2, -high, 1e-12) && close(high2, -low, 1e-12));
        // Equal counts: zero, and an interval around it.
        let (d, low, high) = share_difference(9, 10, 9, 10).unwrap();
        assert!(d == 0.0 && low < 0.0 && high > 0.0);
    }

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(10.0));
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        // h = 4 · 0.975 = 3.9: 4 + 0.9 · (10 − 4).
        assert!(close(quantile(&v, 0.975).unwrap(), 9.4, 1e-12));
        // h = 0.1: 1 + 0.1 · 1.
        assert!(close(quantile(&v, 0.025).unwrap(), 1.1, 1e-12));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.975), Some(7.0));
    }
}
