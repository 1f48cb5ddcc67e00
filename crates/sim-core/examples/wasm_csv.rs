//! The simulation core as a bare wasm32 module (no wasm-bindgen), so a plain Node script can
//! check that a scenario gives byte-identical CSV in wasm and natively:
//! `tests/wasm/determinism.mjs`, run by `scripts/test.sh`.
//!
//! Protocol: JS asks for `input_buffer(len)`, writes a scenario's JSON there, calls
//! `run_input()`, and reads `output_len()` bytes at `output_ptr()`: the CSV, or an error
//! message when `run_input` returned 1. `preset_count()` and `preset_json(i)` (which leaves a
//! preset's JSON in the output) expose the presets.

// Rationale: exporting functions to JS needs `#[no_mangle]`, which the unsafe_code lint flags;
// no `unsafe` block is used.
#![allow(unsafe_code)]

use sim_core::{presets, to_csv, Scenario, Sim};
use std::cell::RefCell;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn set_output(bytes: Vec<u8>) {
    OUTPUT.with(|o| *o.borrow_mut() = bytes);
}

/// A buffer of `len` bytes for the caller to fill with scenario JSON.
#[no_mangle]
pub extern "C" fn input_buffer(len: u32) -> *mut u8 {
    INPUT.with(|i| {
        let mut input = i.borrow_mut();
        input.clear();
        input.resize(len as usize, 0);
        input.as_mut_ptr()
    })
}

/// Runs the scenario in the input buffer; 0 = the output holds its CSV, 1 = an error message.
#[no_mangle]
pub extern "C" fn run_input() -> u32 {
    let text = INPUT.with(|i| String::from_utf8_lossy(&i.borrow()).into_owned());
    let result = Scenario::from_json(&text).and_then(|scenario| {
        let mut sim = Sim::new(&scenario)?;
        sim.run();
        Ok(to_csv(sim.columns(), sim.rows()))
    });
    match result {
        Ok(csv) => {
            set_output(csv.into_bytes());
            0
        }
        Err(error) => {
            set_output(error.to_string().into_bytes());
            1
        }
    }
}

#[no_mangle]
pub extern "C" fn preset_count() -> u32 {
    presets::ALL.len() as u32
}

/// Leaves preset `index`'s JSON in the output and returns its length.
#[no_mangle]
pub extern "C" fn preset_json(index: u32) -> u32 {
    let json = presets::ALL.get(index as usize).map_or("", |p| p.json);
    set_output(json.as_bytes().to_vec());
    json.len() as u32
}

#[no_mangle]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn output_len() -> u32 {
    OUTPUT.with(|o| o.borrow().len() as u32)
}
