//! The retry storm of SPEC §3 and the fixes that make it recover, over several seeds.

use crate::{assert_conserved, check, Run};
use sim_core::Verdict;

const SEEDS: std::ops::RangeInclusive<u64> = 1..=6;

fn storm(seed: u64, fix: &[(&str, &str)]) -> Run {
    let seed = seed.to_string();
    let mut sets: Vec<(&str, &str)> = vec![("seed", seed.as_str())];
    sets.extend_from_slice(fix);
    let run = check("retry-storm", &sets);
    assert_conserved(&run.totals);
    run
}

#[test]
fn the_spec_example_is_metastable_on_every_seed() {
    for seed in SEEDS {
        let run = storm(seed, &[]);
        assert_eq!(
            run.report.verdict,
            Verdict::Metastable,
            "seed {seed}: {}",
            run.report.explanation
        );
        let before = run.report.goodput_before.unwrap();
        let after = run.report.goodput_after.unwrap();
        assert!(
            after < 0.01 * before,
            "seed {seed}: goodput after {after} vs before {before}"
        );
        // Throughput stays at capacity (10 workers × 10/s) while nothing is good.
        let throughput = run.mean("throughput", 240.0, 300.0);
        assert!(
            throughput > 90.0 && throughput < 110.0,
            "seed {seed}: throughput {throughput}"
        );
        // About 4 attempts per request keep the loop going, and the queue keeps growing.
        let amplification = run.mean("attempts", 240.0, 300.0) / run.mean("offered", 240.0, 300.0);
        assert!(
            amplification > 3.5,
            "seed {seed}: amplification {amplification}"
        );
        let queue = run.column("queue");
        assert!(
            queue[299] > queue[200] + 5000.0,
            "seed {seed}: queue {} → {}",
            queue[200],
            queue[299]
        );
        assert!(
            run.report.explanation.starts_with("Metastable"),
            "{}",
            run.report.explanation
        );
    }
}

#[test]
fn without_retries_it_recovers() {
    for seed in SEEDS {
        let run = storm(seed, &[("retries.max_attempts", "1")]);
        assert_eq!(
            run.report.verdict,
            Verdict::Recovered,
            "seed {seed}: {}",
            run.report.explanation
        );
        assert!(run.report.recovery_s.is_some());
    }
}

#[test]
fn with_a_retry_budget_it_recovers() {
    for seed in SEEDS {
        let run = storm(
            seed,
            &[("retries.budget", r#"{"ratio": 0.1, "max_tokens": 10}"#)],
        );
        assert_eq!(
            run.report.verdict,
            Verdict::Recovered,
            "seed {seed}: {}",
            run.report.explanation
        );
        // The bucket never holds more than max_tokens nor goes negative.
        let tokens = run.column("retries.tokens");
        assert!(
            tokens.iter().all(|t| (0.0..=10.0).contains(t)),
            "{tokens:?}"
        );
        // Retries are bounded by the deposits: 0.1 per request plus the initial 10 tokens.
        assert!(run.totals.retries as f64 <= 0.1 * run.totals.requests as f64 + 10.0 + 1e-9);
    }
}

#[test]
fn with_lifo_and_drop_expired_it_recovers() {
    for seed in SEEDS {
        let run = storm(
            seed,
            &[("api.discipline", "\"lifo\""), ("api.drop_expired", "true")],
        );
        assert_eq!(
            run.report.verdict,
            Verdict::Recovered,
            "seed {seed}: {}",
            run.report.explanation
        );
        assert!(
            run.totals.errors > 0,
            "expired calls are shed with an error"
        );
    }
}

#[test]
fn with_deadline_aware_retries_it_recovers() {
    for seed in SEEDS {
        let run = storm(seed, &[("retries.respect_deadline", "true")]);
        assert_eq!(
            run.report.verdict,
            Verdict::Recovered,
            "seed {seed}: {}",
            run.report.explanation
        );
    }
}

#[test]
fn lifo_alone_or_drop_expired_alone_are_not_enough() {
    // Neither half of the fix heals the storm on its own: this documents why the preset pairs
    // them (LIFO still serves expired retries; FIFO + shedding still has every attempt time out).
    let lifo = storm(1, &[("api.discipline", "\"lifo\"")]);
    let shed = storm(1, &[("api.drop_expired", "true")]);
    assert_ne!(lifo.report.verdict, Verdict::Stable);
    assert_ne!(shed.report.verdict, Verdict::Stable);
}

#[test]
fn the_same_seed_gives_identical_rows_and_another_seed_does_not() {
    let a = storm(3, &[]);
    let b = storm(3, &[]);
    let c = storm(4, &[]);
    assert_eq!(
        sim_core::to_csv(&a.columns, &a.rows),
        sim_core::to_csv(&b.columns, &b.rows)
    );
    assert_eq!(a.totals, b.totals);
    assert_ne!(a.rows, c.rows);
}

#[test]
fn a_smaller_spike_recovers() {
    let run = storm(
        1,
        &[("triggers.0.factor", "1.1"), ("triggers.0.for_s", "2")],
    );
    assert_eq!(
        run.report.verdict,
        Verdict::Recovered,
        "{}",
        run.report.explanation
    );
}
