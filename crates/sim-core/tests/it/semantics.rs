//! Block and trigger semantics of SPEC §2, observed through whole runs.

use crate::{assert_conserved, check};

/// client → server, with the given client and server fields and triggers (JSON fragments).
fn simple(client: &str, server: &str, triggers: &str, duration: f64) -> String {
    format!(
        r#"{{"version": 1, "seed": 5, "duration_s": {duration},
        "blocks": [
          {{"id": "users", "kind": "client", "to": "api", {client}}},
          {{"id": "api", "kind": "server", {server}}}],
        "triggers": [{triggers}]}}"#
    )
}

#[test]
fn a_success_after_the_deadline_is_late_not_good() {
    // Every service takes 1.5 s; users wait 1 s: every ended request is late.
    let run = check(
        &simple(
            r#""rate": 5, "timeout_s": 1.0"#,
            r#""workers": 100, "service": {"dist": "deterministic", "mean_s": 1.5}"#,
            "",
            50.0,
        ),
        &[],
    );
    let t = run.totals;
    assert_conserved(&t);
    assert_eq!(t.good, 0);
    assert!(t.late > 200 && t.failed <= 10, "{t:?}");
    assert_eq!(run.totals.timeouts, t.late + t.failed);
}

#[test]
fn a_reply_exactly_at_the_deadline_is_too_late() {
    // Service exactly equals the timeout: the deadline timer was armed first, so it wins.
    let run = check(
        &simple(
            r#""rate": 5, "arrival": "uniform", "timeout_s": 0.5"#,
            r#""workers": 100, "service": {"dist": "deterministic", "mean_s": 0.5}"#,
            "",
            20.0,
        ),
        &[],
    );
    assert_eq!(run.totals.good, 0, "{:?}", run.totals);
    assert!(run.totals.late > 90);
}

#[test]
fn uniform_arrivals_are_evenly_spaced() {
    let run = check(
        &simple(
            r#""rate": 10, "arrival": "uniform""#,
            r#""workers": 1, "service": {"mean_s": 0.01}"#,
            "",
            30.0,
        ),
        &[],
    );
    let offered = run.column("offered");
    assert!(offered[1..].iter().all(|&o| o == 10.0), "{offered:?}");
}

#[test]
fn overlapping_load_spikes_multiply() {
    let triggers = r#"{"kind": "load_spike", "target": "users", "at_s": 10, "for_s": 20, "factor": 2},
                      {"kind": "load_spike", "target": "users", "at_s": 20, "for_s": 20, "factor": 3}"#;
    let run = check(
        &simple(
            r#""rate": 10, "arrival": "uniform""#,
            r#""workers": 100, "service": {"mean_s": 0.01}"#,
            triggers,
            50.0,
        ),
        &[],
    );
    let offered = run.column("offered");
    assert_eq!(offered[5], 10.0);
    assert_eq!(offered[15], 20.0);
    assert_eq!(offered[25], 60.0, "2 × 3 while both are active");
    assert_eq!(offered[35], 30.0);
    assert_eq!(offered[45], 10.0);
}

#[test]
fn a_poisson_rate_change_takes_effect_at_once() {
    let triggers =
        r#"{"kind": "load_spike", "target": "users", "at_s": 100, "for_s": 100, "factor": 10}"#;
    let run = check(
        &simple(
            r#""rate": 20"#,
            r#""workers": 1000, "service": {"mean_s": 0.01}"#,
            triggers,
            300.0,
        ),
        &[],
    );
    let during = run.mean("offered", 100.0, 200.0);
    let after = run.mean("offered", 200.0, 300.0);
    assert!((during - 200.0).abs() < 6.0, "{during}");
    assert!((after - 20.0).abs() < 2.0, "{after}");
}

#[test]
fn an_outage_rejects_every_call_and_ends() {
    let triggers = r#"{"kind": "outage", "target": "api", "at_s": 10, "for_s": 5}"#;
    let run = check(
        &simple(
            r#""rate": 20, "arrival": "uniform""#,
            r#""workers": 5, "service": {"mean_s": 0.01}"#,
            triggers,
            30.0,
        ),
        &[],
    );
    let rejected = run.column("rejected");
    let goodput = run.column("goodput");
    assert!(rejected[10..15].iter().all(|&r| r == 20.0), "{rejected:?}");
    assert!(goodput[10..15].iter().all(|&g| g == 0.0));
    assert_eq!(rejected[20], 0.0);
    assert!(goodput[20] >= 19.0);
}

#[test]
fn a_partition_gives_no_reply_so_callers_time_out() {
    let triggers = r#"{"kind": "partition", "target": "api", "at_s": 10, "for_s": 5}"#;
    let run = check(
        &simple(
            r#""rate": 20, "arrival": "uniform", "timeout_s": 1"#,
            r#""workers": 5, "service": {"mean_s": 0.01}"#,
            triggers,
            30.0,
        ),
        &[],
    );
    let timeouts = run.column("timeouts");
    let attempts = run.column("attempts");
    assert!(
        attempts[11..15].iter().all(|&a| a == 0.0),
        "partitioned calls never arrive"
    );
    assert!(timeouts[12..15].iter().all(|&t| t == 20.0), "{timeouts:?}");
    assert_eq!(run.totals.rejected + run.totals.errors, 0);
    assert!(run.column("goodput")[20] >= 19.0);
}

#[test]
fn capacity_sets_workers_and_busy_ones_finish_first() {
    let triggers =
        r#"{"kind": "capacity", "target": "api", "at_s": 10, "for_s": 10, "workers": 0}"#;
    let run = check(
        &simple(
            r#""rate": 20, "arrival": "uniform""#,
            r#""workers": 4, "service": {"dist": "deterministic", "mean_s": 0.5}"#,
            triggers,
            40.0,
        ),
        &[],
    );
    let throughput = run.column("throughput");
    let queue = run.column("api.queue");
    assert!(
        throughput[11..20].iter().all(|&t| t == 0.0),
        "{throughput:?}"
    );
    assert!(queue[19] >= 190.0, "{queue:?}");
    // Workers come back and drain the queue at 8/s against 20/s arriving... it keeps growing.
    assert!(throughput[25] == 8.0);
}

#[test]
fn an_errors_trigger_sets_the_error_rate() {
    let triggers = r#"{"kind": "errors", "target": "api", "at_s": 100, "for_s": 100, "rate": 0.3}"#;
    let run = check(
        &simple(
            r#""rate": 50"#,
            r#""workers": 10, "service": {"mean_s": 0.01}"#,
            triggers,
            300.0,
        ),
        &[],
    );
    let share = run.mean("errors", 100.0, 200.0) / run.mean("throughput", 100.0, 200.0);
    assert!((share - 0.3).abs() < 0.02, "{share}");
    assert_eq!(run.mean("errors", 210.0, 300.0), 0.0);
}

#[test]
fn a_latency_trigger_slows_services_that_start_during_it() {
    let triggers = r#"{"kind": "latency", "target": "api", "at_s": 10, "for_s": 10, "factor": 4}"#;
    let run = check(
        &simple(
            r#""rate": 2, "arrival": "uniform""#,
            r#""workers": 10, "service": {"dist": "deterministic", "mean_s": 0.1}"#,
            triggers,
            30.0,
        ),
        &[],
    );
    let p50 = run.column("latency_p50");
    assert!(
        (p50[5] - 0.1).abs() < 0.001
            && (p50[15] - 0.4).abs() < 0.002
            && (p50[25] - 0.1).abs() < 0.001,
        "{p50:?}"
    );
}

#[test]
fn slowdown_applies_only_while_the_queue_is_deep() {
    // One worker, deterministic 0.1 s, ×3 when more than 2 calls wait. A burst of 20 calls
    // (a 1 s spike to 20/s) builds a queue: services slow to 0.3 s until it is short again.
    let server = r#""workers": 1, "service": {"dist": "deterministic", "mean_s": 0.1}, "slowdown": {"factor": 3, "queue_above": 2}"#;
    let plain_server = r#""workers": 1, "service": {"dist": "deterministic", "mean_s": 0.1}"#;
    let triggers =
        r#"{"kind": "load_spike", "target": "users", "at_s": 10, "for_s": 1, "factor": 20}"#;
    let slowed = check(
        &simple(r#""rate": 1, "arrival": "uniform""#, server, triggers, 20.0),
        &[],
    );
    let plain = check(
        &simple(
            r#""rate": 1, "arrival": "uniform""#,
            plain_server,
            triggers,
            20.0,
        ),
        &[],
    );
    let (slow_tp, plain_tp) = (slowed.column("throughput"), plain.column("throughput"));
    assert!(plain_tp[10] >= 9.0 && plain_tp[11] == 10.0, "{plain_tp:?}");
    assert!(slow_tp[11] <= 4.0 && slow_tp[12] <= 4.0, "{slow_tp:?}");
    assert_eq!(plain.column("queue")[12], 0.0);
    assert!(slowed.column("queue")[12] >= 5.0);
    // Once the queue is short again, services are fast again.
    assert_eq!(
        slowed.column("latency_p50")[18],
        plain.column("latency_p50")[18]
    );
}

#[test]
fn a_full_queue_rejects_or_drops() {
    let server = |on_full: &str| {
        format!(
            r#""workers": 1, "queue_capacity": 2, "on_full": "{on_full}", "service": {{"dist": "deterministic", "mean_s": 1}}"#
        )
    };
    let reject = check(
        &simple(
            r#""rate": 5, "arrival": "uniform", "timeout_s": 2"#,
            &server("reject"),
            "",
            20.0,
        ),
        &[],
    );
    assert!(reject.totals.rejected > 60);
    let drop = check(
        &simple(
            r#""rate": 5, "arrival": "uniform", "timeout_s": 2"#,
            &server("drop"),
            "",
            20.0,
        ),
        &[],
    );
    assert_eq!(drop.totals.rejected, 0);
    assert!(
        drop.totals.timeouts > 50,
        "dropped calls end by timeout: {:?}",
        drop.totals
    );
}

#[test]
fn drop_expired_and_max_queue_wait_shed_stale_calls() {
    // Twice the load the server can take; users wait 1 s.
    let base = r#""workers": 1, "service": {"dist": "deterministic", "mean_s": 0.2}"#;
    let client = r#""rate": 10, "arrival": "uniform", "timeout_s": 1"#;
    let plain = check(&simple(client, base, "", 30.0), &[]);
    let shed = check(
        &simple(client, &format!("{base}, \"drop_expired\": true"), "", 30.0),
        &[],
    );
    let aged = check(
        &simple(
            client,
            &format!("{base}, \"max_queue_wait_s\": 0.5"),
            "",
            30.0,
        ),
        &[],
    );
    let lifo_shed = check(
        &simple(
            client,
            &format!("{base}, \"drop_expired\": true, \"discipline\": \"lifo\""),
            "",
            30.0,
        ),
        &[],
    );
    assert_eq!(plain.totals.errors, 0);
    assert!(shed.totals.errors > 100, "{:?}", shed.totals);
    // drop_expired sheds only calls already past their deadline: under FIFO the head of the
    // queue is 0.9 s old, not yet expired, served, and late. Shedding alone does not help...
    assert!(
        plain.totals.good < 20 && shed.totals.good < 20,
        "{} {}",
        plain.totals.good,
        shed.totals.good
    );
    // ...shedding by queue age does (served calls waited at most 0.5 s), and so does LIFO.
    assert!(aged.totals.good > 100, "{:?}", aged.totals);
    assert!(lifo_shed.totals.good > 100, "{:?}", lifo_shed.totals);
}

#[test]
fn closed_loop_users_have_at_most_one_request_each() {
    let client = r#""mode": "closed", "users": 7, "think_s": 0.2"#;
    let run = check(
        &simple(
            client,
            r#""workers": 1, "service": {"mean_s": 0.5}"#,
            "",
            60.0,
        ),
        &[],
    );
    let in_flight = run.column("in_flight");
    assert!(in_flight.iter().all(|&n| n <= 7.0), "{in_flight:?}");
    assert!(
        in_flight[30] >= 5.0,
        "a slow server keeps most users waiting"
    );
    assert!((run.mean("throughput", 10.0, 60.0) - 2.0).abs() < 0.3);
}

#[test]
fn a_breaker_opens_on_errors_and_fails_fast() {
    let scenario = r#"{"version": 1, "seed": 5, "duration_s": 60,
      "blocks": [
        {"id": "users", "kind": "client", "rate": 50, "arrival": "uniform", "to": "cb"},
        {"id": "cb", "kind": "breaker", "to": "api", "failure_threshold": 0.5, "window_s": 5, "min_calls": 10, "open_s": 2, "half_open_probes": 3},
        {"id": "api", "kind": "server", "workers": 5, "service": {"mean_s": 0.01}}],
      "triggers": [{"kind": "errors", "target": "api", "at_s": 20, "for_s": 10, "rate": 1.0}]}"#;
    let run = check(scenario, &[]);
    let state = run.column("cb.state");
    let rejected = run.column("rejected");
    let attempts = run.column("attempts");
    assert_eq!(state[10], 0.0);
    assert!(state[21..30].contains(&1.0), "{state:?}");
    assert!(
        rejected[21..30].iter().sum::<f64>() > 300.0,
        "fails fast while open"
    );
    assert!(
        attempts[22..30].iter().sum::<f64>() < 100.0,
        "the server is spared: {attempts:?}"
    );
    assert_eq!(state[40], 0.0, "closed again after the errors stop");
    assert!(run.column("goodput")[45] >= 49.0);
}

#[test]
fn respect_deadline_stops_retries_for_users_who_left() {
    let scenario = |respect: bool| {
        format!(
            r#"{{"version": 1, "seed": 5, "duration_s": 30,
            "blocks": [
              {{"id": "users", "kind": "client", "rate": 10, "timeout_s": 1, "to": "r"}},
              {{"id": "r", "kind": "retry", "max_attempts": 5, "attempt_timeout_s": 0.4, "respect_deadline": {respect}, "to": "api"}},
              {{"id": "api", "kind": "server", "workers": 100, "service": {{"dist": "deterministic", "mean_s": 5}}}}]}}"#
        )
    };
    let blind = check(&scenario(false), &[]);
    let aware = check(&scenario(true), &[]);
    // 0.4 s per attempt: attempts at 0, 0.4, 0.8 fit a 1 s deadline; the blind layer makes 5.
    let per_request = |run: &crate::Run| run.totals.attempts as f64 / run.totals.requests as f64;
    assert!(per_request(&blind) > 4.8, "{}", per_request(&blind));
    assert!(
        per_request(&aware) < 3.1 && per_request(&aware) > 2.8,
        "{}",
        per_request(&aware)
    );
}

#[test]
fn a_cache_with_zipf_keys_hits_its_popular_keys_and_a_flush_empties_it() {
    let scenario = r#"{"version": 1, "seed": 5, "duration_s": 60,
      "blocks": [
        {"id": "users", "kind": "client", "rate": 200, "keys": 100, "zipf_s": 1.0, "to": "cache"},
        {"id": "cache", "kind": "cache", "capacity": 100, "hit_latency_s": 0.001, "to": "db"},
        {"id": "db", "kind": "server", "workers": 50, "service": {"mean_s": 0.01}}],
      "triggers": [{"kind": "cache_flush", "target": "cache", "at_s": 30}]}"#;
    let run = check(scenario, &[]);
    let hit = run.column("cache.hit_rate");
    assert!(hit[25] > 0.95, "every key fits: {hit:?}");
    assert!(
        hit[30] < hit[29],
        "the flush empties it: {} → {}",
        hit[29],
        hit[30]
    );
    assert!(
        run.mean("attempts", 20.0, 30.0) < 10.0,
        "hits never reach the database"
    );
}

#[test]
fn a_server_dependency_holds_its_worker() {
    let scenario = r#"{"version": 1, "seed": 5, "duration_s": 30,
      "blocks": [
        {"id": "users", "kind": "client", "rate": 10, "arrival": "uniform", "to": "api"},
        {"id": "api", "kind": "server", "workers": 50, "service": {"dist": "deterministic", "mean_s": 0.1}, "to": "db"},
        {"id": "db", "kind": "server", "workers": 50, "service": {"dist": "deterministic", "mean_s": 0.4}}]}"#;
    let run = check(scenario, &[]);
    let p50 = run.column("latency_p50");
    assert!(
        (p50[10] - 0.5).abs() < 0.003,
        "service then dependency: {p50:?}"
    );
    let busy = run.mean("api.utilization", 5.0, 30.0) * 50.0;
    assert!(
        (busy - 5.0).abs() < 0.2,
        "10/s × 0.5 s held = 5 busy workers: {busy}"
    );
}

#[test]
fn lifo_with_a_full_queue_refuses_the_newcomer() {
    let server = r#""workers": 1, "queue_capacity": 3, "discipline": "lifo", "service": {"dist": "deterministic", "mean_s": 1}"#;
    let run = check(
        &simple(
            r#""rate": 4, "arrival": "uniform", "timeout_s": 100"#,
            server,
            "",
            20.0,
        ),
        &[],
    );
    assert!(run.totals.rejected > 40);
    assert_conserved(&run.totals);
}

#[test]
fn closed_loop_users_idled_by_a_zero_spike_come_back_when_it_ends() {
    let client = r#""mode": "closed", "users": 5, "think_s": 0.1"#;
    let triggers =
        r#"{"kind": "load_spike", "target": "users", "at_s": 10, "for_s": 10, "factor": 0}"#;
    let run = check(
        &simple(
            client,
            r#""workers": 5, "service": {"mean_s": 0.01}"#,
            triggers,
            40.0,
        ),
        &[],
    );
    let offered = run.column("offered");
    assert!(offered[12..20].iter().all(|&o| o == 0.0), "{offered:?}");
    assert!(
        run.mean("offered", 25.0, 40.0) > 30.0,
        "users resume after the spike: {offered:?}"
    );
}
