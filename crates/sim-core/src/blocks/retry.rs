//! The retry layer: re-sends failed attempts of the calls it receives.
//!
//! An attempt fails on its `attempt_timeout_s` or on an error reply. Before the k-th retry it
//! waits a backoff (none / constant / exponential, then jitter), takes a token from its budget
//! if it has one, and sends the next attempt with the same key and deadline. It answers its
//! caller with the first success, or a failure once attempts, budget or (with
//! `respect_deadline`) the user's deadline run out: the last attempt's, as it failed (an error,
//! a rejection, or its own timeout). It is not told when its caller gives up:
//! by default it keeps retrying for a user who left — the load that sustains a retry storm.

use super::{Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{lane_for, Ctx, Waiting};
use crate::kind::{Absent, Param, ParamValue, When};
use crate::queue::{to_time, Event, EventKind, EventQueue, LaneId, Time};
use crate::rng::{Purpose, Stream};
use crate::scenario::{is_default, limits, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    #[default]
    None,
    Constant,
    Exponential,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    #[serde(default)]
    pub kind: BackoffKind,
    #[serde(default, skip_serializing_if = "is_default")]
    pub base_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_s: Option<f64>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub jitter: Jitter,
}

/// A retry token bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub ratio: f64,
    pub max_tokens: f64,
}

/// Re-sends failed attempts of the calls it receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    pub id: String,
    pub to: String,
    pub max_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_timeout_s: Option<f64>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub backoff: Backoff,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub respect_deadline: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

const MAX_ATTEMPTS: Param = Param::whole(
    "max_attempts",
    1,
    limits::MAX_ATTEMPTS as u64,
    Absent::Required,
);
const ATTEMPT_TIMEOUT_S: Param =
    Param::above("attempt_timeout_s", 0.0, limits::MAX_TIME_S, Absent::Unset);
const BASE_S: Param = Param::number("backoff.base_s", 0.0, limits::MAX_TIME_S, Absent::Is(0.0))
    .when(When::Not("backoff.kind", "none"));
const CAP_S: Param = Param::number("backoff.cap_s", 0.0, limits::MAX_TIME_S, Absent::Unset)
    .when(When::Not("backoff.kind", "none"));
const RATIO: Param = Param::number("budget.ratio", 0.0, 1e6, Absent::Required);
const MAX_TOKENS: Param = Param::number("budget.max_tokens", 1.0, 1e12, Absent::Required);

/// A retry block's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    MAX_ATTEMPTS,
    ATTEMPT_TIMEOUT_S,
    Param::new(
        "backoff.kind",
        ParamValue::Choice(&["none", "constant", "exponential"]),
    ),
    BASE_S,
    CAP_S,
    Param::new(
        "backoff.jitter",
        ParamValue::Choice(&["none", "full", "equal", "decorrelated"]),
    )
    .when(When::Not("backoff.kind", "none")),
    Param::new(
        "budget",
        ParamValue::Group {
            start: r#"{"ratio": 0.1, "max_tokens": 10}"#,
        },
    ),
    RATIO,
    MAX_TOKENS,
    Param::new("respect_deadline", ParamValue::Flag { absent: false }),
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str = r#"{"max_attempts": 3, "attempt_timeout_s": 1.0,
    "backoff": {"kind": "exponential", "base_s": 0.05, "cap_s": 1.0, "jitter": "full"},
    "to": ""}"#;

/// Tokens left in the budget at the bucket's end; attempt timeouts per second.
pub(crate) const METRICS: &[&str] = &["tokens", "timeouts"];

impl RetrySpec {
    /// Its metric columns (`<id>.<name>`), in order: [`METRICS`], or fewer when an option
    /// that has a column of its own is off.
    pub(crate) fn metric_names(&self) -> &'static [&'static str] {
        METRICS
    }

    pub(crate) fn validate(&self, v: &mut Validator) {
        v.whole(&MAX_ATTEMPTS, u64::from(self.max_attempts));
        if let Some(t) = self.attempt_timeout_s {
            v.param(&ATTEMPT_TIMEOUT_S, t);
        }
        let b = &self.backoff;
        v.param(&BASE_S, b.base_s);
        if let Some(cap) = b.cap_s {
            v.param(&CAP_S, cap);
            if cap.is_finite() && b.base_s.is_finite() && cap < b.base_s {
                v.problem("backoff.cap_s", format!("must be ≥ base_s ({})", b.base_s));
            }
        }
        if b.kind != BackoffKind::None && b.jitter == Jitter::Decorrelated && b.base_s <= 0.0 {
            v.problem("backoff.base_s", "decorrelated jitter needs base_s > 0");
        }
        if let Some(budget) = &self.budget {
            v.param(&RATIO, budget.ratio);
            v.param(&MAX_TOKENS, budget.max_tokens);
        }
    }
}

struct Attempting {
    caller: ReplyTo,
    key: u64,
    deadline: Time,
    /// The attempt under way or last made (1 = the first).
    attempt: u32,
    /// The caller's priority and origin client, kept on every attempt.
    priority: u16,
    client: u16,
    /// Decorrelated jitter's previous delay.
    previous_delay_s: f64,
    /// False during a backoff.
    waiting: bool,
    /// How the last failed attempt failed: the answer when the retry layer gives up.
    last_failure: Outcome,
}

/// The backoff schedule of SPEC §2.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub kind: BackoffKind,
    pub base_s: f64,
    pub cap_s: f64,
    pub jitter: Jitter,
}

impl Schedule {
    /// The wait before the k-th retry (k = 1 is the first), in seconds.
    pub(crate) fn delay_s(&self, k: u32, previous_s: &mut f64, rng: &mut Stream) -> f64 {
        let d = match self.kind {
            BackoffKind::None => return 0.0,
            BackoffKind::Constant => self.base_s,
            // ldexp is exact: base · 2^(k−1) with no platform-dependent pow.
            BackoffKind::Exponential => libm::ldexp(self.base_s, k as i32 - 1).min(self.cap_s),
        };
        match self.jitter {
            Jitter::None => d,
            Jitter::Full => rng.uniform() * d,
            Jitter::Equal => d / 2.0 + rng.uniform() * d / 2.0,
            Jitter::Decorrelated => {
                let high = 3.0 * *previous_s;
                let delay = (self.base_s + rng.uniform() * (high - self.base_s)).min(self.cap_s);
                *previous_s = delay;
                delay
            }
        }
    }
}

pub(crate) struct Retry {
    me: u32,
    to: u32,
    max_attempts: u32,
    attempt_timeout: Option<LaneId>,
    backoff: Schedule,
    /// `(ratio, max_tokens)`.
    budget: Option<(f64, f64)>,
    tokens: f64,
    respect_deadline: bool,
    jitter: Stream,
    calls: Slab<Attempting>,
    bucket_timeouts: u64,
    /// Calls waiting out a backoff (the fluid model's orbit).
    in_backoff: usize,
}

impl Retry {
    pub(crate) fn new(
        me: u32,
        spec: &RetrySpec,
        to: u32,
        seed: u64,
        queue: &mut EventQueue,
    ) -> Retry {
        let budget = spec.budget.as_ref().map(|b| (b.ratio, b.max_tokens));
        Retry {
            me,
            to,
            max_attempts: spec.max_attempts,
            attempt_timeout: lane_for(queue, spec.attempt_timeout_s),
            backoff: Schedule {
                kind: spec.backoff.kind,
                base_s: spec.backoff.base_s,
                cap_s: spec.backoff.cap_s.unwrap_or(f64::INFINITY),
                jitter: spec.backoff.jitter,
            },
            budget,
            // The bucket starts full.
            tokens: budget.map_or(0.0, |(_, max)| max),
            respect_deadline: spec.respect_deadline,
            jitter: Stream::new(seed, &spec.id, Purpose::Jitter),
            calls: Slab::default(),
            bucket_timeouts: 0,
            in_backoff: 0,
        }
    }

    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        if let Some((ratio, max)) = self.budget {
            self.tokens = (self.tokens + ratio).min(max);
        }
        let token = self.calls.insert(Attempting {
            caller: call.reply_to,
            key: call.key,
            deadline: call.deadline,
            attempt: 1,
            priority: call.priority,
            client: call.client,
            previous_delay_s: self.backoff.base_s,
            waiting: true,
            last_failure: Outcome::Error,
        });
        self.send_attempt(token, ctx);
    }

    /// Sends an attempt under `token` (which names this attempt alone), arming its timeout
    /// first.
    fn send_attempt(&mut self, token: Token, ctx: &mut Ctx) {
        let Some(call) = self.calls.get(token) else {
            return;
        };
        let (key, deadline, priority, client) =
            (call.key, call.deadline, call.priority, call.client);
        let attempt = u8::try_from(call.attempt).unwrap_or(u8::MAX);
        if let Some(lane) = self.attempt_timeout {
            ctx.on_lane(
                lane,
                Event::new(
                    self.me,
                    EventKind::AttemptTimeout,
                    token.slot,
                    token.generation,
                ),
            );
        }
        ctx.call(
            self.to,
            Call {
                key,
                deadline,
                reply_to: ReplyTo {
                    block: self.me,
                    token,
                },
                attempt,
                priority,
                client,
            },
        );
    }

    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        // A stale token (an attempt already timed out) is discarded here: its success is of no
        // use to a caller who has moved on to the next attempt.
        let Some(call) = self.calls.get(token) else {
            return;
        };
        if !call.waiting {
            return;
        }
        match outcome {
            Outcome::Success => {
                if let Some(call) = self.calls.remove(token) {
                    ctx.reply(self.me, call.caller, Outcome::Success);
                }
            }
            failure => self.attempt_failed(token, failure, ctx),
        }
    }

    /// An attempt's timeout. A timeout of an attempt no longer waited on (answered, or
    /// already failed) has a stale token and is ignored.
    pub(crate) fn on_attempt_timeout(&mut self, token: Token, ctx: &mut Ctx) {
        if self.calls.get(token).is_some_and(|c| c.waiting) {
            ctx.timeout_fired();
            self.bucket_timeouts += 1;
            self.attempt_failed(token, Outcome::TimedOut, ctx);
        }
    }

    /// A backoff ended: send the next attempt (unless the deadline passed and it matters).
    pub(crate) fn on_retry_fire(&mut self, token: Token, ctx: &mut Ctx) {
        let Some(call) = self.calls.get_mut(token) else {
            return;
        };
        self.in_backoff = self.in_backoff.saturating_sub(1);
        if self.respect_deadline && ctx.now >= call.deadline {
            self.give_up(token, ctx);
            return;
        }
        // The token was renewed when the last attempt failed, and this event was its only
        // holder: it now names the new attempt.
        call.attempt += 1;
        call.waiting = true;
        ctx.retry_sent();
        self.send_attempt(token, ctx);
    }

    /// Decides what follows an attempt that failed with `failure`: give up, or back off and
    /// retry.
    fn attempt_failed(&mut self, token: Token, failure: Outcome, ctx: &mut Ctx) {
        // A new generation: a late reply to the failed attempt is now stale.
        let Some(token) = self.calls.renew(token) else {
            return;
        };
        let Some(call) = self.calls.get_mut(token) else {
            return;
        };
        call.waiting = false;
        call.last_failure = failure;
        let exhausted = call.attempt >= self.max_attempts;
        let past_deadline = self.respect_deadline && ctx.now >= call.deadline;
        if exhausted || past_deadline {
            self.give_up(token, ctx);
            return;
        }
        if self.budget.is_some() {
            if self.tokens < 1.0 {
                self.give_up(token, ctx);
                return;
            }
            self.tokens -= 1.0;
        }
        let delay_s =
            self.backoff
                .delay_s(call.attempt, &mut call.previous_delay_s, &mut self.jitter);
        let fire = Event::new(self.me, EventKind::RetryFire, token.slot, token.generation);
        // A zero delay is still an event: after whatever is already scheduled for this instant.
        ctx.after(to_time(delay_s), fire);
        self.in_backoff += 1;
    }

    /// Answers the caller with the last attempt's failure.
    fn give_up(&mut self, token: Token, ctx: &mut Ctx) {
        if let Some(call) = self.calls.remove(token) {
            ctx.reply(self.me, call.caller, call.last_failure);
        }
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.calls.get(token) {
            Some(call) if call.waiting => Waiting::Yes,
            _ => Waiting::No,
        }
    }

    /// `tokens` (state at the bucket's end; empty without a budget) and `timeouts` per second.
    pub(crate) fn columns(&mut self, length: Time, out: &mut Vec<Option<f64>>) {
        out.push(self.budget.map(|_| self.tokens));
        out.push(Some(self.bucket_timeouts as f64 / (length as f64 / 1e9)));
        self.bucket_timeouts = 0;
    }

    pub(crate) fn live(&self) -> usize {
        self.calls.len()
    }

    /// Calls waiting out a backoff before their next attempt.
    pub(crate) fn in_backoff(&self) -> usize {
        self.in_backoff
    }

    pub(crate) fn bytes(&self) -> usize {
        self.calls.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(kind: BackoffKind, jitter: Jitter) -> Schedule {
        Schedule {
            kind,
            base_s: 0.1,
            cap_s: 1.0,
            jitter,
        }
    }

    #[test]
    fn exponential_backoff_doubles_up_to_the_cap() {
        let b = backoff(BackoffKind::Exponential, Jitter::None);
        let mut rng = Stream::new(1, "r", Purpose::Jitter);
        let mut prev = 0.1;
        let delays: Vec<f64> = (1..=6).map(|k| b.delay_s(k, &mut prev, &mut rng)).collect();
        assert_eq!(delays, vec![0.1, 0.2, 0.4, 0.8, 1.0, 1.0]);
    }

    #[test]
    fn constant_and_none_backoffs() {
        let mut rng = Stream::new(1, "r", Purpose::Jitter);
        let mut prev = 0.1;
        let c = backoff(BackoffKind::Constant, Jitter::None);
        assert_eq!(c.delay_s(5, &mut prev, &mut rng), 0.1);
        let n = backoff(BackoffKind::None, Jitter::Full);
        assert_eq!(n.delay_s(5, &mut prev, &mut rng), 0.0);
    }

    #[test]
    fn jitter_kinds_stay_in_their_ranges() {
        let mut rng = Stream::new(2, "r", Purpose::Jitter);
        for k in 1..=8u32 {
            let d = (0.1 * f64::from(1u32 << (k - 1))).min(1.0);
            let mut prev = 0.1;
            let full =
                backoff(BackoffKind::Exponential, Jitter::Full).delay_s(k, &mut prev, &mut rng);
            assert!((0.0..d).contains(&full), "full {full} vs {d}");
            let equal =
                backoff(BackoffKind::Exponential, Jitter::Equal).delay_s(k, &mut prev, &mut rng);
            assert!((d / 2.0..d).contains(&equal), "equal {equal} vs {d}");
        }
        // Decorrelated: U[base, 3·prev), capped, and prev follows the draws.
        let b = backoff(BackoffKind::Exponential, Jitter::Decorrelated);
        let mut prev = 0.1;
        for k in 1..=50 {
            let before = prev;
            let d = b.delay_s(k, &mut prev, &mut rng);
            assert!(
                (0.1..=1.0).contains(&d) && d < 3.0 * before + 1e-12,
                "{d} after {before}"
            );
            assert_eq!(prev, d);
        }
    }

    #[test]
    fn full_jitter_averages_half_the_delay() {
        let mut rng = Stream::new(3, "r", Purpose::Jitter);
        let b = backoff(BackoffKind::Constant, Jitter::Full);
        let mut prev = 0.1;
        let n = 100_000;
        let mean = (0..n)
            .map(|_| b.delay_s(1, &mut prev, &mut rng))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.05).abs() < 0.001, "{mean}");
    }
}

#[cfg(test)]
mod budget_tests {
    use crate::testing::{column, run};

    #[test]
    fn the_budget_starts_full_earns_ratio_per_call_and_spends_one_per_retry() {
        // One request per second, every attempt answered with an error at once: each request
        // retries as long as it has tokens. Request 1 finds the full bucket (3) and retries 3
        // times; then each request earns 0.5, so every second request can retry once.
        let sim = run(r#"{"version": 1, "duration_s": 20.5, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "r"},
            {"id": "r", "kind": "retry", "max_attempts": 10, "budget": {"ratio": 0.5, "max_tokens": 3}, "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "error_rate": 1,
             "service": {"dist": "deterministic", "mean_s": 0.01}}]}"#);
        let totals = sim.totals();
        assert_eq!(totals.requests, 20);
        assert_eq!(totals.retries, 3 + 9);
        assert_eq!(totals.failed, 20);
        let tokens = column(&sim, "r.tokens");
        assert!(tokens.iter().all(|t| (0.0..=3.0).contains(t)), "{tokens:?}");
        assert_eq!(tokens[1], 0.0, "request 1 spent the whole bucket");
        assert_eq!(tokens[2], 0.5);
        assert_eq!(tokens[3], 0.0);
    }

    #[test]
    fn without_a_budget_every_attempt_is_made() {
        let sim = run(r#"{"version": 1, "duration_s": 10.5, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "r"},
            {"id": "r", "kind": "retry", "max_attempts": 4, "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "error_rate": 1,
             "service": {"dist": "deterministic", "mean_s": 0.01}}]}"#);
        assert_eq!(sim.totals().retries, 10 * 3);
        assert_eq!(sim.totals().attempts, 10 * 4);
        assert!(
            column(&sim, "r.tokens").iter().all(|t| t.is_nan()),
            "no budget, no tokens column values"
        );
    }
}
