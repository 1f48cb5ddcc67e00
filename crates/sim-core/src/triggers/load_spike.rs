//! `load_spike`: the client's rate (closed loop: its users' pace) × `factor` while it lasts.

use super::{Change, Trigger, AT_S, FOR_S, TARGET};
use crate::blocks::client::Load;
use crate::engine::Node;
use crate::kind::{Absent, Param};
use crate::scenario::{limits, Validator};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadSpike {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
    pub factor: f64,
}

crate::fields::by_name!(LoadSpike {
    target: required,
    at_s: required,
    for_s: required,
    factor: required,
});

const FACTOR: Param = Param::number("factor", 0.0, limits::MAX_FACTOR, Absent::Required);
pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S, FACTOR];
pub(crate) const TEMPLATE: &str = r#"{"factor": 2}"#;

impl LoadSpike {
    pub(crate) fn validate(&self, v: &mut Validator) {
        v.param(&FACTOR, self.factor);
    }
}

/// Overlapping spikes multiply (and the client multiplies their product with its staircases').
pub(crate) fn apply(change: Change) {
    let factor = change
        .active
        .iter()
        .map(|t| match t {
            Trigger::LoadSpike(s) => s.factor,
            _ => 1.0,
        })
        .product();
    if let Node::Client(c) = change.node {
        c.set_load_factor(Load::Spike, factor, change.ctx);
    }
}
