//! Embed mode (`?embed&…&s=…`): the scenario as a live chart inside someone else's page.
//! Chart-first and minimal: a title, the verdict, the author's sliders, play and reset, the
//! chosen charts and a link to open the scenario in the full playground. The page reports its
//! height to the host page, whose snippet resizes the iframe.

use super::charts_view::Charts;
use super::controls::time_status;
use super::runner::{use_run, VerdictBanner};
use super::{current_href, prefers_dark, Store};
use crate::charts::PlotArea;
use crate::embed::{self, EmbedConfig, Knob};
use crate::fields::{self, Input};
use crate::link;
use crate::state::{Action, AppState};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The value of a knob's field in the document (`None` when absent).
fn knob_value(state: &AppState, knob: &Knob) -> Option<f64> {
    let item = match &knob.owner {
        crate::state::Owner::Scenario => Some(&state.doc),
        crate::state::Owner::Block(id) => state.block(id),
        crate::state::Owner::Trigger(i) => state.triggers().get(*i),
    }?;
    item.pointer(&format!("/{}", knob.field_path.replace('.', "/")))?
        .as_f64()
}

/// A slider's range for a knob: the field table's, widened to hold the current value.
fn knob_range(state: &AppState, knob: &Knob, value: f64) -> (f64, f64, f64) {
    let kind = match &knob.owner {
        crate::state::Owner::Block(id) => state
            .block(id)
            .map_or("", crate::state::block_kind)
            .to_string(),
        _ => String::new(),
    };
    let (lo, hi, step) = fields::slider_range(&kind, &knob.field_path, state.scenario.duration_s)
        .unwrap_or_else(|| match knob.field.input {
            Input::Integer { min, .. } => (min, (value * 2.0).max(min + 10.0), 1.0),
            Input::Number { min, step, .. } => (min, (value * 2.0).max(min + 1.0), step),
            _ => (0.0, value.max(1.0) * 2.0, 0.01),
        });
    (lo.min(value), hi.max(value), step)
}

/// Tells the host page how tall the embed's content is (it may resize the iframe).
fn report_height(last: &mut i32) {
    let Some(window) = web_sys::window() else {
        return;
    };
    // The body's own height: the root's scroll height is never less than the iframe's, so
    // it could grow the frame but never shrink it.
    let Some(height) = window
        .document()
        .and_then(|d| d.body())
        .map(|body| body.offset_height())
    else {
        return;
    };
    if height == *last {
        return;
    }
    *last = height;
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    // Not framed: the window is its own parent, and nobody is listening.
    if js_sys::Object::is(&parent, &window) {
        return;
    }
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"metastable:height".into());
    let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
    // The height is not a secret: any host may learn it.
    let _ = parent.post_message(&message, "*");
}

#[function_component(EmbedApp)]
pub fn embed_app() -> Html {
    let href = current_href();
    let config = use_memo((), |_| {
        let query = &href[href.find('?').unwrap_or(href.len())..];
        EmbedConfig::from_query(query).unwrap_or_default()
    });
    let store = use_reducer(|| {
        let mut state = link::embed_state(&href, prefers_dark());
        state.playing = config.autoplay;
        Store(state)
    });
    let state = &store.0;
    let (runner, view) = use_run(state);
    // A link's seeds and baseline (`seeds=`, `b=`): the embed draws the pair too.
    let (replicas, seeds_view) = super::replicas::use_replicas(state);
    let live = {
        let runner = runner.clone();
        use_memo((view.run_id, view.finished), move |_| {
            runner.borrow().replica()
        })
    };
    let seeds_line = {
        let replicas = replicas.clone();
        let seeds = state.seeds;
        use_memo(
            (view.run_id, view.finished, seeds_view.clone()),
            move |(_, _, sv)| super::runner::SeedsLine {
                aggregate: super::replicas::all_replicas((*live).clone(), &replicas.borrow(), sv)
                    .filter(|_| seeds > 1)
                    .map(|all| std::rc::Rc::new(sim_core::replicate::Aggregate::of(&all))),
                progress: None,
                ms: None,
            },
        )
    };
    let go_on = {
        let runner = runner.clone();
        Callback::from(move |()| runner.borrow_mut().go_on())
    };
    let cursor_t = use_state(|| None::<f64>);
    {
        let dark = state.dark;
        use_effect_with(dark, move |dark| super::set_theme(*dark));
    }
    {
        // After every render: the content may have grown (a run's charts, a message).
        let last = use_mut_ref(|| 0);
        {
            let last = last.clone();
            use_effect(move || report_height(&mut last.borrow_mut()));
        }
        // And when the host resizes the iframe's width, which re-flows the content: one
        // listener for the life of the page.
        use_effect_with((), move |_| {
            let on_resize =
                Closure::<dyn FnMut()>::new(move || report_height(&mut last.borrow_mut()));
            if let Some(window) = web_sys::window() {
                let _ = window
                    .add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
            }
            on_resize.forget();
        });
    }

    let on_cursor = {
        let cursor_t = cursor_t.clone();
        Callback::from(move |t: Option<f64>| cursor_t.set(t))
    };
    let knobs: Vec<Knob> = config
        .knobs
        .iter()
        .filter_map(|path| embed::resolve_knob(&state.doc, path))
        .collect();
    let sliders = knobs.iter().filter_map(|knob| {
        let value = knob_value(state, knob)?;
        let (lo, hi, step) = knob_range(state, knob, value);
        let oninput = {
            let store = store.clone();
            let owner = knob.owner.clone();
            let path = knob.field_path.clone();
            Callback::from(move |e: InputEvent| {
                if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                    store.dispatch(Action::SetField {
                        owner: owner.clone(),
                        path: path.clone(),
                        raw: input.value(),
                    });
                }
            })
        };
        let unit = knob.field.unit;
        Some(html! {
            <label class="embed-knob">
                <span class="embed-knob-label">{ knob.label.clone() }</span>
                <input type="range" data-knob={knob.path.clone()} min={lo.to_string()} max={hi.to_string()}
                    step={step.to_string()} value={value.to_string()} {oninput} />
                <output>{ crate::format::with_unit(value, unit) }</output>
            </label>
        })
    });
    // The reader's version (sliders moved): the last valid one if a value is out of range.
    let playground =
        link::share_url(&href, state).unwrap_or_else(|| link::page_base(&href).to_string());
    super::use_links_ready();
    let playing = state.playing;
    let toggle = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::TogglePlay))
    };
    let reset = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::Reset))
    };
    let replay = {
        let store = store.clone();
        Callback::from(move |_| {
            store.dispatch(Action::Reset);
            store.dispatch(Action::Play);
        })
    };
    html! {
        <div class="embed" data-embed="">
            <header class="embed-head">
                <h1 class="embed-title" data-testid="title">{ state.scenario.name.clone() }</h1>
                <a id="open-playground" href={playground} target="_blank" rel="noopener">
                    { "Open in playground ↗" }
                </a>
            </header>
            if let Some(notice) = &state.notice {
                <p class="notice" data-testid="notice" role="alert">{ notice.clone() }</p>
            }
            // The sliders above the banner: the banner's text changes length as a run ends,
            // and nothing may move under the reader's pointer while they drag.
            if !knobs.is_empty() {
                <div class="embed-knobs">{ for sliders }</div>
            }
            <VerdictBanner view={view.clone()} problems={state.problems.len()} on_go_on={go_on}
                seeds={(*seeds_line).clone()} />
            if let Some(baseline) = &state.baseline {
                <p class="embed-baseline" data-testid="baseline-line">
                    { format!("Dashed: the baseline \u{201c}{}\u{201d}.", baseline.scenario.name) }
                </p>
            }
            <div class="embed-controls">
                if view.finished {
                    <button id="play" class="primary" data-finished="true" onclick={replay}>{ "↻ Replay" }</button>
                } else {
                    <button id="play" class="primary" aria-pressed={playing.to_string()} onclick={toggle}>
                        { if playing { "❚❚ Pause" } else { "▶ Play" } }
                    </button>
                }
                <button id="reset" onclick={reset}>{ "Reset" }</button>
                { time_status(&view) }
            </div>
            <Charts scenario={state.scenario.clone()} runner={runner} view={view}
                dark={state.dark} cursor_t={*cursor_t} {on_cursor}
                on_plot_area={Callback::from(|_: PlotArea| ())} pick={config.charts.clone()}
                replicas={Some(replicas)} seeds={seeds_view.for_charts()} />
        </div>
    }
}
