//! A pool of the analysis workers (`worker.rs`, its own wasm binary, fetched the first time a
//! pool starts: the page's first visit does not pay for it) that runs jobs for the
//! playground: the seeds of a replicated run, a baseline's seeds, the fix catalogue.
//!
//! Jobs wait in one queue; each worker holds at most [`IN_HAND`] of them, so a new batch
//! (the scenario changed) replaces the queue at once and waits for at most that many jobs of
//! the old one. The workers live as long as the pool: a slider move re-runs every seed
//! without loading them again.

use crate::analysis::{Reply, Request};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The workers' loader, beside the page.
const WORKER_URL: &str = "./worker_loader.js";

/// Jobs a worker holds at once: one running, one waiting, so it never idles while its answer
/// crosses to the page.
const IN_HAND: usize = 2;

struct Worker {
    worker: web_sys::Worker,
    ready: bool,
    in_hand: usize,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

struct Inner {
    workers: Vec<Worker>,
    queue: VecDeque<Request>,
    /// Called with every answer but `Ready` (and with a `Failed` when a worker dies).
    on_reply: Rc<dyn Fn(Reply)>,
}

/// The pool; cloning shares it.
#[derive(Clone)]
pub struct Pool(Rc<RefCell<Inner>>);

/// As many workers as the machine has cores, at most `most` (and 8).
pub fn cores(most: usize) -> usize {
    let cores = web_sys::window()
        .map(|w| w.navigator().hardware_concurrency())
        .unwrap_or(2.0);
    (cores as usize).clamp(1, 8).min(most.max(1))
}

impl Pool {
    /// Starts `count` workers; `on_reply` gets their answers.
    pub fn start(count: usize, on_reply: Rc<dyn Fn(Reply)>) -> Result<Pool, String> {
        let pool = Pool(Rc::new(RefCell::new(Inner {
            workers: Vec::new(),
            queue: VecDeque::new(),
            on_reply,
        })));
        for index in 0..count.max(1) {
            let worker = web_sys::Worker::new(WORKER_URL).map_err(|e| {
                format!(
                    "The workers could not start ({}).",
                    e.as_string().unwrap_or_else(|| format!("{e:?}"))
                )
            })?;
            let weak = Rc::downgrade(&pool.0);
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |e: web_sys::MessageEvent| {
                    let reply = e
                        .data()
                        .as_string()
                        .and_then(|text| Reply::of_the_pool(&text))
                        .unwrap_or_else(|| Reply::Failed {
                            message: "A worker sent an answer that could not be read.".into(),
                        });
                    Pool::answered(&weak, index, reply);
                },
            );
            let weak = Rc::downgrade(&pool.0);
            let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                e.prevent_default();
                let detail = e
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| format!("{WORKER_URL} did not load"));
                Pool::answered(
                    &weak,
                    index,
                    Reply::Failed {
                        message: format!("A worker stopped: {detail}."),
                    },
                );
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            pool.0.borrow_mut().workers.push(Worker {
                worker,
                ready: false,
                in_hand: 0,
                _on_message: on_message,
                _on_error: on_error,
            });
        }
        Ok(pool)
    }

    pub fn size(&self) -> usize {
        self.0.borrow().workers.len()
    }

    /// Keeps only the waiting jobs `keep` says yes to (those in a worker's hands still run).
    pub fn retain(&self, keep: impl Fn(&Request) -> bool) {
        self.0.borrow_mut().queue.retain(|job| keep(job));
    }

    /// Adds jobs after those waiting.
    pub fn extend(&self, jobs: impl IntoIterator<Item = Request>) {
        let mut inner = self.0.borrow_mut();
        inner.queue.extend(jobs);
        inner.feed();
    }

    fn answered(weak: &Weak<RefCell<Inner>>, index: usize, reply: Reply) {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let on_reply = {
            let mut guard = inner.borrow_mut();
            if let Some(w) = guard.workers.get_mut(index) {
                if reply == Reply::Ready {
                    w.ready = true;
                } else {
                    w.in_hand = w.in_hand.saturating_sub(1);
                }
            }
            guard.feed();
            guard.on_reply.clone()
        };
        // Outside the borrow: the handler may queue more jobs.
        if reply != Reply::Ready {
            on_reply(reply);
        }
    }
}

impl Inner {
    /// Hands waiting jobs to ready workers with room, the least busy first.
    fn feed(&mut self) {
        while !self.queue.is_empty() {
            let Some(w) = self
                .workers
                .iter_mut()
                .filter(|w| w.ready && w.in_hand < IN_HAND)
                .min_by_key(|w| w.in_hand)
            else {
                return;
            };
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            // The pool's jobs are seeds and the fixes (`Request::to_pool_text` writes those);
            // the analysis view has workers of its own.
            if let Some(text) = job.to_pool_text() {
                let _ = w.worker.post_message(&JsValue::from_str(&text));
                w.in_hand += 1;
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for w in &self.workers {
            w.worker.terminate();
        }
    }
}
