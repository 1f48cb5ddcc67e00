//! `outage`: the server rejects every call while it lasts.

use super::{Change, AT_S, FOR_S, TARGET};
use crate::engine::Node;
use crate::kind::Param;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outage {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
}

crate::fields::by_name!(Outage {
    target: required,
    at_s: required,
    for_s: required,
});

pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S];
pub(crate) const TEMPLATE: &str = "{}";

pub(crate) fn apply(change: Change) {
    if let Node::Server(s) = change.node {
        s.set_outage(!change.active.is_empty());
    }
}
