//! Entry point of the dialogs' binary: the share dialog and "What would fix this?", which the
//! playground fetches the first time one opens (`app::lazy`) and mounts in an element of its
//! page, so that its first visit does not download them. It has no `main` work of its own:
//! the playground calls `mount`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;
#[cfg(target_arch = "wasm32")]
use web::app::{dialog_host::DialogHost, hosted::Mounted};

fn main() {}

/// A dialog mounted in the playground's page.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub struct DialogHandle(Mounted<DialogHost>);

/// Mounts a dialog in `root` with `input` (text: `web::host::Dialog`); its messages (text:
/// `web::host::DialogMessage`) go to `output`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn mount(root: web_sys::Element, input: &str, output: js_sys::Function) -> DialogHandle {
    DialogHandle(Mounted::new(root, input, output))
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
impl DialogHandle {
    /// New input from the playground (the share link, once made).
    pub fn update(&mut self, input: &str) {
        self.0.update(input);
    }

    /// Takes the dialog out of the page.
    pub fn unmount(&mut self) {
        self.0.unmount();
    }
}
