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

mod shards {
    use super::storm;
    use proptest::prelude::*;
    use sim_core::sweep::{Axis, Shard, Sweep};

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if crate::slow() { 256 } else { 64 },
            ..ProptestConfig::default()
        })]

        /// The shards of any grid partition its points: each point is in exactly one shard,
        /// each shard lists its points in grid order, and the sizes are as even as
        /// documented (`Shard`).
        #[test]
        fn the_shards_of_a_grid_partition_its_points(
            nx in 1usize..=14,
            ny in 0usize..=14,
            seeds in 1u32..=4,
            count in 1u32..=20,
        ) {
            let x = Axis::parse(&format!("users.rate=40..100:{nx}")).unwrap();
            let y = (ny > 0).then(|| Axis::parse(&format!("triggers.0.factor=1..3:{ny}")).unwrap());
            let sweep = Sweep::new(storm(), x, y, seeds).unwrap();
            let points = sweep.points();
            let mut owners = vec![0u32; points.len()];
            let mut sizes = Vec::new();
            for shard in Shard::all(count) {
                let mine = sweep.shard_points(shard);
                let indices: Vec<usize> = mine.iter().map(|p| sweep.index(*p)).collect();
                prop_assert!(indices.windows(2).all(|w| w[0] < w[1]), "{shard}: {indices:?}");
                for (point, index) in mine.iter().zip(&indices) {
                    prop_assert_eq!(points[*index], *point, "index {} is the grid's point", index);
                    prop_assert_eq!(Shard::number_of(*point, count), shard.index());
                    owners[*index] += 1;
                }
                sizes.push(mine.len());
            }
            prop_assert!(owners.iter().all(|&n| n == 1), "every point in exactly one shard: {owners:?}");
            let n = count as usize;
            let (a, b) = (nx % n, ny.max(1) % n);
            let bound = if ny == 0 { usize::from(a != 0) } else { a.min(b).min(n - a).min(n - b) };
            let spread = sizes.iter().max().unwrap() - sizes.iter().min().unwrap();
            prop_assert!(spread <= bound, "sizes {sizes:?}: spread {spread} > {bound}");
        }
    }
}
