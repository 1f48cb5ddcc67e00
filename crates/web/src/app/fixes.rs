//! "What would fix this?" (SPEC §9): the core's catalogue of mitigations that apply to the
//! scenario ([`sim_core::fix`], worked out in a worker: the page does not carry the
//! catalogue), each with the original beside it, run over k seeds in the workers and ranked
//! as `metastable fix` ranks them. Each row opens its scenario, alone or pinned against the
//! original. It lives in the dialogs' binary (`super::dialog_host`): the playground sends
//! what it runs ([`FixInput`]).

use super::modal::use_modal_keys;
use super::pool::{cores, Pool};
use crate::analysis::{Reply, Request};
use crate::host::FixInput;
use serde_json::Value;
use sim_core::fix;
use sim_core::replicate::{Aggregate, Replica};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Seeds per fix: the playground's seed count, at least this many (a ranking of one seed
/// each is a coin toss).
const MIN_SEEDS: u32 = 3;

/// The runs of one row: the original (row 0) or a candidate.
struct Row {
    name: String,
    title: String,
    changes: String,
    doc: Value,
    runs: Vec<Option<Replica>>,
}

/// The catalogue's runs under way or done.
struct Runs {
    rows: Vec<Row>,
    first_seed: u64,
    seeds: u32,
    /// The worker's list of fixes has come (the runs are queued).
    listed: bool,
    failed: Option<String>,
    pool: Option<Pool>,
}

impl Runs {
    fn done(&self) -> usize {
        self.rows
            .iter()
            .map(|r| r.runs.iter().filter(|x| x.is_some()).count())
            .sum()
    }

    fn total(&self) -> usize {
        self.rows.iter().map(|r| r.runs.len()).sum()
    }

    /// The rows ranked best first with their aggregates, once every run is in.
    fn ranked(&self) -> Option<Vec<(usize, Aggregate)>> {
        if !self.listed {
            return None;
        }
        let aggregates: Vec<Aggregate> = self
            .rows
            .iter()
            .map(|r| {
                let all: Option<Vec<Replica>> = r.runs.iter().cloned().collect();
                all.map(|all| Aggregate::of(&all))
            })
            .collect::<Option<_>>()?;
        let order = fix::rank(&aggregates.iter().collect::<Vec<_>>());
        Some(
            order
                .into_iter()
                .map(|i| (i, aggregates[i].clone()))
                .collect(),
        )
    }
}

/// Queues `seeds` runs of each row, the row's index as their batch.
fn queue(runs: &mut Runs) {
    let Some(pool) = &runs.pool else {
        return;
    };
    let workers = pool.size() as u32;
    let (first, seeds) = (runs.first_seed, runs.seeds);
    pool.extend(runs.rows.iter().enumerate().flat_map(|(i, row)| {
        let doc = row.doc.clone();
        (0..u64::from(seeds)).map(move |j| Request::Replicate {
            batch: i as u64,
            scenario: doc.clone(),
            seed: first.wrapping_add(j),
            workers,
            rows: false,
        })
    }));
}

/// Asks a pool of its own (closed with the dialog) for the fixes that apply, then runs each
/// and the original over `seeds` seeds.
fn start(
    doc: Value,
    first_seed: u64,
    seeds: u32,
    progress: UseStateSetter<usize>,
) -> Rc<RefCell<Runs>> {
    let runs = Rc::new(RefCell::new(Runs {
        rows: vec![Row {
            name: fix::ORIGINAL.to_string(),
            title: "The scenario as it is".to_string(),
            changes: String::new(),
            doc: doc.clone(),
            runs: vec![None; seeds as usize],
        }],
        first_seed,
        seeds,
        listed: false,
        failed: None,
        pool: None,
    }));
    let on_reply: Rc<dyn Fn(Reply)> = {
        let weak = Rc::downgrade(&runs);
        Rc::new(move |reply: Reply| {
            let Some(runs) = weak.upgrade() else {
                return;
            };
            let mut r = runs.borrow_mut();
            match reply {
                Reply::Candidates { candidates } => {
                    let seeds = r.seeds as usize;
                    r.rows.extend(candidates.into_iter().map(|c| Row {
                        name: c.name,
                        title: c.title,
                        changes: c.changes,
                        doc: c.doc,
                        runs: vec![None; seeds],
                    }));
                    r.listed = true;
                    queue(&mut r);
                }
                Reply::Replicated {
                    batch,
                    seed,
                    replica,
                    ..
                } => {
                    let index = seed.wrapping_sub(r.first_seed) as usize;
                    match crate::analysis::replica_from_wire(seed, &replica) {
                        Some(replica) => {
                            if let Some(slot) = r
                                .rows
                                .get_mut(batch as usize)
                                .and_then(|row| row.runs.get_mut(index))
                            {
                                *slot = Some(replica);
                            }
                        }
                        None => {
                            r.failed = Some("a worker sent figures that could not be read".into())
                        }
                    }
                }
                Reply::Refused { batch, message } => {
                    let name = r
                        .rows
                        .get(batch as usize)
                        .map_or("", |row| row.name.as_str());
                    r.failed = Some(format!("{name}: {message}"));
                }
                Reply::Failed { message } => r.failed = Some(message),
                _ => {}
            }
            let done = r.done();
            drop(r);
            progress.set(done);
        })
    };
    let pool = Pool::start(cores(8), on_reply);
    let mut r = runs.borrow_mut();
    match pool {
        Ok(pool) => {
            pool.extend([Request::Candidates { scenario: doc }]);
            r.pool = Some(pool);
        }
        Err(e) => r.failed = Some(e),
    }
    drop(r);
    runs
}

#[derive(Properties, PartialEq)]
pub struct FixProps {
    pub input: Rc<FixInput>,
    pub on_close: Callback<()>,
    /// Opens a fix's scenario, with the original pinned as the baseline when `true`.
    pub on_open: Callback<(Value, bool)>,
}

/// The dialog: progress while the catalogue runs, then the ranked table.
#[function_component(FixDialog)]
pub fn fix_dialog(props: &FixProps) -> Html {
    let input = &props.input;
    let seeds = input.seeds.max(MIN_SEEDS);
    let progress = use_state(|| 0usize);
    let runs = {
        let doc = input.doc.clone();
        let first_seed = input.seed;
        let setter = progress.setter();
        use_memo((), move |_| start(doc, first_seed, seeds, setter))
    };
    use_modal_keys("fix-dialog", props.on_close.clone());
    let dialog = use_node_ref();
    {
        let dialog = dialog.clone();
        use_effect_with((), move |_| {
            if let Some(d) = dialog.cast::<web_sys::HtmlElement>() {
                let _ = d.focus();
            }
        });
    }
    let r = runs.borrow();
    let (done, total) = (r.done(), r.total());
    let open = |doc: Value, pin: bool| {
        let on_open = props.on_open.clone();
        Callback::from(move |_| on_open.emit((doc.clone(), pin)))
    };
    let body = match (&r.failed, r.ranked()) {
        (Some(message), _) => html! {
            <p class="dialog-note" role="alert">{ format!("The fixes could not all run: {message}") }</p>
        },
        (None, None) if !r.listed => html! {
            <p class="fix-progress" data-testid="fix-progress" role="status">{ "Finding the fixes that apply…" }</p>
        },
        (None, None) => html! {
            <p class="fix-progress" data-testid="fix-progress" role="status">
                { format!("Running {} fixes and the original over {seeds} seeds each: {done} of {total} runs…", r.rows.len() - 1) }
            </p>
        },
        (None, Some(ranked)) => {
            let figure = |i: Option<sim_core::replicate::Interval>, scale: f64| {
                i.map_or("—".to_string(), |i| i.words(scale))
            };
            let rows = ranked.iter().enumerate().map(|(place, (i, a))| {
                let row = &r.rows[*i];
                let original = row.name == fix::ORIGINAL;
                let buttons = if original {
                    html! {}
                } else {
                    html! {
                        <>
                            <button type="button" data-fix-open={row.name.clone()} onclick={open(row.doc.clone(), false)}>{ "Open" }</button>
                            <button type="button" data-fix-pin={row.name.clone()} onclick={open(row.doc.clone(), true)}
                                title="Open this fix with the original pinned as the baseline">{ "Open vs original" }</button>
                        </>
                    }
                };
                html! {
                    <tr data-fix={row.name.clone()} class={classes!(original.then_some("fix-original"))}>
                        <td>{ place + 1 }</td>
                        <th scope="row">
                            <span class="fix-title">{ row.title.clone() }</span>
                            if !row.changes.is_empty() {
                                <code class="fix-changes">{ row.changes.clone() }</code>
                            }
                            <span class="fix-actions">{ buttons }</span>
                        </th>
                        <td data-recovered={a.recovered.to_string()}>{ format!("{} of {}", a.recovered, a.seeds) }</td>
                        <td>{ figure(a.goodput_after, 1.0) }</td>
                        <td>{ figure(a.recovery_s, 1.0) }</td>
                        <td>{ figure(a.latency_p99_s, 1.0) }</td>
                        <td>{ figure(a.wasted, 100.0) }</td>
                    </tr>
                }
            });
            html! {
                <div class="fix-scroll">
                    <table class="fix-table" data-testid="fix-table">
                        <thead><tr>
                            <th scope="col">{ "#" }</th>
                            <th scope="col">{ "fix" }</th>
                            <th scope="col">{ "recovered" }</th>
                            <th scope="col">{ "goodput after (/s)" }</th>
                            <th scope="col">{ "recovery (s)" }</th>
                            <th scope="col">{ "p99 (s)" }</th>
                            <th scope="col">{ "wasted work (%)" }</th>
                        </tr></thead>
                        <tbody>{ for rows }</tbody>
                    </table>
                </div>
            }
        }
    };
    let on_close = props.on_close.reform(|_| ());
    html! {
        <div class="dialog-backdrop">
            <section class="dialog fix-dialog" ref={dialog} tabindex="-1" role="dialog" aria-modal="true"
                aria-labelledby="fix-title" id="fix-dialog">
                <header class="dialog-head">
                    <h2 id="fix-title">{ "What would fix this?" }</h2>
                    <button id="fix-close" onclick={on_close} aria-label="Close">{ "✕" }</button>
                </header>
                <p class="dialog-help">
                    { format!("Each mitigation from the catalogue that applies to \u{201c}{}\u{201d}, run over {seeds} seeds (from seed {}) beside the original, ranked by the share of seeds that recover, then goodput after the trigger (in steps of 5% of goodput before), recovery time, p99 latency and wasted work. ± is a 95% interval. The same ranking as ", input.name, input.seed) }
                    <code>{ "metastable fix" }</code>{ "." }
                </p>
                { body }
            </section>
        </div>
    }
}
