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
