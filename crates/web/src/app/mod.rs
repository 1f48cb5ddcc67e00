//! The browser side: Yew components and the run loop. Everything wasm-only lives below here.
//!
//! The app's state is one [`AppState`] reduced by [`AppState::reduce`]; the live simulation
//! lives outside it, in a [`runner::Runner`] shared through a `use_mut_ref`, advanced by a
//! `requestAnimationFrame` loop in slices of a few milliseconds so the tab never freezes.

pub mod analysis_host;
mod analysis_view;
mod charts_view;
mod controls;
pub mod dialog_host;
mod draft;
mod editor;
mod embed_view;
mod files;
mod fixes;
pub mod hosted;
mod inspector;
mod lazy;
mod modal;
mod pool;
mod replicas;
mod runner;
mod share;
mod timeline;

use crate::charts::PlotArea;
use crate::link;
use crate::state::{Action, AppState};
use runner::{use_run, Runner};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

/// The reducer's state as Yew wants it.
#[derive(Clone, PartialEq)]
pub struct Store(pub AppState);

impl Reducible for Store {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let reduce = REDUCER.with(Cell::get);
        Rc::new(Store(reduce(&self.0, action)))
    }
}

thread_local! {
    /// How the state changes: each binary says (`start`, `mount`, `start_embed`), so that embed
    /// mode's binary does not carry the editor's actions. Until one says, embed mode's.
    static REDUCER: Cell<fn(&AppState, Action) -> AppState> = Cell::new(AppState::reduce_embed);
}

/// Starts the playground in `<body>`. Embed mode (`?embed…`) is another binary, `embed`, which
/// the page's loader starts instead (`scripts/entries.mjs` writes the loader; both read the
/// address the same way, [`crate::embed::EmbedConfig::from_query`] here and `isEmbed` there).
pub fn start() {
    console_error_panic_hook::set_once();
    REDUCER.with(|r| r.set(AppState::reduce));
    // Its own element in `<body>`, not the body itself: the analysis view, another binary's
    // app, mounts beside it (`lazy`).
    let root = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        let root = d.create_element("div").ok()?;
        root.set_id("playground");
        d.body()?.append_child(&root).ok()?;
        Some(root)
    });
    let props = AppProps { address: true };
    after_links(move || {
        match root {
            Some(root) => yew::Renderer::<App>::with_root_and_props(root, props).render(),
            None => yew::Renderer::<App>::with_props(props).render(),
        };
    });
}

/// Runs `then` once the links the page's address carries are read (at once when it carries
/// none): the browser's decompression answers asynchronously (`crate::codec`).
fn after_links(then: impl FnOnce() + 'static) {
    let href = current_href();
    if link::carries_link(&href) {
        wasm_bindgen_futures::spawn_local(async move {
            link::prepare(&href).await;
            then();
        });
    } else {
        then();
    }
}

/// Renders the component again once the links its render asked the codec for are made
/// (`crate::codec`): a link the page shows is never left out.
#[hook]
pub fn use_links_ready() {
    let update = use_force_update();
    use_effect(move || {
        if crate::codec::pending() {
            wasm_bindgen_futures::spawn_local(async move {
                while crate::codec::settle().await {}
                update.force_update();
            });
        }
    });
}

/// Starts embed mode in `<body>`: the entry of the embed binary, which has the simulator,
/// the charts, the sliders and the banner, and nothing of the editor or the analysis view.
pub fn start_embed() {
    console_error_panic_hook::set_once();
    REDUCER.with(|r| r.set(AppState::reduce_embed));
    after_links(|| {
        yew::Renderer::<embed_view::EmbedApp>::new().render();
    });
}

thread_local! {
    /// The runner of the app mounted last, reachable from the functions below, which the
    /// page's binary exports to JavaScript (tests and benchmarks).
    static RUNNER: RefCell<Rc<RefCell<Runner>>> = RefCell::new(Rc::new(RefCell::new(Runner::default())));
}

fn shared_runner() -> Rc<RefCell<Runner>> {
    RUNNER.with(|r| r.borrow().clone())
}

/// Mounts the app in `root` (tests mount several, each with its own runner).
/// They neither read nor write the page's address, which they share.
pub fn mount(root: web_sys::Element) {
    REDUCER.with(|r| r.set(AppState::reduce));
    after_links(move || {
        yew::Renderer::<App>::with_root_and_props(root, AppProps { address: false }).render();
    });
}

/// The current run's metrics as CSV (exactly the CLI's columns), for tests and exports.
pub fn current_csv() -> String {
    shared_runner().borrow().csv()
}

/// Runs a scenario (JSON) to its end, outside the page's run loop, and returns
/// `[events, milliseconds]`: the browser engine benchmark.
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

/// The page's full address.
fn current_href() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Focuses the page's first element matching `selector`, if any.
fn focus(selector: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Applies the theme to the whole page (the stylesheet keys on `data-theme`).
fn set_theme(dark: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
    }
}

/// How long the address bar waits for edits to settle before it is rewritten: a slider
/// drag is one history update, not hundreds (browsers also throttle rapid updates).
const ADDRESS_SETTLE_MS: i32 = 250;

/// Keeps the address bar in step with the scenario, and the scenario with the address bar:
/// every valid edit rewrites the current history entry (after edits settle); opening another
/// scenario (a preset, a new canvas, an import) adds an entry; back and forward reopen the
/// entry's scenario. Does nothing unless `enabled` (which never changes for an app).
#[hook]
fn use_address(store: &UseReducerHandle<Store>, enabled: bool) {
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            if !enabled {
                return;
            }
            let on_pop = Closure::<dyn FnMut()>::new(move || {
                let href = current_href();
                let store = store.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    link::prepare(&href).await;
                    let doc = match link::open(&href) {
                        Some(Ok(doc)) => doc,
                        None => AppState::default().doc,
                        Some(Err(message)) => {
                            store.dispatch(Action::Notify(message));
                            AppState::default().doc
                        }
                    };
                    store.dispatch(Action::RestoreView(link::view_of(&href, &doc)));
                    store.dispatch(Action::Restore(doc));
                });
            });
            if let Some(window) = web_sys::window() {
                let _ = window
                    .add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
            }
            // Lives as long as the page.
            on_pop.forget();
        });
    }
    // The history entry written last (its `nav`), and a pending rewrite of the address.
    let written = use_mut_ref(|| None::<u64>);
    let pending = use_mut_ref(|| None::<(i32, String)>);
    // Bumped when the codec has made a link this effect asked for (`crate::codec`).
    let links_made = use_state(|| 0u32);
    let state = &store.0;
    let deps = (
        *links_made,
        Rc::as_ptr(&state.scenario) as usize,
        state.nav,
        state.problems.is_empty(),
        state.analysis.as_ref().map(|a| a.to_query()),
        state.seeds,
        state
            .baseline
            .as_ref()
            .map(|b| Rc::as_ptr(&b.scenario) as usize),
    );
    let store = store.clone();
    use_effect_with(deps, move |_| {
        let Some(window) = web_sys::window().filter(|_| enabled) else {
            return;
        };
        let Ok(history) = window.history() else {
            return;
        };
        // A rewrite still waiting is replaced by this one, or written now if this state opens
        // a new entry: the entry being left keeps its last edit.
        let unwritten = pending.borrow_mut().take().map(|(handle, url)| {
            window.clear_timeout_with_handle(handle);
            url
        });
        let state = &store.0;
        let first = written.borrow().is_none();
        let new_entry = written.borrow().is_some_and(|nav| nav != state.nav);
        if first {
            // The page shows what its address says: nothing to write.
            *written.borrow_mut() = Some(state.nav);
            return;
        }
        if new_entry {
            if let Some(unwritten) = &unwritten {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(unwritten));
            }
        }
        let href = current_href();
        let Some(url) = link::share_url(&href, state) else {
            if crate::codec::pending() {
                let links_made = links_made.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    while crate::codec::settle().await {}
                    links_made.set(*links_made + 1);
                });
            }
            return;
        };
        if url == href {
            return;
        }
        if new_entry {
            *written.borrow_mut() = Some(state.nav);
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&url));
        } else {
            let pending_now = pending.clone();
            let replace = url.clone();
            let write = Closure::once_into_js(move || {
                pending_now.borrow_mut().take();
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&replace));
            });
            if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                write.unchecked_ref(),
                ADDRESS_SETTLE_MS,
            ) {
                *pending.borrow_mut() = Some((handle, url));
            }
        }
    });
}

/// Copy and paste of blocks, through the page's own clipboard events (no permission
/// prompt): Ctrl+C outside a text field copies the selected block as scenario JSON, Ctrl+V
/// pastes blocks (ids made unique). Inside a field both keep their usual meaning.
#[hook]
fn use_clipboard(store: &UseReducerHandle<Store>) {
    let latest = use_mut_ref(|| store.clone());
    *latest.borrow_mut() = store.clone();
    use_effect_with((), move |_| {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        fn in_field(e: &web_sys::Event) -> bool {
            e.target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
        }
        let copy_store = latest.clone();
        let on_copy = Closure::<dyn FnMut(web_sys::ClipboardEvent)>::new(
            move |e: web_sys::ClipboardEvent| {
                let event: &web_sys::Event = e.as_ref();
                // Text the person selected on the page (a caption, a readout) copies as text.
                let text_selected = web_sys::window()
                    .and_then(|w| w.get_selection().ok().flatten())
                    .is_some_and(|s| !s.is_collapsed());
                if in_field(event) || text_selected {
                    return;
                }
                let store = copy_store.borrow();
                let blocks = store.0.selected_blocks();
                if blocks.is_empty() {
                    return;
                }
                let text = serde_json::json!({ "blocks": blocks }).to_string();
                if let Some(data) = e.clipboard_data() {
                    if data.set_data("text/plain", &text).is_ok() {
                        e.prevent_default();
                    }
                }
            },
        );
        let paste_store = latest.clone();
        let on_paste = Closure::<dyn FnMut(web_sys::ClipboardEvent)>::new(
            move |e: web_sys::ClipboardEvent| {
                let event: &web_sys::Event = e.as_ref();
                if in_field(event) {
                    return;
                }
                let text = e
                    .clipboard_data()
                    .and_then(|d| d.get_data("text/plain").ok())
                    .unwrap_or_default();
                if !text.trim().is_empty() {
                    e.prevent_default();
                    paste_store.borrow().dispatch(Action::Paste(text));
                }
            },
        );
        // Undo, redo and duplicate wherever the focus is (also on the page's body), except in
        // a text field, whose keys are its own.
        let key_store = latest.clone();
        let on_key =
            Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
                let event: &web_sys::Event = e.as_ref();
                if in_field(event) || e.alt_key() {
                    return;
                }
                if !(e.ctrl_key() || e.meta_key()) {
                    // Delete removes the selected blocks; a focused block, link, trigger or
                    // button handles the key itself.
                    let on_item = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .and_then(|el| {
                            el.closest("[data-block],[data-link],[data-trigger],button")
                                .ok()
                                .flatten()
                        })
                        .is_some();
                    let store = key_store.borrow();
                    if matches!(e.key().as_str(), "Delete" | "Backspace")
                        && !on_item
                        && !store.0.selected_ids().is_empty()
                    {
                        e.prevent_default();
                        store.dispatch(Action::DeleteSelected);
                    }
                    return;
                }
                let action = match e.key().to_ascii_lowercase().as_str() {
                    "z" if e.shift_key() => Action::Redo,
                    "z" => Action::Undo,
                    "y" => Action::Redo,
                    "d" => Action::Duplicate,
                    _ => return,
                };
                e.prevent_default();
                key_store.borrow().dispatch(action);
            });
        let _ =
            document.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        on_key.forget();
        let _ = document.add_event_listener_with_callback("copy", on_copy.as_ref().unchecked_ref());
        let _ =
            document.add_event_listener_with_callback("paste", on_paste.as_ref().unchecked_ref());
        // Live as long as the page's app.
        on_copy.forget();
        on_paste.forget();
    });
}

#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// Whether the app opens the scenario in the page's address and keeps the address in
    /// step (the page's one app does; apps mounted by tests do not).
    #[prop_or(true)]
    pub address: bool,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let href = if props.address {
        current_href()
    } else {
        String::new()
    };
    let store = use_reducer(|| Store(link::initial_state(&href, prefers_dark())));
    let state = &store.0;
    let (runner, view) = use_run(state);
    let (replicas, seeds_view) = replicas::use_replicas(state);
    // The live seed's figures once it has ended, and what all seeds (or the one) say.
    let live = {
        let runner = runner.clone();
        use_memo((view.run_id, view.finished), move |_| {
            runner.borrow().replica()
        })
    };
    let all_replicas = {
        let replicas = replicas.clone();
        let live = live.clone();
        use_memo(
            (view.run_id, view.finished, seeds_view.clone()),
            move |(_, _, sv)| {
                replicas::all_replicas((*live).clone(), &replicas.borrow(), sv).map(Rc::new)
            },
        )
    };
    let seeds_line = runner::SeedsLine {
        aggregate: (*all_replicas)
            .as_deref()
            .filter(|_| state.seeds > 1)
            .map(|all| Rc::new(sim_core::replicate::Aggregate::of(all))),
        progress: replicas::progress_words(&seeds_view, &view),
        ms: seeds_view.ms,
    };
    let go_on = {
        let runner = runner.clone();
        Callback::from(move |()| runner.borrow_mut().go_on())
    };
    let cursor_t = use_state(|| None::<f64>);
    // Each block's live figure, from the run's last row (refreshed with the charts).
    let hints = {
        let runner = runner.clone();
        use_memo((view.run_id, view.rows), move |_| {
            let runner = runner.borrow();
            let values: Vec<Option<f64>> = runner
                .rows()
                .last()
                .map(|row| row.values().collect())
                .unwrap_or_default();
            Rc::new(crate::format::block_hints(runner.columns(), &values))
        })
    };
    let plot_area = use_state(PlotArea::default);
    let sharing = use_state(|| false);
    let fixing = use_state(|| false);
    let dropping = use_state(|| false);
    use_address(&store, props.address);
    use_effect_with(state.dark, move |dark| set_theme(*dark));
    {
        // The tab's title is the scenario's name (as text: a name is anyone's text).
        let name = state.scenario.name.clone();
        use_effect_with(name, move |name| {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                let title = if name.is_empty() { "Untitled" } else { name };
                document.set_title(&format!("{title} — Metastable"));
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
            let target = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            let in_field = target.as_ref().is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
            });
            if e.ctrl_key() || e.meta_key() {
                // Shortcuts are the document's (see `use_clipboard`).
                return;
            }
            // Space toggles play unless typing in a field or pressing a button.
            let typing = in_field
                || target.as_ref().is_some_and(|el| {
                    el.tag_name() == "BUTTON"
                        || el
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
    use_clipboard(&store);

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

    let on_share = {
        let sharing = sharing.clone();
        Callback::from(move |()| sharing.set(true))
    };
    let on_fix = {
        let fixing = fixing.clone();
        Callback::from(move |()| fixing.set(true))
    };
    // A closed dialog gives the focus back to the button that opened it.
    let on_fix_close = {
        let fixing = fixing.clone();
        Callback::from(move |()| {
            fixing.set(false);
            focus("[data-testid=fix]");
        })
    };
    let on_share_close = {
        let sharing = sharing.clone();
        Callback::from(move |()| {
            sharing.set(false);
            focus("#share");
        })
    };
    // A scenario file or a link dropped anywhere on the page opens it.
    let ondragover = {
        let dropping = dropping.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if !*dropping {
                dropping.set(true);
            }
        })
    };
    let ondragleave = {
        let dropping = dropping.clone();
        Callback::from(move |e: DragEvent| {
            // Leaving the page, not moving between its elements.
            if e.related_target().is_none() {
                dropping.set(false);
            }
        })
    };
    let ondrop = {
        let dropping = dropping.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dropping.set(false);
            let Some(data) = e.data_transfer() else {
                return;
            };
            if let Some(file) = data.files().and_then(|files| files.get(0)) {
                files::import_file(file, dispatch.clone());
            } else if let Ok(text) = data.get_data("text/plain") {
                if !text.trim().is_empty() {
                    files::import_text("the dropped text".into(), text, dispatch.clone());
                }
            }
        })
    };
    let analysing = state.analysis.is_some();
    let to_playground = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::CloseAnalysis))
    };
    let to_analysis = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::OpenAnalysis))
    };
    let dismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::DismissNotice))
    };
    let undo_notice = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::Undo))
    };

    html! {
        <div class={classes!("app", dropping.then_some("dropping"),
                (state.selection != crate::state::Selection::Scenario).then_some("has-selection"))}
            {onkeydown} {ondragover} {ondragleave} {ondrop}>
            <header class="topbar">
                <h1 class="brand">{ "Metastable" }</h1>
                <nav class="views" aria-label="View">
                    <button data-testid="view-playground" aria-pressed={(!analysing).to_string()}
                        onclick={to_playground}>{ "Playground" }</button>
                    <button data-testid="view-analysis" aria-pressed={analysing.to_string()}
                        onclick={to_analysis}>{ "Analysis" }</button>
                </nav>
                if !analysing {
                    <controls::Controls state={store.clone()} finished={view.finished} />
                }
                <files::FileMenu state={store.clone()} {on_share} />
            </header>
            if *fixing {
                <lazy::LazyDialog state={store.clone()} which={lazy::Which::Fix} on_close={on_fix_close} />
            }
            if *sharing {
                <lazy::LazyDialog state={store.clone()} which={lazy::Which::Share} on_close={on_share_close} />
            }
            if *dropping {
                <div class="drop-hint" aria-hidden="true">{ "Drop a scenario (.json) or a share link to open it" }</div>
            }
            if analysing {
                <lazy::LazyAnalysis state={store.clone()} />
            } else {
            <main class="layout">
                <aside class="gallery-pane">
                    <controls::Gallery state={store.clone()} />
                </aside>
                <section class="centre">
                    <div class="centre-head">
                    <div class="scenario-head">
                        <div class="title-row">
                            <h2 data-testid="title">{ title }</h2>
                            <controls::PresetPicker state={store.clone()} />
                            { controls::status(&view) }
                        </div>
                        if let Some(caption) = caption {
                            <p class="caption" data-testid="caption" tabindex="0">
                                if let Some(origin) = state.caption_origin() {
                                    <span class="caption-origin" data-testid="caption-origin">
                                        { format!("The preset \u{201c}{origin}\u{201d} says (this scenario has changed since): ") }
                                    </span>
                                }
                                { caption }
                            </p>
                        }
                    </div>
                    if let Some(notice) = &state.notice {
                        <p class="notice" role="alert" data-testid="notice">
                            { notice.clone() }
                            if state.notice_undo {
                                <button class="notice-undo" data-testid="notice-undo" onclick={undo_notice}>{ "Undo" }</button>
                            }
                            <button class="notice-close" onclick={dismiss} aria-label="Dismiss">{ "✕" }</button>
                        </p>
                    }
                    <div class="verdict-row">
                        <runner::VerdictBanner view={view.clone()} problems={state.problems.len()} on_go_on={go_on} seeds={seeds_line} />
                        <controls::Instrument state={store.clone()} on_fix={on_fix} />
                    </div>
                    if let Some(baseline) = &state.baseline {
                        <replicas::BaselineTable state={store.clone()} name={baseline.scenario.name.clone()}
                            current={(*all_replicas).clone()} replicas={replicas.clone()} seeds={seeds_view.clone()} />
                    }
                    </div>
                    <editor::Editor state={store.clone()} hints={(*hints).clone()} />
                    <div class="results">
                    <timeline::Timeline state={store.clone()} area={*plot_area} view={view.clone()} />
                    <charts_view::Charts
                        scenario={state.scenario.clone()}
                        runner={runner.clone()}
                        view={view.clone()}
                        dark={state.dark}
                        cursor_t={*cursor_t}
                        {on_cursor}
                        {on_plot_area}
                        replicas={Some(replicas.clone())}
                        seeds={seeds_view.for_charts()}
                    />
                    </div>
                </section>
                <aside class="inspector-pane">
                    <inspector::Inspector state={store.clone()} {dispatch} />
                </aside>
            </main>
            }
        </div>
    }
}
