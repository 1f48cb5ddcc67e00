//! Every preset runs to the verdict its caption promises, on several seeds.

use crate::{assert_conserved, check, slow};
use sim_core::{presets, Verdict};

/// Each preset and the verdict its caption promises (`expect` in its file, which the browser
/// suite reads too).
fn promises() -> Vec<(&'static str, Verdict)> {
    presets::ALL
        .iter()
        .map(|p| {
            let scenario = presets::load(p.name).unwrap().unwrap();
            let promised = scenario.expect.unwrap_or_else(|| {
                panic!("{}: no `expect`: what does its caption promise?", p.name)
            });
            (p.name, promised)
        })
        .collect()
}

fn seeds() -> Vec<u64> {
    if slow() {
        (1..=8).collect()
    } else {
        vec![7, 1, 2]
    }
}

#[test]
fn every_preset_has_a_promise_and_a_caption() {
    assert_eq!(promises().len(), presets::ALL.len());
    for preset in presets::ALL {
        let scenario = presets::load(preset.name)
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        let caption = scenario.caption.unwrap_or_default();
        assert!(
            caption.len() > 150,
            "{}: the caption should tell the story",
            preset.name
        );
        assert!(!scenario.name.is_empty());
        assert!(
            scenario.triggers.iter().all(|t| t.at_s() >= 30.0),
            "{}: the first trigger comes after the warm-up",
            preset.name
        );
        assert!(
            scenario
                .blocks
                .iter()
                .all(|b| serde_json::to_value(b).unwrap().get("ui").is_some()),
            "{}: every block has an editor position",
            preset.name
        );
    }
}

#[test]
fn every_preset_reaches_the_verdict_its_caption_promises() {
    for (name, promised) in promises() {
        for seed in seeds() {
            let seed_text = seed.to_string();
            let run = check(name, &[("seed", &seed_text)]);
            assert_conserved(&run.totals);
            assert_eq!(
                run.report.verdict, promised,
                "{name}, seed {seed}: {}",
                run.report.explanation
            );
        }
    }
}

#[test]
fn the_stale_queue_shows_minutes_of_throughput_without_goodput_and_lifo_fixes_it() {
    let fifo = check("stale-queue", &[]);
    let lifo = check("stale-queue-lifo", &[]);
    let fifo_recovery = fifo.report.recovery_s.unwrap();
    let lifo_recovery = lifo.report.recovery_s.unwrap();
    assert!(
        fifo_recovery > 90.0,
        "FIFO drains stale calls for minutes: {fifo_recovery} s"
    );
    assert!(
        lifo_recovery < 30.0,
        "LIFO serves fresh calls at once: {lifo_recovery} s"
    );
    // While the FIFO drains: servers busy, nothing good.
    assert!(fifo.mean("throughput", 100.0, 140.0) > 90.0);
    assert!(fifo.mean("goodput", 100.0, 140.0) < 5.0);
}

#[test]
fn codel_ends_the_stale_queue_at_once() {
    let fifo = check("stale-queue", &[]);
    let codel = check("stale-queue-codel", &[]);
    let (fifo_recovery, codel_recovery) = (
        fifo.report.recovery_s.unwrap(),
        codel.report.recovery_s.unwrap(),
    );
    assert!(
        codel_recovery < 5.0 && fifo_recovery > 90.0,
        "CoDel {codel_recovery} s, FIFO {fifo_recovery} s"
    );
    // During the blip CoDel keeps the queue short and some requests succeed.
    assert!(codel.mean("queue", 62.0, 90.0) < 200.0);
    assert!(codel.mean("goodput", 62.0, 90.0) > 5.0);
    assert!(fifo.mean("queue", 85.0, 90.0) > 1000.0);
}

#[test]
fn autoscaling_rescues_the_storm_only_above_the_amplified_load() {
    let rescued = check("retry-storm-autoscale", &[]);
    let capped = check("retry-storm-autoscale-ceiling", &[]);
    // The storm's attempts, about four per request.
    let amplified = capped.mean("attempts", 200.0, 300.0);
    assert!((300.0..360.0).contains(&amplified), "{amplified}");
    // The ceiling's capacity (30 workers, 0.1 s) is below it; the rescue's 60 are above.
    assert_eq!(capped.mean("api.workers", 150.0, 300.0), 30.0);
    assert!(capped.mean("api.queue", 280.0, 300.0) > capped.mean("api.queue", 150.0, 170.0));
    let peak = rescued
        .column("api.workers")
        .into_iter()
        .fold(0.0, f64::max);
    assert!(peak * 10.0 > amplified, "{peak} workers");
    // Both started the storm (no goodput for a while after the spike)...
    assert!(rescued.mean("goodput", 75.0, 90.0) < 5.0);
    // ...and the rescued one gave its extra workers back after recovering.
    assert!(rescued.mean("api.workers", 280.0, 300.0) < 20.0);
}

#[test]
fn shedding_helps_only_when_saying_no_is_cheap() {
    let free = check("retry-storm-shed", &[]);
    let slow = check("retry-storm-shed-slow", &[]);
    assert!(free.report.recovery_s.unwrap() < 10.0);
    // On the slow path every worker refuses stale calls: 10 workers / 0.05 s = 200 errors/s,
    // and no service at all.
    assert!(slow.mean("throughput", 100.0, 300.0) < 1.0);
    let errors = slow.mean("errors", 100.0, 300.0);
    assert!((195.0..=205.0).contains(&errors), "{errors}");
    assert!((slow.mean("api.utilization", 100.0, 300.0) - 1.0).abs() < 1e-9);
}

#[test]
fn first_attempts_first_stops_the_retries() {
    let run = check("retry-storm-priority", &[]);
    assert!(run.mean("retries", 200.0, 300.0) < 2.0);
    // The retries left behind are still queued, served only in spare moments.
    assert!(run.mean("queue", 280.0, 300.0) > 1000.0);
}

#[test]
fn fair_queueing_keeps_the_shop_whole_while_the_crawler_storms() {
    let fair = check("two-clients-fair", &[]);
    let fifo = check("two-clients-fifo", &[]);
    // The shop sends 45 requests/s; after the spike that is the goodput, all of it.
    let after = fair.mean("goodput", 150.0, 300.0);
    assert!((42.0..=48.0).contains(&after), "{after}");
    // The crawler's attempts all time out, and its queue grows.
    assert!(fair.mean("crawler-retries.timeouts", 150.0, 300.0) > 80.0);
    assert!(fair.mean("api.queue", 280.0, 300.0) > fair.mean("api.queue", 150.0, 170.0));
    assert!(fifo.mean("goodput", 150.0, 300.0) < 1.0);
}

#[test]
fn the_cold_cache_needs_both_the_flush_and_the_surge() {
    let flush_only = check(
        "cold-cache",
        &[(
            "triggers",
            r#"[{"kind": "cache_flush", "target": "cache", "at_s": 60}]"#,
        )],
    );
    assert_eq!(
        flush_only.report.verdict,
        Verdict::Recovered,
        "{}",
        flush_only.report.explanation
    );
    let surge_only = check(
        "cold-cache",
        &[(
            "triggers",
            r#"[{"kind": "load_spike", "target": "users", "at_s": 60, "for_s": 30, "factor": 2}]"#,
        )],
    );
    assert_eq!(
        surge_only.report.verdict,
        Verdict::Recovered,
        "{}",
        surge_only.report.explanation
    );
    // Collapsed, the cache stays cold: the hit rate stays far below its warm level.
    let both = check("cold-cache", &[]);
    let warm = both.mean("cache.hit_rate", 30.0, 60.0);
    let after = both.mean("cache.hit_rate", 250.0, 300.0);
    assert!(
        warm > 0.55 && after < warm - 0.2,
        "hit rate {warm} before, {after} after"
    );
}

#[test]
fn layered_retries_multiply_to_27_calls_per_request() {
    let run = check("layered-retries", &[]);
    let amplification = run.mean("attempts", 250.0, 300.0) / run.mean("offered", 250.0, 300.0);
    // Attempts in a window belong to requests offered a little earlier: allow for that.
    assert!((25.5..=28.5).contains(&amplification), "{amplification}");
}

#[test]
fn the_dependency_partition_holds_the_api_workers() {
    let run = check("dependency-outage", &[]);
    let busy = run.mean("api.busy", 62.0, 75.0);
    assert_eq!(
        busy, 20.0,
        "every API worker waits on the partitioned database"
    );
    assert!(run.mean("goodput", 62.0, 75.0) < 1.0);
    assert!(run.mean("api.queue", 70.0, 75.0) > 500.0);
}

#[test]
fn balancer_policies_differ_in_how_much_they_send_to_the_slow_server() {
    let share = |preset: &str| {
        let run = check(preset, &[]);
        let c: f64 = run.column("c.utilization")[60..80].iter().sum();
        let all: f64 = ["a", "b", "c"]
            .iter()
            .map(|s| {
                run.column(&format!("{s}.utilization"))[60..80]
                    .iter()
                    .sum::<f64>()
            })
            .sum();
        (c / all, run.mean("c.queue", 70.0, 80.0))
    };
    let (_, round_robin_queue) = share("slow-server-round-robin");
    let (_, least_queue) = share("slow-server-least-outstanding");
    let (_, two_queue) = share("slow-server-power-of-two");
    assert!(
        round_robin_queue > 100.0,
        "round-robin piles calls on the slow server: {round_robin_queue}"
    );
    assert!(
        least_queue < round_robin_queue / 5.0,
        "least-outstanding: {least_queue}"
    );
    assert!(
        two_queue < round_robin_queue / 5.0,
        "power of two: {two_queue}"
    );
}

/// The promise travels with the scenario, like its caption: through a file and a share link.
#[test]
fn the_promised_verdict_is_kept_through_files_and_links() {
    let scenario = presets::load("retry-storm").unwrap().unwrap();
    assert_eq!(scenario.expect, Some(Verdict::Metastable));
    let again = sim_core::Scenario::from_json(&scenario.to_json_pretty()).unwrap();
    assert_eq!(again.expect, Some(Verdict::Metastable));
    let link = sim_core::share::link("https://example.org/", &scenario);
    let opened = sim_core::share::decode(&link).unwrap();
    assert_eq!(opened.expect, Some(Verdict::Metastable));
    let refused = sim_core::Scenario::from_json(
        &scenario
            .to_json_pretty()
            .replace("\"metastable\"", "\"fine\""),
    );
    assert!(
        refused.is_err_and(|e| e.to_string().contains("expect")),
        "an unknown verdict is refused naming the field"
    );
}

#[test]
fn hedging_cuts_the_tail_at_low_load_and_tips_the_system_at_twice_the_load() {
    let p99 = |run: &crate::Run| run.sim.summary().latency_p99_s.unwrap();
    let hedged = check("hedging-cuts-the-tail", &[]);
    let plain = check("hedging-cuts-the-tail", &[("hedger.max_attempts", "1")]);
    assert!(
        p99(&hedged) < 0.25 && p99(&plain) > 0.4,
        "p99 {} hedged, {} without",
        p99(&hedged),
        p99(&plain)
    );
    let share = hedged.mean("hedger.hedges", 10.0, 60.0) / hedged.mean("offered", 10.0, 60.0);
    assert!((0.04..0.1).contains(&share), "{share} of requests hedge");
    // At twice the load the spike leaves every request hedging: two attempts each.
    let tipped = check("hedging-tips-over", &[]);
    let amplification =
        tipped.mean("attempts", 250.0, 300.0) / tipped.mean("offered", 250.0, 300.0);
    assert!((1.95..2.05).contains(&amplification), "{amplification}");
    let unhedged = check("hedging-tips-over", &[("hedger.max_attempts", "1")]);
    assert_eq!(
        unhedged.report.verdict,
        Verdict::Recovered,
        "{}",
        unhedged.report.explanation
    );
}

#[test]
fn the_staircase_is_served_on_the_way_up_and_not_at_the_same_loads_on_the_way_down() {
    let run = check("load-staircase-hysteresis", &[]);
    // Steps of 30 s from 40 s: 80, 88, 96, 104, 96, 88, 80 requests/s.
    let step = |k: f64| {
        let from = 40.0 + 30.0 * k;
        (
            run.mean("goodput", from, from + 30.0),
            run.mean("offered", from, from + 30.0),
        )
    };
    for (up, down) in [(0.0, 6.0), (1.0, 5.0), (2.0, 4.0)] {
        let ((good_up, offered_up), (good_down, offered_down)) = (step(up), step(down));
        assert!((offered_up / offered_down - 1.0).abs() < 0.1);
        assert!(
            good_up > 0.9 * offered_up,
            "step {up}: {good_up} of {offered_up}"
        );
        assert!(good_down < 0.1 * offered_down, "step {down}: {good_down}");
    }
}

#[test]
fn the_adaptive_limiter_learns_a_limit_and_keeps_the_queue_short_through_the_spike() {
    let run = check("retry-storm-adaptive-limiter", &[]);
    let limit = run.mean("gate.limit", 30.0, 60.0);
    assert!((12.0..30.0).contains(&limit), "learnt limit {limit}");
    let queue = run.column("api.queue")[60..72]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    assert!(queue < 40.0, "longest queue in the spike: {queue}");
    assert!(run.mean("gate.rejected", 60.0, 70.0) > 100.0);
    assert!(run.mean("goodput", 60.0, 70.0) > 80.0);
}
