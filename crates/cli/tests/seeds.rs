//! `metastable run --seeds k` and `metastable compare` as a user runs them: k seeds are k
//! single runs, their bands are the per-bucket quantiles of those runs, and a comparison of a
//! scenario with itself shows no difference.

use serde_json::Value;
use std::process::{Command, Output};

fn metastable(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = metastable(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// A summary without its wall-clock time (the one field that differs between two runs).
fn without_wall(mut summary: Value) -> Value {
    summary.as_object_mut().unwrap().remove("wall_s");
    summary
}

#[test]
fn k_seeds_are_k_single_runs() {
    let seeded = json(&[
        "run",
        "retry-storm",
        "--seeds",
        "4",
        "--seed",
        "40",
        "--summary",
    ]);
    let seeds = seeded["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 4);
    for (i, replica) in seeds.iter().enumerate() {
        let seed = (40 + i).to_string();
        assert_eq!(replica["seed"], Value::from(40 + i as u64));
        let single = json(&["run", "retry-storm", "--seed", &seed, "--summary"]);
        // The same fields in the same order, the same numbers to the last bit.
        assert_eq!(
            serde_json::to_string(&without_wall(replica["summary"].clone())).unwrap(),
            serde_json::to_string(&without_wall(single)).unwrap(),
            "seed {seed}"
        );
    }
    let aggregate = &seeded["aggregate"];
    let metastable = seeds
        .iter()
        .filter(|r| r["summary"]["verdict"] == "metastable")
        .count();
    assert_eq!(aggregate["metastable"], Value::from(metastable));
    assert_eq!(aggregate["seeds"], Value::from(4));
    let share = aggregate["metastable_share"].as_f64().unwrap();
    let interval = aggregate["metastable_interval"].as_array().unwrap();
    let (low, high) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
    assert!(low <= share && share <= high, "{low} {share} {high}");
}

/// `sorted[h]` interpolated, h = (n − 1)·p: what the bands promise (type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

fn cells(line: &str) -> Vec<Option<f64>> {
    line.split(',')
        .map(|c| (!c.is_empty()).then(|| c.parse().unwrap()))
        .collect()
}

#[test]
fn the_bands_are_the_per_bucket_mean_and_quantiles_of_the_single_runs() {
    let k = 5;
    let bands = ok(&["run", "cold-cache", "--seeds", "5", "--seed", "11"]);
    let singles: Vec<Vec<Vec<Option<f64>>>> = (0..k)
        .map(|i| {
            let csv = ok(&["run", "cold-cache", "--seed", &(11 + i).to_string()]);
            csv.lines().skip(1).map(cells).collect()
        })
        .collect();
    let mut lines = bands.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..4],
        ["t", "offered_mean", "offered_p2_5", "offered_p97_5"]
    );
    assert_eq!(
        header.len(),
        1 + 3 * 14,
        "t and three figures per global column"
    );
    let rows: Vec<Vec<Option<f64>>> = lines.map(cells).collect();
    assert_eq!(rows.len(), singles[0].len());
    let mut checked = 0;
    for (b, row) in rows.iter().enumerate() {
        assert_eq!(row[0], singles[0][b][0], "t");
        for column in 1..15 {
            let mut values: Vec<f64> = singles.iter().filter_map(|s| s[b][column]).collect();
            values.sort_by(f64::total_cmp);
            let got = &row[1 + 3 * (column - 1)..1 + 3 * column];
            if values.is_empty() {
                assert_eq!(got, [None, None, None], "bucket {b} column {column}");
                continue;
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let want = [mean, quantile(&values, 0.025), quantile(&values, 0.975)];
            for (g, w) in got.iter().zip(want) {
                let g = g.expect("a value where a seed had one");
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "bucket {b}, column {}: {g} vs {w}",
                    header[1 + 3 * (column - 1)]
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked}");
}

fn differences(a: &str, b: &str) -> Value {
    json(&["compare", a, b, "--seeds", "3", "--format", "json"])["difference"].clone()
}

#[test]
fn a_scenario_compared_with_itself_differs_in_nothing_and_swapping_negates() {
    let same = differences("retry-storm", "retry-storm");
    for (name, d) in same.as_object().unwrap() {
        if d.is_null() {
            continue;
        }
        assert_eq!(d["mean"].as_f64(), Some(0.0), "{name}");
        if name != "metastable_share" {
            // Paired by seed: the same runs, no spread.
            assert_eq!(
                (d["low"].as_f64(), d["high"].as_f64()),
                (Some(0.0), Some(0.0)),
                "{name}"
            );
        }
    }
    let ab = differences("retry-storm", "retry-storm-budget");
    let ba = differences("retry-storm-budget", "retry-storm");
    let mut compared = 0;
    for (name, d) in ab.as_object().unwrap() {
        let e = &ba[name];
        if d.is_null() {
            assert!(e.is_null(), "{name}");
            continue;
        }
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
        assert!((f(d, "mean") + f(e, "mean")).abs() < 1e-12, "{name}");
        assert!((f(d, "low") + f(e, "high")).abs() < 1e-12, "{name}");
        assert!((f(d, "high") + f(e, "low")).abs() < 1e-12, "{name}");
        compared += 1;
    }
    assert!(compared >= 4, "{ab}");
    // The budget fixes the storm: goodput after rises, the share metastable falls.
    assert!(ab["goodput_after"]["low"].as_f64().unwrap() > 50.0, "{ab}");
    assert!(
        ab["metastable_share"]["high"].as_f64().unwrap() < 0.0,
        "{ab}"
    );
}

#[test]
fn the_table_reads_as_words_and_bad_requests_are_refused() {
    let table = ok(&[
        "compare",
        "retry-storm",
        "retry-storm-budget",
        "--seeds",
        "2",
    ]);
    assert!(table.contains("A: Retry storm"), "{table}");
    assert!(
        table.contains("metastable                  2 of 2"),
        "{table}"
    );
    let out = metastable(&["run", "retry-storm", "--seeds", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds"));
    let out = metastable(&["compare", "-", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input can be read once"));
    // The rows kept for the bands count against the state budget.
    let out = metastable(&[
        "run",
        "retry-storm",
        "--seeds",
        "10000",
        "--set",
        "bucket_s=0.01",
        "--max-state-mib",
        "64",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("10000 seeds") && message.contains("state budget"),
        "{message}"
    );
    // Every seed's verdict and the aggregate in words on standard error.
    let out = metastable(&["run", "retry-storm", "--seeds", "3"]);
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("seed 7: metastable"), "{notes}");
    assert!(
        notes.contains("metastable in 3 of 3 seeds (95% CI 44–100%)"),
        "{notes}"
    );
}
