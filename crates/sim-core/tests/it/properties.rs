//! Property tests over random scenarios: every valid one conserves requests, never moves time
//! backwards, is deterministic and does not panic however it is sliced; every invalid one is
//! refused with an error, never a panic.

use crate::{assert_conserved, slow};
use proptest::prelude::*;
use serde_json::{json, Value};
use sim_core::{Scenario, Sim};

fn cases() -> u32 {
    if slow() {
        256
    } else {
        48
    }
}

prop_compose! {
    fn client()(
        closed in any::<bool>(),
        rate in 0.0..300.0f64,
        uniform in any::<bool>(),
        users in 1u32..60,
        think in 0.0..2.0f64,
        timeout in proptest::option::of(0.05..3.0f64),
        keys in proptest::option::of(1u64..500),
        zipf in 0.0..1.5f64,
        priority in prop_oneof![Just(0u16), 0u16..4],
    ) -> Value {
        let mut c = json!({"id": "users", "kind": "client", "to": "entry"});
        if priority > 0 { c["priority"] = json!(priority); }
        if closed {
            c["mode"] = json!("closed");
            c["users"] = json!(users);
            // A think time keeps closed-loop users from spinning at one instant when every
            // call fails at once (the engine stops such a loop, tested elsewhere).
            c["think_s"] = json!(think.max(0.01));
        } else {
            c["rate"] = json!(rate);
            if uniform { c["arrival"] = json!("uniform"); }
        }
        if let Some(t) = timeout { c["timeout_s"] = json!(t); }
        if let Some(k) = keys { c["keys"] = json!(k); c["zipf_s"] = json!(zipf); }
        c
    }
}

prop_compose! {
    fn retry()(
        attempts in 1u32..6,
        attempt_timeout in proptest::option::of(0.05..2.0f64),
        kind in 0usize..3,
        jitter in 0usize..4,
        base in 0.001..0.5f64,
        cap in 0.5..3.0f64,
        budget in proptest::option::of((0.0..1.0f64, 1.0..50.0f64)),
        respect in any::<bool>(),
        // Hedging, with delays below, near and beyond the attempt timeout.
        hedge in proptest::option::of(prop_oneof![0.001..0.3f64, 0.3..3.0f64]),
    ) -> Value {
        let mut r = json!({"kind": "retry", "max_attempts": attempts,
            "backoff": {"kind": (["none", "constant", "exponential"][kind]), "base_s": base, "cap_s": cap,
                        "jitter": (["none", "full", "equal", "decorrelated"][jitter])},
            "respect_deadline": respect});
        if let Some(t) = attempt_timeout { r["attempt_timeout_s"] = json!(t); }
        if let Some((ratio, max)) = budget { r["budget"] = json!({"ratio": ratio, "max_tokens": max}); }
        if let Some(h) = hedge { r["hedge_after_s"] = json!(h); }
        r
    }
}

prop_compose! {
    /// The options of SPEC §8's server additions: a discipline (with CoDel's times when it
    /// is codel), a slow error path, an autoscaler.
    fn server_additions()(
        discipline in 0usize..5,
        codel in proptest::option::of((0.001..0.2f64, 0.01..1.0f64)),
        shed_cost in prop_oneof![Just(0.0), 0.0..0.3f64],
        autoscale in proptest::option::of((0.2..1.0f64, 1u32..4, 0u32..20, 0.5..8.0f64, 0.0..6.0f64, 0.0..10.0f64)),
    ) -> (usize, Option<(f64, f64)>, f64, Option<(f64, u32, u32, f64, f64, f64)>) {
        (discipline, codel, shed_cost, autoscale)
    }
}

prop_compose! {
    fn server()(
        workers in 1u32..12,
        capacity in proptest::option::of(0u64..40),
        drop in any::<bool>(),
        additions in server_additions(),
        dist in 0usize..3,
        mean in 0.005..0.4f64,
        cv in 0.1..2.0f64,
        error_rate in prop_oneof![Just(0.0), 0.0..0.3f64],
        slowdown in proptest::option::of((1.0..5.0f64, 0u64..30)),
        drop_expired in any::<bool>(),
        max_wait in proptest::option::of(0.05..2.0f64),
    ) -> Value {
        let (discipline, codel, shed_cost, autoscale) = additions;
        let discipline = ["fifo", "lifo", "priority", "fair", "codel"][discipline];
        let mut s = json!({"kind": "server", "workers": workers,
            "on_full": if drop { "drop" } else { "reject" },
            "discipline": discipline,
            "service": {"dist": (["exponential", "deterministic", "lognormal"][dist]), "mean_s": mean, "cv": cv},
            "error_rate": error_rate, "drop_expired": drop_expired});
        if let Some(c) = capacity { s["queue_capacity"] = json!(c); }
        if let Some((factor, above)) = slowdown { s["slowdown"] = json!({"factor": factor, "queue_above": above}); }
        if let Some(w) = max_wait { s["max_queue_wait_s"] = json!(w); }
        if let (Some((target, interval)), "codel") = (codel, discipline) {
            s["codel"] = json!({"target_s": target, "interval_s": interval});
        }
        if shed_cost > 0.0 { s["shed_cost_s"] = json!(shed_cost); }
        if let Some((target, min, extra, interval, warmup, cooldown)) = autoscale {
            // The server starts within [min, max].
            let min = min.min(workers);
            s["autoscale"] = json!({"target_utilization": target, "min_workers": min,
                "max_workers": workers + extra, "interval_s": interval, "warmup_s": warmup,
                "cooldown_s": cooldown});
        }
        s
    }
}

/// A trigger as (kind index, start, length, factor, workers, rate, target pick).
type RawTrigger = (usize, f64, f64, f64, u32, f64, usize);

fn trigger() -> impl Strategy<Value = RawTrigger> {
    (
        0usize..8,
        0.0..30.0f64,
        0.1..15.0f64,
        0.0..4.0f64,
        0u32..10,
        0.0..1.0f64,
        0usize..8,
    )
}

/// Builds a chain users → [retry] → [cache] → [breaker] → (server | balancer → servers),
/// with an optional dependency behind the first server, and triggers on fitting targets.
// Rationale: the parameters mirror the strategy tuple one to one; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn assemble(
    (client, other): (Value, Option<Value>),
    retry: Option<Value>,
    cache: Option<(u64, Option<f64>, f64, bool)>,
    breaker: Option<(f64, f64, u32, f64, u32)>,
    servers: Vec<Value>,
    policy: usize,
    dependency: Option<Value>,
    triggers: Vec<RawTrigger>,
    (duration, bucket, seed): (f64, f64, u64),
) -> Value {
    let mut blocks = vec![client];
    let mut chain: Vec<Value> = Vec::new();
    // A second client (its own priority) sends to the first server directly, beside the
    // chain: the servers then see calls of two origins (for `priority` and `fair`).
    if let Some(mut other) = other {
        other["id"] = json!("others");
        other["to"] = json!("s0");
        blocks.push(other);
    }
    if let Some(mut r) = retry {
        r["id"] = json!("retry");
        chain.push(r);
    }
    if let Some((capacity, ttl, hit, fill_late)) = cache {
        let mut c = json!({"id": "cache", "kind": "cache", "capacity": capacity, "hit_latency_s": hit, "fill_late": fill_late});
        if let Some(t) = ttl {
            c["ttl_s"] = json!(t);
        }
        chain.push(c);
    }
    if let Some((threshold, window, min_calls, open, probes)) = breaker {
        chain.push(json!({"id": "breaker", "kind": "breaker", "failure_threshold": threshold, "window_s": window,
            "min_calls": min_calls, "open_s": open, "half_open_probes": probes}));
    }
    let server_ids: Vec<String> = (0..servers.len()).map(|i| format!("s{i}")).collect();
    if servers.len() > 1 {
        chain.push(json!({"id": "lb", "kind": "balancer", "to": server_ids,
            "policy": (["round_robin", "random", "least_outstanding", "power_of_two"][policy])}));
    }
    // Link the chain: each calls the next; the last calls the server or the balancer.
    let first_server = if servers.len() > 1 {
        "lb".to_string()
    } else {
        server_ids[0].clone()
    };
    let ids: Vec<String> = chain
        .iter()
        .map(|b| b["id"].as_str().unwrap_or_default().to_string())
        .collect();
    for (i, block) in chain.iter_mut().enumerate() {
        if block["kind"] == "balancer" {
            continue;
        }
        block["to"] = json!(ids
            .get(i + 1)
            .cloned()
            .unwrap_or_else(|| first_server.clone()));
    }
    blocks[0]["to"] = json!(ids.first().cloned().unwrap_or(first_server));
    blocks.extend(chain);
    for (i, mut s) in servers.into_iter().enumerate() {
        s["id"] = json!(server_ids[i]);
        if i == 0 && dependency.is_some() {
            s["to"] = json!("db");
        }
        blocks.push(s);
    }
    if let Some(mut db) = dependency {
        db["id"] = json!("db");
        blocks.push(db);
    }
    let of_kind = |kinds: &[&str]| -> Vec<String> {
        blocks
            .iter()
            .filter(|b| kinds.contains(&b["kind"].as_str().unwrap_or("")))
            .map(|b| b["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let servers_ids = of_kind(&["server"]);
    let callees = of_kind(&["retry", "cache", "balancer", "breaker", "server"]);
    let caches = of_kind(&["cache"]);
    let mut out_triggers = Vec::new();
    for (kind, at, length, factor, workers, rate, pick) in triggers {
        let t = match kind {
            0 => {
                json!({"kind": "load_spike", "target": "users", "at_s": at, "for_s": length, "factor": factor})
            }
            1 => {
                json!({"kind": "latency", "target": servers_ids[pick % servers_ids.len()], "at_s": at, "for_s": length, "factor": factor.max(0.1)})
            }
            2 => {
                json!({"kind": "outage", "target": servers_ids[pick % servers_ids.len()], "at_s": at, "for_s": length})
            }
            3 => {
                json!({"kind": "capacity", "target": servers_ids[pick % servers_ids.len()], "at_s": at, "for_s": length, "workers": workers})
            }
            4 => {
                json!({"kind": "errors", "target": servers_ids[pick % servers_ids.len()], "at_s": at, "for_s": length, "rate": rate})
            }
            5 => {
                json!({"kind": "partition", "target": callees[pick % callees.len()], "at_s": at, "for_s": length})
            }
            6 => {
                // A staircase of 1 to 8 steps over `length`, factors around `factor`, one of
                // them 0 when `workers` says so.
                let steps = 1 + pick % 8;
                let factors: Vec<f64> = (0..steps)
                    .map(|i| {
                        if workers == 0 && i == steps / 2 {
                            0.0
                        } else {
                            factor * (1.0 + i as f64) / steps as f64
                        }
                    })
                    .collect();
                json!({"kind": "load_steps", "target": "users", "at_s": at, "step_s": length / steps as f64, "factors": factors})
            }
            _ => match caches.first() {
                Some(cache) => json!({"kind": "cache_flush", "target": cache, "at_s": at}),
                None => continue,
            },
        };
        out_triggers.push(t);
    }
    json!({"version": 1, "seed": seed, "duration_s": duration, "bucket_s": bucket, "blocks": blocks, "triggers": out_triggers})
}

fn scenario() -> impl Strategy<Value = Value> {
    (
        (client(), proptest::option::of(client())),
        proptest::option::of(retry()),
        proptest::option::of((
            0u64..200,
            proptest::option::of(0.1..20.0f64),
            0.0..0.01f64,
            any::<bool>(),
        )),
        proptest::option::of((0.0..1.0f64, 0.5..10.0f64, 1u32..30, 0.1..5.0f64, 1u32..4)),
        proptest::collection::vec(server(), 1..4),
        0usize..4,
        proptest::option::of(server()),
        proptest::collection::vec(trigger(), 0..4),
        (
            5.0..40.0f64,
            prop_oneof![Just(1.0), Just(0.5), Just(2.5)],
            any::<u64>(),
        ),
    )
        .prop_map(
            |(c, r, cache, breaker, servers, policy, dep, triggers, run)| {
                assemble(c, r, cache, breaker, servers, policy, dep, triggers, run)
            },
        )
}

/// Runs in uneven slices, checking the invariants after each; returns the CSV and totals.
fn run_sliced(scenario: &Scenario, slices: &[f64]) -> (String, sim_core::Totals, u64) {
    let mut sim = Sim::new(scenario).expect("generated scenarios are valid");
    let mut last_now = 0.0;
    let mut t = 0.0;
    for slice in slices.iter().cycle().take(200) {
        t += slice;
        sim.run_until(t);
        assert!(
            sim.now_s() >= last_now,
            "the clock went back: {} after {last_now}",
            sim.now_s()
        );
        last_now = sim.now_s();
        assert_conserved(&sim.totals());
        if sim.finished() {
            break;
        }
    }
    sim.run();
    assert!(sim.finished());
    assert_eq!(
        sim.time_went_back(),
        0,
        "an event was handled before the clock"
    );
    assert_conserved(&sim.totals());
    let rows = sim.rows();
    assert!(
        rows.windows(2).all(|w| w[0].t < w[1].t),
        "row times must increase"
    );
    assert_eq!(
        rows.len() as f64,
        (scenario.duration_s / scenario.bucket_s).ceil()
    );
    for row in rows {
        assert!(
            row.in_flight >= 0.0
                && row.queue >= 0.0
                && row.goodput <= row.offered + row.in_flight + 1e9
        );
        for value in row.values().flatten() {
            assert!(value.is_finite(), "non-finite metric in {row:?}");
        }
    }
    (
        sim_core::to_csv(sim.columns(), rows),
        sim.totals(),
        sim.events(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn valid_scenarios_conserve_requests_and_are_deterministic(
        doc in scenario(),
        slices in proptest::collection::vec(0.01..7.0f64, 1..6),
    ) {
        let scenario = Scenario::from_value(doc.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        let (csv_a, totals_a, events_a) = run_sliced(&scenario, &slices);
        // The same scenario run in one go gives the same bytes: slicing never changes a run.
        let mut whole = Sim::new(&scenario).unwrap();
        whole.run();
        prop_assert_eq!(&csv_a, &sim_core::to_csv(whole.columns(), whole.rows()));
        prop_assert_eq!(totals_a, whole.totals());
        prop_assert_eq!(events_a, whole.events());
        // And a JSON round trip of the scenario changes nothing either.
        let again = Scenario::from_json(&scenario.to_json_pretty()).unwrap();
        prop_assert_eq!(&again, &scenario);
    }

    #[test]
    fn invalid_scenarios_are_refused_without_panic(
        doc in scenario(),
        mutation in 0usize..11,
        pick in 0usize..100,
    ) {
        let mut doc = doc;
        let blocks = doc["blocks"].as_array().map_or(0, Vec::len);
        let b = pick % blocks;
        match mutation {
            0 => doc["blocks"][b]["surprise"] = json!(1),
            1 => doc["blocks"][b]["kind"] = json!("database"),
            2 => doc["blocks"][b]["to"] = json!("nowhere"),
            3 => doc["duration_s"] = json!(-(pick as f64)),
            4 => doc["bucket_s"] = json!(0),
            5 => doc["blocks"][b]["id"] = doc["blocks"][(b + 1) % blocks]["id"].clone(),
            6 => doc["version"] = json!(99),
            7 => doc["blocks"][0]["timeout_s"] = json!("soon"),
            // A staircase of no steps; a hedge after no time (or on a block that cannot).
            9 => doc["triggers"] = json!([{"kind": "load_steps", "target": "users", "at_s": 1, "step_s": 1, "factors": []}]),
            10 => doc["blocks"][b]["hedge_after_s"] = json!(0),
            _ => doc["triggers"] = json!([{"kind": "load_spike", "target": "nobody", "at_s": 1, "for_s": 1, "factor": 2}]),
        }
        // A duplicate id of the same block is no mutation at all when there is one block.
        if mutation == 5 && blocks < 2 {
            return Ok(());
        }
        let result = Scenario::from_value(doc.clone());
        prop_assert!(result.is_err(), "mutation {} was accepted:\n{}", mutation, doc);
        let message = result.unwrap_err().to_string();
        prop_assert!(!message.is_empty());
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in ".{0,200}") {
        let _ = Scenario::from_json(&text);
    }

    #[test]
    fn arbitrary_json_values_never_panic_the_parser(
        value in proptest::arbitrary::any::<(bool, i64, String)>().prop_map(|(b, n, s)| json!({"version": 1, "duration_s": n, "blocks": [{"id": s, "kind": "server", "workers": n, "x": b}]}))
    ) {
        let _ = Scenario::from_value(value);
    }
}

#[test]
fn a_zero_time_loop_stops_with_a_message() {
    // Closed-loop users with no think time against a server that is down: every request fails
    // at the instant it is sent, so simulated time would never move. The engine stops it.
    let scenario = Scenario::from_json(
        r#"{"version": 1, "duration_s": 10, "blocks": [
            {"id": "u", "kind": "client", "mode": "closed", "users": 5, "think_s": 0, "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}}],
          "triggers": [{"kind": "outage", "target": "s", "at_s": 1, "for_s": 5}]}"#,
    )
    .unwrap();
    let mut sim = Sim::new(&scenario).unwrap();
    sim.run();
    let stopped = sim.stopped().expect("the run must stop");
    assert!(stopped.reason.contains("one instant"), "{stopped}");
    assert!(stopped.at_s >= 1.0 && stopped.at_s < 2.0, "{stopped}");
    assert!(sim.finished());
}

#[test]
fn event_and_state_limits_stop_a_run_with_a_message() {
    let scenario =
        Scenario::from_json(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
    let limits = sim_core::Limits {
        max_work: 150_000,
        ..sim_core::Limits::default()
    };
    let mut sim = Sim::with_limits(&scenario, limits).unwrap();
    sim.run();
    let stopped = sim.stopped().expect("stopped by the work limit");
    assert_eq!(stopped.budget, sim_core::Budget::Work);
    assert!(stopped.reason.contains("150000 units"), "{stopped}");
    assert!(stopped.reason.contains("--max-work"), "{stopped}");
    // The budget is met within one event's cascade of calls.
    assert!((150_000..150_100).contains(&sim.work()), "{}", sim.work());
    // A run stopped by its work budget goes on, whole, when the budget is raised.
    sim.extend_work(u64::MAX / 2);
    sim.run();
    assert!(sim.stopped().is_none() && sim.finished());
    let whole = Sim::new(&scenario).unwrap().run().to_vec();
    assert_eq!(sim.rows(), &whole[..], "the extended run is the same run");
    assert_conserved(&sim.totals());

    let limits = sim_core::Limits {
        max_state_bytes: 512 << 10,
        ..sim_core::Limits::default()
    };
    let mut sim = Sim::with_limits(&scenario, limits).unwrap();
    sim.run();
    let stopped = sim.stopped().expect("stopped by the state limit");
    assert_eq!(stopped.budget, sim_core::Budget::State);
    assert!(stopped.reason.contains("512 KiB"), "{stopped}");
    assert!(stopped.reason.contains("block \"api\""), "{stopped}");
    assert!(stopped.reason.contains("queued calls"), "{stopped}");
}

#[test]
fn event_budgets_slice_a_run_without_changing_it() {
    // The web app advances a run in slices of bounded work; the result must not depend on
    // where the slices fall.
    for name in ["retry-storm", "cold-cache", "slow-server-round-robin"] {
        let scenario = sim_core::presets::load(name).unwrap().unwrap();
        let mut whole = Sim::new(&scenario).unwrap();
        whole.run();
        let mut sliced = Sim::new(&scenario).unwrap();
        let mut slices = 0;
        let mut budget = 1;
        while !sliced.finished() {
            let reached = sliced.run_until_bounded(scenario.duration_s, budget);
            assert_eq!(
                reached,
                sliced.finished(),
                "{name}: reaching the end means finished"
            );
            assert_conserved(&sliced.totals());
            budget = budget * 7 % 9_973 + 1; // uneven slices, from 1 event to ~10,000
            slices += 1;
        }
        assert!(slices > 10, "{name}: {slices} slices");
        assert_eq!(
            sim_core::to_csv(sliced.columns(), sliced.rows()),
            sim_core::to_csv(whole.columns(), whole.rows()),
            "{name}"
        );
        assert_eq!(sliced.events(), whole.events());
    }
}

#[test]
fn set_path_never_panics_on_arbitrary_paths() {
    let doc: Value =
        serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
    let paths = [
        "",
        ".",
        "..",
        "users.",
        ".rate",
        "users..rate",
        "triggers.x",
        "triggers.-1",
        "triggers.99999999999999999999",
        "blocks.0.id",
        "seed.x",
        "api.service.mean_s.deeper",
        "api.to",
        "ü.ö",
    ];
    for path in paths {
        let mut copy = doc.clone();
        let _ = sim_core::set_path(&mut copy, path, "1");
        let _ = sim_core::get_path(&mut copy, path);
        let _ = Scenario::from_value(copy);
    }
}

prop_compose! {
    /// The retry storm around its edges: loads from calm to far past capacity, a spike or
    /// none, buckets of several sizes, short and long runs.
    fn storm_variant()(
        rate in 10.0..220.0f64,
        workers in 1u32..14,
        spike in proptest::option::of((0.0..60.0f64, 1.0..4.0f64, 0.5..40.0f64)),
        duration in 20.0..200.0f64,
        bucket in prop_oneof![Just(1.0), Just(0.5), Just(2.5), Just(7.0)],
        seed in any::<u64>(),
    ) -> Value {
        let mut doc: Value =
            serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
        sim_core::set_path(&mut doc, "users.rate", &rate.to_string()).unwrap();
        sim_core::set_path(&mut doc, "api.workers", &workers.to_string()).unwrap();
        doc["duration_s"] = json!(duration);
        doc["bucket_s"] = json!(bucket);
        doc["seed"] = json!(seed);
        doc["triggers"] = match spike {
            Some((at, factor, for_s)) => {
                json!([{"kind": "load_spike", "target": "users", "at_s": at, "for_s": for_s, "factor": factor}])
            }
            None => json!([]),
        };
        doc
    }
}

/// The verdict of a whole run, and of a run stopped as soon as its verdict is settled.
fn both_verdicts(scenario: &Scenario) -> (sim_core::Verdict, sim_core::Verdict, bool) {
    let mut full = Sim::new(scenario).unwrap();
    full.run();
    let mut early = Sim::new(scenario).unwrap();
    let verdict = early.run_for_verdict();
    (full.report().verdict, verdict, early.finished())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Early stopping (sweeps and tipping searches stop a run once its verdict is settled)
    /// never changes a verdict: on random scenarios of every shape...
    #[test]
    fn early_stopping_never_changes_a_verdict(doc in scenario()) {
        let scenario = Scenario::from_value(doc.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        let (full, early, _) = both_verdicts(&scenario);
        prop_assert_eq!(full, early, "{}", doc);
    }

    /// ...and on the retry storm around its edges, where it often stops early.
    #[test]
    fn early_stopping_never_changes_a_storms_verdict(doc in storm_variant()) {
        let scenario = Scenario::from_value(doc.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        let (full, early, _) = both_verdicts(&scenario);
        prop_assert_eq!(full, early, "{}", doc);
    }
}

/// An overloaded system stops at its first trigger, with a fraction of the work; one that is
/// fine before the trigger runs to the end.
#[test]
fn early_stopping_saves_the_work_of_an_overloaded_run() {
    let mut doc: Value =
        serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap();
    sim_core::set_path(&mut doc, "users.rate", "150").unwrap();
    let overloaded = Scenario::from_value(doc).unwrap();
    let mut full = Sim::new(&overloaded).unwrap();
    full.run();
    let mut early = Sim::new(&overloaded).unwrap();
    assert_eq!(early.run_for_verdict(), sim_core::Verdict::Overloaded);
    assert!(!early.finished());
    assert!(
        early.events() * 3 < full.events(),
        "{} of {} events",
        early.events(),
        full.events()
    );
    let storm = sim_core::presets::load("retry-storm").unwrap().unwrap();
    let mut sim = Sim::new(&storm).unwrap();
    assert_eq!(sim.run_for_verdict(), sim_core::Verdict::Metastable);
    assert!(sim.finished());
}
