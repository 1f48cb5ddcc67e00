//! The limiter: admission control in front of its downstream (SPEC §8).
//!
//! A call it does not admit is answered at once with a rejection (counted in `rejected`);
//! an admitted call is forwarded, and its reply passed back. Three modes:
//!
//! - `rate` — a token bucket of `burst` tokens (it starts full) refilled at `rate` tokens per
//!   second; a call takes one token, and a call that finds less than one is rejected.
//! - `concurrency` — at most `limit` calls forwarded and not yet answered.
//! - `adaptive` — a concurrency limit L in [`min_limit`, `max_limit`] starting at
//!   `initial_limit`, moved by AIMD as production limiters do: a success whose round trip is
//!   at most `target_latency_s` adds 1/L; a failure (an error, a rejection, or a round trip
//!   over the target) multiplies L by `decrease`, at most once per `target_latency_s`.
//!   Calls over ⌊L⌋ outstanding are rejected.
//!
//! A limiter has no timeout of its own: a slot is released only by the reply to the call that
//! holds it. A call lost below it (a partition, a dropped call) holds its slot for ever, as it
//! would in a limiter without timeouts; put a retry block with `attempt_timeout_s` between the
//! limiter and what it protects to turn that silence into a failure that frees the slot.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue, When};
use crate::queue::{to_seconds, to_time, Time};
use crate::scenario::{is_default, limits, Validator};
use serde::Serialize;
use serde_json::Value;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LimiterMode {
    #[default]
    Rate,
    Concurrency,
    Adaptive,
}

crate::fields::by_variant!(LimiterMode {
    Rate = "rate",
    Concurrency = "concurrency",
    Adaptive = "adaptive",
});

/// Admission control in front of its downstream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LimiterSpec {
    pub id: String,
    pub to: String,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    #[serde(skip_serializing_if = "is_default")]
    pub mode: LimiterMode,
    /// `rate`: tokens per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// `rate`: the bucket's size (it starts full).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<f64>,
    /// `concurrency`: most calls forwarded and not yet answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `adaptive`: the limit it starts at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<f64>,
    /// `adaptive`: the round trip above which a success counts as a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_latency_s: Option<f64>,
    /// `adaptive`: the factor a failure multiplies the limit by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrease: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(LimiterSpec {
    id: required,
    to: required,
    link_latency_s: default,
    mode: default,
    rate: default,
    burst: default,
    limit: default,
    initial_limit: default,
    min_limit: default,
    max_limit: default,
    target_latency_s: default,
    decrease: default,
    ui: default,
});

const DEFAULT_INITIAL_LIMIT: f64 = 10.0;
const DEFAULT_MIN_LIMIT: f64 = 1.0;
const DEFAULT_MAX_LIMIT: f64 = 1000.0;
const DEFAULT_DECREASE: f64 = 0.9;
const MAX_LIMIT: f64 = limits::MAX_WORKERS as f64;

const RATE: Param =
    Param::above("rate", 0.0, limits::MAX_RATE, Absent::Required).when(When::Is("mode", "rate"));
const BURST: Param =
    Param::number("burst", 1.0, 1e12, Absent::Required).when(When::Is("mode", "rate"));
const LIMIT: Param = Param::whole("limit", 1, limits::MAX_WORKERS as u64, Absent::Required)
    .when(When::Is("mode", "concurrency"));
const INITIAL_LIMIT: Param = Param::number(
    "initial_limit",
    1.0,
    MAX_LIMIT,
    Absent::Is(DEFAULT_INITIAL_LIMIT),
)
.when(When::Is("mode", "adaptive"));
const MIN_LIMIT: Param = Param::number("min_limit", 1.0, MAX_LIMIT, Absent::Is(DEFAULT_MIN_LIMIT))
    .when(When::Is("mode", "adaptive"));
const MAX_LIMIT_PARAM: Param =
    Param::number("max_limit", 1.0, MAX_LIMIT, Absent::Is(DEFAULT_MAX_LIMIT))
        .when(When::Is("mode", "adaptive"));
const TARGET_LATENCY_S: Param = Param::above(
    "target_latency_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Required,
)
.when(When::Is("mode", "adaptive"));
const DECREASE: Param = Param::above("decrease", 0.0, 1.0, Absent::Is(DEFAULT_DECREASE))
    .when(When::Is("mode", "adaptive"));

/// A limiter's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    Param::new(
        "mode",
        ParamValue::Choice(&["rate", "concurrency", "adaptive"]),
    ),
    RATE,
    BURST,
    LIMIT,
    INITIAL_LIMIT,
    MIN_LIMIT,
    MAX_LIMIT_PARAM,
    TARGET_LATENCY_S,
    DECREASE,
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str = r#"{"mode": "rate", "rate": 100, "burst": 10, "to": ""}"#;

/// Calls admitted and rejected per second; the limit at the bucket's end (tokens for `rate`).
pub(crate) const METRICS: &[&str] = &["admitted", "rejected", "limit"];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::One;

impl LimiterSpec {
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
        let mode = self.mode;
        let only = |v: &mut Validator, set: bool, field: &str, wanted: &str| {
            if set {
                v.problem(field, format!("only for mode \"{wanted}\""));
            }
        };
        let needs = |v: &mut Validator, value: Option<f64>, param: &Param, what: &str| match value {
            None => v.problem(param.path, format!("a {what} limiter needs {}", param.path)),
            Some(value) => v.param(param, value),
        };
        if mode == LimiterMode::Rate {
            needs(v, self.rate, &RATE, "rate");
            needs(v, self.burst, &BURST, "rate");
        } else {
            only(v, self.rate.is_some(), "rate", "rate");
            only(v, self.burst.is_some(), "burst", "rate");
        }
        if mode == LimiterMode::Concurrency {
            match self.limit {
                None => v.problem("limit", "a concurrency limiter needs limit"),
                Some(limit) => v.whole(&LIMIT, u64::from(limit)),
            }
        } else {
            only(v, self.limit.is_some(), "limit", "concurrency");
        }
        let adaptive = [
            (self.initial_limit, &INITIAL_LIMIT),
            (self.min_limit, &MIN_LIMIT),
            (self.max_limit, &MAX_LIMIT_PARAM),
            (self.decrease, &DECREASE),
        ];
        if mode == LimiterMode::Adaptive {
            needs(v, self.target_latency_s, &TARGET_LATENCY_S, "adaptive");
            for (value, param) in adaptive {
                if let Some(value) = value {
                    v.param(param, value);
                }
            }
            let (min, max) = (self.min(), self.max());
            if min > max {
                v.problem("min_limit", format!("must be ≤ max_limit ({max})"));
            }
            let initial = self.initial_limit.unwrap_or(DEFAULT_INITIAL_LIMIT);
            if initial < min || initial > max {
                v.problem(
                    "initial_limit",
                    format!("must be between min_limit ({min}) and max_limit ({max})"),
                );
            }
        } else {
            only(
                v,
                self.target_latency_s.is_some(),
                "target_latency_s",
                "adaptive",
            );
            for (value, param) in adaptive {
                only(v, value.is_some(), param.path, "adaptive");
            }
        }
    }

    fn min(&self) -> f64 {
        self.min_limit.unwrap_or(DEFAULT_MIN_LIMIT)
    }

    fn max(&self) -> f64 {
        self.max_limit.unwrap_or(DEFAULT_MAX_LIMIT)
    }
}

// ---- The block at run time. ----

/// A call it forwarded and has not had the reply to yet.
#[derive(Clone, Copy, Debug)]
struct Forwarded {
    caller: ReplyTo,
    sent: Time,
}

#[derive(Debug)]
enum Rule {
    Rate {
        per_ns: f64,
        burst: f64,
        tokens: f64,
        refilled: Time,
    },
    Concurrency {
        limit: usize,
    },
    Adaptive {
        limit: f64,
        min: f64,
        max: f64,
        target: Time,
        decrease: f64,
        /// When the limit was last decreased.
        decreased: Option<Time>,
    },
}

#[derive(Debug)]
pub(crate) struct Limiter {
    me: u32,
    to: u32,
    rule: Rule,
    calls: Slab<Forwarded>,
    /// Calls admitted and rejected in the current bucket.
    admitted: u64,
    rejected: u64,
}

impl Limiter {
    pub(crate) fn new(me: u32, spec: &LimiterSpec, to: u32) -> Limiter {
        let rule = match spec.mode {
            LimiterMode::Rate => {
                let burst = spec.burst.unwrap_or(1.0);
                Rule::Rate {
                    per_ns: spec.rate.unwrap_or(0.0) / 1e9,
                    burst,
                    tokens: burst,
                    refilled: 0,
                }
            }
            LimiterMode::Concurrency => Rule::Concurrency {
                limit: spec.limit.unwrap_or(1) as usize,
            },
            LimiterMode::Adaptive => Rule::Adaptive {
                limit: spec.initial_limit.unwrap_or(DEFAULT_INITIAL_LIMIT),
                min: spec.min(),
                max: spec.max(),
                target: to_time(spec.target_latency_s.unwrap_or(1.0)),
                decrease: spec.decrease.unwrap_or(DEFAULT_DECREASE),
                decreased: None,
            },
        };
        Limiter {
            me,
            to,
            rule,
            calls: Slab::default(),
            admitted: 0,
            rejected: 0,
        }
    }

    /// The tokens a `rate` bucket holds at `now` (refilled since it was last looked at).
    fn refill(per_ns: f64, burst: f64, tokens: f64, since: Time, now: Time) -> f64 {
        (tokens + per_ns * now.saturating_sub(since) as f64).min(burst)
    }

    /// Whether a call arriving now is admitted (taking a token in `rate` mode).
    fn admit(&mut self, now: Time) -> bool {
        let outstanding = self.calls.len();
        match &mut self.rule {
            Rule::Rate {
                per_ns,
                burst,
                tokens,
                refilled,
            } => {
                *tokens = Limiter::refill(*per_ns, *burst, *tokens, *refilled, now);
                *refilled = now;
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    true
                } else {
                    false
                }
            }
            Rule::Concurrency { limit } => outstanding < *limit,
            Rule::Adaptive { limit, .. } => (outstanding as f64) < limit.floor(),
        }
    }

    /// AIMD: a success in time adds 1/L; a failure or a slow success multiplies L by
    /// `decrease`, at most once per target latency.
    fn learn(&mut self, now: Time, round_trip: Time, outcome: Outcome) {
        if let Rule::Adaptive {
            limit,
            min,
            max,
            target,
            decrease,
            decreased,
        } = &mut self.rule
        {
            if outcome == Outcome::Success && round_trip <= *target {
                *limit = (*limit + 1.0 / *limit).min(*max);
            } else if decreased.is_none_or(|at| now.saturating_sub(at) >= *target) {
                *limit = (*limit * *decrease).max(*min);
                *decreased = Some(now);
            }
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        if self.admit(ctx.now) {
            self.admitted += 1;
            let token = self.calls.insert(Forwarded {
                caller: call.reply_to,
                sent: ctx.now,
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
            self.rejected += 1;
            ctx.call_rejected();
            ctx.reply(self.me, call.reply_to, Outcome::Rejected);
        }
    }

    #[inline(always)]
    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        let Some(forwarded) = self.calls.remove(token) else {
            return;
        };
        self.learn(ctx.now, ctx.now.saturating_sub(forwarded.sent), outcome);
        ctx.reply(self.me, forwarded.caller, outcome);
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.calls.get(token) {
            Some(forwarded) => Waiting::AskCaller(forwarded.caller),
            None => Waiting::No,
        }
    }

    /// `admitted` and `rejected` per second, and `limit`: the tokens of a `rate` bucket, the
    /// configured limit, or the adaptive limit, at the bucket's end.
    pub(crate) fn columns_of(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        let seconds = to_seconds(length);
        out.push(Some(self.admitted as f64 / seconds));
        out.push(Some(self.rejected as f64 / seconds));
        let limit = match &self.rule {
            Rule::Rate {
                per_ns,
                burst,
                tokens,
                refilled,
            } => Limiter::refill(*per_ns, *burst, *tokens, *refilled, end),
            Rule::Concurrency { limit } => *limit as f64,
            Rule::Adaptive { limit, .. } => *limit,
        };
        out.push(Some(limit));
        self.admitted = 0;
        self.rejected = 0;
    }

    pub(crate) fn live(&self) -> usize {
        self.calls.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.calls.bytes()
    }
}

impl Behaviour for Limiter {
    type Spec = LimiterSpec;

    fn build(spec: &LimiterSpec, b: &mut Build) -> Limiter {
        Limiter::new(b.me, spec, b.index(&spec.to))
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        Limiter::on_call(self, call, ctx)
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        Limiter::on_reply(self, token, outcome, ctx)
    }

    fn waiting(&self, token: Token) -> Waiting {
        Limiter::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Limiter::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} admitted calls", self.live())
    }

    fn columns(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        self.columns_of(end, length, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{column, run};

    fn limiter(spec: &str) -> Limiter {
        let spec: LimiterSpec = serde_json::from_str(spec).unwrap();
        Limiter::new(0, &spec, 1)
    }

    const S: Time = 1_000_000_000;

    #[test]
    fn a_token_bucket_starts_full_and_refills_at_its_rate() {
        let mut l = limiter(r#"{"id": "l", "to": "s", "rate": 2, "burst": 3}"#);
        // Full: three at once, then none.
        assert!((0..3).all(|_| l.admit(0)));
        assert!(!l.admit(0));
        // Half a second later: one token (2/s).
        assert!(!l.admit(S / 4));
        assert!(l.admit(S / 2));
        assert!(!l.admit(S / 2));
        // Never more than the burst, however long it waited.
        assert!((0..3).all(|_| l.admit(100 * S)));
        assert!(!l.admit(100 * S));
    }

    #[test]
    fn a_concurrency_limit_counts_calls_not_yet_answered() {
        let mut l = limiter(r#"{"id": "l", "to": "s", "mode": "concurrency", "limit": 2}"#);
        let caller = ReplyTo {
            block: 5,
            token: Token {
                slot: 0,
                generation: 0,
            },
        };
        let a = l.calls.insert(Forwarded { caller, sent: 0 });
        assert!(l.admit(0));
        let _b = l.calls.insert(Forwarded { caller, sent: 0 });
        assert!(!l.admit(0), "two outstanding: the third is refused");
        l.calls.remove(a);
        assert!(l.admit(0), "a reply frees a slot");
    }

    fn adaptive_limit(l: &Limiter) -> f64 {
        match l.rule {
            Rule::Adaptive { limit, .. } => limit,
            _ => unreachable!(),
        }
    }

    #[test]
    fn aimd_adds_one_over_l_and_multiplies_at_most_once_per_target() {
        let mut l = limiter(
            r#"{"id": "l", "to": "s", "mode": "adaptive", "initial_limit": 10,
                "target_latency_s": 0.1, "decrease": 0.5, "min_limit": 2, "max_limit": 11}"#,
        );
        l.learn(S, S / 20, Outcome::Success);
        assert_eq!(adaptive_limit(&l), 10.1);
        // Slow successes are failures; one decrease per target latency (0.1 s).
        l.learn(S, S / 5, Outcome::Success);
        assert_eq!(adaptive_limit(&l), 5.05);
        l.learn(S + S / 20, 0, Outcome::Error);
        assert_eq!(
            adaptive_limit(&l),
            5.05,
            "within 0.1 s of the last decrease"
        );
        l.learn(S + S / 10, 0, Outcome::Rejected);
        assert_eq!(adaptive_limit(&l), 2.525);
        l.learn(2 * S, 0, Outcome::TimedOut);
        assert_eq!(adaptive_limit(&l), 2.0, "held at min_limit");
        for _ in 0..1000 {
            l.learn(3 * S, 0, Outcome::Success);
        }
        assert_eq!(adaptive_limit(&l), 11.0, "held at max_limit");
        // Calls over ⌊L⌋ outstanding are refused.
        let caller = ReplyTo {
            block: 5,
            token: Token {
                slot: 0,
                generation: 0,
            },
        };
        for _ in 0..11 {
            assert!(l.admit(0));
            l.calls.insert(Forwarded { caller, sent: 0 });
        }
        assert!(!l.admit(0));
    }

    const IDLE_SERVER: &str = r#"{"id": "api", "kind": "server", "workers": 1000,
        "service": {"dist": "deterministic", "mean_s": 0.001}}"#;

    /// Theory: a rate limiter at r/s in front of a server with capacity to spare admits r/s
    /// on long runs, within 1%.
    #[test]
    fn a_rate_limiter_admits_its_rate_on_a_long_run() {
        let sim = run(&format!(
            r#"{{"version": 1, "seed": 3, "duration_s": 2000, "bucket_s": 10, "blocks": [
                {{"id": "users", "kind": "client", "rate": 300, "to": "gate"}},
                {{"id": "gate", "kind": "limiter", "mode": "rate", "rate": 100, "burst": 20,
                  "to": "api"}},
                {IDLE_SERVER}]}}"#
        ));
        let admitted = column(&sim, "gate.admitted");
        let mean = admitted.iter().sum::<f64>() / admitted.len() as f64;
        assert!((mean - 100.0).abs() < 1.0, "admitted {mean}/s");
        let rejected = column(&sim, "gate.rejected");
        let mean_rejected = rejected.iter().sum::<f64>() / rejected.len() as f64;
        assert!(
            (mean_rejected - 200.0).abs() < 5.0,
            "rejected {mean_rejected}/s"
        );
        assert_eq!(sim.totals().rejected, sim.totals().failed);
    }

    #[test]
    fn a_concurrency_limiter_never_has_more_than_its_limit_at_the_server() {
        let sim = run(r#"{"version": 1, "seed": 3, "duration_s": 100, "blocks": [
                {"id": "users", "kind": "client", "rate": 200, "to": "gate"},
                {"id": "gate", "kind": "limiter", "mode": "concurrency", "limit": 5,
                  "to": "api"},
                {"id": "api", "kind": "server", "workers": 100,
                  "service": {"mean_s": 0.05}}]}"#);
        assert!(column(&sim, "api.busy").iter().all(|&b| b <= 5.0));
        assert!(column(&sim, "api.queue").iter().all(|&q| q == 0.0));
        assert!(column(&sim, "gate.rejected").iter().sum::<f64>() > 0.0);
        assert!(column(&sim, "gate.limit").iter().all(|&l| l == 5.0));
    }
}
