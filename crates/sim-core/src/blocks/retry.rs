//! The retry layer: re-sends failed attempts of the calls it receives.
//!
//! An attempt fails on its `attempt_timeout_s` or on an error reply. Before the k-th retry it
//! waits a backoff (none / constant / exponential, then jitter), takes a token from its budget
//! if it has one, and sends the next attempt with the same key and deadline. It answers its
//! caller with the first success, or a failure once attempts, budget or (with
//! `respect_deadline`) the user's deadline run out: the last attempt's, as it failed (an error,
//! a rejection, or its own timeout). It is not told when its caller gives up:
//! by default it keeps retrying for a user who left — the load that sustains a retry storm.
//!
//! With `hedge_after_s` it hedges ([`Hedged`]): when an attempt has had no reply for that
//! long, the next attempt is sent beside it, and the first success answers the caller (later
//! replies are discarded). Hedges are attempts like any other: `max_attempts` bounds them all,
//! each takes a budget token (no token, no hedge) and counts in `retries` and in the block's
//! `hedges` column. Every attempt keeps its own `attempt_timeout_s`. An attempt that fails
//! while others are under way only waits for them; when the last one under way fails, the
//! layer backs off and retries, or gives up, exactly as without hedging. A hedge delay at or
//! beyond the attempt timeout never hedges (the timeout, armed first, fires first).

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{lane_for, Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue, When};
use crate::queue::{to_time, Event, EventKind, EventQueue, LaneId, Time, NEVER};
use crate::rng::{Purpose, Stream};
use crate::scenario::{is_default, limits, Validator};
use serde::Serialize;
use serde_json::Value;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackoffKind {
    #[default]
    None,
    Constant,
    Exponential,
}

crate::fields::by_variant!(BackoffKind {
    None = "none",
    Constant = "constant",
    Exponential = "exponential",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Jitter {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
}

crate::fields::by_variant!(Jitter {
    None = "none",
    Full = "full",
    Equal = "equal",
    Decorrelated = "decorrelated",
});

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backoff {
    pub kind: BackoffKind,
    #[serde(skip_serializing_if = "is_default")]
    pub base_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_s: Option<f64>,
    #[serde(skip_serializing_if = "is_default")]
    pub jitter: Jitter,
}

crate::fields::by_name!(Backoff {
    kind: default,
    base_s: default,
    cap_s: default,
    jitter: default,
});

/// A retry token bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    pub ratio: f64,
    pub max_tokens: f64,
}

crate::fields::by_name!(Budget {
    ratio: required,
    max_tokens: required,
});

/// Re-sends failed attempts of the calls it receives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetrySpec {
    pub id: String,
    pub to: String,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    pub max_attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_timeout_s: Option<f64>,
    /// Hedging: an attempt without a reply after this long gets the next attempt sent beside
    /// it (none: attempts are sequential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hedge_after_s: Option<f64>,
    #[serde(skip_serializing_if = "is_default")]
    pub backoff: Backoff,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(skip_serializing_if = "is_default")]
    pub respect_deadline: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(RetrySpec {
    id: required,
    to: required,
    link_latency_s: default,
    max_attempts: required,
    attempt_timeout_s: default,
    hedge_after_s: default,
    backoff: default,
    budget: default,
    respect_deadline: default,
    ui: default,
});

const MAX_ATTEMPTS: Param = Param::whole(
    "max_attempts",
    1,
    limits::MAX_ATTEMPTS as u64,
    Absent::Required,
);
const ATTEMPT_TIMEOUT_S: Param =
    Param::above("attempt_timeout_s", 0.0, limits::MAX_TIME_S, Absent::Unset);
const HEDGE_AFTER_S: Param = Param::above("hedge_after_s", 0.0, limits::MAX_TIME_S, Absent::Unset);
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
    HEDGE_AFTER_S,
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
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str = r#"{"max_attempts": 3, "attempt_timeout_s": 1.0,
    "backoff": {"kind": "exponential", "base_s": 0.05, "cap_s": 1.0, "jitter": "full"},
    "to": ""}"#;

/// Tokens left in the budget at the bucket's end; attempt timeouts per second; hedges sent
/// per second (only with `hedge_after_s`).
pub(crate) const METRICS: &[&str] = &["tokens", "timeouts", "hedges"];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::One;

impl RetrySpec {
    /// The blocks it calls, in order.
    pub(crate) fn downstream(&self) -> Vec<&str> {
        vec![self.to.as_str()]
    }

    /// Its metric columns (`<id>.<name>`), in order: [`METRICS`], or fewer when an option
    /// that has a column of its own is off (`hedges` only with `hedge_after_s`).
    pub(crate) fn metric_names(&self) -> &'static [&'static str] {
        if self.hedge_after_s.is_some() {
            METRICS
        } else {
            &METRICS[..2]
        }
    }

    pub(crate) fn validate(&self, v: &mut Validator) {
        v.whole(&MAX_ATTEMPTS, u64::from(self.max_attempts));
        if let Some(t) = self.attempt_timeout_s {
            v.param(&ATTEMPT_TIMEOUT_S, t);
        }
        if let Some(t) = self.hedge_after_s {
            v.param(&HEDGE_AFTER_S, t);
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

/// What both run-time forms of a retry block ([`Retry`], [`Hedged`]) hold besides their
/// calls: its options, its budget's tokens, its jitter stream and its counters.
struct Policy {
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
    bucket_timeouts: u64,
    /// Calls waiting out a backoff (the fluid model's orbit).
    in_backoff: usize,
}

impl Policy {
    fn new(me: u32, spec: &RetrySpec, to: u32, seed: u64, queue: &mut EventQueue) -> Policy {
        let budget = spec.budget.as_ref().map(|b| (b.ratio, b.max_tokens));
        Policy {
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
            bucket_timeouts: 0,
            in_backoff: 0,
        }
    }

    /// A call arrived: its first attempt earns `ratio` tokens.
    #[inline]
    fn deposit(&mut self) {
        if let Some((ratio, max)) = self.budget {
            self.tokens = (self.tokens + ratio).min(max);
        }
    }

    /// Takes a token for one more attempt; false when the budget has less than one.
    #[inline]
    fn take_token(&mut self) -> bool {
        if self.budget.is_some() {
            if self.tokens < 1.0 {
                return false;
            }
            self.tokens -= 1.0;
        }
        true
    }

    /// After the failure of attempt number `attempt` (none other under way): schedules the
    /// retry of the call behind `token` after its backoff and returns true, or returns false
    /// when the layer must give up (attempts, deadline or budget exhausted).
    fn back_off(
        &mut self,
        token: Token,
        attempt: u32,
        deadline: Time,
        previous_delay_s: &mut f64,
        ctx: &mut Ctx,
    ) -> bool {
        let exhausted = attempt >= self.max_attempts;
        let past_deadline = self.respect_deadline && ctx.now >= deadline;
        if exhausted || past_deadline || !self.take_token() {
            return false;
        }
        let delay_s = self
            .backoff
            .delay_s(attempt, previous_delay_s, &mut self.jitter);
        let fire = Event::new(self.me, EventKind::RetryFire, token.slot, token.generation);
        // A zero delay is still an event: after whatever is already scheduled for this instant.
        ctx.after(to_time(delay_s), fire);
        self.in_backoff += 1;
        true
    }

    /// `tokens` (state at the bucket's end; empty without a budget) and `timeouts` per second.
    fn columns(&mut self, length: Time, out: &mut Vec<Option<f64>>) {
        out.push(self.budget.map(|_| self.tokens));
        out.push(Some(self.bucket_timeouts as f64 / (length as f64 / 1e9)));
        self.bucket_timeouts = 0;
    }
}

/// A retry block without hedging: one attempt at a time.
pub(crate) struct Retry {
    p: Policy,
    calls: Slab<Attempting>,
}

impl Retry {
    pub(crate) fn new(
        me: u32,
        spec: &RetrySpec,
        to: u32,
        seed: u64,
        queue: &mut EventQueue,
    ) -> Retry {
        Retry {
            p: Policy::new(me, spec, to, seed, queue),
            calls: Slab::default(),
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        self.p.deposit();
        let token = self.calls.insert(Attempting {
            caller: call.reply_to,
            key: call.key,
            deadline: call.deadline,
            attempt: 1,
            priority: call.priority,
            client: call.client,
            previous_delay_s: self.p.backoff.base_s,
            waiting: true,
            last_failure: Outcome::Error,
        });
        let first = Call { attempt: 1, ..call };
        self.send_attempt(token, first, ctx);
    }

    /// Sends `call` (its key, deadline, attempt number and priority) as the attempt under
    /// `token` (which names this attempt alone), arming its timeout first.
    #[inline]
    fn send_attempt(&mut self, token: Token, call: Call, ctx: &mut Ctx) {
        if let Some(lane) = self.p.attempt_timeout {
            ctx.on_lane(
                lane,
                Event::new(
                    self.p.me,
                    EventKind::AttemptTimeout,
                    token.slot,
                    token.generation,
                ),
            );
        }
        ctx.call(
            self.p.to,
            Call {
                reply_to: ReplyTo {
                    block: self.p.me,
                    token,
                },
                ..call
            },
        );
    }

    #[inline(always)]
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
                    ctx.reply(self.p.me, call.caller, Outcome::Success);
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
            self.p.bucket_timeouts += 1;
            self.attempt_failed(token, Outcome::TimedOut, ctx);
        }
    }

    /// A backoff ended: send the next attempt (unless the deadline passed and it matters).
    pub(crate) fn on_retry_fire(&mut self, token: Token, ctx: &mut Ctx) {
        let Some(call) = self.calls.get_mut(token) else {
            return;
        };
        self.p.in_backoff = self.p.in_backoff.saturating_sub(1);
        if self.p.respect_deadline && ctx.now >= call.deadline {
            self.give_up(token, ctx);
            return;
        }
        // The token was renewed when the last attempt failed, and this event was its only
        // holder: it now names the new attempt.
        call.attempt += 1;
        call.waiting = true;
        let next = Call {
            key: call.key,
            deadline: call.deadline,
            reply_to: call.caller,
            attempt: u8::try_from(call.attempt).unwrap_or(u8::MAX),
            priority: call.priority,
            client: call.client,
        };
        ctx.retry_sent();
        self.send_attempt(token, next, ctx);
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
        let (attempt, deadline) = (call.attempt, call.deadline);
        if !self
            .p
            .back_off(token, attempt, deadline, &mut call.previous_delay_s, ctx)
        {
            self.give_up(token, ctx);
        }
    }

    /// Answers the caller with the last attempt's failure.
    fn give_up(&mut self, token: Token, ctx: &mut Ctx) {
        if let Some(call) = self.calls.remove(token) {
            ctx.reply(self.p.me, call.caller, call.last_failure);
        }
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.calls.get(token) {
            Some(call) if call.waiting => Waiting::Yes,
            _ => Waiting::No,
        }
    }

    /// `tokens` (state at the bucket's end; empty without a budget) and `timeouts` per second.
    pub(crate) fn columns_of(&mut self, length: Time, out: &mut Vec<Option<f64>>) {
        self.p.columns(length, out);
    }

    pub(crate) fn live(&self) -> usize {
        self.calls.len()
    }

    /// Calls waiting out a backoff before their next attempt.
    pub(crate) fn in_backoff(&self) -> usize {
        self.p.in_backoff
    }

    pub(crate) fn bytes(&self) -> usize {
        self.calls.bytes()
    }
}

// ---- Hedging: a retry block with `hedge_after_s`. ----

/// A call of a hedging retry layer: the request behind its attempts.
struct Hedging {
    caller: ReplyTo,
    key: u64,
    deadline: Time,
    /// Attempts sent so far, parallel and sequential (the last one's number).
    attempt: u32,
    /// Attempts sent and not yet answered or timed out.
    outstanding: u32,
    priority: u16,
    /// The client that created the request (for a `fair` server below).
    client: u16,
    /// Decorrelated jitter's previous delay.
    previous_delay_s: f64,
    /// How the last failed attempt failed: the answer when the retry layer gives up.
    last_failure: Outcome,
    /// When the hedge timer armed by the last attempt sent is due. A hedge timer that fires
    /// at another time was overtaken by a later attempt, and does nothing.
    hedge_due: Time,
}

/// A retry block with `hedge_after_s`: attempts may run in parallel.
///
/// Each call received is a [`Hedging`] request; each attempt has a token of its own (in
/// `attempts`, naming its request), so replies and timeouts of parallel attempts are told
/// apart. Every attempt sent arms a hedge timer on its request: if it fires while the request
/// still waits on an attempt and no later attempt was sent, the next attempt goes out beside
/// the ones under way. Its own run-time form, so that a retry block without hedging runs
/// exactly the code it ran before ([`Retry`]).
pub(crate) struct Hedged {
    p: Policy,
    hedge_after: Time,
    hedge_lane: LaneId,
    requests: Slab<Hedging>,
    /// Each attempt under way: the token of its request.
    attempts: Slab<Token>,
    bucket_hedges: u64,
}

impl Hedged {
    pub(crate) fn new(
        me: u32,
        spec: &RetrySpec,
        to: u32,
        seed: u64,
        queue: &mut EventQueue,
    ) -> Hedged {
        let p = Policy::new(me, spec, to, seed, queue);
        let hedge_after = to_time(spec.hedge_after_s.unwrap_or(f64::INFINITY));
        Hedged {
            p,
            hedge_after,
            hedge_lane: queue.lane(hedge_after),
            requests: Slab::default(),
            attempts: Slab::default(),
            bucket_hedges: 0,
        }
    }

    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        self.p.deposit();
        let request = self.requests.insert(Hedging {
            caller: call.reply_to,
            key: call.key,
            deadline: call.deadline,
            attempt: 0,
            outstanding: 0,
            priority: call.priority,
            client: call.client,
            previous_delay_s: self.p.backoff.base_s,
            last_failure: Outcome::Error,
            hedge_due: NEVER,
        });
        self.send_attempt(request, ctx);
    }

    /// Sends the next attempt of `request` with a token of its own, arming its timeout first
    /// and then, if an attempt would be left, its request's hedge timer.
    fn send_attempt(&mut self, request: Token, ctx: &mut Ctx) {
        let Some(r) = self.requests.get_mut(request) else {
            return;
        };
        r.attempt += 1;
        r.outstanding += 1;
        let more = r.attempt < self.p.max_attempts;
        if more {
            r.hedge_due = ctx.now.saturating_add(self.hedge_after);
        }
        let call = Call {
            key: r.key,
            deadline: r.deadline,
            reply_to: ReplyTo {
                block: self.p.me,
                token: self.attempts.insert(request),
            },
            attempt: u8::try_from(r.attempt).unwrap_or(u8::MAX),
            priority: r.priority,
            client: r.client,
        };
        let attempt = call.reply_to.token;
        if let Some(lane) = self.p.attempt_timeout {
            ctx.on_lane(
                lane,
                Event::new(
                    self.p.me,
                    EventKind::AttemptTimeout,
                    attempt.slot,
                    attempt.generation,
                ),
            );
        }
        if more {
            ctx.on_lane(
                self.hedge_lane,
                Event::new(
                    self.p.me,
                    EventKind::HedgeFire,
                    request.slot,
                    request.generation,
                ),
            );
        }
        ctx.call(self.p.to, call);
    }

    pub(crate) fn on_reply(&mut self, attempt: Token, outcome: Outcome, ctx: &mut Ctx) {
        // An attempt that timed out has no token any more: its reply is discarded.
        let Some(request) = self.attempts.remove(attempt) else {
            return;
        };
        // A request already answered (an earlier success): later replies are discarded.
        let Some(r) = self.requests.get_mut(request) else {
            return;
        };
        r.outstanding -= 1;
        match outcome {
            Outcome::Success => {
                if let Some(r) = self.requests.remove(request) {
                    ctx.reply(self.p.me, r.caller, Outcome::Success);
                }
            }
            failure => self.attempt_failed(request, failure, ctx),
        }
    }

    /// An attempt's timeout: it has failed, unless it was already answered. An attempt of a
    /// request answered by another attempt is forgotten without a count: nobody waits on it.
    pub(crate) fn on_attempt_timeout(&mut self, attempt: Token, ctx: &mut Ctx) {
        let Some(request) = self.attempts.remove(attempt) else {
            return;
        };
        let Some(r) = self.requests.get_mut(request) else {
            return;
        };
        r.outstanding -= 1;
        ctx.timeout_fired();
        self.p.bucket_timeouts += 1;
        self.attempt_failed(request, Outcome::TimedOut, ctx);
    }

    /// A hedge timer: sends the next attempt in parallel if the request still waits on an
    /// attempt, no attempt was sent since the timer was armed, an attempt is left, the user's
    /// deadline has not passed (with `respect_deadline`) and the budget (if any) has a token.
    pub(crate) fn on_hedge_fire(&mut self, request: Token, ctx: &mut Ctx) {
        let Some(r) = self.requests.get(request) else {
            return;
        };
        if r.hedge_due != ctx.now || r.outstanding == 0 || r.attempt >= self.p.max_attempts {
            return;
        }
        if self.p.respect_deadline && ctx.now >= r.deadline {
            return;
        }
        if !self.p.take_token() {
            return;
        }
        ctx.retry_sent();
        self.bucket_hedges += 1;
        self.send_attempt(request, ctx);
    }

    /// A backoff ended: send the next attempt (unless the deadline passed and it matters).
    pub(crate) fn on_retry_fire(&mut self, request: Token, ctx: &mut Ctx) {
        let Some(r) = self.requests.get(request) else {
            return;
        };
        self.p.in_backoff = self.p.in_backoff.saturating_sub(1);
        if self.p.respect_deadline && ctx.now >= r.deadline {
            self.give_up(request, ctx);
            return;
        }
        ctx.retry_sent();
        self.send_attempt(request, ctx);
    }

    /// An attempt failed. While others are under way the request waits for them (the first
    /// success still wins; hedge timers go on). When none is left under way it is the
    /// retry layer's usual choice: give up (attempts, deadline or budget exhausted), or back
    /// off and retry.
    fn attempt_failed(&mut self, request: Token, failure: Outcome, ctx: &mut Ctx) {
        let Some(r) = self.requests.get_mut(request) else {
            return;
        };
        r.last_failure = failure;
        if r.outstanding > 0 {
            return;
        }
        let (attempt, deadline) = (r.attempt, r.deadline);
        if !self
            .p
            .back_off(request, attempt, deadline, &mut r.previous_delay_s, ctx)
        {
            self.give_up(request, ctx);
        }
    }

    /// Answers the caller with the last attempt's failure.
    fn give_up(&mut self, request: Token, ctx: &mut Ctx) {
        if let Some(r) = self.requests.remove(request) {
            ctx.reply(self.p.me, r.caller, r.last_failure);
        }
    }

    /// Whether it still waits on this attempt: the attempt is under way and its request is
    /// not answered yet.
    pub(crate) fn waiting(&self, attempt: Token) -> Waiting {
        match self.attempts.get(attempt) {
            Some(&request) if self.requests.get(request).is_some() => Waiting::Yes,
            _ => Waiting::No,
        }
    }

    /// `tokens`, `timeouts` and `hedges` per second.
    pub(crate) fn columns(&mut self, length: Time, out: &mut Vec<Option<f64>>) {
        self.p.columns(length, out);
        out.push(Some(self.bucket_hedges as f64 / (length as f64 / 1e9)));
        self.bucket_hedges = 0;
    }

    pub(crate) fn live(&self) -> usize {
        self.requests.len()
    }

    /// Calls waiting out a backoff before their next attempt.
    pub(crate) fn in_backoff(&self) -> usize {
        self.p.in_backoff
    }

    pub(crate) fn bytes(&self) -> usize {
        self.requests.bytes() + self.attempts.bytes()
    }
}

/// A retry block's run-time state: without hedging (one attempt at a time, the hot path
/// of most scenarios) or with it.
pub(crate) enum RetryNode {
    Plain(Retry),
    Hedged(Hedged),
}

impl RetryNode {
    pub(crate) fn on_attempt_timeout(&mut self, token: Token, ctx: &mut Ctx) {
        match self {
            RetryNode::Plain(r) => r.on_attempt_timeout(token, ctx),
            RetryNode::Hedged(r) => r.on_attempt_timeout(token, ctx),
        }
    }

    pub(crate) fn on_retry_fire(&mut self, token: Token, ctx: &mut Ctx) {
        match self {
            RetryNode::Plain(r) => r.on_retry_fire(token, ctx),
            RetryNode::Hedged(r) => r.on_retry_fire(token, ctx),
        }
    }

    pub(crate) fn on_hedge_fire(&mut self, token: Token, ctx: &mut Ctx) {
        if let RetryNode::Hedged(r) = self {
            r.on_hedge_fire(token, ctx);
        }
    }

    /// Calls waiting out a backoff before their next attempt.
    pub(crate) fn in_backoff(&self) -> usize {
        match self {
            RetryNode::Plain(r) => r.in_backoff(),
            RetryNode::Hedged(r) => r.in_backoff(),
        }
    }
}

impl Behaviour for RetryNode {
    type Spec = RetrySpec;

    fn build(spec: &RetrySpec, b: &mut Build) -> RetryNode {
        let to = b.index(&spec.to);
        if spec.hedge_after_s.is_some() {
            RetryNode::Hedged(Hedged::new(b.me, spec, to, b.seed, b.queue))
        } else {
            RetryNode::Plain(Retry::new(b.me, spec, to, b.seed, b.queue))
        }
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        match self {
            RetryNode::Plain(r) => r.on_call(call, ctx),
            RetryNode::Hedged(r) => r.on_call(call, ctx),
        }
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        match self {
            RetryNode::Plain(r) => r.on_reply(token, outcome, ctx),
            RetryNode::Hedged(r) => r.on_reply(token, outcome, ctx),
        }
    }

    fn waiting(&self, token: Token) -> Waiting {
        match self {
            RetryNode::Plain(r) => r.waiting(token),
            RetryNode::Hedged(r) => r.waiting(token),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            RetryNode::Plain(r) => r.bytes(),
            RetryNode::Hedged(r) => r.bytes(),
        }
    }

    fn holding(&self) -> String {
        match self {
            RetryNode::Plain(r) => format!("{} calls being retried", r.live()),
            RetryNode::Hedged(r) => format!("{} calls being retried or hedged", r.live()),
        }
    }

    fn columns(&mut self, _end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        match self {
            RetryNode::Plain(r) => r.columns_of(length, out),
            RetryNode::Hedged(r) => r.columns(length, out),
        }
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

/// The hedging state machine driven by hand: calls in, events fired in time order, the
/// calls and replies it sends read from the outbox.
#[cfg(test)]
mod hedge_tests {
    use super::*;
    use crate::ctx::MessageKind;

    /// The caller is block 0, the hedging retry block 1, its downstream block 2.
    const CALLER: u32 = 0;

    fn ctx() -> Ctx {
        Ctx::for_tests(3)
    }

    fn hedged(fields: &str, ctx: &mut Ctx) -> Hedged {
        let spec: RetrySpec =
            serde_json::from_str(&format!(r#"{{"id": "r", "to": "s", {fields}}}"#)).unwrap();
        assert!(spec.hedge_after_s.is_some());
        Hedged::new(1, &spec, 2, 1, &mut ctx.queue)
    }

    fn call(deadline: Time) -> Call {
        Call {
            key: 7,
            deadline,
            reply_to: ReplyTo {
                block: CALLER,
                token: Token {
                    slot: 0,
                    generation: 1,
                },
            },
            attempt: 1,
            priority: 3,
            client: 0,
        }
    }

    fn s(seconds: f64) -> Time {
        to_time(seconds)
    }

    /// Fires every event due before `until`, in order.
    fn advance(h: &mut Hedged, ctx: &mut Ctx, until: Time) {
        while let Some((time, event)) = ctx.queue.pop_before(until) {
            ctx.now = time;
            let token = Token {
                slot: event.a,
                generation: event.b,
            };
            match event.kind {
                EventKind::AttemptTimeout => h.on_attempt_timeout(token, ctx),
                EventKind::HedgeFire => h.on_hedge_fire(token, ctx),
                EventKind::RetryFire => h.on_retry_fire(token, ctx),
                other => panic!("{other:?}"),
            }
        }
        ctx.now = until;
    }

    /// The attempts sent since the last look: their tokens and numbers.
    fn sent(ctx: &mut Ctx) -> Vec<(Token, u8)> {
        let mut out = Vec::new();
        let mut rest = Vec::new();
        while let Some(m) = ctx.outbox.pop() {
            if m.kind == MessageKind::Call {
                assert_eq!((m.to, m.from, m.key, m.priority), (2, 1, 7, 3));
                out.push((m.token, m.attempt));
            } else {
                rest.push(m);
            }
        }
        ctx.outbox.items = rest;
        out
    }

    /// The replies to the caller since the last look.
    fn answers(ctx: &mut Ctx) -> Vec<MessageKind> {
        let mut out = Vec::new();
        while let Some(m) = ctx.outbox.pop() {
            assert_ne!(m.kind, MessageKind::Call, "{m:?}");
            assert_eq!(u32::from(m.to), CALLER);
            out.push(m.kind);
        }
        out
    }

    #[test]
    fn hedges_go_out_every_delay_numbered_and_bounded_by_max_attempts() {
        let mut ctx = ctx();
        let mut h = hedged(r#""max_attempts": 3, "hedge_after_s": 0.1"#, &mut ctx);
        h.on_call(call(NEVER), &mut ctx);
        let first = sent(&mut ctx);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].1, 1);
        advance(&mut h, &mut ctx, s(0.1));
        assert!(sent(&mut ctx).is_empty(), "not before the delay");
        advance(&mut h, &mut ctx, s(0.1) + 1);
        let second = sent(&mut ctx);
        assert_eq!(second.iter().map(|a| a.1).collect::<Vec<_>>(), vec![2]);
        advance(&mut h, &mut ctx, s(10.0));
        let third = sent(&mut ctx);
        assert_eq!(
            third.iter().map(|a| a.1).collect::<Vec<_>>(),
            vec![3],
            "three attempts in all, two of them hedges"
        );
        assert_eq!(ctx.totals.retries, 2, "hedges count as retries");
        assert_eq!(h.bucket_hedges, 2);
        assert_eq!(h.attempts.len(), 3, "all three under way at once");
        // The first success answers; the replies after it are discarded.
        assert!(matches!(h.waiting(first[0].0), Waiting::Yes));
        h.on_reply(second[0].0, Outcome::Success, &mut ctx);
        assert_eq!(answers(&mut ctx), vec![MessageKind::Success]);
        assert!(matches!(h.waiting(first[0].0), Waiting::No));
        h.on_reply(first[0].0, Outcome::Success, &mut ctx);
        h.on_reply(third[0].0, Outcome::Error, &mut ctx);
        assert!(answers(&mut ctx).is_empty(), "later replies are discarded");
        assert_eq!(h.live(), 0);
        assert_eq!(h.attempts.len(), 0, "nothing kept for a finished call");
    }

    #[test]
    fn a_hedge_takes_a_token_and_without_one_there_is_no_hedge() {
        let mut ctx = ctx();
        let mut h = hedged(
            r#""max_attempts": 5, "hedge_after_s": 0.1, "budget": {"ratio": 0, "max_tokens": 1}"#,
            &mut ctx,
        );
        h.on_call(call(NEVER), &mut ctx);
        advance(&mut h, &mut ctx, s(10.0));
        let attempts: Vec<u8> = sent(&mut ctx).iter().map(|a| a.1).collect();
        assert_eq!(attempts, vec![1, 2], "one token, one hedge");
        assert_eq!(h.p.tokens, 0.0);
        assert_eq!(ctx.totals.retries, 1);
    }

    #[test]
    fn a_failure_waits_for_the_attempts_under_way_and_the_last_one_retries_or_gives_up() {
        let mut ctx = ctx();
        let mut h = hedged(r#""max_attempts": 4, "hedge_after_s": 0.1"#, &mut ctx);
        h.on_call(call(NEVER), &mut ctx);
        advance(&mut h, &mut ctx, s(0.15));
        let a: Vec<(Token, u8)> = sent(&mut ctx);
        assert_eq!(a.len(), 2);
        // The first fails while the hedge is under way: no retry, no answer.
        h.on_reply(a[0].0, Outcome::Error, &mut ctx);
        assert!(sent(&mut ctx).is_empty() && answers(&mut ctx).is_empty());
        // The hedge timer still runs while an attempt is under way.
        advance(&mut h, &mut ctx, s(0.25));
        let b = sent(&mut ctx);
        assert_eq!(b.iter().map(|a| a.1).collect::<Vec<_>>(), vec![3]);
        // Both under way fail: the last failure retries (backoff none: at once, as an event).
        h.on_reply(a[1].0, Outcome::Rejected, &mut ctx);
        assert!(sent(&mut ctx).is_empty());
        h.on_reply(b[0].0, Outcome::Error, &mut ctx);
        assert_eq!(h.in_backoff(), 1);
        advance(&mut h, &mut ctx, s(0.25) + 1);
        let c = sent(&mut ctx);
        assert_eq!(c.iter().map(|a| a.1).collect::<Vec<_>>(), vec![4]);
        assert_eq!(ctx.totals.retries, 3);
        assert_eq!(h.bucket_hedges, 2, "the last was a retry, not a hedge");
        // No attempt left: the last failure is the answer.
        h.on_reply(c[0].0, Outcome::Rejected, &mut ctx);
        assert_eq!(answers(&mut ctx), vec![MessageKind::Rejected]);
        advance(&mut h, &mut ctx, s(10.0));
        assert!(sent(&mut ctx).is_empty());
        assert_eq!(h.live(), 0);
    }

    #[test]
    fn a_hedge_delay_at_or_past_the_attempt_timeout_never_hedges() {
        let mut ctx = ctx();
        let mut h = hedged(
            r#""max_attempts": 3, "attempt_timeout_s": 0.1, "hedge_after_s": 0.1"#,
            &mut ctx,
        );
        h.on_call(call(NEVER), &mut ctx);
        advance(&mut h, &mut ctx, s(1.0));
        let attempts: Vec<u8> = sent(&mut ctx).iter().map(|a| a.1).collect();
        assert_eq!(
            attempts,
            vec![1, 2, 3],
            "sequential retries after each timeout"
        );
        assert_eq!(h.bucket_hedges, 0);
        assert_eq!(h.p.bucket_timeouts, 3);
        assert_eq!(answers(&mut ctx), vec![MessageKind::TimedOut]);
    }

    #[test]
    fn with_respect_deadline_no_hedge_starts_after_the_deadline() {
        for (respect, expected) in [(true, vec![1, 2]), (false, vec![1, 2, 3, 4])] {
            let mut ctx = ctx();
            let mut h = hedged(
                &format!(
                    r#""max_attempts": 4, "hedge_after_s": 0.1, "respect_deadline": {respect}"#
                ),
                &mut ctx,
            );
            h.on_call(call(s(0.15)), &mut ctx);
            advance(&mut h, &mut ctx, s(10.0));
            let attempts: Vec<u8> = sent(&mut ctx).iter().map(|a| a.1).collect();
            assert_eq!(attempts, expected, "respect_deadline {respect}");
        }
    }

    #[test]
    fn an_attempt_timeout_after_the_answer_is_not_counted() {
        let mut ctx = ctx();
        let mut h = hedged(
            r#""max_attempts": 2, "attempt_timeout_s": 0.5, "hedge_after_s": 0.1"#,
            &mut ctx,
        );
        h.on_call(call(NEVER), &mut ctx);
        advance(&mut h, &mut ctx, s(0.2));
        let a = sent(&mut ctx);
        h.on_reply(a[1].0, Outcome::Success, &mut ctx);
        assert_eq!(answers(&mut ctx), vec![MessageKind::Success]);
        advance(&mut h, &mut ctx, s(10.0));
        assert_eq!(h.p.bucket_timeouts, 0, "nobody waited on the first attempt");
        assert_eq!(ctx.totals.timeouts, 0);
        assert_eq!(h.attempts.len(), 0, "its timeout forgot it");
    }
}

/// Hedging through whole runs: the `hedges` column, and what the client sees.
#[cfg(test)]
mod hedge_run_tests {
    use crate::testing::{column, run};

    /// One request a second (at 1 s, 2 s, …, 10 s) to a server that answers in exactly 1 s;
    /// hedges after 0.1 s.
    fn slow_server(retry: &str) -> crate::Sim {
        run(&format!(
            r#"{{"version": 1, "duration_s": 11, "blocks": [
            {{"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "r"}},
            {{"id": "r", "kind": "retry", "hedge_after_s": 0.1, {retry}, "to": "s"}},
            {{"id": "s", "kind": "server", "workers": 100,
             "service": {{"dist": "deterministic", "mean_s": 1.0}}}}]}}"#
        ))
    }

    #[test]
    fn hedges_are_attempts_bounded_by_max_attempts_and_counted_in_their_column() {
        let sim = slow_server(r#""max_attempts": 3"#);
        let t = sim.totals();
        assert_eq!(t.requests, 10);
        assert_eq!(t.attempts, 30, "three attempts per request, in parallel");
        assert_eq!(t.retries, 20);
        let hedges = column(&sim, "r.hedges");
        assert_eq!(hedges.iter().sum::<f64>(), 20.0);
        assert_eq!(
            column(&sim, "retries"),
            hedges,
            "every retry here is a hedge"
        );
        // The first attempt's success answers (1 s); the hedges' are discarded: one answer
        // per request, none late.
        assert_eq!((t.good, t.late, t.failed, t.in_flight), (9, 0, 0, 1));
        assert_eq!(sim.summary().latency_mean_s, Some(1.0));
        assert_eq!(t.throughput, 27, "every attempt is served, useful or not");
    }

    #[test]
    fn a_budget_pays_for_hedges_one_token_each() {
        // The bucket starts full (2): request 1 hedges twice; then each request earns 0.5,
        // so every second request can hedge once.
        let sim = slow_server(r#""max_attempts": 5, "budget": {"ratio": 0.5, "max_tokens": 2}"#);
        assert_eq!(sim.totals().retries, 2 + 4);
        assert_eq!(column(&sim, "r.hedges").iter().sum::<f64>(), 6.0);
        let tokens = column(&sim, "r.tokens");
        assert!(tokens.iter().all(|t| (0.0..=2.0).contains(t)), "{tokens:?}");
    }

    #[test]
    fn the_hedge_that_answers_first_wins_and_the_slow_first_attempt_is_discarded() {
        // Services starting before 1.05 s take 10 × 0.2 s: the first attempt (1.0 s) is slow,
        // its hedge (1.1 s) is not. The hedge answers at 1.3 s; the first one's success at
        // 3.0 s is discarded.
        let sim = run(r#"{"version": 1, "duration_s": 5, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "r"},
            {"id": "r", "kind": "retry", "max_attempts": 2, "hedge_after_s": 0.1, "to": "s"},
            {"id": "s", "kind": "server", "workers": 10,
             "service": {"dist": "deterministic", "mean_s": 0.2}}],
            "triggers": [{"kind": "latency", "target": "s", "at_s": 0, "for_s": 1.05, "factor": 10}]}"#);
        let t = sim.totals();
        assert_eq!(t.requests, 4);
        assert_eq!((t.good, t.late, t.failed), (4, 0, 0));
        let p99 = column(&sim, "latency_p99");
        assert!((p99[1] - 0.3).abs() < 0.002, "the hedge's 0.3 s: {p99:?}");
    }

    #[test]
    fn only_a_hedging_retry_block_has_a_hedges_column() {
        let hedging = slow_server(r#""max_attempts": 2"#);
        assert!(hedging.columns().iter().any(|c| c == "r.hedges"));
        let plain = run(r#"{"version": 1, "duration_s": 3, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "to": "r"},
            {"id": "r", "kind": "retry", "max_attempts": 2, "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}}]}"#);
        let mine: Vec<&String> = plain
            .columns()
            .iter()
            .filter(|c| c.starts_with("r."))
            .collect();
        assert_eq!(mine, ["r.tokens", "r.timeouts"]);
    }
}
