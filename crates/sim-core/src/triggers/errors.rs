//! `errors`: the server's error rate is `rate` while it lasts.

use super::{Change, Trigger, AT_S, FOR_S, TARGET};
use crate::engine::Node;
use crate::kind::{Absent, Param};
use crate::scenario::Validator;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Errors {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
    pub rate: f64,
}

crate::fields::by_name!(Errors {
    target: required,
    at_s: required,
    for_s: required,
    rate: required,
});

const RATE: Param = Param::number("rate", 0.0, 1.0, Absent::Required);
pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S, RATE];
pub(crate) const TEMPLATE: &str = r#"{"rate": 0.5}"#;

impl Errors {
    pub(crate) fn validate(&self, v: &mut Validator) {
        v.param(&RATE, self.rate);
    }
}

/// The one that started last sets the rate; when none is active the server's own returns.
pub(crate) fn apply(change: Change) {
    let rate = change.latest().and_then(|t| match t {
        Trigger::Errors(e) => Some(e.rate),
        _ => None,
    });
    if let Node::Server(s) = change.node {
        s.set_error_rate(rate);
    }
}
