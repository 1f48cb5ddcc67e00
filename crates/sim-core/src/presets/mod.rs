//! The presets of SPEC §7: each a teaching story, shipped as a scenario file with its caption.
//!
//! The files are plain scenarios (the same format as a user's file or a share URL); the
//! verdict each caption promises is asserted by the tests in `tests/it/presets.rs`.

use crate::scenario::{Scenario, ScenarioError};

/// A preset: its name (as used on the command line and in the gallery) and its scenario file.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub json: &'static str,
}

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        /// Every preset, in gallery order (the retry storm first: it is the default scenario).
        pub const ALL: &[Preset] = &[
            $(Preset { name: $name, json: include_str!(concat!($name, ".json")) },)*
        ];
    };
}

/// The default scenario, the gallery's first: the retry storm. Named on its own so that
/// opening it needs no search of the others.
pub const DEFAULT: Preset = ALL[0];

presets![
    "retry-storm",
    "retry-storm-no-retries",
    "retry-storm-budget",
    "retry-storm-lifo-shed",
    "retry-storm-deadline-aware",
    "retry-storm-rate-limiter",
    "retry-storm-adaptive-limiter",
    "retry-storm-shed",
    "retry-storm-shed-slow",
    "retry-storm-priority",
    "retry-storm-autoscale",
    "retry-storm-autoscale-ceiling",
    "two-clients-fifo",
    "two-clients-fair",
    "backoff-not-enough",
    "layered-retries",
    "hedging-cuts-the-tail",
    "hedging-tips-over",
    "load-staircase-hysteresis",
    "cold-cache",
    "cold-cache-fill-late",
    "thrashing",
    "stale-queue",
    "stale-queue-lifo",
    "stale-queue-codel",
    "closed-loop",
    "slow-server-round-robin",
    "slow-server-least-outstanding",
    "slow-server-power-of-two",
    "dependency-outage",
];

/// The preset with this name.
pub fn find(name: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.name == name)
}

/// Parses the preset with this name (`None` if there is no such preset).
pub fn load(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    find(name).map(|p| Scenario::from_json(p.json))
}
