//! Entry point of the playground's wasm binary, and its JavaScript exports (for tests and
//! benchmarks: `window.wasmBindings.current_csv()` and the rest). They are declared here, not
//! in the library, so that the analysis worker, the library's other binary, does not carry
//! them.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
fn main() {
    web::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the playground runs in a browser: `bash scripts/serve.sh`");
}

/// The current run's metrics as CSV (exactly the CLI's columns).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn current_csv() -> String {
    web::app::current_csv()
}

/// Runs a scenario (JSON) to its end, outside the page's run loop, and returns
/// `[events, milliseconds]`: the browser engine benchmark.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn bench_scenario(json: &str) -> Result<Vec<f64>, JsError> {
    web::app::bench_scenario(json)
}

/// Runs a scenario (JSON) to its end and returns its CSV: the wasm side of the
/// native-versus-wasm determinism check.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn scenario_csv(json: &str) -> Result<String, JsError> {
    web::app::scenario_csv(json)
}

/// Opens an address as the page does at load (the link decoded and validated, or refused)
/// and returns the milliseconds it took: the hostile-link test's measure of what a forged
/// link costs the page (SPEC §10).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn open_link_ms(href: &str) -> f64 {
    let now = || {
        web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now())
    };
    let start = now();
    let opened = web::link::initial_state(href, false);
    let took = now() - start;
    drop(opened);
    took
}
