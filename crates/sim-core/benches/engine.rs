//! Engine benchmark: `cargo bench -p sim-core`.
//!
//! Runs the heavy scenario (`tests/scenarios/heavy.json`: 20,000 requests/s, 2,500 workers,
//! retries with a budget, a ×2 spike, 300 s — about 6 million requests and 24.5 million events)
//! three times and prints the best and median figures, then the same scenario at 1200 s to show
//! that memory does not grow with the run's length, then the `retry-storm` preset (a
//! metastable run whose queue grows for ever).
//!
//! Plain `std::time::Instant` timing, no assertions on time: the figures are for people.

use sim_core::{presets, Scenario, Sim};
use std::time::{Duration, Instant};

const HEAVY: &str = include_str!("../../../tests/scenarios/heavy.json");

/// One timed run: wall time, events, requests.
struct Run {
    wall: Duration,
    events: u64,
    requests: u64,
    simulated_s: f64,
}

fn run_once(scenario: &Scenario) -> Run {
    let start = Instant::now();
    let mut sim = Sim::new(scenario).expect("the benchmark scenario is valid");
    sim.run();
    let wall = start.elapsed();
    assert!(
        sim.stopped().is_none(),
        "the run hit a limit: {:?}",
        sim.stopped()
    );
    Run {
        wall,
        events: sim.events(),
        requests: sim.totals().requests,
        simulated_s: sim.duration_s(),
    }
}

/// Runs `reps` times; returns the runs sorted by wall time (best first).
fn run_many(scenario: &Scenario, reps: usize) -> Vec<Run> {
    let mut runs: Vec<Run> = (0..reps).map(|_| run_once(scenario)).collect();
    runs.sort_by_key(|r| r.wall);
    runs
}

/// Peak resident set size of this process in MiB (VmHWM), if the platform tells.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak RSS to the current RSS (Linux: writing 5 to clear_refs), so the next
/// reading is the peak of what follows. Returns false where unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1} MiB"))
}

fn print_runs(label: &str, runs: &[Run]) {
    let best = &runs[0];
    let median = &runs[runs.len() / 2];
    let per_s = |r: &Run| r.events as f64 / r.wall.as_secs_f64();
    println!(
        "{label}: {} runs, {} events, {} requests each",
        runs.len(),
        best.events,
        best.requests
    );
    println!(
        "  events/s            best {:>12.0}   median {:>12.0}",
        per_s(best),
        per_s(median)
    );
    println!(
        "  ns per event        best {:>12.1}   median {:>12.1}",
        1e9 / per_s(best),
        1e9 / per_s(median)
    );
    println!(
        "  simulated req/s     best {:>12.0}   median {:>12.0}",
        best.requests as f64 / best.wall.as_secs_f64(),
        median.requests as f64 / median.wall.as_secs_f64()
    );
    println!(
        "  wall ms per run     best {:>12.1}   median {:>12.1}   ({} s simulated)",
        best.wall.as_secs_f64() * 1e3,
        median.wall.as_secs_f64() * 1e3,
        best.simulated_s
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let heavy = Scenario::from_json(HEAVY).expect("heavy.json parses");

    reset_peak_rss();
    // Seven runs: on a shared machine the best run is the engine's speed, the median the noise.
    let runs = run_many(&heavy, 7);
    print_runs("heavy (300 s)", &runs);
    println!("  peak RSS            {}", mib(peak_rss_mib()));

    let mut long: serde_json::Value = serde_json::from_str(HEAVY).expect("heavy.json is JSON");
    sim_core::set_path(&mut long, "duration_s", "1200").expect("duration_s is settable");
    let long = Scenario::from_value(long).expect("the 1200 s variant is valid");
    let reset = reset_peak_rss();
    let runs = run_many(&long, 1);
    print_runs("heavy (1200 s)", &runs);
    println!(
        "  peak RSS            {}{}",
        mib(peak_rss_mib()),
        if reset {
            ""
        } else {
            " (process peak: could not reset)"
        }
    );

    let storm = presets::load("retry-storm")
        .expect("the retry-storm preset exists")
        .expect("the retry-storm preset is valid");
    let runs = run_many(&storm, 5);
    print_runs("retry-storm preset", &runs);
}
