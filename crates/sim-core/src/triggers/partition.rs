//! `partition`: calls to the target are lost while it lasts, and so are its replies: callers
//! wait for their timeouts.

use super::{Change, AT_S, FOR_S, TARGET};
use crate::kind::Param;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Partition {
    pub target: String,
    pub at_s: f64,
    pub for_s: f64,
}

crate::fields::by_name!(Partition {
    target: required,
    at_s: required,
    for_s: required,
});

pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S, FOR_S];
pub(crate) const TEMPLATE: &str = "{}";

pub(crate) fn apply(change: Change) {
    change.ctx.partitioned[change.target as usize] = change.active.len() as u32;
}
