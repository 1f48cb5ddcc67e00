//! `metastable hysteresis` as a user runs it: the retry storm's band and its absence without
//! retries, seeds, the plot, the same bytes twice, and refusals that name the flag.

use std::process::{Command, Output};

fn metastable(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The CSV rows (header first) and the summary of a successful run.
fn ok(args: &[&str]) -> (Vec<Vec<String>>, String) {
    let out = metastable(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let rows = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (rows, stderr(&out))
}

/// The number after `what: users.rate = ` in the summary.
fn load_after(summary: &str, what: &str) -> Option<f64> {
    let line = summary.lines().find(|l| l.starts_with(what))?;
    line.split(" = ").nth(1)?.split(' ').next()?.parse().ok()
}

#[test]
fn the_retry_storm_tips_above_the_load_at_which_it_comes_back() {
    let (rows, summary) = ok(&[
        "hysteresis",
        "retry-storm",
        "--load",
        "users.rate=10..110:6",
    ]);
    assert_eq!(
        rows[0].join(","),
        "load,direction,goodput,backlog,offered,throughput,backlog_slope,healthy,draining,step,start_s"
    );
    assert_eq!(rows.len(), 1 + 11, "six loads up, five down");
    let loads: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        loads,
        ["10", "30", "50", "70", "90", "110", "90", "70", "50", "30", "10"]
    );
    let tipping = load_after(&summary, "tipping load:").expect(&summary);
    let recovery = load_after(&summary, "recovery load:").expect(&summary);
    assert!(tipping - recovery > 20.0, "{summary}");
    assert!(
        summary.contains(&format!("band: users.rate from {recovery} to {tipping}")),
        "{summary}"
    );
    assert!(
        summary.contains(
            "fluid model: bistable (a good point and a saddle) for users.rate from 25.5 to 99.5"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("the scenario's trigger is left out"),
        "{summary}"
    );
    // 70 served on the way up (healthy 1), collapsed on the way down (healthy 0).
    assert_eq!((rows[4][7].as_str(), rows[8][7].as_str()), ("1", "0"));
}

#[test]
fn without_retries_there_is_no_band() {
    let (rows, summary) = ok(&[
        "hysteresis",
        "retry-storm",
        "--load",
        "users.rate=10..110:6",
        "--set",
        "retries.max_attempts=1",
    ]);
    let tipping = load_after(&summary, "tipping load:").expect(&summary);
    let recovery = load_after(&summary, "recovery load:").expect(&summary);
    assert_eq!(tipping, 110.0, "{summary}");
    assert!(tipping - recovery <= 20.0, "within one step: {summary}");
    assert!(summary.contains("band: none"), "{summary}");
    assert!(summary.contains("fluid model: never bistable"), "{summary}");
    // Below the top, every step down is served as it was on the way up.
    for row in &rows[8..] {
        assert_eq!(row[7], "1", "{row:?}");
    }
}

#[test]
fn seeds_are_averaged_step_by_step_and_each_keeps_its_edges() {
    let args = [
        "hysteresis",
        "retry-storm",
        "--load",
        "users.rate=60..120:4",
        "--hold-s",
        "30",
    ];
    let (together, summary) = ok(&[&args[..], &["--seeds", "3"]].concat());
    let single: Vec<Vec<Vec<String>>> = ["7", "8", "9"]
        .iter()
        .map(|seed| ok(&[&args[..], &["--seed", seed]].concat()).0)
        .collect();
    for (i, row) in together.iter().enumerate().skip(1) {
        for column in [2, 3, 4, 5] {
            let mean = single
                .iter()
                .map(|rows| rows[i][column].parse::<f64>().unwrap())
                .sum::<f64>()
                / 3.0;
            let value: f64 = row[column].parse().unwrap();
            assert!(
                (value - mean).abs() <= 0.002 + 1e-6 * mean,
                "step {i}, column {column}: {value} vs {mean}"
            );
        }
        let healthy: f64 = row[7].parse().unwrap();
        let count = single.iter().filter(|rows| rows[i][7] == "1").count();
        assert!((healthy - count as f64 / 3.0).abs() < 1e-3, "{row:?}");
    }
    assert!(
        summary.contains("in at least half of the 3 seeds"),
        "{summary}"
    );
    assert!(
        summary.contains("per seed (seed: tipping→recovery): 7 "),
        "{summary}"
    );
}

#[test]
fn the_same_experiment_prints_the_same_bytes_and_draws_the_same_plot() {
    let dir = std::env::temp_dir().join(format!("metastable-hysteresis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.svg"), dir.join("b.svg"));
    let run = |plot: &std::path::Path| {
        metastable(&[
            "hysteresis",
            "load-staircase-hysteresis",
            "--load",
            "users.rate=20..110:4",
            "--seeds",
            "2",
            "--plot",
            plot.to_str().unwrap(),
        ])
    };
    let (first, second) = (run(&a), run(&b));
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(first.stdout, second.stdout);
    let svg = std::fs::read_to_string(&a).unwrap();
    assert_eq!(svg, std::fs::read_to_string(&b).unwrap());
    for says in [
        "<svg",
        "goodput on the way up",
        "goodput on the way down",
        "measured band",
        "fluid model: bistable from 25.5 to 99.5",
        "users.rate (offered load, requests/s)",
    ] {
        assert!(svg.contains(says), "{says}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn what_is_not_an_experiment_is_refused_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--load", "users.rate=110..10:6"],
            "--load `users.rate=110..10:6`: the high end is below the low end",
        ),
        (
            &["--load", "users.rate=10..110:0"],
            "--load `users.rate=10..110:0`: the number of points must be 1 to",
        ),
        (
            &["--load", "users.rate=10..110:100000"],
            "--load `users.rate=10..110:100000`: the number of points must be 1 to 10000",
        ),
        (
            &["--load", "users.rate=10..110:600"],
            "--load `users.rate=10..110:600`: at most 500 loads",
        ),
        (
            &["--load", "users.rate=10..110:1"],
            "--load `users.rate=10..110:1`: the staircase needs at least 2 loads",
        ),
        (
            &["--load", "users.rate=50..50:3"],
            "--load `users.rate=50..50:3`: LO must be below HI",
        ),
        (
            &["--load", "api.workers=1..10:3"],
            "--load `api.workers=1..10:3`: `api` is a server, not a client",
        ),
        (
            &["--load", "users.timeout_s=1..2:3"],
            "--load `users.timeout_s=1..2:3`: `timeout_s` of `users` is not a load",
        ),
        (
            &["--load", "duration_s=1..2:3"],
            "--load `duration_s=1..2:3`: `duration_s` is not a load",
        ),
        (
            &["--load", "users.rate"],
            "--load `users.rate`: expected PATH=LO..HI:N",
        ),
        (
            &["--load", "users.rate=10..110:3", "--hold-s", "0"],
            "--hold-s must be a number of seconds above 0 (got 0)",
        ),
        (
            &["--load", "users.rate=10..110:3", "--hold-s", "-5"],
            "--hold-s must be a number of seconds above 0 (got -5)",
        ),
        (
            &["--load", "users.rate=10..110:3", "--hold-s", "NaN"],
            "--hold-s must be a number of seconds above 0 (got NaN)",
        ),
        (
            &["--load", "users.rate=10..110:3", "--hold-s", "1e9"],
            "--hold-s 1000000000 s × 5 steps",
        ),
        (
            &["--load", "users.rate=10..110:3", "--seeds", "0"],
            "--seeds must be 1 to 1000 (got 0)",
        ),
    ];
    for (args, says) in cases {
        let out = metastable(&[&["hysteresis", "retry-storm"][..], args].concat());
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(says), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing runs");
    }
    // A plot that cannot be written names the file, after the rows.
    let out = metastable(&[
        "hysteresis",
        "retry-storm",
        "--load",
        "users.rate=10..110:3",
        "--hold-s",
        "5",
        "--plot",
        "/nonexistent/dir/plot.svg",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("writing /nonexistent/dir/plot.svg"),
        "{}",
        stderr(&out)
    );
}
