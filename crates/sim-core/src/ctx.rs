//! What a block's handler may touch besides its own state ([`Ctx`]: the clock, the event
//! queue, the outbox of calls and replies, the counters) and the messages it sends.
//!
//! The import graph is one-way: the engine uses the blocks, the blocks use this module, and
//! this module uses neither.

use crate::blocks::{Call, Outcome, ReplyTo, Token};
use crate::metrics::{BucketCounts, Histogram, Totals};
use crate::queue::{to_time, Event, EventKind, EventQueue, LaneId, Time};
use std::collections::VecDeque;

/// A call or a reply waiting to be delivered at the current instant.
///
/// A flat struct of naturally aligned fields rather than an enum of `Call` and `Reply`
/// variants: the enum's packed layout made the compiler write and re-read messages with
/// overlapping unaligned moves (a 2-byte tag, then 8-byte stores at offset 2), and the loads
/// that read a message back were the hottest instructions in `perf` profiles of the heavy
/// benchmark: a likely store-to-load forwarding stall. This layout is written and read with
/// plain aligned moves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message {
    /// A call: the caller's key and the user's deadline (unused for a reply).
    pub(crate) key: u64,
    pub(crate) deadline: u64,
    /// A call: the block called. A reply: the block replied to. Block indices fit in 16 bits
    /// (a scenario has at most `limits::MAX_BLOCKS` blocks), which leaves room for `client`.
    pub(crate) to: u16,
    /// A call: the caller (where the reply goes). Unused for a reply.
    pub(crate) from: u16,
    /// The token of the call: the caller's for a call, the replied-to block's for a reply.
    pub(crate) token: Token,
    pub(crate) kind: MessageKind,
    /// A call: its attempt number, priority and origin client (see [`Call`]), in what was
    /// padding.
    pub(crate) attempt: u8,
    pub(crate) priority: u16,
    pub(crate) client: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum MessageKind {
    Call,
    Success,
    Error,
    Rejected,
    TimedOut,
}

/// A block without link latency.
pub(crate) const NO_LINK: u32 = u32::MAX;

/// Messages on their way over links of one latency, oldest first.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) lane: LaneId,
    pub(crate) messages: VecDeque<Message>,
}

/// The messages of the current instant, delivered first in, first out.
///
/// Rationale: a `Vec` and a read position, emptied whenever everything has been read, is a
/// FIFO without the wrap-around arithmetic of a ring buffer; it never holds more than one
/// instant's cascade of calls and replies.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub(crate) items: Vec<Message>,
    pub(crate) next: usize,
}

impl Outbox {
    pub(crate) fn bytes(&self) -> usize {
        self.items.len() * std::mem::size_of::<Message>()
    }

    #[inline]
    pub(crate) fn push(&mut self, message: Message) {
        self.items.push(message);
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Message> {
        match self.items.get(self.next) {
            Some(&message) => {
                self.next += 1;
                Some(message)
            }
            None => {
                self.items.clear();
                self.next = 0;
                None
            }
        }
    }
}

/// What a block handler may touch besides its own state: the clock, the event queue, the
/// outbox and the counters.
pub(crate) struct Ctx {
    pub now: Time,
    pub queue: EventQueue,
    pub(crate) outbox: Outbox,
    /// Active partition triggers per block: calls to it are lost, and so are its replies.
    pub(crate) partitioned: Vec<u32>,
    pub bucket: BucketCounts,
    pub totals: Totals,
    pub latency_all: Histogram,
    pub latency_sum_ns: u128,
    /// Units of work done so far ([`Limits::max_work`]): events, deliveries, scans.
    pub work: u64,
    /// Each block's link (an index into `links`), or [`NO_LINK`] without latency.
    pub(crate) link_of: Vec<u32>,
    /// Calls and replies on their way over links with latency, one FIFO per distinct
    /// latency: a lane of the event queue says when the oldest arrives.
    pub(crate) links: Vec<Link>,
    /// Server services in the reply being delivered (0 outside a reply's handler): a reply
    /// sent while handling it carries them on, so a success reaching its client in time
    /// counts every service that made it as useful (SPEC §8).
    pub carried: u32,
    /// Whether the caller of the call being answered still waits, for a block that asked
    /// (`Behaviour::caller_to_ask`); false otherwise.
    pub caller_waiting: bool,
}

impl Ctx {
    /// A context for unit tests of one block's handlers: `blocks` blocks, no links, time 0.
    #[cfg(test)]
    pub(crate) fn for_tests(blocks: usize) -> Ctx {
        Ctx {
            now: 0,
            queue: EventQueue::default(),
            outbox: Outbox::default(),
            partitioned: vec![0; blocks],
            bucket: BucketCounts::default(),
            totals: Totals::default(),
            latency_all: Histogram::default(),
            latency_sum_ns: 0,
            work: 0,
            link_of: vec![NO_LINK; blocks],
            links: Vec::new(),
            carried: 0,
            caller_waiting: false,
        }
    }

    /// Sends a call to block `to`: delivered after the current handler, at this instant, or
    /// after the caller's link latency.
    #[inline]
    pub(crate) fn call(&mut self, to: u32, call: Call) {
        // Block indices are below `limits::MAX_BLOCKS` (validated), so they fit in 16 bits.
        debug_assert!(to <= u32::from(u16::MAX) && call.reply_to.block <= u32::from(u16::MAX));
        let link = self.link_from(call.reply_to.block);
        self.send(
            link,
            Message {
                key: call.key,
                deadline: call.deadline,
                to: to as u16,
                from: call.reply_to.block as u16,
                token: call.reply_to.token,
                kind: MessageKind::Call,
                attempt: call.attempt,
                priority: call.priority,
                client: call.client,
            },
        );
    }

    /// Sends a reply from block `from`; lost if `from` is partitioned. It carries the
    /// services of the reply being handled, if any (a block passing a reply on).
    #[inline]
    pub(crate) fn reply(&mut self, from: u32, to: ReplyTo, outcome: Outcome) {
        self.reply_carrying(from, to, outcome, self.carried);
    }

    /// Sends a reply that carries `services` server services (a server's own, plus its
    /// dependency's).
    #[inline]
    pub(crate) fn reply_carrying(
        &mut self,
        from: u32,
        to: ReplyTo,
        outcome: Outcome,
        services: u32,
    ) {
        if self.partitioned[from as usize] == 0 {
            debug_assert!(to.block <= u32::from(u16::MAX));
            let link = self.link_from(to.block);
            self.send(
                link,
                Message {
                    // A reply has no key: the field carries its services.
                    key: u64::from(services),
                    deadline: 0,
                    to: to.block as u16,
                    from: 0,
                    token: to.token,
                    kind: match outcome {
                        Outcome::Success => MessageKind::Success,
                        Outcome::Error => MessageKind::Error,
                        Outcome::Rejected => MessageKind::Rejected,
                        Outcome::TimedOut => MessageKind::TimedOut,
                    },
                    attempt: 0,
                    priority: 0,
                    client: 0,
                },
            );
        }
    }

    /// The link of block `block`: [`NO_LINK`] at once when no block has link latency (the
    /// common case costs one predictable branch).
    #[inline(always)]
    fn link_from(&self, block: u32) -> u32 {
        if self.links.is_empty() {
            NO_LINK
        } else {
            self.link_of.get(block as usize).copied().unwrap_or(NO_LINK)
        }
    }

    /// Puts a message in the outbox, or on its link when it has one.
    #[inline]
    fn send(&mut self, link: u32, message: Message) {
        if link == NO_LINK {
            self.outbox.push(message);
        } else {
            self.send_later(link, message);
        }
    }

    #[cold]
    fn send_later(&mut self, link: u32, message: Message) {
        let l = &mut self.links[link as usize];
        l.messages.push_back(message);
        let lane = l.lane;
        self.queue.push_lane(
            self.now,
            lane,
            Event::new(u32::from(message.to), EventKind::LinkArrival, link, 0),
        );
    }

    /// The oldest message on `link` arrives: it joins this instant's outbox.
    pub(crate) fn link_arrival(&mut self, link: u32) {
        if let Some(message) = self
            .links
            .get_mut(link as usize)
            .and_then(|l| l.messages.pop_front())
        {
            self.outbox.push(message);
        }
    }

    /// Bytes of the messages on links.
    pub(crate) fn links_bytes(&self) -> usize {
        self.links.iter().map(|l| l.messages.len()).sum::<usize>() * std::mem::size_of::<Message>()
    }

    /// Schedules an event at an absolute time.
    #[inline]
    pub(crate) fn at(&mut self, time: Time, event: Event) {
        self.queue.push_at(time, event);
    }

    /// Schedules an event `delay` from now.
    #[inline]
    pub(crate) fn after(&mut self, delay: Time, event: Event) {
        self.queue.push_at(self.now.saturating_add(delay), event);
    }

    /// Schedules an event on a constant-delay lane.
    #[inline]
    pub(crate) fn on_lane(&mut self, lane: LaneId, event: Event) {
        self.queue.push_lane(self.now, lane, event);
    }

    pub(crate) fn request_created(&mut self) {
        self.bucket.offered += 1;
        self.totals.requests += 1;
        self.totals.in_flight += 1;
    }

    #[inline]
    pub(crate) fn request_good(&mut self, latency: Time) {
        self.bucket.goodput += 1;
        let bin = Histogram::bin(latency);
        self.bucket.latency.add_to_bin(bin);
        self.bucket.latency_sum_ns += u128::from(latency);
        self.latency_all.add_to_bin(bin);
        self.latency_sum_ns += u128::from(latency);
        self.totals.good += 1;
        self.totals.in_flight -= 1;
        self.bucket.useful += u64::from(self.carried);
        self.totals.useful += u64::from(self.carried);
    }

    /// A request ended without a success: `cause` is the failure that reached its client
    /// (`TimedOut` also for its own deadline).
    pub(crate) fn request_failed(&mut self, cause: Outcome) {
        debug_assert!(cause.is_failure());
        match cause {
            Outcome::TimedOut => self.bucket.failed_timeout += 1,
            Outcome::Rejected => self.bucket.failed_rejected += 1,
            Outcome::Error | Outcome::Success => self.bucket.failed_error += 1,
        }
        self.totals.failed += 1;
        self.totals.in_flight -= 1;
    }

    /// A success reached a client after its user gave up: failed becomes late in the totals.
    /// In the buckets it is an event of its own, in the bucket where the success arrives; the
    /// bucket where the deadline fired keeps its `failed_timeout` (see [`Row::ended_late`]).
    pub(crate) fn request_late(&mut self) {
        self.bucket.ended_late += 1;
        self.totals.failed -= 1;
        self.totals.late += 1;
    }

    pub(crate) fn timeout_fired(&mut self) {
        self.bucket.timeouts += 1;
        self.totals.timeouts += 1;
    }

    pub(crate) fn retry_sent(&mut self) {
        self.bucket.retries += 1;
        self.totals.retries += 1;
    }

    pub(crate) fn attempt_arrived(&mut self) {
        self.bucket.attempts += 1;
        self.totals.attempts += 1;
    }

    pub(crate) fn service_completed(&mut self) {
        self.bucket.throughput += 1;
        self.totals.throughput += 1;
    }

    pub(crate) fn error_made(&mut self) {
        self.bucket.errors += 1;
        self.totals.errors += 1;
    }

    pub(crate) fn call_rejected(&mut self) {
        self.bucket.rejected += 1;
        self.totals.rejected += 1;
    }
}

/// Whether the caller behind a reply address still waits (for a cache's `fill_late: false`).
pub(crate) enum Waiting {
    Yes,
    No,
    /// A pass-through block: ask its own caller.
    AskCaller(ReplyTo),
}

/// The time a client's deadline lane or a retry's timeout lane uses, or none.
pub(crate) fn lane_for(queue: &mut EventQueue, seconds: Option<f64>) -> Option<LaneId> {
    seconds.map(|s| queue.lane(to_time(s)))
}

#[cfg(test)]
mod tests {
    /// Messages are copied at every delivery: what a call carries must fit in the 40 bytes
    /// it has always had (the attempt, priority and client live in what was padding and in
    /// the halves of `to` and `from` that block indices never used).
    #[test]
    fn a_message_stays_forty_bytes() {
        assert_eq!(std::mem::size_of::<super::Message>(), 40);
    }
}
