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
