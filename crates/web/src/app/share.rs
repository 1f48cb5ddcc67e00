//! The share dialog: the scenario's link, and the embed code for a blog post with the
//! author's choices (which charts, which parameters readers get as sliders, autoplay). It
//! lives in the dialogs' binary (`super::dialog_host`): the playground sends what it shows
//! ([`ShareInput`]).

use super::modal::use_modal_keys;
use crate::charts::ChartKind;
use crate::embed::{self, EmbedConfig, MAX_KNOBS};
use crate::host::ShareInput;
use crate::link;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    pub input: Rc<ShareInput>,
    pub on_close: Callback<()>,
}

/// Copies text to the clipboard; `on_done` learns whether it worked (a browser may refuse).
fn copy_text(text: &str, on_done: Callback<bool>) {
    let Some(window) = web_sys::window() else {
        on_done.emit(false);
        return;
    };
    let promise = window.navigator().clipboard().write_text(text);
    let ok = {
        let on_done = on_done.clone();
        Closure::once(move |_: JsValue| on_done.emit(true))
    };
    let failed = Closure::once(move |_: JsValue| on_done.emit(false));
    let _ = promise.then2(&ok, &failed);
    // Each runs at most once, when the promise settles; they are tiny and then unreachable.
    ok.forget();
    failed.forget();
}

/// What a copy button last did.
#[derive(Clone, Copy, PartialEq)]
enum Copied {
    Not,
    Yes,
    Refused,
}

fn copy_note(copied: Copied, what: &str) -> String {
    match copied {
        Copied::Not => String::new(),
        Copied::Yes => format!("{what} copied."),
        Copied::Refused => "The browser refused the clipboard: select the text and copy it.".into(),
    }
}

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// A height that fits the embed's content before it reports its own (the snippet's script
/// then follows what the page says).
fn initial_height(config: &EmbedConfig) -> u32 {
    120 + 34 * config.knobs.len() as u32 + 228 * config.charts.len().max(1) as u32
}

#[function_component(ShareDialog)]
pub fn share_dialog(props: &ShareProps) -> Html {
    let input = &props.input;
    let available = &input.charts;
    let config = use_state(|| EmbedConfig {
        charts: EmbedConfig::default()
            .charts
            .into_iter()
            .filter(|c| available.contains(c))
            .collect(),
        ..EmbedConfig::default()
    });
    let link_copied = use_state(|| Copied::Not);
    // The link is selected when the dialog opens: Ctrl+C copies it, Escape closes.
    let url_input = use_node_ref();
    let dialog = use_node_ref();
    {
        let url_input = url_input.clone();
        let dialog = dialog.clone();
        use_effect_with((), move |_| {
            if let Some(input) = url_input.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            } else if let Some(dialog) = dialog.cast::<web_sys::HtmlElement>() {
                let _ = dialog.focus();
            }
        });
    }
    let embed_copied = use_state(|| Copied::Not);

    let url = input.url.clone();
    let embed_url = if input.payload.is_empty() {
        String::new()
    } else {
        link::embed_url(&input.base, &config, &input.payload, &input.extra)
    };
    let snippet = embed::snippet(&embed_url, &origin(), &input.name, initial_height(&config));

    let copy = |text: String, copied: UseStateHandle<Copied>| {
        Callback::from(move |_| {
            let copied = copied.clone();
            copy_text(
                &text,
                Callback::from(move |ok| {
                    copied.set(if ok { Copied::Yes } else { Copied::Refused })
                }),
            );
        })
    };
    let toggle_chart = |kind: ChartKind| {
        let config = config.clone();
        let embed_copied = embed_copied.clone();
        Callback::from(move |e: Event| {
            let on = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .is_some_and(|i| i.checked());
            let mut next = (*config).clone();
            next.charts.retain(|c| *c != kind);
            if on {
                next.charts.push(kind);
                // Keep the page's order, whatever the order of the clicks.
                next.charts
                    .sort_by_key(|c| ChartKind::ALL.iter().position(|k| k == c));
            }
            config.set(next);
            embed_copied.set(Copied::Not);
        })
    };
    let set_knob = |slot: usize| {
        let config = config.clone();
        let embed_copied = embed_copied.clone();
        Callback::from(move |e: Event| {
            let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            else {
                return;
            };
            let mut knobs: Vec<String> = config.knobs.clone();
            knobs.resize(MAX_KNOBS, String::new());
            knobs[slot] = select.value();
            knobs.retain(|k| !k.is_empty());
            knobs.dedup();
            config.set(EmbedConfig {
                knobs,
                ..(*config).clone()
            });
            embed_copied.set(Copied::Not);
        })
    };
    let on_autoplay = {
        let config = config.clone();
        Callback::from(move |e: Event| {
            let on = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .is_some_and(|i| i.checked());
            config.set(EmbedConfig {
                autoplay: on,
                ..(*config).clone()
            });
        })
    };
    let on_close = props.on_close.reform(|_| ());
    use_modal_keys("share-dialog", props.on_close.clone());
    let knob_select = |slot: usize| {
        let current = config.knobs.get(slot).cloned().unwrap_or_default();
        html! {
            <select data-knob-slot={slot.to_string()} onchange={set_knob(slot)}
                aria-label={format!("Slider {}", slot + 1)}>
                <option value="" selected={current.is_empty()}>{ "— none —" }</option>
                { for input.knobs.iter().map(|(path, label)| html! {
                    <option value={path.clone()} selected={*path == current}>
                        { format!("{label} ({path})") }
                    </option>
                }) }
            </select>
        }
    };
    // A click on the backdrop, outside the dialog, closes it. (Yew delegates events, so the
    // event's current target is not the backdrop: compare the target with it.)
    let backdrop = use_node_ref();
    let on_backdrop = {
        let on_close = props.on_close.clone();
        let backdrop = backdrop.clone();
        Callback::from(move |e: MouseEvent| {
            let target = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            if target.is_some() && target == backdrop.cast::<web_sys::Element>() {
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="dialog-backdrop" ref={backdrop} onclick={on_backdrop}>
            <section class="dialog" ref={dialog} tabindex="-1" role="dialog" aria-modal="true" aria-labelledby="share-title" id="share-dialog">
                <header class="dialog-head">
                    <h2 id="share-title">{ "Share this scenario" }</h2>
                    <button id="share-close" onclick={on_close} aria-label="Close">{ "✕" }</button>
                </header>
                if input.problems > 0 {
                    <p class="dialog-note" data-testid="share-blocked">
                        { format!("The scenario has {} problem{} (see the inspector): fix {} to share it. A link always holds a scenario that runs.",
                            input.problems,
                            if input.problems == 1 { "" } else { "s" },
                            if input.problems == 1 { "it" } else { "them" }) }
                    </p>
                } else {
                <h3>{ "Link" }</h3>
                <p class="dialog-help">
                    { format!("The whole scenario and its seed (now {}) are in the link: whoever opens it sees exactly this run, and ", input.seed) }
                    <code>{ "metastable run LINK" }</code>
                    { format!(" gives the same numbers. {} characters.", url.len()) }
                </p>
                <div class="copy-row">
                    <input id="share-url" ref={url_input} type="text" readonly=true value={url.clone()} aria-label="Share link" />
                    <button id="copy-link" class="primary" onclick={copy(url, link_copied.clone())}>{ "Copy link" }</button>
                </div>
                <p class="copy-note" aria-live="polite">{ copy_note(*link_copied, "Link") }</p>

                <h3>{ "Embed in a page" }</h3>
                <fieldset class="embed-charts">
                    <legend>{ "Charts" }</legend>
                    { for available.iter().map(|kind| html! {
                        <label class="check">
                            <input type="checkbox" data-embed-chart={kind.id()}
                                checked={config.charts.contains(kind)} onchange={toggle_chart(*kind)} />
                            { kind.title() }
                        </label>
                    }) }
                </fieldset>
                <fieldset class="embed-knobs-pick">
                    <legend>{ format!("Sliders for readers (up to {MAX_KNOBS})") }</legend>
                    { for (0..MAX_KNOBS).map(knob_select) }
                </fieldset>
                <label class="check">
                    <input id="embed-autoplay" type="checkbox" checked={config.autoplay} onchange={on_autoplay} />
                    { "Run as soon as it loads (otherwise it waits for the reader to press Play)" }
                </label>
                <textarea id="embed-code" readonly=true rows="5" value={snippet.clone()}
                    aria-label="Embed code" />
                <div class="copy-row">
                    <button id="copy-embed" class="primary" onclick={copy(snippet, embed_copied.clone())}>
                        { "Copy embed code" }
                    </button>
                    <a id="embed-preview" href={embed_url} target="_blank" rel="noopener">{ "Preview the embed ↗" }</a>
                </div>
                <p class="copy-note" aria-live="polite">{ copy_note(*embed_copied, "Embed code") }</p>
                }
            </section>
        </div>
    }
}
