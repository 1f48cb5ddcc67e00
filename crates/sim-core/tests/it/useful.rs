//! The `useful` column (SPEC §8): server services whose result became part of a good request.

use crate::check;
use sim_core::{presets, to_csv, Sim};

/// FNV-1a of each preset's CSV as it was before the `useful` column existed (recorded with
/// the CLI at commit da4b6db). Stripping the new column must give those bytes back: the old
/// presets' output changes only by the appended column.
const BEFORE_USEFUL: &[(&str, u64)] = &[
    ("backoff-not-enough", 0xe6ddbe3a66dd8ed4),
    ("closed-loop", 0xc9eb27fa289a7d7f),
    ("cold-cache-fill-late", 0xb65916c5fe5c9b7e),
    ("cold-cache", 0xf2a17c600a913f48),
    ("dependency-outage", 0x73b6450d368fda11),
    ("layered-retries", 0x26ff4a3981c1cc2c),
    ("retry-storm-budget", 0xb542ac08aa635757),
    ("retry-storm-deadline-aware", 0x32bd7b2d9554cd51),
    ("retry-storm-lifo-shed", 0xcac184edccf00537),
    ("retry-storm-no-retries", 0x32bd7b2d9554cd51),
    ("retry-storm-rate-limiter", 0xe52449ea790ea975),
    ("retry-storm", 0x9c4c855ea8c2d220),
    ("slow-server-least-outstanding", 0x9608185747bd6fba),
    ("slow-server-power-of-two", 0x343f0cd3d190f703),
    ("slow-server-round-robin", 0xde491b63c96271d1),
    ("stale-queue-lifo", 0x12c950a819340153),
    ("stale-queue", 0x3531d15ee53d7b79),
    ("thrashing", 0x66b888e8c6c84eb0),
];

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The CSV without the `useful` column.
fn strip_useful(csv: &str) -> String {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|c| *c == "useful")
        .expect("a useful column");
    let mut out = String::new();
    for line in csv.lines() {
        let cells: Vec<&str> = line.split(',').collect();
        let kept: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != at)
            .map(|(_, c)| *c)
            .collect();
        out.push_str(&kept.join(","));
        out.push('\n');
    }
    out
}

fn csv_of(name: &str) -> String {
    let scenario = presets::load(name).unwrap().unwrap();
    let mut sim = Sim::new(&scenario).unwrap();
    sim.run();
    to_csv(sim.columns(), sim.rows())
}

#[test]
fn the_old_presets_csv_changes_only_by_the_appended_useful_column() {
    for &(name, before) in BEFORE_USEFUL {
        let csv = csv_of(name);
        let header = csv.lines().next().unwrap();
        assert!(
            header.contains(",queue,useful"),
            "{name}: useful comes right after queue: {header}"
        );
        assert_eq!(fnv1a(strip_useful(&csv).as_bytes()), before, "{name}");
    }
}

#[test]
fn every_service_is_useful_when_every_request_is_good() {
    // M/M/1 at ρ = 0.8, no timeout: every completed service ends a good request at once.
    let run = check(
        r#"{"version": 1, "seed": 4, "duration_s": 500, "blocks": [
            {"id": "users", "kind": "client", "rate": 8, "to": "api"},
            {"id": "api", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}}]}"#,
        &[],
    );
    assert!(run.totals.throughput > 3000);
    assert_eq!(run.totals.useful, run.totals.throughput);
    assert_eq!(run.totals.useful, run.totals.good);
}

#[test]
fn a_dependency_is_useful_with_the_reply_it_made() {
    let run = check(
        r#"{"version": 1, "seed": 4, "duration_s": 200, "blocks": [
            {"id": "users", "kind": "client", "rate": 5, "to": "api"},
            {"id": "api", "kind": "server", "workers": 4, "service": {"mean_s": 0.01}, "to": "db"},
            {"id": "db", "kind": "server", "workers": 4, "service": {"mean_s": 0.01}}]}"#,
        &[],
    );
    assert_eq!(run.totals.useful, 2 * run.totals.good);
    assert_eq!(run.totals.useful, run.totals.throughput);
}

#[test]
fn a_cache_hit_carries_no_service() {
    let run = check(
        r#"{"version": 1, "seed": 4, "duration_s": 200, "blocks": [
            {"id": "users", "kind": "client", "rate": 50, "keys": 10, "to": "cache"},
            {"id": "cache", "kind": "cache", "capacity": 100, "hit_latency_s": 0.001, "to": "api"},
            {"id": "api", "kind": "server", "workers": 4, "service": {"mean_s": 0.01}}]}"#,
        &[],
    );
    // Ten misses fill the cache; every other request is a hit that no server worked for.
    assert_eq!(run.totals.useful, run.totals.throughput);
    assert!(run.totals.useful <= 20, "{}", run.totals.useful);
    assert!(run.totals.good > 9000);
}

#[test]
fn a_retry_storm_does_work_nobody_waits_for() {
    let run = check("retry-storm", &[]);
    let (throughput, useful) = (
        run.mean("throughput", 250.0, 300.0),
        run.mean("useful", 250.0, 300.0),
    );
    assert!(throughput > 90.0, "{throughput}");
    assert!(
        useful < 0.05 * throughput,
        "useful {useful} of {throughput}"
    );
    // Before the spike, nearly all of it mattered.
    let before = run.mean("useful", 10.0, 60.0) / run.mean("throughput", 10.0, 60.0);
    assert!(before > 0.95, "{before}");
    assert!(run.totals.useful <= run.totals.throughput);
}
