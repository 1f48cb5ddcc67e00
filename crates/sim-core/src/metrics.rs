//! Metrics aggregated per bucket as the run goes (SPEC §4).
//!
//! Nothing is kept per finished request: counts go into the current bucket's counters, end-to-end
//! latencies into a log-linear histogram (≤ 0.4% relative error), and a row is emitted when
//! simulated time passes the bucket's end. Memory is therefore bounded by the number of rows,
//! not by the number of requests.

use serde::Serialize;
use std::fmt::Write as _;

/// The global columns, in the order of SPEC §4.
pub const GLOBAL_COLUMNS: [&str; 15] = [
    "t",
    "offered",
    "goodput",
    "throughput",
    "attempts",
    "retries",
    "timeouts",
    "errors",
    "rejected",
    "latency_p50",
    "latency_p99",
    "latency_mean",
    "in_flight",
    "queue",
    "useful",
];

/// One bucket of metrics. Counts are per second; latencies in seconds (`None` when no request
/// succeeded in the bucket); `in_flight` and `queue` are the state at the bucket's end.
///
/// After the CSV's columns come how user requests ended in the bucket (per second, each in the
/// bucket where its client learnt it), for the charts: `goodput`, then the failures by cause —
/// `failed_timeout`, `failed_error`, `failed_rejected` — whose sum with `goodput` is the
/// requests that ended; and `ended_late`, the successes that arrived after their user had
/// left. These four are not CSV columns ([`Row::values`], [`to_csv`] and the serialized form
/// leave them out), so the CSV and JSON outputs stay as SPEC §4 has them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Row {
    pub t: f64,
    pub offered: f64,
    pub goodput: f64,
    pub throughput: f64,
    pub attempts: f64,
    pub retries: f64,
    pub timeouts: f64,
    pub errors: f64,
    pub rejected: f64,
    pub latency_p50: Option<f64>,
    pub latency_p99: Option<f64>,
    pub latency_mean: Option<f64>,
    pub in_flight: f64,
    pub queue: f64,
    /// Server services completed whose result became part of a good request, per second,
    /// counted in the bucket where that request succeeded (SPEC §8). `throughput − useful`
    /// is wasted work.
    pub useful: f64,
    /// Per-block columns, in the order of [`crate::Sim::columns`] after the global ones.
    pub blocks: Vec<Option<f64>>,
    /// Successes that reached their client after its deadline, counted in the bucket where the
    /// success arrives. The request's end was already counted, in `failed_timeout` of the
    /// bucket where its deadline fired, and stays there: a late success is an event of its own
    /// ("a success arrived after the user left"), not a second end, so the chart of what
    /// happened to requests never goes negative. Over a run, Σ `failed_*` = `failed + late`
    /// of [`Totals`] and Σ `ended_late` = `late` (times the bucket lengths).
    #[serde(skip)]
    pub ended_late: f64,
    /// Requests that failed because a timeout fired first: their client's deadline (the user
    /// gave up), or a retry layer's last attempt timing out.
    #[serde(skip)]
    pub failed_timeout: f64,
    /// Requests that failed on an error reply reaching their client before its deadline (a
    /// server's `error_rate` or `errors` trigger, a shed call, retries exhausted on errors).
    #[serde(skip)]
    pub failed_error: f64,
    /// Requests that failed on a rejection reaching their client before its deadline (a full
    /// queue, an outage, an open breaker — directly or as a retry layer's last attempt).
    #[serde(skip)]
    pub failed_rejected: f64,
}

impl Row {
    /// Every value in column order (`t` first).
    pub fn values(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        [
            Some(self.t),
            Some(self.offered),
            Some(self.goodput),
            Some(self.throughput),
            Some(self.attempts),
            Some(self.retries),
            Some(self.timeouts),
            Some(self.errors),
            Some(self.rejected),
            self.latency_p50,
            self.latency_p99,
            self.latency_mean,
            Some(self.in_flight),
            Some(self.queue),
            Some(self.useful),
        ]
        .into_iter()
        .chain(self.blocks.iter().copied())
    }
}

/// Rows as CSV: a header of `columns`, then one line per row; an empty cell for "no value".
///
/// Numbers use Rust's shortest round-trip formatting, which is the same on every platform, so
/// the same run gives byte-identical CSV natively and in wasm.
/// A count for a message: rounded to a whole number, thousands separated (`2,147,483,648`).
pub(crate) fn group(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in bytes for a message: KiB below a MiB, else MiB (`256 KiB`, `1,024 MiB`).
pub(crate) fn size(bytes: f64) -> String {
    if bytes < f64::from(1u32 << 20) {
        format!("{} KiB", group(bytes / 1024.0))
    } else {
        format!("{} MiB", group(bytes / f64::from(1u32 << 20)))
    }
}

pub fn to_csv(columns: &[String], rows: &[Row]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * (columns.len() * 8));
    out.push_str(&columns.join(","));
    out.push('\n');
    for row in rows {
        for (i, value) in row.values().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if let Some(v) = value {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    out
}

/// Log-linear histogram of nanosecond durations: exact below 256 ns, then 128 bins per power
/// of two (bin width ≤ 1/128 of its lower edge; the midpoint is within 0.4% of any value in it).
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    n: u64,
    /// Touched range, so a reset clears only what was used.
    low: usize,
    high: usize,
}

const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
const BINS: usize = (2 * SUB + (63 - SUB_BITS as u64) * SUB) as usize;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BINS],
            n: 0,
            low: usize::MAX,
            high: 0,
        }
    }
}

impl Histogram {
    pub(crate) fn bin(value: u64) -> usize {
        if value < 2 * SUB {
            return value as usize;
        }
        let exponent = 63 - value.leading_zeros(); // ≥ SUB_BITS + 1
        let shift = exponent - SUB_BITS;
        let mantissa = (value >> shift) - SUB; // 0..SUB
        (2 * SUB + u64::from(shift - 1) * SUB + mantissa) as usize
    }

    /// The midpoint of a bin.
    fn value_of(bin: usize) -> f64 {
        let bin = bin as u64;
        if bin < 2 * SUB {
            return bin as f64;
        }
        let shift = (bin - 2 * SUB) / SUB + 1;
        let mantissa = (bin - 2 * SUB) % SUB + SUB;
        let low = mantissa << shift;
        low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
    }

    #[cfg(test)]
    pub(crate) fn add(&mut self, value: u64) {
        self.add_to_bin(Self::bin(value));
    }

    /// Counts a value whose bin is already known (one bin computation for several histograms).
    #[inline]
    pub(crate) fn add_to_bin(&mut self, bin: usize) {
        self.counts[bin] += 1;
        self.n += 1;
        self.low = self.low.min(bin);
        self.high = self.high.max(bin);
    }

    /// The nearest-rank quantile (`sorted[⌈p·n⌉−1]`), as a bin midpoint.
    pub(crate) fn quantile(&self, p: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let rank = ((p * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for bin in self.low..=self.high {
            seen += self.counts[bin];
            if seen >= rank {
                return Some(Self::value_of(bin));
            }
        }
        None
    }

    pub(crate) fn clear(&mut self) {
        if self.n > 0 {
            self.counts[self.low..=self.high].fill(0);
        }
        self.n = 0;
        self.low = usize::MAX;
        self.high = 0;
    }
}

/// Counters of the bucket being filled.
#[derive(Debug, Default)]
pub(crate) struct BucketCounts {
    pub offered: u64,
    pub goodput: u64,
    pub throughput: u64,
    pub attempts: u64,
    pub retries: u64,
    pub timeouts: u64,
    pub errors: u64,
    pub rejected: u64,
    pub latency: Histogram,
    pub latency_sum_ns: u128,
    pub ended_late: u64,
    pub failed_timeout: u64,
    pub failed_error: u64,
    pub failed_rejected: u64,
    pub useful: u64,
}

impl BucketCounts {
    pub(crate) fn clear(&mut self) {
        let latency = std::mem::take(&mut self.latency);
        *self = BucketCounts {
            latency,
            ..BucketCounts::default()
        };
        self.latency.clear();
    }
}

/// Whole-run counts. `good + late + failed + in_flight == requests` at every instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// User requests created.
    pub requests: u64,
    /// Succeeded before their deadline.
    pub good: u64,
    /// Succeeded after the user gave up.
    pub late: u64,
    /// Ended without a success before the deadline (and not re-classified late).
    pub failed: u64,
    /// Not ended yet.
    pub in_flight: u64,
    /// Calls arriving at servers.
    pub attempts: u64,
    /// Retry attempts sent.
    pub retries: u64,
    /// Caller-side timeouts that fired while the caller waited.
    pub timeouts: u64,
    /// Error replies made by servers.
    pub errors: u64,
    /// Calls refused without work (full queue, outage, open breaker).
    pub rejected: u64,
    /// Services completed by servers.
    pub throughput: u64,
    /// Services that became part of a good request (SPEC §8's `useful`).
    pub useful: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_within_half_a_percent() {
        let mut h = Histogram::default();
        let values: Vec<u64> = (1..=10_000u64).map(|i| i * 137_731).collect();
        for &v in &values {
            h.add(v);
        }
        for p in [0.5, 0.9, 0.99, 1.0] {
            let exact = values[((p * values.len() as f64).ceil() as usize) - 1] as f64;
            let got = h.quantile(p).unwrap();
            assert!(
                (got - exact).abs() <= exact * 0.004,
                "p{p}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn histogram_is_exact_for_small_values_and_handles_huge_ones() {
        let mut h = Histogram::default();
        h.add(3);
        assert_eq!(h.quantile(0.5), Some(3.0));
        h.clear();
        assert_eq!(h.quantile(0.5), None);
        h.add(u64::MAX);
        let v = h.quantile(1.0).unwrap();
        assert!((v - u64::MAX as f64).abs() / (u64::MAX as f64) < 0.004);
    }

    #[test]
    fn csv_leaves_missing_values_empty() {
        let row = Row {
            t: 0.0,
            offered: 80.0,
            goodput: 79.0,
            throughput: 80.0,
            attempts: 80.0,
            retries: 0.0,
            timeouts: 0.0,
            errors: 0.0,
            rejected: 0.0,
            latency_p50: None,
            latency_p99: None,
            latency_mean: Some(0.25),
            in_flight: 3.0,
            queue: 1.0,
            useful: 0.0,
            blocks: vec![None, Some(0.5)],
            ended_late: 2.0,
            failed_timeout: 1.0,
            failed_error: 0.0,
            failed_rejected: 0.0,
        };
        let columns: Vec<String> = GLOBAL_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .chain(["a.x".into(), "a.y".into()])
            .collect();
        let csv = to_csv(&columns, std::slice::from_ref(&row));
        assert_eq!(
            csv.lines().nth(1),
            Some("0,80,79,80,80,0,0,0,0,,,0.25,3,1,0,,0.5")
        );
        // The outcome counts are for the charts: in neither the CSV nor the serialized row.
        assert_eq!(row.values().count(), columns.len());
        let json = serde_json::to_value(&row).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut expected: Vec<&str> = GLOBAL_COLUMNS.iter().copied().chain(["blocks"]).collect();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
