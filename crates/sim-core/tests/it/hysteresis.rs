//! The hysteresis experiment on whole runs: the retry storm tips on the way up above the load
//! at which it comes back on the way down, and its band sits where the fluid model's bistable
//! loads are; without retries the two paths agree.

use crate::slow;
use serde_json::Value;
use sim_core::hysteresis::{Band, Experiment, Hysteresis};
use sim_core::sweep::Axis;
use sim_core::{presets, set_path, Sim};

/// Runs the experiment on a preset with `--set`-style edits, every seed to the end.
fn experiment(preset: &str, sets: &[(&str, &str)], load: &str, seeds: u32) -> Hysteresis {
    let mut doc: Value = serde_json::from_str(presets::find(preset).unwrap().json).unwrap();
    for (path, value) in sets {
        set_path(&mut doc, path, value).unwrap();
    }
    let e = Experiment::new(doc, Axis::parse(load).unwrap(), 60.0, seeds).unwrap();
    let runs: Vec<_> = (0..seeds)
        .map(|i| {
            let mut sim = Sim::new(&e.scenario(i)).unwrap();
            sim.run();
            assert!(sim.stopped().is_none(), "{:?}", sim.stopped());
            e.measure(sim.rows()).unwrap()
        })
        .collect();
    e.result(&runs)
}

fn seeds() -> u32 {
    if slow() {
        5
    } else {
        1
    }
}

#[test]
fn the_retry_storm_tips_above_where_it_comes_back() {
    let r = experiment("retry-storm", &[], "users.rate=10..110:6", seeds());
    let (tipping, recovery) = (r.edges.tipping.unwrap(), r.edges.recovery.unwrap());
    assert!(
        tipping.level >= recovery.level + 2,
        "a band of at least one load between them: {:?}",
        r.edges
    );
    assert!(matches!(r.band, Band::Between { .. }), "{:?}", r.band);
    // Served on the way up, collapsed on the way down: the same load, two outcomes.
    let at = |load: f64, up: bool| {
        r.steps
            .iter()
            .find(|s| s.step.load == load && (s.step.index < 6) == up)
            .unwrap()
    };
    for load in [30.0, 50.0, 70.0] {
        let (up, down) = (at(load, true), at(load, false));
        assert!(up.goodput > 0.9 * load, "{load} up: {up:?}");
        assert!(down.goodput < 0.1 * load, "{load} down: {down:?}");
        assert!(down.backlog > 100.0 * up.backlog, "{load}: {up:?} {down:?}");
    }
}

#[test]
fn without_retries_the_two_paths_agree() {
    let r = experiment(
        "retry-storm",
        &[("retries.max_attempts", "1")],
        "users.rate=10..110:6",
        seeds(),
    );
    // It does tip (110 is past capacity), and comes back one step down.
    assert_eq!(
        r.edges.tipping.map(|l| l.load),
        Some(110.0),
        "{:?}",
        r.edges
    );
    assert_eq!(r.band, Band::None, "{:?}", r.edges);
    assert_eq!(r.fluid, Ok(None), "no retries: the model is never bistable");
}

#[test]
fn the_measured_band_is_the_fluid_models_within_a_step() {
    let r = experiment("retry-storm", &[], "users.rate=10..110:11", seeds());
    let (low, high) = r.fluid.clone().unwrap().unwrap();
    let Band::Between {
        recovery: Some(recovery),
        tipping,
    } = r.band
    else {
        panic!("{:?}", r.band)
    };
    // The steps are 10 requests/s apart: each edge is known to within one.
    assert!((tipping - high).abs() <= 10.0, "{tipping} vs {high}");
    assert!((recovery - low).abs() <= 10.0, "{recovery} vs {low}");
    // The storm comes back by draining: goodput itself is not back anywhere on the way down.
    assert_eq!(r.edges.healthy_again, None, "{:?}", r.edges);
}

#[test]
fn the_same_experiment_gives_the_same_result() {
    let a = experiment("load-staircase-hysteresis", &[], "users.rate=60..120:4", 2);
    let b = experiment("load-staircase-hysteresis", &[], "users.rate=60..120:4", 2);
    assert_eq!(a, b);
}
