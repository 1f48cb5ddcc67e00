//! Helpers for unit tests that need whole runs: build a scenario from JSON, run it, read a
//! column.

use crate::{Scenario, Sim};

/// Parses (panicking with the validator's message) and runs a scenario to the end.
pub(crate) fn run(json: &str) -> Sim {
    let scenario =
        Scenario::from_json(json).unwrap_or_else(|e| panic!("invalid test scenario: {e}"));
    let mut sim = Sim::new(&scenario).expect("valid");
    sim.run();
    assert!(sim.stopped().is_none(), "{:?}", sim.stopped());
    let t = sim.totals();
    assert_eq!(
        t.good + t.late + t.failed + t.in_flight,
        t.requests,
        "conservation: {t:?}"
    );
    sim
}

/// A column's values (`NaN` where empty).
pub(crate) fn column(sim: &Sim, name: &str) -> Vec<f64> {
    let index = sim
        .columns()
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    sim.rows()
        .iter()
        .map(|r| r.values().nth(index).flatten().unwrap_or(f64::NAN))
        .collect()
}

/// Sum over buckets `[from, to)` of a per-second column times the bucket length (1 s).
pub(crate) fn total(sim: &Sim, name: &str, from: usize, to: usize) -> f64 {
    column(sim, name)[from..to]
        .iter()
        .filter(|v| !v.is_nan())
        .sum()
}
