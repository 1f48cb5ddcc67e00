//! The cache: a look-aside LRU cache in front of its downstream.
//!
//! A hit answers success after `hit_latency_s`; a miss forwards the call to `to`. A successful
//! reply inserts the key (evicting the least recently used entry when full) and is passed on.
//! With `fill_late` (the default) it inserts even when the caller already gave up — a slow
//! backend still warms the cache; without it, fills for abandoned calls are thrown away, which
//! is how a flushed cache can stay cold for ever behind a database that only answers too late.
//! Entries older than `ttl_s` count as misses. A `cache_flush` trigger empties it.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Calls, Param, ParamValue};
use crate::queue::{to_time, Event, EventKind, EventQueue, LaneId, Time};
use crate::scenario::{is_default, is_true, limits, yes, Validator};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;

// ---- The spec: what a scenario file says about this block. ----

/// A look-aside LRU cache in front of its downstream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheSpec {
    pub id: String,
    pub to: String,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    pub capacity: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<f64>,
    #[serde(skip_serializing_if = "is_default")]
    pub hit_latency_s: f64,
    #[serde(skip_serializing_if = "is_true")]
    pub fill_late: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(CacheSpec {
    id: required,
    to: required,
    link_latency_s: default,
    capacity: required,
    ttl_s: default,
    hit_latency_s: default,
    fill_late: or(yes),
    ui: default,
});

const CAPACITY: Param = Param::whole("capacity", 0, 100_000_000, Absent::Required);
const TTL_S: Param = Param::above("ttl_s", 0.0, limits::MAX_TIME_S, Absent::Unset);
const HIT_LATENCY_S: Param =
    Param::number("hit_latency_s", 0.0, limits::MAX_TIME_S, Absent::Is(0.0));

/// A cache's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    CAPACITY,
    TTL_S,
    HIT_LATENCY_S,
    Param::new("fill_late", ParamValue::Flag { absent: true }),
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Target { optional: false }),
];

pub(crate) const TEMPLATE: &str =
    r#"{"capacity": 1000, "ttl_s": 60, "hit_latency_s": 0.001, "to": ""}"#;

/// The bucket's hit rate (empty without lookups).
pub(crate) const METRICS: &[&str] = &["hit_rate"];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::One;

impl CacheSpec {
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
        v.whole(&CAPACITY, self.capacity);
        if let Some(ttl) = self.ttl_s {
            v.param(&TTL_S, ttl);
        }
        v.param(&HIT_LATENCY_S, self.hit_latency_s);
    }
}

const NIL: u32 = u32::MAX;

struct Entry {
    key: u64,
    stored_at: Time,
    previous: u32,
    next: u32,
}

/// An LRU map of keys to their insertion time: a hash map into an intrusive doubly linked list.
/// The map is only looked up, never iterated, so its order cannot leak into results.
#[derive(Default)]
pub(crate) struct Lru {
    capacity: usize,
    map: FxHashMap<u64, u32>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
}

impl Lru {
    pub(crate) fn new(capacity: usize) -> Lru {
        Lru {
            capacity,
            head: NIL,
            tail: NIL,
            ..Lru::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    fn unlink(&mut self, i: u32) {
        let (previous, next) = {
            let e = &self.entries[i as usize];
            (e.previous, e.next)
        };
        if previous == NIL {
            self.head = next;
        } else {
            self.entries[previous as usize].next = next;
        }
        if next == NIL {
            self.tail = previous;
        } else {
            self.entries[next as usize].previous = previous;
        }
    }

    fn push_front(&mut self, i: u32) {
        let old_head = self.head;
        {
            let e = &mut self.entries[i as usize];
            e.previous = NIL;
            e.next = old_head;
        }
        if old_head != NIL {
            self.entries[old_head as usize].previous = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn remove_entry(&mut self, i: u32) {
        self.unlink(i);
        let key = self.entries[i as usize].key;
        self.map.remove(&key);
        self.free.push(i);
    }

    /// True for a fresh entry (which becomes the most recently used); an expired one is removed.
    pub(crate) fn lookup(&mut self, key: u64, now: Time, ttl: Option<Time>) -> bool {
        let Some(&i) = self.map.get(&key) else {
            return false;
        };
        let stored_at = self.entries[i as usize].stored_at;
        if ttl.is_some_and(|ttl| now.saturating_sub(stored_at) >= ttl) {
            self.remove_entry(i);
            return false;
        }
        self.unlink(i);
        self.push_front(i);
        true
    }

    /// Inserts or refreshes `key`, evicting the least recently used entry when full.
    pub(crate) fn insert(&mut self, key: u64, now: Time) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.map.get(&key) {
            self.entries[i as usize].stored_at = now;
            self.unlink(i);
            self.push_front(i);
            return;
        }
        if self.map.len() >= self.capacity {
            let tail = self.tail;
            self.remove_entry(tail);
        }
        let entry = Entry {
            key,
            stored_at: now,
            previous: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.entries.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    fn bytes(&self) -> usize {
        // A hash table keeps its load under 7/8 in a power-of-two number of buckets, each
        // an entry and a control byte: counted at that real size, not at its capacity.
        let buckets = (self.map.capacity() * 8 / 7).next_power_of_two();
        buckets * (std::mem::size_of::<(u64, u32)>() + 1)
            + self.entries.len() * std::mem::size_of::<Entry>()
            + self.free.capacity() * 4
    }
}

struct Miss {
    caller: ReplyTo,
    key: u64,
}

pub(crate) struct Cache {
    me: u32,
    to: u32,
    ttl: Option<Time>,
    hit_lane: LaneId,
    fill_late: bool,
    lru: Lru,
    /// Callers of hits being answered, oldest first (the hit latency is constant, so the
    /// `HitDone` events come in the same order).
    hits_pending: VecDeque<ReplyTo>,
    misses: Slab<Miss>,
    bucket_hits: u64,
    bucket_misses: u64,
}

impl Cache {
    pub(crate) fn new(me: u32, spec: &CacheSpec, to: u32, queue: &mut EventQueue) -> Cache {
        Cache {
            me,
            to,
            ttl: spec.ttl_s.map(to_time),
            hit_lane: queue.lane(to_time(spec.hit_latency_s)),
            fill_late: spec.fill_late,
            lru: Lru::new(spec.capacity as usize),
            hits_pending: VecDeque::new(),
            misses: Slab::default(),
            bucket_hits: 0,
            bucket_misses: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        if self.lru.lookup(call.key, ctx.now, self.ttl) {
            self.bucket_hits += 1;
            self.hits_pending.push_back(call.reply_to);
            ctx.on_lane(self.hit_lane, Event::new(self.me, EventKind::HitDone, 0, 0));
        } else {
            self.bucket_misses += 1;
            let token = self.misses.insert(Miss {
                caller: call.reply_to,
                key: call.key,
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
        }
    }

    /// The oldest pending hit's latency elapsed: answer it.
    pub(crate) fn on_hit_done(&mut self, ctx: &mut Ctx) {
        if let Some(caller) = self.hits_pending.pop_front() {
            ctx.reply(self.me, caller, Outcome::Success);
        }
    }

    /// True when a reply's fill depends on whether the caller still waits.
    pub(crate) fn needs_caller_state(&self) -> bool {
        !self.fill_late
    }

    /// The caller behind a forwarded miss.
    pub(crate) fn caller(&self, token: Token) -> Option<ReplyTo> {
        self.misses.get(token).map(|m| m.caller)
    }

    #[inline(always)]
    pub(crate) fn on_reply(
        &mut self,
        token: Token,
        outcome: Outcome,
        caller_waiting: bool,
        ctx: &mut Ctx,
    ) {
        let Some(miss) = self.misses.remove(token) else {
            return;
        };
        if outcome == Outcome::Success && (self.fill_late || caller_waiting) {
            self.lru.insert(miss.key, ctx.now);
        }
        ctx.reply(self.me, miss.caller, outcome);
    }

    pub(crate) fn flush(&mut self) {
        self.lru.clear();
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.misses.get(token) {
            Some(miss) => Waiting::AskCaller(miss.caller),
            None => Waiting::No,
        }
    }

    /// `hit_rate` of the calls that arrived in the bucket (empty when none did).
    pub(crate) fn columns_of(&mut self, out: &mut Vec<Option<f64>>) {
        let calls = self.bucket_hits + self.bucket_misses;
        out.push((calls > 0).then(|| self.bucket_hits as f64 / calls as f64));
        self.bucket_hits = 0;
        self.bucket_misses = 0;
    }

    pub(crate) fn live(&self) -> usize {
        self.lru.len() + self.misses.len() + self.hits_pending.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.lru.bytes() + self.misses.bytes() + self.hits_pending.capacity() * 16
    }
}

impl Behaviour for Cache {
    type Spec = CacheSpec;

    fn build(spec: &CacheSpec, b: &mut Build) -> Cache {
        Cache::new(b.me, spec, b.index(&spec.to), b.queue)
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        Cache::on_call(self, call, ctx)
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        let caller_waiting = ctx.caller_waiting;
        Cache::on_reply(self, token, outcome, caller_waiting, ctx)
    }

    fn caller_to_ask(&self, token: Token) -> Option<ReplyTo> {
        if self.needs_caller_state() {
            self.caller(token)
        } else {
            None
        }
    }

    fn waiting(&self, token: Token) -> Waiting {
        Cache::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Cache::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} entries and pending calls", self.live())
    }

    fn columns(&mut self, _end: Time, _length: Time, out: &mut Vec<Option<f64>>) {
        self.columns_of(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut lru = Lru::new(2);
        lru.insert(1, 0);
        lru.insert(2, 0);
        assert!(lru.lookup(1, 0, None)); // 1 is now the most recent
        lru.insert(3, 0); // evicts 2
        assert!(lru.lookup(1, 0, None));
        assert!(!lru.lookup(2, 0, None));
        assert!(lru.lookup(3, 0, None));
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn ttl_expires_entries_at_exactly_their_age() {
        let mut lru = Lru::new(10);
        lru.insert(7, 100);
        assert!(lru.lookup(7, 149, Some(50)));
        assert!(!lru.lookup(7, 150, Some(50)));
        assert_eq!(lru.len(), 0, "an expired entry is removed");
        // Re-inserting refreshes the time.
        lru.insert(7, 200);
        lru.insert(7, 240);
        assert!(lru.lookup(7, 280, Some(50)));
    }

    #[test]
    fn zero_capacity_caches_nothing_and_clear_empties() {
        let mut lru = Lru::new(0);
        lru.insert(1, 0);
        assert!(!lru.lookup(1, 0, None));
        let mut lru = Lru::new(3);
        for k in 0..3 {
            lru.insert(k, 0);
        }
        lru.clear();
        assert_eq!(lru.len(), 0);
        assert!(!lru.lookup(0, 0, None));
        lru.insert(5, 0);
        assert!(lru.lookup(5, 0, None));
    }

    #[test]
    fn lru_survives_churn() {
        let mut lru = Lru::new(5);
        for k in 0..1000u64 {
            lru.insert(k % 17, k);
            assert!(lru.len() <= 5);
            lru.lookup((k * 7) % 17, k, Some(3));
        }
    }
}
