//! The browser side: Yew components and the run loop. Everything wasm-only lives below here.
//!
//! The app's state is one [`AppState`] reduced by [`AppState::reduce`]; the live simulation
//! lives outside it, in a [`runner::Runner`] shared through a `use_mut_ref`, advanced by a
//! `requestAnimationFrame` loop in slices of a few milliseconds so the tab never freezes.

mod charts_view;
mod controls;
mod editor;
mod inspector;
mod runner;
mod timeline;

use crate::charts::PlotArea;
use crate::state::{Action, AppState};
use runner::{RunView, Runner};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

/// The reducer's state as Yew wants it.
#[derive(Clone, PartialEq)]
pub struct Store(pub AppState);

impl Reducible for Store {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Store(self.0.reduce(action)))
    }
}

/// Starts the app in `<body>`.
pub fn start() {
    console_error_panic_hook::set_once();
    yew::Renderer::<App>::new().render();
}

thread_local! {
    /// The runner of the app mounted last, reachable from the JavaScript exports below
    /// (tests and benchmarks).
    static RUNNER: RefCell<Rc<RefCell<Runner>>> = RefCell::new(Rc::new(RefCell::new(Runner::default())));
}

fn shared_runner() -> Rc<RefCell<Runner>> {
    RUNNER.with(|r| r.borrow().clone())
}

/// Mounts the app in `root` (tests mount several, each with its own runner).
pub fn mount(root: web_sys::Element) {
    yew::Renderer::<App>::with_root(root).render();
}

/// The current run's metrics as CSV (exactly the CLI's columns), for tests and exports.
#[wasm_bindgen]
pub fn current_csv() -> String {
    shared_runner().borrow().csv()
}

/// Runs a scenario (JSON) to its end, outside the page's run loop, and returns
/// `[events, milliseconds]`: the browser engine benchmark.
#[wasm_bindgen]
pub fn bench_scenario(json: &str) -> Result<Vec<f64>, JsError> {
    let scenario = sim_core::Scenario::from_json(json).map_err(|e| JsError::new(&e.to_string()))?;
    let mut sim = sim_core::Sim::with_limits(&scenario, sim_core::Limits::default())
        .map_err(|e| JsError::new(&e.to_string()))?;
    let start = now_ms();
    sim.run();
    let elapsed = now_ms() - start;
    Ok(vec![sim.events() as f64, elapsed])
}

/// Runs a scenario (JSON) to its end and returns its CSV: the wasm side of the
/// native-versus-wasm determinism check.
#[wasm_bindgen]
pub fn scenario_csv(json: &str) -> Result<String, JsError> {
    let scenario = sim_core::Scenario::from_json(json).map_err(|e| JsError::new(&e.to_string()))?;
    let mut sim = sim_core::Sim::new(&scenario).map_err(|e| JsError::new(&e.to_string()))?;
    sim.run();
    Ok(sim_core::to_csv(sim.columns(), sim.rows()))
}

/// Milliseconds from the page's time origin.
pub(crate) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

#[function_component(App)]
pub fn app() -> Html {
    let store = use_reducer(|| {
        Store(AppState {
            dark: prefers_dark(),
            ..AppState::default()
        })
    });
    let state = &store.0;
    let runner = use_memo((), |_| {
        let runner = Rc::new(RefCell::new(Runner::default()));
        RUNNER.with(|r| *r.borrow_mut() = runner.clone());
        runner
    });
    let view = use_state(RunView::default);
    let cursor_t = use_state(|| None::<f64>);
    let plot_area = use_state(PlotArea::default);

    // The run loop reads the latest inputs through this cell, so it never holds a stale
    // closure over an old state.
    let inputs = use_mut_ref(runner::Inputs::default);
    *inputs.borrow_mut() = runner::Inputs::from_state(state);

    {
        // Start the frame loop once; it lives as long as the page.
        let runner = (*runner).clone();
        let inputs = inputs.clone();
        let view = view.setter();
        use_effect_with((), move |_| {
            runner::start_loop(runner, inputs, view);
        });
    }
    {
        // A new run (an edit, a preset, a reset) is computed at once, in this task, for up to
        // a frame's worth of work: when the whole run is that fast, the charts simply follow
        // the edit.
        let runner = (*runner).clone();
        let inputs = inputs.clone();
        let view = view.setter();
        use_effect_with((state.run_id, state.steps), move |_| {
            let snapshot = runner
                .borrow_mut()
                .tick(&inputs.borrow(), runner::FIRST_SLICE_MS);
            if let Some(snapshot) = snapshot {
                view.set(snapshot);
            }
        });
    }
    {
        let dark = state.dark;
        use_effect_with(dark, move |dark| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("data-theme", if *dark { "dark" } else { "light" });
            }
        });
    }

    let dispatch = {
        let store = store.clone();
        Callback::from(move |action: Action| store.dispatch(action))
    };
    let on_cursor = {
        let cursor_t = cursor_t.clone();
        Callback::from(move |t: Option<f64>| cursor_t.set(t))
    };
    let on_plot_area = {
        let plot_area = plot_area.clone();
        Callback::from(move |area: PlotArea| {
            if *plot_area != area {
                plot_area.set(area);
            }
        })
    };
    let onkeydown = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            // Space toggles play unless typing in a field or pressing a button.
            let typing = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(
                        el.tag_name().as_str(),
                        "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON"
                    ) || el
                        .closest("[data-block],[data-link],[data-trigger]")
                        .ok()
                        .flatten()
                        .is_some()
                });
            if !typing && e.key() == " " {
                e.prevent_default();
                dispatch.emit(Action::TogglePlay);
            }
        })
    };

    // The document's name, not the running scenario's: they differ while the document has
    // problems.
    let title = match state.doc.get("name").and_then(|n| n.as_str()) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "Untitled".to_string(),
    };
    let caption = state
        .doc
        .get("caption")
        .and_then(|c| c.as_str())
        .map(str::to_string);

    html! {
        <div class="app" {onkeydown}>
            <header class="topbar">
                <h1 class="brand">{ "Metastable" }</h1>
                <controls::Controls state={store.clone()} view={(*view).clone()} />
            </header>
            <main class="layout">
                <aside class="gallery-pane">
                    <controls::Gallery state={store.clone()} />
                </aside>
                <section class="centre">
                    <div class="scenario-head">
                        <h2 data-testid="title">{ title }</h2>
                        if let Some(caption) = caption {
                            <p class="caption" data-testid="caption">{ caption }</p>
                        }
                    </div>
                    <runner::VerdictBanner view={(*view).clone()} problems={state.problems.len()} />
                    <editor::Editor state={store.clone()} />
                    <timeline::Timeline state={store.clone()} area={*plot_area} view={(*view).clone()} />
                    <charts_view::Charts
                        scenario={state.scenario.clone()}
                        runner={(*runner).clone()}
                        view={(*view).clone()}
                        dark={state.dark}
                        cursor_t={*cursor_t}
                        {on_cursor}
                        {on_plot_area}
                    />
                </section>
                <aside class="inspector-pane">
                    <inspector::Inspector state={store.clone()} {dispatch} />
                </aside>
            </main>
        </div>
    }
}
