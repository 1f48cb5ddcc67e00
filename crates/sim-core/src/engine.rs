//! The discrete-event engine: the clock, the event loop, message delivery, triggers, metric
//! buckets and the run limits.
//!
//! One step is: pop the earliest event (ties in scheduling order), close every metric bucket
//! that ends at or before its time (so a row is the state *before* that event), hand the event
//! to its block, then deliver the calls and replies the handlers put in the outbox — in order,
//! at the same instant — until it is empty. Only construction can fail; stepping cannot: a run
//! that hits a limit stops and says why in [`Sim::stopped`].

use crate::blocks::{Build, Call, Outcome, ReplyTo, Token};
use crate::ctx::{Ctx, Link, MessageKind, Outbox, Waiting, NO_LINK};
pub(crate) use crate::kind::Node;
use crate::kind::TriggerKind;
use crate::metrics::{BucketCounts, Histogram, Row, Totals, GLOBAL_COLUMNS};
use crate::queue::SCHEDULED_BYTES;
use crate::queue::{to_seconds, to_time, Event, EventKind, EventQueue, Time};
use crate::scenario::{Block, ClientMode, Location, Problem, Scenario, ScenarioError, Trigger};
use crate::triggers::Change;
use crate::verdict::Verdict;
use crate::verdict::{self, Report, Summary};
use std::collections::BTreeMap;

/// Bounds on a run, so a runaway scenario stops with a message instead of hanging or eating
/// the machine's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most units of work a run may do: one per event, one per call or reply delivered, one
    /// per downstream block a balancer looks at (SPEC §10). A unit costs a few nanoseconds
    /// natively, so the default ends any run in about a minute.
    pub max_work: u64,
    /// Most bytes of everything that grows: blocks' state, queued events, the calls and
    /// replies of the current instant, stored metric rows, and what construction allocates.
    pub max_state_bytes: u64,
    /// Most events at one instant of simulated time (a zero-time loop otherwise never ends).
    pub max_events_per_instant: u64,
}

/// The browser's work budget: a few seconds of a tab's time (wasm does roughly 10–25 million
/// units a second; every preset needs under 2 million, the heavy benchmark 49 million). The
/// page offers to go on with ten times more.
pub const WEB_WORK: u64 = 50_000_000;

/// How much work may pass between two checks of the state's size. One unit grows the state by
/// at most a few hundred bytes, so the state overshoots its limit by a few MiB at most.
const CHECK_EVERY: u64 = 1 << 14;

impl Default for Limits {
    /// The native defaults: 2·10⁹ units of work (about a minute: a unit takes 20–40 ns
    /// natively, measured over the presets and the heavy benchmark), 1 GiB of state.
    fn default() -> Limits {
        Limits {
            max_work: 2_000_000_000,
            max_state_bytes: 1 << 30,
            max_events_per_instant: 10_000_000,
        }
    }
}

impl Limits {
    /// Checks, before anything is allocated, that building the run and storing its metric
    /// rows fit the state limit: every closed-loop user starts with a queued event, and a
    /// finished run holds one row per bucket with a column per block metric. `validate`
    /// says the same as a run would.
    pub fn preflight(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let mib = crate::metrics::size;
        let limit = self.max_state_bytes as f64;
        let mut problems = Vec::new();
        let users: Vec<(usize, &str, u64)> = scenario
            .blocks
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match b {
                Block::Client(c) if c.mode == ClientMode::Closed => {
                    Some((i, c.id.as_str(), u64::from(c.users.unwrap_or(0))))
                }
                _ => None,
            })
            .collect();
        let changes: usize = scenario.triggers.iter().map(|t| t.changes().count()).sum();
        let events = users.iter().map(|(_, _, n)| n).sum::<u64>()
            + 2 * scenario.triggers.len() as u64
            + changes as u64
            + scenario.blocks.len() as u64;
        let start_bytes = events.next_power_of_two() as f64 * SCHEDULED_BYTES as f64;
        if start_bytes > limit / 2.0 {
            let all_users: u64 = users.iter().map(|(_, _, n)| n).sum();
            // The first of the largest clients.
            let (index, id, most) =
                users
                    .iter()
                    .copied()
                    .fold((0, "", 0), |best, c| if c.2 > best.2 { c } else { best });
            problems.push(Problem {
                location: Location::block(index, id),
                field: "users".into(),
                message: format!(
                    "{} users in all ({} here) need {} of queued events just to start, more than half the state limit of {}",
                    crate::metrics::group(all_users as f64),
                    crate::metrics::group(most as f64),
                    mib(start_bytes),
                    mib(limit)
                ),
            });
        }
        let columns: usize = scenario.blocks.iter().map(Block::metric_count).sum();
        let per_row = std::mem::size_of::<Row>()
            + columns * std::mem::size_of::<Option<f64>>()
            + std::mem::size_of::<(f64, f64)>();
        let buckets = (scenario.duration_s / scenario.bucket_s).ceil().max(0.0);
        let rows_bytes = buckets * per_row as f64;
        if rows_bytes > limit / 2.0 {
            problems.push(Problem {
                location: Location::Scenario,
                field: "bucket_s".into(),
                message: format!(
                    "{} metric rows of {} columns need {}, more than half the state limit of {}: use a larger bucket_s or a shorter duration_s",
                    crate::metrics::group(buckets),
                    GLOBAL_COLUMNS.len() + columns,
                    mib(rows_bytes),
                    mib(limit)
                ),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError::Invalid(problems))
        }
    }

    /// Lower limits for a browser tab: a few seconds of work, 256 MiB.
    pub fn web() -> Limits {
        Limits {
            max_work: WEB_WORK,
            max_state_bytes: 256 << 20,
            max_events_per_instant: 1_000_000,
        }
    }
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the run stopped at t = {at_s} s: {reason}")]
pub struct LimitExceeded {
    pub at_s: f64,
    /// Which limit it met.
    pub budget: Budget,
    pub reason: String,
}

/// The limits a run can meet ([`Limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// [`Limits::max_work`]: the person may ask for more.
    Work,
    /// [`Limits::max_state_bytes`].
    State,
    /// [`Limits::max_events_per_instant`]: a loop that takes no time.
    Instant,
}

/// A simulation of one scenario: build it with [`Sim::new`], advance it with
/// [`Sim::run_until`] (or [`Sim::run`]), read [`Sim::rows`] as they come.
pub struct Sim {
    scenario: Scenario,
    nodes: Vec<Node>,
    ctx: Ctx,
    limits: Limits,
    /// The run's end (`duration_s`).
    end: Time,
    bucket_length: Time,
    bucket_start: Time,
    bucket_end: Time,
    n_buckets: usize,
    rows: Vec<Row>,
    /// Per bucket, at its end: calls at the servers and calls in a retry backoff.
    fluid_trace: Vec<(f64, f64)>,
    columns: Vec<String>,
    servers: Vec<usize>,
    trigger_targets: Vec<u32>,
    trigger_active: Vec<bool>,
    /// Per trigger, its group in `trigger_groups`.
    trigger_group: Vec<u32>,
    /// The triggers of one kind on one target, in list order: what the kind's `apply`
    /// combines when one of them starts, steps or ends.
    trigger_groups: Vec<Vec<u32>>,
    events: u64,
    events_this_instant: u64,
    time_went_back: u64,
    /// The work count at which the state's size is checked next.
    next_check: u64,
    stopped: Option<LimitExceeded>,
}

impl Sim {
    /// Validates the scenario and builds the simulation at time 0 with the default limits.
    pub fn new(scenario: &Scenario) -> Result<Sim, ScenarioError> {
        Sim::with_limits(scenario, Limits::default())
    }

    /// Validates the scenario and builds the simulation at time 0.
    pub fn with_limits(scenario: &Scenario, limits: Limits) -> Result<Sim, ScenarioError> {
        scenario.validate()?;
        limits.preflight(scenario)?;
        // Inserted, not collected (see `Validator::cycles`).
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, b) in scenario.blocks.iter().enumerate() {
            ids.insert(b.id(), i);
        }
        let index = |id: &str| ids[id] as u32;
        let mut queue = EventQueue::default();
        let seed = scenario.seed;
        let nodes: Vec<Node> = scenario
            .blocks
            .iter()
            .enumerate()
            .map(|(i, block)| {
                Node::build(
                    block,
                    &mut Build {
                        me: i as u32,
                        seed,
                        queue: &mut queue,
                        scenario,
                        ids: &ids,
                    },
                )
            })
            .collect();

        // One link lane per distinct latency: messages of equal latency arrive in the order
        // they were sent.
        let mut links: Vec<Link> = Vec::new();
        let mut link_delays: Vec<Time> = Vec::new();
        let link_of: Vec<u32> = scenario
            .blocks
            .iter()
            .map(|b| {
                let delay = to_time(b.link_latency_s());
                if delay == 0 {
                    return NO_LINK;
                }
                let at = link_delays
                    .iter()
                    .position(|&d| d == delay)
                    .unwrap_or_else(|| {
                        link_delays.push(delay);
                        links.push(Link {
                            lane: queue.lane(delay),
                            messages: std::collections::VecDeque::new(),
                        });
                        links.len() - 1
                    });
                at as u32
            })
            .collect();
        let end = to_time(scenario.duration_s);
        let bucket_length = to_time(scenario.bucket_s).max(1);
        let n_buckets = end.div_ceil(bucket_length) as usize;
        let mut columns: Vec<String> = GLOBAL_COLUMNS.iter().map(|c| c.to_string()).collect();
        for block in &scenario.blocks {
            let id = block.id();
            columns.extend(block.metric_names().iter().map(|n| format!("{id}.{n}")));
        }
        let servers = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n, Node::Server(_)))
            .map(|(i, _)| i)
            .collect();
        let trigger_targets: Vec<u32> = scenario
            .triggers
            .iter()
            .map(|t| index(t.target()))
            .collect();
        // Triggers of one kind on one block form a group; each group's key is its first
        // trigger's (a list, not a map: a scenario has few triggers).
        let mut trigger_groups: Vec<Vec<u32>> = Vec::new();
        let mut group_keys: Vec<(u32, TriggerKind)> = Vec::new();
        let trigger_group = scenario
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let key = (trigger_targets[i], t.kind());
                let group = match group_keys.iter().position(|k| *k == key) {
                    Some(group) => group,
                    None => {
                        group_keys.push(key);
                        trigger_groups.push(Vec::new());
                        trigger_groups.len() - 1
                    }
                };
                trigger_groups[group].push(i as u32);
                group as u32
            })
            .collect();

        let mut sim = Sim {
            scenario: scenario.clone(),
            ctx: Ctx {
                now: 0,
                queue,
                outbox: Outbox::default(),
                partitioned: vec![0; nodes.len()],
                bucket: BucketCounts::default(),
                totals: Totals::default(),
                latency_all: Histogram::default(),
                latency_sum_ns: 0,
                work: 0,
                carried: 0,
                caller_waiting: false,
                link_of,
                links,
            },
            nodes,
            limits,
            end,
            bucket_length,
            bucket_start: 0,
            bucket_end: bucket_length.min(end),
            n_buckets,
            rows: Vec::with_capacity(n_buckets.min(1 << 16)),
            fluid_trace: Vec::with_capacity(n_buckets.min(1 << 16)),
            columns,
            servers,
            trigger_active: vec![false; trigger_targets.len()],
            trigger_targets,
            trigger_group,
            trigger_groups,
            events: 0,
            events_this_instant: 0,
            time_went_back: 0,
            next_check: CHECK_EVERY.min(limits.max_work),
            stopped: None,
        };
        // Triggers are scheduled first, so at equal times they act before anything else:
        // each one's start, its intermediate changes (a staircase's steps), its end.
        for (i, trigger) in scenario.triggers.iter().enumerate() {
            let target = sim.trigger_targets[i];
            sim.ctx.at(
                to_time(trigger.at_s()),
                Event::new(target, EventKind::TriggerStart, i as u32, 0),
            );
            for time in trigger.changes() {
                sim.ctx.at(
                    time,
                    Event::new(target, EventKind::TriggerStep, i as u32, 0),
                );
            }
            if let Some(for_s) = trigger.for_s() {
                let end = to_time(trigger.at_s()).saturating_add(to_time(for_s));
                sim.ctx
                    .at(end, Event::new(target, EventKind::TriggerEnd, i as u32, 0));
            }
        }
        let Sim { nodes, ctx, .. } = &mut sim;
        for node in nodes.iter_mut() {
            match node {
                Node::Client(client) => client.start(ctx),
                // Only a server with `autoscale` schedules anything (its scaler's first tick).
                Node::Server(server) => server.start(ctx),
                _ => {}
            }
        }
        Ok(sim)
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Column names: the global ones of SPEC §4, then `<block id>.<metric>`.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Metric rows of the buckets completed so far.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Per finished bucket, at its end, the fluid model's two state variables as the
    /// simulation has them: calls at the servers (queued and in service) and calls waiting
    /// out a retry backoff (the orbit). See `sim_core::fluid`.
    pub fn fluid_trace(&self) -> &[(f64, f64)] {
        &self.fluid_trace
    }

    /// Whole-run counts so far.
    pub fn totals(&self) -> Totals {
        self.ctx.totals
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Simulated time reached, in seconds.
    pub fn now_s(&self) -> f64 {
        to_seconds(self.ctx.now)
    }

    /// The run's length, in seconds.
    pub fn duration_s(&self) -> f64 {
        to_seconds(self.end)
    }

    /// True once every bucket is done or a limit stopped the run.
    pub fn finished(&self) -> bool {
        self.rows.len() >= self.n_buckets || self.stopped.is_some()
    }

    /// Why the run stopped early, if it did.
    pub fn stopped(&self) -> Option<&LimitExceeded> {
        self.stopped.as_ref()
    }

    /// How many events were seen with a time before the clock (always 0; kept as a checked
    /// invariant for the property tests).
    pub fn time_went_back(&self) -> u64 {
        self.time_went_back
    }

    /// Runs to the end (or to a limit) and returns the rows.
    pub fn run(&mut self) -> &[Row] {
        self.advance(self.end, u64::MAX);
        &self.rows
    }

    /// Advances simulated time to `t_s` seconds (clamped to the run's end): every event before
    /// it is processed and every bucket ending at or before it is emitted.
    pub fn run_until(&mut self, t_s: f64) {
        self.advance(to_time(t_s), u64::MAX);
    }

    /// Like [`Sim::run_until`], but does about `max_work` units of work at most (one event's
    /// calls are never split), so a caller can slice a long run into bounded pieces of work.
    /// Returns true when `t_s` was reached.
    pub fn run_until_bounded(&mut self, t_s: f64, max_work: u64) -> bool {
        self.advance(to_time(t_s), max_work)
    }

    /// Units of work done so far ([`Limits::max_work`]).
    pub fn work(&self) -> u64 {
        self.ctx.work
    }

    /// The limits this run is held to.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Raises the work budget of a run stopped by it (or about to be) and lets it go on: the
    /// page's "go on" after the browser's budget. A run stopped by another limit stays stopped.
    pub fn extend_work(&mut self, more: u64) {
        self.limits.max_work = self.limits.max_work.saturating_add(more);
        if matches!(&self.stopped, Some(s) if s.budget == Budget::Work) {
            self.stopped = None;
        }
        self.next_check = self.ctx.work.saturating_add(1).min(self.limits.max_work);
    }

    /// The verdict and its explanation (meaningful once the run is finished).
    pub fn report(&self) -> Report {
        verdict::judge(&self.scenario, &self.columns, &self.rows)
    }

    /// The verdict, if what has run so far already settles it (`verdict::settled`).
    pub fn settled(&self) -> Option<Verdict> {
        let last_start = self
            .bucket_length
            .saturating_mul(self.n_buckets.saturating_sub(1) as u64);
        verdict::settled(&self.scenario, &self.rows, to_seconds(last_start))
    }

    /// Runs only as far as the verdict needs, and returns it: past the window that decides
    /// whether the system is `overloaded` (the time before the first trigger; with no trigger,
    /// the first 80%), then to the end unless that settled it. Sweeps and tipping searches,
    /// which want verdicts only, skip the rest of an overloaded run this way. The rows and
    /// totals of a run stopped early are those of its first part.
    pub fn run_for_verdict(&mut self) -> Verdict {
        let first = self
            .scenario
            .triggers
            .iter()
            .map(|t| t.at_s())
            .min_by(f64::total_cmp);
        let decided_by = first.unwrap_or(0.8 * self.scenario.duration_s);
        self.run_until(decided_by + 2.0 * to_seconds(self.bucket_length));
        if let Some(verdict) = self.settled() {
            return verdict;
        }
        self.run();
        self.report().verdict
    }

    /// The summary of SPEC §5 (`wall_s` is left to the caller, which owns the clock).
    pub fn summary(&self) -> Summary {
        let report = self.report();
        let totals = self.ctx.totals;
        Summary {
            verdict: report.verdict,
            requests: totals.requests,
            good: totals.good,
            late: totals.late,
            failed: totals.failed,
            in_flight: totals.in_flight,
            events: self.events,
            work: self.ctx.work,
            goodput_before: report.goodput_before,
            goodput_after: report.goodput_after,
            recovery_s: report.recovery_s,
            latency_mean_s: (totals.good > 0)
                .then(|| self.ctx.latency_sum_ns as f64 / totals.good as f64 / 1e9),
            latency_p99_s: self.ctx.latency_all.quantile(0.99).map(|ns| ns / 1e9),
            wall_s: None,
        }
    }

    fn advance(&mut self, until: Time, max_work: u64) -> bool {
        let until = until.min(self.end);
        let budget_end = self.ctx.work.saturating_add(max_work);
        'run: while self.stopped.is_none() {
            if self.ctx.work >= self.next_check {
                self.checkpoint();
                continue;
            }
            if self.ctx.work >= budget_end {
                return false;
            }
            // Rationale: one comparison per event covers the caller's budget, the work limit
            // and the periodic state check (`next_check` is never past the work limit), which
            // are all handled out here.
            let checkpoint = budget_end.min(self.next_check);
            while self.ctx.work < checkpoint {
                let Some((time, event)) = self.ctx.queue.pop_before(until) else {
                    break 'run;
                };
                while time >= self.bucket_end && self.rows.len() < self.n_buckets {
                    self.close_bucket();
                }
                if time > self.ctx.now {
                    self.events_this_instant = 0;
                } else {
                    self.same_instant(time);
                    if self.stopped.is_some() {
                        break 'run;
                    }
                }
                self.ctx.now = time;
                self.events += 1;
                self.ctx.work += 1;
                self.dispatch(event);
                self.deliver();
            }
        }
        if self.stopped.is_none() {
            while self.bucket_end <= until && self.rows.len() < self.n_buckets {
                self.close_bucket();
            }
            self.ctx.now = self.ctx.now.max(until);
        }
        true
    }

    /// Every `CHECK_EVERY` units of work, and at the work limit: stops the run if the state
    /// has grown past its limit or the work has reached its own.
    /// Returns true when the state is over its limit.
    #[cold]
    fn checkpoint(&mut self) -> bool {
        let over = self.check_state();
        if self.stopped.is_none() && self.ctx.work >= self.limits.max_work {
            self.stop_for(
                Budget::Work,
                format!(
                    "it used its budget of work, {} units (events, calls delivered, balancer scans; raise it with --max-work), after {} events, {:.3} s into {} s simulated: shorten duration_s or lower the load",
                    self.limits.max_work,
                    self.events,
                    to_seconds(self.ctx.now),
                    to_seconds(self.end),
                ),
            );
        }
        let next = self.ctx.work.saturating_add(CHECK_EVERY);
        self.next_check = if self.stopped.is_some() {
            next
        } else {
            next.min(self.limits.max_work)
        };
        over
    }

    /// An event at the clock's time (or, never, before it): counts events at one instant, and
    /// stops a loop that takes no time.
    #[cold]
    fn same_instant(&mut self, time: Time) {
        if time < self.ctx.now {
            self.time_went_back += 1;
        }
        self.events_this_instant += 1;
        if self.events_this_instant > self.limits.max_events_per_instant {
            self.stop_for(Budget::Instant, format!(
                "more than {} events at one instant: a loop that takes no time (for example closed-loop users with think_s 0 whose calls fail at once)",
                self.limits.max_events_per_instant
            ));
        }
    }

    /// Hands an event to its handler.
    ///
    /// Rationale: an event's kind decides which kind of block handles it, so one `match` on
    /// the kind reaches the handler directly; matching on the block and then again on the
    /// kind inside it costs a second hard-to-predict indirect jump per event.
    fn dispatch(&mut self, event: Event) {
        let token = Token {
            slot: event.a,
            generation: event.b,
        };
        let ctx = &mut self.ctx;
        let node = &mut self.nodes[event.block as usize];
        match event.kind {
            EventKind::Arrival => {
                if let Node::Client(client) = node {
                    client.on_arrival(ctx);
                }
            }
            EventKind::Deadline => {
                if let Node::Client(client) = node {
                    client.on_deadline(token, ctx);
                }
            }
            EventKind::UserWakes => {
                if let Node::Client(client) = node {
                    client.on_user_wakes(event.a, ctx);
                }
            }
            EventKind::AttemptTimeout => {
                if let Node::Retry(retry) = node {
                    retry.on_attempt_timeout(token, ctx);
                }
            }
            EventKind::RetryFire => {
                if let Node::Retry(retry) = node {
                    retry.on_retry_fire(token, ctx);
                }
            }
            EventKind::HedgeFire => {
                if let Node::Retry(retry) = node {
                    retry.on_hedge_fire(token, ctx);
                }
            }
            EventKind::HitDone => {
                if let Node::Cache(cache) = node {
                    cache.on_hit_done(ctx);
                }
            }
            EventKind::ServiceDone => {
                if let Node::Server(server) = node {
                    server.on_service_done(token, ctx);
                }
            }
            EventKind::ShedDone => {
                if let Node::Server(server) = node {
                    server.on_shed_done(token, ctx);
                }
            }
            EventKind::ScaleTick => {
                if let Node::Server(server) = node {
                    server.on_scale_tick(ctx);
                }
            }
            EventKind::WorkersReady => {
                if let Node::Server(server) = node {
                    server.on_workers_ready(event.b, ctx);
                }
            }
            EventKind::LinkArrival => ctx.link_arrival(event.a),
            EventKind::TriggerStart => self.apply_trigger(event.a as usize, true, true),
            EventKind::TriggerStep => self.apply_trigger(event.a as usize, true, false),
            EventKind::TriggerEnd => self.apply_trigger(event.a as usize, false, false),
        }
    }

    /// Delivers the outbox, including what the deliveries themselves send, until it is empty.
    fn deliver(&mut self) {
        while let Some(message) = self.ctx.outbox.pop() {
            self.ctx.work += 1;
            if self.ctx.work >= self.next_check {
                // One event can fan out into many calls: the limits are checked as they are
                // delivered. Past the state limit the rest of the instant's cascade is
                // dropped; at the work limit it is finished (the run stops after this event,
                // and can go on whole if the budget is raised).
                if self.checkpoint() {
                    self.ctx.outbox.items.clear();
                    self.ctx.outbox.next = 0;
                    return;
                }
            }
            match message.kind {
                MessageKind::Call => {
                    let to = message.to;
                    let call = Call {
                        key: message.key,
                        deadline: message.deadline,
                        reply_to: ReplyTo {
                            block: u32::from(message.from),
                            token: message.token,
                        },
                        attempt: message.attempt,
                        priority: message.priority,
                        client: message.client,
                    };
                    if self.ctx.partitioned[to as usize] > 0 {
                        continue;
                    }
                    self.nodes[to as usize].on_call(call, &mut self.ctx);
                }
                kind => {
                    let to = ReplyTo {
                        block: u32::from(message.to),
                        token: message.token,
                    };
                    let outcome = match kind {
                        MessageKind::Success => Outcome::Success,
                        MessageKind::Rejected => Outcome::Rejected,
                        MessageKind::TimedOut => Outcome::TimedOut,
                        MessageKind::Error | MessageKind::Call => Outcome::Error,
                    };
                    // A block that must know whether its caller still waits (a cache that
                    // does not fill from late replies) is told before its reply.
                    let node = &self.nodes[to.block as usize];
                    self.ctx.caller_waiting = node
                        .caller_to_ask(to.token)
                        .is_some_and(|caller| self.is_waiting(caller));
                    let ctx = &mut self.ctx;
                    ctx.carried = message.key as u32;
                    self.nodes[to.block as usize].on_reply(to.token, outcome, ctx);
                    ctx.carried = 0;
                }
            }
        }
    }

    /// Whether whoever is behind `reply_to` still waits for its reply.
    fn is_waiting(&self, mut reply_to: ReplyTo) -> bool {
        loop {
            match self.nodes[reply_to.block as usize].waiting(reply_to.token) {
                Waiting::Yes => return true,
                Waiting::No => return false,
                Waiting::AskCaller(next) => reply_to = next,
            }
        }
    }

    /// Starts, steps (`active` and not `start`) or ends trigger `index`; its kind's code
    /// then sets the target from every active trigger of that kind on it.
    fn apply_trigger(&mut self, index: usize, active: bool, start: bool) {
        let step = active && !start;
        self.trigger_active[index] = active;
        let target = self.trigger_targets[index];
        let trigger = &self.scenario.triggers[index];
        let peers = &self.trigger_groups[self.trigger_group[index] as usize];
        let active: Vec<&Trigger> = peers
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.trigger_active[i])
            .map(|i| &self.scenario.triggers[i])
            .collect();
        if step {
            // A staircase's step is work like any event, plus the peers looked at and each
            // active staircase's current step (a bisection): a thousand staircases of a
            // thousand steps on one client must stay within the work budget.
            self.ctx.work += (peers.len() + 2 * active.len()) as u64;
        }
        trigger.apply(Change {
            active: &active,
            start,
            target,
            node: &mut self.nodes[target as usize],
            ctx: &mut self.ctx,
        });
    }

    fn close_bucket(&mut self) {
        let end = self.bucket_end;
        let length = end - self.bucket_start;
        let seconds = to_seconds(length);
        let per_s = |count: u64| count as f64 / seconds;
        let b = &self.ctx.bucket;
        let queue: usize = self
            .servers
            .iter()
            .map(|&i| match &self.nodes[i] {
                Node::Server(s) => s.queued(),
                _ => 0,
            })
            .sum();
        let mut row = Row {
            t: to_seconds(self.bucket_start),
            offered: per_s(b.offered),
            goodput: per_s(b.goodput),
            throughput: per_s(b.throughput),
            attempts: per_s(b.attempts),
            retries: per_s(b.retries),
            timeouts: per_s(b.timeouts),
            errors: per_s(b.errors),
            rejected: per_s(b.rejected),
            latency_p50: b.latency.quantile(0.5).map(|ns| ns / 1e9),
            latency_p99: b.latency.quantile(0.99).map(|ns| ns / 1e9),
            latency_mean: (b.goodput > 0).then(|| b.latency_sum_ns as f64 / b.goodput as f64 / 1e9),
            in_flight: self.ctx.totals.in_flight as f64,
            queue: queue as f64,
            useful: per_s(b.useful),
            blocks: Vec::with_capacity(self.columns.len() - GLOBAL_COLUMNS.len()),
            ended_late: per_s(b.ended_late),
            failed_timeout: per_s(b.failed_timeout),
            failed_error: per_s(b.failed_error),
            failed_rejected: per_s(b.failed_rejected),
        };
        for node in &mut self.nodes {
            node.columns(end, length, &mut row.blocks);
        }
        let (mut at_servers, mut in_backoff) = (0, 0);
        for node in &self.nodes {
            match node {
                Node::Server(s) => at_servers += s.queued() + s.in_service(),
                Node::Retry(r) => in_backoff += r.in_backoff(),
                _ => {}
            }
        }
        self.fluid_trace
            .push((at_servers as f64, in_backoff as f64));
        self.rows.push(row);
        self.ctx.bucket.clear();
        self.bucket_start = end;
        self.bucket_end = end.saturating_add(self.bucket_length).min(self.end);
    }

    /// Bytes of the stored metric rows and the fluid trace.
    fn rows_bytes(&self) -> usize {
        let per_row = std::mem::size_of::<Row>()
            + (self.columns.len() - GLOBAL_COLUMNS.len()) * std::mem::size_of::<Option<f64>>();
        self.rows.len() * per_row + self.fluid_trace.len() * std::mem::size_of::<(f64, f64)>()
    }

    /// Bytes of everything that grows, as the state limit counts them.
    pub fn state_bytes(&self) -> u64 {
        let nodes: usize = self.nodes.iter().map(Node::bytes).sum();
        (self.ctx.queue.bytes()
            + self.ctx.outbox.bytes()
            + self.ctx.links_bytes()
            + self.rows_bytes()
            + nodes) as u64
    }

    /// Stops the run if everything that grows — queued events, the instant's calls and
    /// replies, blocks' state, stored rows — is over the state limit.
    fn check_state(&mut self) -> bool {
        let rows = self.rows_bytes();
        let queue = self.ctx.queue.bytes();
        let outbox = self.ctx.outbox.bytes();
        let mut blocks = 0;
        let mut biggest = (0usize, 0usize);
        for (i, node) in self.nodes.iter().enumerate() {
            let bytes = node.bytes();
            blocks += bytes;
            if bytes > biggest.1 {
                biggest = (i, bytes);
            }
        }
        let total = rows + queue + outbox + blocks;
        if total as u64 <= self.limits.max_state_bytes {
            return false;
        }
        let size = |bytes: usize| crate::metrics::size(bytes as f64);
        let most = [rows, queue, outbox, blocks].into_iter().max().unwrap_or(0);
        let block = |i: usize| {
            format!(
                "block \"{}\" ({})",
                self.scenario.blocks[i].id(),
                self.nodes[i].holding()
            )
        };
        let holding = if most == blocks && biggest.1 * 2 >= blocks {
            format!("{} holds the most", block(biggest.0))
        } else if most == blocks {
            format!(
                "the {} blocks together hold the most, {}; the largest is {}",
                self.nodes.len(),
                size(blocks),
                block(biggest.0)
            )
        } else if most == queue {
            format!(
                "the {} scheduled events hold the most, {}",
                crate::metrics::group(self.ctx.queue.len() as f64),
                size(queue)
            )
        } else if most == rows {
            format!(
                "the {} metric rows of {} columns hold the most, {}: use a larger bucket_s",
                crate::metrics::group(self.rows.len() as f64),
                self.columns.len(),
                size(rows)
            )
        } else {
            format!(
                "the {} calls and replies of one instant hold the most, {}",
                crate::metrics::group(self.ctx.outbox.items.len() as f64),
                size(outbox)
            )
        };
        self.stop_for(
            Budget::State,
            format!(
                "the simulation state grew past {} (the limit; raise it with --max-state-mib); {holding}",
                size(self.limits.max_state_bytes as usize),
            ),
        );
        true
    }

    fn stop_for(&mut self, budget: Budget, reason: String) {
        if self.stopped.is_none() {
            self.stopped = Some(LimitExceeded {
                at_s: to_seconds(self.ctx.now),
                budget,
                reason,
            });
        }
    }
}

#[cfg(test)]
mod trigger_tests {
    use crate::testing::column;
    use crate::testing::run;

    /// A saturated server (far more calls than workers) whose `busy` column shows its workers.
    fn saturated(triggers: &str) -> Vec<f64> {
        let sim = run(&format!(
            r#"{{"version": 1, "duration_s": 40, "blocks": [
              {{"id": "u", "kind": "client", "rate": 100, "arrival": "uniform", "to": "s"}},
              {{"id": "s", "kind": "server", "workers": 5, "queue_capacity": 10,
                "service": {{"dist": "deterministic", "mean_s": 0.5}}}}],
              "triggers": [{triggers}]}}"#
        ));
        column(&sim, "s.busy")
    }

    #[test]
    fn overlapping_settings_take_the_latest_started_and_end_cleanly() {
        let busy = saturated(
            r#"{"kind": "capacity", "target": "s", "at_s": 10, "for_s": 20, "workers": 1},
               {"kind": "capacity", "target": "s", "at_s": 15, "for_s": 5, "workers": 3}"#,
        );
        assert_eq!(busy[5], 5.0);
        assert_eq!(busy[12], 1.0, "the first capacity trigger");
        assert_eq!(busy[17], 3.0, "the later one wins while both are active");
        assert_eq!(busy[25], 1.0, "back to the first when the later one ends");
        assert_eq!(busy[35], 5.0, "back to the configured workers");
    }

    #[test]
    fn a_trigger_at_the_same_time_as_an_event_acts_first() {
        // An outage from t = 10: the arrival at exactly t = 10 is already rejected.
        let sim = run(r#"{"version": 1, "duration_s": 12, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "s"},
            {"id": "s", "kind": "server", "workers": 5, "service": {"mean_s": 0.01}}],
            "triggers": [{"kind": "outage", "target": "s", "at_s": 10, "for_s": 1}]}"#);
        assert_eq!(column(&sim, "rejected")[10], 1.0);
        assert_eq!(sim.totals().rejected, 1);
    }

    #[test]
    fn a_latency_factor_of_two_triggers_multiplies() {
        let sim = run(r#"{"version": 1, "duration_s": 30, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "arrival": "uniform", "to": "s"},
            {"id": "s", "kind": "server", "workers": 5, "service": {"dist": "deterministic", "mean_s": 0.1}}],
            "triggers": [{"kind": "latency", "target": "s", "at_s": 10, "for_s": 10, "factor": 2},
                         {"kind": "latency", "target": "s", "at_s": 10, "for_s": 10, "factor": 3}]}"#);
        let p50 = column(&sim, "latency_p50");
        assert!((p50[15] - 0.6).abs() < 0.003, "{p50:?}");
        assert!((p50[25] - 0.1).abs() < 0.001);
    }
}

#[cfg(test)]
mod outcome_tests {
    use crate::testing::{column, run};
    use crate::Sim;

    /// client → server with the given client and server fields (JSON fragments).
    fn simple(client: &str, server: &str, duration: f64) -> Sim {
        run(&format!(
            r#"{{"version": 1, "seed": 5, "duration_s": {duration}, "blocks": [
              {{"id": "users", "kind": "client", "to": "api", {client}}},
              {{"id": "api", "kind": "server", {server}}}]}}"#
        ))
    }

    /// Each bucket's length in seconds (the last one may be shorter).
    fn lengths(sim: &Sim) -> Vec<f64> {
        let rows = sim.rows();
        (0..rows.len())
            .map(|i| rows.get(i + 1).map_or(sim.duration_s(), |r| r.t) - rows[i].t)
            .collect()
    }

    /// Σ over buckets of a per-second field times the bucket's length, as a count.
    fn count(sim: &Sim, field: fn(&crate::Row) -> f64) -> u64 {
        let sum: f64 = sim
            .rows()
            .iter()
            .zip(lengths(sim))
            .map(|(r, len)| field(r) * len)
            .sum();
        assert!((sum - sum.round()).abs() < 1e-6, "{sum}");
        sum.round() as u64
    }

    /// Every request that ended is in exactly one of goodput and the `failed_*` counts of the
    /// bucket where it ended; late successes are counted once more, as themselves.
    fn assert_outcomes_conserved(sim: &Sim) {
        let t = sim.totals();
        let good = count(sim, |r| r.goodput);
        let failed = count(sim, |r| {
            r.failed_timeout + r.failed_error + r.failed_rejected
        });
        let late = count(sim, |r| r.ended_late);
        let name = &sim.scenario().name;
        assert_eq!(good, t.good, "{name}: {t:?}");
        assert_eq!(late, t.late, "{name}: {t:?}");
        assert_eq!(good + failed, t.good + t.late + t.failed, "{name}: {t:?}");
        assert_eq!(
            count(sim, |r| r.goodput
                + r.ended_late
                + r.failed_timeout
                + r.failed_error
                + r.failed_rejected),
            t.good + 2 * t.late + t.failed,
            "{name}"
        );
    }

    fn field(sim: &Sim, f: fn(&crate::Row) -> f64) -> Vec<f64> {
        sim.rows().iter().map(f).collect()
    }

    #[test]
    fn requests_that_all_time_out_are_failed_timeout_then_late() {
        // Services take 1 s, users wait 0.5 s: every request times out, then succeeds late.
        let sim = simple(
            r#""rate": 50, "arrival": "uniform", "timeout_s": 0.5"#,
            r#""workers": 1000, "service": {"dist": "deterministic", "mean_s": 1.0}"#,
            30.0,
        );
        let offered = column(&sim, "offered");
        let timed_out = field(&sim, |r| r.failed_timeout);
        let late = field(&sim, |r| r.ended_late);
        for i in 2..30 {
            assert!(
                (timed_out[i] - offered[i]).abs() <= 1.0,
                "{i}: {timed_out:?}"
            );
            assert!((late[i] - 50.0).abs() <= 1.0, "{i}: {late:?}");
            assert_eq!(sim.rows()[i].goodput, 0.0);
            assert_eq!(
                sim.rows()[i].failed_error + sim.rows()[i].failed_rejected,
                0.0
            );
        }
        // Late does not take the request back out of the timeouts of its deadline's bucket.
        let t = sim.totals();
        assert!(t.late > 1300 && t.failed < 60, "{t:?}");
        assert_eq!(count(&sim, |r| r.failed_timeout), t.late + t.failed);
        assert_outcomes_conserved(&sim);
    }

    #[test]
    fn error_replies_are_failed_error() {
        let sim = simple(
            r#""rate": 50, "arrival": "uniform", "timeout_s": 1"#,
            r#""workers": 10, "error_rate": 1, "service": {"mean_s": 0.01}"#,
            20.0,
        );
        let errors = field(&sim, |r| r.failed_error);
        let offered = column(&sim, "offered");
        for i in 1..20 {
            assert!((errors[i] - offered[i]).abs() <= 1.0, "{i}: {errors:?}");
        }
        assert_eq!(count(&sim, |r| r.failed_timeout + r.failed_rejected), 0);
        assert_eq!(count(&sim, |r| r.failed_error), sim.totals().errors);
        assert_outcomes_conserved(&sim);
    }

    #[test]
    fn rejections_are_failed_rejected() {
        // One worker, no waiting room, five times its capacity: most calls are rejected.
        let sim = simple(
            r#""rate": 50, "timeout_s": 1"#,
            r#""workers": 1, "queue_capacity": 0,
               "service": {"dist": "deterministic", "mean_s": 0.1}"#,
            60.0,
        );
        let t = sim.totals();
        assert!(t.rejected > 2000, "{t:?}");
        assert_eq!(count(&sim, |r| r.failed_rejected), t.rejected);
        assert_eq!(count(&sim, |r| r.failed_timeout + r.failed_error), 0);
        let rejected = column(&sim, "rejected");
        for (i, row) in sim.rows().iter().enumerate() {
            assert_eq!(row.failed_rejected, rejected[i]);
            assert!(
                row.goodput <= 10.0 && row.failed_rejected > 20.0,
                "{i}: {row:?}"
            );
        }
        assert_outcomes_conserved(&sim);
    }

    /// client → retry (3 attempts) → the given blocks, the first named `api`.
    fn behind_retries(retry: &str, blocks: &str, triggers: &str) -> Sim {
        run(&format!(
            r#"{{"version": 1, "seed": 5, "duration_s": 30, "blocks": [
              {{"id": "users", "kind": "client", "rate": 20, "arrival": "uniform",
                "timeout_s": 5, "to": "retries"}},
              {{"id": "retries", "kind": "retry", "max_attempts": 3, "to": "api" {retry}}},
              {blocks}], "triggers": [{triggers}]}}"#
        ))
    }

    #[test]
    fn a_retry_layer_that_gives_up_answers_with_its_last_failure() {
        let server =
            r#"{"id": "api", "kind": "server", "workers": 10, "service": {"mean_s": 0.01}"#;
        let errors = behind_retries("", &format!(r#"{server}, "error_rate": 1}}"#), "");
        assert_eq!(count(&errors, |r| r.failed_error), errors.totals().failed);
        assert!(errors.totals().failed > 500);

        let outage = r#"{"kind": "outage", "target": "api", "at_s": 0, "for_s": 100}"#;
        let rejected = behind_retries("", &format!("{server}}}"), outage);
        assert_eq!(
            count(&rejected, |r| r.failed_rejected),
            rejected.totals().failed
        );
        assert!(rejected.totals().rejected >= 3 * rejected.totals().failed);

        // Partitioned: no reply at all, so every attempt times out, well before the deadline.
        let partition = r#"{"kind": "partition", "target": "api", "at_s": 0, "for_s": 100}"#;
        let timed_out = behind_retries(
            r#", "attempt_timeout_s": 0.5"#,
            &format!("{server}}}"),
            partition,
        );
        let t = timed_out.totals();
        assert!(t.failed > 500, "{t:?}");
        assert_eq!(count(&timed_out, |r| r.failed_timeout), t.failed);
        let attempt_timeouts: f64 = column(&timed_out, "retries.timeouts").iter().sum();
        assert_eq!(
            attempt_timeouts as u64, t.timeouts,
            "attempt timeouts only, no deadline fired"
        );
        for sim in [&errors, &rejected, &timed_out] {
            assert_outcomes_conserved(sim);
        }
    }

    #[test]
    fn an_open_breaker_and_a_rejecting_dependency_are_rejections() {
        // A breaker over a server in outage: rejected by the server, then by the open breaker.
        let sim = run(r#"{"version": 1, "seed": 3, "duration_s": 40, "blocks": [
            {"id": "users", "kind": "client", "rate": 50, "timeout_s": 1, "to": "guard"},
            {"id": "guard", "kind": "breaker", "to": "api", "min_calls": 5, "open_s": 3},
            {"id": "api", "kind": "server", "workers": 10, "service": {"mean_s": 0.05},
             "to": "db"},
            {"id": "db", "kind": "server", "workers": 10, "service": {"mean_s": 0.01}}],
            "triggers": [{"kind": "outage", "target": "db", "at_s": 10, "for_s": 20}]}"#);
        let rejected = field(&sim, |r| r.failed_rejected);
        let offered = column(&sim, "offered");
        for i in 11..30 {
            assert!(rejected[i] > 0.8 * offered[i], "{i}: {rejected:?}");
        }
        assert_eq!(count(&sim, |r| r.failed_error), 0);
        // The api counts the db's refusals among its errors, but the user saw a rejection.
        assert!(sim.totals().errors > 0);
        assert_outcomes_conserved(&sim);
    }

    #[test]
    fn outcomes_add_up_to_the_totals_in_every_preset() {
        for preset in crate::presets::ALL {
            let scenario = crate::Scenario::from_json(preset.json).unwrap();
            let mut sim = Sim::new(&scenario).unwrap();
            sim.run();
            assert_outcomes_conserved(&sim);
        }
    }

    #[test]
    fn a_short_last_bucket_is_counted_over_its_own_length() {
        let sim = run(
            r#"{"version": 1, "seed": 2, "duration_s": 10.5, "bucket_s": 2,
            "blocks": [
              {"id": "users", "kind": "client", "rate": 40, "timeout_s": 0.2, "to": "api"},
              {"id": "api", "kind": "server", "workers": 2, "queue_capacity": 3,
               "error_rate": 0.2, "service": {"mean_s": 0.04}}]}"#,
        );
        assert_eq!(sim.rows().len(), 6);
        let t = sim.totals();
        assert!(
            t.late > 0 && t.failed > 0 && t.rejected > 0 && t.errors > 0,
            "{t:?}"
        );
        assert_outcomes_conserved(&sim);
    }
}
