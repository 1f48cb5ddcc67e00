//! The run loop: one live [`Sim`] advanced in slices of a few milliseconds per animation
//! frame, restarted whenever the state's `run_id` changes.
//!
//! Rationale: the engine is deterministic and slicing never changes a run (a core test checks
//! it), so what is drawn depends on the scenario and seed only, not on the frame rate; the
//! slices keep every task short, so the page answers input even during an hour-long run.

use super::now_ms;
use crate::state::{AppState, Speed};
use sim_core::{Budget, Limits, Report, Scenario, Sim, Verdict};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

/// Work done per animation frame while a run is in progress.
const FRAME_SLICE_MS: f64 = 8.0;
/// Work done at once after an edit, before the first frame: enough for a typical preset to
/// finish, so its charts follow the edit without a visible animation.
const FIRST_SLICE_MS: f64 = 30.0;
/// While a run is in progress, the page (charts included) is refreshed at most this often:
/// redrawing every chart on every frame would take more time than simulating.
const REFRESH_MS: f64 = 100.0;
/// Units of work between two looks at the clock (about a millisecond).
const WORK_PER_CHECK: u64 = 20_000;
/// How much more work "Go on" gives a run stopped by the browser's budget.
const GO_ON_FACTOR: u64 = 10;

/// What the loop needs from the app state, refreshed on every render.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub scenario: Option<Rc<Scenario>>,
    pub run_id: u64,
    pub steps: u64,
    pub playing: bool,
    pub speed: Speed,
}

impl Inputs {
    pub fn from_state(state: &AppState) -> Inputs {
        Inputs {
            scenario: (!state.scenario.blocks.is_empty()).then(|| state.scenario.clone()),
            run_id: state.run_id,
            steps: state.steps,
            playing: state.playing,
            speed: state.speed,
        }
    }
}

/// What the page shows of the run; a new value re-renders what depends on it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunView {
    pub run_id: u64,
    /// Metric rows so far (the charts redraw when this grows).
    pub rows: usize,
    pub t_s: f64,
    pub duration_s: f64,
    pub events: u64,
    /// Wall time spent simulating this run, in milliseconds.
    pub sim_ms: f64,
    pub finished: bool,
    pub report: Option<Rc<Report>>,
    /// Why the run stopped early (a limit), or why it could not start.
    pub error: Option<String>,
    /// The run stopped at the browser's work budget, and the person may let it go on.
    pub can_go_on: bool,
    /// Whether the run advances by itself (play) or waits (pause, step).
    pub playing: bool,
}

/// The live simulation and its bookkeeping.
#[derive(Default)]
pub struct Runner {
    sim: Option<Sim>,
    error: Option<String>,
    run_id: Option<u64>,
    steps: u64,
    /// How far the run may go (simulated seconds); grows with play speed.
    target_t: f64,
    sim_ms: f64,
    last_frame_ms: Option<f64>,
    last_view: RunView,
    /// When the page was last given a new view.
    last_view_ms: f64,
    /// The play state and speed of the last tick: pausing or changing speed holds the run
    /// where it is, whatever target the old setting had set.
    last_playing: bool,
    last_speed: Speed,
}

impl Runner {
    /// The rows of the current run.
    pub fn rows(&self) -> &[sim_core::Row] {
        self.sim.as_ref().map_or(&[], |s| s.rows())
    }

    /// The figures of the current run once it has ended (not at a limit).
    pub fn replica(&self) -> Option<sim_core::replicate::Replica> {
        let sim = self.sim.as_ref()?;
        (sim.finished() && sim.stopped().is_none()).then(|| sim_core::replicate::Replica::of(sim))
    }

    /// The columns of the current run.
    pub fn columns(&self) -> &[String] {
        self.sim.as_ref().map_or(&[], |s| s.columns())
    }

    /// Lets a run stopped by the browser's work budget go on with ten times more.
    pub fn go_on(&mut self) {
        if let Some(sim) = &mut self.sim {
            let more = sim.limits().max_work.saturating_mul(GO_ON_FACTOR - 1);
            sim.extend_work(more);
        }
    }

    /// The current run's rows as CSV.
    pub fn csv(&self) -> String {
        sim_core::to_csv(self.columns(), self.rows())
    }

    fn restart(&mut self, inputs: &Inputs) {
        self.run_id = Some(inputs.run_id);
        self.steps = inputs.steps;
        self.target_t = 0.0;
        self.sim_ms = 0.0;
        self.error = None;
        self.sim = None;
        if let Some(scenario) = &inputs.scenario {
            match Sim::with_limits(scenario, Limits::web()) {
                Ok(sim) => self.sim = Some(sim),
                Err(e) => self.error = Some(e.to_string()),
            }
        }
    }

    /// Advances the run for at most `budget_ms` of work; returns a new view when something
    /// the page shows changed.
    pub fn tick(&mut self, inputs: &Inputs, budget_ms: f64) -> Option<RunView> {
        let start = now_ms();
        if self.run_id != Some(inputs.run_id) {
            self.restart(inputs);
            self.last_frame_ms = None;
        }
        let frame_dt_s = self
            .last_frame_ms
            .map_or(0.0, |last| ((start - last) / 1000.0).clamp(0.0, 0.25));
        self.last_frame_ms = Some(start);
        let held = (self.last_playing && !inputs.playing) || self.last_speed != inputs.speed;
        self.last_playing = inputs.playing;
        self.last_speed = inputs.speed;
        if let Some(sim) = &mut self.sim {
            let duration = sim.duration_s();
            if held {
                // Pause freezes the run at every speed: "as fast as possible" had aimed at
                // the end, and the run would otherwise go on there.
                self.target_t = self.target_t.min(sim.now_s());
            }
            // One step is one bucket: the charts grow by one row.
            let step_s = sim.scenario().bucket_s;
            while self.steps < inputs.steps {
                self.steps += 1;
                self.target_t = (self.target_t.max(sim.now_s()) + step_s).min(duration);
            }
            if inputs.playing {
                self.target_t = match inputs.speed.factor() {
                    None => duration,
                    Some(factor) => (self.target_t + factor * frame_dt_s).min(duration),
                };
            }
            while !sim.finished() && sim.stopped().is_none() && sim.now_s() < self.target_t {
                let reached = sim.run_until_bounded(self.target_t, WORK_PER_CHECK);
                if reached || now_ms() - start >= budget_ms {
                    break;
                }
            }
            self.sim_ms += now_ms() - start;
        }
        let view = self.view(inputs.playing);
        // A view is due when the run started, ended or was paused, or when the last refresh
        // is old enough; growth in between is shown at the next refresh.
        let milestone = view.run_id != self.last_view.run_id
            || view.finished != self.last_view.finished
            || view.playing != self.last_view.playing
            || view.error != self.last_view.error
            || !inputs.playing;
        let due = milestone || start - self.last_view_ms >= REFRESH_MS;
        (due && view != self.last_view).then(|| {
            self.last_view = view.clone();
            self.last_view_ms = start;
            view
        })
    }

    fn view(&self, playing: bool) -> RunView {
        let Some(sim) = &self.sim else {
            return RunView {
                run_id: self.run_id.unwrap_or(0),
                error: self.error.clone(),
                playing,
                ..RunView::default()
            };
        };
        let finished = sim.finished() || sim.stopped().is_some();
        let rows = sim.rows().len();
        // The report is computed once, when the run ends (it scans every row).
        let report = if finished {
            match &self.last_view.report {
                Some(r) if self.last_view.run_id == self.run_id.unwrap_or(0) => Some(r.clone()),
                _ if sim.stopped().is_some() => so_far(sim).map(Rc::new),
                _ => Some(Rc::new(sim.report())),
            }
        } else {
            None
        };
        RunView {
            run_id: self.run_id.unwrap_or(0),
            rows,
            t_s: sim.now_s(),
            duration_s: sim.duration_s(),
            events: sim.events(),
            sim_ms: (self.sim_ms * 10.0).round() / 10.0,
            finished,
            report,
            error: sim.stopped().map(|s| match s.budget {
                Budget::Work => format!(
                    "The run stopped at t = {} of {}: it used this tab's budget of work ({} steps of simulation), so the page stays responsive. Go on to allow ten times more, or shorten the duration or lower the load.",
                    crate::format::seconds(s.at_s),
                    crate::format::seconds(sim.duration_s()),
                    crate::format::int(sim.limits().max_work),
                ),
                _ => format!(
                    "The run stopped at t = {}: {}. Shorten the duration or lower the load to see the whole run.",
                    crate::format::seconds(s.at_s),
                    crate::fields::group_numbers(&plain_stop(&s.reason))
                ),
            }),
            can_go_on: sim.stopped().is_some_and(|s| s.budget == Budget::Work),
            playing,
        }
    }
}

/// The verdict that the rows of a run stopped by a limit already prove: the scenario judged
/// as if it had been as long as the rows it made, when that is past its last trigger (a
/// backlog that grew until the limit is the answer, not a failure to give one).
fn so_far(sim: &Sim) -> Option<Report> {
    let scenario = sim.scenario();
    let rows = sim.rows();
    let reached_s = rows.len() as f64 * scenario.bucket_s;
    let last_end = scenario
        .triggers
        .iter()
        .map(|t| t.end_s())
        .fold(0.0, f64::max);
    if scenario.triggers.is_empty() || reached_s <= last_end + 10.0 * scenario.bucket_s {
        return None;
    }
    let mut shorter = scenario.clone();
    shorter.duration_s = reached_s;
    let report = sim_core::judge(&shorter, sim.columns(), rows);
    (report.verdict != Verdict::Undefined).then_some(report)
}

/// The run of an app's state: a [`Runner`] (also made the one the JavaScript exports reach)
/// driven by a frame loop, and the view of it that the page draws. A new run (an edit, a
/// preset, a reset) is computed at once, in this task, for up to [`FIRST_SLICE_MS`]: when
/// the whole run is that fast, the charts simply follow the edit.
#[hook]
pub fn use_run(state: &AppState) -> (Rc<RefCell<Runner>>, RunView) {
    let runner = use_memo((), |_| {
        let runner = Rc::new(RefCell::new(Runner::default()));
        super::RUNNER.with(|r| *r.borrow_mut() = runner.clone());
        runner
    });
    let view = use_state(RunView::default);
    // The loop reads the latest inputs through this cell, so it never holds a stale closure
    // over an old state.
    let inputs = use_mut_ref(Inputs::default);
    *inputs.borrow_mut() = Inputs::from_state(state);
    {
        let runner = (*runner).clone();
        let inputs = inputs.clone();
        let view = view.setter();
        use_effect_with((), move |_| start_loop(runner, inputs, view));
    }
    {
        let runner = (*runner).clone();
        let view = view.setter();
        use_effect_with((state.run_id, state.steps), move |_| {
            if let Some(snapshot) = runner.borrow_mut().tick(&inputs.borrow(), FIRST_SLICE_MS) {
                view.set(snapshot);
            }
        });
    }
    ((*runner).clone(), (*view).clone())
}

/// Runs `tick` on every animation frame for the life of the page.
fn start_loop(
    runner: Rc<RefCell<Runner>>,
    inputs: Rc<RefCell<Inputs>>,
    view: UseStateSetter<RunView>,
) {
    type FrameCallback = Closure<dyn FnMut(f64)>;
    let slot: Rc<RefCell<Option<FrameCallback>>> = Rc::new(RefCell::new(None));
    let again = slot.clone();
    *slot.borrow_mut() = Some(Closure::new(move |_timestamp: f64| {
        let snapshot = runner.borrow_mut().tick(&inputs.borrow(), FRAME_SLICE_MS);
        if let Some(snapshot) = snapshot {
            view.set(snapshot);
        }
        if let (Some(window), Some(callback)) = (web_sys::window(), again.borrow().as_ref()) {
            let _ = window.request_animation_frame(callback.as_ref().unchecked_ref());
        }
    }));
    if let (Some(window), Some(callback)) = (web_sys::window(), slot.borrow().as_ref()) {
        let _ = window.request_animation_frame(callback.as_ref().unchecked_ref());
    }
    // The closure refers to itself through `slot` and lives as long as the page.
    std::mem::forget(slot);
}

/// A stop reason without what only the command line can do (`--max-state-mib`).
fn plain_stop(reason: &str) -> String {
    reason.replace(
        " (the limit; raise it with --max-state-mib)",
        " (this tab's limit)",
    )
}

/// What a run of several seeds adds to the banner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedsLine {
    /// What every seed says together, once they are all in.
    pub aggregate: Option<Rc<sim_core::replicate::Aggregate>>,
    /// The seeds still running, in words.
    pub progress: Option<String>,
    /// Milliseconds from the change to the last other seed's answer (for the benchmark).
    pub ms: Option<f64>,
}

#[derive(Properties, PartialEq)]
pub struct BannerProps {
    pub view: RunView,
    pub problems: usize,
    /// With several seeds: their aggregate, or how far they have got.
    #[prop_or_default]
    pub seeds: SeedsLine,
    /// Lets a run stopped by the work budget go on ("Go on").
    #[prop_or_default]
    pub on_go_on: Option<Callback<()>>,
}

/// The verdict banner: what happened and why, in one sentence (SPEC §4, §6).
#[function_component(VerdictBanner)]
pub fn verdict_banner(props: &BannerProps) -> Html {
    let view = &props.view;
    let (class, verdict, text) = match (&view.error, &view.report) {
        (Some(error), Some(report)) => (
            verdict_class(report.verdict),
            report.verdict.as_str().to_string(),
            format!(
                "{} (judged from the run so far.) {error}",
                explanation(report)
            ),
        ),
        (Some(error), None) => ("verdict stopped", "stopped".to_string(), error.clone()),
        (None, Some(report)) => (
            verdict_class(report.verdict),
            report.verdict.as_str().to_string(),
            explanation(report),
        ),
        (None, None) if view.duration_s > 0.0 && !view.playing && view.events == 0 => (
            "verdict running",
            "ready".to_string(),
            "Press Play to run the scenario.".to_string(),
        ),
        (None, None) if view.duration_s > 0.0 => (
            "verdict running",
            "running".to_string(),
            format!(
                "{}: t = {} of {}. The verdict comes when the run ends.",
                if view.playing { "Running" } else { "Paused" },
                crate::format::seconds(view.t_s.floor()),
                crate::format::seconds(view.duration_s)
            ),
        ),
        (None, None) if props.problems > 0 => (
            "verdict running",
            "none".to_string(),
            "Nothing runs until the scenario's problems are fixed (see the inspector).".to_string(),
        ),
        (None, None) => (
            "verdict running",
            "none".to_string(),
            "Add a client and a server and connect them to run a scenario.".to_string(),
        ),
    };
    // Several seeds: the verdict most of them give, the share metastable with its interval
    // and the figures with theirs, then the first seed's own sentence.
    let (class, verdict, text) = match props.seeds.aggregate.as_deref() {
        Some(a) if a.seeds > 1 && view.error.is_none() => {
            let majority = majority(a);
            (
                verdict_class(majority),
                majority.as_str().to_string(),
                format!("{} {text}", seeds_sentence(a)),
            )
        }
        _ => (class, verdict, text),
    };
    let label = match verdict.as_str() {
        "running" => "Running".to_string(),
        "ready" => "Ready".to_string(),
        "none" => "Nothing to run".to_string(),
        "stopped" => "Stopped".to_string(),
        v => {
            let mut chars = v.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
    };
    html! {
        <div class={classes!("verdict-banner", class)} data-testid="verdict"
             data-verdict={verdict} role="status" aria-live="polite"
             data-seeds-ms={props.seeds.ms.map(|ms| format!("{ms:.1}"))}>
            <strong class="verdict-label">{ label }</strong>
            { " " }
            <span class="verdict-text">{ text }</span>
            if let Some(progress) = &props.seeds.progress {
                <span class="verdict-note" data-testid="seeds-progress">{ format!(" {progress}") }</span>
            }
            if props.problems > 0 {
                <span class="verdict-note">
                    { problems_note(props.problems, view.duration_s > 0.0) }
                </span>
            }
            if let (true, Some(go_on)) = (view.can_go_on, props.on_go_on.clone()) {
                { " " }
                <button type="button" class="go-on" data-testid="go-on"
                        onclick={Callback::from(move |_| go_on.emit(()))}>
                    { "Go on" }
                </button>
            }
        </div>
    }
}

/// The verdict most seeds gave; a tie goes to the more worrying one.
fn majority(a: &sim_core::replicate::Aggregate) -> Verdict {
    const CONCERN: [Verdict; 7] = [
        Verdict::Metastable,
        Verdict::Overloaded,
        Verdict::Recovering,
        Verdict::Degraded,
        Verdict::Recovered,
        Verdict::Stable,
        Verdict::Undefined,
    ];
    let count = |v: Verdict| a.verdicts.iter().find(|(w, _)| *w == v).map_or(0, |c| c.1);
    let most = a.verdicts.iter().map(|c| c.1).max().unwrap_or(0);
    CONCERN
        .into_iter()
        .find(|v| most > 0 && count(*v) == most)
        .unwrap_or(Verdict::Undefined)
}

/// "Metastable in 9 of 10 seeds (95% CI 60–98%); goodput after 3.1 ± 2.0 requests/s, p99
/// 0.79 ± 0.03 s, recovery 41 ± 6 s in 1 seed. Seed 7:"
fn seeds_sentence(a: &sim_core::replicate::Aggregate) -> String {
    let (low, high) = a.metastable_interval;
    let mut parts = Vec::new();
    if let Some(g) = &a.goodput_after {
        parts.push(format!("goodput after {} requests/s", g.words(1.0)));
    }
    if let Some(p) = &a.latency_p99_s {
        parts.push(format!("p99 {} s", p.words(1.0)));
    }
    parts.push(match &a.recovery_s {
        Some(r) => format!(
            "recovery {} s in {} seed{}",
            r.words(1.0),
            r.n,
            if r.n == 1 { "" } else { "s" }
        ),
        None => "no seed recovered".into(),
    });
    format!(
        "Metastable in {} of {} seeds (95% CI {:.0}–{:.0}%); {}. The first seed:",
        a.metastable,
        a.seeds,
        100.0 * low,
        100.0 * high,
        parts.join(", ")
    )
}

/// The report's sentence without its opening verdict, which the banner's label shows, with
/// its long numbers given separators.
fn explanation(report: &Report) -> String {
    crate::fields::group_numbers(&without_label(report))
}

fn without_label(report: &Report) -> String {
    report.explanation.split_once(": ").map_or_else(
        || report.explanation.clone(),
        |(head, rest)| {
            if head.eq_ignore_ascii_case(report.verdict.as_str()) {
                rest.to_string()
            } else {
                report.explanation.clone()
            }
        },
    )
}

fn problems_note(problems: usize, showing_last_valid: bool) -> String {
    let plural = if problems == 1 { "" } else { "s" };
    if showing_last_valid {
        format!(" The scenario has {problems} problem{plural} (see the inspector): the charts show the last valid version.")
    } else {
        format!(" The scenario has {problems} problem{plural} (see the inspector).")
    }
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Stable | Verdict::Recovered => "verdict-good",
        Verdict::Degraded | Verdict::Recovering => "verdict-warn",
        Verdict::Metastable | Verdict::Overloaded => "verdict-bad",
        Verdict::Undefined => "verdict-neutral",
    }
}
