//! The run controls (play, pause, step, reset, speed, seed, theme) and the preset gallery.

use super::runner::RunView;
use super::Store;
use crate::state::{Action, Speed};
use sim_core::presets;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub state: UseReducerHandle<Store>,
    /// The run reached its end (or a limit): Play becomes Replay.
    #[prop_or_default]
    pub finished: bool,
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

/// The seed counts the Seeds menu offers.
const SEED_CHOICES: [u32; 5] = [1, 3, 5, 10, 20];

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
        Callback::from(move |typed: String| {
            if let Ok(seed) = typed.trim().parse::<u64>() {
                store.dispatch(Action::SetSeed(seed));
            }
        })
    };
    let check_seed = Callback::from(|typed: String| {
        typed.trim().parse::<u64>().err().map(|_| {
            format!(
                "The seed must be a whole number from 0 to 18,446,744,073,709,551,615 — you typed {}",
                typed.trim()
            )
        })
    });
    let end_gesture = {
        let store = store.clone();
        Callback::from(move |()| store.dispatch(Action::EndGesture))
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
    let replay = {
        let store = store.clone();
        Callback::from(move |_| {
            store.dispatch(Action::Reset);
            store.dispatch(Action::Play);
        })
    };
    let history = &state.history;
    html! {
        <div class="controls" role="toolbar" aria-label="Run controls">
            <button id="undo" onclick={dispatch(Action::Undo)} disabled={history.undo_label().is_none()}
                title={history.undo_label().map_or("Nothing to undo".to_string(), |l| format!("Undo {l} (Ctrl+Z)"))}
                aria-label="Undo">{ "↶" }</button>
            <button id="redo" onclick={dispatch(Action::Redo)} disabled={history.redo_label().is_none()}
                title={history.redo_label().map_or("Nothing to redo".to_string(), |l| format!("Redo {l} (Ctrl+Shift+Z)"))}
                aria-label="Redo">{ "↷" }</button>
            if props.finished {
                <button id="play" class="primary" data-finished="true" onclick={replay}
                    title="The run is over: run it again from t = 0">
                    { "↻ Replay" }
                </button>
            } else {
                <button id="play" class="primary" aria-pressed={playing.to_string()}
                    onclick={dispatch(Action::TogglePlay)}
                    title="Play or pause the run (space)">
                    { if playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
            }
            <button id="step" onclick={dispatch(Action::Step)} disabled={props.finished}
                title="Advance a paused run by one bucket">
                { "Step" }
            </button>
            <button id="reset" onclick={dispatch(Action::Reset)} title="Run again from t = 0">
                { "Reset" }
            </button>
            <label class="inline">
                <span class="speed-label">{ "Speed " }</span>
                <select id="speed" onchange={on_speed} aria-label="Speed">
                    { for Speed::ALL.iter().map(|s| html! {
                        <option value={s.id()} selected={*s == state.speed}>{ s.label() }</option>
                    }) }
                </select>
            </label>
            <label class="inline seed-label" for="seed">{ "Seed" }</label>
            <super::draft::DraftInput id="seed" class={classes!("seed")} value={seed.to_string()}
                on_commit={on_seed} check={Some(check_seed)} refuse_invalid=true step={Some(1.0)}
                on_blur={end_gesture} />
            <button id="new-seed" onclick={on_new_seed} title="Draw a new random seed">{ "New seed" }</button>
            <button id="theme" aria-pressed={state.dark.to_string()}
                onclick={dispatch(Action::SetDark(!state.dark))}
                title="Switch between dark and light themes">
                { if state.dark { "Light" } else { "Dark" } }
            </button>
        </div>
    }
}

/// The instrument beside the verdict (SPEC §9): how many seeds each run has, and pinning
/// the scenario as the baseline later runs are drawn against.
#[derive(Properties, PartialEq)]
pub struct InstrumentProps {
    pub state: UseReducerHandle<Store>,
    /// Opens "What would fix this?".
    pub on_fix: Callback<()>,
}

#[function_component(Instrument)]
pub fn instrument(props: &InstrumentProps) -> Html {
    let store = &props.state;
    let state = &store.0;
    let on_seeds = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                if let Ok(k) = select.value().parse::<u32>() {
                    store.dispatch(Action::SetSeeds(k));
                }
            }
        })
    };
    let pin = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::PinBaseline))
    };
    html! {
        <div class="instrument" role="group" aria-label="How sure, and compared with what">
            <select id="seeds" onchange={on_seeds} aria-label="Seeds per run"
                title="Run this many seeds (the others in the background) and draw their median and 95% band">
                { for SEED_CHOICES.iter().map(|k| html! {
                    <option value={k.to_string()} selected={*k == state.seeds}>
                        { if *k == 1 { "1 seed".to_string() } else { format!("{k} seeds") } }
                    </option>
                }) }
            </select>
            <button type="button" data-testid="pin" onclick={pin}
                disabled={state.scenario.blocks.is_empty()}
                title="Keep this scenario as the baseline: every chart then draws it dashed beside the runs that follow, with their differences">
                { if state.baseline.is_some() { "Pin this instead" } else { "Pin as baseline" } }
            </button>
            <button type="button" data-testid="fix" onclick={props.on_fix.reform(|_| ())}
                onpointerenter={Callback::from(|_| super::lazy::prefetch_dialogs())}
                onfocus={Callback::from(|_| super::lazy::prefetch_dialogs())}
                disabled={state.scenario.blocks.is_empty() || !state.problems.is_empty()}
                title="Try every mitigation from the catalogue that applies here, over several seeds, and rank them">
                { "What would fix this?" }
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
        "t = {} / {} s · {} events · {} ms{}",
        crate::format::int(view.t_s.max(0.0) as u64),
        crate::format::int(view.duration_s.max(0.0) as u64),
        crate::format::int(view.events),
        crate::format::int(view.sim_ms.max(0.0).round() as u64),
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

/// The run's progress for readers (an embed): simulated time only, with the same facts as
/// attributes for tests.
pub fn time_status(view: &RunView) -> Html {
    let text = format!(
        "t = {} / {} s",
        crate::format::int(view.t_s.max(0.0) as u64),
        crate::format::int(view.duration_s.max(0.0) as u64)
    );
    html! {
        <span class="status" data-testid="status" data-run-id={view.run_id.to_string()}
            data-finished={view.finished.to_string()} data-sim-ms={view.sim_ms.to_string()}
            data-events={view.events.to_string()}>
            { text }
        </span>
    }
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

/// The presets as one compact picker, for screens without room for the gallery.
#[function_component(PresetPicker)]
pub fn preset_picker(props: &GalleryProps) -> Html {
    let store = &props.state;
    let current = store.0.preset.clone();
    let names = use_memo((), |_| {
        presets::ALL
            .iter()
            .map(|preset| {
                let name = serde_json::from_str::<serde_json::Value>(preset.json)
                    .ok()
                    .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .unwrap_or_else(|| preset.name.to_string());
                (preset.name, name)
            })
            .collect::<Vec<_>>()
    });
    let onchange = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                let value = select.value();
                if value == "new" {
                    store.dispatch(Action::New);
                } else if !value.is_empty() {
                    store.dispatch(Action::LoadPreset(value));
                }
            }
        })
    };
    html! {
        <select id="preset-picker" class="preset-picker" aria-label="Open a preset" {onchange}>
            <option value="" selected={current.is_none()}>{ "Presets…" }</option>
            { for names.iter().map(|(id, name)| html! {
                <option value={*id} selected={current.as_deref() == Some(*id)}>{ name.clone() }</option>
            }) }
            <option value="new">{ "New empty scenario" }</option>
        </select>
    }
}
