//! The analysis view, fetched the first time it opens: the playground's first visit does not
//! download it. The page's loader (`scripts/entries.mjs`) offers `metastableEntry(name)`, a
//! promise of a binary's exports, fetched once; the analysis binary (`analysis_main.rs`)
//! exports `mount(element, input, output)`. The two talk in text ([`crate::host`]).
//!
//! The view's element is a sibling of the playground's root in `<body>`, never inside it:
//! each Yew app handles the events of its own tree from a listener on its root, and marks
//! its elements with ids of its own, which the other app would take for its own (a click in
//! the view would run some handler of the playground).

use super::Store;
use crate::host::{Input, Message};
use crate::state::Action;
use js_sys::{Function, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The view mounted: its handle (the binary's `AnalysisHandle`) and the function it answers
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
    let status = use_state(|| Status::Loading);
    let mounted: Rc<RefCell<Option<Mounted>>> = use_mut_ref(|| None);
    // What the view is told at its mount: the input of the latest render, not the first; and
    // the document its settings are read against when it sends new ones.
    let latest = use_mut_ref(String::new);
    latest.borrow_mut().clone_from(&input);
    let doc = use_mut_ref(serde_json::Value::default);

    {
        let status = status.clone();
        let mounted = mounted.clone();
        let latest = latest.clone();
        let dispatch = props.state.dispatcher();
        let doc = doc.clone();
        use_effect_with((), move |_| {
            let alive = Rc::new(Cell::new(true));
            let answer = Answer { dispatch, doc };
            load(status, mounted.clone(), latest, answer, alive.clone());
            move || {
                alive.set(false);
                if let Some(view) = mounted.borrow_mut().take() {
                    view.call("unmount", &[]);
                }
                if let Some(root) = view_root() {
                    root.set_hidden(true);
                }
            }
        });
    }
    {
        let mounted = mounted.clone();
        let current = state.doc.clone();
        use_effect_with(input, move |input| {
            *doc.borrow_mut() = current;
            if let Some(view) = mounted.borrow().as_ref() {
                view.call("update", &[JsValue::from_str(input)]);
            }
        });
    }

    html! {
        <>
            { match &*status {
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
            } }
        </>
    }
}

/// Where the view's messages go: the playground's reducer, with the document of the input
/// last sent (settings are read against it).
struct Answer {
    dispatch: UseReducerDispatcher<Store>,
    doc: Rc<RefCell<serde_json::Value>>,
}

impl Answer {
    fn take(&self, text: &str) {
        match Message::decode(text) {
            Some(Message::Config(query)) => {
                let config =
                    crate::analysis::AnalysisConfig::from_query(&query, &self.doc.borrow());
                if let Some(config) = config {
                    self.dispatch.dispatch(Action::SetAnalysis(config));
                }
            }
            Some(Message::Open(doc)) => self.dispatch.dispatch(Action::OpenPoint(doc)),
            None => {}
        }
    }
}

/// The element the view is mounted in: `<div id="analysis-view">` after the playground's root
/// in `<body>`, made the first time.
fn view_root() -> Option<web_sys::HtmlElement> {
    let document = web_sys::window()?.document()?;
    if let Some(root) = document.get_element_by_id(VIEW_ROOT) {
        return root.dyn_into().ok();
    }
    let root: web_sys::HtmlElement = document.create_element("div").ok()?.dyn_into().ok()?;
    root.set_id(VIEW_ROOT);
    root.set_class_name("analysis-host");
    document.body()?.append_child(&root).ok()?;
    Some(root)
}

const VIEW_ROOT: &str = "analysis-view";

/// Asks the page's loader for the analysis binary and mounts its view when it comes (unless
/// the view was closed meanwhile: `alive`).
fn load(
    status: UseStateHandle<Status>,
    mounted: Rc<RefCell<Option<Mounted>>>,
    latest: Rc<RefCell<String>>,
    answer: Answer,
    alive: Rc<Cell<bool>>,
) {
    let promise = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("metastableEntry")).ok())
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&JsValue::NULL, &JsValue::from_str("analysis")).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok());
    let Some(promise) = promise else {
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
            view_root(),
            Reflect::get(&module, &JsValue::from_str("mount"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok()),
        ) else {
            status.set(Status::Failed("the binary has no view to mount".into()));
            return;
        };
        let output = Closure::<dyn FnMut(String)>::new(move |text: String| answer.take(&text));
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
