//! Hostile input (issue 12, SPEC §10): each test is named after a finding and reproduces its
//! input; the command line's tests (`crates/cli/tests/hostile.rs`) measure the process's peak
//! memory on the same inputs.

use crate::assert_conserved;
use serde_json::Value;
use sim_core::{hostile, set_path, Budget, Limits, Scenario, Sim};
use std::time::Instant;

fn scenario(json: &str) -> Scenario {
    Scenario::from_json(json).unwrap_or_else(|e| panic!("{e}"))
}

const MIB: u64 = 1 << 20;

/// Runs to the end or a limit; returns the sim and the largest state it was seen to hold.
fn run(scenario: &Scenario, limits: Limits) -> Sim {
    let mut sim = Sim::with_limits(scenario, limits).expect("builds");
    sim.run();
    assert_conserved(&sim.totals());
    sim
}

#[test]
fn finding_1_fan_out_is_checked_as_it_is_produced() {
    // 998 retry layers of 2 attempts: one failure fans out into a call per layer. Before,
    // the state was checked every 65,536 events and reached 273 MiB at a 64 MiB limit.
    let s = scenario(&hostile::retry_chain(998, 2));
    let limits = Limits {
        max_state_bytes: 64 * MIB,
        ..Limits::default()
    };
    let sim = run(&s, limits);
    let stopped = sim.stopped().expect("stops");
    assert_eq!(stopped.budget, Budget::State, "{stopped}");
    assert!(stopped.reason.contains("64 MiB"), "{stopped}");
    let held = sim.state_bytes();
    eprintln!("finding 1: {stopped}; {} MiB held", held / MIB);
    assert!(
        held < 64 * MIB + 8 * MIB,
        "the state overshoots its limit by at most a few MiB: {} MiB",
        held / MIB
    );
}

#[test]
fn finding_2_construction_is_within_the_budget() {
    // 100 closed-loop clients of 10⁶ users: 10⁸ events at the start (3.2 GB). Before, the
    // process aborted at 2.1 GB while building and `validate` said the file was fine.
    let s = scenario(&hostile::closed_clients(100, 1_000_000));
    let error = match Sim::with_limits(&s, Limits::default()) {
        Ok(_) => panic!("refused before anything is allocated"),
        Err(e) => e,
    };
    let problems = error.problems();
    assert_eq!(problems[0].field, "users", "{error}");
    assert!(
        problems[0].location.to_string().starts_with("block \"c"),
        "{error}"
    );
    assert!(
        problems[0].message.contains("100,000,000 users in all"),
        "{error}"
    );
    assert_eq!(problems[0].location, "block \"c0\"");
    assert!(Limits::default().preflight(&s).is_err());
    // One such client is fine.
    let one = scenario(&hostile::closed_clients(1, 1_000_000));
    assert!(Limits::default().preflight(&one).is_ok());
}

#[test]
fn finding_3_stored_rows_count_against_the_budget() {
    // 300 servers × 200,000 rows: 2.8 GB of rows. Before, they were outside the limit.
    let s = scenario(&hostile::many_rows(300, 200_000));
    let error = Limits::default().preflight(&s).expect_err("refused");
    let p = &error.problems()[0];
    assert_eq!(
        (&p.location, p.field.as_str()),
        (&sim_core::Location::Scenario, "bucket_s")
    );
    assert!(
        p.message.contains("200,000 metric rows of 915 columns"),
        "{p}"
    );
    // Rows that fit the refusal's estimate but not a smaller limit stop the run instead.
    let s = scenario(&hostile::many_rows(30, 20_000));
    let limits = Limits {
        max_state_bytes: 64 * MIB,
        ..Limits::default()
    };
    assert!(limits.preflight(&s).is_ok());
    let small = Limits {
        max_state_bytes: 16 * MIB,
        ..Limits::default()
    };
    let mut sim = Sim::with_limits(&s, Limits { ..limits }).unwrap();
    sim.run();
    assert!(sim.stopped().is_none(), "{:?}", sim.stopped());
    assert!(
        sim.state_bytes() > 8 * MIB,
        "the rows are counted: {}",
        sim.state_bytes()
    );
    assert!(
        small.preflight(&s).is_err(),
        "16 MiB is too small for 20,000 rows of 110 columns"
    );
}

#[test]
fn finding_4_work_not_events_bounds_a_run() {
    // 498 least-outstanding balancers, each listing the next 1,000 times: about 500,000
    // scans per request. Before: 3,800 events/s, about 73 hours to the event limit.
    let s = scenario(&hostile::balancer_chain(
        498,
        1000,
        "least_outstanding",
        100.0,
    ));
    let limits = Limits {
        max_work: 50_000_000,
        ..Limits::default()
    };
    let started = Instant::now();
    let sim = run(&s, limits);
    let stopped = sim.stopped().expect("stops at the work budget");
    assert_eq!(stopped.budget, Budget::Work, "{stopped}");
    assert!(stopped.reason.contains("--max-work"), "{stopped}");
    assert!(
        sim.events() < 1_000,
        "few events, much work: {}",
        sim.events()
    );
    eprintln!(
        "finding 4 (least outstanding): stopped after {:?}",
        started.elapsed()
    );

    // 998 round-robin balancers at 10⁵ requests/s: a thousand deliveries per request.
    let s = scenario(&hostile::balancer_chain(998, 1, "round_robin", 1e5));
    let sim = run(&s, limits);
    assert_eq!(sim.stopped().map(|s| s.budget), Some(Budget::Work));
    assert!(
        (50_000_000..50_002_000).contains(&sim.work()),
        "{}",
        sim.work()
    );
}

#[test]
fn a_thousand_staircases_of_a_thousand_steps_are_counted_as_work() {
    // A million step events, each combining a thousand active staircases: before their
    // work was counted, about 80 s natively whatever the work budget.
    let s = scenario(&hostile::staircases(1000, 1000));
    let limits = Limits {
        max_work: 20_000_000,
        ..Limits::default()
    };
    let started = Instant::now();
    let sim = run(&s, limits);
    let stopped = sim.stopped().expect("stops at the work budget");
    assert_eq!(stopped.budget, Budget::Work, "{stopped}");
    assert!(
        sim.events() < 20_000_000 / 1000,
        "each step counts its staircases: {} events",
        sim.events()
    );
    eprintln!(
        "a thousand staircases: stopped after {:?}",
        started.elapsed()
    );
    // Fewer, shorter staircases run to the end.
    let s = scenario(&hostile::staircases(10, 100));
    let sim = run(&s, Limits::default());
    assert!(sim.stopped().is_none() && sim.finished());
}

#[test]
fn finding_5_validation_is_linear_and_stops_at_the_limit() {
    // A balancer listing one block 10⁶ times: before, validation did not finish in 60 s.
    let text = hostile::long_to_list(1_000_000);
    let started = Instant::now();
    let error = Scenario::from_json(&text).expect_err("over the limit");
    let took = started.elapsed();
    let problems = error.problems();
    assert_eq!(problems.len(), 1, "said once: {error}");
    assert_eq!(problems[0].location, "blocks[1]");
    assert_eq!(problems[0].field, "to");
    assert!(
        problems[0].message.contains("more than 1000 entries"),
        "{error}"
    );
    eprintln!("finding 5: 10⁶ entries refused in {took:?}");
    // At the limit the list is valid, and a long list of repeats is followed once per block.
    let started = Instant::now();
    assert!(Scenario::from_json(&hostile::long_to_list(1000)).is_ok());
    eprintln!(
        "finding 5: 1,000 entries accepted in {:?}",
        started.elapsed()
    );
}

fn problem_of(doc: &Value) -> String {
    match Scenario::from_value(doc.clone()) {
        Ok(_) => panic!("accepted: {doc}"),
        Err(e) => e.to_string(),
    }
}

fn storm() -> Value {
    serde_json::from_str(sim_core::presets::find("retry-storm").unwrap().json).unwrap()
}

#[test]
fn finding_7_type_errors_name_the_field() {
    let cases = [
        ("api.workers", "1.5", "field `workers`: must be a whole number, 0 or more (got 1.5)"),
        ("api.workers", "-1", "field `workers`: must be a whole number, 0 or more (got -1)"),
        ("api.workers", "\"ten\"", "field `workers`: must be a whole number, 0 or more (got \"ten\")"),
        ("api.workers", "true", "field `workers`: must be a whole number, 0 or more (got true)"),
        ("api.workers", "null", "field `workers`: must be a whole number, 0 or more (got null)"),
        ("api.workers", "[1]", "field `workers`: must be a whole number, 0 or more (got a list)"),
        ("api.service.mean_s", "\"slow\"", "field `service.mean_s`: must be a number (got \"slow\")"),
        ("retries.max_attempts", "5000000000", "field `max_attempts`: must be a whole number no larger than 4,294,967,295 (got 5000000000)"),
        ("api.discipline", "\"random\"", "field `discipline`: must be one of fifo, lifo, priority, fair, codel (got \"random\")"),
        ("seed", "-1", "scenario, field `seed`: must be a whole number, 0 or more (got -1)"),
        ("seed", "1.5", "scenario, field `seed`: must be a whole number"),
        ("triggers.0.factor", "\"x\"", "trigger 0 (load_spike), field `factor`: must be a number (got \"x\")"),
        // A group of fields is an object: a list is not read by position.
        ("api.service", "[\"exponential\", 0.1]", "field `service`: must be an object (got a list)"),
        ("api.service", "\"fast\"", "field `service`: must be an object (got \"fast\")"),
    ];
    for (path, value, wanted) in cases {
        let mut doc = storm();
        set_path(&mut doc, path, value).unwrap();
        let message = problem_of(&doc);
        assert!(message.contains(wanted), "{path}={value}: {message}");
    }
    let mut doc = storm();
    doc["triggers"] = serde_json::json!([{"kind": "capacity", "target": "api", "at_s": 1, "for_s": 1, "workers": 2.5}]);
    let message = problem_of(&doc);
    assert!(
        message.contains("trigger 0 (capacity), field `workers`: must be a whole number"),
        "{message}"
    );
    let mut doc = storm();
    doc["blocks"][2]["wrkers"] = serde_json::json!(3);
    let message = problem_of(&doc);
    assert!(
        message.contains("field `wrkers`: not a field here"),
        "{message}"
    );
}

#[test]
fn finding_7_set_refuses_numbers_that_are_not_finite() {
    for value in ["NaN", "nan", "inf", "-inf", "Infinity", "1e400"] {
        let mut doc = storm();
        let error = set_path(&mut doc, "api.service.mean_s", value).expect_err(value);
        assert!(
            error.contains("`api.service.mean_s`") && error.contains("not a finite number"),
            "{error}"
        );
    }
    // A word stays a string, and the validator names the field.
    let mut doc = storm();
    set_path(&mut doc, "api.service.mean_s", "slow").unwrap();
    assert!(problem_of(&doc).contains("field `service.mean_s`: must be a number (got \"slow\")"));
}

#[test]
fn finding_13_control_characters_in_ids_are_escaped() {
    let mut doc = storm();
    doc["blocks"][0]["to"] = Value::String("\u{1b}[31mred".into());
    doc["blocks"][1]["id"] = Value::String("\u{1b}]0;title\u{7}".into());
    let message = problem_of(&doc);
    assert!(
        !message.chars().any(|c| c.is_control() && c != '\n'),
        "{message:?}"
    );
    assert!(message.contains("\\x1b[31mred"), "{message}");
}

#[test]
fn finding_13_a_tiny_duration_is_refused_or_gives_rows() {
    let mut doc = storm();
    set_path(&mut doc, "duration_s", "1e-308").unwrap();
    match Scenario::from_value(doc) {
        Err(e) => assert!(e.to_string().contains("duration_s"), "{e}"),
        Ok(s) => {
            let mut sim = Sim::new(&s).unwrap();
            sim.run();
            assert!(
                !sim.rows().is_empty(),
                "an accepted run has at least one row"
            );
        }
    }
}

#[test]
fn finding_5_a_forged_link_is_refused_in_milliseconds() {
    // A balancer listing one block 262,000 times: just under the link's 1 MiB of JSON.
    let mut doc: Value = serde_json::from_str(&hostile::long_to_list(262_000)).unwrap();
    doc["blocks"][1]["to"] = serde_json::json!(vec!["a"; 262_000]);
    doc["blocks"][2]["id"] = Value::String("a".into());
    let link = sim_core::share::encode_doc(&doc);
    assert!(link.len() < 4000, "{} characters", link.len());
    let started = Instant::now();
    let error = sim_core::share::decode_doc(&link).expect_err("refused");
    let took = started.elapsed();
    assert!(
        error
            .to_string()
            .contains("blocks[1], field `to`: lists more than 1000 entries"),
        "{error}"
    );
    eprintln!(
        "forged link of {} characters refused in {took:?}",
        link.len()
    );
}
