//! A view of its own binary (the analysis view, the dialogs), mounted in an element of the
//! playground's page: the side of [`super::lazy`] that lives in the fetched binary. The two
//! binaries share no memory; they talk in text ([`crate::host`]).

use wasm_bindgen::JsValue;
use yew::prelude::*;

/// The root component of a fetched binary: its properties are made from the playground's
/// text and the function its answers go to.
pub trait Hosted: BaseComponent {
    fn props(input: &str, output: Callback<String>) -> Self::Properties;
}

/// The view mounted in an element of the playground's page.
pub struct Mounted<C: Hosted> {
    app: Option<yew::AppHandle<C>>,
    output: Callback<String>,
}

impl<C: Hosted> Mounted<C> {
    /// Mounts the view in `root` with `input` (text from the playground); its messages go to
    /// `output`.
    pub fn new(root: web_sys::Element, input: &str, output: js_sys::Function) -> Mounted<C> {
        console_error_panic_hook::set_once();
        let output = Callback::from(move |text: String| {
            // The playground's function does not throw; if it did, no one could be told.
            let _ = output.call1(&JsValue::NULL, &JsValue::from_str(&text));
        });
        let props = C::props(input, output.clone());
        let app = yew::Renderer::<C>::with_root_and_props(root, props).render();
        Mounted {
            app: Some(app),
            output,
        }
    }

    /// New input from the playground.
    pub fn update(&mut self, input: &str) {
        if let Some(app) = &mut self.app {
            app.update(C::props(input, self.output.clone()));
        }
    }

    /// Takes the view out of the page (its workers stop with it).
    pub fn unmount(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}
