//! The simulator against queueing theory: mean sojourn times of M/M/1, M/M/c (Erlang C) and
//! M/D/1 (Pollaczek–Khinchine), and the blocking probability of M/M/1/K.

use crate::{check, slow};

/// One open-loop Poisson client straight into one server, no timeout: every request is good
/// and its latency is its sojourn time.
fn queue(
    rate: f64,
    workers: u32,
    dist: &str,
    mean_s: f64,
    queue_capacity: Option<u64>,
    duration_s: f64,
    seed: u64,
) -> String {
    let capacity = queue_capacity.map_or(String::new(), |k| format!(r#", "queue_capacity": {k}"#));
    format!(
        r#"{{"version": 1, "seed": {seed}, "duration_s": {duration_s}, "bucket_s": {bucket},
        "blocks": [
          {{"id": "c", "kind": "client", "rate": {rate}, "to": "s"}},
          {{"id": "s", "kind": "server", "workers": {workers}{capacity},
            "service": {{"dist": "{dist}", "mean_s": {mean_s}}}}}
        ]}}"#,
        bucket = duration_s / 400.0
    )
}

/// Simulated seconds per seed and relative tolerance: the issue's 2% needs long runs at ρ = 0.8.
fn plan() -> (f64, f64, u64) {
    if slow() {
        (400_000.0, 0.02, 3)
    } else {
        (20_000.0, 0.08, 2)
    }
}

fn assert_close(what: &str, seen: f64, expected: f64, tolerance: f64) {
    let error = (seen - expected).abs() / expected;
    assert!(
        error <= tolerance,
        "{what}: simulated {seen:.5}, theory {expected:.5} ({:.2}% off, tolerance {:.1}%)",
        error * 100.0,
        tolerance * 100.0
    );
}

/// Runs the queue on each seed of the plan and compares its mean sojourn with theory.
fn assert_mean_sojourn(
    label: &str,
    rate: f64,
    workers: u32,
    dist: &str,
    mean_s: f64,
    share_of_plan: f64,
    expected: f64,
) {
    let (duration, tolerance, seeds) = plan();
    for seed in 1..=seeds {
        let scenario = queue(
            rate,
            workers,
            dist,
            mean_s,
            None,
            duration * share_of_plan,
            seed,
        );
        let run = check(&scenario, &[]);
        let seen = run.latency_mean_s.expect("requests succeeded");
        assert_close(&format!("{label} seed {seed}"), seen, expected, tolerance);
    }
}

#[test]
fn mm1_mean_sojourn_is_one_over_mu_minus_lambda() {
    let (lambda, mu) = (8.0, 10.0);
    assert_mean_sojourn(
        "M/M/1 ρ=0.8",
        lambda,
        1,
        "exponential",
        1.0 / mu,
        1.0,
        1.0 / (mu - lambda),
    );
}

fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    let c = f64::from(servers);
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..servers {
        if k > 0 {
            term *= offered_load / f64::from(k);
        }
        sum += term;
    }
    let top = term * offered_load / c * (c / (c - offered_load));
    top / (sum + top)
}

#[test]
fn mmc_mean_sojourn_follows_erlang_c() {
    let (lambda, mu, c) = (32.0, 10.0, 4u32);
    let probability_wait = erlang_c(c, lambda / mu);
    let expected = probability_wait / (f64::from(c) * mu - lambda) + 1.0 / mu;
    // Four servers relax four times faster: a quarter of the simulated time suffices.
    assert_mean_sojourn(
        "M/M/4 ρ=0.8",
        lambda,
        c,
        "exponential",
        1.0 / mu,
        0.25,
        expected,
    );
}

#[test]
fn md1_mean_sojourn_follows_pollaczek_khinchine() {
    let (lambda, service) = (8.0, 0.1);
    let rho = lambda * service;
    let expected = service + rho * service / (2.0 * (1.0 - rho));
    assert_mean_sojourn(
        "M/D/1 ρ=0.8",
        lambda,
        1,
        "deterministic",
        service,
        0.5,
        expected,
    );
}

#[test]
fn mm1k_blocking_probability() {
    let (duration, tolerance, seeds) = plan();
    let (lambda, mu) = (8.0, 10.0);
    let rho: f64 = lambda / mu;
    let k = 5; // one in service + a waiting room of 4
    let expected = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    for seed in 1..=seeds {
        let run = check(
            &queue(
                lambda,
                1,
                "exponential",
                1.0 / mu,
                Some(4),
                duration / 2.0,
                seed,
            ),
            &[],
        );
        let blocked = run.totals.rejected as f64 / run.totals.attempts as f64;
        assert_close(
            &format!("M/M/1/5 blocking seed {seed}"),
            blocked,
            expected,
            tolerance * 1.5,
        );
        assert_eq!(
            run.totals.failed, run.totals.rejected,
            "a rejected call fails its request"
        );
    }
}

#[test]
fn utilization_column_matches_rho() {
    let run = check(&queue(8.0, 2, "exponential", 0.1, None, 4000.0, 5), &[]);
    let utilization = run.mean("s.utilization", 0.0, 4000.0);
    assert!(
        (utilization - 0.4).abs() < 0.02,
        "utilization {utilization}, expected ρ = 0.4"
    );
    let throughput = run.mean("throughput", 0.0, 4000.0);
    assert!((throughput - 8.0).abs() < 0.2, "throughput {throughput}");
}
