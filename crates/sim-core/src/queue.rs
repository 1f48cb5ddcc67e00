//! The event queue: a binary heap plus FIFO "lanes" for constant delays.
//!
//! Events are ordered by `(time, sequence number)`: equal times run in the order they were
//! scheduled, on every platform. Most events of a metastable-failure model are timers armed at
//! `now + constant` (a client's deadline, a retry's attempt timeout, a cache's hit latency).
//! Because `now` never decreases, the events of one constant delay arrive already sorted, so
//! they go into a FIFO lane (a `VecDeque`, O(1) push and pop) instead of the heap. Popping takes
//! the smallest key among the heap's top and each lane's front; there are only a handful of lanes.
//!
//! Rationale: with timeouts in lanes the heap holds only arrivals, service completions and
//! backoffs, and each request costs about half the heap operations of a heap-only queue.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// Simulated time in integer nanoseconds: ordering is exact and platform-independent.
pub type Time = u64;

/// A time that never comes (no deadline).
pub(crate) const NEVER: Time = u64::MAX;

/// Seconds to nanoseconds, rounded; infinite or huge values saturate to [`NEVER`].
pub(crate) fn to_time(seconds: f64) -> Time {
    if seconds.is_nan() || seconds <= 0.0 {
        0
    } else {
        // `as` saturates for values past u64::MAX.
        (seconds * 1e9).round() as u64
    }
}

/// Nanoseconds to seconds.
pub(crate) fn to_seconds(time: Time) -> f64 {
    time as f64 / 1e9
}

/// What an event does; every event is addressed to one block (or trigger).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum EventKind {
    /// A client's next open-loop arrival (`a` = arrival generation).
    Arrival,
    /// A client's request deadline (`a` = slot, `b` = generation).
    Deadline,
    /// A closed-loop user finished thinking (`a` = user).
    UserWakes,
    /// A retry's attempt timeout (`a` = slot, `b` = generation).
    AttemptTimeout,
    /// A retry's backoff ended: send the next attempt (`a` = slot, `b` = generation).
    RetryFire,
    /// A cache hit's latency elapsed: answer the oldest pending hit.
    HitDone,
    /// A server finished a service (`a` = slot, `b` = generation).
    ServiceDone,
    /// Trigger `a` starts.
    TriggerStart,
    /// Trigger `a` ends.
    TriggerEnd,
}

/// One scheduled thing: 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub block: u32,
    pub kind: EventKind,
    pub a: u32,
    pub b: u32,
}

impl Event {
    pub(crate) fn new(block: u32, kind: EventKind, a: u32, b: u32) -> Event {
        Event { block, kind, a, b }
    }
}

#[derive(Clone, Copy, Debug)]
struct Scheduled {
    /// `time << 64 | sequence`: one comparison orders by time, then by scheduling order.
    key: u128,
    event: Event,
}

impl Scheduled {
    fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A FIFO of events all scheduled at `now + delay` for one constant `delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LaneId(u16);

#[derive(Debug)]
struct Lane {
    delay: Time,
    items: VecDeque<Scheduled>,
}

#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Scheduled>,
    lanes: Vec<Lane>,
    sequence: u64,
}

impl EventQueue {
    /// The lane for a constant delay (made on first use; delays share lanes).
    pub(crate) fn lane(&mut self, delay: Time) -> LaneId {
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return LaneId(i as u16);
        }
        self.lanes.push(Lane {
            delay,
            items: VecDeque::new(),
        });
        LaneId((self.lanes.len() - 1) as u16)
    }

    #[inline]
    fn key(&mut self, time: Time) -> u128 {
        self.sequence += 1;
        (u128::from(time) << 64) | u128::from(self.sequence)
    }

    /// Schedules `event` at an arbitrary time.
    #[inline]
    pub(crate) fn push_at(&mut self, time: Time, event: Event) {
        let key = self.key(time);
        self.heap.push(Scheduled { key, event });
    }

    /// Schedules `event` at `now + lane.delay`. `now` must never decrease between calls.
    #[inline]
    pub(crate) fn push_lane(&mut self, now: Time, lane: LaneId, event: Event) {
        let lane = lane.0 as usize;
        let time = now.saturating_add(self.lanes[lane].delay);
        let key = self.key(time);
        self.lanes[lane].items.push_back(Scheduled { key, event });
    }

    /// Removes and returns the earliest event if it is strictly before `until`.
    #[inline]
    pub(crate) fn pop_before(&mut self, until: Time) -> Option<(Time, Event)> {
        let mut best_key = self.heap.peek().map_or(u128::MAX, |s| s.key);
        let mut best_lane = usize::MAX;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.items.front() {
                if front.key < best_key {
                    best_key = front.key;
                    best_lane = i;
                }
            }
        }
        if best_key == u128::MAX || (best_key >> 64) as Time >= until {
            return None;
        }
        let scheduled = if best_lane == usize::MAX {
            self.heap.pop()
        } else {
            self.lanes[best_lane].items.pop_front()
        }?;
        Some((scheduled.time(), scheduled.event))
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.items.len()).sum::<usize>()
    }

    /// Bytes held by the queue's buffers.
    pub(crate) fn bytes(&self) -> usize {
        let per = std::mem::size_of::<Scheduled>();
        self.heap.capacity() * per + self.lanes.iter().map(|l| l.items.capacity() * per).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(a: u32) -> Event {
        Event::new(0, EventKind::Arrival, a, 0)
    }

    #[test]
    fn equal_times_pop_in_scheduling_order_across_heap_and_lanes() {
        let mut q = EventQueue::default();
        let lane = q.lane(5);
        q.push_at(5, ev(1));
        q.push_lane(0, lane, ev(2));
        q.push_at(5, ev(3));
        q.push_at(4, ev(0));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop_before(NEVER)).map(|(_, e)| e.a).collect();
        assert_eq!(order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn pop_before_leaves_later_events() {
        let mut q = EventQueue::default();
        q.push_at(10, ev(1));
        assert_eq!(q.pop_before(10), None);
        assert_eq!(q.pop_before(11), Some((10, ev(1))));
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn lanes_with_the_same_delay_are_shared() {
        let mut q = EventQueue::default();
        assert_eq!(q.lane(7), q.lane(7));
        assert_ne!(q.lane(7), q.lane(8));
    }

    #[test]
    fn time_conversion_rounds_and_saturates() {
        assert_eq!(to_time(0.1), 100_000_000);
        assert_eq!(to_time(f64::INFINITY), u64::MAX);
        assert_eq!(to_time(-1.0), 0);
        assert_eq!(to_seconds(1_500_000_000), 1.5);
    }
}
