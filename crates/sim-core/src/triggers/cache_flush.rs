//! `cache_flush`: instant; the cache is emptied.

use super::{Change, AT_S, TARGET};
use crate::engine::Node;
use crate::kind::Param;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheFlush {
    pub target: String,
    pub at_s: f64,
}

crate::fields::by_name!(CacheFlush {
    target: required,
    at_s: required,
});

pub(crate) const PARAMS: &[Param] = &[TARGET, AT_S];
pub(crate) const TEMPLATE: &str = "{}";

/// A flush is instant: only its start does something.
pub(crate) fn apply(change: Change) {
    if let (true, Node::Cache(c)) = (change.start, change.node) {
        c.flush();
    }
}
