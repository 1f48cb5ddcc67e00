//! The fluid model (`sim_core::fluid`) against the simulation on the retry storm's phase grid
//! (load × spike factor): how often does the model call a point metastable exactly when the
//! simulation's majority does? (The figure is quoted in docs/fluid.md.)

use serde_json::Value;
use sim_core::fluid::Fluid;
use sim_core::sweep::{Axis, Outcome, Sweep};
use sim_core::{presets, Sim, Summary, Verdict};

#[test]
fn the_fluid_model_agrees_with_the_simulation_on_the_retry_storm_grid() {
    let (side, seeds) = if crate::slow() { (20, 3) } else { (8, 1) };
    let base: Value = serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap();
    let sweep = Sweep::new(
        base,
        Axis::parse(&format!("users.rate=40..100:{side}")).unwrap(),
        Some(Axis::parse(&format!("triggers.0.factor=1..3:{side}")).unwrap()),
        seeds,
    )
    .unwrap();
    let mut agree = 0;
    let mut differ = Vec::new();
    let points = sweep.points();
    for &point in &points {
        let summaries: Vec<Summary> = (0..seeds)
            .map(|s| {
                let mut sim = Sim::new(&sweep.scenario(point, s).unwrap()).unwrap();
                sim.run();
                sim.summary()
            })
            .collect();
        let simulated = Outcome::of(&summaries).verdict;
        let model = Fluid::of(&sweep.scenario(point, 0).unwrap())
            .unwrap()
            .verdict();
        let side_of = |v: Verdict| v == Verdict::Metastable;
        if side_of(simulated) == side_of(model) {
            agree += 1;
        } else {
            differ.push(format!(
                "rate {} ×{}: simulation {simulated}, model {model}",
                point.x, point.y
            ));
        }
    }
    let share = f64::from(agree) / points.len() as f64;
    eprintln!(
        "fluid vs simulation: {agree}/{} points agree ({:.1}%); differ: {differ:#?}",
        points.len(),
        share * 100.0
    );
    assert!(share >= 0.9, "{share}: {differ:#?}");
}

/// The simulation's own (q, r): calls at the servers and calls in a retry backoff, per bucket.
/// Before the spike the orbit is near empty and the queue near the model's good point; after
/// it, both run away together, as the model's trajectory does; without retries, no orbit.
#[test]
fn the_simulation_traces_the_models_state_variables() {
    let storm = presets::load("retry-storm").unwrap().unwrap();
    let mut sim = Sim::new(&storm).unwrap();
    sim.run();
    let trace = sim.fluid_trace();
    assert_eq!(trace.len(), sim.rows().len());
    let spike_at = storm.triggers[0].at_s() as usize;
    let before = &trace[10..spike_at];
    let mean = |xs: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| {
        xs.iter().map(f).sum::<f64>() / xs.len() as f64
    };
    let (q_before, r_before) = (mean(before, |s| s.0), mean(before, |s| s.1));
    // M/M/10 at ρ = 0.8 holds about 10 calls; the mean-field good point is 8.
    assert!((6.0..14.0).contains(&q_before), "{q_before}");
    assert!(r_before < 1.0, "{r_before}");
    // The queue at the end matches the rows' queue plus the busy workers.
    let last = sim.rows().last().unwrap();
    assert!(trace.last().unwrap().0 >= last.queue);
    let (q_end, r_end) = *trace.last().unwrap();
    let model = Fluid::of(&storm).unwrap().trajectory(1.0);
    let model_end = model.last().unwrap();
    assert!(
        q_end > 1000.0 && model_end.q > 1000.0,
        "{q_end} {}",
        model_end.q
    );
    assert!(
        (q_end / model_end.q - 1.0).abs() < 0.2,
        "simulated q {q_end}, model {}",
        model_end.q
    );
    assert!(r_end > 10.0, "{r_end}");

    let calm = presets::load("retry-storm-no-retries").unwrap().unwrap();
    let mut sim = Sim::new(&calm).unwrap();
    sim.run();
    assert!(sim.fluid_trace().iter().all(|&(_, r)| r == 0.0));
}

/// A staircase is covered as one spike per step: the same model, the same trajectory as the
/// spikes written out; hedging is not covered, and says so.
#[test]
fn a_staircase_is_piecewise_spikes_and_hedging_is_not_covered() {
    let with_triggers = |triggers: &str| {
        let mut doc: Value =
            serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap();
        doc["triggers"] = serde_json::from_str(triggers).unwrap();
        sim_core::Scenario::from_value(doc).unwrap()
    };
    let steps = with_triggers(
        r#"[{"kind": "load_steps", "target": "users", "at_s": 60, "step_s": 5, "factors": [1.5, 2, 1.2]}]"#,
    );
    let spikes = with_triggers(
        r#"[{"kind": "load_spike", "target": "users", "at_s": 60, "for_s": 5, "factor": 1.5},
            {"kind": "load_spike", "target": "users", "at_s": 65, "for_s": 5, "factor": 2},
            {"kind": "load_spike", "target": "users", "at_s": 70, "for_s": 5, "factor": 1.2}]"#,
    );
    let (a, b) = (Fluid::of(&steps).unwrap(), Fluid::of(&spikes).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.trajectory(1.0), b.trajectory(1.0));
    assert_eq!(a.verdict(), b.verdict());

    let mut doc: Value = serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap();
    sim_core::set_path(&mut doc, "retries.hedge_after_s", "0.5").unwrap();
    let hedging = sim_core::Scenario::from_value(doc).unwrap();
    let refusal = Fluid::of(&hedging).unwrap_err();
    assert!(refusal.contains("hedg"), "{refusal}");
}
