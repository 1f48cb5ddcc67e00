//! The client: the source of user requests, and the judge of their outcome.
//!
//! Open loop: requests arrive at `rate` per second (Poisson or evenly spaced) whatever happens
//! to earlier ones — the load that keeps a retry storm going. Closed loop: `users` users each
//! wait for their request to end, think (exponential, mean `think_s`), and send the next — a
//! population that slows down when the system does.
//!
//! A request is good iff a success reaches the client strictly before its deadline
//! (`created + timeout_s`). At the deadline the client stops waiting and counts a timeout; a
//! success arriving later re-classifies the request as late. The deadline timer is armed before
//! the call is sent, so a reply at exactly the deadline comes after it, and is late.
//!
//! It also tells how each request ended, for the per-bucket outcome counts: good, failed at its
//! deadline (`failed_timeout`), failed by the error, rejection or retry timeout that reached it
//! first (`failed_error`, `failed_rejected`, `failed_timeout`), and, later, late.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{lane_for, Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue, When};
use crate::queue::{to_time, Event, EventKind, EventQueue, LaneId, Time, TimerId, NEVER};
use crate::rng::{Purpose, Stream, Zipf};
use crate::scenario::{is_default, limits, Validator};
use serde::Serialize;
use serde_json::Value;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientMode {
    #[default]
    Open,
    Closed,
}

crate::fields::by_variant!(ClientMode {
    Open = "open",
    Closed = "closed",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arrival {
    #[default]
    Poisson,
    Uniform,
}

crate::fields::by_variant!(Arrival {
    Poisson = "poisson",
    Uniform = "uniform",
});

/// The source of user requests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientSpec {
    pub id: String,
    pub to: String,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    #[serde(skip_serializing_if = "is_default")]
    pub mode: ClientMode,
    /// Open loop: requests per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(skip_serializing_if = "is_default")]
    pub arrival: Arrival,
    /// Closed loop: number of users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Closed loop: mean think time between a request's end and the user's next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think_s: Option<f64>,
    /// The user's patience; none = infinite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// Number of distinct keys; none = every request has its own key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<u64>,
    /// Zipf exponent of key popularity (default 1 when `keys` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipf_s: Option<f64>,
    /// How important its requests are to a server with `discipline: priority`
    /// (0 = most important).
    #[serde(skip_serializing_if = "is_default")]
    pub priority: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(ClientSpec {
    id: required,
    to: required,
    link_latency_s: default,
    mode: default,
    rate: default,
    arrival: default,
    users: default,
    think_s: default,
    timeout_s: default,
    keys: default,
    zipf_s: default,
    priority: default,
    ui: default,
});

const RATE: Param = Param::number("rate", 0.0, limits::MAX_RATE, Absent::Required)
    .when(When::Not("mode", "closed"));
const USERS: Param = Param::whole("users", 1, limits::MAX_WORKERS as u64, Absent::Required)
    .when(When::Is("mode", "closed"));
/// Think time when a closed-loop client gives none; Zipf exponent when `keys` has none.
const DEFAULT_THINK_S: f64 = 0.0;
const DEFAULT_ZIPF_S: f64 = 1.0;
const THINK_S: Param = Param::number(
    "think_s",
    0.0,
    limits::MAX_TIME_S,
    Absent::Is(DEFAULT_THINK_S),
)
.when(When::Is("mode", "closed"));
const TIMEOUT_S: Param = Param::above("timeout_s", 0.0, limits::MAX_TIME_S, Absent::Unset);
const KEYS: Param = Param::whole("keys", 1, 1 << 53, Absent::Unset);
const ZIPF_S: Param =
    Param::number("zipf_s", 0.0, 100.0, Absent::Is(DEFAULT_ZIPF_S)).when(When::Set("keys"));

const PRIORITY: Param = Param::whole("priority", 0, 1000, Absent::Is(0.0));

/// A client's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    Param::new("mode", ParamValue::Choice(&["open", "closed"])),
    RATE,
    Param::new("arrival", ParamValue::Choice(&["poisson", "uniform"]))
        .when(When::Not("mode", "closed")),
    USERS,
    THINK_S,
    TIMEOUT_S,
    KEYS,
    ZIPF_S,
    PRIORITY,
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str = r#"{"rate": 50, "timeout_s": 1.0, "to": ""}"#;

/// A client has no metric columns of its own: its requests are the global columns.
pub(crate) const METRICS: &[&str] = &[];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = false;
pub(crate) const CALLS: Calls = Calls::One;

impl ClientSpec {
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
        match self.mode {
            ClientMode::Open => {
                match self.rate {
                    None => v.problem("rate", "an open-loop client needs a rate (requests/s)"),
                    Some(rate) => v.param(&RATE, rate),
                }
                if self.users.is_some() {
                    v.problem("users", "only for mode \"closed\"");
                }
                if self.think_s.is_some() {
                    v.problem("think_s", "only for mode \"closed\"");
                }
            }
            ClientMode::Closed => {
                match self.users {
                    None => v.problem("users", "a closed-loop client needs a number of users"),
                    Some(users) => v.whole(&USERS, u64::from(users)),
                }
                if let Some(think) = self.think_s {
                    v.param(&THINK_S, think);
                }
                if self.rate.is_some() {
                    v.problem(
                        "rate",
                        "not used by a closed-loop client (set users and think_s)",
                    );
                }
                if self.arrival != Arrival::Poisson {
                    v.problem("arrival", "only for mode \"open\"");
                }
            }
        }
        if let Some(t) = self.timeout_s {
            v.param(&TIMEOUT_S, t);
        }
        if let Some(keys) = self.keys {
            v.whole(&KEYS, keys);
        }
        v.whole(&PRIORITY, u64::from(self.priority));
        if let Some(zipf) = self.zipf_s {
            v.param(&ZIPF_S, zipf);
            if self.keys.is_none() {
                v.problem("zipf_s", "needs keys (the number of distinct keys)");
            }
        }
    }
}

/// The kinds of trigger that change a client's load; each keeps its own factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    /// `load_spike`.
    Spike,
    /// `load_steps`.
    Steps,
}

/// Marks keys of clients without `keys`: every request then has a key of its own.
const UNIQUE_KEY_BIT: u64 = 1 << 63;
/// Unique keys carry the client's index above this bit.
const UNIQUE_KEY_CLIENT_SHIFT: u32 = 44;

struct Request {
    created: Time,
    /// The closed-loop user who sent it (`u32::MAX` for open loop).
    user: u32,
}

pub(crate) struct Client {
    me: u32,
    /// The priority its calls carry.
    priority: u16,
    to: u32,
    closed: bool,
    base_rate: f64,
    uniform: bool,
    users: u32,
    think_s: f64,
    /// The load factor: `spike_factor × steps_factor`.
    rate_factor: f64,
    /// Product of the active load spikes.
    spike_factor: f64,
    /// Product of the active staircases' current steps.
    steps_factor: f64,
    timeout: Option<(Time, LaneId)>,
    zipf: Option<Zipf>,
    next_unique_key: u64,
    arrivals: Stream,
    keys: Stream,
    think: Stream,
    /// Closed-loop users idled by a load spike of factor 0, woken when it ends.
    idle_users: Vec<u32>,
    /// The queue slot of the next open-loop arrival: rescheduling replaces the pending one.
    arrival_timer: TimerId,
    next_arrival: Time,
    requests: Slab<Request>,
}

impl Client {
    pub(crate) fn new(
        me: u32,
        spec: &ClientSpec,
        to: u32,
        seed: u64,
        queue: &mut EventQueue,
    ) -> Client {
        let lane = lane_for(queue, spec.timeout_s);
        Client {
            priority: spec.priority,
            me,
            to,
            closed: spec.mode == ClientMode::Closed,
            base_rate: spec.rate.unwrap_or(0.0),
            uniform: spec.arrival == Arrival::Uniform,
            users: spec.users.unwrap_or(0),
            think_s: spec.think_s.unwrap_or(DEFAULT_THINK_S),
            rate_factor: 1.0,
            spike_factor: 1.0,
            steps_factor: 1.0,
            timeout: spec.timeout_s.zip(lane).map(|(t, lane)| (to_time(t), lane)),
            zipf: spec
                .keys
                .map(|n| Zipf::new(n, spec.zipf_s.unwrap_or(DEFAULT_ZIPF_S))),
            next_unique_key: UNIQUE_KEY_BIT | (u64::from(me) << UNIQUE_KEY_CLIENT_SHIFT),
            arrivals: Stream::new(seed, &spec.id, Purpose::Arrivals),
            keys: Stream::new(seed, &spec.id, Purpose::Keys),
            think: Stream::new(seed, &spec.id, Purpose::Think),
            idle_users: Vec::new(),
            arrival_timer: queue.timer(),
            next_arrival: NEVER,
            requests: Slab::default(),
        }
    }

    /// Schedules the first arrival (open loop) or every user's first request (closed loop).
    pub(crate) fn start(&mut self, ctx: &mut Ctx) {
        if self.closed {
            for user in 0..self.users {
                self.think_then_wake(user, ctx);
            }
        } else {
            self.schedule_arrival(ctx);
        }
    }

    fn rate(&self) -> f64 {
        self.base_rate * self.rate_factor
    }

    fn schedule_arrival(&mut self, ctx: &mut Ctx) {
        let rate = self.rate();
        if rate <= 0.0 {
            self.next_arrival = NEVER;
            ctx.queue.clear_timer(self.arrival_timer);
            return;
        }
        let gap = if self.uniform {
            1.0 / rate
        } else {
            self.arrivals.exponential(1.0 / rate)
        };
        self.next_arrival = ctx.now.saturating_add(to_time(gap));
        self.set_arrival(ctx);
    }

    fn set_arrival(&self, ctx: &mut Ctx) {
        let event = Event::new(self.me, EventKind::Arrival, 0, 0);
        ctx.queue
            .set_timer(self.arrival_timer, self.next_arrival, event);
    }

    fn think_then_wake(&mut self, user: u32, ctx: &mut Ctx) {
        if self.rate_factor <= 0.0 {
            // A spike of factor 0 stops the users until it ends.
            self.idle_users.push(user);
            return;
        }
        let think = self.think.exponential(self.think_s / self.rate_factor);
        ctx.after(
            to_time(think),
            Event::new(self.me, EventKind::UserWakes, user, 0),
        );
    }

    /// A load trigger started, stepped or ended: `factor` is now the product of the active
    /// triggers of that kind, and the rate (or, closed loop, the think rate) changes now to
    /// the base one × the product of both kinds' factors.
    pub(crate) fn set_load_factor(&mut self, load: Load, factor: f64, ctx: &mut Ctx) {
        let old_rate = self.rate();
        match load {
            Load::Spike => self.spike_factor = factor,
            Load::Steps => self.steps_factor = factor,
        }
        // Without a staircase this is the spikes' product exactly (× 1.0 changes no bit).
        self.rate_factor = self.spike_factor * self.steps_factor;
        let factor = self.rate_factor;
        if self.closed {
            // Thinking users keep their draw; the next think uses the new factor. Users idled
            // by a factor of 0 start thinking again now.
            if factor > 0.0 {
                for user in std::mem::take(&mut self.idle_users) {
                    self.think_then_wake(user, ctx);
                }
            }
            return;
        }
        let new_rate = self.rate();
        if self.uniform && self.next_arrival != NEVER && old_rate > 0.0 && new_rate > 0.0 {
            // Keep the phase: the part of the gap still to run shrinks or stretches.
            let remaining = (self.next_arrival - ctx.now) as f64 * old_rate / new_rate;
            self.next_arrival = ctx.now.saturating_add(remaining.round() as Time);
            self.set_arrival(ctx);
        } else {
            // Poisson: memoryless, so the pending arrival is redrawn at the new rate.
            self.schedule_arrival(ctx);
        }
    }

    /// The next open-loop request arrives.
    pub(crate) fn on_arrival(&mut self, ctx: &mut Ctx) {
        self.schedule_arrival(ctx);
        self.send_request(u32::MAX, ctx);
    }

    /// A closed-loop user finished thinking.
    pub(crate) fn on_user_wakes(&mut self, user: u32, ctx: &mut Ctx) {
        self.send_request(user, ctx);
    }

    /// A request's deadline: if it still waits, the user gives up (a stale token means the
    /// request already ended, and nothing happens).
    pub(crate) fn on_deadline(&mut self, token: Token, ctx: &mut Ctx) {
        if let Some(request) = self.requests.remove(token) {
            ctx.timeout_fired();
            ctx.request_failed(Outcome::TimedOut);
            self.request_ended(request.user, ctx);
        }
    }

    fn send_request(&mut self, user: u32, ctx: &mut Ctx) {
        ctx.request_created();
        let key = match &self.zipf {
            Some(zipf) => zipf.sample(&mut self.keys),
            None => {
                self.next_unique_key += 1;
                self.next_unique_key
            }
        };
        let token = self.requests.insert(Request {
            created: ctx.now,
            user,
        });
        let deadline = match self.timeout {
            Some((timeout, lane)) => {
                ctx.on_lane(
                    lane,
                    Event::new(self.me, EventKind::Deadline, token.slot, token.generation),
                );
                ctx.now.saturating_add(timeout)
            }
            None => NEVER,
        };
        ctx.call(
            self.to,
            Call {
                key,
                deadline,
                reply_to: ReplyTo {
                    block: self.me,
                    token,
                },
                attempt: 1,
                priority: self.priority,
                // Block indices are below `limits::MAX_BLOCKS`.
                client: self.me as u16,
            },
        );
    }

    #[inline(always)]
    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        match self.requests.remove(token) {
            Some(request) => {
                match outcome {
                    Outcome::Success => ctx.request_good(ctx.now - request.created),
                    failure => ctx.request_failed(failure),
                }
                self.request_ended(request.user, ctx);
            }
            // The client sends one call per request and gets at most one reply, so a reply
            // for a request no longer waiting comes after its deadline fired.
            None => {
                if outcome == Outcome::Success {
                    ctx.request_late();
                }
            }
        }
    }

    fn request_ended(&mut self, user: u32, ctx: &mut Ctx) {
        if self.closed {
            self.think_then_wake(user, ctx);
        }
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        if self.requests.get(token).is_some() {
            Waiting::Yes
        } else {
            Waiting::No
        }
    }

    pub(crate) fn live(&self) -> usize {
        self.requests.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.requests.bytes() + self.idle_users.capacity() * 4
    }
}

impl Behaviour for Client {
    type Spec = ClientSpec;

    fn build(spec: &ClientSpec, b: &mut Build) -> Client {
        Client::new(b.me, spec, b.index(&spec.to), b.seed, b.queue)
    }

    #[inline(always)]
    fn on_call(&mut self, _call: Call, _ctx: &mut Ctx) {
        // Validation guarantees nothing calls a client.
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        Client::on_reply(self, token, outcome, ctx)
    }

    fn waiting(&self, token: Token) -> Waiting {
        Client::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Client::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} requests in flight", self.live())
    }
}
