//! The analysis view: its settings, the Web Workers that compute it (one per core), and the
//! picture they fill in as their answers arrive: the phase diagram, the tipping curve, the
//! fluid model's state space or hysteresis (goodput against the load, up and down).

use super::now_ms;
use crate::analysis::{
    fill, place, ticks, AnalysisConfig, HysteresisMsg, Mode, Plan, Range, Reply, Results,
};
use crate::embed::resolve_knob;
use crate::format::num;
use serde_json::Value;
use sim_core::sweep::{number_text, Threshold};
use sim_core::Verdict;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The workers' loader, beside the page (relative: the site may live under any sub-path).
const WORKER_URL: &str = "./worker_loader.js";

/// Jobs each worker holds at once.
const JOBS_IN_HAND: usize = 2;

/// Where a computation stands.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Running,
    Done,
    Cancelled,
    Failed(String),
}

/// One computation: its plan, the answers so far and the workers doing it.
struct Computation {
    plan: Rc<Plan>,
    config: AnalysisConfig,
    results: Results,
    next: usize,
    status: Status,
    started_ms: f64,
    elapsed_ms: f64,
    workers: Vec<web_sys::Worker>,
    /// How many workers were started.
    worker_count: usize,
    redraw_pending: bool,
    // The workers' handlers; dropped with the computation (never from inside one of them).
    _on_message: Vec<Closure<dyn FnMut(web_sys::MessageEvent)>>,
    _on_error: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Computation {
    fn post(&self, worker: usize, request: &crate::analysis::Request) {
        if let (Some(w), Ok(text)) = (self.workers.get(worker), serde_json::to_string(request)) {
            let _ = w.post_message(&JsValue::from_str(&text));
        }
    }

    /// Gives a worker its next job, if there is one left.
    fn feed(&mut self, worker: usize) {
        if self.next < self.plan.jobs() {
            // The tab's state budget is shared by every worker of the computation.
            let job = self
                .plan
                .job(self.next)
                .with_workers(self.worker_count as u32);
            self.next += 1;
            self.post(worker, &job);
        }
    }

    /// Stops every worker at once (a run in progress included) and records why.
    fn stop(&mut self, status: Status) {
        for worker in &self.workers {
            worker.terminate();
        }
        self.workers.clear();
        self.elapsed_ms = now_ms() - self.started_ms;
        self.status = status;
    }

    fn on_reply(&mut self, worker: usize, reply: Reply) {
        if self.status != Status::Running {
            return;
        }
        if reply == Reply::Ready {
            if let Some(setup) = &self.plan.setup {
                let setup = setup.clone().with_workers(self.worker_count as u32);
                self.post(worker, &setup);
            }
            // Two jobs in hand: the worker starts the next while its answer to the first
            // waits for the page (which may be busy redrawing).
            for _ in 0..JOBS_IN_HAND {
                self.feed(worker);
            }
            return;
        }
        match self.results.add(reply) {
            Err(message) => self.stop(Status::Failed(message)),
            Ok(()) if self.results.complete(&self.plan) => self.stop(Status::Done),
            // A job the answers so far make possible (hysteresis: adding the seeds up) goes
            // to the worker that is free.
            Ok(()) => match self.results.follow_up(&self.plan) {
                Some(job) => self.post(worker, &job),
                None => self.feed(worker),
            },
        }
    }
}

impl Drop for Computation {
    fn drop(&mut self) {
        for worker in &self.workers {
            worker.terminate();
        }
    }
}

type Shared = Rc<RefCell<Option<Computation>>>;

/// As many workers as the machine has cores (the page itself is idle meanwhile), at most 8.
fn worker_count() -> usize {
    let cores = web_sys::window()
        .map(|w| w.navigator().hardware_concurrency())
        .unwrap_or(2.0);
    (cores as usize).clamp(1, 8)
}

/// How often the picture is redrawn while answers stream in: often enough to watch it fill
/// in, rarely enough that drawing does not take the workers' cores.
const REDRAW_MS: i32 = 100;

/// Redraws at most every [`REDRAW_MS`] while answers stream in (at once when it ends).
fn schedule_redraw(shared: &Shared, redraw: &Callback<()>) {
    let mut guard = shared.borrow_mut();
    let Some(computation) = guard.as_mut() else {
        return;
    };
    if computation.status != Status::Running {
        drop(guard);
        redraw.emit(());
        return;
    }
    if computation.redraw_pending {
        return;
    }
    computation.redraw_pending = true;
    drop(guard);
    let weak = Rc::downgrade(shared);
    let redraw = redraw.clone();
    let frame = Closure::once_into_js(move || {
        if let Some(shared) = weak.upgrade() {
            if let Some(c) = shared.borrow_mut().as_mut() {
                c.redraw_pending = false;
            }
            redraw.emit(());
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            frame.unchecked_ref(),
            REDRAW_MS,
        );
    }
}

/// Starts computing `plan` in fresh workers, replacing any computation under way.
fn start(shared: &Shared, plan: Plan, config: AnalysisConfig, redraw: Callback<()>) {
    // The previous computation's workers stop here (outside their handlers).
    shared.borrow_mut().take();
    let plan = Rc::new(plan);
    let mut computation = Computation {
        results: Results::for_plan(&plan),
        plan,
        config,
        next: 0,
        status: Status::Running,
        started_ms: now_ms(),
        elapsed_ms: 0.0,
        workers: Vec::new(),
        worker_count: 0,
        redraw_pending: false,
        _on_message: Vec::new(),
        _on_error: Vec::new(),
    };
    let weak: Weak<RefCell<Option<Computation>>> = Rc::downgrade(shared);
    let count = worker_count().min(computation.plan.jobs()).max(1);
    for index in 0..count {
        let worker = match web_sys::Worker::new(WORKER_URL) {
            Ok(worker) => worker,
            Err(e) => {
                computation.stop(Status::Failed(format!(
                    "The analysis workers could not start ({}).",
                    e.as_string().unwrap_or_else(|| format!("{e:?}"))
                )));
                break;
            }
        };
        let on_message = {
            let weak = weak.clone();
            let redraw = redraw.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                let reply = event
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<Reply>(&text).ok())
                    .unwrap_or_else(|| Reply::Failed {
                        message: "A worker sent an answer that could not be read.".into(),
                    });
                if let Some(c) = shared.borrow_mut().as_mut() {
                    c.on_reply(index, reply);
                }
                schedule_redraw(&shared, &redraw);
            })
        };
        let on_error = {
            let weak = weak.clone();
            let redraw = redraw.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                event.prevent_default();
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                let detail = event
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| format!("{WORKER_URL} did not load"));
                if let Some(c) = shared.borrow_mut().as_mut() {
                    if c.status == Status::Running {
                        c.stop(Status::Failed(format!(
                            "An analysis worker stopped: {detail}."
                        )));
                    }
                }
                schedule_redraw(&shared, &redraw);
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        computation.workers.push(worker);
        computation.worker_count += 1;
        computation._on_message.push(on_message);
        computation._on_error.push(on_error);
    }
    *shared.borrow_mut() = Some(computation);
    redraw.emit(());
}

/// What the view reads of the playground's state and what it asks of it: it lives in a binary
/// of its own (`analysis_main.rs`), fetched the first time the view opens, so it knows the
/// playground only through these.
#[derive(Properties, PartialEq)]
pub struct AnalysisProps {
    /// The scenario's document.
    pub doc: Rc<Value>,
    /// Its name.
    pub name: AttrValue,
    /// Whether the playground has problems to show for it (then nothing can run).
    pub has_problems: bool,
    /// The settings the address records (none: the defaults for the document).
    pub config: Option<AnalysisConfig>,
    /// New settings, for the address.
    pub on_config: Callback<AnalysisConfig>,
    /// A point of a figure, to open in the playground.
    pub on_open: Callback<Value>,
}

/// The analysis view: settings on the left, the picture on the right.
#[function_component(AnalysisView)]
pub fn analysis_view(props: &AnalysisProps) -> Html {
    let doc = &*props.doc;
    let shared: Rc<Shared> = use_memo((), |_| Rc::new(RefCell::new(None)));
    let shared: Shared = (*shared).clone();
    let force = use_force_update();
    let redraw = Callback::from(move |()| force.force_update());
    let hover = use_state(|| None::<usize>);
    let config = props
        .config
        .clone()
        .unwrap_or_else(|| AnalysisConfig::default_for(doc));
    // Planning checks every grid point's scenario: once per settings, not once per frame
    // while answers stream in.
    let plan = use_memo((props.doc.clone(), config.clone()), |(doc, config)| {
        Plan::new(doc, config)
    });

    let run = {
        let shared = shared.clone();
        let redraw = redraw.clone();
        let plan = plan.clone();
        let config = config.clone();
        Callback::from(move |_: ()| {
            if let Ok(plan) = plan.as_ref() {
                start(&shared, plan.clone(), config.clone(), redraw.clone());
            }
        })
    };
    // Opening the view computes it at once (a link to it shows its picture), and so does
    // choosing another picture: each computes its own, or shows none when it cannot run
    // (never the previous picture under the new heading).
    {
        let run = run.clone();
        let shared = shared.clone();
        let redraw = redraw.clone();
        let runnable = plan.is_ok() && !props.has_problems;
        use_effect_with(config.mode, move |_| {
            if runnable {
                run.emit(());
            } else if shared.borrow_mut().take().is_some() {
                redraw.emit(());
            }
        });
    }
    let cancel = {
        let shared = shared.clone();
        let redraw = redraw.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(c) = shared.borrow_mut().as_mut() {
                if c.status == Status::Running {
                    c.stop(Status::Cancelled);
                }
            }
            redraw.emit(());
        })
    };
    let download = {
        let shared = shared.clone();
        let stem = crate::link::file_stem(&props.name);
        Callback::from(move |_: MouseEvent| {
            if let Some(c) = shared.borrow().as_ref() {
                let name = format!("{stem}-{}.csv", c.plan.mode.id());
                let _ = super::files::download_text(
                    &name,
                    "text/csv",
                    &crate::analysis::csv(&c.plan, &c.results),
                );
            }
        })
    };
    let set = { props.on_config.clone() };

    let guard = shared.borrow();
    // Only a computation of the picture chosen is shown (until the effect above replaces it,
    // one of another picture may still be there).
    let computation = guard.as_ref().filter(|c| c.plan.mode == config.mode);
    let running = computation.is_some_and(|c| c.status == Status::Running);
    let stale = computation.is_some_and(|c| c.config != config);

    let status_line = match computation {
        None => "Press Run to compute.".to_string(),
        Some(c) => {
            let jobs = c.plan.jobs();
            let (done, runs) = (c.results.done, c.results.runs);
            // "12 of 80 runs"; a tipping search counts loads, each of several runs; hysteresis
            // seeds, each a whole staircase, then adds them up.
            let progress = match c.plan.mode {
                Mode::Tip => format!("{done} of {jobs} loads ({})", plural(runs, "run")),
                Mode::Hysteresis if done >= jobs && c.results.hysteresis.is_none() => {
                    format!("{done} of {jobs} seeds, adding them up")
                }
                Mode::Hysteresis => format!("{done} of {jobs} seeds"),
                Mode::Phase | Mode::Model => format!("{done} of {jobs} runs"),
            };
            let counted = if c.plan.mode == Mode::Hysteresis {
                plural(runs, "seed")
            } else {
                plural(runs, "run")
            };
            let seconds = |ms: f64| format!("{:.1} s", ms / 1000.0);
            match &c.status {
                Status::Running => format!(
                    "Computing: {progress} · {} · {}",
                    seconds(now_ms() - c.started_ms),
                    plural(c.workers.len(), "worker")
                ),
                Status::Done => format!(
                    "Done: {counted} in {} on {}.{}",
                    seconds(c.elapsed_ms),
                    plural(c.worker_count, "worker"),
                    if stale {
                        " The settings have changed since: press Run to compute them."
                    } else {
                        ""
                    }
                ),
                Status::Cancelled => {
                    format!("Cancelled after {progress} in {}.", seconds(c.elapsed_ms))
                }
                Status::Failed(message) => format!("Stopped: {message}"),
            }
        }
    };
    let failed = computation.is_some_and(|c| matches!(c.status, Status::Failed(_)));

    let open = {
        let on_open = props.on_open.clone();
        let plan = computation.map(|c| c.plan.clone());
        Callback::from(move |(point, y): (usize, Option<f64>)| {
            if let Some(doc) = plan.as_ref().and_then(|p| p.doc_at(point, y)) {
                on_open.emit(doc);
            }
        })
    };
    let figure = match computation {
        Some(c) if c.plan.mode == Mode::Phase => phase_figure(c, doc, open, hover.clone()),
        Some(c) if c.plan.mode == Mode::Model => model_figure(c),
        Some(c) if c.plan.mode == Mode::Hysteresis => hysteresis_figure(c, doc, hover.clone()),
        Some(c) => tip_figure(c, doc, open, hover.clone()),
        None => html! {
            <p class="hint analysis-empty" data-testid="analysis-empty">
                { "Nothing computed for this picture yet: press Run." }
            </p>
        },
    };
    let progress = computation.map(|c| {
        html! {
            <progress max={c.plan.jobs().to_string()} value={c.results.done.to_string()}
                aria-label="Progress" />
        }
    });
    let problem = if props.has_problems {
        Some("The scenario has problems: fix them in the playground first.".to_string())
    } else {
        (*plan).as_ref().err().cloned()
    };
    let name = props.name.clone();

    html! {
        <main class="analysis" data-testid="analysis">
            <section class="analysis-settings" aria-label="Analysis settings">
                <h2>{ "Analysis" }</h2>
                <p class="hint">
                    { format!("Of \u{201c}{name}\u{201d}: ") }
                    { match config.mode {
                        Mode::Phase => "the verdict over a grid of one or two parameters, each point run with the chosen seeds.",
                        Mode::Tip => "for each load, the smallest trigger that leaves the system metastable in at least half of the seeds (found by bisection).",
                        Mode::Model => "why it tips: the fluid model's stable point, the saddle beyond it, and the simulated path between them.",
                        Mode::Hysteresis => "goodput as the load climbs a staircase and comes back down: the loads it serves on the way up and not on the way down.",
                    } }
                </p>
                { settings_form(&config, doc, set) }
                <div class="analysis-actions">
                    <button class="primary" data-testid="analysis-run" disabled={problem.is_some()}
                        onclick={run.reform(|_: MouseEvent| ())}>
                        { if running { "Restart" } else { "Run" } }
                    </button>
                    <button data-testid="analysis-cancel" disabled={!running} onclick={cancel}>{ "Cancel" }</button>
                    <button data-testid="analysis-csv" disabled={computation.is_none_or(|c| c.results.done == 0)}
                        onclick={download} title="The results so far as CSV, in the CLI's columns">{ "CSV" }</button>
                </div>
                if let Some(problem) = problem {
                    <p class="field-error" role="alert" data-testid="analysis-problem">{ problem }</p>
                }
                { for progress }
                <p class={classes!("analysis-status", failed.then_some("field-error"))}
                    data-testid="analysis-status" aria-live="polite">{ status_line }</p>
                if let Some(c) = computation {
                    <p class="hint">{ format!("At most {} · on the command line: metastable {}", plural(c.plan.most_runs(), "run"), cli_words(&c.config)) }</p>
                }
            </section>
            <section class="analysis-figure" aria-label="Result">
                { figure }
            </section>
        </main>
    }
}

/// "1 run", "12 runs".
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The same computation on the command line (for the hint).
fn cli_words(config: &AnalysisConfig) -> String {
    match config.mode {
        Mode::Phase => {
            let mut words = format!("sweep SCENARIO --x {}", config.x.spec());
            if let Some(y) = &config.y {
                words.push_str(&format!(" --y {}", y.spec()));
            }
            words.push_str(&format!(" --seeds {}", config.seeds));
            words
        }
        Mode::Model => "fluid SCENARIO --plot state-space.svg".to_string(),
        Mode::Hysteresis => format!(
            "hysteresis SCENARIO --load {} --hold-s {} --seeds {}",
            config.x.spec(),
            number_text(config.hold_s),
            config.seeds
        ),
        Mode::Tip => format!(
            "tip SCENARIO --load {} --trigger {} --seeds {} --steps {}",
            config.x.spec(),
            config
                .trigger
                .as_ref()
                .map(|t| format!("{}={}..{}", t.path, number_text(t.lo), number_text(t.hi)))
                .unwrap_or_default(),
            config.seeds,
            config.steps
        ),
    }
}

/// The label of a parameter for people: "users: Rate (users.rate)".
fn label_of(doc: &serde_json::Value, path: &str) -> String {
    match resolve_knob(doc, path) {
        Some(knob) if !knob.field.unit.is_empty() => {
            format!("{} ({}, {path})", knob.label, knob.field.unit)
        }
        Some(knob) => format!("{} ({path})", knob.label),
        None => path.to_string(),
    }
}

#[derive(Properties, PartialEq)]
struct NumberInputProps {
    testid: AttrValue,
    /// The committed value.
    value: AttrValue,
    #[prop_or(AttrValue::Static("any"))]
    step: AttrValue,
    #[prop_or_default]
    min: Option<AttrValue>,
    #[prop_or_default]
    max: Option<AttrValue>,
    /// The text, when the field is committed (change: Enter, leaving it, the arrows).
    on_commit: Callback<String>,
}

/// A number field that keeps what is being typed (the view redraws every 100 ms while a
/// computation runs): the playground's draft field, committed on Enter, on leaving it and by
/// the arrows — not after a pause, since each commit starts a computation.
#[function_component(NumberInput)]
fn number_input(props: &NumberInputProps) -> Html {
    let step = props.step.parse::<f64>().ok();
    let bound = |b: &Option<AttrValue>| b.as_ref().and_then(|v| v.parse::<f64>().ok());
    let (min, max) = (bound(&props.min), bound(&props.max));
    let check = Callback::from(move |typed: String| {
        let typed = typed.trim().to_string();
        match crate::fields::parse_number(&typed) {
            None => Some(format!("A number, please — you typed {typed}")),
            Some(v) if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) => Some(format!(
                "From {} to {} — you typed {typed}",
                min.map_or("−∞".into(), crate::format::num),
                max.map_or("∞".into(), crate::format::num)
            )),
            Some(_) => None,
        }
    });
    html! {
        <super::draft::DraftInput id={format!("analysis-{}", props.testid)} testid={Some(props.testid.clone())}
            value={props.value.clone()} on_commit={props.on_commit.clone()} check={Some(check)}
            commit_on_pause={Some(false)} step={Some(step.unwrap_or(1.0))} />
    }
}

fn select_value(e: &Event) -> Option<String> {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
}

/// What an axis of the form sweeps: any numeric parameter, or a client's load (a hysteresis
/// staircase's).
#[derive(Clone, Copy, PartialEq)]
enum Sweeps {
    Any,
    Load,
}

/// One axis's row of the form: the parameter, its range and (with `count`) how many values.
#[allow(clippy::too_many_arguments)]
fn range_fields(
    id: &'static str,
    legend: &'static str,
    range: Option<&Range>,
    optional: bool,
    count: bool,
    sweeps: Sweeps,
    doc: &serde_json::Value,
    on_change: Callback<Option<Range>>,
) -> Html {
    let mut candidates = match sweeps {
        Sweeps::Any => crate::analysis::parameters(doc),
        Sweeps::Load => crate::analysis::load_parameters(doc),
    };
    // A load that is not a client's (kept from another picture, or from a link) is still
    // shown as chosen: the workers say what is wrong with it.
    if let Some(r) = range.filter(|r| sweeps == Sweeps::Load && !candidates.contains(&r.path)) {
        candidates.insert(0, r.path.clone());
    }
    let on_path = {
        let doc = doc.clone();
        let on_change = on_change.clone();
        let n = range.map_or(8, |r| r.n);
        Callback::from(move |e: Event| {
            let Some(path) = select_value(&e) else {
                return;
            };
            on_change.emit((!path.is_empty()).then(|| match sweeps {
                Sweeps::Any => Range::around(&doc, &path, n),
                Sweeps::Load => Range::for_load(&doc, &path),
            }));
        })
    };
    let number = |which: &'static str| {
        let range = range.cloned();
        let on_change = on_change.clone();
        Callback::from(move |text: String| {
            let Some(mut range) = range.clone() else {
                return;
            };
            let Ok(value) = text.trim().parse::<f64>() else {
                return;
            };
            match which {
                "lo" => range.lo = value,
                "hi" => range.hi = value,
                _ => range.n = value.max(0.0).round() as usize,
            }
            on_change.emit(Some(range));
        })
    };
    let current = range.map(|r| r.path.clone()).unwrap_or_default();
    html! {
        <fieldset class="analysis-axis" data-axis={id}>
            <legend>{ legend }</legend>
            <label>
                <span>{ "Parameter" }</span>
                <select data-testid={format!("{id}-path")} onchange={on_path}>
                    if optional {
                        <option value="" selected={current.is_empty()}>{ "(none: one row)" }</option>
                    }
                    { for candidates.iter().map(|path| html! {
                        <option value={path.clone()} selected={*path == current}>{ label_of(doc, path) }</option>
                    }) }
                </select>
            </label>
            if let Some(range) = range {
                <div class="analysis-range">
                    <label><span>{ "From" }</span>
                        <NumberInput testid={format!("{id}-lo")} value={number_text(range.lo)}
                            on_commit={number("lo")} /></label>
                    <label><span>{ "to" }</span>
                        <NumberInput testid={format!("{id}-hi")} value={number_text(range.hi)}
                            on_commit={number("hi")} /></label>
                    if count {
                        <label><span>{ "values" }</span>
                            <NumberInput testid={format!("{id}-n")} value={range.n.to_string()}
                                min="1" max={crate::analysis::MAX_SIDE.to_string()} step="1"
                                on_commit={number("n")} /></label>
                    }
                </div>
            }
        </fieldset>
    }
}

fn settings_form(
    config: &AnalysisConfig,
    doc: &serde_json::Value,
    set: Callback<AnalysisConfig>,
) -> Html {
    let with = |f: fn(&mut AnalysisConfig, Option<Range>)| {
        let config = config.clone();
        let set = set.clone();
        Callback::from(move |range: Option<Range>| {
            let mut next = config.clone();
            f(&mut next, range);
            set.emit(next);
        })
    };
    let mode = |mode: Mode, label: &'static str| {
        let checked = config.mode == mode;
        let config = config.clone();
        let set = set.clone();
        let doc = doc.clone();
        let onchange = Callback::from(move |_: Event| set.emit(config.with_mode(mode, &doc)));
        html! {
            <label class="analysis-mode">
                <input type="radio" name="analysis-mode" value={mode.id()}
                    {checked} {onchange} />
                { label }
            </label>
        }
    };
    let whole = |which: &'static str| {
        let config = config.clone();
        let set = set.clone();
        Callback::from(move |text: String| {
            let Ok(value) = text.trim().parse::<u32>() else {
                return;
            };
            let mut next = config.clone();
            if which == "seeds" {
                next.seeds = value;
            } else {
                next.steps = value;
            }
            set.emit(next);
        })
    };
    let hold = {
        let config = config.clone();
        let set = set.clone();
        Callback::from(move |text: String| {
            let Some(value) = crate::fields::parse_number(text.trim()) else {
                return;
            };
            set.emit(AnalysisConfig {
                hold_s: value,
                ..config.clone()
            });
        })
    };
    html! {
        <div class="analysis-form">
            <div class="analysis-modes" role="radiogroup" aria-label="Picture">
                { mode(Mode::Phase, "Phase diagram") }
                { mode(Mode::Tip, "Tipping trigger") }
                { mode(Mode::Model, "Fluid model") }
                { mode(Mode::Hysteresis, "Hysteresis") }
            </div>
            if config.mode == Mode::Model {
                <p class="hint">{ "The mean-field model of docs/fluid.md for this scenario: its equilibria, the loads at which it is bistable, and its vector field over the calls at the server (q) and the requests in orbit (r), with the model's trajectory and one simulated run drawn on it." }</p>
            } else if config.mode == Mode::Phase {
                { range_fields("x", "Horizontal axis", Some(&config.x), false, true, Sweeps::Any, doc,
                    with(|c, r| if let Some(r) = r { c.x = r })) }
                { range_fields("y", "Vertical axis", config.y.as_ref(), true, true, Sweeps::Any, doc,
                    with(|c, r| c.y = r)) }
            } else if config.mode == Mode::Hysteresis {
                { range_fields("x", "Load (the staircase's steps)", Some(&config.x), false, true, Sweeps::Load, doc,
                    with(|c, r| if let Some(r) = r { c.x = r })) }
                <p class="hint">{ "The load climbs from the first value to the last and comes back down, each step held for the hold time; the latter half of each step is measured. The scenario's own triggers are left out: the staircase is the only change of load." }</p>
            } else {
                { range_fields("x", "Load", Some(&config.x), false, true, Sweeps::Any, doc,
                    with(|c, r| if let Some(r) = r { c.x = r })) }
                { range_fields("trigger", "Trigger searched", config.trigger.as_ref(), false, false, Sweeps::Any, doc,
                    with(|c, r| c.trigger = r)) }
            }
            if config.mode != Mode::Model {
            <div class="analysis-range">
                <label><span>{ if config.mode == Mode::Hysteresis { "Seeds" } else { "Seeds per point" } }</span>
                    <NumberInput testid="analysis-seeds" value={config.seeds.to_string()}
                        min="1" max={crate::analysis::MAX_SEEDS.to_string()} step="1"
                        on_commit={whole("seeds")} /></label>
                if config.mode == Mode::Hysteresis {
                    <label><span>{ "Hold time (s a step)" }</span>
                        <NumberInput testid="analysis-hold" value={number_text(config.hold_s)}
                            min={number_text(crate::analysis::MIN_HOLD_S)}
                            max={number_text(crate::analysis::MAX_HOLD_S)} step="5"
                            on_commit={hold} /></label>
                }
                if config.mode == Mode::Tip {
                    <label><span>{ "Halvings" }</span>
                        <NumberInput testid="analysis-steps" value={config.steps.to_string()}
                            min="0" max={crate::analysis::MAX_STEPS.to_string()} step="1"
                            on_commit={whole("steps")} /></label>
                }
            </div>
            }
        </div>
    }
}

const W: f64 = 760.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 56.0;

/// A figure's title: what the picture shows, above it.
/// A legend entry: a mark drawn as in the figure, and what it means.
fn legend_key(testid: &'static str, mark: Html, text: String) -> Html {
    html! {
        <li data-mark={testid}>
            <svg class="analysis-key" viewBox="0 0 28 16" width="28" height="16" aria-hidden="true">{ mark }</svg>
            { text }
        </li>
    }
}

fn figure_title(text: String) -> Html {
    html! {
        <h3 class="analysis-title" data-testid="figure-title">{ text }</h3>
    }
}

/// "one seed", "3 seeds" for the figures' titles.
fn seeds_words(seeds: usize) -> String {
    if seeds == 1 {
        "one seed".to_string()
    } else {
        format!("majority of {seeds} seeds")
    }
}

fn text_at(x: f64, y: f64, anchor: &'static str, text: String) -> Html {
    html! {
        <text x={format!("{x:.1}")} y={format!("{y:.1}")} text-anchor={anchor}>{ text }</text>
    }
}

/// A vertical axis's title, turned to read upwards beside a plot area `ph` high.
fn y_axis_title(ph: f64, text: String) -> Html {
    let (tx, ty) = (16.0, TOP + ph / 2.0);
    html! {
        <text x={format!("{tx}")} y={format!("{ty:.1}")} text-anchor="middle"
            transform={format!("rotate(-90 {tx} {ty:.1})")}>{ text }</text>
    }
}

/// Moves the keyboard focus to a cell of the phase diagram.
fn focus_cell(point: usize) {
    let cell = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!(
                "[data-testid=phase-diagram] rect[data-point=\"{point}\"]"
            ))
            .ok()
            .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::SvgElement>().ok());
    if let Some(cell) = cell {
        let _ = cell.focus();
    }
}

/// The phase diagram: one cell per grid point, its colour the seeds' majority verdict, its
/// shade their agreement; pale grey until its first seed is in.
fn phase_figure(
    c: &Computation,
    doc: &serde_json::Value,
    open: Callback<(usize, Option<f64>)>,
    hover: UseStateHandle<Option<usize>>,
) -> Html {
    let plan = &c.plan;
    let sweep = &plan.sweep;
    let nx = sweep.x.values.len();
    let ny = sweep.y.as_ref().map_or(1, |y| y.values.len());
    let h = if sweep.y.is_some() { 460.0 } else { 170.0 };
    let (pw, ph) = (W - LEFT - RIGHT, h - TOP - BOTTOM);
    let (cw, ch) = (pw / nx as f64, ph / ny as f64);
    let seeds = sweep.seeds as usize;
    let describe = |i: usize| {
        let point = plan.points[i];
        let at = place(sweep, point);
        match c.results.outcome(i) {
            Some(o) => format!(
                "{at}: {} ({} of {} seeds)",
                o.verdict,
                (o.agreement * c.results.verdicts[i].len() as f64).round(),
                c.results.verdicts[i].len()
            ),
            None => format!("{at}: not computed yet"),
        }
    };
    // One tab stop for the whole grid (the cell last pointed at or focused); arrows move.
    let current = (*hover).filter(|i| *i < plan.points.len()).unwrap_or(0);
    let cells = plan.points.iter().enumerate().map(|(i, point)| {
        let x = LEFT + point.ix as f64 * cw;
        let y = TOP + (ny - 1 - point.iy) as f64 * ch;
        let outcome = c.results.outcome(i);
        let colour = outcome.as_ref().map_or_else(
            || "var(--pending)".to_string(),
            |o| fill(o.verdict, o.agreement),
        );
        let verdict = outcome.as_ref().map_or("pending", |o| o.verdict.as_str());
        let label = describe(i);
        let onclick = open.reform(move |_: MouseEvent| (i, None));
        let (ix, iy) = (point.ix, point.iy);
        let onkeydown = {
            let open = open.clone();
            Callback::from(move |e: KeyboardEvent| {
                let next = match e.key().as_str() {
                    "Enter" | " " => {
                        e.prevent_default();
                        open.emit((i, None));
                        return;
                    }
                    "ArrowLeft" if ix > 0 => i - 1,
                    "ArrowRight" if ix + 1 < nx => i + 1,
                    "ArrowUp" if iy + 1 < ny => i + nx,
                    "ArrowDown" if iy > 0 => i - nx,
                    _ => return,
                };
                e.prevent_default();
                focus_cell(next);
            })
        };
        let onmouseenter = {
            let hover = hover.clone();
            Callback::from(move |_: MouseEvent| hover.set(Some(i)))
        };
        let onfocus = {
            let hover = hover.clone();
            Callback::from(move |_: FocusEvent| hover.set(Some(i)))
        };
        html! {
            <rect class="cell" x={format!("{x:.2}")} y={format!("{y:.2}")}
                width={format!("{:.2}", cw + 0.3)} height={format!("{:.2}", ch + 0.3)}
                fill={colour} data-verdict={verdict} data-point={i.to_string()}
                data-seeds={c.results.verdicts[i].len().to_string()}
                tabindex={if i == current { "0" } else { "-1" }} role="button" aria-label={label.clone()}
                {onclick} {onkeydown} {onmouseenter} {onfocus}>
                <title>{ label }</title>
            </rect>
        }
    });
    let x_ticks = ticks(nx, 10).into_iter().map(|ix| {
        let x = LEFT + (ix as f64 + 0.5) * cw;
        text_at(x, TOP + ph + 16.0, "middle", num(plan.points[ix].x))
    });
    let y_ticks = sweep.y.as_ref().map(|y| {
        ticks(y.values.len(), 12)
            .into_iter()
            .map(|iy| {
                let yy = TOP + (ny - 1 - iy) as f64 * ch + ch / 2.0 + 4.0;
                text_at(LEFT - 6.0, yy, "end", num(plan.points[iy * nx].y))
            })
            .collect::<Html>()
    });
    let x_title = text_at(
        LEFT + pw / 2.0,
        h - 12.0,
        "middle",
        label_of(doc, &sweep.x.path),
    );
    let y_title = sweep
        .y
        .as_ref()
        .map(|y| y_axis_title(ph, label_of(doc, &y.path)));
    // The legend: each verdict present, with its count.
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for i in 0..plan.points.len() {
        if let Some(o) = c.results.outcome(i) {
            match counts.iter_mut().find(|(v, _)| *v == o.verdict) {
                Some((_, n)) => *n += 1,
                None => counts.push((o.verdict, 1)),
            }
        }
    }
    counts.sort_by_key(|(v, _)| Verdict::ALL.iter().position(|a| a == v));
    let readout = (*hover)
        .filter(|i| *i < plan.points.len())
        .map(describe)
        .unwrap_or_else(|| {
            "Point at a cell to read it; click it to open that scenario in the playground.".into()
        });
    let title = match &sweep.y {
        Some(y) => format!(
            "Verdict by {} and {} ({})",
            sweep.x.path,
            y.path,
            seeds_words(seeds)
        ),
        None => format!("Verdict by {} ({})", sweep.x.path, seeds_words(seeds)),
    };
    html! {
        <figure class="phase">
            { figure_title(title) }
            <svg viewBox={format!("0 0 {W} {h}")} role="group" data-testid="phase-diagram"
                aria-label={format!("Phase diagram: {} points", plan.points.len())}
                onmouseleave={ let hover = hover.clone(); Callback::from(move |_: MouseEvent| hover.set(None)) }>
                { for cells }
                <g class="ticks">{ for x_ticks }{ y_ticks.unwrap_or_default() }</g>
                <g class="axis-title">{ x_title }{ y_title.unwrap_or_default() }</g>
            </svg>
            <figcaption>
                <p class="readout" data-testid="analysis-readout">{ readout }</p>
                <ul class="legend" data-testid="phase-legend">
                    { for counts.iter().map(|(v, n)| html! {
                        <li><span class="swatch" style={format!("background:{}", fill(*v, 1.0))}></span>
                            { format!("{v} ({n})") }</li>
                    }) }
                </ul>
                if seeds > 1 {
                    <p class="hint">{ format!("{seeds} seeds per point: paler cells are points where the seeds disagree.") }</p>
                }
            </figcaption>
        </figure>
    }
}

/// The tipping curve: per load, the smallest trigger found to tip the system (with the
/// bisection's bracket); the region above it shaded: triggers that large leave the system
/// metastable.
fn tip_figure(
    c: &Computation,
    doc: &serde_json::Value,
    open: Callback<(usize, Option<f64>)>,
    hover: UseStateHandle<Option<usize>>,
) -> Html {
    let plan = &c.plan;
    let h = 420.0;
    let (pw, ph) = (W - LEFT - RIGHT, h - TOP - BOTTOM);
    let xs: Vec<f64> = plan.points.iter().map(|p| p.x).collect();
    let (x0, x1) = match (xs.first(), xs.last()) {
        (Some(a), Some(b)) if b > a => (*a, *b),
        (Some(a), _) => (a - 0.5, a + 0.5),
        _ => (0.0, 1.0),
    };
    let (y0, y1) = if plan.high > plan.low {
        (plan.low, plan.high)
    } else {
        (plan.low - 0.5, plan.high + 0.5)
    };
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let trigger_path = plan.sweep.y.as_ref().map_or("", |y| y.path.as_str());
    let describe = |i: usize| {
        let load = format!("{} = {}", plan.sweep.x.path, number_text(xs[i]));
        match c.results.thresholds[i] {
            None => format!("{load}: not searched yet"),
            Some(Threshold::Never) => format!(
                "{load}: no trigger up to {} leaves it metastable (with {trigger_path} = {}: {})",
                number_text(plan.high),
                number_text(plan.high),
                c.results.at_high[i].map_or("?", Verdict::as_str)
            ),
            Some(Threshold::AtOrBelow(t)) => {
                format!(
                    "{load}: tips already at {trigger_path} = {}",
                    number_text(t)
                )
            }
            Some(Threshold::Between(a, b)) => format!(
                "{load}: tips at {trigger_path} = {} (not at {})",
                number_text(b),
                number_text(a)
            ),
        }
    };
    // Every load searched: its mark (a load no trigger tips sits on the top edge, hollow).
    let searched: Vec<(usize, f64, f64)> = c
        .results
        .thresholds
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let t = (*t)?;
            Some((i, xs[i], t.tipping().unwrap_or(plan.high)))
        })
        .collect();
    // The curve joins the loads that do tip: one that none tips is not on it (it may be
    // overloaded without any trigger, or safe from every trigger tried).
    let curve: Vec<&(usize, f64, f64)> = searched
        .iter()
        .filter(|(i, _, _)| {
            c.results.thresholds[*i]
                .and_then(Threshold::tipping)
                .is_some()
        })
        .collect();
    let line: String = curve
        .iter()
        .map(|(_, x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
        .collect::<Vec<_>>()
        .join(" ");
    let region = match (curve.first(), curve.last()) {
        (Some(first), Some(last)) => format!(
            "{:.1},{:.1} {line} {:.1},{:.1}",
            sx(first.1),
            sy(y1),
            sx(last.1),
            sy(y1)
        ),
        _ => String::new(),
    };
    let marks = searched.iter().map(|&(i, x, y)| {
        let threshold = c.results.thresholds[i];
        let kind = match threshold {
            Some(Threshold::Never) => "never",
            Some(Threshold::AtOrBelow(_)) => "at-or-below",
            _ => "between",
        };
        let whisker = match threshold {
            Some(Threshold::Between(a, b)) => html! {
                <line class="bracket" x1={format!("{:.1}", sx(x))} x2={format!("{:.1}", sx(x))}
                    y1={format!("{:.1}", sy(a))} y2={format!("{:.1}", sy(b))} />
            },
            _ => html! {},
        };
        let label = describe(i);
        let onclick = open.reform(move |_: MouseEvent| (i, Some(y)));
        let onkeydown = {
            let open = open.clone();
            Callback::from(move |e: KeyboardEvent| {
                if e.key() == "Enter" || e.key() == " " {
                    e.prevent_default();
                    open.emit((i, Some(y)));
                }
            })
        };
        let onmouseenter = {
            let hover = hover.clone();
            Callback::from(move |_: MouseEvent| hover.set(Some(i)))
        };
        html! {
            <g>
                { whisker }
                <circle class={classes!("mark", kind)} cx={format!("{:.1}", sx(x))} cy={format!("{:.1}", sy(y))} r="6"
                    data-load={number_text(x)} data-kind={kind}
                    data-min={threshold.and_then(Threshold::tipping).map(number_text).unwrap_or_default()} tabindex="0" role="button" aria-label={label.clone()}
                    {onclick} {onkeydown} {onmouseenter}>
                    <title>{ label }</title>
                </circle>
            </g>
        }
    });
    let x_ticks = ticks(xs.len(), 10)
        .into_iter()
        .map(|i| text_at(sx(xs[i]), TOP + ph + 16.0, "middle", num(xs[i])));
    let y_ticks = (0..=4).map(|k| {
        let v = y0 + (y1 - y0) * k as f64 / 4.0;
        text_at(LEFT - 6.0, sy(v) + 4.0, "end", num(v))
    });
    let readout = (*hover)
        .filter(|i| *i < xs.len())
        .map(describe)
        .unwrap_or_else(|| {
            "Above the curve, a trigger that large leaves the system metastable (in at least half of the seeds); below it, the system heals. Click a point to open it.".into()
        });
    let title = format!(
        "Smallest trigger that tips the system, by load: {trigger_path} against {} ({})",
        plan.sweep.x.path,
        seeds_words(plan.sweep.seeds as usize)
    );
    let legend = html! {
        <ul class="legend" data-testid="tipping-legend">
            { legend_key("curve", html! { <>
                <polyline class="curve" points="1,13 27,3" />
                <circle class="mark" cx="14" cy="8" r="5" />
            </> }, "smallest trigger that tips it, per load (curve and points)".to_string()) }
            { legend_key("never", html! {
                <circle class="mark never" cx="14" cy="8" r="5" />
            }, format!("a load no trigger tips (up to {}; drawn on the top edge)", num(plan.high))) }
            { legend_key("bracket", html! {
                <line class="bracket" x1="14" x2="14" y1="1" y2="15" />
            }, "the bisection's bracket: tips at its top, not at its bottom".to_string()) }
            { legend_key("vulnerable", html! {
                <rect class="vulnerable" x="1" y="2" width="26" height="12" />
            }, "vulnerable: a trigger this large leaves it metastable".to_string()) }
        </ul>
    };
    html! {
        <figure class="tipping">
            { figure_title(title) }
            <svg viewBox={format!("0 0 {W} {h}")} role="group" data-testid="tipping-curve"
                aria-label="Minimum trigger that causes a metastable failure, against load">
                <rect class="plot-frame" x={format!("{LEFT}")} y={format!("{TOP}")}
                    width={format!("{pw}")} height={format!("{ph}")} />
                if !region.is_empty() {
                    <polygon class="vulnerable" points={region} />
                    <polyline class="curve" points={line} />
                }
                { for marks }
                <g class="ticks">{ for x_ticks }{ for y_ticks }</g>
                <g class="axis-title">
                    { text_at(LEFT + pw / 2.0, h - 12.0, "middle", label_of(doc, &plan.sweep.x.path)) }
                    { y_axis_title(ph, format!("minimum {}", label_of(doc, trigger_path))) }
                </g>
            </svg>
            <figcaption>
                { legend }
                <p class="readout" data-testid="analysis-readout">{ readout }</p>
            </figcaption>
        </figure>
    }
}

/// The fluid model's picture: its vector field over q (log scale) × r, its equilibria by
/// stability, its trajectory through the triggers (dashed) and the simulated run's path.
fn model_figure(c: &Computation) -> Html {
    use sim_core::fluid::{Fluid, Stability};
    let Some(point) = c.plan.points.first().copied() else {
        return html! {};
    };
    let Some(model) = c
        .plan
        .sweep
        .scenario(point, 0)
        .ok()
        .and_then(|s| Fluid::of(&s).ok().map(|m| (m, s)))
    else {
        return html! {};
    };
    let (model, scenario) = model;
    let trajectory = model.trajectory(scenario.bucket_s.max(0.1));
    let simulated: &[(f64, f64)] = c.results.trace.as_ref().map_or(&[], |t| t.path.as_slice());
    let (q_hi, r_hi) = model.frame(&trajectory, simulated);
    let h = 480.0;
    let (pw, ph) = (W - LEFT - RIGHT, h - TOP - BOTTOM);
    let log_span = q_hi.ln();
    let sx = |q: f64| LEFT + q.max(1.0).ln() / log_span * pw;
    let sy = |r: f64| TOP + ph - r / r_hi * ph;
    // Every arrow in one path: shaft, then head.
    let mut arrows = String::new();
    for arrow in model.field(q_hi, r_hi, 26, 16) {
        let Some((ux, uy)) = arrow.offset(pw, ph, 11.0) else {
            continue;
        };
        let (x0, y0) = (sx(arrow.q), sy(arrow.r));
        let (x1, y1) = (x0 + ux, y0 - uy);
        // Barbs in the picture's y-down pixels.
        let [a, b] = sim_core::fluid::Arrow::barbs(ux, uy).map(|(bx, by)| (x0 + bx, y0 - by));
        arrows.push_str(&format!(
            "M{x0:.1} {y0:.1}L{x1:.1} {y1:.1}M{:.1} {:.1}L{x1:.1} {y1:.1}L{:.1} {:.1}",
            a.0, a.1, b.0, b.1
        ));
    }
    let line = |points: &mut dyn Iterator<Item = (f64, f64)>| {
        points
            .map(|(q, r)| format!("{:.1},{:.1}", sx(q), sy(r)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let model_line = line(&mut trajectory.iter().map(|s| (s.q, s.r)));
    let sim_line = line(&mut simulated.iter().copied());
    let equilibria = model.equilibria(model.lambda);
    // Each label beside its point, clear of the frame (a point at r = 0 sits on the axis),
    // moved up until it overlaps no point and no other label, on a halo that keeps it
    // readable over the arrows.
    let mut taken: Vec<(f64, f64, f64, f64)> = equilibria
        .iter()
        .map(|e| {
            let (x, y) = (sx(e.q), sy(e.r));
            (x - 9.0, x + 9.0, y - 9.0, y + 9.0)
        })
        .collect();
    let placed: Vec<(&'static str, String, f64, f64, f64, f64, &'static str)> = equilibria
        .iter()
        .map(|e| {
            let kind = match e.stability {
                Stability::Stable => "stable",
                Stability::Saddle => "saddle",
                Stability::Unstable => "unstable",
            };
            let label = format!("{kind}: q = {}, r = {}", num(e.q), num(e.r));
            let (x, y) = (sx(e.q), sy(e.r));
            let width = label.chars().count() as f64 * 7.0;
            let (lx, anchor, left) = if x + 12.0 + width < LEFT + pw - 4.0 {
                (x + 12.0, "start", x + 12.0)
            } else {
                (x - 12.0, "end", x - 12.0 - width)
            };
            let mut ly = (y - 12.0).clamp(TOP + 16.0, TOP + ph - 6.0);
            let overlaps = |ly: f64, b: &(f64, f64, f64, f64)| {
                left < b.1 && left + width > b.0 && ly - 12.0 < b.3 && ly + 3.0 > b.2
            };
            while ly > TOP + 16.0 && taken.iter().any(|b| overlaps(ly, b)) {
                ly -= 4.0;
            }
            taken.push((left, left + width, ly - 12.0, ly + 3.0));
            (kind, label, x, y, lx, ly, anchor)
        })
        .collect();
    let marks = placed.into_iter().map(|(kind, label, x, y, lx, ly, anchor)| {
        html! {
            <g>
                <circle class={classes!("equilibrium", kind)} cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="7"
                    data-stability={kind}><title>{ label.clone() }</title></circle>
                <text class="analysis-label" x={format!("{lx:.1}")} y={format!("{ly:.1}")}
                    text-anchor={anchor}>{ label }</text>
            </g>
        }
    });
    let mut decade = 1.0;
    let mut q_ticks = Vec::new();
    while decade <= q_hi {
        q_ticks.push(text_at(sx(decade), TOP + ph + 16.0, "middle", num(decade)));
        decade *= 10.0;
    }
    let r_ticks = (0..=4).map(|k| {
        let r = r_hi * f64::from(k) / 4.0;
        text_at(LEFT - 6.0, sy(r) + 4.0, "end", num(r))
    });
    let facts = {
        let points: Vec<String> = equilibria
            .iter()
            .map(|e| {
                format!("q = {:.2}, r = {:.3} ({:?})", e.q, e.r, e.stability).to_ascii_lowercase()
            })
            .collect();
        let bistable = match model.bistable_loads() {
            Some((lo, hi)) => format!(
                "Bistable (a good point and a saddle) for loads from {lo:.1} to {hi:.1} requests/s: there a large enough trigger tips it; outside that range none can."
            ),
            None => "Never bistable: no trigger can tip it.".to_string(),
        };
        let simulated = c.results.trace.as_ref().map_or_else(
            || "the simulated run is being traced…".to_string(),
            |t| format!("the simulated run (seed {}): {}", scenario.seed, t.verdict),
        );
        html! {
            <ul class="model-facts" data-testid="model-facts">
                <li>{ format!("Equilibria at λ = {} requests/s: {}.", model.lambda, points.join("; ")) }</li>
                <li>{ bistable }</li>
                <li>{ format!("Verdict of the model: {}; {simulated}.", model.verdict()) }</li>
            </ul>
        }
    };
    html! {
        <figure class="state-space">
            { figure_title(format!("Fluid model: calls at the server × requests in orbit (λ = {} requests/s)", num(model.lambda))) }
            <svg viewBox={format!("0 0 {W} {h}")} role="img" data-testid="state-space"
                aria-label="The fluid model's state space: calls at the server against requests in orbit">
                <rect class="plot-frame" x={format!("{LEFT}")} y={format!("{TOP}")}
                    width={format!("{pw}")} height={format!("{ph}")} />
                <path class="field" d={arrows} />
                <polyline class="model-path" points={model_line} />
                <polyline class="sim-path" points={sim_line} data-points={simulated.len().to_string()} />
                { for marks }
                <g class="ticks">{ for q_ticks }{ for r_ticks }</g>
                <g class="axis-title">
                    { text_at(LEFT + pw / 2.0, h - 12.0, "middle", "calls at the server, q (queued and in service; log scale)".to_string()) }
                    { y_axis_title(ph, "requests in orbit, r (waiting out a backoff)".to_string()) }
                </g>
            </svg>
            <figcaption>
                <ul class="legend">
                    <li><span class="swatch sim"></span>{ "simulated path (one point per bucket)" }</li>
                    <li><span class="swatch model"></span>{ "model trajectory through the triggers" }</li>
                    <li><span class="swatch field"></span>{ format!("direction of motion at λ = {}", model.lambda) }</li>
                </ul>
                { facts }
            </figcaption>
        </figure>
    }
}

/// A round step for about `count` ticks over `span`: 1, 2, 2.5 or 5 times a power of ten.
fn tick_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// Moves the keyboard focus to a step's mark in the hysteresis figure.
fn focus_step(step: usize) {
    let mark = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!(
                "[data-testid=hysteresis-figure] [data-step=\"{step}\"]"
            ))
            .ok()
            .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::SvgElement>().ok());
    if let Some(mark) = mark {
        let _ = mark.focus();
    }
}

/// One step of the staircase in words, for the readout and the mark's label.
fn step_words(h: &HysteresisMsg, i: usize) -> String {
    use sim_core::hysteresis::Direction;
    let Some(s) = h.steps.get(i) else {
        return String::new();
    };
    let top = h.levels.len().saturating_sub(1);
    let way = match s.step.direction {
        Direction::Up if s.step.index == top => "at the top (the turning point)",
        Direction::Up => "on the way up",
        Direction::Down => "on the way down",
    };
    let slope = s.backlog_slope;
    let backlog = if slope.abs() < 0.05 {
        format!("backlog {}", num(s.backlog))
    } else if slope > 0.0 {
        format!("backlog {}, growing {}/s", num(s.backlog), num(slope))
    } else {
        format!("backlog {}, draining {}/s", num(s.backlog), num(-slope))
    };
    let state = if !s.collapsed {
        "healthy"
    } else if s.back {
        "collapsed, but the backlog drains: counts as back"
    } else {
        "collapsed"
    };
    let seeds = if h.seeds > 1 {
        format!(
            "; healthy in {} of {} seeds",
            (s.healthy * h.seeds as f64).round(),
            h.seeds
        )
    } else {
        String::new()
    };
    format!(
        "{} = {}, {way} (step {} of {}): goodput {} of {} requests/s offered, {backlog} — {state}{seeds}",
        h.path,
        num(s.step.load),
        s.step.index + 1,
        h.steps.len(),
        num(s.goodput),
        num(s.offered),
    )
}

/// What the experiment found, in sentences (the CLI's summary in the page's words), and the
/// command that prints the same numbers.
fn hysteresis_facts(h: &HysteresisMsg, cli: String) -> Html {
    use sim_core::hysteresis::Band;
    let path = &h.path;
    let lightest = num(h.levels.first().copied().unwrap_or(0.0));
    let heaviest = num(h.levels.last().copied().unwrap_or(0.0));
    let edges = h.edges;
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    facts.push((
        "tipping",
        match edges.tipping {
            Some(t) => format!(
                "Tipping load: {path} = {} — the first step up at which goodput collapsed (below half of the load offered).",
                num(t.load)
            ),
            None => format!(
                "Tipping load: none — goodput never collapsed on the way up to {heaviest}."
            ),
        },
    ));
    facts.push((
        "recovery",
        match (edges.tipping, edges.recovery) {
            (None, _) => "Recovery load: none — it never tipped.".to_string(),
            _ if h.band == Band::CollapsedAtStart => {
                "Recovery load: not measured — collapsed from the lightest load on.".to_string()
            }
            (Some(_), Some(r)) => format!(
                "Recovery load: {path} = {} — the first step down at which it was back: goodput healthy, or the backlog draining.",
                num(r.load)
            ),
            (Some(_), None) => format!(
                "Recovery load: none — still collapsed, the backlog not draining, at {lightest}, the lightest load."
            ),
        },
    ));
    if edges.tipping.is_some() && edges.healthy_again != edges.recovery {
        facts.push((
            "healthy-again",
            match edges.healthy_again {
                Some(l) => format!(
                    "Goodput itself healthy again at {path} = {} (the backlog took that long to drain).",
                    num(l.load)
                ),
                None => format!(
                    "Goodput itself is not healthy again down to {lightest}: the backlog was still draining."
                ),
            },
        ));
    }
    facts.push((
        "band",
        match h.band {
            Band::NotTipped => format!(
                "Band: not measured — goodput never collapsed up to {heaviest}: raise the last load past the tipping load."
            ),
            Band::CollapsedAtStart => format!(
                "Band: not measured — goodput had already collapsed at the lightest load, {lightest}: lower the first load."
            ),
            Band::None => "Band: none — it recovered within one step of where it tipped: the two paths agree.".to_string(),
            Band::Between {
                recovery: Some(r),
                tipping,
            } => format!(
                "Band: {path} from {} to {} ({} wide): loads it served on the way up and not on the way down.",
                num(r),
                num(tipping),
                num((tipping - r).abs())
            ),
            Band::Between {
                recovery: None,
                tipping,
            } => format!(
                "Band: {path} from below {lightest} to {}: it never came back on the way down.",
                num(tipping)
            ),
        },
    ));
    facts.push((
        "fluid",
        match (h.fluid, &h.fluid_note) {
            (Some((lo, hi)), _) => format!(
                "Fluid model: bistable (a good point and a saddle) for {path} from {lo:.1} to {hi:.1}."
            ),
            (None, Some(note)) => format!("Fluid model: {note}."),
            (None, None) => "Fluid model: not computed.".to_string(),
        },
    ));
    if h.per_seed.len() > 1 {
        let edge =
            |l: Option<sim_core::hysteresis::Level>| l.map_or("none".to_string(), |l| num(l.load));
        let seeds: Vec<String> = h
            .per_seed
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!(
                    "{} {}→{}",
                    h.first_seed.wrapping_add(i as u64),
                    edge(e.tipping),
                    edge(e.recovery)
                )
            })
            .collect();
        facts.push((
            "per-seed",
            format!("Each seed (seed: tipping→recovery): {}.", seeds.join(", ")),
        ));
    }
    if h.removed_triggers > 0 {
        facts.push((
            "triggers",
            format!(
                "The scenario's {} left out: the staircase is the only change of load.",
                if h.removed_triggers == 1 {
                    "trigger is".to_string()
                } else {
                    format!("{} triggers are", h.removed_triggers)
                }
            ),
        ));
    }
    html! {
        <ul class="model-facts" data-testid="hysteresis-facts">
            { for facts.into_iter().map(|(key, text)| html! { <li data-fact={key}>{ text }</li> }) }
            <li data-fact="cli">{ "The same numbers on the command line: " }
                <code>{ format!("metastable {cli}") }</code>
                { "; with " }<code class="nowrap">{ "--plot hysteresis.svg" }</code>{ " it draws this picture." }</li>
        </ul>
    }
}

/// Hysteresis: goodput against the offered load, the way up (solid, round marks) and the way
/// down (dashed, square marks), the band between the recovery and tipping loads shaded, the
/// fluid model's bistable loads drawn over it where the model applies. Each mark is a step,
/// read on hover or focus (one tab stop; the arrows walk the staircase in time).
fn hysteresis_figure(
    c: &Computation,
    doc: &serde_json::Value,
    hover: UseStateHandle<Option<usize>>,
) -> Html {
    use sim_core::hysteresis::{Band, Direction, LoadField};
    let Some(h) = c.results.hysteresis.as_ref() else {
        let text = match &c.status {
            Status::Running => format!(
                "Climbing the staircase: {} of {} seeds done.",
                c.results.done,
                c.plan.jobs()
            ),
            _ => "Nothing to draw: the experiment did not finish.".to_string(),
        };
        return html! {
            <p class="hint analysis-empty" data-testid="hysteresis-pending">{ text }</p>
        };
    };
    let n = h.levels.len();
    if n < 2 || h.steps.len() != 2 * n - 1 {
        return html! {};
    }
    // On a phone the picture is drawn narrower, so that its words stay readable when it is
    // scaled to the screen.
    let narrow = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|v| v.as_f64())
        .is_some_and(|width| width < 600.0);
    let (w, height, left) = if narrow {
        (440.0, 380.0, 62.0)
    } else {
        (W, 440.0, LEFT)
    };
    let (pw, ph) = (w - left - RIGHT, height - TOP - BOTTOM);
    let (lo, hi) = h
        .levels
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let half = (hi - lo) / (n - 1) as f64 / 2.0;
    let (x0, x1) = (lo - half, hi + half);
    let top = h
        .steps
        .iter()
        .map(|s| s.offered.max(s.goodput))
        .fold(1.0, f64::max);
    let y_step = tick_step(top * 1.2, 4.0);
    let y1 = y_step * (top * 1.2 / y_step).ceil();
    // A little room below zero: a path along zero is not hidden by the frame.
    let y0 = -0.03 * y1;
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let at = |x: f64, y: f64| format!("{:.1},{:.1}", sx(x), sy(y));
    let turn = n - 1;

    let up: Vec<&sim_core::hysteresis::StepResult> = h
        .steps
        .iter()
        .filter(|s| s.step.direction == Direction::Up)
        .collect();
    // The way down starts from the top step, the turning point.
    let down_line: String = h
        .steps
        .iter()
        .filter(|s| s.step.direction == Direction::Down || s.step.index == turn)
        .map(|s| at(s.step.load, s.goodput))
        .collect::<Vec<_>>()
        .join(" ");
    let up_line: String = up
        .iter()
        .map(|s| at(s.step.load, s.goodput))
        .collect::<Vec<_>>()
        .join(" ");
    let offered_line: String = up
        .iter()
        .map(|s| at(s.step.load, s.offered))
        .collect::<Vec<_>>()
        .join(" ");

    // The band: from the recovery load (or the axis's end, when it never came back) to the
    // tipping load.
    let band = match h.band {
        Band::Between { recovery, tipping } => {
            let from = recovery.unwrap_or(match h.field {
                LoadField::Rate => x0,
                LoadField::ThinkS => x1,
            });
            let (a, b) = (sx(from.min(tipping)), sx(from.max(tipping)));
            Some(html! {
                <rect class="band" data-testid="hysteresis-band" x={format!("{a:.1}")} y={format!("{TOP}")}
                    width={format!("{:.1}", (b - a).max(1.0))} height={format!("{ph}")}
                    data-from={recovery.map(number_text).unwrap_or_default()} data-to={number_text(tipping)} />
            })
        }
        _ => None,
    };

    // The fluid model's bistable loads: dashed verticals at its ends within the axis, joined
    // near the top by a dashed bar, each labelled with its value outside the bar.
    let bar_y = TOP + 22.0;
    let fluid = h.fluid.and_then(|(f_lo, f_hi)| {
        let (a, b) = (f_lo.max(x0), f_hi.min(x1));
        (a < b).then(|| {
            let ends = [(f_lo, "low"), (f_hi, "high")].into_iter().filter(|(x, _)| (x0..=x1).contains(x));
            let lines = ends.clone().map(|(x, _)| {
                html! {
                    <line class="fluid" x1={format!("{:.1}", sx(x))} x2={format!("{:.1}", sx(x))}
                        y1={format!("{:.1}", sy(0.0))} y2={format!("{bar_y:.1}")} />
                }
            });
            let labels = ends.map(|(x, end)| {
                let px = sx(x);
                // Outside the bar, unless that is off the frame.
                let outside = if end == "low" { px - 6.0 > left + 36.0 } else { px + 6.0 < left + pw - 36.0 };
                let (lx, anchor) = match (end, outside) {
                    ("low", true) | ("high", false) => (px - 6.0, "end"),
                    _ => (px + 6.0, "start"),
                };
                html! {
                    <text class="analysis-label fluid-label" data-testid="fluid-label" data-end={end}
                        x={format!("{lx:.1}")} y={format!("{:.1}", bar_y + 4.0)} text-anchor={anchor}>
                        { format!("{x:.1}") }
                    </text>
                }
            });
            html! {
                <g class="fluid-band" data-testid="fluid-band">
                    { for lines }
                    <line class="fluid" x1={format!("{:.1}", sx(a))} x2={format!("{:.1}", sx(b))}
                        y1={format!("{bar_y:.1}")} y2={format!("{bar_y:.1}")} />
                    { for labels }
                </g>
            }
        })
    });

    // Steps down that count as back while goodput is still collapsed: the backlog drains.
    let draining: Vec<(f64, f64)> = h
        .steps
        .iter()
        .filter(|s| s.step.direction == Direction::Down && s.back && s.collapsed)
        .map(|s| (sx(s.step.load), sy(s.goodput)))
        .collect();
    let rings = draining.iter().map(|(x, y)| {
        html! { <circle class="draining-ring" cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="10" /> }
    });

    let steps = h.steps.len();
    let current = (*hover).filter(|i| *i < steps).unwrap_or(0);
    let mark = |i: usize| {
        let s = &h.steps[i];
        let (x, y) = (sx(s.step.load), sy(s.goodput));
        let label = step_words(h, i);
        let direction = s.step.direction.as_str();
        let state = if !s.collapsed {
            "healthy"
        } else if s.back {
            "draining"
        } else {
            "collapsed"
        };
        let onkeydown = Callback::from(move |e: KeyboardEvent| {
            let next = match e.key().as_str() {
                "ArrowRight" | "ArrowUp" if i + 1 < steps => i + 1,
                "ArrowLeft" | "ArrowDown" if i > 0 => i - 1,
                "Home" => 0,
                "End" => steps - 1,
                _ => return,
            };
            e.prevent_default();
            focus_step(next);
        });
        let onmouseenter = {
            let hover = hover.clone();
            Callback::from(move |_: MouseEvent| hover.set(Some(i)))
        };
        let onfocus = {
            let hover = hover.clone();
            Callback::from(move |_: FocusEvent| hover.set(Some(i)))
        };
        let tabindex = if i == current { "0" } else { "-1" };
        let (step, load) = (i.to_string(), number_text(s.step.load));
        let goodput = format!("{:.3}", s.goodput);
        if s.step.direction == Direction::Up {
            html! {
                <circle class="mark-up" cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="5"
                    data-direction={direction} data-step={step} data-load={load} data-goodput={goodput}
                    data-state={state} {tabindex} role="img" aria-label={label.clone()}
                    {onkeydown} {onmouseenter} {onfocus}>
                    <title>{ label }</title>
                </circle>
            }
        } else {
            html! {
                <rect class="mark-down" x={format!("{:.1}", x - 5.5)} y={format!("{:.1}", y - 5.5)}
                    width="11" height="11"
                    data-direction={direction} data-step={step} data-load={load} data-goodput={goodput}
                    data-state={state} {tabindex} role="img" aria-label={label.clone()}
                    {onkeydown} {onmouseenter} {onfocus}>
                    <title>{ label }</title>
                </rect>
            }
        }
    };
    // The way down first, so that where both paths meet the round mark shows inside the
    // square.
    let down_marks = (0..steps)
        .filter(|&i| h.steps[i].step.direction == Direction::Down)
        .map(mark);
    let up_marks = (0..steps)
        .filter(|&i| h.steps[i].step.direction == Direction::Up)
        .map(mark);

    let mut ordered = h.levels.clone();
    ordered.sort_by(f64::total_cmp);
    let x_ticks = ticks(n, if narrow { 7 } else { 12 })
        .into_iter()
        .map(|i| text_at(sx(ordered[i]), TOP + ph + 16.0, "middle", num(ordered[i])));
    let y_ticks = (0..)
        .map(|k| k as f64 * y_step)
        .take_while(|v| *v <= y1 + y_step * 1e-9)
        .map(|v| text_at(left - 6.0, sy(v) + 4.0, "end", num(v)));
    let x_title = match h.field {
        LoadField::Rate => format!("offered load: {}", label_of(doc, &h.path)),
        LoadField::ThinkS => format!("{}: the load rises to the left", label_of(doc, &h.path)),
    };
    let readout = (*hover)
        .filter(|i| *i < steps)
        .map(|i| step_words(h, i))
        .unwrap_or_else(|| {
            "Point at a mark, or Tab to the figure and walk the staircase with the arrow keys, to read a step.".into()
        });
    let title = format!(
        "Hysteresis of {}: {} ({} s a step, {})",
        h.path,
        h.band.words(h.levels.first().copied().unwrap_or(0.0)),
        num(h.hold_s),
        if h.seeds == 1 {
            "one seed".to_string()
        } else {
            format!("mean of {} seeds", h.seeds)
        }
    );
    let legend = html! {
        <ul class="legend" data-testid="hysteresis-legend">
            { legend_key("up", html! { <>
                <polyline class="path-up" points="1,8 27,8" />
                <circle class="mark-up" cx="14" cy="8" r="4.5" />
            </> }, "goodput on the way up".to_string()) }
            { legend_key("down", html! { <>
                <polyline class="path-down" points="1,8 27,8" />
                <rect class="mark-down" x="9" y="3" width="10" height="10" />
            </> }, "goodput on the way down".to_string()) }
            if band.is_some() {
                { legend_key("band", html! {
                    <rect class="band" x="1" y="1" width="26" height="14" />
                }, "the band: served on the way up, not on the way down (recovery → tipping load)".to_string()) }
            }
            if let (Some((f_lo, f_hi)), true) = (h.fluid, fluid.is_some()) {
                { legend_key("fluid", html! { <>
                    <line class="fluid" x1="4" x2="4" y1="15" y2="3" />
                    <line class="fluid" x1="4" x2="24" y1="3" y2="3" />
                    <line class="fluid" x1="24" x2="24" y1="15" y2="3" />
                </> }, format!("fluid model: bistable from {f_lo:.1} to {f_hi:.1}")) }
            }
            { legend_key("offered", html! {
                <polyline class="offered" points="1,8 27,8" />
            }, "load offered (way up): goodput if every request were served".to_string()) }
            if !draining.is_empty() {
                { legend_key("draining", html! { <>
                    <rect class="mark-down" x="9" y="3" width="10" height="10" />
                    <circle class="draining-ring" cx="14" cy="8" r="7" />
                </> }, "way down: goodput low, backlog draining (counts as back)".to_string()) }
            }
        </ul>
    };
    let onmouseleave = {
        let hover = hover.clone();
        Callback::from(move |_: MouseEvent| hover.set(None))
    };
    html! {
        <figure class="hysteresis">
            { figure_title(title) }
            <svg viewBox={format!("0 0 {w} {height}")} role="group" data-testid="hysteresis-figure"
                aria-label="Hysteresis: goodput against the offered load, on the way up and on the way down"
                {onmouseleave}>
                <rect class="plot-frame" x={format!("{left}")} y={format!("{TOP}")}
                    width={format!("{pw}")} height={format!("{ph}")} />
                { band.unwrap_or_default() }
                { fluid.unwrap_or_default() }
                <polyline class="offered" points={offered_line} />
                <polyline class="path-up" points={up_line} />
                <polyline class="path-down" points={down_line} />
                { for rings }
                { for down_marks }
                { for up_marks }
                <g class="ticks">{ for x_ticks }{ for y_ticks }</g>
                <g class="axis-title">
                    { text_at(left + pw / 2.0, height - 12.0, "middle", x_title) }
                    { y_axis_title(ph, "goodput, requests/s (latter half of each step)".to_string()) }
                </g>
            </svg>
            <figcaption>
                { legend }
                <p class="readout" data-testid="analysis-readout">{ readout }</p>
                { hysteresis_facts(h, cli_words(&c.config)) }
            </figcaption>
        </figure>
    }
}
