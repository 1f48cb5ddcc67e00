//! The server: workers that do the work, a queue in front of them, and optionally a dependency.
//!
//! A call that finds an idle worker and nobody waiting starts at once; otherwise it waits in
//! the queue, or, when the queue is full, is refused: rejected (an immediate error, counted in
//! `rejected`) or dropped (lost: the caller waits for its timeout). The service time is drawn
//! when service starts, times the active latency triggers, times `slowdown.factor` when the
//! queue then holds more than `slowdown.queue_above` calls. After service, `error_rate` of the
//! calls are answered with an error; with a dependency (`to`) the worker then calls it and
//! stays busy until its reply.
//!
//! Which waiting call a free worker takes is the `discipline`: `fifo` (the oldest), `lifo`
//! (the newest), `priority` (the lowest client priority, then the lowest attempt number, the
//! oldest among equals), `fair` (one FIFO per origin client, served in turn), or `codel`
//! (adaptive LIFO with CoDel's shedding, "Fail at Scale": FIFO while the queue has been empty
//! within the last `codel.interval_s`, otherwise LIFO). A full queue refuses the arriving call,
//! except that under `priority` an arriving call pushes out the least important waiting one
//! (the newest among equals) when it is strictly more important, and under `fair` it pushes
//! out the newest call of the client with the most waiting calls when that client has more
//! waiting than the arriving call's own.
//!
//! Nobody tells a server that its caller gave up: a call queued behind a deadline is still
//! served, uselessly, unless `drop_expired` (the user's deadline passed), `max_queue_wait_s`
//! (it waited too long) or `codel` sheds it when a worker takes it — answered with an error at
//! once, or after `shed_cost_s` of the worker's time (a slow error path).
//!
//! With `autoscale`, a scaler reads the mean utilization every `interval_s` and sets the
//! worker count to ⌈active × utilization / target⌉ within [min, max]: added workers serve
//! after `warmup_s`, removed ones leave when idle, at most one scale-down per `cooldown_s`.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue, When};
use crate::queue::{to_time, Event, EventKind, Time};
use crate::rng::{Purpose, Stream};
use crate::scenario::{is_default, limits, Validator};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::collections::VecDeque;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnFull {
    #[default]
    Reject,
    Drop,
}

crate::fields::by_variant!(OnFull {
    Reject = "reject",
    Drop = "drop",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Discipline {
    #[default]
    Fifo,
    Lifo,
    /// Lowest (client priority, attempt number) first; FIFO among equals.
    Priority,
    /// One FIFO per origin client, served in turn.
    Fair,
    /// Adaptive LIFO with CoDel's shedding.
    Codel,
}

crate::fields::by_variant!(Discipline {
    Fifo = "fifo",
    Lifo = "lifo",
    Priority = "priority",
    Fair = "fair",
    Codel = "codel",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dist {
    #[default]
    Exponential,
    Deterministic,
    Lognormal,
}

crate::fields::by_variant!(Dist {
    Exponential = "exponential",
    Deterministic = "deterministic",
    Lognormal = "lognormal",
});

/// A service-time distribution.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Service {
    pub dist: Dist,
    pub mean_s: f64,
    /// Coefficient of variation; used by `lognormal` (default 1), ignored otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
}

crate::fields::by_name!(Service {
    dist: default,
    mean_s: required,
    cv: default,
});

/// Service time × `factor` for services that start while the queue holds more than
/// `queue_above` calls.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Slowdown {
    pub factor: f64,
    pub queue_above: u64,
}

crate::fields::by_name!(Slowdown {
    factor: required,
    queue_above: required,
});

/// CoDel's two times (`discipline: codel`); absent ones take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Codel {
    /// Congested, a call that waited longer than this is shed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_s: Option<f64>,
    /// The queue counts as congested when it has not been empty for this long; not congested,
    /// a call that waited longer than this is shed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<f64>,
}

crate::fields::by_name!(Codel {
    target_s: default,
    interval_s: default,
});

/// A target-tracking autoscaler of the server's workers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Autoscale {
    /// The utilization the scaler steers to.
    pub target_utilization: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_workers: Option<u32>,
    pub max_workers: u32,
    /// How often it decides (and the window it measures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<f64>,
    /// How long an added worker takes before it serves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_s: Option<f64>,
    /// Least time from the scaler's last change to a scale-down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<f64>,
}

crate::fields::by_name!(Autoscale {
    target_utilization: required,
    min_workers: default,
    max_workers: required,
    interval_s: default,
    warmup_s: default,
    cooldown_s: default,
});

/// Does the work: workers, a queue, a service-time law, errors, and optionally a dependency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerSpec {
    pub id: String,
    pub workers: u32,
    /// Waiting room (not counting calls in service); none = unbounded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_capacity: Option<u64>,
    #[serde(skip_serializing_if = "is_default")]
    pub on_full: OnFull,
    #[serde(skip_serializing_if = "is_default")]
    pub discipline: Discipline,
    /// CoDel's times (`discipline: codel` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codel: Option<Codel>,
    pub service: Service,
    #[serde(skip_serializing_if = "is_default")]
    pub error_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<Slowdown>,
    #[serde(skip_serializing_if = "is_default")]
    pub drop_expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_queue_wait_s: Option<f64>,
    /// Worker time spent answering a call it sheds (0: the error reply is instant).
    #[serde(skip_serializing_if = "is_default")]
    pub shed_cost_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
    /// A dependency called after the local service; the worker waits for its reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(ServerSpec {
    id: required,
    workers: required,
    queue_capacity: default,
    on_full: default,
    discipline: default,
    codel: default,
    service: required,
    error_rate: default,
    slowdown: default,
    drop_expired: default,
    max_queue_wait_s: default,
    shed_cost_s: default,
    autoscale: default,
    to: default,
    link_latency_s: default,
    ui: default,
});

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
const DEFAULT_CODEL_TARGET_S: f64 = 0.005;
const DEFAULT_CODEL_INTERVAL_S: f64 = 0.1;
const CODEL_TARGET_S: Param = Param::above(
    "codel.target_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_CODEL_TARGET_S),
)
.when(When::Is("discipline", "codel"));
const CODEL_INTERVAL_S: Param = Param::above(
    "codel.interval_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_CODEL_INTERVAL_S),
)
.when(When::Is("discipline", "codel"));
const SHED_COST_S: Param = Param::number("shed_cost_s", 0.0, limits::MAX_TIME_S, Absent::Is(0.0));
const DEFAULT_MIN_WORKERS: u32 = 1;
const DEFAULT_SCALE_INTERVAL_S: f64 = 10.0;
const DEFAULT_WARMUP_S: f64 = 30.0;
const DEFAULT_COOLDOWN_S: f64 = 60.0;
const TARGET_UTILIZATION: Param =
    Param::above("autoscale.target_utilization", 0.0, 1.0, Absent::Required);
const MIN_WORKERS: Param = Param::whole(
    "autoscale.min_workers",
    1,
    limits::MAX_WORKERS as u64,
    Absent::Is(DEFAULT_MIN_WORKERS as f64),
);
const MAX_WORKERS: Param = Param::whole(
    "autoscale.max_workers",
    1,
    limits::MAX_WORKERS as u64,
    Absent::Required,
);
/// At least a millisecond: a decision every nanosecond would be a loop that takes no time.
const SCALE_INTERVAL_S: Param = Param::number(
    "autoscale.interval_s",
    limits::MIN_BUCKET_S,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_SCALE_INTERVAL_S),
);
const WARMUP_S: Param = Param::number(
    "autoscale.warmup_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_WARMUP_S),
);
const COOLDOWN_S: Param = Param::number(
    "autoscale.cooldown_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_COOLDOWN_S),
);

/// A server's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    WORKERS,
    QUEUE_CAPACITY,
    Param::new("on_full", ParamValue::Choice(&["reject", "drop"])),
    Param::new(
        "discipline",
        ParamValue::Choice(&["fifo", "lifo", "priority", "fair", "codel"]),
    ),
    Param::new(
        "codel",
        ParamValue::Group {
            start: r#"{"target_s": 0.005, "interval_s": 0.1}"#,
        },
    )
    .when(When::Is("discipline", "codel")),
    CODEL_TARGET_S,
    CODEL_INTERVAL_S,
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
    SHED_COST_S,
    Param::new(
        "autoscale",
        ParamValue::Group {
            start: r#"{"target_utilization": 0.7, "min_workers": 1, "max_workers": 40, "interval_s": 10, "warmup_s": 30, "cooldown_s": 60}"#,
        },
    ),
    TARGET_UTILIZATION,
    MIN_WORKERS,
    MAX_WORKERS,
    SCALE_INTERVAL_S,
    WARMUP_S,
    COOLDOWN_S,
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: true }),
];

pub(crate) const TEMPLATE: &str =
    r#"{"workers": 10, "service": {"dist": "exponential", "mean_s": 0.1}}"#;

/// Calls waiting and workers busy at the bucket's end; busy worker-time over the bucket; with
/// `autoscale` only, the active workers and those warming up at the bucket's end.
pub(crate) const METRICS: &[&str] = &["queue", "busy", "utilization", "workers", "pending"];

/// The columns of a server without `autoscale`.
const PLAIN_METRICS: usize = 3;

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
        if self.autoscale.is_some() {
            METRICS
        } else {
            &METRICS[..PLAIN_METRICS]
        }
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
        if let Some(codel) = &self.codel {
            if self.discipline != Discipline::Codel {
                v.problem("codel", "only for discipline \"codel\"");
            }
            if let Some(target) = codel.target_s {
                v.param(&CODEL_TARGET_S, target);
            }
            if let Some(interval) = codel.interval_s {
                v.param(&CODEL_INTERVAL_S, interval);
            }
        }
        v.param(&SHED_COST_S, self.shed_cost_s);
        if let Some(scale) = &self.autoscale {
            v.param(&TARGET_UTILIZATION, scale.target_utilization);
            let min = scale.min_workers.unwrap_or(DEFAULT_MIN_WORKERS);
            v.whole(&MIN_WORKERS, u64::from(min));
            v.whole(&MAX_WORKERS, u64::from(scale.max_workers));
            for (value, param) in [
                (scale.interval_s, &SCALE_INTERVAL_S),
                (scale.warmup_s, &WARMUP_S),
                (scale.cooldown_s, &COOLDOWN_S),
            ] {
                if let Some(value) = value {
                    v.param(param, value);
                }
            }
            if min > scale.max_workers {
                v.problem(
                    "autoscale.min_workers",
                    format!(
                        "must be ≤ autoscale.max_workers ({}) (got {min})",
                        scale.max_workers
                    ),
                );
            } else if self.workers < min || self.workers > scale.max_workers {
                v.problem(
                    "workers",
                    format!(
                        "the workers a scaled server starts with must be between autoscale.min_workers ({min}) and autoscale.max_workers ({}) (got {})",
                        scale.max_workers, self.workers
                    ),
                );
            }
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

/// Which waiting call a free worker takes, decided at construction.
///
/// Rationale: FIFO and LIFO keep the plain deque and the code they always had; CoDel uses the
/// same deque and decides its end at each take; only `priority` and `fair` need a keyed room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Fifo,
    Lifo,
    Codel,
    Keyed,
}

/// The waiting room of `priority` and `fair`.
enum Keyed {
    /// FIFO and LIFO servers (their calls wait in `Server::queue`).
    Off,
    Priority(PriorityRoom),
    Fair(FairRoom),
}

impl Keyed {
    #[inline]
    fn len(&self) -> usize {
        match self {
            Keyed::Off => 0,
            Keyed::Priority(room) => room.len,
            Keyed::Fair(room) => room.len,
        }
    }

    fn push(&mut self, queued: Queued) {
        match self {
            Keyed::Off => {}
            Keyed::Priority(room) => room.push(queued),
            Keyed::Fair(room) => room.push(queued),
        }
    }

    #[inline(never)]
    fn pop(&mut self) -> Option<Queued> {
        match self {
            Keyed::Off => None,
            Keyed::Priority(room) => room.pop(),
            Keyed::Fair(room) => room.pop(),
        }
    }

    /// A full room and an arriving call: the waiting call to refuse in its place, or `None`
    /// when the arriving call itself is refused.
    fn push_out(&mut self, arriving: &Call) -> Option<Queued> {
        match self {
            Keyed::Off => None,
            Keyed::Priority(room) => room.push_out(arriving),
            Keyed::Fair(room) => room.push_out(arriving),
        }
    }

    fn bytes(&self) -> usize {
        let lane = std::mem::size_of::<VecDeque<Queued>>() + 16;
        match self {
            Keyed::Off => 0,
            Keyed::Priority(room) => {
                room.len * std::mem::size_of::<Queued>() + room.lanes.len() * lane
            }
            Keyed::Fair(room) => {
                room.len * std::mem::size_of::<Queued>()
                    + room.lanes.len() * lane
                    + room.turn.len() * 2
            }
        }
    }
}

/// `priority`: one FIFO per key (client priority, attempt number), the lowest key first. A
/// map, not a sorted list: there can be thousands of keys (a priority per client, an attempt
/// number per retry), and lanes come and go as they empty, which a list would pay for by
/// shifting every lane after them.
#[derive(Default)]
struct PriorityRoom {
    /// Non-empty lanes by [`PriorityRoom::key`].
    lanes: BTreeMap<u32, VecDeque<Queued>>,
    len: usize,
}

impl PriorityRoom {
    fn key(call: &Call) -> u32 {
        (u32::from(call.priority) << 8) | u32::from(call.attempt)
    }

    fn push(&mut self, queued: Queued) {
        self.lanes
            .entry(PriorityRoom::key(&queued.call))
            .or_default()
            .push_back(queued);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Queued> {
        let mut lane = self.lanes.first_entry()?;
        let queued = lane.get_mut().pop_front();
        if lane.get().is_empty() {
            lane.remove();
        }
        self.len -= usize::from(queued.is_some());
        queued
    }

    /// The least important waiting call (the newest among equals) if the arriving call is
    /// strictly more important.
    fn push_out(&mut self, arriving: &Call) -> Option<Queued> {
        let mut worst = self.lanes.last_entry()?;
        if *worst.key() <= PriorityRoom::key(arriving) {
            return None;
        }
        let queued = worst.get_mut().pop_back();
        if worst.get().is_empty() {
            worst.remove();
        }
        self.len -= usize::from(queued.is_some());
        queued
    }
}

/// `fair`: one FIFO per origin client, and the turn of the clients that have waiting calls.
#[derive(Default)]
struct FairRoom {
    /// Lanes by client block index (a lane stays once made: there are few clients). Keyed
    /// by `u32`, as the priority discipline's lanes are: one map type for both, since each
    /// map type adds its code to every page's wasm (docs/performance.md).
    lanes: BTreeMap<u32, VecDeque<Queued>>,
    /// Clients with waiting calls, the next to be served first.
    turn: VecDeque<u16>,
    len: usize,
}

impl FairRoom {
    fn push(&mut self, queued: Queued) {
        let client = queued.call.client;
        let lane = self.lanes.entry(u32::from(client)).or_default();
        if lane.is_empty() {
            self.turn.push_back(client);
        }
        lane.push_back(queued);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Queued> {
        let client = self.turn.pop_front()?;
        let lane = self.lanes.get_mut(&u32::from(client))?;
        let queued = lane.pop_front();
        if !lane.is_empty() {
            self.turn.push_back(client);
        }
        self.len -= usize::from(queued.is_some());
        queued
    }

    /// Longest-queue drop: the newest call of the client with the most waiting calls (the
    /// lowest index among equals), if it has more waiting than the arriving call's client.
    fn push_out(&mut self, arriving: &Call) -> Option<Queued> {
        let own = self
            .lanes
            .get(&u32::from(arriving.client))
            .map_or(0, VecDeque::len);
        let mut longest: Option<(u32, usize)> = None;
        for (&client, lane) in &self.lanes {
            if client != u32::from(arriving.client) && lane.len() > longest.map_or(0, |(_, n)| n) {
                longest = Some((client, lane.len()));
            }
        }
        let (victim, n) = longest?;
        if n <= own {
            return None;
        }
        let lane = self.lanes.get_mut(&victim)?;
        let queued = lane.pop_back();
        if lane.is_empty() {
            self.turn.retain(|&c| u32::from(c) != victim);
        }
        self.len -= usize::from(queued.is_some());
        queued
    }
}

/// The autoscaler's state (SPEC §8).
struct Scaler {
    target: f64,
    min: u32,
    max: u32,
    interval: Time,
    warmup: Time,
    cooldown: Time,
    /// Workers serving: the server's count unless a capacity trigger overrides it.
    active: u32,
    /// Batches of workers warming up, in the order they become ready.
    pending: VecDeque<u32>,
    pending_total: u32,
    /// Moves on when warming batches are cancelled: their events then carry a stale epoch.
    epoch: u32,
    /// When the scaler last changed its plan (up or down); a scale-down waits `cooldown`.
    last_change: Time,
    /// A capacity trigger is active: the scaler neither decides nor sets the count.
    overridden: bool,
    /// ∫ active dt up to `active_since`, in worker·nanoseconds.
    active_time: u128,
    active_since: Time,
    /// Busy worker-time of the metric buckets already closed (the server's `busy_integral`
    /// holds the current one's).
    busy_closed: u128,
    /// Busy and active worker-time at the start of the scaler's current window.
    window_busy: u128,
    window_active: u128,
    /// Active worker-time at the start of the current metric bucket.
    bucket_active: u128,
}

impl Scaler {
    fn new(spec: &Autoscale, workers: u32) -> Scaler {
        Scaler {
            target: spec.target_utilization,
            min: spec.min_workers.unwrap_or(DEFAULT_MIN_WORKERS),
            max: spec.max_workers,
            interval: to_time(spec.interval_s.unwrap_or(DEFAULT_SCALE_INTERVAL_S)).max(1),
            warmup: to_time(spec.warmup_s.unwrap_or(DEFAULT_WARMUP_S)),
            cooldown: to_time(spec.cooldown_s.unwrap_or(DEFAULT_COOLDOWN_S)),
            active: workers,
            pending: VecDeque::new(),
            pending_total: 0,
            epoch: 0,
            // Time 0 is the deployment: no scale-down before a first cool-down.
            last_change: 0,
            overridden: false,
            active_time: 0,
            active_since: 0,
            busy_closed: 0,
            window_busy: 0,
            window_active: 0,
            bucket_active: 0,
        }
    }

    /// ∫ active dt up to `now`.
    fn active_time_at(&self, now: Time) -> u128 {
        self.active_time + u128::from(self.active) * u128::from(now - self.active_since)
    }

    fn set_active(&mut self, active: u32, now: Time) {
        self.active_time = self.active_time_at(now);
        self.active_since = now;
        self.active = active;
    }

    /// The rule of SPEC §8: ⌈active × utilization / target⌉ within [min, max]. Rationale for
    /// the 1e-9: a utilization exactly at the target must not round up through the last bit
    /// of a division.
    fn desired(&self, utilization: f64) -> u32 {
        let want = (f64::from(self.active) * utilization / self.target - 1e-9).ceil();
        if want.is_nan() {
            return self.active;
        }
        want.clamp(f64::from(self.min), f64::from(self.max)) as u32
    }
}

pub(crate) struct Server {
    me: u32,
    base_workers: u32,
    /// Workers allowed now (a capacity trigger or the scaler changes it).
    workers: u32,
    busy: u32,
    /// The waiting calls of FIFO, LIFO and CoDel servers.
    queue: VecDeque<Queued>,
    order: Order,
    /// FIFO or LIFO (`order` as the two flags the hot path reads).
    plain: bool,
    lifo: bool,
    /// What only the other disciplines use (boxed: FIFO and LIFO servers stay as small as
    /// they were).
    rooms: Box<Rooms>,
    queue_capacity: Option<usize>,
    drop_when_full: bool,
    law: ServiceLaw,
    base_error_rate: f64,
    error_rate: f64,
    slowdown: Option<(f64, usize)>,
    drop_expired: bool,
    max_queue_wait: Option<Time>,
    /// Worker time spent on a call it sheds; 0 answers at once.
    shed_cost: Time,
    scaler: Option<Box<Scaler>>,
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
    /// Calls in service (or waiting on the dependency, or being shed at a cost).
    working: Slab<Call>,
    /// ∫ busy dt over the current bucket, in worker·nanoseconds, up to `busy_since`.
    busy_integral: u128,
    busy_since: Time,
}

/// The waiting room of `priority` and `fair`, and CoDel's state.
struct Rooms {
    /// The waiting calls of `priority` and `fair` servers.
    keyed: Keyed,
    /// CoDel: the leash of calls that arrive congested and of the others, and since when the
    /// queue has held calls (the last moment it was empty).
    codel_target: Time,
    codel_interval: Time,
    nonempty_since: Time,
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
        let codel = spec.codel.clone().unwrap_or_default();
        Server {
            me,
            base_workers: spec.workers,
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            order: match spec.discipline {
                Discipline::Fifo => Order::Fifo,
                Discipline::Lifo => Order::Lifo,
                Discipline::Codel => Order::Codel,
                Discipline::Priority | Discipline::Fair => Order::Keyed,
            },
            plain: matches!(spec.discipline, Discipline::Fifo | Discipline::Lifo),
            lifo: spec.discipline == Discipline::Lifo,
            rooms: Box::new(Rooms {
                keyed: match spec.discipline {
                    Discipline::Priority => Keyed::Priority(PriorityRoom::default()),
                    Discipline::Fair => Keyed::Fair(FairRoom::default()),
                    Discipline::Fifo | Discipline::Lifo | Discipline::Codel => Keyed::Off,
                },
                codel_target: to_time(codel.target_s.unwrap_or(DEFAULT_CODEL_TARGET_S)),
                codel_interval: to_time(codel.interval_s.unwrap_or(DEFAULT_CODEL_INTERVAL_S)),
                nonempty_since: 0,
            }),
            queue_capacity: spec.queue_capacity.map(|c| c as usize),
            drop_when_full: spec.on_full == OnFull::Drop,
            law: ServiceLaw::new(spec.service.dist, spec.service.mean_s, spec.service.cv),
            base_error_rate: spec.error_rate,
            error_rate: spec.error_rate,
            slowdown: spec
                .slowdown
                .as_ref()
                .map(|s| (s.factor, s.queue_above as usize)),
            drop_expired: spec.drop_expired,
            max_queue_wait: spec.max_queue_wait_s.map(to_time),
            shed_cost: to_time(spec.shed_cost_s),
            scaler: spec
                .autoscale
                .as_ref()
                .map(|a| Box::new(Scaler::new(a, spec.workers))),
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

    /// Schedules the scaler's first decision (nothing without `autoscale`).
    pub(crate) fn start(&mut self, ctx: &mut Ctx) {
        if let Some(scaler) = &self.scaler {
            ctx.after(
                scaler.interval,
                Event::new(self.me, EventKind::ScaleTick, 0, 0),
            );
        }
    }

    fn set_busy(&mut self, busy: u32, now: Time) {
        self.busy_integral += u128::from(self.busy) * u128::from(now - self.busy_since);
        self.busy_since = now;
        self.busy = busy;
    }

    /// Calls waiting, whatever the discipline.
    #[inline]
    fn waiting_calls(&self) -> usize {
        match self.order {
            Order::Keyed => self.rooms.keyed.len(),
            Order::Fifo | Order::Lifo | Order::Codel => self.queue.len(),
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        ctx.attempt_arrived();
        if self.outage {
            ctx.call_rejected();
            ctx.reply(self.me, call.reply_to, Outcome::Rejected);
            return;
        }
        // A free worker means nobody waits (workers take waiting calls as soon as they are
        // free), whatever the discipline: `priority` and `fair` keep `queue` empty.
        if self.busy < self.workers && self.queue.is_empty() {
            debug_assert_eq!(self.rooms.keyed.len(), 0);
            self.take(call, ctx.now, self.max_queue_wait, ctx);
            return;
        }
        if !self.plain {
            self.wait_in_order(call, ctx);
            return;
        }
        if self
            .queue_capacity
            .is_some_and(|capacity| self.queue.len() >= capacity)
        {
            self.refuse(call, ctx);
            return;
        }
        self.queue.push_back(Queued {
            call,
            since: ctx.now,
        });
    }

    /// A call that must wait, at a CoDel, `priority` or `fair` server.
    ///
    /// Rationale for `inline(never)` here and on the other paths of the server additions:
    /// kept out of line, they leave the FIFO and LIFO paths (and the engine's delivery loop
    /// they are inlined into) as small as before.
    #[inline(never)]
    fn wait_in_order(&mut self, call: Call, ctx: &mut Ctx) {
        if self.order == Order::Keyed {
            self.wait_keyed(call, ctx);
            return;
        }
        if self
            .queue_capacity
            .is_some_and(|capacity| self.queue.len() >= capacity)
        {
            self.refuse(call, ctx);
            return;
        }
        if self.queue.is_empty() {
            self.rooms.nonempty_since = ctx.now;
        }
        self.queue.push_back(Queued {
            call,
            since: ctx.now,
        });
    }

    /// A call to a `priority` or `fair` server whose workers are all busy.
    fn wait_keyed(&mut self, call: Call, ctx: &mut Ctx) {
        let waiting = self.rooms.keyed.len();
        if self
            .queue_capacity
            .is_some_and(|capacity| waiting >= capacity)
        {
            if let Keyed::Fair(room) = &self.rooms.keyed {
                // Finding the longest lane scans the clients' lanes: work, as a balancer's
                // scan is (SPEC §10).
                ctx.work += room.lanes.len() as u64;
            }
            match self.rooms.keyed.push_out(&call) {
                Some(pushed_out) => self.refuse(pushed_out.call, ctx),
                None => {
                    self.refuse(call, ctx);
                    return;
                }
            }
        }
        self.rooms.keyed.push(Queued {
            call,
            since: ctx.now,
        });
    }

    /// A full queue refuses `call`: rejected at once, or dropped (`on_full: drop`).
    fn refuse(&mut self, call: Call, ctx: &mut Ctx) {
        if !self.drop_when_full {
            ctx.call_rejected();
            ctx.reply(self.me, call.reply_to, Outcome::Rejected);
        }
    }

    /// A worker takes `call`: shed it if a mitigation says so (`max_wait`: the queue age over
    /// which it is shed), else start its service.
    fn take(&mut self, call: Call, since: Time, max_wait: Option<Time>, ctx: &mut Ctx) {
        let expired = self.drop_expired && ctx.now >= call.deadline;
        let waited_too_long = max_wait.is_some_and(|max| ctx.now - since > max);
        if expired || waited_too_long {
            self.shed(call, ctx);
            return;
        }
        self.set_busy(self.busy + 1, ctx.now);
        let mut service_s = self.law.draw_s(&mut self.service_rng) * self.latency_factor;
        if let Some((factor, above)) = self.slowdown {
            if self.waiting_calls() > above {
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

    /// Answers a shed call with an error: at once, or after `shed_cost` of the worker's time.
    #[inline]
    fn shed(&mut self, call: Call, ctx: &mut Ctx) {
        if self.shed_cost == 0 {
            ctx.error_made();
            ctx.reply(self.me, call.reply_to, Outcome::Error);
            return;
        }
        self.shed_slowly(call, ctx);
    }

    /// A worker starts answering a shed call: the error goes out after `shed_cost`.
    #[inline(never)]
    fn shed_slowly(&mut self, call: Call, ctx: &mut Ctx) {
        self.set_busy(self.busy + 1, ctx.now);
        let token = self.working.insert(call);
        ctx.after(
            self.shed_cost,
            Event::new(self.me, EventKind::ShedDone, token.slot, token.generation),
        );
    }

    /// A worker finished answering a call it shed: the error goes out, the worker is free.
    #[inline(never)]
    pub(crate) fn on_shed_done(&mut self, token: Token, ctx: &mut Ctx) {
        let Some(call) = self.working.remove(token) else {
            return;
        };
        self.set_busy(self.busy - 1, ctx.now);
        ctx.error_made();
        ctx.reply(self.me, call.reply_to, Outcome::Error);
        self.fill_workers(ctx);
    }

    /// Free workers take queued calls, in the discipline's order.
    ///
    /// Rationale for `inline(always)`: it was inlined into the service and reply handlers
    /// when they were its only callers; the additions' callers (out of line themselves) made
    /// the compiler stop, which cost the hot path a call per service.
    #[inline(always)]
    fn fill_workers(&mut self, ctx: &mut Ctx) {
        if !self.plain {
            self.fill_workers_in_order(ctx);
            return;
        }
        while self.busy < self.workers {
            let next = if self.lifo {
                self.queue.pop_back()
            } else {
                self.queue.pop_front()
            };
            let Some(queued) = next else {
                break;
            };
            self.take(queued.call, queued.since, self.max_queue_wait, ctx);
        }
    }

    /// [`Server::fill_workers`] for CoDel and the keyed rooms.
    #[inline(never)]
    fn fill_workers_in_order(&mut self, ctx: &mut Ctx) {
        while self.busy < self.workers {
            let mut max_wait = self.max_queue_wait;
            let next = if self.order == Order::Codel {
                let (next, leash) = self.codel_next(ctx.now);
                max_wait = Some(max_wait.map_or(leash, |max| max.min(leash)));
                next
            } else {
                self.rooms.keyed.pop()
            };
            let Some(queued) = next else {
                break;
            };
            self.take(queued.call, queued.since, max_wait, ctx);
        }
    }

    /// CoDel: the call a free worker takes now, and how long it may have waited (its leash).
    ///
    /// Congested: the queue has not been empty within the last interval. Every waiting call
    /// came after the queue was last empty, so the regime it arrived in is read from the same
    /// moment: a call that arrived into a congested queue may wait the target, one that did
    /// not, the interval.
    #[inline(never)]
    fn codel_next(&mut self, now: Time) -> (Option<Queued>, Time) {
        let rooms = &*self.rooms;
        let congested = now.saturating_sub(rooms.nonempty_since) > rooms.codel_interval;
        let next = if congested {
            self.queue.pop_back()
        } else {
            self.queue.pop_front()
        };
        let leash = match &next {
            Some(queued)
                if queued.since.saturating_sub(rooms.nonempty_since) > rooms.codel_interval =>
            {
                rooms.codel_target
            }
            _ => rooms.codel_interval,
        };
        (next, leash)
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

    /// The scaler's periodic decision: reads the mean utilization since the last one (busy
    /// over active worker-time) and adds workers (after `warmup`) or removes some (once the
    /// cool-down since its last change has passed). Nothing while a capacity trigger holds.
    #[inline(never)]
    pub(crate) fn on_scale_tick(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        self.set_busy(self.busy, now);
        let busy_integral = self.busy_integral;
        let me = self.me;
        let Some(scaler) = self.scaler.as_deref_mut() else {
            return;
        };
        let busy_time = scaler.busy_closed + busy_integral;
        ctx.after(scaler.interval, Event::new(me, EventKind::ScaleTick, 0, 0));
        let active_time = scaler.active_time_at(now);
        let busy = busy_time - scaler.window_busy;
        let active = active_time - scaler.window_active;
        scaler.window_busy = busy_time;
        scaler.window_active = active_time;
        if scaler.overridden || active == 0 {
            return;
        }
        let desired = scaler.desired(busy as f64 / active as f64);
        let planned = scaler.active + scaler.pending_total;
        if desired > planned {
            let added = desired - planned;
            scaler.last_change = now;
            if scaler.warmup == 0 {
                scaler.set_active(scaler.active + added, now);
            } else {
                scaler.pending.push_back(added);
                scaler.pending_total += added;
                ctx.after(
                    scaler.warmup,
                    Event::new(me, EventKind::WorkersReady, 0, scaler.epoch),
                );
                return;
            }
        } else if desired < scaler.active && now - scaler.last_change >= scaler.cooldown {
            scaler.last_change = now;
            // Workers still warming up are not needed either.
            scaler.epoch = scaler.epoch.wrapping_add(1);
            scaler.pending.clear();
            scaler.pending_total = 0;
            scaler.set_active(desired, now);
        } else {
            return;
        }
        self.follow_scaler(ctx);
    }

    /// A batch of added workers finished warming up (`epoch`: the scaler's when it was added).
    #[inline(never)]
    pub(crate) fn on_workers_ready(&mut self, epoch: u32, ctx: &mut Ctx) {
        let Some(scaler) = self.scaler.as_deref_mut() else {
            return;
        };
        if epoch != scaler.epoch {
            return; // cancelled by a scale-down
        }
        let Some(added) = scaler.pending.pop_front() else {
            return;
        };
        scaler.pending_total -= added;
        scaler.set_active(scaler.active + added, ctx.now);
        self.follow_scaler(ctx);
    }

    /// The server runs with the scaler's active workers, unless a capacity trigger holds.
    /// Removed workers that are busy finish their call first; added ones start on the queue.
    fn follow_scaler(&mut self, ctx: &mut Ctx) {
        if let Some(scaler) = self.scaler.as_deref() {
            if !scaler.overridden {
                self.workers = scaler.active;
                self.fill_workers(ctx);
            }
        }
    }

    pub(crate) fn set_latency_factor(&mut self, factor: f64) {
        self.latency_factor = factor;
    }

    pub(crate) fn set_outage(&mut self, outage: bool) {
        self.outage = outage;
    }

    /// A capacity trigger: `None` gives the count back (the configured workers, or the
    /// scaler's). Busy workers above the new count finish their call first; added workers
    /// start on the queue at once. While one holds, the scaler stands aside; when it ends, the
    /// scaler's next window starts afresh.
    pub(crate) fn set_workers(&mut self, workers: Option<u32>, ctx: &mut Ctx) {
        self.set_busy(self.busy, ctx.now);
        let busy_integral = self.busy_integral;
        match self.scaler.as_deref_mut() {
            None => self.workers = workers.unwrap_or(self.base_workers),
            Some(scaler) => {
                scaler.overridden = workers.is_some();
                self.workers = workers.unwrap_or(scaler.active);
                scaler.window_busy = scaler.busy_closed + busy_integral;
                scaler.window_active = scaler.active_time_at(ctx.now);
            }
        }
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
        self.waiting_calls()
    }

    /// Calls in service.
    pub(crate) fn in_service(&self) -> usize {
        self.busy as usize
    }

    /// `queue`, `busy` (state at the bucket's end) and `utilization` (busy worker-time over
    /// configured worker-time in the bucket — the scaler's active worker-time with
    /// `autoscale`); with `autoscale`, `workers` (active) and `pending` (warming up).
    pub(crate) fn columns_of(&mut self, end: Time, length: Time, out: &mut Vec<Option<f64>>) {
        self.set_busy(self.busy, end);
        let busy = self.busy_integral;
        self.busy_integral = 0;
        let capacity = match self.scaler.as_deref_mut() {
            None => f64::from(self.base_workers) * length as f64,
            Some(scaler) => {
                scaler.busy_closed += busy;
                let active = scaler.active_time_at(end);
                let capacity = (active - scaler.bucket_active) as f64;
                scaler.bucket_active = active;
                capacity
            }
        };
        let utilization = busy as f64 / capacity;
        out.push(Some(self.waiting_calls() as f64));
        out.push(Some(f64::from(self.busy)));
        out.push(Some(utilization));
        if let Some(scaler) = self.scaler.as_deref() {
            out.push(Some(f64::from(scaler.active)));
            out.push(Some(f64::from(scaler.pending_total)));
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.queue.len() * std::mem::size_of::<Queued>()
            + self.rooms.keyed.bytes()
            + self.working.bytes()
            + self.scaler.as_ref().map_or(0, |s| s.pending.len() * 4)
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

#[cfg(test)]
mod room_tests {
    use super::*;
    use crate::queue::NEVER;

    fn call(client: u16, priority: u16, attempt: u8, key: u64) -> Queued {
        Queued {
            call: Call {
                key,
                deadline: NEVER,
                reply_to: ReplyTo {
                    block: 0,
                    token: Token {
                        slot: 0,
                        generation: 1,
                    },
                },
                attempt,
                priority,
                client,
            },
            since: key,
        }
    }

    fn drain(room: &mut Keyed) -> Vec<u64> {
        std::iter::from_fn(|| room.pop())
            .map(|q| q.call.key)
            .collect()
    }

    #[test]
    fn priority_serves_the_lowest_priority_then_attempt_first_in_order_of_arrival() {
        let mut room = Keyed::Priority(PriorityRoom::default());
        // (priority, attempt) of calls 1..: retries and a less important client arrive first.
        let calls = [
            (1, 1),
            (0, 3),
            (0, 2),
            (0, 1),
            (0, 2),
            (1, 1),
            (0, 1),
            (0, 3),
        ];
        for (key, (priority, attempt)) in calls.into_iter().enumerate() {
            room.push(call(0, priority, attempt, key as u64 + 1));
        }
        assert_eq!(room.len(), 8);
        assert_eq!(drain(&mut room), vec![4, 7, 3, 5, 2, 8, 1, 6]);
        assert_eq!(room.len(), 0);
    }

    #[test]
    fn a_full_priority_queue_pushes_out_the_least_important_newest_call() {
        let mut room = Keyed::Priority(PriorityRoom::default());
        room.push(call(0, 0, 2, 1));
        room.push(call(0, 0, 2, 2));
        room.push(call(0, 0, 1, 3));
        // A retry (attempt 2) finds a full room: nothing waiting is less important.
        assert!(room.push_out(&call(0, 0, 2, 9).call).is_none());
        // A first attempt pushes out the newest retry.
        let out = room
            .push_out(&call(0, 0, 1, 4).call)
            .expect("a retry leaves");
        assert_eq!(out.call.key, 2);
        room.push(call(0, 0, 1, 4));
        assert_eq!(drain(&mut room), vec![3, 4, 1]);
    }

    #[test]
    fn fair_takes_the_clients_in_turn() {
        let mut room = Keyed::Fair(FairRoom::default());
        // Client 5 floods; clients 2 and 9 send one or two calls.
        for (key, client) in [5, 5, 5, 5, 2, 9, 5, 2].into_iter().enumerate() {
            room.push(call(client, 0, 1, key as u64 + 1));
        }
        // In turn, starting with the first that had a waiting call: 5, 2, 9, 5, 2, 5, 5, 5.
        assert_eq!(drain(&mut room), vec![1, 5, 6, 2, 8, 3, 4, 7]);
        // A client that comes back after its lane emptied joins the end of the turn.
        room.push(call(5, 0, 1, 10));
        room.push(call(5, 0, 1, 11));
        room.push(call(2, 0, 1, 12));
        assert_eq!(room.pop().map(|q| q.call.key), Some(10));
        room.push(call(9, 0, 1, 13));
        assert_eq!(drain(&mut room), vec![12, 11, 13]);
    }

    #[test]
    fn a_full_fair_queue_pushes_out_the_longest_lane() {
        let mut room = Keyed::Fair(FairRoom::default());
        for (key, client) in [5, 5, 5, 2].into_iter().enumerate() {
            room.push(call(client, 0, 1, key as u64 + 1));
        }
        // Client 5 has the most waiting: its own next call is refused...
        assert!(room.push_out(&call(5, 0, 1, 20).call).is_none());
        // ...and client 2's arriving call pushes out client 5's newest.
        let out = room
            .push_out(&call(2, 0, 1, 21).call)
            .expect("a flood call leaves");
        assert_eq!(out.call.key, 3);
        room.push(call(2, 0, 1, 21));
        // Equal lanes: the arriving call is refused.
        assert!(room.push_out(&call(2, 0, 1, 22).call).is_none());
        assert_eq!(drain(&mut room), vec![1, 4, 2, 21]);
    }
}

#[cfg(test)]
mod discipline_tests {
    use crate::testing::{column, run, total};
    use crate::{to_csv, Sim};
    use serde_json::Value;

    /// A client that sends one request, at `at_s` (a uniform client's first arrival is one gap
    /// after 0; the runs here end before its second).
    fn once(id: &str, at_s: f64, timeout_s: f64) -> String {
        format!(
            r#"{{"id": "{id}", "kind": "client", "rate": {}, "arrival": "uniform", "timeout_s": {timeout_s}, "to": "s"}}"#,
            1.0 / at_s
        )
    }

    fn csv(json: &str) -> String {
        let sim = run(json);
        to_csv(sim.columns(), sim.rows())
    }

    /// A preset with `edits` (`--set` paths and raw values) applied.
    fn preset(name: &str, edits: &[(&str, &str)]) -> String {
        let mut doc: Value =
            serde_json::from_str(crate::presets::find(name).unwrap().json).unwrap();
        for (path, value) in edits {
            crate::set_path(&mut doc, path, value).unwrap();
        }
        doc.to_string()
    }

    #[test]
    fn fair_with_one_client_is_fifo_byte_for_byte() {
        for edits in [
            vec![],
            vec![("api.queue_capacity", "40")],
            vec![("api.queue_capacity", "40"), ("api.on_full", "\"drop\"")],
        ] {
            let fifo = csv(&preset("retry-storm", &edits));
            let mut fair = edits.clone();
            fair.push(("api.discipline", "\"fair\""));
            assert_eq!(fifo, csv(&preset("retry-storm", &fair)), "{edits:?}");
        }
    }

    #[test]
    fn priority_with_one_client_and_no_retries_is_fifo_byte_for_byte() {
        for edits in [vec![], vec![("api.queue_capacity", "100")]] {
            let fifo = csv(&preset("stale-queue", &edits));
            let mut priority = edits.clone();
            priority.push(("api.discipline", "\"priority\""));
            assert_eq!(fifo, csv(&preset("stale-queue", &priority)), "{edits:?}");
        }
        // With retries it is not FIFO: first attempts go before retries.
        assert_ne!(
            csv(&preset("retry-storm", &[])),
            csv(&preset(
                "retry-storm",
                &[("api.discipline", "\"priority\"")]
            ))
        );
    }

    #[test]
    fn priority_serves_the_important_client_before_the_other() {
        // One worker serving 10 calls/s; each client sends 8/s. By priority, "first" (0) gets
        // all it asks and "second" (5) the rest, too late; in FIFO order both wait in one
        // growing queue and both time out.
        let scenario = |discipline: &str| {
            format!(
                r#"{{"version": 1, "duration_s": 60, "blocks": [
                {{"id": "second", "kind": "client", "rate": 8, "timeout_s": 1, "priority": 5, "to": "s"}},
                {{"id": "first", "kind": "client", "rate": 8, "timeout_s": 1, "to": "s"}},
                {{"id": "s", "kind": "server", "workers": 1, "discipline": "{discipline}",
                  "service": {{"dist": "deterministic", "mean_s": 0.1}}}}]}}"#
            )
        };
        let good = |sim: &Sim| total(sim, "goodput", 30, 60) / 30.0;
        let priority = run(&scenario("priority"));
        assert!((good(&priority) - 8.0).abs() < 1.0, "{}", good(&priority));
        let fifo = run(&scenario("fifo"));
        assert!(good(&fifo) < 1.0, "{}", good(&fifo));
    }

    #[test]
    fn fair_protects_a_calm_client_from_a_flooding_one() {
        // One worker serving 10 calls/s; "flood" sends 50/s, "calm" 2/s. In one FIFO the calm
        // calls wait behind the flood and time out; with a lane each, a calm call waits at
        // most for the call in service and one flood call.
        let scenario = |discipline: &str| {
            format!(
                r#"{{"version": 1, "duration_s": 30, "blocks": [
                {{"id": "flood", "kind": "client", "rate": 50, "timeout_s": 0.3, "to": "s"}},
                {{"id": "calm", "kind": "client", "rate": 2, "arrival": "uniform", "timeout_s": 0.5, "to": "s"}},
                {{"id": "s", "kind": "server", "workers": 1, "discipline": "{discipline}",
                  "service": {{"dist": "deterministic", "mean_s": 0.1}}}}]}}"#
            )
        };
        // Every calm request succeeds; flood calls are stale (their lane is hopelessly long).
        assert_eq!(total(&run(&scenario("fair")), "goodput", 10, 30), 40.0);
        assert_eq!(total(&run(&scenario("fifo")), "goodput", 10, 30), 0.0);
    }

    /// One worker, 0.4 s services; one request per client at these times (in block order at
    /// equal times): a 3.0, b 3.0 (its user waits 0.9 s), c 3.2, e 3.75, d 4.05, g 4.18.
    fn six_calls(server: &str) -> Sim {
        let clients = [
            once("a", 3.0, 10.0),
            once("b", 3.0, 0.9),
            once("c", 3.2, 10.0),
            once("e", 3.75, 10.0),
            once("d", 4.05, 10.0),
            once("g", 4.18, 10.0),
        ]
        .join(",");
        run(&format!(
            r#"{{"version": 1, "duration_s": 6, "blocks": [{clients},
            {{"id": "s", "kind": "server", "workers": 1, {server},
              "service": {{"dist": "deterministic", "mean_s": 0.4}}}}]}}"#
        ))
    }

    const CODEL: &str = r#""discipline": "codel", "codel": {"target_s": 0.05, "interval_s": 1.0}"#;

    #[test]
    fn codel_is_fifo_with_the_interval_as_leash_while_the_queue_keeps_emptying() {
        // a is served at once (3.0–3.4); b waits from 3.0, when the queue was empty, c from
        // 3.2. At 3.4 the queue has been empty within the last second: FIFO, so b (whose user
        // waits 0.9 s) is served 3.4–3.8, then c 3.8–4.2: waits of 0.4 s and 0.6 s, far over
        // the target but within the interval, are not shed.
        let sim = six_calls(CODEL);
        let t = sim.totals();
        assert_eq!(t.requests, 6);
        assert_eq!((t.good, t.errors, t.throughput), (5, 1, 5), "{t:?}");
        assert_eq!(column(&sim, "goodput")[3], 2.0, "a and b, in time");
        // Under LIFO c would go first, and b would miss its 0.9 s.
        let lifo = six_calls(r#""discipline": "lifo""#).totals();
        assert_eq!((lifo.good, lifo.late, lifo.errors), (5, 1, 0), "{lifo:?}");
        assert_eq!(six_calls(r#""discipline": "fifo""#).totals().good, 6);
    }

    #[test]
    fn codel_is_lifo_with_the_target_as_leash_once_the_queue_has_not_emptied_for_an_interval() {
        // From 3.0 the queue never empties: at 4.2 (1.2 s later) it is congested. LIFO takes g
        // first (it waited 0.02 s, within the 0.05 s target): served 4.2–4.6. At 4.6, d, which
        // came at 4.05 into the congested queue and waited 0.55 s, is shed; e came at 3.75,
        // 0.75 s after the queue was last empty, so its leash is the interval: served after
        // 0.85 s of waiting.
        let sim = six_calls(CODEL);
        assert_eq!(column(&sim, "goodput")[4], 2.0, "c at 4.2, g at 4.6");
        assert_eq!(column(&sim, "errors")[4], 1.0, "d, at 4.6");
        assert_eq!(column(&sim, "goodput")[5], 1.0, "e at 5.0");
        // Had the leash been the regime at take time (the target, congested), e would have
        // been shed too.
        assert_eq!(sim.totals().errors, 1);
    }

    #[test]
    fn codel_sheds_a_call_that_waited_longer_than_the_interval() {
        // 1 s services: q waits from 3.0 to 4.0, over a 0.9 s interval: shed; within 1.1 s,
        // not.
        let scenario = |interval: f64| {
            format!(
                r#"{{"version": 1, "duration_s": 6, "blocks": [{}, {},
                {{"id": "s", "kind": "server", "workers": 1, "discipline": "codel",
                  "codel": {{"interval_s": {interval}}},
                  "service": {{"dist": "deterministic", "mean_s": 1}}}}]}}"#,
                once("p", 3.0, 10.0),
                once("q", 3.0, 10.0)
            )
        };
        let t = run(&scenario(0.9)).totals();
        assert_eq!((t.good, t.errors), (1, 1));
        let t = run(&scenario(1.1)).totals();
        assert_eq!((t.good, t.errors), (2, 0));
    }

    #[test]
    fn shedding_at_a_cost_keeps_the_worker_busy_then_answers() {
        // p is served 3.0–4.0; q waited 1 s, over max_queue_wait_s: shed at 4.0. With a shed
        // cost of 1.5 s the worker is busy until 5.5, when the error goes out.
        let scenario = |cost: f64| {
            format!(
                r#"{{"version": 1, "duration_s": 6, "blocks": [{}, {},
                {{"id": "s", "kind": "server", "workers": 1, "max_queue_wait_s": 0.5,
                  "shed_cost_s": {cost}, "service": {{"dist": "deterministic", "mean_s": 1}}}}]}}"#,
                once("p", 3.0, 10.0),
                once("q", 3.0, 10.0)
            )
        };
        let costly = run(&scenario(1.5));
        assert_eq!(&column(&costly, "s.utilization")[3..], &[1.0, 1.0, 0.5]);
        assert_eq!(
            column(&costly, "errors")[5],
            1.0,
            "the error goes out at 5.5"
        );
        assert_eq!(costly.totals().throughput, 1, "a shed call is no service");
        assert_eq!(costly.totals().errors, 1);
        let free = run(&scenario(0.0));
        assert_eq!(&column(&free, "s.utilization")[3..], &[1.0, 0.0, 0.0]);
        assert_eq!(column(&free, "errors")[4], 1.0, "at once, at 4.0");
    }

    #[test]
    fn a_worker_answering_a_shed_call_is_not_free_for_the_next() {
        // p runs 3.0–3.5. q's user waits 0.2 s: when the worker takes it at 3.5 its deadline
        // has passed, and answering it takes the worker 3.5–4.5. r, at 4.2, waits until 4.5.
        let sim = run(&format!(
            r#"{{"version": 1, "duration_s": 6, "blocks": [{}, {}, {},
            {{"id": "s", "kind": "server", "workers": 1, "drop_expired": true, "shed_cost_s": 1,
              "service": {{"dist": "deterministic", "mean_s": 0.5}}}}]}}"#,
            once("p", 3.0, 10.0),
            once("q", 3.0, 0.2),
            once("r", 4.2, 10.0)
        ));
        assert_eq!(sim.totals().errors, 1);
        assert_eq!(sim.totals().good, 2);
        assert_eq!(column(&sim, "goodput")[5], 1.0, "r ends at 5.0, not 4.7");
        assert_eq!(column(&sim, "s.utilization")[4], 1.0);
    }
}

#[cfg(test)]
mod autoscale_tests {
    use super::{Autoscale, Scaler};
    use crate::testing::{column, run};

    #[test]
    fn the_scaler_wants_active_times_utilization_over_target_rounded_up_within_bounds() {
        let spec = Autoscale {
            target_utilization: 0.6,
            min_workers: Some(2),
            max_workers: 30,
            interval_s: None,
            warmup_s: None,
            cooldown_s: None,
        };
        let scaler = Scaler::new(&spec, 10);
        assert_eq!(scaler.desired(0.9), 15, "10 × 0.9 / 0.6, not one more");
        assert_eq!(scaler.desired(0.6), 10, "at the target: as many");
        assert_eq!(scaler.desired(0.61), 11, "rounded up");
        assert_eq!(scaler.desired(1.0), 17);
        assert_eq!(scaler.desired(0.05), 2, "never below min_workers");
        assert_eq!(scaler.desired(0.0), 2);
        assert_eq!(scaler.desired(2.5), 30, "never above max_workers");
    }

    /// Requests evenly spaced at `rate`/s served in exactly 0.1 s: rate/10 workers busy.
    fn scaled(
        rate: f64,
        workers: u32,
        autoscale: &str,
        triggers: &str,
        duration: f64,
    ) -> crate::Sim {
        run(&format!(
            r#"{{"version": 1, "duration_s": {duration}, "blocks": [
            {{"id": "u", "kind": "client", "rate": {rate}, "arrival": "uniform", "to": "s"}},
            {{"id": "s", "kind": "server", "workers": {workers}, "autoscale": {{{autoscale}}},
              "service": {{"dist": "deterministic", "mean_s": 0.1}}}}],
            "triggers": [{triggers}]}}"#
        ))
    }

    #[test]
    fn the_scaler_follows_measured_utilization() {
        // 5 workers busy of 10: utilization 0.5. With a target of 0.25 the scaler wants 20 at
        // its first decision (t = 10), and then stays: 5 of 20 is the target.
        let sim = scaled(
            50.0,
            10,
            r#""target_utilization": 0.25, "max_workers": 40, "interval_s": 10, "warmup_s": 0"#,
            "",
            40.0,
        );
        let workers = column(&sim, "s.workers");
        assert!(workers[..10].iter().all(|&w| w == 10.0), "{workers:?}");
        assert!(workers[10..].iter().all(|&w| w == 20.0), "{workers:?}");
        let utilization = column(&sim, "s.utilization");
        assert!((utilization[5] - 0.5).abs() < 1e-6, "{utilization:?}");
        assert!((utilization[15] - 0.25).abs() < 1e-6, "{utilization:?}");
        assert!(column(&sim, "s.pending").iter().all(|&p| p == 0.0));
        // Columns of their own only with autoscale.
        assert_eq!(
            sim.columns().iter().filter(|c| c.starts_with("s.")).count(),
            5
        );
    }

    #[test]
    fn added_workers_serve_only_after_their_warm_up() {
        // 150 calls/s need 15 workers; there are 10, all busy. At t = 10 the scaler wants 20:
        // 10 more warm up for 5 s, and only then take calls.
        let sim = scaled(
            150.0,
            10,
            r#""target_utilization": 0.5, "max_workers": 20, "interval_s": 10, "warmup_s": 5"#,
            "",
            30.0,
        );
        let (workers, pending, busy) = (
            column(&sim, "s.workers"),
            column(&sim, "s.pending"),
            column(&sim, "s.busy"),
        );
        for i in 10..15 {
            assert_eq!((workers[i], pending[i], busy[i]), (10.0, 10.0, 10.0), "{i}");
        }
        assert_eq!((workers[15], pending[15], busy[15]), (20.0, 0.0, 20.0));
        assert_eq!(pending[9], 0.0);
    }

    #[test]
    fn scale_downs_wait_for_the_cool_down_and_scale_ups_do_not() {
        // 5 busy of 20 (target 0.9): the scaler wants 6 from its first decision, but the
        // cool-down (30 s from the start) holds it until t = 30. At t = 40 the load halves:
        // it wants 3 from t = 45, and gets them at t = 60, 30 s after its last change. At
        // t = 70 the load quadruples: it adds workers at once (t = 75), cool-down or not.
        let sim = scaled(
            50.0,
            20,
            r#""target_utilization": 0.9, "max_workers": 40, "interval_s": 5, "warmup_s": 0,
               "cooldown_s": 30"#,
            r#"{"kind": "load_spike", "target": "u", "at_s": 40, "for_s": 100, "factor": 0.5},
               {"kind": "load_spike", "target": "u", "at_s": 70, "for_s": 100, "factor": 4}"#,
            100.0,
        );
        let workers = column(&sim, "s.workers");
        let expect = |from: usize, to: usize, n: f64| {
            assert!(
                workers[from..to].iter().all(|&w| w == n),
                "{from}..{to}: {n}: {workers:?}"
            );
        };
        expect(0, 30, 20.0);
        expect(30, 60, 6.0);
        expect(60, 75, 3.0);
        assert_eq!(workers[75], 4.0, "{workers:?}");
        assert!(workers[95] > 6.0, "{workers:?}");
    }

    #[test]
    fn a_capacity_trigger_overrides_the_scaler_while_it_lasts() {
        // In balance at 10 workers (5 busy, target 0.5). A capacity trigger holds 3 workers
        // from 20 to 40 s: the scaler stands aside (it would have scaled down to 6 on the
        // utilization it saw), then gets the server back with its 10 and a backlog to serve.
        let sim = scaled(
            50.0,
            10,
            r#""target_utilization": 0.5, "max_workers": 40, "interval_s": 5, "warmup_s": 0,
               "cooldown_s": 0"#,
            r#"{"kind": "capacity", "target": "s", "at_s": 20, "for_s": 20, "workers": 3}"#,
            60.0,
        );
        let (workers, busy) = (column(&sim, "s.workers"), column(&sim, "s.busy"));
        assert!(workers[..45].iter().all(|&w| w == 10.0), "{workers:?}");
        assert!(busy[20..40].iter().all(|&b| b == 3.0), "{busy:?}");
        assert_eq!(busy[40], 10.0, "the scaler's 10 take the backlog: {busy:?}");
        assert_eq!(workers[45], 20.0, "then it scales up: {workers:?}");
    }
}

#[cfg(test)]
mod validation_tests {
    use crate::Scenario;

    /// The problems (field, message) of a client → server scenario with these server fields.
    fn problems(server: &str) -> Vec<(String, String)> {
        let json = format!(
            r#"{{"version": 1, "duration_s": 10, "blocks": [
            {{"id": "u", "kind": "client", "rate": 1, "to": "s"}},
            {{"id": "s", "kind": "server", "workers": 10, "service": {{"mean_s": 0.1}}, {server}}}]}}"#
        );
        match Scenario::from_json(&json) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .problems()
                .into_iter()
                .map(|p| (p.field, p.message))
                .collect(),
        }
    }

    fn field_refused(server: &str, field: &str, words: &str) {
        let found = problems(server);
        assert!(
            found.iter().any(|(f, m)| f == field && m.contains(words)),
            "{server}: {found:?}"
        );
    }

    #[test]
    fn each_new_field_is_checked_in_words_that_name_it() {
        field_refused(
            r#""codel": {"target_s": 0.01}"#,
            "codel",
            "only for discipline \"codel\"",
        );
        field_refused(
            r#""discipline": "codel", "codel": {"target_s": 0}"#,
            "codel.target_s",
            "must be > 0",
        );
        field_refused(
            r#""discipline": "codel", "codel": {"interval_s": -1}"#,
            "codel.interval_s",
            "must be > 0",
        );
        field_refused(r#""shed_cost_s": -0.5"#, "shed_cost_s", "must be ≥ 0");
        let scale = |fields: &str| format!(r#""autoscale": {{{fields}}}"#);
        field_refused(
            &scale(r#""target_utilization": 1.5, "max_workers": 20"#),
            "autoscale.target_utilization",
            "must be ≤ 1",
        );
        field_refused(
            &scale(r#""target_utilization": 0.5, "min_workers": 30, "max_workers": 20"#),
            "autoscale.min_workers",
            "must be ≤ autoscale.max_workers (20)",
        );
        field_refused(
            &scale(r#""target_utilization": 0.5, "max_workers": 5"#),
            "workers",
            "between autoscale.min_workers (1) and autoscale.max_workers (5)",
        );
        field_refused(
            &scale(r#""target_utilization": 0.5, "max_workers": 20, "interval_s": 0"#),
            "autoscale.interval_s",
            "must be ≥ 0.001",
        );
        field_refused(
            &scale(r#""target_utilization": 0.5, "max_workers": 20, "warmup_s": -1"#),
            "autoscale.warmup_s",
            "must be ≥ 0",
        );
        field_refused(
            &scale(r#""target_utilization": 0.5"#),
            "autoscale.max_workers",
            "missing",
        );
        field_refused(
            r#""slowdown": {"factor": 2}"#,
            "slowdown.queue_above",
            "missing",
        );
        // And the defaults are valid.
        assert_eq!(
            problems(
                r#""discipline": "codel", "autoscale": {"target_utilization": 0.5, "max_workers": 20}"#
            ),
            vec![]
        );
    }
}
