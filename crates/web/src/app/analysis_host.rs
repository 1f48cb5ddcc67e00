//! The analysis view as a binary of its own (`analysis_main.rs`), fetched the first time the
//! view opens, so that the playground's first visit does not download it.
//!
//! The two binaries share no memory: the playground mounts the view in an element of its page
//! ([`super::lazy::LazyAnalysis`]) and talks to it in text ([`crate::host`]).

use super::analysis_view::AnalysisView;
use crate::analysis::AnalysisConfig;
use crate::host::{Input, Message};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HostProps {
    pub input: Rc<Input>,
    /// Where the view's messages go (the playground's function).
    pub output: Callback<String>,
}

/// The root of the analysis binary's app.
#[function_component(AnalysisHost)]
pub fn analysis_host(props: &HostProps) -> Html {
    let input = &props.input;
    let on_config = props
        .output
        .reform(|config: AnalysisConfig| Message::Config(config.to_query()).encode());
    let on_open = props
        .output
        .reform(|doc: Value| Message::Open(doc).encode());
    html! {
        <AnalysisView doc={input.doc.clone()} name={AttrValue::from(input.name.clone())}
            has_problems={input.has_problems} config={input.config.clone()} {on_config} {on_open} />
    }
}

/// The view mounted in an element of the playground's page.
pub struct Mounted {
    app: Option<yew::AppHandle<AnalysisHost>>,
    output: Callback<String>,
}

impl Mounted {
    /// Mounts the view in `root` with `input` (text from the playground); its messages go to
    /// `output`.
    pub fn new(root: web_sys::Element, input: &str, output: js_sys::Function) -> Mounted {
        console_error_panic_hook::set_once();
        let output = Callback::from(move |text: String| {
            // The playground's function does not throw; if it did, no one could be told.
            let _ = output.call1(&JsValue::NULL, &JsValue::from_str(&text));
        });
        let props = HostProps {
            input: Rc::new(Input::decode(input)),
            output: output.clone(),
        };
        let app = yew::Renderer::<AnalysisHost>::with_root_and_props(root, props).render();
        Mounted {
            app: Some(app),
            output,
        }
    }

    /// New input from the playground.
    pub fn update(&mut self, input: &str) {
        if let Some(app) = &mut self.app {
            app.update(HostProps {
                input: Rc::new(Input::decode(input)),
                output: self.output.clone(),
            });
        }
    }

    /// Takes the view out of the page (its workers stop with it).
    pub fn unmount(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}
