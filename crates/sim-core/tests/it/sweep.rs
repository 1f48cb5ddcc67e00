//! Sweeps (`sim_core::sweep`) reproduce the known shape of the retry storm's phase diagram
//! (the OSDI'22 picture): a big, long spike tips it on every seed, a small, short one never
//! does, and the smallest spike that tips it shrinks as the load rises.

use serde_json::Value;
use sim_core::sweep::{Axis, Outcome, Sweep};
use sim_core::{presets, Sim, Summary, Verdict};

fn storm() -> Value {
    serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap()
}

fn run_all(sweep: &Sweep) -> Vec<Outcome> {
    sweep
        .points()
        .into_iter()
        .map(|point| {
            let summaries: Vec<Summary> = (0..sweep.seeds)
                .map(|s| {
                    let mut sim = Sim::new(&sweep.scenario(point, s).unwrap()).unwrap();
                    sim.run();
                    sim.summary()
                })
                .collect();
            Outcome::of(&summaries)
        })
        .collect()
}

#[test]
fn a_big_long_spike_tips_every_seed_and_a_small_short_one_none() {
    let seeds = if crate::slow() { 10 } else { 4 };
    let mut big = storm();
    sim_core::set_path(&mut big, "triggers.0.for_s", "20").unwrap();
    let big = Sweep::new(
        big,
        Axis::parse("triggers.0.factor=3..3:1").unwrap(),
        None,
        seeds,
    )
    .unwrap();
    let outcome = &run_all(&big)[0];
    assert_eq!(
        (outcome.verdict, outcome.agreement),
        (Verdict::Metastable, 1.0)
    );

    let mut small = storm();
    sim_core::set_path(&mut small, "triggers.0.for_s", "2").unwrap();
    let small = Sweep::new(
        small,
        Axis::parse("triggers.0.factor=1.2..1.2:1").unwrap(),
        None,
        seeds,
    )
    .unwrap();
    let outcome = &run_all(&small)[0];
    assert_eq!(
        (outcome.verdict, outcome.agreement),
        (Verdict::Recovered, 1.0)
    );
}

#[test]
fn the_smallest_tipping_spike_shrinks_as_load_rises() {
    let sweep = Sweep::new(
        storm(),
        Axis::parse("triggers.0.factor=1..3:11").unwrap(),
        Some(Axis::parse("users.rate=50..90:3").unwrap()),
        1,
    )
    .unwrap();
    let outcomes = run_all(&sweep);
    let points = sweep.points();
    // Per load (row of the grid): the smallest factor whose run is metastable.
    let threshold = |iy: usize| {
        points
            .iter()
            .zip(&outcomes)
            .filter(|(p, o)| p.iy == iy && o.verdict == Verdict::Metastable)
            .map(|(p, _)| p.x)
            .fold(f64::INFINITY, f64::min)
    };
    let thresholds: Vec<f64> = (0..3).map(threshold).collect();
    assert!(
        thresholds.iter().all(|t| t.is_finite()),
        "every load tips at ×3: {thresholds:?}"
    );
    assert!(
        thresholds[0] > thresholds[1] && thresholds[1] > thresholds[2],
        "the vulnerable region grows with load: {thresholds:?}"
    );
}
