//! The dialogs as a binary of their own (`dialogs_main.rs`): the share dialog and "What would
//! fix this?", fetched the first time one opens, so that the playground's first visit does not
//! download them.
//!
//! The playground mounts a dialog in an element of its page (`super::lazy::LazyDialog`) and
//! tells it what to show in text ([`crate::host::Dialog`]); the dialog answers in text
//! ([`crate::host::DialogMessage`]): close me, or open this scenario.

use super::fixes::FixDialog;
use super::hosted::Hosted;
use super::share::ShareDialog;
use crate::host::{Dialog, DialogMessage};
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogHostProps {
    /// The dialog to show (`None`: the playground's text was not one, nothing shows).
    pub dialog: Rc<Option<Dialog>>,
    /// Where the dialog's messages go (the playground's function).
    pub output: Callback<String>,
}

/// The root of the dialogs' binary's app.
#[function_component(DialogHost)]
pub fn dialog_host(props: &DialogHostProps) -> Html {
    let on_close = props.output.reform(|()| DialogMessage::Close.encode());
    match &*props.dialog {
        Some(Dialog::Share(input)) => html! {
            <ShareDialog input={Rc::new(input.clone())} {on_close} />
        },
        Some(Dialog::Fix(input)) => {
            let on_open = props
                .output
                .reform(|(doc, pin): (Value, bool)| DialogMessage::Open { doc, pin }.encode());
            html! { <FixDialog input={Rc::new(input.clone())} {on_close} {on_open} /> }
        }
        None => html! {},
    }
}

impl Hosted for DialogHost {
    fn props(input: &str, output: Callback<String>) -> DialogHostProps {
        DialogHostProps {
            dialog: Rc::new(Dialog::decode(input)),
            output,
        }
    }
}
