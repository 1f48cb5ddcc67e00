//! Semantics.
