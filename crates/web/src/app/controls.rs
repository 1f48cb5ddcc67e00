//! The run controls (play, pause, step, reset, speed, seed, theme) and the preset gallery.

use super::runner::RunView;
use super::Store;
use crate::state::{Action, Speed};
use sim_core::presets;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub state: UseReducerHandle<Store>,
}

/// A fresh seed for a person who asked for one: the only place the app draws randomness.
fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 4];
    match getrandom::getrandom(&mut bytes) {
        // Small seeds are easier to read aloud and to type into the CLI.
        Ok(()) => u64::from(u32::from_le_bytes(bytes) % 1_000_000),
        Err(_) => 1,
    }
}

#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let store = &props.state;
    let state = &store.0;
    let dispatch = |action: Action| {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(action.clone()))
    };
    let on_speed = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                if let Some(speed) = Speed::from_id(&select.value()) {
                    store.dispatch(Action::SetSpeed(speed));
                }
            }
        })
    };
    let on_seed = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                match input.value().trim().parse::<u64>() {
                    Ok(seed) => store.dispatch(Action::SetSeed(seed)),
                    Err(_) => input.set_value(&store.0.scenario.seed.to_string()),
                }
            }
        })
    };
    let on_new_seed = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::SetSeed(fresh_seed())))
    };
    let seed = state
        .doc
        .get("seed")
        .and_then(|s| s.as_u64())
        .unwrap_or(state.scenario.seed);
    let playing = state.playing;
    html! {
        <div class="controls" role="toolbar" aria-label="Run controls">
            <button id="play" class="primary" aria-pressed={playing.to_string()}
                onclick={dispatch(Action::TogglePlay)}
                title="Play or pause the run (space)">
                { if playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button id="step" onclick={dispatch(Action::Step)} title="Advance a paused run by one step">
                { "Step" }
            </button>
            <button id="reset" onclick={dispatch(Action::Reset)} title="Run again from t = 0">
                { "Reset" }
            </button>
            <label class="inline">
                { "Speed " }
                <select id="speed" onchange={on_speed}>
                    { for Speed::ALL.iter().map(|s| html! {
                        <option value={s.id()} selected={*s == state.speed}>{ s.label() }</option>
                    }) }
                </select>
            </label>
            <label class="inline">
                { "Seed " }
                <input id="seed" type="number" min="0" step="1" value={seed.to_string()}
                    onchange={on_seed} class="seed" />
            </label>
            <button id="new-seed" onclick={on_new_seed} title="Draw a new random seed">{ "New seed" }</button>
            <button id="theme" aria-pressed={state.dark.to_string()}
                onclick={dispatch(Action::SetDark(!state.dark))}
                title="Switch between dark and light themes">
                { if state.dark { "Light theme" } else { "Dark theme" } }
            </button>
        </div>
    }
}

/// The run's progress in one line (simulated time, events, wall time, speed), with the same
/// facts as attributes for tests.
pub fn status(view: &RunView) -> Html {
    let rate = if view.sim_ms > 0.0 {
        format!(
            " · {:.1} M events/s",
            view.events as f64 / view.sim_ms / 1000.0
        )
    } else {
        String::new()
    };
    let status = format!(
        "t = {:.0} / {:.0} s · {} events · {:.0} ms{}",
        view.t_s,
        view.duration_s,
        group_thousands(view.events),
        view.sim_ms,
        rate
    );
    html! {
        <span class="status" data-testid="status" data-run-id={view.run_id.to_string()}
            data-finished={view.finished.to_string()} data-sim-ms={view.sim_ms.to_string()}
            data-events={view.events.to_string()}>
            { status }
        </span>
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct GalleryProps {
    pub state: UseReducerHandle<Store>,
}

/// Every preset as a card: its name and the first sentence of its caption.
#[function_component(Gallery)]
pub fn gallery(props: &GalleryProps) -> Html {
    let store = &props.state;
    let current = store.0.preset.clone();
    // The cards' texts, read from the preset files once: the gallery re-renders on every edit.
    let cards = use_memo((), |_| {
        presets::ALL
            .iter()
            .map(|preset| {
                let scenario: Option<serde_json::Value> = serde_json::from_str(preset.json).ok();
                let text = |key: &str| {
                    scenario
                        .as_ref()
                        .and_then(|s| s.get(key))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                let name = text("name").unwrap_or_else(|| preset.name.to_string());
                let caption = text("caption").unwrap_or_default();
                let first_sentence = caption
                    .split(". ")
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('.')
                    .to_string();
                (preset.name, name, caption, first_sentence)
            })
            .collect::<Vec<_>>()
    });
    let on_new = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::New))
    };
    html! {
        <nav class="gallery" aria-label="Presets">
            <h2>{ "Presets" }</h2>
            <ul>
                { for cards.iter().map(|(preset_name, name, caption, first_sentence)| {
                    let selected = current.as_deref() == Some(*preset_name);
                    let onclick = {
                        let store = store.clone();
                        let preset_name = preset_name.to_string();
                        Callback::from(move |_| store.dispatch(Action::LoadPreset(preset_name.clone())))
                    };
                    html! {
                        <li>
                            <button class={classes!("preset", selected.then_some("selected"))}
                                data-preset={*preset_name} aria-pressed={selected.to_string()}
                                title={caption.clone()} {onclick}>
                                <span class="preset-name">{ name.clone() }</span>
                                <span class="preset-line">{ first_sentence.clone() }</span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
            <button id="new-scenario" class="wide" onclick={on_new}>{ "New empty scenario" }</button>
        </nav>
    }
}
