//! The Metastable playground (SPEC §6): a block editor, a time-sliced run loop and live charts
//! over the simulation core.
//!
//! Everything that does not touch the DOM — chart drawing over any plotters backend, the app
//! state and its reducer, the inspector's field table, preset layout — is plain Rust and is
//! tested natively. The Yew components and the browser glue live behind one
//! `#[cfg(target_arch = "wasm32")]` module.

pub mod analysis;
pub mod charts;
pub mod codec;
pub mod embed;
pub mod fields;
pub mod format;
pub mod host;
pub mod layout;
pub mod link;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod app;
