//! The block editor: an SVG canvas of blocks and links.
//!
//! Drag a block to move it; drag from a block's output port (the dot on its right edge) onto
//! another block to connect them; click a block or a link to select it; Delete removes the
//! selection. By keyboard: Tab to a block, arrows move it, Enter selects it, Delete removes
//! it; connections are also made in the inspector's "Calls" field.

use super::Store;
use crate::fields::{self, BLOCK_KINDS};
use crate::layout::{self, BLOCK_H, BLOCK_W};
use crate::state::{block_id, block_kind, Action, Selection};
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{Element, PointerEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub state: UseReducerHandle<Store>,
}

/// What a pointer gesture is doing.
#[derive(Clone, Debug, PartialEq)]
enum Drag {
    None,
    /// Moving a block; the offset of the pointer inside it.
    Move {
        id: String,
        dx: f64,
        dy: f64,
    },
    /// Drawing a link from a block's output to the pointer.
    Link {
        from: String,
        x: f64,
        y: f64,
    },
}

/// Pointer position in the SVG's own coordinates.
fn svg_point(e: &PointerEvent, svg: &NodeRef, view: (f64, f64, f64, f64)) -> (f64, f64) {
    let (x0, y0, width, height) = view;
    let Some(el) = svg.cast::<Element>() else {
        return (0.0, 0.0);
    };
    let rect = el.get_bounding_client_rect();
    let sx = if rect.width() > 0.0 {
        width / rect.width()
    } else {
        1.0
    };
    let sy = if rect.height() > 0.0 {
        height / rect.height()
    } else {
        1.0
    };
    (
        x0 + (f64::from(e.client_x()) - rect.left()) * sx,
        y0 + (f64::from(e.client_y()) - rect.top()) * sy,
    )
}

/// The block whose box contains a point.
fn block_at(blocks: &[Value], x: f64, y: f64) -> Option<String> {
    blocks.iter().rev().find_map(|b| {
        let (bx, by) = layout::position(b)?;
        (x >= bx && x <= bx + BLOCK_W && y >= by && y <= by + BLOCK_H)
            .then(|| block_id(b).to_string())
    })
}

/// A one-line summary of a block's main parameters.
fn summary(block: &Value) -> String {
    let num = |path: &str| {
        block
            .pointer(path)
            .and_then(Value::as_f64)
            .map(|v| format!("{v}"))
    };
    match block_kind(block) {
        "client" => match block.get("mode").and_then(Value::as_str) {
            Some("closed") => format!("{} users", num("/users").unwrap_or_default()),
            _ => format!("{}/s", num("/rate").unwrap_or_else(|| "?".into())),
        },
        "retry" => format!("× {} attempts", num("/max_attempts").unwrap_or_default()),
        "cache" => format!("{} entries", num("/capacity").unwrap_or_default()),
        "balancer" => block
            .get("policy")
            .and_then(Value::as_str)
            .unwrap_or("round_robin")
            .replace('_', " "),
        "breaker" => format!(
            "opens at {}",
            num("/failure_threshold").unwrap_or_else(|| "0.5".into())
        ),
        "server" => format!(
            "{} workers · {} s",
            num("/workers").unwrap_or_default(),
            num("/service/mean_s").unwrap_or_default()
        ),
        _ => String::new(),
    }
}

#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let store = props.state.clone();
    let state = &store.0;
    let svg_ref = use_node_ref();
    let drag = use_state(|| Drag::None);
    let view = layout::view_box(&state.doc);
    let (x0, y0, width, height) = view;
    let blocks: Vec<Value> = state.blocks().to_vec();

    let on_pointer_move = {
        let drag = drag.clone();
        let store = store.clone();
        let svg_ref = svg_ref.clone();
        Callback::from(move |e: PointerEvent| {
            let (x, y) = svg_point(&e, &svg_ref, view);
            match &*drag {
                Drag::Move { id, dx, dy } => store.dispatch(Action::MoveBlock {
                    id: id.clone(),
                    x: (x - dx).max(0.0),
                    y: (y - dy).max(0.0),
                }),
                Drag::Link { from, .. } => drag.set(Drag::Link {
                    from: from.clone(),
                    x,
                    y,
                }),
                Drag::None => {}
            }
        })
    };
    let on_pointer_up = {
        let drag = drag.clone();
        let store = store.clone();
        let svg_ref = svg_ref.clone();
        let blocks = blocks.clone();
        Callback::from(move |e: PointerEvent| {
            if let Drag::Link { from, .. } = &*drag {
                let (x, y) = svg_point(&e, &svg_ref, view);
                if let Some(to) = block_at(&blocks, x, y) {
                    if to != *from {
                        store.dispatch(Action::Connect {
                            from: from.clone(),
                            to,
                        });
                    }
                }
            }
            drag.set(Drag::None);
        })
    };
    let on_background = {
        let store = store.clone();
        Callback::from(move |e: PointerEvent| {
            // Only a press on the empty canvas, not one that bubbled up from a block.
            let on_canvas = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .is_some_and(|el| el.class_list().contains("editor-bg"));
            if on_canvas {
                store.dispatch(Action::Select(Selection::Scenario));
            }
        })
    };

    let selected_block = match &state.selection {
        Selection::Block(id) => Some(id.clone()),
        _ => None,
    };
    let selected_link = match &state.selection {
        Selection::Link { from, to } => Some((from.clone(), to.clone())),
        _ => None,
    };

    // Links first, so blocks draw over their ends.
    let mut links = Vec::new();
    for block in &blocks {
        let from = block_id(block).to_string();
        let Some((fx, fy)) = layout::position(block) else {
            continue;
        };
        for to in layout::targets(block) {
            let Some((tx, ty)) = blocks
                .iter()
                .find(|b| block_id(b) == to)
                .and_then(layout::position)
            else {
                continue;
            };
            let (x1, y1) = (fx + BLOCK_W, fy + BLOCK_H / 2.0);
            let (x2, y2) = (tx, ty + BLOCK_H / 2.0);
            let bend = ((x2 - x1).abs() / 2.0).max(40.0);
            let d = format!(
                "M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}",
                x1 + bend,
                x2 - bend
            );
            let selected = selected_link.as_ref() == Some(&(from.clone(), to.clone()));
            let select = {
                let store = store.clone();
                let (from, to) = (from.clone(), to.clone());
                Callback::from(move |e: PointerEvent| {
                    e.stop_propagation();
                    store.dispatch(Action::Select(Selection::Link {
                        from: from.clone(),
                        to: to.clone(),
                    }))
                })
            };
            let onkeydown = {
                let store = store.clone();
                let (from, to) = (from.clone(), to.clone());
                Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
                    "Enter" | " " => {
                        e.prevent_default();
                        store.dispatch(Action::Select(Selection::Link {
                            from: from.clone(),
                            to: to.clone(),
                        }))
                    }
                    "Delete" | "Backspace" => {
                        e.prevent_default();
                        store.dispatch(Action::Disconnect {
                            from: from.clone(),
                            to: to.clone(),
                        })
                    }
                    _ => {}
                })
            };
            links.push(html! {
                <g class={classes!("link", selected.then_some("selected"))}
                   data-link={format!("{from}->{to}")} tabindex="0" role="button"
                   aria-label={format!("link from {from} to {to}")}
                   onpointerdown={select} {onkeydown}>
                    <path class="link-hit" d={d.clone()} />
                    <path class="link-line" d={d} marker-end="url(#arrow)" />
                </g>
            });
        }
    }

    let nodes = blocks.iter().map(|block| {
        let id = block_id(block).to_string();
        let kind = block_kind(block).to_string();
        let (x, y) = layout::position(block).unwrap_or((0.0, 0.0));
        let selected = selected_block.as_deref() == Some(id.as_str());
        let has_problem = !state
            .problems_of(&crate::state::Owner::Block(id.clone()))
            .is_empty();
        let (has_output, _) = fields::outputs(&kind);
        let on_down = {
            let store = store.clone();
            let drag = drag.clone();
            let svg_ref = svg_ref.clone();
            let id = id.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                let (px, py) = svg_point(&e, &svg_ref, view);
                store.dispatch(Action::Select(Selection::Block(id.clone())));
                drag.set(Drag::Move { id: id.clone(), dx: px - x, dy: py - y });
            })
        };
        let on_port = {
            let drag = drag.clone();
            let id = id.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                drag.set(Drag::Link { from: id.clone(), x: x + BLOCK_W, y: y + BLOCK_H / 2.0 });
            })
        };
        let onkeydown = {
            let store = store.clone();
            let id = id.clone();
            Callback::from(move |e: KeyboardEvent| {
                let step = if e.shift_key() { 50.0 } else { 10.0 };
                let moved = match e.key().as_str() {
                    "ArrowLeft" => Some((x - step, y)),
                    "ArrowRight" => Some((x + step, y)),
                    "ArrowUp" => Some((x, y - step)),
                    "ArrowDown" => Some((x, y + step)),
                    _ => None,
                };
                if let Some((nx, ny)) = moved {
                    e.prevent_default();
                    store.dispatch(Action::MoveBlock { id: id.clone(), x: nx.max(0.0), y: ny.max(0.0) });
                    return;
                }
                match e.key().as_str() {
                    "Enter" | " " => {
                        e.prevent_default();
                        store.dispatch(Action::Select(Selection::Block(id.clone())));
                    }
                    "Delete" | "Backspace" => {
                        e.prevent_default();
                        store.dispatch(Action::DeleteBlock(id.clone()));
                    }
                    _ => {}
                }
            })
        };
        html! {
            <g class={classes!("block", format!("kind-{kind}"), selected.then_some("selected"), has_problem.then_some("invalid"))}
               transform={format!("translate({x},{y})")} data-block={id.clone()} data-kind={kind.clone()}
               tabindex="0" role="button" aria-pressed={selected.to_string()}
               aria-label={format!("{kind} {id} {}", summary(block))}
               onpointerdown={on_down} {onkeydown}>
                <rect class="block-box" width={BLOCK_W.to_string()} height={BLOCK_H.to_string()} rx="8" />
                <text class="block-kind" x="10" y="17">{ kind.clone() }</text>
                <text class="block-id" x="10" y="35">{ id.clone() }</text>
                <text class="block-summary" x="10" y="51">{ summary(block) }</text>
                <circle class="port port-in" cx="0" cy={(BLOCK_H / 2.0).to_string()} r="5" data-port="in" />
                if has_output {
                    <circle class="port port-out" cx={BLOCK_W.to_string()} cy={(BLOCK_H / 2.0).to_string()} r="8"
                        data-port="out" data-block-port={id.clone()} onpointerdown={on_port} aria-hidden="true">
                        <title>{ "Drag onto another block to connect" }</title>
                    </circle>
                }
            </g>
        }
    }).collect::<Vec<Html>>();

    let pending = match &*drag {
        Drag::Link { from, x, y } => blocks
            .iter()
            .find(|b| block_id(b) == from)
            .and_then(layout::position)
            .map(|(fx, fy)| {
                html! {
                    <line class="link-pending" x1={(fx + BLOCK_W).to_string()} y1={(fy + BLOCK_H / 2.0).to_string()}
                        x2={x.to_string()} y2={y.to_string()} />
                }
            }),
        _ => None,
    };

    let palette = BLOCK_KINDS.iter().map(|kind| {
        let store = store.clone();
        let onclick = Callback::from(move |_| store.dispatch(Action::AddBlock(kind.to_string())));
        html! {
            <button class={classes!("add-block", format!("kind-{kind}"))} data-add={*kind}
                title={format!("Add a {kind} (it connects from the selected block's free output)")}
                {onclick}>{ format!("+ {kind}") }</button>
        }
    });

    html! {
        <section class="editor" aria-label="Block editor">
            <div class="palette" role="toolbar" aria-label="Add blocks">{ for palette }</div>
            <div class="editor-scroll">
                <svg ref={svg_ref} id="editor" class="editor-canvas"
                    viewBox={format!("{x0} {y0} {width} {height}")}
                    width={width.to_string()} height={height.to_string()}
                    onpointermove={on_pointer_move} onpointerup={on_pointer_up.clone()}
                    onpointerleave={on_pointer_up} onpointerdown={on_background}>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    <rect class="editor-bg" x={x0.to_string()} y={y0.to_string()} width={width.to_string()} height={height.to_string()} />
                    { for links }
                    { for nodes }
                    { for pending }
                </svg>
            </div>
        </section>
    }
}
