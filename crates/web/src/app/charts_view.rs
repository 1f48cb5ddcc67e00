//! The charts: one canvas per chart kind that applies to the scenario, drawn by
//! [`crate::charts::draw`] through plotters-canvas, with a shared hover cursor and readout.

use super::replicas::{Replicas, SeedsView};
use super::runner::{RunView, Runner};
use crate::charts::{self, ChartData, ChartKind, PlotArea, Theme};
use sim_core::Row;
use sim_core::Scenario;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// How long one task draws charts before it leaves the rest to a task of its own.
const DRAW_SLICE_MS: f64 = 25.0;

/// Draws the charts from `from` on, slice by slice, each slice after the first in a task of
/// its own (a zero timeout), as long as no later draw (`drawn` past `generation`) has started.
fn draw_in_slices(
    draw: Rc<dyn Fn(usize) -> Option<usize>>,
    drawn: Rc<RefCell<u64>>,
    generation: u64,
    from: usize,
) {
    if *drawn.borrow() != generation {
        return;
    }
    let Some(next) = draw(from) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = Closure::once_into_js(move || draw_in_slices(draw, drawn, generation, next));
    let _ =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
}

/// The charts' widths in CSS pixels as last read from the page (0: not read yet), and what
/// they were read for: the charts shown and the count of window resizes.
///
/// Rationale: a draw that follows a change of the page (a new run's banner, a seed typed)
/// would force the browser to lay the whole page out again just to read a width that has not
/// changed (8 ms of each re-run of the default preset, profiled). A draw uses the widths kept
/// here; once the frame is painted, [`check_widths`] reads them again at no cost and redraws
/// if one has changed (a pane opened, the layout switched without a window resize).
#[derive(Default)]
struct Widths {
    kinds: Vec<ChartKind>,
    resized: u32,
    px: Vec<u32>,
    /// A check is scheduled.
    checking: bool,
}

/// The width a chart is drawn at: its canvas's width on the page, at least 200 px.
fn width_of(canvas: &HtmlCanvasElement) -> u32 {
    canvas.client_width().max(200) as u32
}

/// After the next paint (a zero timeout from an animation frame, when the layout is clean),
/// reads the charts' widths again and calls `remeasure` if one differs from the kept one.
fn check_widths(widths: &Rc<RefCell<Widths>>, refs: &Rc<Vec<NodeRef>>, remeasure: &Rc<dyn Fn()>) {
    if std::mem::replace(&mut widths.borrow_mut().checking, true) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let (widths, refs, remeasure) = (widths.clone(), refs.clone(), remeasure.clone());
    let check = move || {
        let changed = {
            let mut cache = widths.borrow_mut();
            cache.checking = false;
            cache.px.iter().zip(refs.iter()).any(|(&kept, node)| {
                kept != 0
                    && node
                        .cast::<HtmlCanvasElement>()
                        .is_some_and(|canvas| width_of(&canvas) != kept)
            })
        };
        if changed {
            remeasure();
        }
    };
    let after_paint = Closure::once_into_js(move || {
        if let Some(window) = web_sys::window() {
            let check = Closure::once_into_js(check);
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(check.unchecked_ref(), 0);
        }
    });
    let _ = window.request_animation_frame(after_paint.unchecked_ref());
}

/// Whether the live run has all its rows, so the other seeds' band can join it.
fn props_finished(seeds: &SeedsView, rows: &[Row], scenario: &Scenario) -> bool {
    let buckets = (scenario.duration_s / scenario.bucket_s).ceil();
    seeds.seeds > 1 && seeds.complete() && rows.len() as f64 >= buckets
}

/// Chart height in CSS pixels.
const CHART_H: u32 = 190;

#[derive(Properties)]
pub struct ChartsProps {
    pub scenario: Rc<Scenario>,
    pub runner: Rc<RefCell<Runner>>,
    pub view: RunView,
    pub dark: bool,
    pub cursor_t: Option<f64>,
    pub on_cursor: Callback<Option<f64>>,
    pub on_plot_area: Callback<PlotArea>,
    /// Only these charts, in this order, of those that apply (empty: all that apply).
    #[prop_or_default]
    pub pick: Vec<ChartKind>,
    /// The other seeds and the baseline, when there are any (SPEC §9).
    #[prop_or_default]
    pub replicas: Option<Rc<RefCell<Replicas>>>,
    #[prop_or_default]
    pub seeds: SeedsView,
}

impl PartialEq for ChartsProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.scenario, &other.scenario)
            && Rc::ptr_eq(&self.runner, &other.runner)
            && self.view == other.view
            && self.dark == other.dark
            && self.cursor_t == other.cursor_t
            && self.pick == other.pick
            && self.seeds == other.seeds
            && self.replicas.as_ref().map(Rc::as_ptr) == other.replicas.as_ref().map(Rc::as_ptr)
    }
}

#[function_component(Charts)]
pub fn charts_view(props: &ChartsProps) -> Html {
    let applicable = charts::charts_for(&props.scenario);
    let kinds: Vec<ChartKind> = if props.pick.is_empty() {
        applicable
    } else {
        props
            .pick
            .iter()
            .copied()
            .filter(|k| applicable.contains(k))
            .collect()
    };
    // One canvas slot per chart kind there is; a scenario shows a prefix of them.
    let refs = use_memo((), |_| {
        ChartKind::ALL
            .iter()
            .map(|_| NodeRef::default())
            .collect::<Vec<_>>()
    });
    let areas = use_mut_ref(Vec::<PlotArea>::new);
    // The fluid model's trajectory, once per scenario (when the model covers it).
    let model = use_memo(Rc::as_ptr(&props.scenario) as usize, {
        let scenario = props.scenario.clone();
        move |_| {
            sim_core::fluid::Fluid::of(&scenario)
                .ok()
                .map(|f| f.trajectory(scenario.bucket_s))
        }
    });
    // Redraw on window resize, and when a chart's width turns out to have changed: a counter
    // bumped by a listener that lives as long as the page, and by the check after a draw.
    let resized = use_state(|| 0u32);
    let widths = use_mut_ref(Widths::default);
    let remeasure: Rc<dyn Fn()> = {
        let resized = resized.clone();
        let counter = use_mut_ref(|| 0u32);
        Rc::new(move || {
            *counter.borrow_mut() += 1;
            resized.set(*counter.borrow());
        })
    };
    {
        let remeasure = remeasure.clone();
        use_effect_with((), move |_| {
            let on_resize = Closure::<dyn FnMut()>::new(move || remeasure());
            if let Some(window) = web_sys::window() {
                let _ = window
                    .add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
            }
            on_resize.forget();
        });
    }
    {
        let refs = refs.clone();
        let areas = areas.clone();
        let widths = widths.clone();
        let remeasure = remeasure.clone();
        let resized_count = *resized;
        let runner = props.runner.clone();
        let scenario = props.scenario.clone();
        let on_plot_area = props.on_plot_area.clone();
        let kinds = kinds.clone();
        let deps = (
            props.view.clone(),
            props.dark,
            props.cursor_t.map(f64::to_bits),
            *resized,
            Rc::as_ptr(&props.scenario) as usize,
            kinds.clone(),
            props.seeds.clone(),
        );
        let replicas = props.replicas.clone();
        let seeds_view = props.seeds.clone();
        let cursor_t = props.cursor_t;
        let dark = props.dark;
        let model = model.clone();
        let first = use_mut_ref(|| true);
        let drawn = use_mut_ref(|| 0u64);
        use_effect_with(deps, move |_| {
            // Draws the charts from `from` on, and stops after the one that takes the draw past
            // DRAW_SLICE_MS: then it returns where the next slice starts.
            let draw = move |from: usize| -> Option<usize> {
                let started = super::now_ms();
                let runner = runner.borrow();
                // Draw only a run of this scenario: right after an edit the runner may still hold
                // the previous run for a moment.
                let rows = if runner.columns().is_empty() {
                    &[][..]
                } else {
                    runner.rows()
                };
                let replicas = replicas.as_ref().map(|r| r.borrow());
                // The seeds' band once the live run has ended and every other seed is in.
                let seeds: Vec<&[Row]> = match replicas.as_ref().and_then(|r| r.current.as_ref()) {
                    Some(set) if props_finished(&seeds_view, rows, &scenario) => set
                        .rows()
                        .map(|others| std::iter::once(rows).chain(others).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let baseline: Option<Vec<&[Row]>> = replicas
                    .as_ref()
                    .and_then(|r| r.baseline.as_ref())
                    .and_then(|set| set.rows());
                let data = ChartData {
                    scenario: &scenario,
                    columns: runner.columns(),
                    rows,
                    model: model.as_deref(),
                    seeds: &seeds,
                    baseline: baseline.as_deref(),
                };
                let mut new_areas = areas.borrow().clone();
                new_areas.resize(kinds.len(), PlotArea::default());
                // A chart's width is read from the page once, then kept (see `Widths`). Every
                // width is read before any canvas is resized: a resize invalidates the layout,
                // and reading a width after it forces a layout of the whole page (five of them
                // on the first draw took 80 ms of the page's first task).
                let mut kept = false;
                let canvases: Vec<(usize, ChartKind, HtmlCanvasElement, u32)> = {
                    let mut cache = widths.borrow_mut();
                    if cache.kinds != *kinds || cache.resized != resized_count {
                        *cache = Widths {
                            kinds: kinds.to_vec(),
                            resized: resized_count,
                            px: vec![0; kinds.len()],
                            checking: cache.checking,
                        };
                    }
                    kinds
                        .iter()
                        .zip(refs.iter())
                        .enumerate()
                        .skip(from)
                        .filter_map(|(i, (kind, node))| {
                            let canvas = node.cast::<HtmlCanvasElement>()?;
                            let width = match cache.px[i] {
                                0 => {
                                    cache.px[i] = width_of(&canvas);
                                    cache.px[i]
                                }
                                known => {
                                    kept = true;
                                    known
                                }
                            };
                            Some((i, *kind, canvas, width))
                        })
                        .collect()
                };
                if kept {
                    check_widths(&widths, &refs, &remeasure);
                }
                let mut next = None;
                for (i, kind, canvas, width) in canvases {
                    if i > from && super::now_ms() - started > DRAW_SLICE_MS {
                        next = Some(i);
                        break;
                    }
                    let kind = &kind;
                    if canvas.width() != width {
                        canvas.set_width(width);
                    }
                    if canvas.height() != CHART_H {
                        canvas.set_height(CHART_H);
                    }
                    let Some(backend) =
                        plotters_canvas::CanvasBackend::with_canvas_object(canvas).map(Measured)
                    else {
                        continue;
                    };
                    match charts::draw(backend, *kind, &data, Theme { dark }, cursor_t) {
                        Ok(area) => new_areas[i] = area,
                        Err(e) => {
                            web_sys::console::warn_1(&format!("chart {}: {e}", kind.id()).into())
                        }
                    }
                }
                if from == 0 {
                    if let Some(first) = new_areas.first() {
                        on_plot_area.emit(*first);
                    }
                }
                *areas.borrow_mut() = new_areas;
                next
            };
            // Every draw is a new generation: a first draw still going chart by chart stops
            // when a later one has drawn everything.
            let generation = {
                let mut g = drawn.borrow_mut();
                *g += 1;
                *g
            };
            // The first draw waits for the next frame: the page's first task builds the whole
            // page, and the browser lays it out and paints it before the charts are drawn
            // (their widths then need no forced layout). Later draws follow their change at
            // once. Either way a draw that takes longer than a slice goes on in a task of
            // its own, so no task holds every chart (six took up to 111 ms on a loaded host).
            let draw: Rc<dyn Fn(usize) -> Option<usize>> = Rc::new(draw);
            if std::mem::take(&mut *first.borrow_mut()) {
                if let Some(window) = web_sys::window() {
                    let drawn = drawn.clone();
                    let callback = Closure::once_into_js(move || {
                        draw_in_slices(draw, drawn, generation, 0);
                    });
                    let _ = window.request_animation_frame(callback.unchecked_ref());
                    return;
                }
            }
            draw_in_slices(draw, drawn.clone(), generation, 0);
        });
    }

    let runner = props.runner.borrow();
    let data = ChartData {
        scenario: &props.scenario,
        columns: runner.columns(),
        rows: runner.rows(),
        model: model.as_deref(),
        seeds: &[],
        baseline: None,
    };
    let charts = kinds.iter().enumerate().map(|(i, kind)| {
        // The pointer (a mouse hovering, a finger tapping or sliding) and the keyboard (arrows
        // by one bucket, with Shift by ten, Home and End) move the one cursor of every chart.
        let on_move = {
            let areas = areas.clone();
            let on_cursor = props.on_cursor.clone();
            Callback::from(move |e: PointerEvent| {
                let t = areas
                    .borrow()
                    .get(i)
                    .and_then(|a| a.time_at(f64::from(e.offset_x())));
                on_cursor.emit(t);
            })
        };
        let on_leave = {
            let on_cursor = props.on_cursor.clone();
            Callback::from(move |e: PointerEvent| {
                // A finger lifted leaves its reading on screen; a mouse that leaves clears it.
                if e.pointer_type() == "mouse" {
                    on_cursor.emit(None)
                }
            })
        };
        let on_key = {
            let on_cursor = props.on_cursor.clone();
            let cursor_t = props.cursor_t;
            let bucket = props.scenario.bucket_s.max(1e-9);
            let end = (runner.rows().len() as f64 * bucket - bucket).max(0.0);
            Callback::from(move |e: KeyboardEvent| {
                let step = if e.shift_key() { 10.0 * bucket } else { bucket };
                let now = cursor_t.unwrap_or(end);
                let t = match e.key().as_str() {
                    "ArrowLeft" => Some((now - step).max(0.0)),
                    "ArrowRight" => Some((now + step).min(end)),
                    "Home" => Some(0.0),
                    "End" => Some(end),
                    "Escape" => None,
                    _ => return,
                };
                e.prevent_default();
                on_cursor.emit(t);
            })
        };
        let readout = props
            .cursor_t
            .map(|t| charts::readout(*kind, &data, t))
            .unwrap_or_default();
        html! {
            <figure class="chart" data-chart={kind.id()} tabindex="0" onkeydown={on_key}
                aria-label={format!("{}: use the left and right arrows to read values", kind.title())}>
                <canvas ref={refs[i].clone()} height={CHART_H.to_string()} data-chart-canvas={kind.id()}
                    role="img" aria-label={format!("Chart: {} over time", kind.title())}
                    onpointermove={on_move.clone()} onpointerdown={on_move} onpointerleave={on_leave} />
                <figcaption class="readout" aria-live="polite">
                    if let Some(t) = props.cursor_t.filter(|_| !readout.is_empty()) {
                        <span class="readout-t">{ format!("t = {} s", crate::format::num(t.round())) }</span>
                        { for readout.iter().map(|r| html! {
                            <span class="readout-item">
                                <span class="swatch" style={format!("background:{}", r.color)}></span>
                                { format!("{} {}", r.label, r.value) }
                            </span>
                        }) }
                    } else {
                        <span class="readout-hint">{ "Hover or tap a chart, or focus it and use ← →, to read values." }</span>
                    }
                </figcaption>
            </figure>
        }
    });
    html! {
        <section class="charts" aria-label="Charts">
            { for charts }
        </section>
    }
}

/// The canvas backend with its text measured by a canvas and remembered.
///
/// Rationale: plotters measures text in a browser by appending a `<span>` to the page and
/// reading its `offsetHeight`, which forces a layout of the whole page: a redraw of the five
/// charts measured about 60 texts (tick labels, titles, legends), 13 ms of forced layouts per
/// re-run, and on the page's first draw, with the page's first layout not yet done, 30 ms more
/// of its first task. A detached canvas's `measureText` lays nothing out; the same few texts
/// come back on every redraw, so each is measured once per font and size.
struct Measured<B>(B);

thread_local! {
    /// A canvas outside the page, for measuring text.
    static MEASURER: Option<web_sys::CanvasRenderingContext2d> = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
        .and_then(|c| c.get_context("2d").ok().flatten())
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
}

/// The width and height of `text` in a font, as a span of it would be: the advance width,
/// and the font's ascent and descent (a line box of `line-height: normal`).
fn measure_text(text: &str, family: &str, style: &str, size: f64) -> Option<(u32, u32)> {
    MEASURER.with(|context| {
        let context = context.as_ref()?;
        let style = match style {
            "normal" | "" => "",
            other => other,
        };
        context.set_font(&format!("{style} {size}px {family}"));
        let metrics = context.measure_text(text).ok()?;
        let height = metrics.font_bounding_box_ascent() + metrics.font_bounding_box_descent();
        Some((metrics.width().ceil() as u32, height.ceil() as u32))
    })
}

type TextKey = (String, String, String, u64);

thread_local! {
    /// Sorted by key, looked up by binary search: a map type of its own would add its code to
    /// the page's wasm (docs/performance.md).
    static TEXT_SIZES: RefCell<Vec<(TextKey, (u32, u32))>> = const { RefCell::new(Vec::new()) };
}

/// Measurements kept at most (tick labels of long runs vary; the cache starts over).
const TEXT_SIZES_MAX: usize = 4096;

use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

impl<B: DrawingBackend> DrawingBackend for Measured<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_text(text, style, pos)
    }
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let key: TextKey = (
            text.to_string(),
            style.family().as_str().to_string(),
            style.style().as_str().to_string(),
            style.size().to_bits(),
        );
        let found = TEXT_SIZES.with(|c| {
            let cache = c.borrow();
            cache
                .binary_search_by(|(k, _)| k.cmp(&key))
                .map(|at| cache[at].1)
        });
        if let Ok(size) = found {
            return Ok(size);
        }
        let size = match measure_text(
            text,
            style.family().as_str(),
            style.style().as_str(),
            style.size(),
        ) {
            Some(size) => size,
            None => self.0.estimate_text_size(text, style)?,
        };
        TEXT_SIZES.with(|c| {
            let mut cache = c.borrow_mut();
            if cache.len() >= TEXT_SIZES_MAX {
                cache.clear();
            }
            if let Err(at) = cache.binary_search_by(|(k, _)| k.cmp(&key)) {
                cache.insert(at, (key, size));
            }
        });
        Ok(size)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }
}
