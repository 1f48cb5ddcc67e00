//! The blocks of a system and what travels between them.
//!
//! A block receives *calls* (`on_call`), answers them with *replies* (`Ctx::reply`), makes calls
//! of its own downstream (`Ctx::call`) and gets their replies (`on_reply`), and handles the
//! events it scheduled (`on_event`). Calls and replies are not delivered by the block that sends
//! them: they go into the engine's outbox and are delivered in order, at the same instant, after
//! the handler returns. So no handler ever runs inside another, and a block's state is always
//! whole when someone else looks at it.

pub(crate) mod balancer;
pub(crate) mod breaker;
pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod limiter;
pub(crate) mod retry;
pub(crate) mod server;

use crate::ctx::{Ctx, Waiting};
use crate::kind::{Absent, Param};
use crate::queue::{EventQueue, Time};
use crate::scenario::{limits, Scenario};
use std::collections::BTreeMap;

/// Every calling block's `link_latency_s` (SPEC §8): deterministic network latency on the
/// calls it sends and the replies coming back to it.
pub(crate) const LINK_LATENCY_S: Param =
    Param::number("link_latency_s", 0.0, limits::MAX_TIME_S, Absent::Is(0.0));

/// What building a block's run-time state may use: its index, the run's seed and event
/// queue, the scenario, and the index of every block by id.
pub(crate) struct Build<'a> {
    pub me: u32,
    pub seed: u64,
    pub queue: &'a mut EventQueue,
    pub scenario: &'a Scenario,
    pub ids: &'a BTreeMap<&'a str, usize>,
}

impl Build<'_> {
    /// The index of the block with this id (validation guarantees it exists).
    pub fn index(&self, id: &str) -> u32 {
        self.ids.get(id).map_or(u32::MAX, |&i| i as u32)
    }
}

/// What every block's run-time state does for the engine. The engine's `Node` enum (one
/// variant per kind, from the one list in `kind.rs`) dispatches to these by a `match`, so
/// the calls are static and inlined.
pub(crate) trait Behaviour: Sized {
    /// The block's part of the scenario file.
    type Spec;
    /// Its state at time 0.
    fn build(spec: &Self::Spec, b: &mut Build) -> Self;
    /// A call arrives (never for a kind that takes no calls: validation refuses them).
    fn on_call(&mut self, call: Call, ctx: &mut Ctx);
    /// A reply to one of its calls arrives.
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx);
    /// Whether the caller behind `token` still waits.
    fn waiting(&self, token: Token) -> Waiting;
    /// The caller of the call behind `token`, when the block must know before a reply whether
    /// that caller still waits (a cache that does not fill from late replies): the engine
    /// then sets `Ctx::caller_waiting`.
    fn caller_to_ask(&self, _token: Token) -> Option<ReplyTo> {
        None
    }
    /// Bytes of live state.
    fn bytes(&self) -> usize;
    /// What that state holds, for the message of a run stopped by the state limit.
    fn holding(&self) -> String;
    /// Appends its metric columns for the bucket ending at `end`, `length` long, and resets
    /// its per-bucket counters.
    fn columns(&mut self, _end: Time, _length: Time, _out: &mut Vec<Option<f64>>) {}
}

/// Identifies one pending thing inside a block (a request, an attempt, a forwarded call):
/// a slot in a [`Slab`] and the slot's generation, so a stale token is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub slot: u32,
    pub generation: u32,
}

/// Where a reply goes: the calling block and its token for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplyTo {
    pub block: u32,
    pub token: Token,
}

/// One attempt (a call) from a block to its downstream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The request's key (for caches); retries of a request keep it.
    pub key: u64,
    /// The user's deadline (`NEVER` without a client timeout).
    pub deadline: Time,
    pub reply_to: ReplyTo,
    /// Which try of the request this is at the nearest retry block above (1 for a first try,
    /// 2 for the first retry, …); pass-through blocks keep it, a server's call to its
    /// dependency starts at 1.
    pub attempt: u8,
    /// The client's `priority` (0 = most important), kept by every block on the way.
    pub priority: u16,
    /// The block index of the client that created the request (for a server's `fair`
    /// discipline); every block on the way keeps it, a server's call to its dependency too.
    pub client: u16,
}

/// What a reply says: a success, or a failure and its cause.
///
/// Blocks that only care whether a call failed (a retry's attempt, a breaker's window, a
/// server waiting on its dependency) treat every failure alike, through
/// [`Outcome::is_failure`]; the cause travels up unchanged (a balancer, a cache, a breaker
/// and a server with a dependency pass their downstream's failure on as it is; a retry layer
/// that gives up answers with its last attempt's), so that the client can say how a request
/// failed (SPEC §4's `failed_*` counts, kept out of the CSV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// An error made by a server: `error_rate`, an `errors` trigger, a shed call
    /// (`drop_expired`, `max_queue_wait_s`).
    Error,
    /// Refused without work: a full queue under `reject` (or LIFO), an outage, an open or
    /// half-open breaker (the calls counted in `rejected`).
    Rejected,
    /// A retry layer gave up after its last attempt timed out (`attempt_timeout_s`).
    TimedOut,
}

impl Outcome {
    /// Every outcome but a success.
    #[inline]
    pub(crate) fn is_failure(self) -> bool {
        self != Outcome::Success
    }
}

/// Slots with generations and a free list: O(1) insert and remove, memory bounded by what is
/// live at once, stale tokens detected.
///
/// Generations live in their own dense array, odd while the slot is live and even while it is
/// free. Rationale: most timers fire after their request has ended (a deadline of a request
/// that succeeded long ago); telling that a token is stale then reads 4 bytes from an array
/// that stays in cache, not a whole entry from memory.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    generations: Vec<u32>,
    values: Vec<Option<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            generations: Vec::new(),
            values: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    #[inline(always)]
    pub(crate) fn insert(&mut self, value: T) -> Token {
        self.live += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.values[slot as usize] = Some(value);
                slot
            }
            None => {
                self.generations.push(0);
                self.values.push(Some(value));
                (self.values.len() - 1) as u32
            }
        };
        let generation = &mut self.generations[slot as usize];
        *generation = generation.wrapping_add(1); // even (free) → odd (live)
        Token {
            slot,
            generation: *generation,
        }
    }

    /// Whether the token names a live slot, from the generations alone.
    #[inline]
    fn is_current(&self, token: Token) -> bool {
        self.generations.get(token.slot as usize) == Some(&token.generation)
            && token.generation % 2 == 1
    }

    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&T> {
        if !self.is_current(token) {
            return None;
        }
        self.values[token.slot as usize].as_ref()
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        if !self.is_current(token) {
            return None;
        }
        self.values[token.slot as usize].as_mut()
    }

    /// Takes the value out; the slot's generation moves on, so the token goes stale.
    #[inline]
    pub(crate) fn remove(&mut self, token: Token) -> Option<T> {
        if !self.is_current(token) {
            return None;
        }
        let slot = token.slot as usize;
        self.generations[slot] = self.generations[slot].wrapping_add(1); // odd → even
        self.free.push(token.slot);
        self.live -= 1;
        self.values[slot].take()
    }

    /// Gives a live slot a new generation (stales every earlier token for it).
    #[inline]
    pub(crate) fn renew(&mut self, token: Token) -> Option<Token> {
        if !self.is_current(token) {
            return None;
        }
        let generation = &mut self.generations[token.slot as usize];
        *generation = generation.wrapping_add(2); // stays odd: still live
        Some(Token {
            slot: token.slot,
            generation: *generation,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn bytes(&self) -> usize {
        // What has been written (a slot once used stays in memory); unused capacity is
        // address space until then, and counting it made the count jump when many slabs
        // doubled within one cascade of calls.
        self.generations.len() * 4
            + self.values.len() * std::mem::size_of::<Option<T>>()
            + self.free.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_tokens_go_stale_on_remove_and_renew() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.get(a), Some(&"a"));
        let a2 = slab.renew(a).unwrap();
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(a2), Some(&"a"));
        assert_eq!(slab.remove(a2), Some("a"));
        assert_eq!(slab.remove(a2), None);
        let b = slab.insert("b");
        assert_eq!(b.slot, a.slot, "slots are reused");
        assert_eq!(slab.get(a2), None, "but old tokens stay stale");
        assert_eq!(slab.len(), 1);
    }
}
