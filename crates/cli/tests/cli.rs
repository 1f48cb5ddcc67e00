//! The `metastable` command as a user runs it: outputs, the summary's fields, exit codes and
//! messages for bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn metastable(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(args)
        // The default base address is part of what is tested; a developer's own setting
        // must not change it.
        .env_remove("METASTABLE_BASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SMALL: &str = r#"{"version": 1, "name": "small", "seed": 3, "duration_s": 20,
  "blocks": [
    {"id": "users", "kind": "client", "rate": 50, "timeout_s": 1, "to": "api"},
    {"id": "api", "kind": "server", "workers": 2, "service": {"mean_s": 0.02}}]}"#;

#[test]
fn run_prints_the_spec_columns_and_the_verdict() {
    let out = metastable(&["run", "retry-storm"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "t,offered,goodput,throughput,attempts,retries,timeouts,errors,rejected,latency_p50,latency_p99,latency_mean,in_flight,queue,retries.tokens,retries.timeouts,api.queue,api.busy,api.utilization"
    );
    assert_eq!(lines.count(), 300, "one row per 1 s bucket of a 300 s run");
    assert!(
        stderr(&out).starts_with("verdict: metastable — Metastable:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn summary_has_exactly_the_listed_fields_in_order() {
    let out = metastable(&["run", "retry-storm", "--summary"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(
        keys,
        [
            "verdict",
            "requests",
            "good",
            "late",
            "failed",
            "in_flight",
            "events",
            "goodput_before",
            "goodput_after",
            "recovery_s",
            "latency_mean_s",
            "latency_p99_s",
            "wall_s"
        ]
    );
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["verdict"], "metastable");
    assert!(summary["wall_s"].as_f64().unwrap() > 0.0);
    let n = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(
        n("good") + n("late") + n("failed") + n("in_flight"),
        n("requests")
    );
}

#[test]
fn set_and_seed_change_the_run_and_the_same_seed_repeats_it() {
    let fixed = metastable(
        &[
            "run",
            "retry-storm",
            "--set",
            "retries.max_attempts=1",
            "--summary",
        ],
        None,
    );
    assert!(
        stdout(&fixed).contains("\"verdict\": \"recovered\""),
        "{}",
        stdout(&fixed)
    );
    let a = metastable(&["run", "retry-storm", "--seed", "11"], None);
    let b = metastable(&["run", "retry-storm", "--seed", "11"], None);
    let c = metastable(&["run", "retry-storm", "--seed", "12"], None);
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let spiked = metastable(&["run", "-", "--set", "triggers.0.factor=3"], Some(&SMALL.replace("\"seed\": 3,", "\"seed\": 3, \"triggers\": [{\"kind\": \"load_spike\", \"target\": \"users\", \"at_s\": 5, \"for_s\": 1, \"factor\": 2}],")));
    assert!(spiked.status.success(), "{}", stderr(&spiked));
}

#[test]
fn json_format_has_columns_rows_and_summary() {
    let out = metastable(&["run", "-", "--format", "json"], Some(SMALL));
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["columns"][0], "t");
    assert_eq!(doc["rows"].as_array().unwrap().len(), 20);
    assert_eq!(
        doc["rows"][0].as_array().unwrap().len(),
        doc["columns"].as_array().unwrap().len()
    );
    assert_eq!(doc["verdict"], "stable");
}

#[test]
fn invalid_input_exits_2_naming_block_and_field() {
    let bad = SMALL.replace("\"mean_s\": 0.02", "\"mean_s\": -1");
    let out = metastable(&["run", "-"], Some(&bad));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("block \"api\", field `service.mean_s`: must be > 0 (got -1)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let out = metastable(
        &["validate", "-"],
        Some(&SMALL.replace("\"to\": \"api\"", "\"to\": \"apj\"")),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("block \"users\", field `to`: no block has the id \"apj\""),
        "{}",
        stderr(&out)
    );

    let out = metastable(&["run", "-"], Some("{\"version\": 1,"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not valid JSON (line 1"),
        "{}",
        stderr(&out)
    );

    let out = metastable(&["run", "no-such-thing"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no such file or preset"),
        "{}",
        stderr(&out)
    );

    let out = metastable(&["run", "retry-storm", "--set", "nobody.rate=3"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));

    let out = metastable(&["run", "retry-storm", "--set", "users.rate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("PATH=VALUE"), "{}", stderr(&out));
}

#[test]
fn a_run_past_a_limit_exits_2_with_the_reason() {
    let out = metastable(
        &["run", "retry-storm", "--max-events", "10000", "--summary"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than 10000 events"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn validate_accepts_a_good_scenario_and_files_work() {
    let out = metastable(&["validate", "-"], Some(SMALL));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ok: \"small\" (2 blocks, 0 triggers"));
    let path =
        std::env::temp_dir().join(format!("metastable-cli-test-{}.json", std::process::id()));
    std::fs::write(&path, SMALL).unwrap();
    let out = metastable(&["run", path.to_str().unwrap(), "--summary"], None);
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"verdict\": \"stable\""));
}

#[test]
fn presets_lists_every_preset() {
    let out = metastable(&["presets"], None);
    assert!(out.status.success());
    let text = stdout(&out);
    for preset in sim_core::presets::ALL {
        assert!(
            text.contains(preset.name),
            "{} missing from\n{text}",
            preset.name
        );
        let run = metastable(&["validate", preset.name], None);
        assert!(run.status.success(), "{}: {}", preset.name, stderr(&run));
    }
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args([
            "run",
            "retry-storm",
            "--set",
            "duration_s=600",
            "--set",
            "bucket_s=0.01",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"));
}

/// The golden CSV the browser test compares its wasm run with (crates/web/tests/browser.rs):
/// it must be exactly what the native CLI prints. `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn the_golden_csv_is_the_native_run() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/retry-storm.csv"
    );
    let out = metastable(&["run", "retry-storm"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &out.stdout).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert!(
        golden == stdout(&out),
        "tests/golden/retry-storm.csv is stale: rerun with UPDATE_GOLDEN=1"
    );
}

/// `metastable url …`'s link, checked to be one line.
fn url_of(args: &[&str]) -> String {
    let mut all = vec!["url"];
    all.extend_from_slice(args);
    let out = metastable(&all, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    text.trim_end().to_string()
}

#[test]
fn url_prints_a_short_link_that_runs_byte_identically() {
    let url = url_of(&["retry-storm"]);
    assert!(url.starts_with("https://metastable.example/?s=1."), "{url}");
    assert!(url.len() < 600, "{} characters: {url}", url.len());
    let direct = metastable(&["run", "retry-storm"], None);
    let linked = metastable(&["run", &url], None);
    assert!(linked.status.success(), "{}", stderr(&linked));
    assert!(!direct.stdout.is_empty());
    assert!(direct.stdout == linked.stdout, "the link's CSV differs");
    assert_eq!(stderr(&direct), stderr(&linked), "the verdict differs");

    // The payload alone, `?s=…`, `#s=…` and the legacy format 0 open the same run.
    let payload = url.split_once("?s=").unwrap().1.to_string();
    let scenario = sim_core::presets::load("retry-storm").unwrap().unwrap();
    let legacy = sim_core::share::encode_legacy(&scenario);
    for form in [
        payload.clone(),
        format!("?s={payload}"),
        format!("#s={payload}"),
        legacy,
    ] {
        let out = metastable(&["run", &form, "--summary"], None);
        assert!(out.status.success(), "{form}: {}", stderr(&out));
        assert!(stdout(&out).contains("\"verdict\": \"metastable\""));
        let out = metastable(&["validate", &form], None);
        assert!(
            stdout(&out).starts_with("ok: \"Retry storm\" (3 blocks"),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn set_and_seed_edits_are_carried_by_the_link() {
    let url = url_of(&[
        "retry-storm",
        "--set",
        "retries.max_attempts=1",
        "--seed",
        "11",
    ]);
    let direct = metastable(
        &[
            "run",
            "retry-storm",
            "--set",
            "retries.max_attempts=1",
            "--seed",
            "11",
        ],
        None,
    );
    let linked = metastable(&["run", &url], None);
    assert!(linked.status.success(), "{}", stderr(&linked));
    assert!(direct.stdout == linked.stdout, "the link lost an edit");
    assert!(
        stderr(&linked).starts_with("verdict: recovered"),
        "{}",
        stderr(&linked)
    );
    assert_ne!(url, url_of(&["retry-storm"]));
    // Edits apply on top of a link, too.
    let again = metastable(
        &[
            "run",
            &url,
            "--set",
            "retries.max_attempts=4",
            "--seed",
            "7",
        ],
        None,
    );
    let storm = metastable(&["run", "retry-storm"], None);
    assert!(again.stdout == storm.stdout);
    // A file gives a link too, and the link runs it.
    let path = std::env::temp_dir().join(format!("metastable-cli-url-{}.json", std::process::id()));
    std::fs::write(&path, SMALL).unwrap();
    let file_url = url_of(&[path.to_str().unwrap()]);
    let from_file = metastable(&["run", path.to_str().unwrap()], None);
    std::fs::remove_file(&path).ok();
    let from_link = metastable(&["run", &file_url], None);
    assert!(from_file.stdout == from_link.stdout);
    let from_stdin = metastable(&["url", "-"], Some(SMALL));
    assert_eq!(stdout(&from_stdin).trim_end(), file_url);
}

#[test]
fn a_tampered_or_truncated_link_exits_2_with_a_clear_message() {
    let url = url_of(&["stale-queue"]);
    let mut tampered = url.clone();
    let middle = url.len() - 40;
    let replacement = if &url[middle..middle + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(middle..middle + 1, replacement);
    let truncated = &url[..url.len() - 25];
    for (link, message) in [
        (tampered.as_str(), "this link is truncated or damaged ("),
        (truncated, "this link is truncated or damaged ("),
        (
            "https://metastable.example/?embed",
            "this link has no scenario in it",
        ),
        (
            "9.AAAAAAAAAAAAAAAAAAAAAAAA",
            "this link was made by a newer version of Metastable (link format 9)",
        ),
    ] {
        for command in ["run", "validate", "url"] {
            let out = metastable(&[command, link], None);
            assert_eq!(out.status.code(), Some(2), "{command} {link}");
            assert!(
                stderr(&out).starts_with(&format!("error: {message}")),
                "{command} {link}: {}",
                stderr(&out)
            );
            assert!(stdout(&out).is_empty());
        }
    }
}

#[test]
fn a_missing_file_that_looks_like_a_short_payload_is_a_missing_file() {
    let out = metastable(&["run", "1.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("1.json: no such file or preset"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_link_to_an_invalid_scenario_names_block_and_field() {
    let mut scenario = sim_core::presets::load("retry-storm").unwrap().unwrap();
    scenario.duration_s = -5.0;
    let link = sim_core::share::link("https://metastable.example/", &scenario);
    let out = metastable(&["run", &link], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the link's scenario is invalid: scenario, field `duration_s`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn base_may_have_a_sub_path_and_other_parameters_or_come_from_the_environment() {
    let url = url_of(&[
        "cold-cache",
        "--base",
        "https://example.org/blog/metastable/?embed&charts=goodput",
    ]);
    assert!(
        url.starts_with("https://example.org/blog/metastable/?embed&charts=goodput&s=1."),
        "{url}"
    );
    let direct = metastable(&["run", "cold-cache"], None);
    let linked = metastable(&["run", &url], None);
    assert!(linked.status.success(), "{}", stderr(&linked));
    assert!(direct.stdout == linked.stdout);

    let out = Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(["url", "cold-cache"])
        .env("METASTABLE_BASE_URL", "http://localhost:8080/metastable/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let from_env = stdout(&out);
    assert!(
        from_env.starts_with("http://localhost:8080/metastable/?s=1."),
        "{from_env}"
    );
    assert_eq!(
        from_env.split_once("?s=").unwrap().1,
        url.split_once("&s=").unwrap().1.to_string() + "\n"
    );
    // `--base` wins over the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(["url", "cold-cache", "--base", "https://a.example/"])
        .env("METASTABLE_BASE_URL", "http://localhost:8080/metastable/")
        .output()
        .unwrap();
    assert!(stdout(&out).starts_with("https://a.example/?s=1."));
}

#[test]
fn sweep_prints_one_row_per_point_with_verdict_shares_and_draws_the_diagram() {
    let dir = std::env::temp_dir().join(format!("metastable-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("phase.svg");
    let out = metastable(
        &[
            "sweep",
            "retry-storm",
            "--x",
            "triggers.0.factor=1..3:3",
            "--y",
            "users.rate=50..90:2",
            "--seeds",
            "2",
            "--set",
            "duration_s=200",
            "--plot",
            svg.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 6, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &header[..5],
        [
            "triggers.0.factor",
            "users.rate",
            "seeds",
            "verdict",
            "agreement"
        ]
    );
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        assert_eq!(cells[2], "2");
        let shares: f64 = header
            .iter()
            .zip(&cells)
            .filter(|(h, _)| h.starts_with("frac_"))
            .map(|(_, c)| c.parse::<f64>().unwrap())
            .sum();
        assert!((shares - 1.0).abs() < 1e-9, "{line}");
        let verdict = cells[3];
        assert!(
            cells[column(&format!("frac_{verdict}"))]
                .parse::<f64>()
                .unwrap()
                >= 0.5
        );
    }
    // x varies fastest; ×1 never tips the storm, ×3 at 90 requests/s does.
    assert!(lines[1].starts_with("1,50,2,recovered,"), "{}", lines[1]);
    assert!(lines[6].starts_with("3,90,2,metastable,"), "{}", lines[6]);
    assert!(
        stderr(&out).contains("6 points × 2 seeds = 12 runs"),
        "{}",
        stderr(&out)
    );
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<svg"), "not an SVG");
    for label in [
        "triggers.0.factor",
        "users.rate",
        "metastable",
        "recovered",
        "seeds agreeing",
    ] {
        assert!(drawing.contains(label), "the diagram lacks {label}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_sweep_says_which_axis_and_why() {
    for (args, says) in [
        (
            vec!["--x", "users.rate=1..2"],
            "--x `users.rate=1..2`: no number of points",
        ),
        (
            vec!["--x", "api.discipline=1..2:2"],
            "only numeric fields can be swept",
        ),
        (vec!["--x", "api.workers=0..2:3"], "at api.workers = 0:"),
        (
            vec!["--x", "users.rate=1..2:2", "--seeds", "0"],
            "--seeds must be 1 to 1000",
        ),
    ] {
        let mut all = vec!["sweep", "retry-storm"];
        all.extend(args);
        let out = metastable(&all, None);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(stderr(&out).contains(says), "{all:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "nothing runs");
    }
}

#[test]
fn tip_finds_a_smaller_tipping_spike_at_a_higher_load_and_draws_the_curve() {
    let dir = std::env::temp_dir().join(format!("metastable-tip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("tip.svg");
    let out = metastable(
        &[
            "tip",
            "retry-storm",
            "--load",
            "users.rate=50..90:3",
            "--trigger",
            "triggers.0.factor=1..4",
            "--seeds",
            "1",
            "--steps",
            "4",
            "--plot",
            svg.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "users.rate,min_triggers.0.factor,not_tipping_below,seeds,searched_low,searched_high"
    );
    let thresholds: Vec<f64> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(thresholds.len(), 3, "{text}");
    assert!(
        thresholds[0] > thresholds[1] && thresholds[1] > thresholds[2],
        "the minimum tipping spike shrinks as load rises: {thresholds:?}"
    );
    for line in &lines[1..] {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        assert!(
            cells[2] < cells[1] && cells[1] - cells[2] <= 3.0 / 16.0 + 1e-9,
            "{line}"
        );
    }
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.contains("Minimum trigger that causes a metastable failure"));
    std::fs::remove_dir_all(&dir).ok();

    let out = metastable(
        &[
            "tip",
            "retry-storm",
            "--load",
            "users.rate=50..90:3",
            "--trigger",
            "triggers.0.factor",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--trigger `triggers.0.factor`: expected PATH=LO..HI"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fluid_prints_equilibria_the_bistable_loads_and_a_trajectory() {
    let out = metastable(&["fluid", "retry-storm"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("q = 8.00, r = 0.000: Stable"), "{text}");
    assert!(text.contains(": Saddle"), "{text}");
    assert!(
        text.contains("bistable (a good point and a saddle) for λ from 25.5"),
        "{text}"
    );
    assert!(text.ends_with("verdict: metastable\n"), "{text}");

    let out = metastable(&["fluid", "retry-storm", "--csv"], None);
    let csv = stdout(&out);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "t,q,r,attempts,goodput");
    assert_eq!(rows.len(), 1 + 301, "one row per second of 300 s");
    let queue_at = |i: usize| rows[i].split(',').nth(1).unwrap().parse::<f64>().unwrap();
    assert!(
        queue_at(300) > queue_at(200) && queue_at(200) > 1000.0,
        "the queue runs away"
    );

    let out = metastable(
        &["fluid", "retry-storm", "--set", "retries.max_attempts=1"],
        None,
    );
    assert!(
        stdout(&out).ends_with("verdict: recovered\n"),
        "{}",
        stdout(&out)
    );
    let out = metastable(&["fluid", "cold-cache"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("block \"cache\" is more"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fluid_plot_draws_the_state_space_with_the_simulated_path() {
    let dir = std::env::temp_dir().join(format!("metastable-fluid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("state.svg");
    let out = metastable(
        &["fluid", "retry-storm", "--plot", svg.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("verdict: metastable\n"));
    let text = std::fs::read_to_string(&svg).unwrap();
    for expected in [
        "State space of",
        "calls at the server, q",
        "requests in orbit, r",
        "stable: q = 8.0, r = 0.00",
        "saddle: q = 94.0, r = 1.17",
        "simulated path",
        "model trajectory",
    ] {
        assert!(text.contains(expected), "no {expected:?} in the SVG");
    }
    // The field's arrows and both paths are drawn (hundreds of strokes, not an empty frame).
    assert!(text.matches("<polyline").count() > 400, "too few strokes");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sweep_reads_a_scenario_from_standard_input() {
    let out = metastable(&["sweep", "-", "--x", "users.rate=1..2:2"], Some(SMALL));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 2, "{}", stdout(&out));
}
