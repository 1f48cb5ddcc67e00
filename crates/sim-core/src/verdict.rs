//! The verdict (SPEC §4): did the system come back after the trigger ended?
//!
//! `before` is the whole buckets before the first trigger; `after` runs from
//! max(0.8·duration, end of the last trigger) to the end. With goodput_before below 90% of
//! offered the system was `overloaded` from the start. Otherwise r = goodput_after /
//! goodput_before gives `recovered` (r ≥ 0.9), `degraded` (0.5 ≤ r < 0.9), and for r < 0.5
//! `recovering` if the backlog (in_flight + queue) is still falling — a least-squares slope
//! more than 3 standard errors below zero — else `metastable`. Without a trigger: `stable` or
//! `overloaded`. A trigger still active at the end, or nothing offered before the first
//! trigger: `undefined`.

use crate::metrics::Row;
use crate::scenario::{Scenario, Trigger};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Stable,
    Recovered,
    Degraded,
    Recovering,
    Metastable,
    Overloaded,
    Undefined,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Stable => "stable",
            Verdict::Recovered => "recovered",
            Verdict::Degraded => "degraded",
            Verdict::Recovering => "recovering",
            Verdict::Metastable => "metastable",
            Verdict::Overloaded => "overloaded",
            Verdict::Undefined => "undefined",
        }
    }

    /// All verdicts, in a stable order.
    pub const ALL: [Verdict; 7] = [
        Verdict::Stable,
        Verdict::Recovered,
        Verdict::Degraded,
        Verdict::Recovering,
        Verdict::Metastable,
        Verdict::Overloaded,
        Verdict::Undefined,
    ];
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Verdict, String> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown verdict `{s}`"))
    }
}

/// The verdict with the numbers behind it and a sentence explaining it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Mean goodput (requests/s) over the before window (the first 80% without triggers).
    pub goodput_before: Option<f64>,
    /// Mean goodput over the after window (the last 20% without triggers).
    pub goodput_after: Option<f64>,
    pub offered_before: Option<f64>,
    /// Seconds from the end of the last trigger until a 10 s stretch of goodput averages ≥ 90%
    /// of before.
    pub recovery_s: Option<f64>,
    /// Least-squares slope of the backlog over the after window (per second) and its
    /// standard error.
    pub backlog_slope: Option<(f64, f64)>,
    /// One sentence: what happened and why.
    pub explanation: String,
}

/// The summary of SPEC §5, field order included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub verdict: Verdict,
    pub requests: u64,
    pub good: u64,
    pub late: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub events: u64,
    /// Units of work done ([`crate::Limits::max_work`]): what to ask `--max-work` for.
    #[serde(default)]
    pub work: u64,
    pub goodput_before: Option<f64>,
    pub goodput_after: Option<f64>,
    pub recovery_s: Option<f64>,
    pub latency_mean_s: Option<f64>,
    pub latency_p99_s: Option<f64>,
    /// Wall-clock seconds of the simulation alone; filled in by whoever owns a clock.
    pub wall_s: Option<f64>,
}

/// Rows in `[from, to)` (by bucket start; only whole buckets: a bucket must also end by `to`).
pub(crate) fn window(rows: &[Row], from: f64, to: f64, duration: f64) -> Vec<(&Row, f64)> {
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let end = rows.get(i + 1).map_or(duration, |next| next.t);
        if row.t >= from - 1e-9 && end <= to + 1e-9 {
            out.push((row, end - row.t));
        }
    }
    out
}

/// Length-weighted mean of a column over a window.
pub(crate) fn mean(window: &[(&Row, f64)], value: impl Fn(&Row) -> f64) -> Option<f64> {
    let total: f64 = window.iter().map(|(_, len)| len).sum();
    (total > 0.0).then(|| window.iter().map(|(r, len)| value(r) * len).sum::<f64>() / total)
}

/// Least-squares slope of `y` against `t`, with its standard error.
pub(crate) fn slope(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_y)).sum();
    let b = sxy / sxx;
    let a = mean_y - b * mean_t;
    let residuals: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    let standard_error = (residuals / (nf - 2.0) / sxx).sqrt();
    Some((b, standard_error))
}

/// The trigger that starts first and the one that ends last (`None` without triggers): the
/// ends of the before and after windows.
fn first_and_last(scenario: &Scenario) -> Option<(&Trigger, &Trigger)> {
    let first = scenario
        .triggers
        .iter()
        .min_by(|a, b| a.at_s().total_cmp(&b.at_s()))?;
    let last = scenario
        .triggers
        .iter()
        .max_by(|a, b| a.end_s().total_cmp(&b.end_s()))?;
    Some((first, last))
}

/// The start of the window the verdict reads "after": the last 20% of the run, or later if a
/// trigger is still on then.
pub(crate) fn after_start_s(scenario: &Scenario) -> f64 {
    let tail = 0.8 * scenario.duration_s;
    match first_and_last(scenario) {
        Some((_, last)) => tail.max(last.end_s()),
        None => tail,
    }
}

fn trigger_noun(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::LoadSpike { .. } => "the spike",
        Trigger::LoadSteps { .. } => "the staircase",
        Trigger::Latency { .. } => "the latency blip",
        Trigger::Outage { .. } => "the outage",
        Trigger::Capacity { .. } => "the capacity loss",
        Trigger::Errors { .. } => "the error burst",
        Trigger::Partition { .. } => "the partition",
        Trigger::CacheFlush { .. } => "the cache flush",
    }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// The verdict of a run still under way, if the rest of the run cannot change it: a system
/// that is `overloaded` before its first trigger (with no trigger: over the first 80% of the
/// run) is overloaded whatever follows. `last_start_s` is the start of the run's last bucket
/// (it says whether the window after the trigger will hold a bucket, without which the
/// verdict would be `undefined`). `None`: only the whole run can tell.
///
/// [`judge`] on the finished run gives the same verdict whenever this gives one: it reads the
/// same whole buckets of the same window, and every condition that would make it
/// `undefined` is checked here first (a property test runs both on random scenarios).
pub fn settled(scenario: &Scenario, rows: &[Row], last_start_s: f64) -> Option<Verdict> {
    let duration = scenario.duration_s;
    let (window_end, after_start) = match first_and_last(scenario) {
        Some((first, last)) => {
            if last.end_s() >= duration {
                return None;
            }
            (first.at_s(), (0.8 * duration).max(last.end_s()))
        }
        None => (0.8 * duration, 0.8 * duration),
    };
    // The window that decides must be closed (a bucket after it has ended), and the window
    // after it must be going to hold a bucket.
    if !rows.iter().any(|r| r.t >= window_end - 1e-9) || last_start_s < after_start - 1e-9 {
        return None;
    }
    let decisive = window(rows, 0.0, window_end, duration);
    let offered = mean(&decisive, |r| r.offered)?;
    let good = mean(&decisive, |r| r.goodput)?;
    (offered > 0.0 && good < 0.9 * offered).then_some(Verdict::Overloaded)
}

/// Judges a finished run.
pub fn judge(scenario: &Scenario, columns: &[String], rows: &[Row]) -> Report {
    let duration = scenario.duration_s;
    let mut report = Report {
        verdict: Verdict::Undefined,
        goodput_before: None,
        goodput_after: None,
        offered_before: None,
        recovery_s: None,
        backlog_slope: None,
        explanation: String::new(),
    };
    if rows.is_empty() {
        report.explanation = "Undefined: the run produced no metrics yet.".into();
        return report;
    }
    let Some((first, last)) = first_and_last(scenario) else {
        // No trigger: was it fine all along?
        let early = window(rows, 0.0, 0.8 * duration, duration);
        let late = window(rows, 0.8 * duration, duration, duration);
        let offered_early = mean(&early, |r| r.offered);
        let good_early = mean(&early, |r| r.goodput);
        let offered_late = mean(&late, |r| r.offered);
        let good_late = mean(&late, |r| r.goodput);
        report.goodput_before = good_early;
        report.goodput_after = good_late;
        report.offered_before = offered_early;
        let (Some(oe), Some(ge), Some(ol), Some(gl)) =
            (offered_early, good_early, offered_late, good_late)
        else {
            report.explanation =
                "Undefined: the run is too short to compare its start and its end.".into();
            return report;
        };
        if oe <= 0.0 {
            report.explanation = "Undefined: no requests were offered.".into();
            return report;
        }
        let fine_early = ge >= 0.9 * oe;
        let fine_late = ol <= 0.0 || gl >= 0.9 * ol;
        if fine_early && fine_late {
            report.verdict = Verdict::Stable;
            report.explanation =
                format!(
                "Stable: with no trigger, {} of offered requests succeed in time, start to end.",
                percent(if ol > 0.0 { (gl / ol).min(ge / oe) } else { ge / oe })
            );
        } else {
            report.verdict = Verdict::Overloaded;
            let worst = if fine_early { gl / ol } else { ge / oe };
            report.explanation = format!(
                "Overloaded: even without a trigger only {} of offered requests succeed in time.",
                percent(worst)
            );
        }
        return report;
    };

    let before = window(rows, 0.0, first.at_s(), duration);
    let offered_before = mean(&before, |r| r.offered);
    let goodput_before = mean(&before, |r| r.goodput);
    report.offered_before = offered_before;
    report.goodput_before = goodput_before;
    let trigger_end = last.end_s();
    let after_start = (0.8 * duration).max(trigger_end);
    let after = window(rows, after_start, duration, duration);
    let goodput_after = mean(&after, |r| r.goodput);
    report.goodput_after = goodput_after;
    let noun = trigger_noun(last);

    let (Some(offered_before), Some(goodput_before)) = (offered_before, goodput_before) else {
        report.explanation = format!(
            "Undefined: the first trigger starts at {} s, before a whole bucket of normal operation.",
            first.at_s()
        );
        return report;
    };
    if offered_before <= 0.0 {
        report.explanation = "Undefined: nothing was offered before the first trigger.".into();
        return report;
    }
    if trigger_end >= duration || after.is_empty() {
        report.explanation = format!(
            "Undefined: {noun} lasts until {trigger_end} s, too close to the end ({duration} s) to see what follows."
        );
        return report;
    }
    report.recovery_s = recovery(rows, trigger_end, goodput_before, duration);
    if goodput_before < 0.9 * offered_before {
        report.verdict = Verdict::Overloaded;
        report.explanation = format!(
            "Overloaded: before any trigger only {} of offered requests succeed in time ({:.1} of {:.1} per second).",
            percent(goodput_before / offered_before),
            goodput_before,
            offered_before
        );
        return report;
    }
    let goodput_after = goodput_after.unwrap_or(0.0);
    let r = goodput_after / goodput_before;
    let since_end = duration - trigger_end;
    let backlog: Vec<(f64, f64)> = after
        .iter()
        .map(|(row, _)| (row.t, row.in_flight + row.queue))
        .collect();
    report.backlog_slope = slope(&backlog);
    let utilization = server_utilization(columns, &after);
    let offered_after = mean(&after, |row| row.offered).unwrap_or(0.0);
    let attempts_after = mean(&after, |row| row.attempts).unwrap_or(0.0);
    let amplification = (offered_after > 0.0).then(|| attempts_after / offered_after);

    if r >= 0.9 {
        report.verdict = Verdict::Recovered;
        report.explanation = match report.recovery_s {
            Some(s) if s >= 1.0 => format!(
                "Recovered: goodput came back to {} of before {s:.0} s after {noun} ended.",
                percent(r)
            ),
            _ => format!(
                "Recovered: goodput is back to {} of before once {noun} ends.",
                percent(r)
            ),
        };
    } else if r >= 0.5 {
        report.verdict = Verdict::Degraded;
        report.explanation = format!(
            "Degraded: {since_end:.0} s after {noun} ended, goodput is only {} of before.",
            percent(r)
        );
    } else {
        let draining = report.backlog_slope.is_some_and(|(b, se)| b < -3.0 * se);
        let mut text = format!(
            "{}: {since_end:.0} s after {noun} ended, goodput is {} of before",
            if draining { "Recovering" } else { "Metastable" },
            percent(r)
        );
        if let Some(u) = utilization {
            text.push_str(&format!(" while servers run at {}", percent(u)));
        }
        text.push_str(" —");
        if let Some(a) = amplification.filter(|a| *a >= 1.05) {
            text.push_str(&format!(" {a:.1} attempts per request,"));
        }
        let (slope_per_s, _) = report.backlog_slope.unwrap_or((0.0, 0.0));
        if draining {
            report.verdict = Verdict::Recovering;
            text.push_str(&format!(
                " the backlog is still draining ({:.0} per second).",
                slope_per_s
            ));
        } else {
            report.verdict = Verdict::Metastable;
            if slope_per_s > 0.0 && report.backlog_slope.is_some_and(|(b, se)| b > 3.0 * se) {
                text.push_str(" queue still growing.");
            } else {
                text.push_str(" the backlog holds steady: the system stays down.");
            }
        }
        report.explanation = text;
    }
    report
}

/// Mean utilization over all servers in a window.
fn server_utilization(columns: &[String], window: &[(&Row, f64)]) -> Option<f64> {
    let offset = crate::metrics::GLOBAL_COLUMNS.len();
    let indices: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.ends_with(".utilization"))
        .map(|(i, _)| i - offset)
        .collect();
    if indices.is_empty() {
        return None;
    }
    mean(window, |row| {
        indices
            .iter()
            .filter_map(|&i| row.blocks.get(i).copied().flatten())
            .sum::<f64>()
            / indices.len() as f64
    })
}

/// Seconds from `trigger_end` to the start of the first 10 s stretch whose mean goodput is
/// ≥ 90% of `goodput_before`.
///
/// Rationale: the stretch's mean, not every bucket in it. With 1 s buckets at ~100 requests/s,
/// Poisson noise alone puts one bucket in five below 90%; requiring all ten would report a
/// recovery minutes after goodput was visibly back.
fn recovery(rows: &[Row], trigger_end: f64, goodput_before: f64, duration: f64) -> Option<f64> {
    let end_of = |i: usize| rows.get(i + 1).map_or(duration, |next: &Row| next.t);
    for start in 0..rows.len() {
        if end_of(start) <= trigger_end + 1e-9 {
            continue;
        }
        let mut good = 0.0;
        let mut length = 0.0;
        for (i, row) in rows.iter().enumerate().skip(start) {
            let bucket = end_of(i) - row.t;
            good += row.goodput * bucket;
            length += bucket;
            if length >= 10.0 - 1e-9 {
                break;
            }
        }
        if length < 10.0 - 1e-9 {
            return None; // the run ends before a whole stretch
        }
        if good / length >= 0.9 * goodput_before {
            return Some((rows[start].t - trigger_end).max(0.0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_has_no_error() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 5.0 - 2.0 * f64::from(i)))
            .collect();
        let (b, se) = slope(&points).unwrap();
        assert!((b + 2.0).abs() < 1e-12);
        assert!(se < 1e-9);
        assert_eq!(slope(&points[..2]), None);
    }

    #[test]
    fn slope_of_noise_is_within_its_error() {
        let points: Vec<(f64, f64)> = (0..60)
            .map(|i| (f64::from(i), if i % 2 == 0 { 100.0 } else { 104.0 }))
            .collect();
        let (b, se) = slope(&points).unwrap();
        assert!(b.abs() < 3.0 * se, "{b} ± {se}");
    }

    fn rows(goodput: &[f64]) -> Vec<Row> {
        goodput
            .iter()
            .enumerate()
            .map(|(i, &g)| Row {
                t: i as f64,
                offered: 100.0,
                goodput: g,
                throughput: g,
                attempts: 100.0,
                in_flight: 0.0,
                queue: 0.0,
                ..Row::default()
            })
            .collect()
    }

    #[test]
    fn recovery_is_the_start_of_the_first_good_ten_seconds() {
        // Down until t = 25, then back, with one noisy bucket that must not matter.
        let mut goodput = vec![0.0; 25];
        goodput.extend([
            100.0, 100.0, 80.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0,
        ]);
        assert_eq!(recovery(&rows(&goodput), 20.0, 100.0, 36.0), Some(5.0));
        // Never ten good seconds: none.
        assert_eq!(recovery(&rows(&[0.0; 40]), 20.0, 100.0, 40.0), None);
        // Good from the trigger's end: zero.
        assert_eq!(recovery(&rows(&[100.0; 40]), 20.0, 100.0, 40.0), Some(0.0));
    }

    #[test]
    fn verdict_names_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>().unwrap(), v);
        }
    }
}
