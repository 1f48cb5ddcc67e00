//! The analysis view as a binary of its own (`analysis_main.rs`), fetched the first time the
//! view opens, so that the playground's first visit does not download it.
//!
//! The two binaries share no memory: the playground mounts the view in an element of its page
//! ([`super::lazy::LazyAnalysis`], [`super::hosted::Mounted`]) and talks to it in text
//! ([`crate::host`]).

use super::analysis_view::AnalysisView;
use super::hosted::Hosted;
use crate::analysis::AnalysisConfig;
use crate::host::{Input, Message};
use serde_json::Value;
use std::rc::Rc;
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

impl Hosted for AnalysisHost {
    fn props(input: &str, output: Callback<String>) -> HostProps {
        HostProps {
            input: Rc::new(Input::decode(input)),
            output,
        }
    }
}
