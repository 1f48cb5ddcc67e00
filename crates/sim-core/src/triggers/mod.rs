//! Triggers (SPEC §2): changes that start at `at_s` and are undone after `for_s`, one module
//! per kind. Each kind's file holds its spec (the fields a scenario file gives it), its
//! parameters, the value an editor starts it with, its own checks, and what it does to its
//! target when it starts or ends.
//!
//! Overlapping triggers of one kind on one target combine: factors multiply, settings take
//! the one that started last (among equal starts, the later in the list). The two load
//! triggers (`load_spike`, `load_steps`) also multiply with each other: the client keeps one
//! factor per kind and runs at their product.
//!
//! A trigger may change again between its start and its end (a staircase's steps): it names
//! those times ([`Trigger::changes`]), the engine schedules them with its start and end, and
//! its kind's `apply` runs again at each.

pub(crate) mod cache_flush;
pub(crate) mod capacity;
pub(crate) mod errors;
pub(crate) mod latency;
pub(crate) mod load_spike;
pub(crate) mod load_steps;
pub(crate) mod outage;
pub(crate) mod partition;

pub use cache_flush::CacheFlush;
pub use capacity::Capacity;
pub use errors::Errors;
pub use latency::Latency;
pub use load_spike::LoadSpike;
pub use load_steps::LoadSteps;
pub use outage::Outage;
pub use partition::Partition;

use crate::ctx::Ctx;
use crate::engine::Node;
use crate::kind::{Absent, Param, ParamValue, TriggerKind};
use crate::queue::Time;
use crate::scenario::{limits, Validator};
use serde::{Deserialize, Serialize};

/// A change that starts at `at_s` and is undone after `for_s` (SPEC §2, Triggers).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    LoadSpike(LoadSpike),
    LoadSteps(LoadSteps),
    Latency(Latency),
    Outage(Outage),
    Capacity(Capacity),
    Errors(Errors),
    Partition(Partition),
    CacheFlush(CacheFlush),
}

/// Read by its kind's spec alone (see `kind::untag`).
impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let (kind, fields) =
            crate::kind::untag(value, &TriggerKind::NAMES).map_err(serde::de::Error::custom)?;
        match TriggerKind::ALL[kind] {
            TriggerKind::LoadSpike => LoadSpike::read(&fields).map(Trigger::LoadSpike),
            TriggerKind::LoadSteps => LoadSteps::read(&fields).map(Trigger::LoadSteps),
            TriggerKind::Latency => Latency::read(&fields).map(Trigger::Latency),
            TriggerKind::Outage => Outage::read(&fields).map(Trigger::Outage),
            TriggerKind::Capacity => Capacity::read(&fields).map(Trigger::Capacity),
            TriggerKind::Errors => Errors::read(&fields).map(Trigger::Errors),
            TriggerKind::Partition => Partition::read(&fields).map(Trigger::Partition),
            TriggerKind::CacheFlush => CacheFlush::read(&fields).map(Trigger::CacheFlush),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// The block it acts on.
pub(crate) const TARGET: Param = Param::new("target", ParamValue::Target { optional: false });
/// When it starts.
pub(crate) const AT_S: Param = Param::number("at_s", 0.0, limits::MAX_DURATION_S, Absent::Required);
/// How long it lasts.
pub(crate) const FOR_S: Param =
    Param::above("for_s", 0.0, limits::MAX_DURATION_S, Absent::Required);

/// What a trigger's code gets when one of its kind starts or ends on a target.
pub(crate) struct Change<'a> {
    /// The triggers of this kind active on the target now, in list order (the one that
    /// started or ended included if it started).
    pub active: &'a [&'a Trigger],
    /// Whether this change is a start (an instant trigger acts only then); false at its end
    /// and at its intermediate changes (a staircase's steps).
    pub start: bool,
    /// The target's index.
    pub target: u32,
    pub node: &'a mut Node,
    pub ctx: &'a mut Ctx,
}

impl Change<'_> {
    /// The active trigger that started last (among equal starts, the later in the list).
    pub fn latest(&self) -> Option<&Trigger> {
        self.active
            .iter()
            .copied()
            .max_by(|a, b| a.at_s().total_cmp(&b.at_s()))
    }
}

macro_rules! each {
    ($self:expr, $t:ident => $body:expr) => {
        match $self {
            Trigger::LoadSpike($t) => $body,
            Trigger::LoadSteps($t) => $body,
            Trigger::Latency($t) => $body,
            Trigger::Outage($t) => $body,
            Trigger::Capacity($t) => $body,
            Trigger::Errors($t) => $body,
            Trigger::Partition($t) => $body,
            Trigger::CacheFlush($t) => $body,
        }
    };
}

impl Trigger {
    pub fn kind(&self) -> TriggerKind {
        match self {
            Trigger::LoadSpike(_) => TriggerKind::LoadSpike,
            Trigger::LoadSteps(_) => TriggerKind::LoadSteps,
            Trigger::Latency(_) => TriggerKind::Latency,
            Trigger::Outage(_) => TriggerKind::Outage,
            Trigger::Capacity(_) => TriggerKind::Capacity,
            Trigger::Errors(_) => TriggerKind::Errors,
            Trigger::Partition(_) => TriggerKind::Partition,
            Trigger::CacheFlush(_) => TriggerKind::CacheFlush,
        }
    }

    /// The id of the block it acts on.
    pub fn target(&self) -> &str {
        each!(self, t => &t.target)
    }

    /// When it starts, in seconds.
    pub fn at_s(&self) -> f64 {
        each!(self, t => t.at_s)
    }

    /// How long it lasts; `None` for instant triggers. A staircase lasts all its steps.
    pub fn for_s(&self) -> Option<f64> {
        match self {
            Trigger::CacheFlush(_) => None,
            Trigger::LoadSpike(t) => Some(t.for_s),
            Trigger::LoadSteps(t) => Some(t.length_s()),
            Trigger::Latency(t) => Some(t.for_s),
            Trigger::Outage(t) => Some(t.for_s),
            Trigger::Capacity(t) => Some(t.for_s),
            Trigger::Errors(t) => Some(t.for_s),
            Trigger::Partition(t) => Some(t.for_s),
        }
    }

    /// When its effect is undone (its start, for an instant trigger).
    pub fn end_s(&self) -> f64 {
        self.at_s() + self.for_s().unwrap_or(0.0)
    }

    /// The times after its start and before its end at which its effect changes again, as
    /// engine times, in order: a staircase's step boundaries; none for other kinds.
    pub(crate) fn changes(&self) -> impl Iterator<Item = Time> + '_ {
        let staircase = match self {
            Trigger::LoadSteps(t) => Some(t),
            Trigger::LoadSpike(_)
            | Trigger::Latency(_)
            | Trigger::Outage(_)
            | Trigger::Capacity(_)
            | Trigger::Errors(_)
            | Trigger::Partition(_)
            | Trigger::CacheFlush(_) => None,
        };
        staircase
            .into_iter()
            .flat_map(|t| (1..t.factors.len()).map(move |i| t.boundary(i)))
    }

    /// The checks of its own fields (the target, `at_s` and `for_s` are checked for all
    /// that have them).
    pub(crate) fn validate(&self, v: &mut Validator) {
        match self {
            Trigger::LoadSpike(t) => t.validate(v),
            Trigger::LoadSteps(t) => t.validate(v),
            Trigger::Latency(t) => t.validate(v),
            Trigger::Capacity(t) => t.validate(v),
            Trigger::Errors(t) => t.validate(v),
            Trigger::Outage(_) | Trigger::Partition(_) | Trigger::CacheFlush(_) => {}
        }
    }

    /// Starts or ends: sets its target from every active trigger of its kind.
    pub(crate) fn apply(&self, change: Change) {
        match self {
            Trigger::LoadSpike(_) => load_spike::apply(change),
            Trigger::LoadSteps(_) => load_steps::apply(change),
            Trigger::Latency(_) => latency::apply(change),
            Trigger::Outage(_) => outage::apply(change),
            Trigger::Capacity(_) => capacity::apply(change),
            Trigger::Errors(_) => errors::apply(change),
            Trigger::Partition(_) => partition::apply(change),
            Trigger::CacheFlush(_) => cache_flush::apply(change),
        }
    }
}

impl TriggerKind {
    /// A new trigger of this kind as an editor adds it: its own fields with sensible values
    /// (JSON without `kind`, `target`, `at_s` and `for_s`; a staircase's `step_s` is its own).
    pub fn template(self) -> &'static str {
        match self {
            TriggerKind::LoadSpike => load_spike::TEMPLATE,
            TriggerKind::LoadSteps => load_steps::TEMPLATE,
            TriggerKind::Latency => latency::TEMPLATE,
            TriggerKind::Outage => outage::TEMPLATE,
            TriggerKind::Capacity => capacity::TEMPLATE,
            TriggerKind::Errors => errors::TEMPLATE,
            TriggerKind::Partition => partition::TEMPLATE,
            TriggerKind::CacheFlush => cache_flush::TEMPLATE,
        }
    }
}
