//! The circuit breaker: stops calling a downstream that keeps failing.
//!
//! Closed, it forwards every call and remembers the outcomes of the last `window_s`. When at
//! least `min_calls` are remembered and the failed fraction exceeds `failure_threshold`, it
//! opens: for `open_s` it answers every call at once with an error (counted in `rejected`).
//! Then it is half-open: it lets `half_open_probes` calls through and fails the others fast;
//! the first failed probe re-opens it, and when every probe has succeeded it closes.
//! Outcomes of calls sent in an earlier state are ignored. A failure is an error reply: a
//! breaker has no timeout of its own, so put a retry block with `attempt_timeout_s` below it to
//! turn silence into failures.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue};
use crate::queue::{to_time, Time};
use crate::scenario::{is_default, limits, Validator};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;

// ---- The spec: what a scenario file says about this block. ----

const DEFAULT_FAILURE_THRESHOLD: f64 = 0.5;
const DEFAULT_WINDOW_S: f64 = 10.0;
const DEFAULT_MIN_CALLS: u32 = 20;
const DEFAULT_OPEN_S: f64 = 5.0;
const DEFAULT_PROBES: u32 = 1;

fn default_failure_threshold() -> f64 {
    DEFAULT_FAILURE_THRESHOLD
}
fn default_window_s() -> f64 {
    DEFAULT_WINDOW_S
}
fn default_min_calls() -> u32 {
    DEFAULT_MIN_CALLS
}
fn default_open_s() -> f64 {
    DEFAULT_OPEN_S
}
fn default_probes() -> u32 {
    DEFAULT_PROBES
}

/// A circuit breaker in front of its downstream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerSpec {
    pub id: String,
    pub to: String,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    pub failure_threshold: f64,
    pub window_s: f64,
    pub min_calls: u32,
    pub open_s: f64,
    pub half_open_probes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(BreakerSpec {
    id: required,
    to: required,
    link_latency_s: default,
    failure_threshold: or(default_failure_threshold),
    window_s: or(default_window_s),
    min_calls: or(default_min_calls),
    open_s: or(default_open_s),
    half_open_probes: or(default_probes),
    ui: default,
});

const FAILURE_THRESHOLD: Param = Param::number(
    "failure_threshold",
    0.0,
    1.0,
    Absent::Is(DEFAULT_FAILURE_THRESHOLD),
);
const WINDOW_S: Param = Param::above(
    "window_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_WINDOW_S),
);
const MIN_CALLS: Param = Param::whole(
    "min_calls",
    1,
    1_000_000_000,
    Absent::Is(DEFAULT_MIN_CALLS as f64),
);
const OPEN_S: Param = Param::above(
    "open_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_OPEN_S),
);
const HALF_OPEN_PROBES: Param = Param::whole(
    "half_open_probes",
    1,
    limits::MAX_WORKERS as u64,
    Absent::Is(DEFAULT_PROBES as f64),
);

/// A breaker's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    FAILURE_THRESHOLD,
    WINDOW_S,
    MIN_CALLS,
    OPEN_S,
    HALF_OPEN_PROBES,
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str = r#"{"failure_threshold": 0.5, "window_s": 10,
    "min_calls": 20, "open_s": 5, "half_open_probes": 1, "to": ""}"#;

/// 0 closed, 1 open, 0.5 half-open, at the bucket's end.
pub(crate) const METRICS: &[&str] = &["state"];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::One;

impl BreakerSpec {
    /// The blocks it calls, in order.
    pub(crate) fn downstream(&self) -> Vec<&str> {
        vec![self.to.as_str()]
    }

    /// Its metric columns (`<id>.<name>`), in order: [`METRICS`], or fewer when an option
    /// that has a column of its own is off.
    pub(crate) fn metric_names(&self) -> &'static [&'static str] {
        METRICS
    }

    pub(crate) fn validate(&self, v: &mut Validator) {
        v.param(&FAILURE_THRESHOLD, self.failure_threshold);
        v.param(&WINDOW_S, self.window_s);
        v.whole(&MIN_CALLS, u64::from(self.min_calls));
        v.param(&OPEN_S, self.open_s);
        v.whole(&HALF_OPEN_PROBES, u64::from(self.half_open_probes));
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum State {
    Closed,
    Open { until: Time },
    HalfOpen { sent: u32, succeeded: u32 },
}

struct Forwarded {
    caller: ReplyTo,
    epoch: u32,
}

pub(crate) struct Breaker {
    me: u32,
    to: u32,
    threshold: f64,
    window: Time,
    min_calls: u32,
    open_for: Time,
    probes: u32,
    pub(crate) state: State,
    /// Bumped on every state change, so outcomes of calls sent before it are ignored.
    epoch: u32,
    /// `(time, failed)` of the outcomes in the window, oldest first.
    outcomes: VecDeque<(Time, bool)>,
    failures: u32,
    calls: Slab<Forwarded>,
}

impl Breaker {
    pub(crate) fn new(me: u32, spec: &BreakerSpec, to: u32) -> Breaker {
        Breaker {
            me,
            to,
            threshold: spec.failure_threshold,
            window: to_time(spec.window_s),
            min_calls: spec.min_calls,
            open_for: to_time(spec.open_s),
            probes: spec.half_open_probes,
            state: State::Closed,
            epoch: 0,
            outcomes: VecDeque::new(),
            failures: 0,
            calls: Slab::default(),
        }
    }

    fn change(&mut self, state: State) {
        self.state = state;
        self.epoch = self.epoch.wrapping_add(1);
        self.outcomes.clear();
        self.failures = 0;
    }

    /// An open breaker becomes half-open once `open_s` has passed.
    fn refresh(&mut self, now: Time) {
        if let State::Open { until } = self.state {
            if now >= until {
                self.change(State::HalfOpen {
                    sent: 0,
                    succeeded: 0,
                });
            }
        }
    }

    /// Whether a call arriving now goes through (counting it as a probe when half-open).
    pub(crate) fn admit(&mut self, now: Time) -> bool {
        self.refresh(now);
        match &mut self.state {
            State::Closed => true,
            State::Open { .. } => false,
            State::HalfOpen { sent, .. } => {
                if *sent < self.probes {
                    *sent += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Records the outcome of a call admitted in the current state.
    pub(crate) fn record(&mut self, now: Time, failed: bool) {
        match &mut self.state {
            State::Closed => {
                self.outcomes.push_back((now, failed));
                self.failures += u32::from(failed);
                while let Some(&(at, f)) = self.outcomes.front() {
                    if at.saturating_add(self.window) > now {
                        break;
                    }
                    self.outcomes.pop_front();
                    self.failures -= u32::from(f);
                }
                let n = self.outcomes.len();
                if n >= self.min_calls as usize
                    && f64::from(self.failures) / n as f64 > self.threshold
                {
                    self.change(State::Open {
                        until: now.saturating_add(self.open_for),
                    });
                }
            }
            State::HalfOpen { succeeded, .. } => {
                if failed {
                    self.change(State::Open {
                        until: now.saturating_add(self.open_for),
                    });
                } else {
                    *succeeded += 1;
                    if *succeeded >= self.probes {
                        self.change(State::Closed);
                    }
                }
            }
            State::Open { .. } => {}
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        if self.admit(ctx.now) {
            let token = self.calls.insert(Forwarded {
                caller: call.reply_to,
                epoch: self.epoch,
            });
            ctx.call(
                self.to,
                Call {
                    reply_to: ReplyTo {
                        block: self.me,
                        token,
                    },
                    ..call
                },
            );
        } else {
            ctx.call_rejected();
            ctx.reply(self.me, call.reply_to, Outcome::Rejected);
        }
    }

    #[inline(always)]
    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        let Some(forwarded) = self.calls.remove(token) else {
            return;
        };
        ctx.reply(self.me, forwarded.caller, outcome);
        self.refresh(ctx.now);
        if forwarded.epoch == self.epoch {
            self.record(ctx.now, outcome.is_failure());
        }
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.calls.get(token) {
            Some(forwarded) => Waiting::AskCaller(forwarded.caller),
            None => Waiting::No,
        }
    }

    /// `state`: 0 closed, 0.5 half-open, 1 open, at the bucket's end.
    pub(crate) fn columns_of(&mut self, end: Time, out: &mut Vec<Option<f64>>) {
        let value = match self.state {
            State::Closed => 0.0,
            State::Open { until } if end < until => 1.0,
            State::Open { .. } | State::HalfOpen { .. } => 0.5,
        };
        out.push(Some(value));
    }

    pub(crate) fn live(&self) -> usize {
        self.calls.len() + self.outcomes.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.calls.bytes() + self.outcomes.len() * 16
    }
}

impl Behaviour for Breaker {
    type Spec = BreakerSpec;

    fn build(spec: &BreakerSpec, b: &mut Build) -> Breaker {
        Breaker::new(b.me, spec, b.index(&spec.to))
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        Breaker::on_call(self, call, ctx)
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        Breaker::on_reply(self, token, outcome, ctx)
    }

    fn waiting(&self, token: Token) -> Waiting {
        Breaker::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Breaker::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} calls and outcomes", self.live())
    }

    fn columns(&mut self, end: Time, _length: Time, out: &mut Vec<Option<f64>>) {
        self.columns_of(end, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        let spec = BreakerSpec {
            id: "b".into(),
            to: "s".into(),
            link_latency_s: 0.0,
            failure_threshold: 0.5,
            window_s: 10.0,
            min_calls: 4,
            open_s: 5.0,
            half_open_probes: 2,
            ui: None,
        };
        Breaker::new(0, &spec, 1)
    }

    const S: Time = 1_000_000_000;

    #[test]
    fn opens_only_past_the_threshold_with_enough_calls() {
        let mut b = breaker();
        for failed in [true, true, true] {
            assert!(b.admit(0));
            b.record(0, failed);
        }
        assert_eq!(b.state, State::Closed, "3 calls are fewer than min_calls");
        b.record(0, false); // 3 of 4 failed: 0.75 > 0.5
        assert_eq!(b.state, State::Open { until: 5 * S });
        assert!(!b.admit(S));
    }

    #[test]
    fn exactly_the_threshold_does_not_open() {
        let mut b = breaker();
        for failed in [true, false, true, false] {
            b.record(0, failed);
        }
        assert_eq!(b.state, State::Closed);
    }

    #[test]
    fn old_outcomes_leave_the_window() {
        let mut b = breaker();
        for _ in 0..3 {
            b.record(0, true);
        }
        // Ten seconds later those failures are gone: 1 of 4 is not enough.
        for t in [10 * S, 10 * S, 10 * S] {
            b.record(t, false);
        }
        b.record(10 * S, true);
        assert_eq!(b.state, State::Closed);
    }

    #[test]
    fn half_open_lets_probes_through_and_closes_on_their_success() {
        let mut b = breaker();
        b.change(State::Open { until: 5 * S });
        assert!(!b.admit(4 * S));
        assert!(b.admit(5 * S));
        assert!(b.admit(5 * S));
        assert!(!b.admit(5 * S), "only two probes");
        b.record(6 * S, false);
        assert!(matches!(b.state, State::HalfOpen { .. }));
        b.record(6 * S, false);
        assert_eq!(b.state, State::Closed);
    }

    #[test]
    fn a_failed_probe_reopens() {
        let mut b = breaker();
        b.change(State::Open { until: 0 });
        assert!(b.admit(S));
        b.record(S, true);
        assert_eq!(b.state, State::Open { until: 6 * S });
    }
}
