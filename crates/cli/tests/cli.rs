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
        "t,offered,goodput,throughput,attempts,retries,timeouts,errors,rejected,latency_p50,latency_p99,latency_mean,in_flight,queue,useful,retries.tokens,retries.timeouts,api.queue,api.busy,api.utilization"
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
            "work",
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
        &["run", "retry-storm", "--max-work", "10000", "--summary"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("budget of work") && stderr(&out).contains("--max-work"),
        "{}",
        stderr(&out)
    );
    // The flag it replaced says what replaced it.
    let out = metastable(
        &["run", "retry-storm", "--max-events", "10000", "--summary"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: --max-events is now --max-work"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
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

// ---------------------------------------------------------------------------------------
// Hostile input (issue 12, SPEC §10): one test per numbered finding the CLI answers for,
// each reproducing the input (generated here where it is large) and asserting the new
// behaviour, with the process's peak memory where the finding was about memory.

/// What a run of the binary gave, with its peak resident memory and its time.
struct Measured {
    out: Output,
    peak_rss_mib: f64,
    wall_s: f64,
}

/// Set (to a JSON job) in the environment of this test binary when it is re-run as the
/// measuring parent of one command ([`peak_rss_helper`]).
const RSS_HELPER: &str = "METASTABLE_TEST_RSS_HELPER";

/// Runs the binary with `stdin` fed to it (a reader that stops early is fine) and `env` set,
/// and measures its peak RSS.
///
/// The kernel's account of a child (`wait4`) starts from the peak of the process that
/// spawned it (exec records the old address space's high-water mark, and a spawned child
/// shares or copies this test process's, tens of MiB once other tests have run). So the
/// command is spawned by a small fresh process instead: this test binary re-run as
/// [`peak_rss_helper`], which writes the command's outputs, status, peak RSS and time to
/// files.
fn measured(args: &[&str], stdin: Option<Vec<u8>>, env: &[(&str, &str)]) -> Measured {
    let dir = std::env::temp_dir().join(format!(
        "metastable-rss-{}-{}",
        std::process::id(),
        NEXT_MEASURE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let job = serde_json::json!({
        "bin": env!("CARGO_BIN_EXE_metastable"),
        "args": args,
        "env": env.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
        "dir": dir,
    });
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "peak_rss_helper",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(RSS_HELPER, job.to_string())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs");
    let feeder = stdin.map(|bytes| {
        let mut pipe = helper.stdin.take().unwrap();
        // The command may stop reading (that is the point of some tests): ignore EPIPE.
        std::thread::spawn(move || drop(pipe.write_all(&bytes)))
    });
    let helped = helper.wait_with_output().unwrap();
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
    let report = String::from_utf8(read("report")).unwrap();
    assert!(
        helped.status.success() && !report.is_empty(),
        "the measuring helper failed: {}",
        String::from_utf8_lossy(&helped.stderr)
    );
    let numbers: Vec<f64> = report
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let measured = Measured {
        out: Output {
            status: std::os::unix::process::ExitStatusExt::from_raw(numbers[0] as i32),
            stdout: read("stdout"),
            stderr: read("stderr"),
        },
        peak_rss_mib: numbers[1] / 1024.0,
        wall_s: numbers[2],
    };
    std::fs::remove_dir_all(&dir).ok();
    measured
}

static NEXT_MEASURE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Not a test of its own: when this binary is re-run by [`measured`], runs the command of
/// the job in [`RSS_HELPER`] (standard input passed on, outputs to files) and writes its
/// raw wait status, peak RSS in KiB and wall time in seconds to the job's `report`.
#[test]
fn peak_rss_helper() {
    let Ok(job) = std::env::var(RSS_HELPER) else {
        return;
    };
    let job: serde_json::Value = serde_json::from_str(&job).unwrap();
    let dir = std::path::PathBuf::from(job["dir"].as_str().unwrap());
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let child = Command::new(text(&job["bin"]))
        .args(job["args"].as_array().unwrap().iter().map(text))
        .envs(
            job["env"]
                .as_array()
                .unwrap()
                .iter()
                .map(|kv| (text(&kv[0]), text(&kv[1]))),
        )
        .env_remove(RSS_HELPER)
        .env_remove("METASTABLE_BASE_URL")
        .stdin(Stdio::inherit())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let (status, peak_kib) = wait_with_rusage(child.id());
    let wall_s = started.elapsed().as_secs_f64();
    // `child` was reaped above: dropping it does not wait again.
    drop(child);
    std::fs::write(
        dir.join("report"),
        format!(
            "{} {peak_kib} {wall_s}",
            std::os::unix::process::ExitStatusExt::into_raw(status)
        ),
    )
    .unwrap();
}

/// Waits for the child `pid` and returns its exit status and its peak RSS in KiB.
#[allow(unsafe_code)]
fn wait_with_rusage(pid: u32) -> (std::process::ExitStatus, i64) {
    use std::os::unix::process::ExitStatusExt;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in; `pid` is our own child, which
    // nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid as libc::pid_t, "wait4 failed");
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as i64,
    )
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("metastable-hostile-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// The binary with standard output and standard error as given (a closed pipe, a full
/// device), standard input empty.
fn with_outputs(args: &[&str], stdout: Stdio, stderr: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(args)
        .env_remove("METASTABLE_BASE_URL")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("the binary runs")
}

/// A pipe whose reader is already closed: every write to it fails with EPIPE.
#[allow(unsafe_code)]
fn closed_pipe() -> Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `pipe2` fills in two new descriptors, each then owned by exactly one `OwnedFd`.
    // (`std::io::pipe` would do, but is newer than the workspace's minimum Rust.) Close on
    // exec, so that no other test's child inherits the reader and keeps the pipe open.
    let (reader, writer) = unsafe {
        assert_eq!(
            libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC),
            0,
            "pipe2 failed"
        );
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(reader);
    writer.into()
}

fn dev_full() -> Option<Stdio> {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .ok()
        .map(Stdio::from)
}

/// A command of every kind that writes to standard output.
const EVERY_OUTPUT: &[&[&str]] = &[
    &["presets"],
    &["presets", "--captions"],
    &["validate", "retry-storm"],
    &["url", "retry-storm"],
    &["run", "retry-storm"],
    &["run", "retry-storm", "--summary"],
    &["run", "retry-storm", "--format", "json"],
    &[
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=50..60:2",
        "--set",
        "duration_s=30",
    ],
    &[
        "tip",
        "retry-storm",
        "--load",
        "users.rate=60..80:2",
        "--trigger",
        "triggers.0.factor=1..3",
        "--seeds",
        "1",
        "--steps",
        "1",
        "--set",
        "duration_s=120",
    ],
    &["fluid", "retry-storm"],
    &["fluid", "retry-storm", "--csv"],
    &["--help"],
    &["--version"],
];

#[test]
fn finding_6_closed_stdout_exits_quietly() {
    // Before: `presets --captions | head -1` and friends exited 101 ("failed printing to
    // stdout: Broken pipe"). Now every command stops at once with status 0 and says nothing.
    for args in EVERY_OUTPUT {
        let out = with_outputs(args, closed_pipe(), Stdio::piped());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn finding_6_full_disk_exits_2_with_a_message() {
    for args in EVERY_OUTPUT {
        let Some(full) = dev_full() else {
            eprintln!("no /dev/full here: skipped");
            return;
        };
        let out = with_outputs(args, full, Stdio::piped());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("error: writing to standard output: No space left on device"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn finding_6_a_failing_stderr_does_not_panic() {
    let Some(full) = dev_full() else { return };
    // Before: 101 (`eprintln!` panics when it cannot write).
    let out = with_outputs(&["run", "nope"], Stdio::piped(), full);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    // The notes on standard error are best effort: the rows still come, the status is 0.
    let out = with_outputs(&["run", "retry-storm"], Stdio::piped(), dev_full().unwrap());
    assert_eq!(out.status.code(), Some(0));
    let golden = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/retry-storm.csv"
    ))
    .unwrap();
    assert!(out.stdout == golden, "the rows are all there");
    let out = with_outputs(
        &["sweep", "-", "--x", "users.rate=1..2:2"],
        Stdio::piped(),
        dev_full().unwrap(),
    );
    assert_eq!(out.status.code(), Some(2), "standard input is empty");
    let out = with_outputs(&["tip", "--bogus"], Stdio::piped(), dev_full().unwrap());
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn finding_12_plot_to_full_disk_fails() {
    if dev_full().is_none() {
        return;
    }
    // Before: `sweep --plot /dev/full` exited 0 and said it had written the diagram.
    for (args, note) in [
        (
            vec![
                "sweep",
                "retry-storm",
                "--x",
                "users.rate=50..60:2",
                "--set",
                "duration_s=30",
                "--plot",
            ],
            "phase diagram:",
        ),
        (
            vec![
                "tip",
                "retry-storm",
                "--load",
                "users.rate=60..80:2",
                "--trigger",
                "triggers.0.factor=1..3",
                "--seeds",
                "1",
                "--steps",
                "1",
                "--set",
                "duration_s=120",
                "--plot",
            ],
            "tipping curve:",
        ),
        (vec!["fluid", "retry-storm", "--plot"], "state space:"),
    ] {
        for (target, says) in [
            (
                "/dev/full",
                "error: writing /dev/full: No space left on device",
            ),
            (
                "/nonexistent-dir/plot.svg",
                "error: writing /nonexistent-dir/plot.svg: No such file or directory",
            ),
        ] {
            let mut all = args.clone();
            all.push(target);
            let out = metastable(&all, None);
            assert_eq!(out.status.code(), Some(2), "{all:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{all:?}: {}", stderr(&out));
            assert!(!stderr(&out).contains(note), "{all:?}: {}", stderr(&out));
        }
    }
}

/// The summary's totals of `run … --summary` with these arguments.
fn summary_of(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--summary");
    let out = metastable(&all, None);
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// The cells of a sweep's rows by column name (the header's).
fn sweep_rows(args: &[&str]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    let out = metastable(&all, None);
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn finding_9_seed_above_2_53_runs_exactly() {
    let run = |seed: &str| summary_of(&["retry-storm", "--seed", seed, "--set", "duration_s=80"]);
    let (exact, neighbour) = (run("9007199254740993"), run("9007199254740992"));
    assert_ne!(
        exact["requests"], neighbour["requests"],
        "the two seeds differ, so the test can tell them apart"
    );
    // Before: the sweep passed the seed through an f64 and ran …992.
    let rows = sweep_rows(&[
        "retry-storm",
        "--x",
        "users.rate=80..80:1",
        "--seed",
        "9007199254740993",
        "--set",
        "duration_s=80",
    ]);
    assert_eq!(rows[0]["requests"], exact["requests"].to_string());
    assert_eq!(rows[0]["events"], exact["events"].to_string());
    // `tip` goes through the same seeds: its search at one load with the exact seed finds
    // what a sweep over the trigger's ends finds.
    let out = metastable(
        &[
            "tip",
            "retry-storm",
            "--seed",
            "9007199254740993",
            "--load",
            "users.rate=80..80:1",
            "--trigger",
            "triggers.0.factor=1..3",
            "--seeds",
            "1",
            "--steps",
            "0",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn finding_9_the_largest_seed_runs_and_the_next_seeds_wrap_to_0() {
    // Before: "invalid type: floating point `1.8446744073709552e+19`, expected u64", naming
    // no field. Now 2^64 - 1 runs, and the seeds after it are 0 and 1 (modulo 2^64).
    let rows = sweep_rows(&[
        "retry-storm",
        "--x",
        "users.rate=80..80:1",
        "--seed",
        "18446744073709551615",
        "--seeds",
        "3",
        "--set",
        "duration_s=80",
    ]);
    let requests: Vec<u64> = ["18446744073709551615", "0", "1"]
        .iter()
        .map(|seed| {
            summary_of(&["retry-storm", "--seed", seed, "--set", "duration_s=80"])["requests"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mean = requests.iter().sum::<u64>() as f64 / 3.0;
    let swept: f64 = rows[0]["requests"].parse().unwrap();
    assert!((swept - mean).abs() < 1e-6, "{swept} vs {requests:?}");
    // One past the largest is refused by the argument parser, naming the flag.
    let out = metastable(
        &["run", "retry-storm", "--seed", "18446744073709551616"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--seed"), "{}", stderr(&out));
}

#[test]
fn finding_9_a_seed_axis_is_validated_and_sets_each_points_seed() {
    // Before: accepted, and every point ran the scenario's own seed.
    for (axis, says) in [
        (
            "seed=-1..1:3",
            "--x `seed=-1..1:3`: the low end of the seed axis must be a whole number from 0 to 18446744073709551615 (got `-1`)",
        ),
        ("seed=0..1.5:2", "the high end of the seed axis must be a whole number"),
        (
            "seed=0..18446744073709551616:2",
            "(got `18446744073709551616`)",
        ),
    ] {
        let out = metastable(&["sweep", "retry-storm", "--x", axis], None);
        assert_eq!(out.status.code(), Some(2), "{axis}");
        assert!(stderr(&out).contains(says), "{axis}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    let rows = sweep_rows(&[
        "retry-storm",
        "--x",
        "seed=18446744073709551614..18446744073709551615:2",
        "--set",
        "duration_s=80",
    ]);
    assert_eq!(rows.len(), 2);
    for (row, seed) in rows
        .iter()
        .zip(["18446744073709551614", "18446744073709551615"])
    {
        assert_eq!(row["seed"], seed, "the exact seed is in the row");
        let run = summary_of(&["retry-storm", "--seed", seed, "--set", "duration_s=80"]);
        assert_eq!(row["requests"], run["requests"].to_string(), "seed {seed}");
    }
    assert_ne!(rows[0]["requests"], rows[1]["requests"]);
}

#[test]
fn finding_13_a_range_with_non_finite_points_is_refused() {
    // Before: the middle point was NaN.
    let out = metastable(
        &["sweep", "retry-storm", "--x", "users.rate=-1e308..1e308:3"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--x `users.rate=-1e308..1e308:3`: the range is too wide"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// Peak memory of a command that reads no more than the 4 MiB it is allowed, with the
/// binary's own size and a debug build's allocator slack: far below what reading the
/// inputs below would take.
const SMALL_RSS_MIB: f64 = 32.0;

#[test]
fn finding_10_dev_zero_is_refused_unread() {
    // Before: `run /dev/zero` read until it had 2 GB.
    let m = measured(&["run", "/dev/zero"], None, &[]);
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    assert!(
        stderr(&m.out).starts_with(
            "error: /dev/zero holds more than 4 MiB (4194304 bytes), the most a scenario may be, so it was not read further"
        ),
        "{}",
        stderr(&m.out)
    );
    assert!(m.peak_rss_mib < SMALL_RSS_MIB, "{} MiB", m.peak_rss_mib);
    assert!(m.wall_s < 10.0, "{} s", m.wall_s);
}

/// A scenario document of `blocks` server blocks behind one client: valid JSON, about 90
/// bytes a block.
fn many_blocks(blocks: usize) -> Vec<u8> {
    let mut text = String::from(
        r#"{"version": 1, "name": "many", "duration_s": 10, "blocks": [{"id": "users", "kind": "client", "rate": 1, "to": "s0"}"#,
    );
    for i in 0..blocks {
        text.push_str(&format!(
            r#", {{"id": "s{i}", "kind": "server", "workers": 1, "service": {{"mean_s": 0.1}}}}"#
        ));
    }
    text.push_str("]}");
    text.into_bytes()
}

#[test]
fn finding_10_a_file_over_the_limit_is_refused_unread() {
    // Before: a 91 MB file of 10^6 blocks took 1.77 GB. This one is 30 MB.
    let bytes = many_blocks(400_000);
    let size = bytes.len();
    assert!(size > 24 << 20, "{size}");
    let file = TempFile::new("many-blocks.json", &bytes);
    for command in ["run", "validate", "url", "fluid"] {
        let m = measured(&[command, file.path()], None, &[]);
        assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
        let says = format!(
            "({size} bytes); a scenario file may be at most 4 MiB (4194304 bytes), so it was not read"
        );
        assert!(stderr(&m.out).contains(&says), "{}", stderr(&m.out));
        assert!(
            m.peak_rss_mib < SMALL_RSS_MIB,
            "{command}: {} MiB",
            m.peak_rss_mib
        );
        assert!(m.wall_s < 5.0, "{} s", m.wall_s);
    }
    // Just under the limit is read (and then judged: too many blocks).
    let under = many_blocks(40_000);
    assert!(under.len() < 4 << 20);
    let file = TempFile::new("under.json", &under);
    let out = metastable(&["validate", file.path()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a valid scenario"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn finding_10_standard_input_over_the_limit_is_refused() {
    let m = measured(&["run", "-"], Some(many_blocks(100_000)), &[]);
    assert_eq!(m.out.status.code(), Some(2));
    assert!(
        stderr(&m.out).starts_with("error: standard input holds more than 4 MiB (4194304 bytes)"),
        "{}",
        stderr(&m.out)
    );
    assert!(m.peak_rss_mib < SMALL_RSS_MIB, "{} MiB", m.peak_rss_mib);
}

#[test]
fn finding_10_a_link_longer_than_a_link_can_be_is_refused_undecoded() {
    let link = format!("https://metastable.example/?s=1.{}", "A".repeat(100_000));
    for command in ["run", "validate", "url"] {
        let out = metastable(&[command, &link], None);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).starts_with("error: this link is too long (100032 characters; a link holds at most 65536 characters of scenario), so it was not decoded"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn finding_11_url_refuses_what_run_refuses() {
    // Before: `url` printed a 3,032-character link for a 2 MB name, which `run LINK` and the
    // playground refuse (its JSON is over the 1 MiB a link may inflate to).
    let mut doc: serde_json::Value = serde_json::from_str(SMALL).unwrap();
    doc["name"] = "n".repeat(2_000_000).into();
    let file = TempFile::new("long-name.json", doc.to_string().as_bytes());
    let out = metastable(&["url", file.path()], None);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out).len());
    assert!(
        stderr(&out).starts_with("error: this scenario is too large for a link: its JSON is 2000"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    // A scenario whose start does not fit the state limit: `validate` and `url` say so as
    // `run` does (before: `validate` said it was fine, and `url` printed its link).
    let closed = [
        "closed-loop",
        "--set",
        "users.users=1000000",
        "--max-state-mib",
        "16",
    ];
    let mut messages = Vec::new();
    for command in ["run", "validate", "url"] {
        let mut all = vec![command];
        all.extend(closed);
        let out = metastable(&all, None);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stdout(&out));
        assert!(
            stderr(&out).starts_with("error: preset closed-loop cannot run within the limits:\nblock \"users\", field `users`"),
            "{command}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
        messages.push(stderr(&out));
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");

    // An invalid scenario: the same message from both.
    let bad = SMALL.replace("\"workers\": 2", "\"workers\": 0");
    let run = metastable(&["run", "-"], Some(&bad));
    let url = metastable(&["url", "-"], Some(&bad));
    assert_eq!(url.status.code(), Some(2));
    assert_eq!(stderr(&run), stderr(&url));

    // And every link `url` prints opens: each preset's, run through the link.
    for preset in sim_core::presets::ALL {
        let link = url_of(&[preset.name]);
        let out = metastable(&["validate", &link], None);
        assert!(out.status.success(), "{}: {}", preset.name, stderr(&out));
    }
}

#[test]
fn finding_13_escape_codes_in_ids_are_escaped() {
    // Before: the escape sequences reached the terminal as they were.
    let hostile = SMALL
        .replace("\"id\": \"api\"", "\"id\": \"api\\u001b[2J\\u0007\"")
        .replace(
            "\"name\": \"small\"",
            "\"name\": \"sm\\u001b]0;owned\\u0007all\\u202e\"",
        );
    let out = metastable(&["validate", "-"], Some(&hostile));
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    // The core escapes the ids it quotes (`\u{1b}`); whatever else is left, the command
    // escapes (`\x1b`).
    assert!(
        text.contains("api\\x1b[2J\\x07") || text.contains("api\\u{1b}[2J\\u{7}"),
        "{text}"
    );
    assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");

    // A valid scenario whose name has them: `validate` prints the name escaped.
    let named = SMALL.replace(
        "\"name\": \"small\"",
        "\"name\": \"sm\\u001b]0;owned\\u0007all\\u202e\"",
    );
    let out = metastable(&["validate", "-"], Some(&named));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: \"sm\\x1b]0;owned\\x07all\\u{202e}\" (2 blocks"),
        "{}",
        stdout(&out)
    );
    // An argument that is neither file nor preset is echoed escaped too.
    let out = metastable(&["run", "no\u{1b}[31mthing"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: no\\x1b[31mthing: no such file or preset"),
        "{:?}",
        stderr(&out)
    );
}

#[test]
fn finding_13_s_link_form() {
    // Before: `s=…` was read as a file name ("no such file or preset").
    let url = url_of(&["retry-storm"]);
    let payload = url.split_once("?s=").unwrap().1.to_string();
    let direct = metastable(&["run", "retry-storm", "--summary"], None);
    let expected = stdout(&direct);
    let verdict = |text: &str| text.lines().next().map(String::from);
    // Every form docs/share-url.md accepts.
    for form in [
        format!("s={payload}"),
        format!("  s={payload}\n"),
        format!("?s={payload}"),
        format!("#s={payload}"),
        format!("#/route?s={payload}"),
        format!("https://metastable.example/?embed&charts=goodput&s={payload}&knobs"),
        format!("https://metastable.example/#s={payload}"),
        format!("https://metastable.example/#/route?s={payload}"),
        format!("https://example.org/blog/metastable/?s={payload}"),
        format!("metastable.example/?s={payload}"),
        format!(" {payload} "),
    ] {
        let out = metastable(&["run", &form, "--summary"], None);
        assert!(out.status.success(), "{form:?}: {}", stderr(&out));
        assert_eq!(verdict(&stdout(&out)), verdict(&expected), "{form:?}");
        let counts = |t: &str| {
            let v: serde_json::Value = serde_json::from_str(t).unwrap();
            (v["requests"].clone(), v["events"].clone())
        };
        assert_eq!(counts(&stdout(&out)), counts(&expected), "{form:?}");
    }
}

/// A scenario whose queue grows without end (20,000 requests/s at one worker): each run
/// stops when its state reaches its share of the budget.
const GROWING: &str = r#"{"version": 1, "name": "grow", "seed": 1, "duration_s": 100000,
  "bucket_s": 10, "blocks": [
    {"id": "users", "kind": "client", "rate": 20000, "timeout_s": 1000000, "to": "api"},
    {"id": "api", "kind": "server", "workers": 1, "service": {"mean_s": 1}}]}"#;

#[test]
fn finding_8_sweep_threads_share_one_budget() {
    // Before: each of the threads' runs had the whole budget (1 GiB each: 1.6 GB for a
    // sweep of this scenario on 2 threads). Now 4 threads share 64 MiB.
    let file = TempFile::new("growing.json", GROWING.as_bytes());
    for args in [
        vec!["sweep", file.path(), "--x", "users.rate=20000..20003:4"],
        // A shard's threads share its budget the same way.
        vec![
            "sweep",
            file.path(),
            "--x",
            "users.rate=20000..20007:8",
            "--shard",
            "2/2",
        ],
        vec![
            "tip",
            file.path(),
            "--load",
            "users.rate=20000..20003:4",
            "--trigger",
            "duration_s=99999..100000",
            "--seeds",
            "2",
        ],
    ] {
        let mut all = args.clone();
        all.extend(["--max-state-mib", "64"]);
        let m = measured(&all, None, &[("RAYON_NUM_THREADS", "4")]);
        assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
        assert!(
            stderr(&m.out).contains("the simulation state grew past 16 MiB")
                && stderr(&m.out).contains(
                    "(the state budget of 64 MiB is shared: each of the 4 threads' runs has 16 MiB of it)"
                ),
            "{}",
            stderr(&m.out)
        );
        // 4 runs of 16 MiB, the binary and the slack of the state's estimate.
        assert!(
            m.peak_rss_mib < 64.0 + 32.0,
            "{all:?}: {} MiB",
            m.peak_rss_mib
        );
    }
    // A sweep that fits says how the budget was shared.
    let out = Command::new(env!("CARGO_BIN_EXE_metastable"))
        .args(["sweep", "retry-storm", "--x", "users.rate=50..60:2"])
        .args([
            "--set",
            "duration_s=30",
            "--max-state-mib",
            "64",
            "--max-work",
            "1000000",
        ])
        .env("RAYON_NUM_THREADS", "4")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("on 4 threads (16 MiB of state and 1000000 units of work per run)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn large_sweeps_are_refused_unless_asked() {
    // Before: a 10^4-point × 1,000-seed sweep was accepted, and printed nothing for hours.
    // This one is 10,100 runs of 1 s: the old command ran them all.
    let out = metastable(
        &[
            "sweep",
            "retry-storm",
            "--x",
            "users.rate=1..100:100",
            "--seeds",
            "101",
            "--set",
            "duration_s=1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: the grid has 100 points × 101 seeds = 10100 runs, more than 10000, the most one command makes unless asked: use a smaller grid or fewer seeds, or --max-points 10100 to run them all"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // `--max-points` moves the limit either way.
    let small = [
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=50..60:2",
        "--seeds",
        "3",
        "--set",
        "duration_s=10",
    ];
    let mut over = small.to_vec();
    over.extend(["--max-points", "5"]);
    let out = metastable(&over, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("= 6 runs, more than 5"),
        "{}",
        stderr(&out)
    );
    let mut enough = small.to_vec();
    enough.extend(["--max-points", "6"]);
    assert!(metastable(&enough, None).status.success());
    // A tipping search counts its most runs: loads × seeds × (steps + 2).
    let out = metastable(
        &[
            "tip",
            "retry-storm",
            "--load",
            "users.rate=40..100:1000",
            "--trigger",
            "triggers.0.factor=1..5",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "the search may make 1000 loads × 3 seeds × (6 halvings + 2 ends) = 24000 runs, more than 10000"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn large_sweeps_stream_their_rows_in_grid_order() {
    // The rows of the points before a failing one are out before the error (before: the
    // whole grid was collected first, and a failure printed no row at all).
    let out = metastable(
        &[
            "sweep",
            "-",
            "--x",
            "users.rate=10..1000:5",
            "--max-work",
            "30000",
        ],
        Some(SMALL),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty() && rows.len() < 5, "{text}");
    assert!(rows[0].starts_with("10,1,stable,"), "{text}");
    let failed_at = ["10", "257.5", "505", "752.5", "1000"][rows.len()];
    assert!(
        stderr(&out).starts_with(&format!("error: at users.rate = {failed_at}, seed 3: ")),
        "{}",
        stderr(&out)
    );
}

// The engine's findings (1–5), through the command: the process's peak memory and time on
// the inputs of `sim_core::hostile`, which the core's own tests (`tests/it/hostile.rs`)
// check from inside.

#[test]
fn finding_1_fan_out_stays_within_the_state_limit() {
    // 998 retry layers of 2 attempts. Before: 2.8 GB and an abort at the default limit, 273
    // MiB at --max-state-mib 64.
    let file = TempFile::new(
        "retry-chain.json",
        sim_core::hostile::retry_chain(998, 2).as_bytes(),
    );
    let m = measured(
        &["run", file.path(), "--summary", "--max-state-mib", "64"],
        None,
        &[],
    );
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    assert!(
        stderr(&m.out).contains("the simulation state grew past 64 MiB"),
        "{}",
        stderr(&m.out)
    );
    assert!(m.peak_rss_mib < 64.0 + 32.0, "{} MiB", m.peak_rss_mib);
    eprintln!(
        "finding 1: peak {:.0} MiB in {:.2} s",
        m.peak_rss_mib, m.wall_s
    );
}

#[test]
fn finding_2_construction_is_refused_before_it_allocates() {
    // 100 closed-loop clients of 10⁶ users. Before: an abort at 2.1 GB while building, and
    // `validate` said the file was fine.
    let file = TempFile::new(
        "users.json",
        sim_core::hostile::closed_clients(100, 1_000_000).as_bytes(),
    );
    for command in ["run", "validate"] {
        let m = measured(&[command, file.path()], None, &[]);
        assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
        let says = "block \"c0\", field `users`: 100,000,000 users in all (1,000,000 here) need";
        assert!(
            stderr(&m.out).contains(says),
            "{command}: {}",
            stderr(&m.out)
        );
        assert!(
            m.peak_rss_mib < SMALL_RSS_MIB,
            "{command}: {} MiB",
            m.peak_rss_mib
        );
        eprintln!("finding 2 ({command}): peak {:.0} MiB", m.peak_rss_mib);
    }
}

#[test]
fn finding_3_stored_rows_are_within_the_state_limit() {
    // 300 servers × 200,000 rows. Before: 2.79 GB at a 1 GiB limit.
    let file = TempFile::new(
        "rows.json",
        sim_core::hostile::many_rows(300, 200_000).as_bytes(),
    );
    let m = measured(&["run", file.path(), "--summary"], None, &[]);
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    assert!(
        stderr(&m.out).contains("field `bucket_s`: 200,000 metric rows of 915 columns need"),
        "{}",
        stderr(&m.out)
    );
    assert!(m.peak_rss_mib < SMALL_RSS_MIB, "{} MiB", m.peak_rss_mib);
    // Rows that fit are stored, and counted: 30 servers × 20,000 rows (about 25 MiB).
    let file = TempFile::new(
        "rows.json",
        sim_core::hostile::many_rows(30, 20_000).as_bytes(),
    );
    let m = measured(
        &["run", file.path(), "--summary", "--max-state-mib", "64"],
        None,
        &[],
    );
    assert!(m.out.status.success(), "{}", stderr(&m.out));
    assert!(m.peak_rss_mib < 64.0 + 32.0, "{} MiB", m.peak_rss_mib);
    eprintln!(
        "finding 3: 20,000 rows of 104 columns, peak {:.0} MiB",
        m.peak_rss_mib
    );
}

#[test]
fn finding_4_a_run_ends_within_its_work_budget() {
    // 498 least-outstanding balancers, each listing the next 1,000 times. Before: 3,800
    // events/s, about 73 hours to the event limit.
    let file = TempFile::new(
        "balancers.json",
        sim_core::hostile::balancer_chain(498, 1000, "least_outstanding", 100.0).as_bytes(),
    );
    let m = measured(
        &["run", file.path(), "--summary", "--max-work", "100000000"],
        None,
        &[],
    );
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    let says = "it used its budget of work, 100000000 units (events, calls delivered, balancer scans; raise it with --max-work)";
    assert!(stderr(&m.out).contains(says), "{}", stderr(&m.out));
    // The 498,000 ids of the 3 MB file, held as text, document and scenario: no state grows.
    assert!(m.peak_rss_mib < 128.0, "{} MiB", m.peak_rss_mib);
    eprintln!(
        "finding 4: 10⁸ units of work in {:.2} s ({:.0} million a second), peak {:.0} MiB",
        m.wall_s,
        100.0 / m.wall_s,
        m.peak_rss_mib
    );
}

#[test]
fn finding_5_a_long_list_and_a_forged_link_are_refused_in_milliseconds() {
    // A balancer listing one block 600,000 times (a 3.6 MB file): before, validation was
    // quadratic (10⁶ entries did not finish in 60 s).
    let file = TempFile::new(
        "list.json",
        sim_core::hostile::long_to_list(600_000).as_bytes(),
    );
    let m = measured(&["validate", file.path()], None, &[]);
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    assert!(
        stderr(&m.out).contains("blocks[1], field `to`: lists more than 1000 entries"),
        "{}",
        stderr(&m.out)
    );
    assert!(m.wall_s < 2.0, "{} s", m.wall_s);
    // The forged link of 1,6xx characters that took 27 s to refuse.
    let mut doc: serde_json::Value =
        serde_json::from_str(&sim_core::hostile::long_to_list(262_000)).unwrap();
    doc["blocks"][1]["to"] = serde_json::json!(vec!["a"; 262_000]);
    doc["blocks"][2]["id"] = serde_json::json!("a");
    let link = sim_core::share::encode_doc(&doc);
    let m = measured(&["run", &link], None, &[]);
    assert_eq!(m.out.status.code(), Some(2), "{}", stderr(&m.out));
    assert!(
        stderr(&m.out).contains("more than 1000 entries"),
        "{}",
        stderr(&m.out)
    );
    assert!(m.wall_s < 1.0, "{} s", m.wall_s);
    eprintln!(
        "finding 5: a {}-character forged link refused in {:.0} ms, peak {:.0} MiB",
        link.len(),
        m.wall_s * 1e3,
        m.peak_rss_mib
    );
}

// ---------------------------------------------------------------------------------------
// Past one machine (SPEC §9, issue 14): `--shard I/N` and `merge`.

/// A directory in the temporary directory, removed with what is in it when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("metastable-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&path).ok();
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// GNU parallel, which `scripts/setup.sh` installs; its absence fails the test, saying so.
fn gnu_parallel() -> Command {
    let found = Command::new("parallel")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && stdout(&o).starts_with("GNU parallel"));
    assert!(
        found,
        "GNU parallel is not installed: run scripts/setup.sh (it installs Debian's `parallel`), \
         which the sharded-sweep tests run the shards under"
    );
    let mut parallel = Command::new("parallel");
    parallel
        .args(["--will-cite", "--halt", "now,fail=1", "-j", "3"])
        // The shards run side by side: one thread each.
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null());
    parallel
}

/// The whole command's standard output (and its plot, when `plot` names a file).
fn whole(args: &[&str]) -> Vec<u8> {
    let out = metastable(args, None);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

/// `metastable merge` of these arguments: its standard output, checked to be a success.
fn merged(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let mut all = vec!["merge"];
    all.extend_from_slice(args);
    let out = metastable(&all, stdin.map(|s| std::str::from_utf8(s).unwrap()));
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    out.stdout
}

#[test]
fn sharded_sweeps_under_gnu_parallel_merge_into_the_whole_sweeps_bytes() {
    let started = std::time::Instant::now();
    let dir = TempDir::new("shards");
    let bin = env!("CARGO_BIN_EXE_metastable");

    // One axis, one seed: three shards written to files by parallel, merged from the files.
    let line = [
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=40..100:7",
        "--set",
        "duration_s=150",
    ];
    let mut shards = line.to_vec();
    let target = dir.file("line-{}.csv");
    shards.extend(["--shard", "{}/3", ">", &target, ":::", "1", "2", "3"]);
    let out = gnu_parallel().arg(bin).args(&shards).output().unwrap();
    assert!(out.status.success(), "parallel: {}", stderr(&out));
    let files: Vec<String> = [3, 1, 2]
        .iter()
        .map(|i| dir.file(&format!("line-{i}.csv")))
        .collect();
    let first = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        first.starts_with("# metastable-shard format=1 kind=sweep shard=1/3 grid=7 seeds=1 id="),
        "{first}"
    );
    let rows: Vec<&str> = first
        .lines()
        .skip(2)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, ["0", "3", "6"], "shard 1/3 of 7 points: every third");
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let whole_line = whole(&line);
    assert_eq!(
        String::from_utf8_lossy(&merged(&files, None)),
        String::from_utf8_lossy(&whole_line)
    );
    assert_eq!(whole_line.iter().filter(|&&b| b == b'\n').count(), 1 + 7);

    // Two axes, two seeds: parallel's grouped output piped into `merge -`, and the figures.
    let grid = [
        "sweep",
        "retry-storm",
        "--x",
        "triggers.0.factor=1..3:4",
        "--y",
        "users.rate=50..90:3",
        "--seeds",
        "2",
        "--set",
        "duration_s=120",
    ];
    let mut shards = grid.to_vec();
    shards.extend(["--shard", "{}/3", ":::", "1", "2", "3"]);
    let out = gnu_parallel().arg(bin).args(&shards).output().unwrap();
    assert!(out.status.success(), "parallel: {}", stderr(&out));
    assert_eq!(stdout(&out).matches("# metastable-shard").count(), 3);
    let (whole_svg, merged_svg) = (dir.file("whole.svg"), dir.file("merged.svg"));
    let mut with_plot = grid.to_vec();
    with_plot.extend(["--plot", &whole_svg]);
    let whole_grid = whole(&with_plot);
    let merged_grid = merged(&["-", "--plot", &merged_svg], Some(&out.stdout));
    assert_eq!(
        String::from_utf8_lossy(&merged_grid),
        String::from_utf8_lossy(&whole_grid)
    );
    assert_eq!(whole_grid.iter().filter(|&&b| b == b'\n').count(), 1 + 12);
    assert!(
        std::fs::read(&merged_svg).unwrap() == std::fs::read(&whole_svg).unwrap(),
        "merge --plot draws the sweep's own phase diagram"
    );

    // A tipping search, per load.
    let tip = [
        "tip",
        "retry-storm",
        "--load",
        "users.rate=50..90:5",
        "--trigger",
        "triggers.0.factor=1..4",
        "--seeds",
        "1",
        "--steps",
        "3",
        "--set",
        "duration_s=150",
    ];
    let mut shards = tip.to_vec();
    shards.extend(["--shard", "{}/2", ":::", "1", "2"]);
    let out = gnu_parallel().arg(bin).args(&shards).output().unwrap();
    assert!(out.status.success(), "parallel: {}", stderr(&out));
    let mut with_plot = tip.to_vec();
    with_plot.extend(["--plot", &whole_svg]);
    let whole_tip = whole(&with_plot);
    let merged_tip = merged(&["-", "--plot", &merged_svg], Some(&out.stdout));
    assert_eq!(
        String::from_utf8_lossy(&merged_tip),
        String::from_utf8_lossy(&whole_tip)
    );
    assert!(std::fs::read(&merged_svg).unwrap() == std::fs::read(&whole_svg).unwrap());
    eprintln!(
        "sharded sweeps and search under GNU parallel, merged and compared: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn merge_refuses_what_is_not_one_whole_set_of_shards_naming_the_file() {
    let dir = TempDir::new("merge-refusals");
    let sweep = [
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=50..90:3",
        "--y",
        "triggers.0.factor=1..2:2",
        "--seeds",
        "2",
        "--set",
        "duration_s=60",
    ];
    let shard = |spec: &str, extra: &[&str], name: &str| -> String {
        let mut args = sweep.to_vec();
        args.extend(["--shard", spec]);
        args.extend_from_slice(extra);
        let path = dir.file(name);
        std::fs::write(&path, whole(&args)).unwrap();
        path
    };
    let one = shard("1/3", &[], "one.csv");
    let two = shard("2/3", &[], "two.csv");
    let three = shard("3/3", &[], "three.csv");
    let other = shard("2/3", &["--set", "api.workers=9"], "other.csv");
    let half = shard("1/2", &[], "half.csv");
    let text = std::fs::read_to_string(&two).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 2,
        "shard 2/3 of a 3 × 2 grid: two points\n{text}"
    );
    let write = |name: &str, text: &str| -> String {
        let path = dir.file(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cut_row = write("cut-row.csv", &text[..text.len() - 10]);
    let cut_short = write("cut-short.csv", &format!("{}\n", lines[..3].join("\n")));
    let twice = write(
        "twice.csv",
        &format!("{}\n{}\n", lines.join("\n"), lines[3]),
    );
    let stray_row = lines[2].replacen(lines[2].split(',').next().unwrap(), "0", 1);
    let stray = write(
        "stray.csv",
        &format!("{}\n{stray_row}\n{}\n", lines[..2].join("\n"), lines[3]),
    );
    let whole_sweep = write("whole.csv", std::str::from_utf8(&whole(&sweep)).unwrap());
    let refuse = |args: &[&str], says: &str| {
        let mut all = vec!["merge"];
        all.extend_from_slice(args);
        let out = metastable(&all, None);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{all:?}: nothing is printed");
        assert!(
            stderr(&out).contains(says),
            "{all:?}: expected {says:?} in\n{}",
            stderr(&out)
        );
    };
    refuse(
        &[&one, &three],
        &format!("error: shard 2/3 is missing: merge needs all 3 shards of the sweep (given: 1/3 from {one}, 3/3 from {three})"),
    );
    refuse(
        &[&one, &other, &three],
        &format!("error: {other} is a shard of another sweep than {one} (sweep "),
    );
    refuse(
        &[&one, &two, &three, &two],
        &format!("error: {two} and {two} are both shard 2/3: each shard must be given once"),
    );
    refuse(
        &[&one, &half, &three],
        &format!(
            "error: {one} is shard 1/3 and {half} is shard 1/2: the shards of one split merge"
        ),
    );
    refuse(
        &[&one, &cut_row, &three],
        &format!("error: {cut_row} ends in the middle of line 4: it was cut short"),
    );
    refuse(
        &[&one, &cut_short, &three],
        &format!("error: {cut_short} (shard 2/3) has 1 of its 2 points (point "),
    );
    refuse(
        &[&one, &twice, &three],
        &format!("error: {twice}, line 5: point "),
    );
    refuse(
        &[&one, &stray, &three],
        &format!(
            "error: {stray}, line 3: point 0 is not one of shard 2/3's points (it is shard 1/3's)"
        ),
    );
    refuse(
        &[&whole_sweep],
        &format!(
            "error: {whole_sweep} is not a shard: its first line is not `# metastable-shard …`"
        ),
    );
    refuse(&["-", "-"], "`-` (standard input) is given more than once");
    // The same set, whole, in any order and as one stream on standard input.
    let expected = whole(&sweep);
    assert!(merged(&[&three, &one, &two], None) == expected);
    let stream: String = [&two, &three, &one]
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(merged(&["-"], Some(stream.as_bytes())) == expected);
    if let Some(full) = dev_full() {
        let out = with_outputs(&["merge", &one, &two, &three], full, Stdio::piped());
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("writing to standard output"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_malformed_shard_or_a_shard_with_plot_exits_2_naming_the_flag() {
    for (spec, says) in [
        (
            "0/3",
            "the shard number must be 1 to 3 (got 0; shards are counted from 1)",
        ),
        ("4/3", "the shard number must be 1 to 3 (got 4;"),
        ("1/0", "the number of shards must be 1 to 10000 (got 0)"),
        ("3", "expected I/N, e.g. 2/3"),
    ] {
        for command in [
            &["sweep", "retry-storm", "--x", "users.rate=50..90:3"][..],
            &[
                "tip",
                "retry-storm",
                "--load",
                "users.rate=50..90:3",
                "--trigger",
                "triggers.0.factor=1..3",
            ],
        ] {
            let mut all = command.to_vec();
            all.extend(["--shard", spec]);
            let out = metastable(&all, None);
            assert_eq!(out.status.code(), Some(2), "{all:?}");
            let message = stderr(&out);
            assert!(
                message.contains(&format!(
                    "invalid value '{spec}' for '--shard <I/N>': {says}"
                )),
                "{all:?}: {message}"
            );
        }
    }
    let out = metastable(
        &[
            "sweep",
            "retry-storm",
            "--x",
            "users.rate=50..90:3",
            "--shard",
            "1/2",
            "--plot",
            "p.svg",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--plot draws the whole grid, and shard 1/2 computes a part of it: draw it when the shards are merged (`metastable merge SHARDS… --plot p.svg`)"),
        "{}",
        stderr(&out)
    );
    assert!(!std::path::Path::new("p.svg").exists());
}

#[test]
fn a_shard_counts_its_own_runs_against_max_points() {
    let sweep = [
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=1..100:100",
        "--seeds",
        "3",
        "--set",
        "duration_s=1",
    ];
    let mut all = sweep.to_vec();
    all.extend(["--max-points", "150"]);
    let out = metastable(&all, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the grid has 100 points × 3 seeds = 300 runs, more than 150"));
    let mut third = sweep.to_vec();
    third.extend(["--shard", "1/3", "--max-points", "100"]);
    let out = metastable(&third, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "error: shard 1/3 has 34 of the grid's 100 points × 3 seeds = 102 runs, more than 100"
        ),
        "{}",
        stderr(&out)
    );
    let mut half = sweep.to_vec();
    half.extend(["--shard", "2/2", "--max-points", "150"]);
    let out = metastable(&half, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2 + 50);
    assert!(
        stderr(&out).contains("shard 2/2: 50 points × 3 seeds = 150 runs"),
        "{}",
        stderr(&out)
    );
    // More shards than points: the empty ones still merge.
    let dir = TempDir::new("empty-shards");
    let tiny = [
        "sweep",
        "retry-storm",
        "--x",
        "users.rate=50..60:2",
        "--set",
        "duration_s=20",
    ];
    let files: Vec<String> = (1..=4)
        .map(|i| {
            let mut args = tiny.to_vec();
            let spec = format!("{i}/4");
            args.extend(["--shard", &spec]);
            let path = dir.file(&format!("{i}.csv"));
            std::fs::write(&path, whole(&args)).unwrap();
            path
        })
        .collect();
    assert_eq!(
        std::fs::read_to_string(&files[3]).unwrap().lines().count(),
        2
    );
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    assert!(merged(&files, None) == whole(&tiny));
}

/// `metastable fix … --format json`: the ranked rows.
fn fix_ranking(args: &[&str]) -> (String, Vec<serde_json::Value>) {
    let mut all = vec!["fix"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = metastable(&all, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = report["ranking"].as_array().unwrap().clone();
    (text, rows)
}

#[test]
fn fix_ranks_the_fixes_of_the_retry_storm_the_same_way_every_time() {
    let (text, rows) = fix_ranking(&["retry-storm", "--seeds", "3"]);
    let (again, _) = fix_ranking(&["retry-storm", "--seeds", "3"]);
    assert_eq!(
        text, again,
        "the same scenario and seeds give the same bytes"
    );
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    // Every fix but fill-late (no cache), and the original.
    assert_eq!(names.len(), 14, "{names:?}");
    for name in [
        "original",
        "no-retries",
        "retry-budget",
        "breaker",
        "more-workers",
    ] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    assert!(!names.contains(&"fill-late"));
    let ranks: Vec<u64> = rows.iter().map(|r| r["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, (1..=14).collect::<Vec<u64>>());
    let recovered = |name: &str| {
        let row = rows.iter().find(|r| r["name"] == name).unwrap();
        row["aggregate"]["recovered"].as_u64().unwrap()
    };
    assert_eq!(recovered("original"), 0);
    assert_eq!(recovered("more-workers"), 0);
    let all_seeds = rows
        .iter()
        .take_while(|r| r["aggregate"]["recovered"] == 3)
        .count();
    assert!(all_seeds >= 3, "{text}");
    // Every fix that recovered on every seed ranks above the original.
    let original = names.iter().position(|n| *n == "original").unwrap();
    assert!(original >= all_seeds);
    assert_eq!(
        rows[0]["aggregate"]["seeds"], 3,
        "the aggregate says how many seeds"
    );
}

#[test]
fn fix_prints_a_table_with_the_original_for_reference() {
    let out = metastable(&["fix", "retry-storm", "--seeds", "2"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // A title, the header and one row per fix and the original.
    assert_eq!(lines.len(), 2 + 14, "{text}");
    assert!(lines[0].starts_with("Retry storm: 13 fixes and the original, seeds 7–8"));
    assert!(lines[1].starts_with("#") && lines[1].contains("recovered"));
    let original = lines.iter().find(|l| l.contains(" original ")).unwrap();
    assert!(
        original.contains("0/2") && original.contains("never"),
        "{original}"
    );
    let budget = lines.iter().find(|l| l.contains(" retry-budget ")).unwrap();
    assert!(
        budget.contains("2/2") && budget.contains("retries.budget = {max_tokens 10, ratio 0.1}"),
        "{budget}"
    );
    assert!(
        stderr(&out).contains("13 fixes and the original × 2 seeds = 28 runs"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fix_emit_prints_a_scenario_that_runs_and_recovers() {
    let out = metastable(&["fix", "retry-storm", "--emit", "adaptive-limiter"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let emitted = stdout(&out);
    let doc: serde_json::Value = serde_json::from_str(&emitted).unwrap();
    assert_eq!(
        doc["name"],
        "Retry storm with an adaptive concurrency limiter"
    );
    assert_eq!(doc["blocks"][1]["to"], "api-limiter");
    let run = metastable(&["run", "-", "--summary"], Some(&emitted));
    assert!(run.status.success(), "{}", stderr(&run));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(summary["verdict"], "recovered");
    // The seed and the edits given to `fix` are in the emitted scenario.
    let out = metastable(
        &[
            "fix",
            "retry-storm",
            "--seed",
            "11",
            "--set",
            "api.workers=20",
            "--emit",
            "more-workers",
        ],
        None,
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["seed"], 11);
    assert_eq!(doc["blocks"][2]["workers"], 25);
}

#[test]
fn fix_emit_of_a_fix_that_does_not_apply_exits_2_naming_those_that_do() {
    let out = metastable(&["fix", "retry-storm", "--emit", "fill-late"], None);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("fill-late does not apply")
            && message.contains("caches with fill_late false")
            && message.contains("no-retries, retry-budget"),
        "{message}"
    );
    assert!(stdout(&out).is_empty());
    let out = metastable(&["fix", "retry-storm", "--emit", "more-cowbell"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no fix has that name; the fixes that apply: no-retries"),
        "{}",
        stderr(&out)
    );
    let out = metastable(&["fix", "retry-storm", "--seeds", "0"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--seeds must be 1 to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fix_offers_no_retry_fixes_without_retries_and_prints_csv() {
    let out = metastable(
        &["fix", "stale-queue", "--seeds", "1", "--format", "csv"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("rank,name,recovered,seeds,goodput_after,"),
        "{header}"
    );
    let names: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert!(names.contains(&"original") && names.contains(&"lifo-drop-expired"));
    for retry_fix in [
        "no-retries",
        "retry-budget",
        "deadline-aware",
        "backoff-jitter",
    ] {
        assert!(!names.contains(&retry_fix), "{names:?}");
    }
}
