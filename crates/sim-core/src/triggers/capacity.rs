//! `capacity`: the server's worker count is `workers` while it lasts (busy workers above it
//! finish their call first).

use super::{Change, Trigger, AT_S, FOR_S, TARGET};
use crate::engine::Node;
use crate::kind::{Absent, Param};
use crate::scenario::{limits, Validator};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capacity {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
    pub workers: u32,
}

crate::fields::by_name!(Capacity {
    target: required,
    at_s: required,
    for_s: required,
    workers: required,
});

const WORKERS: Param = Param::whole("workers", 0, limits::MAX_WORKERS as u64, Absent::Required);
pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S, WORKERS];
pub(crate) const TEMPLATE: &str = r#"{"workers": 1}"#;

impl Capacity {
    pub(crate) fn validate(&self, v: &mut Validator) {
        v.whole(&WORKERS, u64::from(self.workers));
    }
}

/// The one that started last sets the count; when none is active the server's own returns.
pub(crate) fn apply(change: Change) {
    let workers = change.latest().and_then(|t| match t {
        Trigger::Capacity(c) => Some(c.workers),
        _ => None,
    });
    if let Node::Server(s) = change.node {
        s.set_workers(workers, change.ctx);
    }
}
