//! The presets of SPEC §7: each a teaching story, shipped as a scenario file with its caption.

use crate::scenario::{Scenario, ScenarioError};

/// A preset: its name (as used on the command line) and its scenario file.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub json: &'static str,
}

/// Every preset, in gallery order.
pub const ALL: &[Preset] = &[
    Preset { name: "retry-storm", json: include_str!("retry-storm.json") },
];

/// The preset with this name.
pub fn find(name: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.name == name)
}

/// Parses the preset with this name (`None` if there is no such preset).
pub fn load(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    find(name).map(|p| Scenario::from_json(p.json))
}
