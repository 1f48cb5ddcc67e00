//! `latency`: service times that start while it lasts are × `factor`.

use super::{Change, Trigger, AT_S, FOR_S, TARGET};
use crate::engine::Node;
use crate::kind::{Absent, Param};
use crate::scenario::{limits, Validator};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
    pub factor: f64,
}

crate::fields::by_name!(Latency {
    target: required,
    at_s: required,
    for_s: required,
    factor: required,
});

const FACTOR: Param = Param::above("factor", 0.0, limits::MAX_FACTOR, Absent::Required);
pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S, FACTOR];
pub(crate) const TEMPLATE: &str = r#"{"factor": 3}"#;

impl Latency {
    pub(crate) fn validate(&self, v: &mut Validator) {
        v.param(&FACTOR, self.factor);
    }
}

/// Overlapping latency triggers multiply.
pub(crate) fn apply(change: Change) {
    let factor = change
        .active
        .iter()
        .map(|t| match t {
            Trigger::Latency(l) => l.factor,
            _ => 1.0,
        })
        .product();
    if let Node::Server(s) = change.node {
        s.set_latency_factor(factor);
    }
}
