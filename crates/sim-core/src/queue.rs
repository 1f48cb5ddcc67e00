//! The event queue: a 4-ary heap, FIFO "lanes" for constant delays, and single-event timers.
//!
//! Events are ordered by `(time, sequence number)`: equal times run in the order they were
//! scheduled, on every platform. Most events of a metastable-failure model are timers armed at
//! `now + constant` (a client's deadline, a retry's attempt timeout, a cache's hit latency).
//! Because `now` never decreases, the events of one constant delay arrive already sorted, so
//! they go into a FIFO lane (a `VecDeque`, O(1) push and pop) instead of the heap. Each
//! open-loop client's next arrival has a timer slot of its own. Popping takes the smallest key
//! among the heap's top, each lane's front and the earliest timer; there are only a handful.
//!
//! Rationale: with timeouts in lanes and arrivals in timers, the heap holds only service
//! completions, backoffs and think times, and each request costs a quarter of the heap
//! operations of a heap-only queue.

use std::collections::VecDeque;

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
    /// A client's next open-loop arrival (held in the client's timer slot).
    Arrival,
    /// A client's request deadline (`a` = slot, `b` = generation).
    Deadline,
    /// A closed-loop user finished thinking (`a` = user).
    UserWakes,
    /// A retry's attempt timeout (`a` = slot, `b` = generation).
    AttemptTimeout,
    /// A retry's backoff ended: send the next attempt (`a` = slot, `b` = generation).
    RetryFire,
    /// A hedging retry's hedge delay elapsed for a request (`a` = slot, `b` = generation).
    HedgeFire,
    /// A cache hit's latency elapsed: answer the oldest pending hit.
    HitDone,
    /// A server finished a service (`a` = slot, `b` = generation).
    ServiceDone,
    /// A server's worker finished answering a call it shed (`shed_cost_s`; `a` = slot,
    /// `b` = generation).
    ShedDone,
    /// A server's autoscaler decides.
    ScaleTick,
    /// A batch of a server's added workers finished warming up (`b` = the scaler's epoch).
    WorkersReady,
    /// Trigger `a` starts.
    TriggerStart,
    /// Trigger `a` changes again before it ends (a staircase's next step).
    TriggerStep,
    /// Trigger `a` ends.
    TriggerEnd,
    /// The oldest message on link lane `a` arrives (SPEC §8's `link_latency_s`).
    LinkArrival,
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

/// Bytes of one event in the heap (for the state budget's estimate of construction).
pub(crate) const SCHEDULED_BYTES: usize = std::mem::size_of::<Scheduled>();

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

/// A 4-ary min-heap of scheduled events by key.
///
/// Rationale: the heap holds mostly service completions, popped about as often as pushed. A
/// 4-ary heap has half the levels of a binary one and its four children share two cache lines,
/// so a pop touches fewer lines; keys are unique, so no tie rule is needed.
#[derive(Debug, Default)]
struct QuadHeap {
    items: Vec<Scheduled>,
}

impl QuadHeap {
    #[inline]
    fn peek_key(&self) -> u128 {
        self.items.first().map_or(u128::MAX, |s| s.key)
    }

    #[inline]
    fn push(&mut self, item: Scheduled) {
        let mut i = self.items.len();
        self.items.push(item);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.items[parent].key <= item.key {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = item;
    }

    #[inline]
    fn pop(&mut self) -> Option<Scheduled> {
        let last = self.items.pop()?;
        let n = self.items.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.items[0];
        // Bottom-up: move the hole from the root to a leaf along the smallest children
        // without comparing with `last` on the way (it came from the bottom, so it nearly
        // always belongs near the bottom), then sift `last` up from that leaf.
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let smallest = self.smallest_child(first, n);
            self.items[i] = self.items[smallest];
            i = smallest;
        }
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.items[parent].key <= last.key {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = last;
        Some(top)
    }

    /// The child with the smallest key among `first..first + 4` (fewer at the end).
    ///
    /// Rationale: which child is smallest is a coin toss, so a branch per comparison would
    /// mispredict half the time; comparisons turned into index arithmetic do not branch.
    #[inline]
    fn smallest_child(&self, first: usize, n: usize) -> usize {
        let key = |i: usize| self.items[i].key;
        if first + 3 < n {
            let a = first + usize::from(key(first + 1) < key(first));
            let b = first + 2 + usize::from(key(first + 3) < key(first + 2));
            let b_smaller = usize::from(key(b) < key(a));
            a + (b - a) * b_smaller
        } else {
            let mut smallest = first;
            for child in first + 1..n {
                if key(child) < key(smallest) {
                    smallest = child;
                }
            }
            smallest
        }
    }

    fn len(&self) -> usize {
        self.items.len()
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

/// A slot holding at most one pending event: setting it again replaces what it held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerId(u16);

#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: QuadHeap,
    lanes: Vec<Lane>,
    /// Single-event slots (an open-loop client's next arrival). Rationale: an arrival is a
    /// quarter of a run's events and is always the earliest thing its client has scheduled;
    /// keeping it out of the heap saves a push and a pop of a large heap per request, and a
    /// rate change simply replaces it instead of leaving a stale event behind.
    timers: Vec<Option<Scheduled>>,
    /// The timer with the smallest key, if any is set.
    earliest_timer: Option<usize>,
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

    /// A new single-event slot.
    pub(crate) fn timer(&mut self) -> TimerId {
        self.timers.push(None);
        TimerId((self.timers.len() - 1) as u16)
    }

    /// Schedules `event` at `time` in a timer slot, replacing what the slot held.
    #[inline]
    pub(crate) fn set_timer(&mut self, timer: TimerId, time: Time, event: Event) {
        let i = timer.0 as usize;
        let key = self.key(time);
        self.timers[i] = Some(Scheduled { key, event });
        match self.earliest_timer {
            // A later key for the slot that was earliest: another slot may be earlier now.
            Some(earliest) if earliest == i => self.find_earliest_timer(),
            Some(earliest) if self.timers[earliest].is_some_and(|s| s.key < key) => {}
            _ => self.earliest_timer = Some(i),
        }
    }

    /// Empties a timer slot.
    pub(crate) fn clear_timer(&mut self, timer: TimerId) {
        self.timers[timer.0 as usize] = None;
        if self.earliest_timer == Some(timer.0 as usize) {
            self.find_earliest_timer();
        }
    }

    fn find_earliest_timer(&mut self) {
        self.earliest_timer = self
            .timers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|s| (s.key, i)))
            .min()
            .map(|(_, i)| i);
    }

    /// Removes and returns the earliest event if it is strictly before `until`.
    #[inline]
    pub(crate) fn pop_before(&mut self, until: Time) -> Option<(Time, Event)> {
        #[derive(Clone, Copy)]
        enum Source {
            Heap,
            Lane(usize),
            Timer(usize),
        }
        let mut best_key = self.heap.peek_key();
        let mut source = Source::Heap;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.items.front() {
                if front.key < best_key {
                    best_key = front.key;
                    source = Source::Lane(i);
                }
            }
        }
        if let Some(i) = self.earliest_timer {
            if let Some(timer) = &self.timers[i] {
                if timer.key < best_key {
                    best_key = timer.key;
                    source = Source::Timer(i);
                }
            }
        }
        if best_key == u128::MAX || (best_key >> 64) as Time >= until {
            return None;
        }
        let scheduled = match source {
            Source::Heap => self.heap.pop(),
            Source::Lane(i) => self.lanes[i].items.pop_front(),
            Source::Timer(i) => {
                let scheduled = self.timers[i].take();
                if self.timers.len() == 1 {
                    self.earliest_timer = None; // the only timer was just taken
                } else {
                    self.find_earliest_timer();
                }
                scheduled
            }
        }?;
        Some((scheduled.time(), scheduled.event))
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
            + self.lanes.iter().map(|l| l.items.len()).sum::<usize>()
            + self.timers.iter().flatten().count()
    }

    /// Bytes held by the queue's buffers: the events in them, which is what a process's
    /// memory holds (a buffer's unused capacity is address space, not memory, until written).
    pub(crate) fn bytes(&self) -> usize {
        let per = std::mem::size_of::<Scheduled>();
        self.heap.len() * per
            + self
                .lanes
                .iter()
                .map(|l| l.items.len() * per)
                .sum::<usize>()
            + self.timers.len() * std::mem::size_of::<Option<Scheduled>>()
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
        fn timers_replace_their_event_and_pop_in_order_with_the_rest(
            steps in proptest::collection::vec((0u8..4, 0u64..50, 0usize..3), 1..300)
        ) {
            let mut q = EventQueue::default();
            let lane = q.lane(5);
            let timers = [q.timer(), q.timer(), q.timer()];
            let mut held: [Option<(Time, u32)>; 3] = [None; 3];
            let mut now = 0;
            let mut pending: Vec<(Time, u32)> = Vec::new();
            for (next, (op, delay, which)) in steps.into_iter().enumerate() {
                let next = next as u32;
                match op {
                    0 => {
                        if let Some((time, event)) = q.pop_before(NEVER) {
                            pending.sort();
                            proptest::prop_assert_eq!(Some(&(time, event.a)), pending.first());
                            pending.remove(0);
                            for h in held.iter_mut() {
                                if *h == Some((time, event.a)) {
                                    *h = None;
                                }
                            }
                            now = time;
                        }
                    }
                    1 => {
                        q.push_lane(now, lane, ev(next));
                        pending.push((now + 5, next));
                    }
                    2 => {
                        q.push_at(now + delay, ev(next));
                        pending.push((now + delay, next));
                    }
                    _ => {
                        if let Some(old) = held[which].take() {
                            pending.retain(|p| *p != old);
                        }
                        if delay == 0 {
                            q.clear_timer(timers[which]);
                        } else {
                            q.set_timer(timers[which], now + delay, ev(next));
                            held[which] = Some((now + delay, next));
                            pending.push((now + delay, next));
                        }
                    }
                }
                proptest::prop_assert_eq!(q.len(), pending.len());
            }
            pending.sort();
            let rest: Vec<(Time, u32)> = std::iter::from_fn(|| q.pop_before(NEVER)).map(|(t, e)| (t, e.a)).collect();
            proptest::prop_assert_eq!(rest, pending);
        }

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
