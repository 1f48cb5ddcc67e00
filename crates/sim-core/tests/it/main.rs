//! Integration tests of the simulation core: queueing theory, the retry storm and its fixes,
//! presets, block semantics through whole runs, and property tests.
//!
//! Long statistical runs are gated by `METASTABLE_SLOW=1` (set by CI); without it the same
//! tests run shorter with wider tolerances.

mod fix;
mod fluid;
mod hostile;
mod hysteresis;
mod links;
mod presets;
mod properties;
mod semantics;
mod share;
mod storm;
mod sweep;
mod theory;
mod useful;

use serde_json::Value;
use sim_core::{set_path, Report, Row, Scenario, Sim, Totals};

/// True when the long statistical runs are wanted.
pub fn slow() -> bool {
    std::env::var("METASTABLE_SLOW").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A finished run and what tests look at.
pub struct Run {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub report: Report,
    pub latency_mean_s: Option<f64>,
    pub sim: Sim,
}

impl Run {
    /// Values of a column (global or `<block>.<metric>`), `NaN` where empty.
    pub fn column(&self, name: &str) -> Vec<f64> {
        let index = self
            .columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns));
        self.rows
            .iter()
            .map(|r| r.values().nth(index).flatten().unwrap_or(f64::NAN))
            .collect()
    }

    /// Mean of a column over buckets starting in `[from, to)`, ignoring empty cells.
    pub fn mean(&self, name: &str, from: f64, to: f64) -> f64 {
        let values: Vec<f64> = self
            .column(name)
            .into_iter()
            .zip(&self.rows)
            .filter(|(v, r)| r.t >= from && r.t < to && !v.is_nan())
            .map(|(v, _)| v)
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}

/// Parses a scenario (JSON text or preset name), applies `path=value` edits, runs it to the end.
pub fn check(source: &str, sets: &[(&str, &str)]) -> Run {
    let text = match sim_core::presets::find(source) {
        Some(preset) => preset.json.to_string(),
        None => source.to_string(),
    };
    let mut doc: Value = serde_json::from_str(&text).expect("scenario JSON");
    for (path, value) in sets {
        set_path(&mut doc, path, value).expect("set path");
    }
    let scenario = Scenario::from_value(doc).unwrap_or_else(|e| panic!("invalid scenario: {e}"));
    let mut sim = Sim::new(&scenario).expect("valid");
    sim.run();
    assert!(sim.stopped().is_none(), "{:?}", sim.stopped());
    let summary = sim.summary();
    Run {
        columns: sim.columns().to_vec(),
        rows: sim.rows().to_vec(),
        totals: sim.totals(),
        report: sim.report(),
        latency_mean_s: summary.latency_mean_s,
        sim,
    }
}

/// Asserts the conservation law of SPEC §2.
pub fn assert_conserved(totals: &Totals) {
    assert_eq!(
        totals.good + totals.late + totals.failed + totals.in_flight,
        totals.requests,
        "good + late + failed + in_flight must equal requests: {totals:?}"
    );
    assert!(
        totals.useful <= totals.throughput,
        "useful work is part of the work done: {totals:?}"
    );
}
