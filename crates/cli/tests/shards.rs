//! Past one machine for `fix`, `hysteresis` and `run --seeds` (SPEC §9, docs/distributed.md):
//! `--shard I/N` runs a part of the command's units (runs or seeds) and `metastable merge`
//! joins the shards into exactly the bytes the whole command prints.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn metastable(args: &[&str], stdin: Option<&[u8]>, threads: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metastable"));
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(threads) = threads {
        command.env("RAYON_NUM_THREADS", threads);
    }
    let mut child = command.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The standard output of a command that succeeds.
fn ok(args: &[&str]) -> Vec<u8> {
    ok_on(args, None)
}

fn ok_on(args: &[&str], threads: Option<&str>) -> Vec<u8> {
    let out = metastable(args, None, threads);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

/// Shard `i` of `n` of a command.
fn shard(command: &[&str], i: u32, n: u32) -> Vec<u8> {
    let spec = format!("{i}/{n}");
    let mut args = command.to_vec();
    args.extend(["--shard", &spec]);
    ok(&args)
}

/// A directory in the temporary directory, removed with what is in it when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("metastable-shards-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&path).ok();
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }

    /// Writes `bytes` to the file `name`, and gives its path.
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.file(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The shards of `command` in `n` ways written to files (in reverse order, to show that the
/// order does not matter), merged: merge's standard output.
fn merged_from_files(dir: &TempDir, name: &str, command: &[&str], n: u32) -> Vec<u8> {
    let files: Vec<String> = (1..=n)
        .rev()
        .map(|i| dir.write(&format!("{name}-{i}.txt"), &shard(command, i, n)))
        .collect();
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    ok(&args)
}

/// GNU parallel, which `scripts/setup.sh` installs; its absence fails the test, saying so.
fn gnu_parallel() -> Command {
    let found = Command::new("parallel")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with("GNU parallel")
        });
    assert!(
        found,
        "GNU parallel is not installed: run scripts/setup.sh (it installs Debian's `parallel`), \
         which the sharded tests run the shards under"
    );
    let mut parallel = Command::new("parallel");
    parallel
        .args(["--will-cite", "--halt", "now,fail=1", "-j", "3"])
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null());
    parallel
}

/// The shards of `command` in `n` ways run under GNU parallel, their output (each shard whole,
/// one after another) piped into `merge -` with `extra` arguments.
fn merged_under_parallel(command: &[&str], n: u32, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![env!("CARGO_BIN_EXE_metastable")];
    args.extend_from_slice(command);
    let spec = format!("{{}}/{n}");
    args.extend(["--shard", &spec, ":::"]);
    let numbers: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    args.extend(numbers.iter().map(String::as_str));
    let out = gnu_parallel().args(&args).output().unwrap();
    assert!(out.status.success(), "parallel: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("# metastable-shard").count(), n as usize);
    let mut merge = vec!["merge", "-"];
    merge.extend_from_slice(extra);
    let out = metastable(&merge, Some(&out.stdout), None);
    assert!(out.status.success(), "merge -: {}", stderr(&out));
    out.stdout
}

fn same(merged: &[u8], whole: &[u8], what: &str) {
    assert!(
        merged == whole,
        "{what}: merged\n{}\nwhole\n{}",
        String::from_utf8_lossy(merged),
        String::from_utf8_lossy(whole)
    );
}

const FIX: [&str; 4] = ["fix", "retry-storm", "--seeds", "3"];

#[test]
fn sharded_fix_rankings_merge_into_the_whole_rankings_bytes() {
    let dir = TempDir::new("fix");
    // The table, the CSV and the JSON, each in three shards written to files.
    for format in ["table", "csv", "json"] {
        let mut command = FIX.to_vec();
        command.extend(["--format", format]);
        let whole = ok(&command);
        same(
            &merged_from_files(&dir, format, &command, 3),
            &whole,
            format,
        );
    }
    // The table in two shards under GNU parallel, piped into `merge -`.
    let whole = ok(&FIX);
    same(&merged_under_parallel(&FIX, 2, &[]), &whole, "parallel");

    // A shard's line, its context and its runs: a grid of seeds × (the original and the fixes),
    // in diagonal stripes.
    let first = String::from_utf8(shard(&FIX, 1, 3)).unwrap();
    let lines: Vec<&str> = first.lines().collect();
    assert!(
        lines[0].starts_with("# metastable-shard format=1 kind=fix shard=1/3 grid=3x"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "point,{\"format\":\"table\",\"name\":\"Retry storm\",\"seed\":7,\"subjects\":[{"
        ),
        "{}",
        lines[1]
    );
    let points: Vec<&str> = lines[2..]
        .iter()
        .take(4)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(points, ["0", "5", "7", "9"], "(seed + subject) mod 3 = 0");
    // The same bytes whatever the number of threads.
    let mut one = FIX.to_vec();
    one.extend(["--shard", "2/3"]);
    assert!(ok_on(&one, Some("1")) == ok_on(&one, Some("2")));
}

const HYSTERESIS: [&str; 6] = [
    "hysteresis",
    "retry-storm",
    "--load",
    "users.rate=10..110:6",
    "--seeds",
    "3",
];

#[test]
fn sharded_hysteresis_experiments_merge_into_the_whole_csv_and_plot() {
    let dir = TempDir::new("hysteresis");
    let (whole_svg, merged_svg) = (dir.file("whole.svg"), dir.file("merged.svg"));
    let mut with_plot = HYSTERESIS.to_vec();
    with_plot.extend(["--plot", &whole_svg]);
    let whole = ok(&with_plot);
    assert_eq!(whole.iter().filter(|&&b| b == b'\n').count(), 1 + 11);
    same(
        &merged_from_files(&dir, "h", &HYSTERESIS, 3),
        &whole,
        "three shards",
    );
    // Two shards under GNU parallel, merged with the plot: the same SVG.
    same(
        &merged_under_parallel(&HYSTERESIS, 2, &["--plot", &merged_svg]),
        &whole,
        "parallel",
    );
    assert!(
        std::fs::read(&merged_svg).unwrap() == std::fs::read(&whole_svg).unwrap(),
        "merge --plot draws the experiment's own plot"
    );
    let first = String::from_utf8(shard(&HYSTERESIS, 2, 2)).unwrap();
    assert!(
        first.starts_with(
            "# metastable-shard format=1 kind=hysteresis shard=2/2 grid=3 seeds=3 id="
        ),
        "{first}"
    );
    assert_eq!(
        first.lines().count(),
        2 + 1,
        "shard 2/2 of 3 seeds has seed 1"
    );
    // A shard draws nothing: the plot is the whole experiment's.
    let mut refused = HYSTERESIS.to_vec();
    refused.extend(["--shard", "1/2", "--plot", &whole_svg]);
    let out = metastable(&refused, None, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("metastable merge SHARDS… --plot"),
        "{}",
        stderr(&out)
    );
    let mut one = HYSTERESIS.to_vec();
    one.extend(["--shard", "1/2"]);
    assert!(ok_on(&one, Some("1")) == ok_on(&one, Some("2")));
}

const RUN: [&str; 4] = ["run", "retry-storm", "--seeds", "5"];

/// The output without its `wall_s` lines: each seed's wall-clock time, which differs from run
/// to run (a merged summary carries each seed's time as measured in its shard).
fn without_wall(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"wall_s\":"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sharded_replications_merge_into_the_whole_runs_bytes() {
    let dir = TempDir::new("run");
    // The summary: its bytes but each seed's wall-clock time.
    let mut summary = RUN.to_vec();
    summary.push("--summary");
    let whole = ok(&summary);
    let merged = merged_from_files(&dir, "summary", &summary, 3);
    assert_eq!(without_wall(&merged), without_wall(&whole));
    assert_eq!(
        String::from_utf8_lossy(&merged)
            .matches("\"wall_s\": ")
            .count(),
        5,
        "every seed's measured time is carried"
    );
    let merged = merged_under_parallel(&summary, 2, &[]);
    assert_eq!(without_wall(&merged), without_wall(&whole));

    // The bands as CSV: every byte. As JSON (which holds the seeds' summaries): all but the
    // seeds' wall-clock times.
    let whole = ok(&RUN);
    same(&merged_from_files(&dir, "csv", &RUN, 2), &whole, "csv");
    same(
        &merged_under_parallel(&RUN, 3, &[]),
        &whole,
        "csv, parallel",
    );
    let mut json = RUN.to_vec();
    json.extend(["--format", "json"]);
    let whole: serde_json::Value = serde_json::from_slice(&ok(&json)).unwrap();
    let merged: serde_json::Value =
        serde_json::from_slice(&merged_from_files(&dir, "json", &json, 2)).unwrap();
    let strip = |mut v: serde_json::Value| {
        for seed in v["seeds"].as_array_mut().unwrap() {
            seed["summary"]["wall_s"] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(strip(merged), strip(whole));

    let first = String::from_utf8(shard(&RUN, 1, 2)).unwrap();
    assert!(
        first.starts_with("# metastable-shard format=1 kind=run shard=1/2 grid=5 seeds=5 id="),
        "{first}"
    );
    assert!(first.lines().nth(1) == Some("point,{\"form\":\"csv\",\"name\":\"Retry storm\"}"));
    let out = metastable(&["run", "retry-storm", "--shard", "1/2"], None, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("splits the seeds of `run --seeds k`"));
}

#[test]
fn merge_refuses_a_missing_or_a_mixed_shard_naming_the_file() {
    let dir = TempDir::new("refusals");
    let merge = |files: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(files);
        let out = metastable(&args, None, None);
        assert_eq!(out.status.code(), Some(2), "{files:?}");
        assert!(out.stdout.is_empty(), "nothing printed before the refusal");
        stderr(&out)
    };
    for (name, command) in [
        ("fix", &FIX[..]),
        ("hysteresis", &HYSTERESIS[..]),
        ("run", &RUN[..]),
    ] {
        let one = dir.write(&format!("{name}-1.txt"), &shard(command, 1, 3));
        let three = dir.write(&format!("{name}-3.txt"), &shard(command, 3, 3));
        let message = merge(&[&one, &three]);
        assert!(
            message.contains("shard 2/3 is missing")
                && message.contains(&format!("1/3 from {one}"))
                && message.contains(&format!("3/3 from {three}")),
            "{message}"
        );
        // Shard 2 of another command line: one more seed.
        let mut other = command.to_vec();
        let seeds = other.iter().position(|a| *a == "--seeds").unwrap() + 1;
        let more = (other[seeds].parse::<u32>().unwrap() + 1).to_string();
        other[seeds] = &more;
        let mixed = dir.write(&format!("{name}-mixed-2.txt"), &shard(&other, 2, 3));
        let message = merge(&[&one, &mixed, &three]);
        assert!(
            message.contains(&format!("{mixed} is a shard of another"))
                && message.contains(&format!("than {one}")),
            "{message}"
        );
    }
    // Shards of two commands.
    let fix = dir.file("fix-1.txt");
    let run = dir.file("run-3.txt");
    let message = merge(&[&fix, &run]);
    assert!(
        message.contains(&format!(
            "{fix} is a shard of `metastable fix` and {run} of `metastable run`"
        )),
        "{message}"
    );
    // A run altered: its figures no longer read.
    let text = std::fs::read_to_string(dir.file("run-1.txt")).unwrap();
    let altered = dir.write(
        "altered.txt",
        text.replacen("\"verdict\":\"", "\"verdict\":\"x", 1)
            .as_bytes(),
    );
    let (two, three) = (
        dir.write("run-2.txt", &shard(&RUN, 2, 3)),
        dir.file("run-3.txt"),
    );
    let message = merge(&[&altered, &two, &three]);
    assert!(
        message.contains(&format!("{altered}, line 3: a damaged row")),
        "{message}"
    );
}
