//! `load_steps`: a staircase of load. From `at_s` the client's rate (closed loop: its users'
//! pace, 1 / think time) is × `factors[0]` for `step_s`, then × `factors[1]` for `step_s`,
//! and so on; after the last step it is undone. It lasts `step_s × len(factors)`.
//!
//! Step boundaries are change points of their own: the engine runs [`apply`] again at each
//! ([`LoadSteps::boundary`], through `Trigger::changes`), and `apply` reads which step is
//! current from the clock. Staircases and `load_spike`s on one client multiply: the client
//! keeps the product of its active spikes and the product of its active staircases, and its
//! load factor is their product.

use super::{Change, Trigger, AT_S, TARGET};
use crate::blocks::client::Load;
use crate::engine::Node;
use crate::kind::{Absent, Param, ParamValue};
use crate::queue::{to_time, Time};
use crate::scenario::{limits, Validator};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadSteps {
    pub target: String,
    pub at_s: f64,
    /// How long each step lasts.
    pub step_s: f64,
    /// The load factor of each step, in order.
    pub factors: Vec<f64>,
}

crate::fields::by_name!(LoadSteps {
    target: required,
    at_s: required,
    step_s: required,
    factors: required,
});

/// Most steps in one staircase.
pub const MAX_STEPS: usize = 1000;

const STEP_S: Param = Param::above("step_s", 0.0, limits::MAX_DURATION_S, Absent::Required);
const FACTORS: Param = Param::new(
    "factors",
    ParamValue::Numbers {
        min: 0.0,
        max: limits::MAX_FACTOR,
        max_len: MAX_STEPS,
    },
);
pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, STEP_S, FACTORS];
pub(crate) const TEMPLATE: &str = r#"{"step_s": 10, "factors": [1.2, 1.4, 1.2]}"#;

impl LoadSteps {
    pub(crate) fn validate(&self, v: &mut Validator) {
        v.param(&STEP_S, self.step_s);
        v.numbers(&FACTORS, &self.factors);
        let length = self.length_s();
        if self.step_s.is_finite() && length > limits::MAX_DURATION_S {
            v.problem(
                "step_s",
                format!(
                    "the steps last {length} s in all ({} × {}), more than the longest run ({} s)",
                    self.step_s,
                    self.factors.len(),
                    limits::MAX_DURATION_S
                ),
            );
        }
    }

    /// How long the whole staircase lasts, in seconds.
    pub fn length_s(&self) -> f64 {
        self.step_s * self.factors.len() as f64
    }

    /// When step `i` starts (step `len(factors)`: when the staircase ends), as engine time.
    /// The end computed this way is the trigger's end (`at_s` + `length_s`) to the nanosecond.
    pub(crate) fn boundary(&self, i: usize) -> Time {
        to_time(self.at_s).saturating_add(to_time(self.step_s * i as f64))
    }

    /// The factor of the step under way at `now` (the last step whose start is at or before
    /// it; the first before the staircase starts).
    pub(crate) fn factor_at(&self, now: Time) -> f64 {
        let n = self.factors.len();
        // Boundaries never decrease with i: bisect for the last one at or before `now`.
        let (mut low, mut high) = (0, n);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.boundary(mid) <= now {
                low = mid;
            } else {
                high = mid;
            }
        }
        self.factors.get(low).copied().unwrap_or(1.0)
    }
}

/// Staircases on one client multiply; the client multiplies their product with its spikes'.
pub(crate) fn apply(change: Change) {
    let now = change.ctx.now;
    let factor = change
        .active
        .iter()
        .map(|t| match t {
            Trigger::LoadSteps(s) => s.factor_at(now),
            _ => 1.0,
        })
        .product();
    if let Node::Client(c) = change.node {
        c.set_load_factor(Load::Steps, factor, change.ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(at_s: f64, step_s: f64, factors: &[f64]) -> LoadSteps {
        LoadSteps {
            target: "u".into(),
            at_s,
            step_s,
            factors: factors.to_vec(),
        }
    }

    #[test]
    fn each_step_has_its_factor_from_its_start() {
        let s = steps(10.0, 5.0, &[1.0, 1.5, 2.0]);
        let at = |t: f64| s.factor_at(to_time(t));
        assert_eq!(at(10.0), 1.0);
        assert_eq!(at(14.999_999_999), 1.0);
        assert_eq!(at(15.0), 1.5);
        assert_eq!(at(19.9), 1.5);
        assert_eq!(at(20.0), 2.0);
        // Past its end it is no longer active (the engine undoes it); the last step stays.
        assert_eq!(at(30.0), 2.0);
        assert_eq!(s.boundary(3), to_time(25.0));
        assert_eq!(s.length_s(), 15.0);
    }

    #[test]
    fn a_thousand_steps_and_steps_shorter_than_a_nanosecond_do_not_panic() {
        let factors: Vec<f64> = (0..MAX_STEPS).map(|i| i as f64).collect();
        let s = steps(1.0, 0.01, &factors);
        assert_eq!(s.factor_at(to_time(1.0)), 0.0);
        assert_eq!(s.factor_at(to_time(1.0 + 0.01 * 500.0)), 500.0);
        assert_eq!(s.factor_at(to_time(100.0)), 999.0);
        // Every boundary at one instant: the last step is the one under way.
        let tiny = steps(1.0, 1e-12, &[1.0, 2.0, 3.0]);
        assert_eq!(tiny.factor_at(to_time(1.0)), 3.0);
        let empty = steps(1.0, 1.0, &[]);
        assert_eq!(empty.factor_at(to_time(2.0)), 1.0);
    }
}

/// Staircases through whole runs.
#[cfg(test)]
mod run_tests {
    use crate::testing::{column, run};
    use crate::{Scenario, Verdict};

    /// A uniform client of 10 requests/s and the given triggers, for `duration` seconds.
    fn uniform(duration: f64, triggers: &str) -> crate::Sim {
        run(&format!(
            r#"{{"version": 1, "duration_s": {duration}, "blocks": [
            {{"id": "u", "kind": "client", "rate": 10, "arrival": "uniform", "to": "s"}},
            {{"id": "s", "kind": "server", "workers": 1000,
             "service": {{"dist": "deterministic", "mean_s": 0.01}}}}],
            "triggers": [{triggers}]}}"#
        ))
    }

    /// Asserts each bucket's `offered` against the rate expected at its start (±1 for the
    /// arrival that falls on a boundary).
    fn assert_offered(sim: &crate::Sim, expected: impl Fn(usize) -> f64) {
        let offered = column(sim, "offered");
        for (i, got) in offered.iter().enumerate() {
            let want = expected(i);
            assert!(
                (got - want).abs() <= 1.0,
                "bucket {i}: {got} vs {want}: {offered:?}"
            );
        }
    }

    const STEPS: &str =
        r#"{"kind": "load_steps", "target": "u", "at_s": 10, "step_s": 5, "factors": [2, 3, 0.5]}"#;

    #[test]
    fn the_rate_follows_each_step_and_is_undone_after_the_last() {
        let sim = uniform(40.0, STEPS);
        assert_offered(&sim, |i| match i {
            10..=14 => 20.0,
            15..=19 => 30.0,
            20..=24 => 5.0,
            _ => 10.0,
        });
        // At each boundary exactly: the bucket after it runs at the new step's rate (one
        // arrival may fall on the boundary itself).
        let offered = column(&sim, "offered");
        assert!(offered[14] <= 21.0 && offered[15] >= 29.0, "{offered:?}");
        assert!(offered[24] <= 6.0 && offered[25] >= 9.0, "{offered:?}");
    }

    #[test]
    fn a_staircase_multiplies_with_an_overlapping_spike() {
        let spike = r#"{"kind": "load_spike", "target": "u", "at_s": 12, "for_s": 5, "factor": 2}"#;
        let sim = uniform(40.0, &format!("{STEPS}, {spike}"));
        assert_offered(&sim, |i| match i {
            10..=11 => 20.0,
            12..=14 => 40.0,
            15..=16 => 60.0,
            17..=19 => 30.0,
            20..=24 => 5.0,
            _ => 10.0,
        });
        // Two staircases multiply too.
        let other =
            r#"{"kind": "load_steps", "target": "u", "at_s": 20, "step_s": 10, "factors": [4]}"#;
        let sim = uniform(40.0, &format!("{STEPS}, {other}"));
        assert_offered(&sim, |i| match i {
            10..=14 => 20.0,
            15..=19 => 30.0,
            20..=24 => 20.0,
            25..=29 => 40.0,
            _ => 10.0,
        });
    }

    #[test]
    fn it_ends_after_all_its_steps() {
        let sim = uniform(40.0, STEPS);
        let trigger = &sim.scenario().triggers[0];
        assert_eq!(trigger.for_s(), Some(15.0));
        assert_eq!(trigger.end_s(), 25.0);
        // A staircase still under way at the end of the run never ended: no verdict.
        let cut = uniform(24.0, STEPS);
        assert_eq!(cut.report().verdict, Verdict::Undefined);
        assert_eq!(uniform(40.0, STEPS).report().verdict, Verdict::Recovered);
    }

    #[test]
    fn a_step_of_zero_idles_closed_loop_users_until_the_next_step() {
        let sim = run(r#"{"version": 1, "seed": 4, "duration_s": 40, "blocks": [
            {"id": "u", "kind": "client", "mode": "closed", "users": 20, "think_s": 0.5, "to": "s"},
            {"id": "s", "kind": "server", "workers": 100, "service": {"mean_s": 0.01}}],
            "triggers": [{"kind": "load_steps", "target": "u", "at_s": 10, "step_s": 10, "factors": [0, 2]}]}"#);
        let offered = column(&sim, "offered");
        let mean =
            |from: usize, to: usize| offered[from..to].iter().sum::<f64>() / (to - from) as f64;
        assert!((mean(2, 10) - 39.0).abs() < 8.0, "{offered:?}");
        assert!(
            mean(12, 20) == 0.0,
            "idle during the zero step: {offered:?}"
        );
        // Twice the pace (think time halved) in the second step, then back.
        assert!(mean(22, 30) > 1.5 * mean(2, 10), "{offered:?}");
        assert!((mean(32, 40) - mean(2, 10)).abs() < 8.0, "{offered:?}");
    }

    #[test]
    fn a_thousand_steps_run_and_each_one_acts() {
        // Factors 0 and 3 in turn, 0.1 s each, at 10 requests/s uniform: one request per
        // step of 3 (0.3 s apart), none in the steps of 0.
        let factors: Vec<String> = (0..1000).map(|i| ["0", "3"][i % 2].to_string()).collect();
        let steps = format!(
            r#"{{"kind": "load_steps", "target": "u", "at_s": 10, "step_s": 0.1, "factors": [{}]}}"#,
            factors.join(",")
        );
        let sim = uniform(120.0, &steps);
        assert_eq!(sim.scenario().triggers[0].end_s(), 110.0);
        let offered = column(&sim, "offered");
        assert!(offered[10..110].iter().all(|o| *o <= 16.0), "{offered:?}");
        assert!(offered[111..].iter().all(|o| *o == 10.0), "{offered:?}");
    }

    #[test]
    fn bad_staircases_are_refused_naming_the_field() {
        let problems = |trigger: &str| -> Vec<(String, String)> {
            let text = format!(
                r#"{{"version": 1, "duration_s": 10, "blocks": [
                {{"id": "u", "kind": "client", "rate": 1, "to": "s"}},
                {{"id": "s", "kind": "server", "workers": 1, "service": {{"mean_s": 0.1}}}}],
                "triggers": [{trigger}]}}"#
            );
            match Scenario::from_json(&text) {
                Ok(_) => Vec::new(),
                Err(e) => e
                    .problems()
                    .into_iter()
                    .map(|p| (p.field, p.message))
                    .collect(),
            }
        };
        let field = |trigger: &str| -> String {
            let found = problems(trigger);
            assert_eq!(found.len(), 1, "{trigger}: {found:?}");
            found[0].0.clone()
        };
        let with =
            |rest: &str| format!(r#"{{"kind": "load_steps", "target": "u", "at_s": 1, {rest}}}"#);
        assert!(problems(&with(r#""step_s": 1, "factors": [1, 0, 1e6]"#)).is_empty());
        assert_eq!(field(&with(r#""step_s": 1, "factors": []"#)), "factors");
        assert_eq!(
            field(&with(r#""step_s": 1, "factors": [1, -0.5]"#)),
            "factors"
        );
        assert_eq!(field(&with(r#""step_s": 1, "factors": [2e6]"#)), "factors");
        let long = vec!["1"; 1001].join(",");
        assert_eq!(
            field(&with(&format!(r#""step_s": 1, "factors": [{long}]"#))),
            "factors"
        );
        assert_eq!(field(&with(r#""step_s": 0, "factors": [1]"#)), "step_s");
        assert_eq!(
            field(&with(r#""step_s": 6e7, "factors": [1, 1]"#)),
            "step_s"
        );
        assert_eq!(
            field(&with(r#""step_s": 1, "factors": [1], "for_s": 3"#)),
            "for_s"
        );
        let on_server =
            r#"{"kind": "load_steps", "target": "s", "at_s": 1, "step_s": 1, "factors": [1]}"#;
        assert_eq!(field(on_server), "target");
        let message = &problems(&with(r#""step_s": 1, "factors": [1, -0.5]"#))[0].1;
        assert!(message.contains("entry 2"), "{message}");
    }
}
