//! Entry point of the analysis binary: the analysis view, which the playground fetches the
//! first time the view opens (`app::lazy`) and mounts in an element of its page. It has no
//! `main` work of its own: the playground calls `mount`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;
#[cfg(target_arch = "wasm32")]
use web::app::{analysis_host::AnalysisHost, hosted::Mounted};

fn main() {}

/// The view mounted in the playground's page.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub struct AnalysisHandle(Mounted<AnalysisHost>);

/// Mounts the view in `root` with `input` (text: `web::host::Input`); its messages (text:
/// `web::host::Message`) go to `output`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn mount(root: web_sys::Element, input: &str, output: js_sys::Function) -> AnalysisHandle {
    AnalysisHandle(Mounted::new(root, input, output))
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
impl AnalysisHandle {
    /// New input from the playground.
    pub fn update(&mut self, input: &str) {
        self.0.update(input);
    }

    /// Takes the view out of the page.
    pub fn unmount(&mut self) {
        self.0.unmount();
    }
}
