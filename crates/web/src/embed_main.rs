//! Entry point of the embed binary: embed mode (`?embed…`) alone, so that a page with an
//! embedded chart downloads the simulator, the charts, the sliders and the banner, and not the
//! editor, the analysis view or the dialogs. The page's loader picks this binary or the
//! playground's (`scripts/entries.mjs`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
fn main() {
    web::app::start_embed();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("embed mode runs in a browser: `bash scripts/serve.sh`, then open /?embed&s=…");
}

/// The current run's metrics as CSV (exactly the CLI's columns): the end-to-end tests compare
/// an embed's run with the playground's.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn current_csv() -> String {
    web::app::current_csv()
}
