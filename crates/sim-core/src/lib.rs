//! The simulation core of Metastable: a deterministic discrete-event simulator of client,
//! retry, cache, balancer, breaker and server blocks, with triggers, per-bucket metrics and a
//! verdict on whether the system recovers once the trigger is gone.
//!
//! ```
//! use sim_core::{presets, Sim, Verdict};
//! let scenario = presets::load("retry-storm").unwrap().unwrap();
//! let mut sim = Sim::new(&scenario).unwrap();
//! sim.run();
//! assert_eq!(sim.report().verdict, Verdict::Metastable);
//! ```
//!
//! No clock, no I/O, no ambient randomness: the same scenario and seed give the same rows on
//! every platform, native or wasm32.

mod blocks;
mod ctx;
mod engine;
mod fields;
pub mod fix;
pub mod fluid;
pub mod hostile;
pub mod hysteresis;
pub mod kind;
mod metrics;
pub mod presets;
mod queue;
pub mod replicate;
mod rng;
pub mod scenario;
pub mod share;
pub mod sweep;
#[cfg(test)]
mod testing;
mod triggers;
mod verdict;

pub use engine::{Budget, LimitExceeded, Limits, Sim};
pub use kind::{BlockKind, TriggerKind};
pub use metrics::{to_csv, Row, Totals, GLOBAL_COLUMNS};
pub use scenario::{get_path, set_path, Location, Problem, Scenario, ScenarioError};
pub use verdict::{judge, Report, Summary, Verdict};
