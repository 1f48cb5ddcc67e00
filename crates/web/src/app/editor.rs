//! The block editor: an SVG canvas of blocks and links, with a camera.
//!
//! Drag a block to move it (with the other selected blocks); shift+click adds a block to the
//! selection or takes it out; shift+drag on the background draws a selection box; a plain
//! drag on the background pans; the wheel (or a pinch) zooms around the pointer; "Fit" shows
//! every block again (as the canvas does on load and after a block is added). Drag from a
//! block's output port (the dot on its right edge) onto another block to connect them; click
//! a link to select it (a block added then goes into the link). By keyboard: Tab to a block,
//! arrows move it, Enter selects it, Delete removes it; connections are also made in the
//! inspector's "Calls" field. While a run goes, each block shows its live figure (a server's
//! queue and utilization, a cache's hit rate, …).

use super::Store;
use crate::fields;
use crate::layout::{self, BLOCK_H, BLOCK_W};
use crate::state::{block_id, block_kind, Action, Selection};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, PointerEvent};
use yew::prelude::*;

/// A view of the plane: `(x0, y0, width, height)`, the SVG's `viewBox`.
type ViewBox = (f64, f64, f64, f64);

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub state: UseReducerHandle<Store>,
    /// Each block's live figure while it runs ("queue 560 · 100%"), by id.
    #[prop_or_default]
    pub hints: Rc<crate::format::Hints>,
}

/// What a pointer gesture is doing.
#[derive(Clone, Debug, PartialEq)]
enum Drag {
    None,
    /// Moving blocks: the pointer's start on the plane and each block's start.
    Move {
        start: (f64, f64),
        blocks: Vec<(String, f64, f64)>,
    },
    /// Drawing a link from a block's output to the pointer.
    Link {
        from: String,
        x: f64,
        y: f64,
    },
    /// Panning: the pointer's start on screen and the view then.
    Pan {
        client: (f64, f64),
        view: ViewBox,
    },
    /// Drawing a selection box, from one corner to the pointer (plane coordinates).
    Box {
        from: (f64, f64),
        to: (f64, f64),
    },
    /// Two fingers: their distance and centre at the start, and the view then.
    Pinch {
        distance: f64,
        centre: (f64, f64),
        view: ViewBox,
    },
}

/// The SVG's scale (screen pixels per plane unit) and the screen point of the view's corner:
/// the view is fitted into the element keeping its aspect (`xMidYMid meet`).
fn screen_frame(svg: &NodeRef, view: ViewBox) -> Option<(f64, f64, f64)> {
    let (_, _, w, h) = view;
    let rect = svg.cast::<Element>()?.get_bounding_client_rect();
    if rect.width() <= 0.0 || rect.height() <= 0.0 || w <= 0.0 || h <= 0.0 {
        return None;
    }
    let scale = (rect.width() / w).min(rect.height() / h);
    let left = rect.left() + (rect.width() - w * scale) / 2.0;
    let top = rect.top() + (rect.height() - h * scale) / 2.0;
    Some((scale, left, top))
}

/// A screen point in the plane's coordinates.
fn plane_point(client_x: f64, client_y: f64, svg: &NodeRef, view: ViewBox) -> (f64, f64) {
    let (x0, y0, _, _) = view;
    match screen_frame(svg, view) {
        Some((scale, left, top)) => (
            x0 + (client_x - left) / scale,
            y0 + (client_y - top) / scale,
        ),
        None => (x0, y0),
    }
}

fn svg_point(e: &PointerEvent, svg: &NodeRef, view: ViewBox) -> (f64, f64) {
    plane_point(f64::from(e.client_x()), f64::from(e.client_y()), svg, view)
}

/// The block whose box contains a point.
fn block_at(blocks: &[Value], x: f64, y: f64) -> Option<String> {
    blocks.iter().rev().find_map(|b| {
        let (bx, by) = layout::position(b)?;
        (x >= bx && x <= bx + BLOCK_W && y >= by && y <= by + BLOCK_H)
            .then(|| block_id(b).to_string())
    })
}

/// Zooms the wheel's way around the pointer. A native listener, not Yew's: Yew's wheel
/// listeners are passive, and the page would scroll while the canvas zooms.
#[hook]
fn use_wheel_zoom(svg: &NodeRef, view: ViewBox, camera: UseStateSetter<Option<ViewBox>>) {
    let current = use_mut_ref(|| view);
    *current.borrow_mut() = view;
    let svg = svg.clone();
    use_effect_with((), move |_| {
        let element = svg.cast::<Element>();
        let listener = Closure::<dyn FnMut(web_sys::WheelEvent)>::new({
            let svg = svg.clone();
            move |e: web_sys::WheelEvent| {
                e.prevent_default();
                let view = *current.borrow();
                let (px, py) =
                    plane_point(f64::from(e.client_x()), f64::from(e.client_y()), &svg, view);
                // Lines (Firefox) and pages are much coarser than pixels.
                let delta = match e.delta_mode() {
                    1 => e.delta_y() * 16.0,
                    2 => e.delta_y() * 400.0,
                    _ => e.delta_y(),
                };
                let factor = (-delta * 0.002).exp();
                camera.set(Some(layout::zoom_box(view, factor, px, py)));
            }
        });
        if let Some(element) = &element {
            let options = web_sys::AddEventListenerOptions::new();
            options.set_passive(false);
            let _ = element.add_event_listener_with_callback_and_add_event_listener_options(
                "wheel",
                listener.as_ref().unchecked_ref(),
                &options,
            );
        }
        move || {
            if let Some(element) = element {
                let _ = element.remove_event_listener_with_callback(
                    "wheel",
                    listener.as_ref().unchecked_ref(),
                );
            }
            drop(listener);
        }
    });
}

/// The touch points down on the canvas, by pointer id: a few at most, so a list (a map would
/// add its own code to the page's wasm for nothing).
#[derive(Default)]
struct Touches(Vec<(i32, (f64, f64))>);

impl Touches {
    fn has(&self, id: i32) -> bool {
        self.0.iter().any(|(i, _)| *i == id)
    }

    fn set(&mut self, id: i32, point: (f64, f64)) {
        match self.0.iter_mut().find(|(i, _)| *i == id) {
            Some((_, p)) => *p = point,
            None => self.0.push((id, point)),
        }
    }

    fn remove(&mut self, id: i32) {
        self.0.retain(|(i, _)| *i != id);
    }

    fn points(&self) -> Vec<(f64, f64)> {
        self.0.iter().map(|(_, p)| *p).collect()
    }
}

#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let store = props.state.clone();
    let state = &store.0;
    let svg_ref = use_node_ref();
    let drag = use_state(|| Drag::None);
    let camera = use_state(|| None::<ViewBox>);
    // Touch points down on the canvas (for a pinch), by pointer id.
    let touches = use_mut_ref(Touches::default);
    let blocks: Vec<Value> = state.blocks().to_vec();
    {
        // On load and whenever a block is added or removed: show every block.
        let camera = camera.clone();
        use_effect_with((blocks.len(), state.nav), move |_| camera.set(None));
    }
    let view: ViewBox = (*camera).unwrap_or_else(|| layout::fit_box(&blocks));
    let (x0, y0, width, height) = view;
    use_wheel_zoom(&svg_ref, view, camera.setter());
    let selected_ids = state.selected_ids();

    let on_pointer_move = {
        let drag = drag.clone();
        let store = store.clone();
        let svg_ref = svg_ref.clone();
        let camera = camera.clone();
        let touches = touches.clone();
        Callback::from(move |e: PointerEvent| {
            let (x, y) = svg_point(&e, &svg_ref, view);
            if touches.borrow().has(e.pointer_id()) {
                touches.borrow_mut().set(
                    e.pointer_id(),
                    (f64::from(e.client_x()), f64::from(e.client_y())),
                );
            }
            match &*drag {
                Drag::Move { start, blocks } => {
                    let (dx, dy) = (x - start.0, y - start.1);
                    let moves: Vec<(String, f64, f64)> = blocks
                        .iter()
                        .map(|(id, bx, by)| (id.clone(), (bx + dx).max(0.0), (by + dy).max(0.0)))
                        .collect();
                    if let [(id, x, y)] = moves.as_slice() {
                        store.dispatch(Action::MoveBlock {
                            id: id.clone(),
                            x: *x,
                            y: *y,
                        });
                    } else {
                        store.dispatch(Action::MoveBlocks(moves));
                    }
                }
                Drag::Link { from, .. } => drag.set(Drag::Link {
                    from: from.clone(),
                    x,
                    y,
                }),
                Drag::Pan {
                    client,
                    view: start_view,
                } => {
                    if let Some((scale, _, _)) = screen_frame(&svg_ref, *start_view) {
                        let dx = (f64::from(e.client_x()) - client.0) / scale;
                        let dy = (f64::from(e.client_y()) - client.1) / scale;
                        let (sx, sy, w, h) = *start_view;
                        camera.set(Some((sx - dx, sy - dy, w, h)));
                    }
                }
                Drag::Box { from, .. } => drag.set(Drag::Box {
                    from: *from,
                    to: (x, y),
                }),
                Drag::Pinch {
                    distance,
                    centre,
                    view: start_view,
                } => {
                    let points = touches.borrow().points();
                    if let [a, b] = points.as_slice() {
                        let now = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                        if *distance > 0.0 {
                            camera.set(Some(layout::zoom_box(
                                *start_view,
                                now / distance,
                                centre.0,
                                centre.1,
                            )));
                        }
                    }
                }
                Drag::None => {}
            }
        })
    };
    let on_pointer_up = {
        let drag = drag.clone();
        let store = store.clone();
        let svg_ref = svg_ref.clone();
        let blocks = blocks.clone();
        let touches = touches.clone();
        Callback::from(move |e: PointerEvent| {
            touches.borrow_mut().remove(e.pointer_id());
            match &*drag {
                Drag::Link { from, .. } => {
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
                Drag::Box { from, to } => {
                    let (left, right) = (from.0.min(to.0), from.0.max(to.0));
                    let (top, bottom) = (from.1.min(to.1), from.1.max(to.1));
                    let inside: Vec<String> = blocks
                        .iter()
                        .filter(|b| {
                            layout::position(b).is_some_and(|(bx, by)| {
                                bx < right
                                    && bx + BLOCK_W > left
                                    && by < bottom
                                    && by + BLOCK_H > top
                            })
                        })
                        .map(|b| block_id(b).to_string())
                        .collect();
                    store.dispatch(Action::Select(Selection::Blocks(inside)));
                }
                Drag::Move { .. } => store.dispatch(Action::EndGesture),
                _ => {}
            }
            drag.set(Drag::None);
        })
    };
    let on_background = {
        let store = store.clone();
        let drag = drag.clone();
        let svg_ref = svg_ref.clone();
        let touches = touches.clone();
        Callback::from(move |e: PointerEvent| {
            if e.pointer_type() == "touch" {
                touches.borrow_mut().set(
                    e.pointer_id(),
                    (f64::from(e.client_x()), f64::from(e.client_y())),
                );
                let points = touches.borrow().points();
                if let [a, b] = points.as_slice() {
                    let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
                    drag.set(Drag::Pinch {
                        distance: ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt(),
                        centre: plane_point(mid.0, mid.1, &svg_ref, view),
                        view,
                    });
                    return;
                }
            }
            // Only a press on the empty canvas, not one that bubbled up from a block.
            let on_canvas = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                // The canvas's margins beside the view (the view keeps its aspect) count too.
                .is_some_and(|el| el.class_list().contains("editor-bg") || el.id() == "editor");
            if !on_canvas {
                return;
            }
            if e.shift_key() {
                let at = svg_point(&e, &svg_ref, view);
                drag.set(Drag::Box { from: at, to: at });
            } else {
                store.dispatch(Action::Select(Selection::Scenario));
                drag.set(Drag::Pan {
                    client: (f64::from(e.client_x()), f64::from(e.client_y())),
                    view,
                });
            }
        })
    };
    let zoom_by = |factor: f64| {
        let camera = camera.clone();
        Callback::from(move |_| {
            camera.set(Some(layout::zoom_box(
                view,
                factor,
                x0 + width / 2.0,
                y0 + height / 2.0,
            )))
        })
    };
    let on_fit = {
        let camera = camera.clone();
        Callback::from(move |_| camera.set(None))
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
        let selected = selected_ids.contains(&id);
        let has_problem = !state
            .problems_of(&crate::state::Owner::Block(id.clone()))
            .is_empty();
        let (has_output, _) = fields::outputs(&kind);
        let on_down = {
            let store = store.clone();
            let drag = drag.clone();
            let svg_ref = svg_ref.clone();
            let id = id.clone();
            let selected_ids = selected_ids.clone();
            let blocks = blocks.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                let start = svg_point(&e, &svg_ref, view);
                if e.shift_key() {
                    // Shift+click: in or out of the selection.
                    let mut ids = selected_ids.clone();
                    match ids.iter().position(|s| *s == id) {
                        Some(i) => {
                            ids.remove(i);
                        }
                        None => ids.push(id.clone()),
                    }
                    store.dispatch(Action::Select(Selection::Blocks(ids)));
                    return;
                }
                // A block of a multiple selection moves the whole selection.
                let moving: Vec<String> = if selected_ids.len() > 1 && selected_ids.contains(&id) {
                    selected_ids.clone()
                } else {
                    store.dispatch(Action::Select(Selection::Block(id.clone())));
                    vec![id.clone()]
                };
                let blocks: Vec<(String, f64, f64)> = blocks
                    .iter()
                    .filter(|b| moving.iter().any(|m| m == block_id(b)))
                    .filter_map(|b| layout::position(b).map(|(bx, by)| (block_id(b).to_string(), bx, by)))
                    .collect();
                drag.set(Drag::Move { start, blocks });
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
               style={format!("--kind: {}", fields::kind_colour(&kind))}
               transform={format!("translate({x},{y})")} data-block={id.clone()} data-kind={kind.clone()}
               tabindex="0" role="button" aria-pressed={selected.to_string()}
               aria-label={format!("{kind} {id} {} {}", fields::summary(block), props.hints.get(&id).unwrap_or("")).trim_end().to_string()}
               onpointerdown={on_down} {onkeydown}>
                <rect class="block-box" width={BLOCK_W.to_string()} height={BLOCK_H.to_string()} rx="8" />
                // One text of spaced words, in the order of the label, so what is seen is what a
                // screen reader says.
                <text class="block-text">
                    <tspan class="block-kind" x="10" y="17">{ kind.clone() }</tspan>{ " " }
                    <tspan class="block-id" x="10" y="35">{ id.clone() }</tspan>{ " " }
                    <tspan class="block-summary" x="10" y="51">{ fields::summary(block) }</tspan>
                    if let Some(hint) = props.hints.get(&id) {
                        { " " }<tspan class="block-hint" x={BLOCK_W.to_string()} y="-5" text-anchor="end">{ hint.to_string() }</tspan>
                    }
                </text>
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

    let selection_box = match &*drag {
        Drag::Box { from, to } => Some(html! {
            <rect class="selection-box" x={from.0.min(to.0).to_string()} y={from.1.min(to.1).to_string()}
                width={(from.0 - to.0).abs().to_string()} height={(from.1 - to.1).abs().to_string()} />
        }),
        _ => None,
    };
    let palette = fields::block_kinds().map(|kind| {
        let store = store.clone();
        let onclick = Callback::from(move |_| store.dispatch(Action::AddBlock(kind.to_string())));
        html! {
            <button class={classes!("add-block", format!("kind-{kind}"))} data-add={kind}
                style={format!("--kind: {}", fields::kind_colour(kind))}
                title={format!("Add a {kind} (it connects from the selected block's free output)")}
                {onclick}>{ format!("+ {kind}") }</button>
        }
    });

    html! {
        <section class="editor" aria-label="Block editor">
            <div class="palette" role="toolbar" aria-label="Add blocks">
                { for palette }
                <span class="zoom-buttons" role="group" aria-label="Zoom">
                    <button id="zoom-out" onclick={zoom_by(1.0 / 1.25)} title="Zoom out (or the wheel)" aria-label="Zoom out">{ "−" }</button>
                    <button id="zoom-in" onclick={zoom_by(1.25)} title="Zoom in (or the wheel)" aria-label="Zoom in">{ "+" }</button>
                    <button id="zoom-fit" onclick={on_fit} title="Show every block">{ "Fit" }</button>
                </span>
            </div>
            <div class="editor-scroll">
                <svg ref={svg_ref} id="editor" class="editor-canvas"
                    viewBox={format!("{x0} {y0} {width} {height}")}
                    data-view={format!("{x0:.1} {y0:.1} {width:.1} {height:.1}")}
                    onpointermove={on_pointer_move} onpointerup={on_pointer_up.clone()}
                    onpointerleave={on_pointer_up.clone()} onpointercancel={on_pointer_up} onpointerdown={on_background}>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    <rect class="editor-bg" x={x0.to_string()} y={y0.to_string()} width={width.to_string()} height={height.to_string()} />
                    { for links }
                    { for nodes }
                    { for pending }
                    { for selection_box }
                </svg>
            </div>
        </section>
    }
}
