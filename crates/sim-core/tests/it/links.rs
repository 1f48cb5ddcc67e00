//! `link_latency_s` (SPEC §8): each call a block sends arrives that much later, and so does
//! each reply coming back to it.

use crate::check;

fn mm1(link: f64) -> crate::Run {
    check(
        &format!(
            r#"{{"version": 1, "seed": 11, "duration_s": 400, "bucket_s": 0.5, "blocks": [
                {{"id": "users", "kind": "client", "rate": 8, "to": "api",
                  "link_latency_s": {link}}},
                {{"id": "api", "kind": "server", "workers": 1, "service": {{"mean_s": 0.1}}}}]}}"#
        ),
        &[],
    )
}

/// Theory: the server sees the same arrivals shifted by d, so every request takes exactly 2d
/// longer. Bucket for bucket (2d is two buckets), the goodput is the same and the mean
/// latency is 2d more.
#[test]
fn link_latency_on_the_client_adds_exactly_twice_it_to_every_latency_of_mm1() {
    let (plain, linked) = (mm1(0.0), mm1(0.5));
    let shift = 2; // 2 × 0.5 s = two buckets of 0.5 s
    let mut compared = 0;
    for (a, b) in plain.rows.iter().zip(&linked.rows[shift..]) {
        assert_eq!(a.goodput, b.goodput, "t = {}", a.t);
        match (a.latency_mean, b.latency_mean) {
            (Some(x), Some(y)) => {
                assert!((y - x - 1.0).abs() < 1e-9, "t = {}: {x} → {y}", a.t);
                compared += 1;
            }
            (None, None) => {}
            other => panic!("t = {}: {other:?}", a.t),
        }
    }
    assert!(compared > 500, "{compared}");
    // The server's queue is the same, shifted by d (one bucket).
    for (a, b) in plain.rows.iter().zip(&linked.rows[1..]) {
        assert_eq!(a.queue, b.queue, "t = {}", a.t);
    }
}

/// Timers are armed when the call is sent: a link slower than the attempt timeout turns
/// every attempt into a timeout, and replies coming back late are discarded.
#[test]
fn timers_start_when_the_call_is_sent() {
    let run = check(
        r#"{"version": 1, "seed": 2, "duration_s": 60, "blocks": [
            {"id": "users", "kind": "client", "rate": 10, "timeout_s": 5, "to": "retries"},
            {"id": "retries", "kind": "retry", "max_attempts": 2, "attempt_timeout_s": 0.3,
             "link_latency_s": 0.2, "to": "api"},
            {"id": "api", "kind": "server", "workers": 10,
             "service": {"dist": "deterministic", "mean_s": 0.01}}]}"#,
        &[],
    );
    // 0.2 there + 0.01 + 0.2 back = 0.41 s > 0.3 s: no attempt is answered in time.
    assert_eq!(run.totals.good, 0);
    assert!(run.totals.timeouts > 1000, "{}", run.totals.timeouts);
    assert!(
        run.totals.attempts as f64 > 1.9 * run.totals.requests as f64,
        "every request tries twice: {:?}",
        run.totals
    );
}

/// A partition still loses calls that arrive while it lasts, link or no link.
#[test]
fn a_partition_loses_calls_arriving_over_a_link() {
    let run = check(
        r#"{"version": 1, "seed": 2, "duration_s": 60, "blocks": [
            {"id": "users", "kind": "client", "rate": 20, "timeout_s": 1, "to": "api",
             "link_latency_s": 0.05},
            {"id": "api", "kind": "server", "workers": 10, "service": {"mean_s": 0.01}}],
          "triggers": [{"kind": "partition", "target": "api", "at_s": 30, "for_s": 10}]}"#,
        &[],
    );
    let during = run.mean("goodput", 31.0, 40.0);
    assert_eq!(during, 0.0);
    assert!(run.mean("goodput", 45.0, 60.0) > 15.0);
}
