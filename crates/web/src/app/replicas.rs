//! Replications and the baseline in the playground (SPEC §9).
//!
//! With k seeds, the page runs the first seed itself (the live run, as with one seed) and the
//! other k − 1 in the workers of a [`Pool`]; a pinned baseline runs all of its k seeds
//! there. Each set is a batch: a new scenario or seed count starts a new batch, and answers
//! to an old one are dropped. When a set is complete the charts draw its band (and the
//! baseline beside it) and the banner says what the seeds say together.

use super::now_ms;
use super::pool::{cores, Pool};
use super::runner::RunView;
use crate::analysis::{replica_from_wire, row_from_wire, Reply, Request};
use crate::state::{AppState, MAX_SEEDS};
use sim_core::replicate::{Aggregate, Replica};
use sim_core::Row;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// How often the seed count in the banner is refreshed while seeds come in.
const PROGRESS_MS: f64 = 250.0;

/// One scenario's seeds run by the workers.
pub struct Set {
    batch: u64,
    first_seed: u64,
    runs: Vec<Option<(Replica, Rc<Vec<Row>>)>>,
    failed: Option<String>,
    started_ms: f64,
    done_ms: Option<f64>,
}

impl Set {
    fn done(&self) -> usize {
        self.runs.iter().filter(|r| r.is_some()).count()
    }

    fn complete(&self) -> bool {
        self.failed.is_none() && self.runs.iter().all(Option::is_some)
    }

    /// The seeds' rows, in seed order, once every seed is in.
    pub fn rows(&self) -> Option<Vec<&[Row]>> {
        self.complete().then(|| {
            self.runs
                .iter()
                .flatten()
                .map(|(_, rows)| rows.as_slice())
                .collect()
        })
    }

    /// The seeds' figures, once every seed is in.
    pub fn replicas(&self) -> Option<Vec<Replica>> {
        self.complete()
            .then(|| self.runs.iter().flatten().map(|(r, _)| r.clone()).collect())
    }
}

/// The sets under way or done, and the pool that runs them (started the first time a set
/// needs it).
#[derive(Default)]
pub struct Replicas {
    pool: Option<Pool>,
    pool_error: Option<String>,
    next_batch: u64,
    /// Seeds per run, as the page last asked.
    seeds: u32,
    /// When the page was last given a new view while seeds came in.
    last_view_ms: f64,
    /// The current scenario's seeds after the first (s + 1 … s + k − 1).
    pub current: Option<Set>,
    /// The baseline's k seeds (from its own seed).
    pub baseline: Option<Set>,
}

/// One set of replicas is equal only to itself (props compare the shared cell; what changes
/// inside it comes with a new [`SeedsView`]).
impl PartialEq for Replicas {
    fn eq(&self, other: &Replicas) -> bool {
        std::ptr::eq(self, other)
    }
}

/// What the page shows of the sets; a new value re-renders what depends on it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedsView {
    /// Seeds per run.
    pub seeds: u32,
    /// The current set's batch, seeds done and needed (k − 1).
    pub batch: u64,
    pub done: usize,
    pub needed: usize,
    /// Milliseconds from the change to the last seed's answer.
    pub ms: Option<f64>,
    pub baseline_batch: u64,
    pub baseline_done: usize,
    pub baseline_needed: usize,
    pub failed: Option<String>,
}

impl SeedsView {
    /// What the charts draw from: which sets there are and whether they are complete, not
    /// how far they have got (a chart redrawn at every answer would take the cores the
    /// seeds need).
    pub fn for_charts(&self) -> SeedsView {
        let whole = |done: usize, needed: usize| if done >= needed { needed } else { 0 };
        SeedsView {
            done: whole(self.done, self.needed),
            baseline_done: whole(self.baseline_done, self.baseline_needed),
            ms: None,
            ..self.clone()
        }
    }

    /// Every seed of the current set is in (nothing is needed with one seed).
    pub fn complete(&self) -> bool {
        self.failed.is_none() && self.done >= self.needed
    }
}

impl Replicas {
    fn view(&self, seeds: u32) -> SeedsView {
        let of = |set: &Option<Set>| {
            set.as_ref().map_or((0, 0, 0, None), |s| {
                (s.batch, s.done(), s.runs.len(), s.done_ms)
            })
        };
        let (batch, done, needed, done_ms) = of(&self.current);
        let (baseline_batch, baseline_done, baseline_needed, _) = of(&self.baseline);
        let failed = self
            .pool_error
            .clone()
            .or_else(|| self.current.as_ref().and_then(|s| s.failed.clone()))
            .or_else(|| self.baseline.as_ref().and_then(|s| s.failed.clone()));
        SeedsView {
            seeds,
            batch,
            done,
            needed,
            ms: done_ms
                .zip(self.current.as_ref())
                .map(|(d, s)| d - s.started_ms),
            baseline_batch,
            baseline_done,
            baseline_needed,
            failed,
        }
    }

    /// Starts a set of `seeds` seeds of the scenario `doc` (a valid document) from
    /// `first_seed`, replacing the jobs of the set it replaces (`old`) in the queue.
    fn start(
        this: &Rc<RefCell<Replicas>>,
        doc: &serde_json::Value,
        first_seed: u64,
        seeds: u32,
        on_reply: Rc<dyn Fn(Reply)>,
        old: Option<u64>,
    ) -> Set {
        let mut replicas = this.borrow_mut();
        replicas.next_batch += 1;
        // The first progress report waits a while too: a fast set is done before it.
        replicas.last_view_ms = now_ms();
        let batch = replicas.next_batch;
        let set = Set {
            batch,
            first_seed,
            runs: vec![None; seeds as usize],
            failed: None,
            started_ms: now_ms(),
            done_ms: None,
        };
        if replicas.pool.is_none() && replicas.pool_error.is_none() {
            match Pool::start(cores(MAX_SEEDS as usize), on_reply) {
                Ok(pool) => replicas.pool = Some(pool),
                Err(e) => replicas.pool_error = Some(e),
            }
        }
        if let Some(pool) = &replicas.pool {
            let workers = pool.size() as u32;
            pool.retain(
                |job| !matches!(job, Request::Replicate { batch, .. } if Some(*batch) == old),
            );
            pool.extend((0..u64::from(seeds)).map(|i| Request::Replicate {
                batch,
                scenario: doc.clone(),
                seed: first_seed.wrapping_add(i),
                workers,
                rows: true,
            }));
        }
        set
    }

    /// Takes a worker's answer into the set it belongs to.
    fn take(&mut self, reply: Reply) {
        match reply {
            Reply::Replicated {
                batch,
                seed,
                rows,
                replica,
            } => {
                for set in [&mut self.current, &mut self.baseline]
                    .into_iter()
                    .flatten()
                {
                    if set.batch != batch {
                        continue;
                    }
                    let index = seed.wrapping_sub(set.first_seed) as usize;
                    let rows: Vec<Row> = rows.iter().filter_map(|r| row_from_wire(r)).collect();
                    let Some(replica) = replica_from_wire(seed, &replica) else {
                        set.failed = Some("A worker sent figures that could not be read.".into());
                        continue;
                    };
                    if let Some(slot) = set.runs.get_mut(index) {
                        *slot = Some((replica, Rc::new(rows)));
                    }
                    if set.complete() {
                        set.done_ms = Some(now_ms());
                    }
                }
            }
            Reply::Refused { batch, message } => {
                for set in [&mut self.current, &mut self.baseline]
                    .into_iter()
                    .flatten()
                {
                    if set.batch == batch {
                        set.failed = Some(message.clone());
                    }
                }
            }
            Reply::Failed { message } => {
                for set in [&mut self.current, &mut self.baseline]
                    .into_iter()
                    .flatten()
                {
                    set.failed = Some(message.clone());
                }
            }
            _ => {}
        }
    }
}

/// The replications of the state's scenario and its baseline: started when the scenario, the
/// seed count or the baseline changes, with a new [`SeedsView`] at each answer.
#[hook]
pub fn use_replicas(state: &AppState) -> (Rc<RefCell<Replicas>>, SeedsView) {
    let replicas = use_mut_ref(Replicas::default);
    let view = use_state(SeedsView::default);
    let seeds = state.seeds;
    let on_reply: Rc<dyn Fn(Reply)> = {
        let weak: Weak<RefCell<Replicas>> = Rc::downgrade(&replicas);
        let setter = view.setter();
        Rc::new(move |reply: Reply| {
            if let Some(replicas) = weak.upgrade() {
                let mut r = replicas.borrow_mut();
                r.take(reply);
                // Every answer re-renders the page: while seeds stream in, at most every
                // PROGRESS_MS (the count in the banner); at once when a set is done.
                let view = r.view(r.seeds);
                let now = now_ms();
                let settled = view.complete() || view.failed.is_some();
                if settled || now - r.last_view_ms >= PROGRESS_MS {
                    r.last_view_ms = now;
                    setter.set(view);
                }
            }
        })
    };
    {
        let replicas = replicas.clone();
        let setter = view.setter();
        let scenario = state.scenario.clone();
        // The document is the scenario when it has no problems (the scenario changes only
        // then; a seed count changed meanwhile waits for the next valid edit).
        let doc = state.problems.is_empty().then(|| state.doc.clone());
        let on_reply = on_reply.clone();
        use_effect_with((Rc::as_ptr(&state.scenario) as usize, seeds), move |_| {
            let old = replicas.borrow().current.as_ref().map(|s| s.batch);
            let Some(doc) = doc else {
                return;
            };
            let set = (seeds > 1 && !scenario.blocks.is_empty()).then(|| {
                Replicas::start(
                    &replicas,
                    &doc,
                    scenario.seed.wrapping_add(1),
                    seeds - 1,
                    on_reply,
                    old,
                )
            });
            let mut r = replicas.borrow_mut();
            r.current = set;
            r.seeds = seeds;
            setter.set(r.view(seeds));
        });
    }
    {
        let replicas = replicas.clone();
        let setter = view.setter();
        let baseline = state.baseline.clone();
        let key = (
            baseline.as_ref().map(|b| Rc::as_ptr(&b.scenario) as usize),
            seeds,
        );
        use_effect_with(key, move |_| {
            let old = replicas.borrow().baseline.as_ref().map(|s| s.batch);
            let set = baseline
                .map(|b| Replicas::start(&replicas, &b.doc, b.scenario.seed, seeds, on_reply, old));
            let mut r = replicas.borrow_mut();
            r.baseline = set;
            setter.set(r.view(seeds));
        });
    }
    (replicas, (*view).clone())
}

/// Every seed's figures, the live seed's first, once the live run has ended and every other
/// seed is in (the live seed alone with one seed).
pub fn all_replicas(
    live: Option<Replica>,
    replicas: &Replicas,
    view: &SeedsView,
) -> Option<Vec<Replica>> {
    let live = live?;
    if view.seeds <= 1 {
        return Some(vec![live]);
    }
    let others = replicas.current.as_ref()?.replicas()?;
    Some(std::iter::once(live).chain(others).collect())
}

#[derive(Properties, PartialEq)]
pub struct BaselineProps {
    pub state: UseReducerHandle<super::Store>,
    /// The baseline's name.
    pub name: String,
    /// Every seed of the current run, once in.
    pub current: Option<Rc<Vec<Replica>>>,
    pub replicas: Rc<RefCell<Replicas>>,
    /// Re-renders as the baseline's seeds come in.
    pub seeds: SeedsView,
}

/// The pinned baseline beside the current run: both summaries and the difference, with its
/// 95% interval when there are several seeds (paired by seed when both ran the same ones).
#[function_component(BaselineTable)]
pub fn baseline_table(props: &BaselineProps) -> Html {
    use sim_core::replicate::{compare, mean_interval, share_difference, FIGURES};
    let unpin = {
        let store = props.state.clone();
        Callback::from(move |_| store.dispatch(crate::state::Action::Unpin))
    };
    let base = props
        .replicas
        .borrow()
        .baseline
        .as_ref()
        .and_then(Set::replicas);
    let cell = |v: String| html! { <td>{ v }</td> };
    let quoted = format!("\u{201c}{}\u{201d}", props.name);
    let (line, table) = match (base, props.current.as_deref()) {
        (Some(base), Some(current)) => {
            let (a, b) = (Aggregate::of(&base), Aggregate::of(current));
            let share = |g: &Aggregate| {
                let (l, h) = g.metastable_interval;
                if g.seeds > 1 {
                    format!(
                        "{} of {} ({:.0}–{:.0}%)",
                        g.metastable,
                        g.seeds,
                        100.0 * l,
                        100.0 * h
                    )
                } else {
                    format!("{} of 1", g.metastable)
                }
            };
            let share_diff = share_difference(a.metastable, a.seeds, b.metastable, b.seeds).map_or(
                "—".to_string(),
                |(d, l, h)| {
                    let d = if d == 0.0 {
                        "0%".to_string()
                    } else {
                        format!("{:+.0}%", 100.0 * d)
                    };
                    if a.seeds > 1 {
                        format!("{d} ({:.0}% to {:.0}%)", 100.0 * l, 100.0 * h)
                    } else {
                        d
                    }
                },
            );
            let of = |r: &[Replica], get: fn(&Replica) -> Option<f64>, scale: f64| {
                let v: Vec<f64> = r.iter().filter_map(get).collect();
                mean_interval(&v).map_or("—".to_string(), |i| i.words(scale))
            };
            let goodput = &FIGURES[0];
            let line = format!(
                "Baseline {quoted} (dashed): goodput after {} → {} requests/s ({}); metastable in {} → {} of {} seeds",
                of(&base, goodput.get, 1.0),
                of(current, goodput.get, 1.0),
                compare(&base, current, goodput.get)
                    .map_or("—".to_string(), |i| i.difference_words(1.0)),
                a.metastable,
                b.metastable,
                b.seeds
            );
            let rows = FIGURES.iter().map(|f| {
                let d = compare(&base, current, f.get)
                    .map_or("—".to_string(), |i| i.difference_words(f.scale));
                html! {
                    <tr>
                        <th scope="row">{ format!("{} ({})", f.name, f.unit) }</th>
                        { cell(of(&base, f.get, f.scale)) }{ cell(of(current, f.get, f.scale)) }{ cell(d) }
                    </tr>
                }
            });
            let table = html! {
                <table class="baseline-table" data-testid="baseline-table">
                    <thead><tr>
                        <td></td>
                        <th scope="col">{ "baseline" }</th>
                        <th scope="col">{ "this run" }</th>
                        <th scope="col">{ "difference (95% CI)" }</th>
                    </tr></thead>
                    <tbody>
                        <tr>
                            <th scope="row">{ "metastable seeds" }</th>
                            { cell(share(&a)) }{ cell(share(&b)) }{ cell(share_diff) }
                        </tr>
                        { for rows }
                    </tbody>
                </table>
            };
            (line, table)
        }
        _ => (
            format!("Baseline {quoted} (dashed): running it and this run…"),
            html! {},
        ),
    };
    html! {
        <section class="baseline" data-testid="baseline" aria-label="Baseline">
            <details>
                <summary data-testid="baseline-line">{ line }</summary>
                { table }
            </details>
            <button type="button" data-testid="unpin" onclick={unpin}
                title="Stop drawing the baseline">{ "Unpin" }</button>
        </section>
    }
}

/// The run's banner line while other seeds are still running.
pub fn progress_words(view: &SeedsView, run: &RunView) -> Option<String> {
    if view.seeds <= 1 {
        return None;
    }
    if let Some(failed) = &view.failed {
        return Some(format!("The other seeds could not run: {failed}"));
    }
    (!view.complete() || !run.finished).then(|| {
        format!(
            "Seeds: {} of {} done…",
            view.done + usize::from(run.finished),
            view.seeds
        )
    })
}
