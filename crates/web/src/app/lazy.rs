//! The views fetched the first time they are used, so that the playground's first visit does
//! not download them: the analysis view and the dialogs (share, "What would fix this?"). Each
//! is a binary of its own. The page's loader (`scripts/entries.mjs`) offers
//! `metastableEntry(name)`, a promise of a binary's exports, fetched once; each binary
//! exports `mount(element, input, output)` (`super::hosted`). The two sides talk in text
//! ([`crate::host`]).
//!
//! A view's element is a sibling of the playground's root in `<body>`, never inside it: each
//! Yew app handles the events of its own tree from a listener on its root, and marks its
//! elements with ids of its own, which the other app would take for its own (a click in the
//! view would run some handler of the playground).

use super::Store;
use crate::host::{Dialog, DialogMessage, FixInput, Input, Message, ShareInput};
use crate::state::Action;
use js_sys::{Function, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A binary the page fetches when first used, and the element its view is mounted in.
#[derive(Clone, Copy, PartialEq)]
struct Entry {
    /// Its name for the page's loader.
    name: &'static str,
    /// The id of its element in `<body>` (and its class).
    root: &'static str,
    class: &'static str,
}

const ANALYSIS: Entry = Entry {
    name: "analysis",
    root: "analysis-view",
    class: "analysis-host",
};

const DIALOGS: Entry = Entry {
    name: "dialogs",
    root: "dialog-view",
    class: "dialog-host",
};

/// Asks the page's loader to fetch the dialogs' binary now, without mounting anything: a
/// pointer over (or the focus on) a button that opens a dialog, so that the click finds it
/// loaded.
pub fn prefetch_dialogs() {
    thread_local! {
        static ASKED: Cell<bool> = const { Cell::new(false) };
    }
    if ASKED.with(|asked| asked.replace(true)) {
        return;
    }
    if let Some(promise) = loader_promise(DIALOGS.name) {
        // A failed download is told when a dialog opens, not here.
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
        let _ = promise.catch(&ignore);
        ignore.forget();
    }
}

/// The view mounted: its handle (the binary's `…Handle`) and the function it answers
/// through, kept alive as long as it is mounted.
struct Mounted {
    handle: JsValue,
    _output: Closure<dyn FnMut(String)>,
}

impl Mounted {
    fn call(&self, method: &str, args: &[JsValue]) {
        let Ok(function) = Reflect::get(&self.handle, &JsValue::from_str(method)) else {
            return;
        };
        let Ok(function) = function.dyn_into::<Function>() else {
            return;
        };
        let _ = function.apply(&self.handle, &args.iter().collect());
    }
}

#[derive(Clone, PartialEq)]
enum Status {
    Loading,
    Ready,
    Failed(String),
}

/// Fetches `entry` (once per page) and mounts its view in its element with `input`, sends it
/// every new `input`, and takes it out when the component using this goes. Its messages go
/// to the latest `on_message`.
#[hook]
fn use_entry(entry: Entry, input: String, on_message: Callback<String>) -> Status {
    let status = use_state(|| Status::Loading);
    let mounted: Rc<RefCell<Option<Mounted>>> = use_mut_ref(|| None);
    // What the view is told at its mount: the input of the latest render, not the first; and
    // where its messages go: the latest callback (it reads the latest state).
    let latest = use_mut_ref(String::new);
    latest.borrow_mut().clone_from(&input);
    let answer = use_mut_ref(Callback::noop);
    *answer.borrow_mut() = on_message;

    {
        let status = status.clone();
        let mounted = mounted.clone();
        let latest = latest.clone();
        use_effect_with((), move |_| {
            let alive = Rc::new(Cell::new(true));
            load(
                entry,
                status,
                mounted.clone(),
                latest,
                answer,
                alive.clone(),
            );
            move || {
                alive.set(false);
                if let Some(view) = mounted.borrow_mut().take() {
                    view.call("unmount", &[]);
                }
                if let Some(root) = view_root(entry) {
                    root.set_hidden(true);
                }
            }
        });
    }
    use_effect_with(input, move |input| {
        if let Some(view) = mounted.borrow().as_ref() {
            view.call("update", &[JsValue::from_str(input)]);
        }
    });
    (*status).clone()
}

#[derive(Properties, PartialEq)]
pub struct LazyAnalysisProps {
    pub state: UseReducerHandle<Store>,
}

/// Fetches the analysis binary (once per page) and mounts its view here.
#[function_component(LazyAnalysis)]
pub fn lazy_analysis(props: &LazyAnalysisProps) -> Html {
    let state = &props.state.0;
    let input = Input::encode(
        &state.doc,
        &state.scenario.name,
        !state.problems.is_empty(),
        state.analysis.as_ref(),
    );
    // The view's settings are read against the document it was last sent.
    let on_message = {
        let dispatch = props.state.dispatcher();
        let doc = state.doc.clone();
        Callback::from(move |text: String| match Message::decode(&text) {
            Some(Message::Config(query)) => {
                if let Some(config) = crate::analysis::AnalysisConfig::from_query(&query, &doc) {
                    dispatch.dispatch(Action::SetAnalysis(config));
                }
            }
            Some(Message::Open(doc)) => dispatch.dispatch(Action::OpenPoint(doc)),
            None => {}
        })
    };
    match use_entry(ANALYSIS, input, on_message) {
        Status::Ready => html! {},
        Status::Loading => html! {
            <main class="analysis analysis-loading" data-testid="analysis-loading" aria-busy="true">
                <p class="hint">{ "Loading the analysis view…" }</p>
            </main>
        },
        Status::Failed(why) => html! {
            <main class="analysis analysis-loading" data-testid="analysis-loading">
                <p class="field-error" role="alert">
                    { format!("The analysis view could not be loaded ({why}). Check the connection and reload the page.") }
                </p>
            </main>
        },
    }
}

/// Which dialog the playground opens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Which {
    Share,
    Fix,
}

#[derive(Properties, PartialEq)]
pub struct LazyDialogProps {
    pub state: UseReducerHandle<Store>,
    pub which: Which,
    pub on_close: Callback<()>,
}

/// What the dialog shows, from the playground's state. The share dialog's links are made
/// here, where the codec holds them (`None` from the link functions while it works: the
/// dialog then shows empty links, and this renders again once they are made).
fn dialog_input(state: &crate::state::AppState, which: Which) -> Dialog {
    match which {
        Which::Share => {
            let href = super::current_href();
            let (payload, extra) = crate::link::share_parts(state).unwrap_or_default();
            let url = if payload.is_empty() {
                String::new()
            } else {
                crate::link::share_url_of(&href, state, &payload, &extra)
            };
            Dialog::Share(ShareInput {
                name: state.scenario.name.clone(),
                seed: state.scenario.seed,
                problems: state.problems.len(),
                url,
                base: crate::link::page_base(&href).to_string(),
                payload,
                extra,
                charts: crate::charts::charts_for(&state.scenario),
                knobs: crate::embed::knob_candidates(&state.doc)
                    .into_iter()
                    .filter_map(|path| {
                        let label = crate::embed::resolve_knob(&state.doc, &path)?.label;
                        Some((path, label))
                    })
                    .collect(),
            })
        }
        Which::Fix => Dialog::Fix(FixInput {
            doc: state.doc.clone(),
            name: state.scenario.name.clone(),
            seed: state.scenario.seed,
            seeds: state.seeds,
        }),
    }
}

/// Fetches the dialogs' binary (once per page) and shows the dialog `which` from it.
#[function_component(LazyDialog)]
pub fn lazy_dialog(props: &LazyDialogProps) -> Html {
    super::use_links_ready();
    // The app renders at every frame of a run: the input is made again only for another
    // state, or while the codec is still making its links (it renders again when they are).
    let made = use_mut_ref(|| None::<(UseReducerHandle<Store>, String)>);
    let kept = made
        .borrow()
        .as_ref()
        .filter(|(state, _)| std::ptr::eq::<Store>(&**state, &*props.state))
        .map(|(_, text)| text.clone());
    let input = kept.unwrap_or_else(|| {
        let text = dialog_input(&props.state.0, props.which).encode();
        if !crate::codec::pending() {
            *made.borrow_mut() = Some((props.state.clone(), text.clone()));
        }
        text
    });
    let on_message = {
        let dispatch = props.state.dispatcher();
        let on_close = props.on_close.clone();
        Callback::from(move |text: String| match DialogMessage::decode(&text) {
            Some(DialogMessage::Close) => on_close.emit(()),
            Some(DialogMessage::Open { doc, pin }) => {
                if pin {
                    dispatch.dispatch(Action::PinBaseline);
                }
                dispatch.dispatch(Action::Load(doc));
                on_close.emit(());
            }
            None => {}
        })
    };
    let status = use_entry(DIALOGS, input, on_message);
    // Escape closes the stand-in while the dialog loads (or could not), as it closes the
    // dialog once shown.
    super::modal::use_escape(props.on_close.clone(), status != Status::Ready);
    let close = props.on_close.reform(|_| ());
    match status {
        Status::Ready => html! {},
        Status::Loading => html! {
            <div class="dialog-backdrop" data-testid="dialog-loading">
                <p class="dialog-loading" role="status" aria-busy="true">{ "Loading…" }</p>
            </div>
        },
        Status::Failed(why) => html! {
            <div class="dialog-backdrop" data-testid="dialog-loading">
                <div class="dialog-loading">
                    <p class="field-error" role="alert">
                        { format!("The dialog could not be downloaded (the browser says: {why}). Check the connection and try again.") }
                    </p>
                    <button onclick={close}>{ "Close" }</button>
                </div>
            </div>
        },
    }
}

/// The element `entry`'s view is mounted in: `<div id="…">` after the playground's root in
/// `<body>`, made the first time.
fn view_root(entry: Entry) -> Option<web_sys::HtmlElement> {
    let document = web_sys::window()?.document()?;
    if let Some(root) = document.get_element_by_id(entry.root) {
        return root.dyn_into().ok();
    }
    let root: web_sys::HtmlElement = document.create_element("div").ok()?.dyn_into().ok()?;
    root.set_id(entry.root);
    root.set_class_name(entry.class);
    document.body()?.append_child(&root).ok()?;
    Some(root)
}

/// The page loader's promise of the binary `name`'s exports (fetched once per page).
fn loader_promise(name: &str) -> Option<Promise> {
    web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("metastableEntry")).ok())
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&JsValue::NULL, &JsValue::from_str(name)).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
}

/// Asks the page's loader for `entry`'s binary and mounts its view when it comes (unless the
/// component went meanwhile: `alive`).
fn load(
    entry: Entry,
    status: UseStateHandle<Status>,
    mounted: Rc<RefCell<Option<Mounted>>>,
    latest: Rc<RefCell<String>>,
    answer: Rc<RefCell<Callback<String>>>,
    alive: Rc<Cell<bool>>,
) {
    let Some(promise) = loader_promise(entry.name) else {
        status.set(Status::Failed("this page has no loader for it".into()));
        return;
    };
    let failed = status.clone();
    let on_error = Closure::once_into_js(move |error: JsValue| {
        let why = error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "the download failed".into());
        failed.set(Status::Failed(why));
    });
    let on_module = Closure::once_into_js(move |module: JsValue| {
        if !alive.get() {
            return;
        }
        let (Some(root), Some(mount)) = (
            view_root(entry),
            Reflect::get(&module, &JsValue::from_str("mount"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok()),
        ) else {
            status.set(Status::Failed("the binary has no view to mount".into()));
            return;
        };
        let output = Closure::<dyn FnMut(String)>::new(move |text: String| {
            // Cloned out first: the answer may re-render the component, which sets it anew.
            let callback = answer.borrow().clone();
            callback.emit(text);
        });
        let input = JsValue::from_str(&latest.borrow());
        match mount.call3(
            &JsValue::NULL,
            &root,
            &input,
            output.as_ref().unchecked_ref(),
        ) {
            Ok(handle) => {
                root.set_hidden(false);
                *mounted.borrow_mut() = Some(Mounted {
                    handle,
                    _output: output,
                });
                status.set(Status::Ready);
            }
            Err(_) => status.set(Status::Failed("the view did not start".into())),
        }
    });
    // `then` through its JavaScript function: the closures made by `once_into_js` free
    // themselves once called.
    if let Some(then) = Reflect::get(&promise, &JsValue::from_str("then"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    {
        let _ = then.call2(&promise, &on_module, &on_error);
    }
}
