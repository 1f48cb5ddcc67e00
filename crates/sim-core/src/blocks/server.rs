//! The server: workers that do the work, a queue in front of them, and optionally a dependency.
//!
//! A call that finds an idle worker starts at once; otherwise it waits in the queue (FIFO or
//! LIFO), or, when the queue is full, is rejected (an immediate error, counted in `rejected`)
//! or dropped (lost: the caller waits for its timeout). Under LIFO a full queue refuses the
//! arriving call too. The service time is drawn when service starts, times the active latency
//! triggers, times `slowdown.factor` when the queue then holds more than `slowdown.queue_above`
//! calls. After service, `error_rate` of the calls are answered with an error; with a
//! dependency (`to`) the worker then calls it and stays busy until its reply.
//!
//! Nobody tells a server that its caller gave up: a call queued behind a deadline is still
//! served, uselessly, unless `drop_expired` (the user's deadline passed) or `max_queue_wait_s`
//! (it waited too long) sheds it when a worker takes it — answered at once with an error.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue, When};
use crate::queue::{to_time, Event, EventKind, Time};
use crate::rng::{Purpose, Stream};
use crate::scenario::{is_default, limits, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    #[default]
    Reject,
    Drop,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    #[default]
    Fifo,
    Lifo,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dist {
    #[default]
    Exponential,
    Deterministic,
    Lognormal,
}

/// A service-time distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default)]
    pub dist: Dist,
    pub mean_s: f64,
    /// Coefficient of variation; used by `lognormal` (default 1), ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
}

/// Service time × `factor` for services that start while the queue holds more than
/// `queue_above` calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slowdown {
    pub factor: f64,
    pub queue_above: u64,
}

/// Does the work: workers, a queue, a service-time law, errors, and optionally a dependency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub id: String,
    pub workers: u32,
    /// Waiting room (not counting calls in service); none = unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_capacity: Option<u64>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_full: OnFull,
    #[serde(default, skip_serializing_if = "is_default")]
    pub discipline: Discipline,
    pub service: Service,
    #[serde(default, skip_serializing_if = "is_default")]
    pub error_rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<Slowdown>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub drop_expired: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue_wait_s: Option<f64>,
    /// A dependency called after the local service; the worker waits for its reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(default, skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

const WORKERS: Param = Param::whole("workers", 1, limits::MAX_WORKERS as u64, Absent::Required);
const QUEUE_CAPACITY: Param = Param::whole("queue_capacity", 0, 1_000_000_000, Absent::Unset);
const MEAN_S: Param = Param::above("service.mean_s", 0.0, limits::MAX_TIME_S, Absent::Required);
/// The coefficient of variation of a lognormal service that gives none.
const DEFAULT_CV: f64 = 1.0;
const CV: Param = Param::number("service.cv", 0.0, 100.0, Absent::Is(DEFAULT_CV))
    .when(When::Is("service.dist", "lognormal"));
const ERROR_RATE: Param = Param::number("error_rate", 0.0, 1.0, Absent::Is(0.0));
const SLOWDOWN_FACTOR: Param =
    Param::above("slowdown.factor", 0.0, limits::MAX_FACTOR, Absent::Required);
const QUEUE_ABOVE: Param = Param::whole("slowdown.queue_above", 0, u64::MAX, Absent::Required);
const MAX_QUEUE_WAIT_S: Param =
    Param::above("max_queue_wait_s", 0.0, limits::MAX_TIME_S, Absent::Unset);

/// A server's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    WORKERS,
    QUEUE_CAPACITY,
    Param::new("on_full", ParamValue::Choice(&["reject", "drop"])),
    Param::new("discipline", ParamValue::Choice(&["fifo", "lifo"])),
    Param::new(
        "service.dist",
        ParamValue::Choice(&["exponential", "deterministic", "lognormal"]),
    ),
    MEAN_S,
    CV,
    ERROR_RATE,
    Param::new(
        "slowdown",
        ParamValue::Group {
            start: r#"{"factor": 2, "queue_above": 50}"#,
        },
    ),
    SLOWDOWN_FACTOR,
    QUEUE_ABOVE,
    Param::new("drop_expired", ParamValue::Flag { absent: false }),
    MAX_QUEUE_WAIT_S,
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: true }),
];

pub(crate) const TEMPLATE: &str =
    r#"{"workers": 10, "service": {"dist": "exponential", "mean_s": 0.1}}"#;

/// Calls waiting and workers busy at the bucket's end; busy worker-time over the bucket.
pub(crate) const METRICS: &[&str] = &["queue", "busy", "utilization"];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::Optional;

impl ServerSpec {
    /// The blocks it calls, in order.
    pub(crate) fn downstream(&self) -> Vec<&str> {
        self.to.iter().map(String::as_str).collect()
    }

    /// Its metric columns (`<id>.<name>`), in order: [`METRICS`], or fewer when an option
    /// that has a column of its own is off.
    pub(crate) fn metric_names(&self) -> &'static [&'static str] {
        METRICS
    }

    pub(crate) fn validate(&self, v: &mut Validator) {
        v.whole(&WORKERS, u64::from(self.workers));
        if let Some(q) = self.queue_capacity {
            if q > 1_000_000_000 {
                v.problem(
                    "queue_capacity",
                    format!("must be ≤ 1000000000 (got {q}); omit it for an unbounded queue"),
                );
            }
        }
        v.param(&MEAN_S, self.service.mean_s);
        if let Some(cv) = self.service.cv {
            v.param(&CV, cv);
        }
        v.param(&ERROR_RATE, self.error_rate);
        if let Some(slow) = &self.slowdown {
            v.param(&SLOWDOWN_FACTOR, slow.factor);
        }
        if let Some(wait) = self.max_queue_wait_s {
            v.param(&MAX_QUEUE_WAIT_S, wait);
        }
    }
}

struct Queued {
    call: Call,
    since: Time,
}

/// A service-time law with its parameters precomputed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ServiceLaw {
    Exponential {
        mean_s: f64,
    },
    Deterministic {
        mean_s: f64,
    },
    /// ln(S) ~ Normal(mu, sigma), with E[S] = mean and CV[S] = cv.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
}

impl ServiceLaw {
    pub(crate) fn new(dist: Dist, mean_s: f64, cv: Option<f64>) -> ServiceLaw {
        match dist {
            Dist::Exponential => ServiceLaw::Exponential { mean_s },
            Dist::Deterministic => ServiceLaw::Deterministic { mean_s },
            Dist::Lognormal => {
                let cv = cv.unwrap_or(DEFAULT_CV);
                let variance = libm::log(1.0 + cv * cv);
                ServiceLaw::Lognormal {
                    mu: libm::log(mean_s) - variance / 2.0,
                    sigma: libm::sqrt(variance),
                }
            }
        }
    }

    pub(crate) fn draw_s(&self, rng: &mut Stream) -> f64 {
        match *self {
            ServiceLaw::Exponential { mean_s } => rng.exponential(mean_s),
            ServiceLaw::Deterministic { mean_s } => mean_s,
            ServiceLaw::Lognormal { mu, sigma } => libm::exp(mu + sigma * rng.normal()),
        }
    }
}

pub(crate) struct Server {
    me: u32,
    base_workers: u32,
    /// Workers allowed now (a capacity trigger changes it).
    workers: u32,
    busy: u32,
    queue: VecDeque<Queued>,
    queue_capacity: Option<usize>,
    drop_when_full: bool,
    lifo: bool,
    law: ServiceLaw,
    base_error_rate: f64,
    error_rate: f64,
    slowdown: Option<(f64, usize)>,
    drop_expired: bool,
    max_queue_wait: Option<Time>,
    dependency: Option<u32>,
    latency_factor: f64,
    outage: bool,
    service_rng: Stream,
    error_rng: Stream,
    /// False when no call can ever fail here (no `error_rate`, no `errors` trigger): the error
    /// draw is then skipped. Rationale: the errors stream serves only that draw, so skipping
    /// it changes nothing else, and whenever a rate can be non-zero every service draws, so a
    /// trigger does not shift the draws of other services.
    may_fail: bool,
    /// Calls in service (or waiting on the dependency).
    working: Slab<Call>,
    /// ∫ busy dt over the current bucket, in worker·nanoseconds.
    busy_integral: u128,
    busy_since: Time,
}

impl Server {
    /// `error_trigger`: whether an `errors` trigger targets this server.
    pub(crate) fn new(
        me: u32,
        spec: &ServerSpec,
        dependency: Option<u32>,
        seed: u64,
        error_trigger: bool,
    ) -> Server {
        Server {
            me,
            base_workers: spec.workers,
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            queue_capacity: spec.queue_capacity.map(|c| c as usize),
            drop_when_full: spec.on_full == OnFull::Drop,
            lifo: spec.discipline == Discipline::Lifo,
            law: ServiceLaw::new(spec.service.dist, spec.service.mean_s, spec.service.cv),
            base_error_rate: spec.error_rate,
            error_rate: spec.error_rate,
            slowdown: spec
                .slowdown
                .as_ref()
                .map(|s| (s.factor, s.queue_above as usize)),
            drop_expired: spec.drop_expired,
            max_queue_wait: spec.max_queue_wait_s.map(to_time),
            dependency,
            latency_factor: 1.0,
            outage: false,
            service_rng: Stream::new(seed, &spec.id, Purpose::Service),
            error_rng: Stream::new(seed, &spec.id, Purpose::Errors),
            may_fail: spec.error_rate > 0.0 || error_trigger,
            working: Slab::default(),
            busy_integral: 0,
            busy_since: 0,
        }
    }

    fn set_busy(&mut self, busy: u32, now: Time) {
        self.busy_integral += u128::from(self.busy) * u128::from(now - self.busy_since);
        self.busy_since = now;
        self.busy = busy;
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        ctx.attempt_arrived();
        if self.outage {
            ctx.call_rejected();
            ctx.reply(self.me, call.reply_to, Outcome::Rejected);
            return;
        }
        if self.busy < self.workers && self.queue.is_empty() {
            self.take(call, ctx.now, ctx);
            return;
        }
        if self
            .queue_capacity
            .is_some_and(|capacity| self.queue.len() >= capacity)
        {
            if !self.drop_when_full {
                ctx.call_rejected();
                ctx.reply(self.me, call.reply_to, Outcome::Rejected);
            }
            return;
        }
        self.queue.push_back(Queued {
            call,
            since: ctx.now,
        });
    }

    /// A worker takes `call`: shed it if a mitigation says so, else start its service.
    fn take(&mut self, call: Call, since: Time, ctx: &mut Ctx) {
        let expired = self.drop_expired && ctx.now >= call.deadline;
        let waited_too_long = self.max_queue_wait.is_some_and(|max| ctx.now - since > max);
        if expired || waited_too_long {
            ctx.error_made();
            ctx.reply(self.me, call.reply_to, Outcome::Error);
            return;
        }
        self.set_busy(self.busy + 1, ctx.now);
        let mut service_s = self.law.draw_s(&mut self.service_rng) * self.latency_factor;
        if let Some((factor, above)) = self.slowdown {
            if self.queue.len() > above {
                service_s *= factor;
            }
        }
        let token = self.working.insert(call);
        ctx.after(
            to_time(service_s),
            Event::new(
                self.me,
                EventKind::ServiceDone,
                token.slot,
                token.generation,
            ),
        );
    }

    /// Free workers take queued calls (newest first under LIFO).
    fn fill_workers(&mut self, ctx: &mut Ctx) {
        while self.busy < self.workers {
            let next = if self.lifo {
                self.queue.pop_back()
            } else {
                self.queue.pop_front()
            };
            let Some(queued) = next else {
                break;
            };
            self.take(queued.call, queued.since, ctx);
        }
    }

    /// A service finished: answer, or call the dependency; then take the next queued call.
    pub(crate) fn on_service_done(&mut self, token: Token, ctx: &mut Ctx) {
        ctx.service_completed();
        // Drawn for every service whenever errors are possible (see `may_fail`).
        let error = self.may_fail && self.error_rng.uniform() < self.error_rate;
        if !error {
            if let (Some(dependency), Some(call)) = (self.dependency, self.working.get(token)) {
                let call = Call {
                    reply_to: ReplyTo {
                        block: self.me,
                        token,
                    },
                    attempt: 1,
                    ..*call
                };
                ctx.call(dependency, call);
                return; // the worker stays busy until the dependency answers
            }
        }
        let Some(call) = self.working.remove(token) else {
            return;
        };
        self.set_busy(self.busy - 1, ctx.now);
        if error {
            ctx.error_made();
            ctx.reply(self.me, call.reply_to, Outcome::Error);
        } else {
            // The success carries this service: useful if it reaches its user in time.
            ctx.reply_carrying(self.me, call.reply_to, Outcome::Success, 1);
        }
        self.fill_workers(ctx);
    }

    /// The dependency answered a worker.
    #[inline(always)]
    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        let Some(call) = self.working.remove(token) else {
            return;
        };
        self.set_busy(self.busy - 1, ctx.now);
        // Any failure of the dependency is an error made here; the reply keeps its cause.
        if outcome.is_failure() {
            ctx.error_made();
        }
        // Its own service and the dependency's: useful together when the reply is.
        let services = ctx.carried.saturating_add(1);
        ctx.reply_carrying(self.me, call.reply_to, outcome, services);
        self.fill_workers(ctx);
    }

    pub(crate) fn set_latency_factor(&mut self, factor: f64) {
        self.latency_factor = factor;
    }

    pub(crate) fn set_outage(&mut self, outage: bool) {
        self.outage = outage;
    }

    /// A capacity trigger: `None` restores the configured workers. Busy workers above the new
    /// count finish their call first; added workers start on the queue at once.
    pub(crate) fn set_workers(&mut self, workers: Option<u32>, ctx: &mut Ctx) {
        self.workers = workers.unwrap_or(self.base_workers);
        self.fill_workers(ctx);
    }

    pub(crate) fn set_error_rate(&mut self, rate: Option<f64>) {
        self.error_rate = rate.unwrap_or(self.base_error_rate);
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        if self.working.get(token).is_some() {
            Waiting::Yes
        } else {
            Waiting::No
        }
    }

    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Calls in service.
    pub(crate) fn in_service(&self) -> usize {
        self.busy as usize
    }

    /// `queue`, `busy` (state at the bucket's end) and `utilization` (busy worker-time over
    /// configured worker-time in the bucket).
    pub(crate) fn columns_of(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        self.set_busy(self.busy, end);
        let utilization =
            self.busy_integral as f64 / (f64::from(self.base_workers) * length as f64);
        self.busy_integral = 0;
        out.push(Some(self.queue.len() as f64));
        out.push(Some(f64::from(self.busy)));
        out.push(Some(utilization));
    }

    pub(crate) fn bytes(&self) -> usize {
        self.queue.len() * std::mem::size_of::<Queued>() + self.working.bytes()
    }
}

impl Behaviour for Server {
    type Spec = ServerSpec;

    fn build(spec: &ServerSpec, b: &mut Build) -> Server {
        let to = spec.to.as_deref().map(|t| b.index(t));
        // Errors are drawn for every service when the server can fail at all.
        let error_trigger = b
            .scenario
            .triggers
            .iter()
            .any(|t| t.kind() == crate::kind::TriggerKind::Errors && t.target() == spec.id);
        Server::new(b.me, spec, to, b.seed, error_trigger)
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        Server::on_call(self, call, ctx)
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        Server::on_reply(self, token, outcome, ctx)
    }

    fn waiting(&self, token: Token) -> Waiting {
        Server::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Server::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} queued calls", self.queued())
    }

    fn columns(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        self.columns_of(end, length, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_has_the_requested_mean_and_cv() {
        let law = ServiceLaw::new(Dist::Lognormal, 0.2, Some(0.5));
        let mut rng = Stream::new(9, "s", Purpose::Service);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| law.draw_s(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64).sqrt();
        assert!((mean - 0.2).abs() < 0.002, "mean {mean}");
        assert!((sd / mean - 0.5).abs() < 0.01, "cv {}", sd / mean);
    }

    #[test]
    fn deterministic_is_constant() {
        let law = ServiceLaw::new(Dist::Deterministic, 0.3, None);
        let mut rng = Stream::new(9, "s", Purpose::Service);
        assert!((0..10).all(|_| law.draw_s(&mut rng) == 0.3));
    }
}

#[cfg(test)]
mod shedding_tests {
    use crate::testing::{run, total};

    #[test]
    fn drop_expired_sheds_a_late_call_even_when_a_worker_is_idle() {
        // The first attempt outlives its 0.05 s timeout; the retry comes 0.2 s later, after the
        // user's 0.1 s deadline, to an idle server: it is answered with an error, not served.
        let sim = run(r#"{"version": 1, "duration_s": 20.5, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "timeout_s": 0.1, "to": "r"},
            {"id": "r", "kind": "retry", "max_attempts": 2, "attempt_timeout_s": 0.05,
             "backoff": {"kind": "constant", "base_s": 0.2}, "to": "s"},
            {"id": "s", "kind": "server", "workers": 10, "drop_expired": true,
             "service": {"dist": "deterministic", "mean_s": 0.08}}]}"#);
        let t = sim.totals();
        assert_eq!(t.requests, 20);
        assert_eq!(t.errors, 20, "every retry is shed");
        assert_eq!(t.throughput, 20, "only first attempts are served");
        assert_eq!(
            total(&sim, "s.busy", 0, 20),
            0.0,
            "nothing is left in service at bucket ends"
        );
    }

    #[test]
    fn max_queue_wait_sheds_by_age_not_by_deadline() {
        // No user timeout at all: only the queue age decides. One worker, 1 s services, two
        // calls per second: the queue grows, and calls that waited over 1.5 s are shed.
        let sim = run(r#"{"version": 1, "duration_s": 30, "blocks": [
            {"id": "u", "kind": "client", "rate": 2, "arrival": "uniform", "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "max_queue_wait_s": 1.5,
             "service": {"dist": "deterministic", "mean_s": 1}}]}"#);
        let t = sim.totals();
        assert!(t.errors > 20, "{t:?}");
        assert!(t.good >= 28, "served calls all succeed: {t:?}");
        assert_eq!(t.failed, t.errors);
    }
}
