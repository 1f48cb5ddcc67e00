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

const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Seconds to nanoseconds, rounded; infinite or huge values saturate to [`NEVER`].
pub(crate) fn to_time(seconds: f64) -> Time {
    if seconds.is_nan() || seconds <= 0.0 {
        0
    } else {
        let ns = seconds * 1e9;
        // `f64::round` is a library call on baseline x86-64 (no SSE4.1), paid twice per request
        // (an arrival gap and a service time). Below 2^52 the same value comes from a
        // truncation and an exact subtraction: round half away from zero = truncate, plus one
        // when the fraction is at least a half.
        if ns < TWO_POW_52 {
            let whole = ns as u64;
            let fraction = ns - whole as f64; // exact: ns and its integer part share an ulp
            whole + u64::from(fraction >= 0.5)
        } else {
            // Already an integer (or infinite); `as` saturates for values past u64::MAX.
            ns.round() as u64
        }
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
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.items.len()).sum::<usize>()
    }

    /// Bytes held by the queue's buffers.
    pub(crate) fn bytes(&self) -> usize {
        let per = std::mem::size_of::<Scheduled>();
        self.heap.capacity() * per
            + self
                .lanes
                .iter()
                .map(|l| l.items.capacity() * per)
                .sum::<usize>()
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
        let order: Vec<u32> = std::iter::from_fn(|| q.pop_before(NEVER))
            .map(|(_, e)| e.a)
            .collect();
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

    proptest::proptest! {
        /// The fast rounding in `to_time` gives exactly what `f64::round` gives.
        #[test]
        fn to_time_rounds_like_f64_round(seconds in proptest::prelude::any::<f64>()) {
            let expected = if seconds.is_nan() || seconds <= 0.0 { 0 } else { (seconds * 1e9).round() as u64 };
            proptest::prop_assert_eq!(to_time(seconds), expected);
        }

        #[test]
        fn to_time_rounds_like_f64_round_near_halves(whole in 0u64..1 << 53, offset in -4i64..=4) {
            // Values around n + 0.5 ns, where rounding decides.
            let ns = f64::from_bits((whole as f64 + 0.5).to_bits().wrapping_add_signed(offset));
            let seconds = ns / 1e9;
            let expected = if seconds.is_nan() || seconds <= 0.0 { 0 } else { (seconds * 1e9).round() as u64 };
            proptest::prop_assert_eq!(to_time(seconds), expected);
        }

        /// Whatever the mix of heap and lane pushes (at `now` or later, as the engine does),
        /// events pop in (time, scheduling order).
        #[test]
        fn pops_in_time_then_scheduling_order(
            steps in proptest::collection::vec((0u8..4, 0u64..50, 0u8..3), 1..300)
        ) {
            let mut q = EventQueue::default();
            let lanes = [q.lane(0), q.lane(7), q.lane(30)];
            let mut now = 0;
            let mut pushed: Vec<(Time, u32)> = Vec::new();
            let mut popped: Vec<(Time, u32)> = Vec::new();
            for (op, delay, lane) in steps {
                if op == 0 {
                    if let Some((time, event)) = q.pop_before(NEVER) {
                        proptest::prop_assert!(time >= now);
                        now = time;
                        popped.push((time, event.a));
                    }
                } else {
                    let a = pushed.len() as u32;
                    let time = if op == 1 {
                        q.push_lane(now, lanes[lane as usize], ev(a));
                        now + [0, 7, 30][lane as usize]
                    } else {
                        q.push_at(now + delay, ev(a));
                        now + delay
                    };
                    pushed.push((time, a));
                }
            }
            while let Some((time, event)) = q.pop_before(NEVER) {
                popped.push((time, event.a));
            }
            // Scheduling order is push order (`a`), so (time, a) sorts the expected sequence;
            // the pops before the end must be in that order too, which a full sort of what was
            // popped (all of it, in pop order) checks.
            let mut sorted = popped.clone();
            sorted.sort();
            proptest::prop_assert_eq!(&popped, &sorted);
            pushed.sort();
            proptest::prop_assert_eq!(popped, pushed);
        }
    }

    #[test]
    fn time_conversion_rounds_and_saturates() {
        assert_eq!(to_time(0.1), 100_000_000);
        assert_eq!(to_time(f64::INFINITY), u64::MAX);
        assert_eq!(to_time(-1.0), 0);
        assert_eq!(to_seconds(1_500_000_000), 1.5);
    }
}
