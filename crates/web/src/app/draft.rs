//! A text field that never fights the person typing.
//!
//! While it has focus the field owns its text: a draft, shown exactly as typed — also half
//! typed (`0.`) or invalid (`-5`), with the reason beneath in words — that nothing the app
//! does on its own (a re-render, an address update, a run restart) rewrites. The draft is
//! committed after a short pause in typing, on Enter and when the field loses focus, invalid
//! or not (the scenario then has a problem, and the last valid run stays on screen), unless
//! the field refuses invalid drafts outright (an id: a rename is all or nothing). A value
//! changed from elsewhere (undo, a slider, back) replaces a draft that is not being typed.
//! Escape gives the draft up. Rationale: number inputs (`type=number`) blank their value while the text is not yet a
//! number, so a controlled number input loses keystrokes; this is a text input with
//! `inputmode` instead, and ArrowUp/ArrowDown still step the value.

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// How long typing must pause before a draft is committed.
pub const SETTLE_MS: i32 = 500;

#[derive(Properties, PartialEq)]
pub struct DraftProps {
    pub id: AttrValue,
    /// The committed value's text (what the field shows when it holds no draft).
    pub value: AttrValue,
    /// Called with a draft to commit.
    pub on_commit: Callback<String>,
    /// What is wrong with a text, in words (`None`: nothing the field can tell).
    #[prop_or_default]
    pub check: Option<Callback<String, Option<String>>>,
    /// Never commit a text the check finds wrong (an id).
    #[prop_or_default]
    pub refuse_invalid: bool,
    /// The validator's messages for the committed value, shown when the check has nothing
    /// to say about the text (so one fault is never said twice).
    #[prop_or_default]
    pub problems: Vec<AttrValue>,
    /// A number field: `inputmode=decimal` and arrow keys step by `step`.
    #[prop_or_default]
    pub step: Option<f64>,
    /// Commit only on Enter and blur, not after a pause (an id: a rename is one change).
    #[prop_or_default]
    pub commit_on_pause: Option<bool>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub data_field: Option<AttrValue>,
    #[prop_or_default]
    pub testid: Option<AttrValue>,
    #[prop_or_default]
    pub invalid: bool,
    #[prop_or_default]
    pub describedby: Option<AttrValue>,
    #[prop_or_default]
    pub aria_label: Option<AttrValue>,
    /// Called when the field loses focus (a gesture ended: undo starts a new step).
    #[prop_or_default]
    pub on_blur: Callback<()>,
}

#[function_component(DraftInput)]
pub fn draft_input(props: &DraftProps) -> Html {
    let draft = use_state(|| None::<String>);
    // The draft as of the last keystroke, for handlers that run before the next render.
    let latest = use_mut_ref(|| None::<String>);
    let focused = use_mut_ref(|| false);
    // Keys typed since the last commit.
    let dirty = use_memo((), |_| Rc::new(Cell::new(false)));
    // A commit was sent and its value has not come back yet.
    let awaiting_echo = use_memo((), |_| Rc::new(Cell::new(false)));
    // Bumped by each keystroke: a pending commit whose generation is old is dropped.
    let generation = use_memo((), |_| Rc::new(Cell::new(0u64)));
    let shown = draft.as_deref().unwrap_or(props.value.as_str()).to_string();
    // The field's own words are for what is being typed ("— you typed 1.5"); a value that
    // came from elsewhere (a file, a link) is judged by the validator's messages.
    let message = draft.as_ref().and_then(|text| {
        props
            .check
            .as_ref()
            .and_then(|check| check.emit(text.clone()))
    });
    {
        // The value changed. The echo of this field's own commit leaves the draft as typed
        // (no re-formatting under the cursor); a change from elsewhere (undo, a slider, back)
        // replaces a draft that is not being typed.
        let draft = draft.clone();
        let latest = latest.clone();
        let focused = focused.clone();
        let dirty = dirty.clone();
        let awaiting_echo = awaiting_echo.clone();
        use_effect_with(props.value.clone(), move |_| {
            if awaiting_echo.get() {
                awaiting_echo.set(false);
            } else if !(*focused.borrow() && dirty.get()) && draft.is_some() {
                *latest.borrow_mut() = None;
                draft.set(None);
            }
        });
    }
    // Commits a text (unless the field refuses it); says whether it was taken.
    let commit = {
        let on_commit = props.on_commit.clone();
        let check = props.check.clone();
        let refuse_invalid = props.refuse_invalid;
        let value = props.value.clone();
        let dirty = dirty.clone();
        let awaiting_echo = awaiting_echo.clone();
        Rc::new(move |text: &str| {
            let refused = refuse_invalid
                && check
                    .as_ref()
                    .and_then(|c| c.emit(text.to_string()))
                    .is_some();
            if refused {
                return false;
            }
            dirty.set(false);
            if text != value.as_str() {
                awaiting_echo.set(true);
                on_commit.emit(text.to_string());
            }
            true
        })
    };
    let on_pause = props.commit_on_pause.unwrap_or(true);
    let oninput = {
        let draft = draft.clone();
        let latest = latest.clone();
        let dirty = dirty.clone();
        let generation = generation.clone();
        let commit = commit.clone();
        Callback::from(move |e: InputEvent| {
            let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            let text = input.value();
            dirty.set(true);
            *latest.borrow_mut() = Some(text.clone());
            draft.set(Some(text.clone()));
            let mine = generation.get() + 1;
            generation.set(mine);
            if on_pause {
                let generation = generation.clone();
                let commit = commit.clone();
                // A plain timer, not an async task: the page carries no executor for it.
                let later = Closure::once_into_js(move || {
                    if generation.get() == mine {
                        commit(&text);
                    }
                });
                if let Some(window) = web_sys::window() {
                    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                        later.unchecked_ref(),
                        SETTLE_MS,
                    );
                }
            }
        })
    };
    let finish = {
        let draft = draft.clone();
        let latest = latest.clone();
        let generation = generation.clone();
        let commit = commit.clone();
        move |keep_focus: bool| {
            generation.set(generation.get() + 1);
            let text = latest.borrow().clone();
            if let Some(text) = text {
                let accepted = commit(&text);
                // Leaving the field: an accepted draft gives way to the committed value; a
                // refused one stays with its message. Enter keeps typing possible.
                if accepted && !keep_focus {
                    *latest.borrow_mut() = None;
                    draft.set(None);
                }
            }
        }
    };
    let onfocus = {
        let focused = focused.clone();
        Callback::from(move |_: FocusEvent| *focused.borrow_mut() = true)
    };
    let onblur = {
        let focused = focused.clone();
        let finish = finish.clone();
        let on_blur = props.on_blur.clone();
        Callback::from(move |_: FocusEvent| {
            *focused.borrow_mut() = false;
            finish(false);
            on_blur.emit(());
        })
    };
    // A `change` (a browser's after Enter or blur, or a script's) commits what is there.
    let onchange = {
        let finish = finish.clone();
        Callback::from(move |_: Event| finish(true))
    };
    let onkeydown = {
        let draft = draft.clone();
        let latest = latest.clone();
        let generation = generation.clone();
        let commit = commit.clone();
        let value = props.value.clone();
        let step = props.step;
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                finish(true);
            }
            "Escape" if draft.is_some() => {
                e.stop_propagation();
                generation.set(generation.get() + 1);
                *latest.borrow_mut() = None;
                draft.set(None);
            }
            key @ ("ArrowUp" | "ArrowDown") => {
                let Some(step) = step else {
                    return;
                };
                e.prevent_default();
                let current = latest.borrow().clone().unwrap_or_else(|| value.to_string());
                let Some(v) = crate::fields::parse_number(&current) else {
                    return;
                };
                let delta = if key == "ArrowUp" { step } else { -step };
                // Rounded to the step's decimals, so 0.1 + 0.2 reads 0.3.
                let decimals = step_decimals(step);
                let next = format!("{:.decimals$}", v + delta);
                let next = next.parse::<f64>().map_or(next, |n| n.to_string());
                generation.set(generation.get() + 1);
                if commit(&next) {
                    *latest.borrow_mut() = Some(next.clone());
                    draft.set(Some(next));
                }
            }
            _ => {}
        })
    };
    let invalid = props.invalid || message.is_some();
    let messages: Vec<String> = match &message {
        Some(m) => vec![m.clone()],
        None => props.problems.iter().map(|p| p.to_string()).collect(),
    };
    let message_id = format!("{}-draft", props.id);
    let describedby = match (&props.describedby, !messages.is_empty()) {
        (Some(d), true) => Some(format!("{d} {message_id}")),
        (Some(d), false) => Some(d.to_string()),
        (None, true) => Some(message_id.clone()),
        (None, false) => None,
    };
    html! {
        <>
            <input id={props.id.clone()} type="text" class={props.class.clone()}
                inputmode={props.step.map(|_| "decimal")}
                autocomplete="off" spellcheck="false"
                value={shown} data-field={props.data_field.clone()} data-testid={props.testid.clone()}
                aria-invalid={invalid.to_string()} aria-describedby={describedby}
                aria-label={props.aria_label.clone()}
                {oninput} {onfocus} {onblur} {onkeydown} {onchange} />
            if !messages.is_empty() {
                <p class="field-error draft-error" id={message_id} role="alert">{ messages.join(" ") }</p>
            }
        </>
    }
}

/// Decimal places of a step (0.01 → 2), at most 6.
fn step_decimals(step: f64) -> usize {
    (0..=6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-9
        })
        .unwrap_or(6)
}
