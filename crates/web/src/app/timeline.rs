//! Triggers on the time axis, aligned with the charts' plot area: drag a bar to move a
//! trigger, drag its right edge to resize it, click it to edit it in the inspector. By
//! keyboard: arrows move it by 1 s (Shift: 10 s), `+`/`-` resize it, Delete removes it.

use super::runner::RunView;
use super::Store;
use crate::charts::PlotArea;
use crate::fields;
use crate::state::{Action, Selection};
use serde_json::Value;
use sim_core::TriggerKind;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlSelectElement, PointerEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub state: UseReducerHandle<Store>,
    pub area: PlotArea,
    pub view: RunView,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Drag {
    None,
    /// Moving a trigger; `grab_s` is where in it the pointer took hold.
    Move {
        index: usize,
        grab_s: f64,
    },
    Resize {
        index: usize,
    },
}

fn describe(trigger: &Value) -> String {
    let kind = trigger.get("kind").and_then(Value::as_str).unwrap_or("?");
    let target = trigger.get("target").and_then(Value::as_str).unwrap_or("?");
    let extra = match TriggerKind::parse(kind) {
        Some(TriggerKind::LoadSpike | TriggerKind::Latency) => trigger
            .get("factor")
            .and_then(Value::as_f64)
            .map(|f| format!(" ×{}", crate::format::num(f))),
        Some(TriggerKind::LoadSteps) => trigger
            .get("factors")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(Value::as_f64).collect::<Vec<f64>>())
            .map(|f| format!(" {}", crate::format::factor_span(&f))),
        Some(TriggerKind::Capacity) => trigger
            .get("workers")
            .and_then(Value::as_f64)
            .map(|w| format!(" → {w} workers")),
        Some(TriggerKind::Errors) => trigger
            .get("rate")
            .and_then(Value::as_f64)
            .map(|r| format!(" {:.0}%", 100.0 * r)),
        Some(TriggerKind::Outage | TriggerKind::Partition | TriggerKind::CacheFlush) | None => None,
    }
    .unwrap_or_default();
    format!("{} {target}{extra}", kind.replace('_', " "))
}

#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let store = props.state.clone();
    let state = &store.0;
    let duration = state.scenario.duration_s.max(1e-9);
    let container = use_node_ref();
    let drag = use_state(|| Drag::None);
    let new_kind = use_state(|| "load_spike".to_string());
    // Before the first chart reports its plot area, assume typical margins.
    let area = if props.area.right > props.area.left {
        props.area
    } else {
        PlotArea {
            left: 60,
            right: 600,
            top: 0,
            bottom: 0,
            t_max: duration,
        }
    };
    let (left, right) = (f64::from(area.left), f64::from(area.right));
    let px_per_s = (right - left) / duration;

    let time_at = {
        let container = container.clone();
        move |e: &PointerEvent| -> f64 {
            let offset = container
                .cast::<Element>()
                .map_or(0.0, |el| el.get_bounding_client_rect().left());
            ((f64::from(e.client_x()) - offset - left) / px_per_s).clamp(0.0, duration)
        }
    };
    let on_move = {
        let drag = drag.clone();
        let store = store.clone();
        let time_at = time_at.clone();
        Callback::from(move |e: PointerEvent| {
            let t = time_at(&e);
            let triggers = store.0.triggers();
            match *drag {
                Drag::Move { index, grab_s } => {
                    let for_s = triggers.get(index).and_then(fields::trigger_length_s);
                    let at_s = (t - grab_s).clamp(0.0, (duration - for_s.unwrap_or(0.0)).max(0.0));
                    store.dispatch(Action::MoveTrigger {
                        index,
                        at_s,
                        for_s: None,
                    });
                }
                Drag::Resize { index } => {
                    let at_s = triggers
                        .get(index)
                        .and_then(|tr| tr.get("at_s"))
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    store.dispatch(Action::MoveTrigger {
                        index,
                        at_s,
                        for_s: Some((t - at_s).max(0.1)),
                    });
                }
                Drag::None => {}
            }
        })
    };
    let on_up = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| drag.set(Drag::None))
    };

    let bars = state.triggers().iter().enumerate().map(|(index, trigger)| {
        let at_s = trigger.get("at_s").and_then(Value::as_f64).unwrap_or(0.0);
        let for_s = fields::trigger_length_s(trigger);
        let x = left + at_s.clamp(0.0, duration) * px_per_s;
        let w = for_s.map_or(4.0, |d| (d * px_per_s).max(4.0));
        let selected = state.selection == Selection::Trigger(index);
        let label = describe(trigger);
        let on_down = {
            let drag = drag.clone();
            let store = store.clone();
            let time_at = time_at.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                store.dispatch(Action::Select(Selection::Trigger(index)));
                drag.set(Drag::Move { index, grab_s: time_at(&e) - at_s });
            })
        };
        let on_resize = {
            let drag = drag.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                drag.set(Drag::Resize { index });
            })
        };
        let onkeydown = {
            let store = store.clone();
            Callback::from(move |e: KeyboardEvent| {
                let step = if e.shift_key() { 10.0 } else { 1.0 };
                let action = match e.key().as_str() {
                    "ArrowLeft" => Some(Action::MoveTrigger { index, at_s: at_s - step, for_s: None }),
                    "ArrowRight" => Some(Action::MoveTrigger { index, at_s: at_s + step, for_s: None }),
                    "+" | "=" => for_s.map(|d| Action::MoveTrigger { index, at_s, for_s: Some(d + step) }),
                    "-" => for_s.map(|d| Action::MoveTrigger { index, at_s, for_s: Some(d - step) }),
                    "Enter" | " " => Some(Action::Select(Selection::Trigger(index))),
                    "Delete" | "Backspace" => Some(Action::DeleteTrigger(index)),
                    _ => None,
                };
                if let Some(action) = action {
                    e.prevent_default();
                    store.dispatch(action);
                }
            })
        };
        let title = match for_s {
            Some(d) => format!(
                "{label}: from {} for {}",
                crate::format::seconds(at_s),
                crate::format::seconds(d)
            ),
            None => format!("{label}: at {}", crate::format::seconds(at_s)),
        };
        // A label wider than its bar goes beside it (a tooltip has it too).
        let outside = (label.chars().count() as f64) * 7.0 + 10.0 > w;
        html! {
            <div class="lane">
                <div class={classes!("trigger-bar", selected.then_some("selected"), for_s.is_none().then_some("instant"))}
                    style={format!("left:{x:.1}px;width:{w:.1}px")} data-trigger={index.to_string()}
                    tabindex="0" role="slider" aria-label={title.clone()} title={title}
                    aria-valuemin="0" aria-valuemax={duration.to_string()} aria-valuenow={at_s.to_string()}
                    onpointerdown={on_down} {onkeydown}>
                    <span class={classes!("trigger-label", outside.then_some("outside"))}>{ label }</span>
                    if for_s.is_some() {
                        <span class="trigger-resize" data-resize={index.to_string()} onpointerdown={on_resize}
                            aria-hidden="true"></span>
                    }
                </div>
            </div>
        }
    });

    let on_kind = {
        let new_kind = new_kind.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                new_kind.set(select.value());
            }
        })
    };
    let on_add = {
        let store = store.clone();
        let new_kind = new_kind.clone();
        Callback::from(move |_| store.dispatch(Action::AddTrigger((*new_kind).clone())))
    };
    // The run's progress, as a thin marker on the same axis.
    let progress_x = left + props.view.t_s.clamp(0.0, duration) * px_per_s;

    html! {
        <section class="timeline" aria-label="Triggers on the time axis">
            <div class="timeline-head">
                <h3>{ "Triggers" }</h3>
                <label class="inline">
                    <span class="visually-hidden">{ "Trigger kind" }</span>
                    <select id="trigger-new-kind" onchange={on_kind}>
                        { for fields::trigger_kinds().map(|k| html! {
                            <option value={k} selected={*k == *new_kind}>{ k.replace('_', " ") }</option>
                        }) }
                    </select>
                </label>
                <button id="add-trigger" onclick={on_add}>{ "+ Add trigger" }</button>
            </div>
            <div class="lanes" ref={container} onpointermove={on_move} onpointerup={on_up.clone()} onpointerleave={on_up}>
                { for bars }
                if state.triggers().is_empty() {
                    <p class="hint lane-empty">{ "No triggers: the run shows the system's steady state." }</p>
                }
                <div class="progress-marker" style={format!("left:{progress_x:.1}px")} aria-hidden="true"></div>
            </div>
        </section>
    }
}
