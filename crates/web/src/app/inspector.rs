//! The inspector: every parameter of the selected block, trigger or link, or of the scenario,
//! with labels, units, ranges and the validator's messages inline.

use super::Store;
use crate::fields::{self, Field, Input};
use crate::state::{block_id, block_kind, Action, Owner, Selection};
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub state: UseReducerHandle<Store>,
    pub dispatch: Callback<Action>,
}

/// The kind a field's owner has, for [`fields::slider_range`].
fn kind_of<'a>(owner: &Owner, item: &'a Value) -> &'a str {
    match owner {
        Owner::Block(_) => block_kind(item),
        Owner::Trigger(_) => "trigger",
        Owner::Scenario => "scenario",
    }
}

fn input_value(e: &Event) -> Option<String> {
    let target = e.target()?;
    if let Ok(input) = target.clone().dyn_into::<HtmlInputElement>() {
        if input.type_() == "checkbox" {
            return Some(input.checked().to_string());
        }
        return Some(input.value());
    }
    target
        .dyn_into::<HtmlSelectElement>()
        .ok()
        .map(|s| s.value())
}

/// One field: its label, input (and slider), unit, help and messages.
fn field_row(
    field: &Field,
    help: &'static str,
    item: &Value,
    owner: &Owner,
    state: &crate::state::AppState,
    dispatch: &Callback<Action>,
) -> Html {
    let dom_id = format!(
        "f-{}-{}",
        match owner {
            Owner::Scenario => "scenario".to_string(),
            Owner::Block(id) => format!("b-{id}"),
            Owner::Trigger(i) => format!("t{i}"),
        },
        field.path.replace('.', "-")
    );
    let problems = state.field_problems(owner, field.path);
    let invalid = !problems.is_empty();
    let text = field.text(item);
    let edit = {
        let dispatch = dispatch.clone();
        let owner = owner.clone();
        let field = *field;
        move |typed: String| {
            dispatch.emit(Action::SetField {
                owner: owner.clone(),
                path: field.path.to_string(),
                raw: field.raw_value(&typed),
            })
        }
    };
    let on_input = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let e: Event = e.into();
            if let Some(v) = input_value(&e) {
                edit(v)
            }
        })
    };
    let on_change = {
        let edit = edit.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = input_value(&e) {
                edit(v)
            }
        })
    };
    let block_ids: Vec<String> = state
        .blocks()
        .iter()
        .filter(|b| fields::receives_calls(block_kind(b)))
        .map(|b| block_id(b).to_string())
        .filter(|id| !matches!(owner, Owner::Block(own) if own == id))
        .collect();
    let check = {
        let field = *field;
        Callback::from(move |typed: String| field.check(&typed).err())
    };
    let commit = {
        let edit = edit.clone();
        Callback::from(move |typed: String| edit(typed))
    };
    let end_gesture = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.emit(Action::EndGesture))
    };
    // Text and number fields show the validator's messages themselves, beside their own.
    let drafted = matches!(
        field.input,
        Input::Number { .. } | Input::Integer { .. } | Input::Numbers { .. } | Input::Text
    );
    let draft_problems: Vec<AttrValue> = if drafted {
        problems
            .iter()
            .map(|p| AttrValue::from(p.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let widget = match field.input {
        Input::Number { .. } | Input::Integer { .. } => {
            let step = match field.input {
                Input::Number { step, .. } => step,
                _ => 1.0,
            };
            // The slider is always there for the fields people sweep by hand; a value outside
            // its soft range pins it to the end.
            let slider = fields::slider_range(
                kind_of(owner, item),
                field.path,
                state.scenario.duration_s,
            )
            .map(|(lo, hi, st)| {
                let value = fields::parse_number(&text).unwrap_or(lo).clamp(lo, hi);
                let onpointerup = end_gesture.reform(|_: PointerEvent| ());
                html! {
                    <input type="range" class="slider" min={lo.to_string()} max={hi.to_string()}
                        step={st.to_string()} value={value.to_string()} oninput={on_input.clone()}
                        {onpointerup}
                        aria-label={format!("{} slider", field.label)} tabindex="-1" />
                }
            });
            html! {
                <div class="number-row">
                    <super::draft::DraftInput key={dom_id.clone()} id={dom_id.clone()} value={text.clone()}
                        on_commit={commit} check={Some(check)} step={Some(step)} problems={draft_problems.clone()}
                        data_field={Some(AttrValue::from(field.path))} invalid={invalid}
                        describedby={Some(AttrValue::from(format!("{dom_id}-help")))}
                        on_blur={end_gesture.clone()} />
                    if !field.unit.is_empty() { <span class="unit">{ field.unit }</span> }
                    { for slider }
                </div>
            }
        }
        Input::Choice(options) => html! {
            <select id={dom_id.clone()} data-field={field.path} onchange={on_change.clone()}
                aria-invalid={invalid.to_string()}>
                { for options.iter().map(|o| html! {
                    <option value={*o} selected={*o == text}>{ o.replace('_', " ") }</option>
                }) }
            </select>
        },
        Input::Flag | Input::Group { .. } => {
            let checked = match field.input {
                Input::Group { .. } => item.get(field.path).is_some_and(|v| !v.is_null()),
                _ => text == "true",
            };
            html! {
                <input id={dom_id.clone()} type="checkbox" checked={checked} data-field={field.path}
                    onchange={on_change.clone()} />
            }
        }
        Input::Target { optional } => html! {
            <select id={dom_id.clone()} data-field={field.path} onchange={on_change.clone()}
                aria-invalid={invalid.to_string()}>
                if optional {
                    <option value="" selected={text.is_empty()}>{ "(none)" }</option>
                } else if text.is_empty() || !block_ids.contains(&text) {
                    <option value={text.clone()} selected=true>{ if text.is_empty() { "— choose —".to_string() } else { text.clone() } }</option>
                }
                { for block_ids.iter().map(|id| html! {
                    <option value={id.clone()} selected={*id == text}>{ id }</option>
                }) }
            </select>
        },
        Input::Targets => {
            let current: Vec<String> = crate::layout::targets(item);
            html! {
                <fieldset id={dom_id.clone()} class="targets" data-field={field.path}>
                    { for block_ids.iter().map(|id| {
                        let checked = current.contains(id);
                        let dispatch = dispatch.clone();
                        let owner_id = match owner { Owner::Block(b) => b.clone(), _ => String::new() };
                        let target = id.clone();
                        let onchange = Callback::from(move |e: Event| {
                            let on = input_value(&e).as_deref() == Some("true");
                            dispatch.emit(if on {
                                Action::Connect { from: owner_id.clone(), to: target.clone() }
                            } else {
                                Action::Disconnect { from: owner_id.clone(), to: target.clone() }
                            })
                        });
                        html! {
                            <label class="check"><input type="checkbox" checked={checked} {onchange} />{ id }</label>
                        }
                    }) }
                </fieldset>
            }
        }
        // A list of numbers is typed as text, separated by commas ("1, 1.1, 1.2").
        Input::Numbers { .. } => html! {
            <div class="number-row">
                <super::draft::DraftInput key={dom_id.clone()} id={dom_id.clone()} value={text.clone()}
                    on_commit={commit} check={Some(check)} problems={draft_problems.clone()}
                    data_field={Some(AttrValue::from(field.path))} invalid={invalid}
                    describedby={Some(AttrValue::from(format!("{dom_id}-help")))}
                    on_blur={end_gesture.clone()} />
                if !field.unit.is_empty() { <span class="unit">{ field.unit }</span> }
            </div>
        },
        Input::Text => html! {
            <super::draft::DraftInput key={dom_id.clone()} id={dom_id.clone()} value={text.clone()}
                on_commit={commit} data_field={Some(AttrValue::from(field.path))} invalid={invalid}
                problems={draft_problems.clone()}
                on_blur={end_gesture.clone()} />
        },
    };
    html! {
        <div class={classes!("field", invalid.then_some("has-error"))} data-field-row={field.path}>
            <label for={dom_id.clone()}>{ field.label }</label>
            { widget }
            <p class="help" id={format!("{dom_id}-help")}>{ help }</p>
            if !drafted {
                { for problems.iter().map(|m| html! {
                    <p class="field-error" role="alert">{ m.clone() }</p>
                }) }
            }
        </div>
    }
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let state = &props.state.0;
    let dispatch = &props.dispatch;
    let body = match &state.selection {
        Selection::Block(id) => match state.block(id) {
            Some(block) => block_panel(block, state, dispatch),
            None => scenario_panel(state, dispatch),
        },
        Selection::Trigger(index) => match state.triggers().get(*index) {
            Some(trigger) => trigger_panel(*index, trigger, state, dispatch),
            None => scenario_panel(state, dispatch),
        },
        Selection::Link { from, to } => {
            let remove = {
                let dispatch = dispatch.clone();
                let (from, to) = (from.clone(), to.clone());
                Callback::from(move |_| {
                    dispatch.emit(Action::Disconnect {
                        from: from.clone(),
                        to: to.clone(),
                    })
                })
            };
            html! {
                <>
                    <h2>{ "Link" }</h2>
                    <p>{ format!("{from} calls {to}.") }</p>
                    <button id="delete-selected" class="danger" onclick={remove}>{ "Remove link" }</button>
                </>
            }
        }
        Selection::Blocks(ids) => {
            let delete = {
                let dispatch = dispatch.clone();
                Callback::from(move |_| dispatch.emit(Action::DeleteSelected))
            };
            let duplicate = {
                let dispatch = dispatch.clone();
                Callback::from(move |_| dispatch.emit(Action::Duplicate))
            };
            html! {
                <>
                    <h2>{ format!("{} blocks selected", ids.len()) }</h2>
                    <p>{ ids.join(", ") }</p>
                    <p class="hint">{ "Drag one of them to move them together; Ctrl+C copies them, Ctrl+D duplicates them, Delete removes them. Shift+click a block to add it or take it out." }</p>
                    <button id="duplicate-selected" onclick={duplicate}>{ "Duplicate" }</button>
                    { " " }
                    <button id="delete-selected" class="danger" onclick={delete}>{ format!("Delete {} blocks", ids.len()) }</button>
                </>
            }
        }
        Selection::Scenario => scenario_panel(state, dispatch),
    };
    html! {
        <section id="inspector" class="inspector" aria-label="Inspector">
            { body }
        </section>
    }
}

fn block_panel(block: &Value, state: &crate::state::AppState, dispatch: &Callback<Action>) -> Html {
    let id = block_id(block).to_string();
    let kind = block_kind(block).to_string();
    let owner = Owner::Block(id.clone());
    let rename = {
        let dispatch = dispatch.clone();
        let id = id.clone();
        Callback::from(move |to: String| {
            dispatch.emit(Action::RenameBlock {
                from: id.clone(),
                to: to.trim().to_string(),
            })
        })
    };
    let check_id = {
        let others: Vec<String> = state
            .blocks()
            .iter()
            .map(|b| block_id(b).to_string())
            .filter(|other| *other != id)
            .collect();
        Callback::from(move |typed: String| crate::state::id_problem(typed.trim(), &others))
    };
    let delete = {
        let dispatch = dispatch.clone();
        let id = id.clone();
        Callback::from(move |_| dispatch.emit(Action::DeleteBlock(id.clone())))
    };
    let general: Vec<String> = state
        .problems_of(&owner)
        .iter()
        .filter(|p| p.field.is_empty() && state.last_edit.as_ref().is_none_or(|(o, _)| *o != owner))
        .map(|p| crate::fields::plain_field_message(p, &state.doc))
        .collect();
    html! {
        <>
            <h2>{ format!("{kind} ") }<code>{ id.clone() }</code></h2>
            <div class="field">
                <label for="block-id">{ "Id" }</label>
                <super::draft::DraftInput key={format!("block-id-{id}")} id="block-id" value={id.clone()}
                    on_commit={rename} check={Some(check_id)} refuse_invalid=true commit_on_pause={Some(false)} />
            </div>
            { for general.iter().map(|m| html! { <p class="field-error" role="alert">{ m.clone() }</p> }) }
            { for fields::block_fields(&kind).iter().filter(|f| f.applies(block)).map(|f| field_row(f, fields::block_help(&kind, f.path), block, &owner, state, dispatch)) }
            <button id="delete-selected" class="danger" onclick={delete}>{ format!("Delete {id}") }</button>
        </>
    }
}

fn trigger_panel(
    index: usize,
    trigger: &Value,
    state: &crate::state::AppState,
    dispatch: &Callback<Action>,
) -> Html {
    let kind = trigger
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let owner = Owner::Trigger(index);
    let set_kind = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            if let Some(kind) = input_value(&e) {
                dispatch.emit(Action::SetTriggerKind { index, kind })
            }
        })
    };
    let delete = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::DeleteTrigger(index)))
    };
    let general: Vec<String> = state
        .problems_of(&owner)
        .iter()
        .filter(|p| p.field.is_empty())
        .map(|p| crate::fields::plain_field_message(p, &state.doc))
        .collect();
    html! {
        <>
            <h2>{ format!("Trigger {}", index + 1) }</h2>
            <div class="field">
                <label for="trigger-kind">{ "Kind" }</label>
                <select id="trigger-kind" onchange={set_kind}>
                    { for fields::trigger_kinds().map(|k| html! {
                        <option value={k} selected={k == kind}>{ k.replace('_', " ") }</option>
                    }) }
                </select>
            </div>
            { for general.iter().map(|m| html! { <p class="field-error" role="alert">{ m.clone() }</p> }) }
            { for fields::trigger_fields(&kind).iter().map(|f| field_row(f, fields::trigger_help(&kind, f.path), trigger, &owner, state, dispatch)) }
            <button id="delete-selected" class="danger" onclick={delete}>{ "Delete trigger" }</button>
        </>
    }
}

fn scenario_panel(state: &crate::state::AppState, dispatch: &Callback<Action>) -> Html {
    let owner = Owner::Scenario;
    let others: Vec<String> = state
        .problems
        .iter()
        .map(|p| crate::fields::plain_problem(p, &state.doc))
        .collect();
    html! {
        <>
            <h2>{ "Scenario" }</h2>
            { for fields::scenario_fields().iter().map(|f| field_row(f, fields::scenario_help(f.path), &state.doc, &owner, state, dispatch)) }
            <p class="hint">{ "Select a block, a link or a trigger to edit it. New blocks attach to the selected block's free output; drag from a block's output dot onto another block to connect them." }</p>
            if !others.is_empty() {
                <div class="problems" data-testid="problems">
                    <h3>{ "Problems" }</h3>
                    <ul>{ for others.iter().map(|p| html! { <li>{ p.clone() }</li> }) }</ul>
                </div>
            }
        </>
    }
}
