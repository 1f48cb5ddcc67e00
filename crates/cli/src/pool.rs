//! Jobs run on a fixed number of threads, their results handed on in the jobs' order as soon
//! as the ones before them are done: what lets `sweep` and `tip` stream their rows in grid
//! order while every core works.
//!
//! Jobs are taken in order, and no job is started more than `window` jobs past the first one
//! whose result is still awaited, so the results waiting for an earlier one never number more
//! than `window` (the memory of a sweep of 10⁷ runs is that of its window, not of its runs).
//! The first failed job (in the jobs' order) ends it: the jobs after it are not started, the
//! ones before it still are, so what was handed on before the error is the same on every
//! machine.
//!
//! The threads are detached: when the caller stops early (an error, a closed standard
//! output), it returns at once and the process exits without waiting for the runs under way.

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

/// What the threads share: which job is next, and how far they may go.
struct Gate {
    /// The next job to start.
    next: usize,
    /// No job at or past this one is started (the window's end, or just past a failure).
    until: usize,
    /// Past the first failed job: nothing after it is started.
    end: usize,
    /// The caller has stopped: start nothing more.
    stopped: bool,
}

/// A job: its index in, its result out.
pub type Job<R> = Arc<dyn Fn(usize) -> Result<R> + Send + Sync>;

/// Runs `job(0)`, …, `job(jobs - 1)` on `threads` threads and calls `deliver(i, result)` in
/// the order of `i`, on the calling thread. Returns the first error: a job's (in job order)
/// or `deliver`'s.
pub fn run_in_order<R: Send + 'static>(
    jobs: usize,
    threads: usize,
    window: usize,
    job: Job<R>,
    mut deliver: impl FnMut(usize, R) -> Result<()>,
) -> Result<()> {
    let window = window.max(threads).max(1);
    let gate = Arc::new((
        Mutex::new(Gate {
            next: 0,
            until: window.min(jobs),
            end: jobs,
            stopped: false,
        }),
        Condvar::new(),
    ));
    let (sender, results) = mpsc::channel::<(usize, Result<R>)>();
    for _ in 0..threads.clamp(1, jobs.max(1)) {
        let (gate, job, sender) = (gate.clone(), job.clone(), sender.clone());
        std::thread::Builder::new()
            // A run's construction and validation recurse over the scenario's blocks: the
            // main thread's stack size, not a spawned thread's 2 MiB.
            .stack_size(8 << 20)
            .spawn(move || worker(&gate, &*job, &sender))?;
    }
    drop(sender);

    let stop = |gate: &(Mutex<Gate>, Condvar)| {
        if let Ok(mut g) = gate.0.lock() {
            g.stopped = true;
        }
        gate.1.notify_all();
    };
    let mut waiting: BTreeMap<usize, Result<R>> = BTreeMap::new();
    let mut done = 0;
    while done < jobs {
        let Ok((index, result)) = results.recv() else {
            stop(&gate);
            bail!("the worker threads stopped before every run was done");
        };
        if result.is_err() {
            // Nothing after the failed job needs to run.
            if let Ok(mut g) = gate.0.lock() {
                g.end = g.end.min(index + 1);
            }
        }
        waiting.insert(index, result);
        while let Some(result) = waiting.remove(&done) {
            let handed = result.and_then(|r| deliver(done, r));
            if let Err(error) = handed {
                stop(&gate);
                return Err(error);
            }
            done += 1;
        }
        if let Ok(mut g) = gate.0.lock() {
            g.until = (done + window).min(jobs);
        }
        gate.1.notify_all();
    }
    stop(&gate);
    Ok(())
}

fn worker<R>(
    gate: &(Mutex<Gate>, Condvar),
    job: &(dyn Fn(usize) -> Result<R> + Send + Sync),
    sender: &mpsc::Sender<(usize, Result<R>)>,
) {
    loop {
        let index = {
            let Ok(mut g) = gate.0.lock() else { return };
            loop {
                if g.stopped || g.next >= g.end {
                    return;
                }
                if g.next < g.until {
                    break;
                }
                g = match gate.1.wait(g) {
                    Ok(g) => g,
                    Err(_) => return,
                };
            }
            g.next += 1;
            g.next - 1
        };
        // A panicking run (a bug) is an error in its place, not a result that never comes
        // (the others would wait for it forever).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(index)))
            .unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(anyhow::anyhow!(
                    "run {} failed inside the simulator: {message}",
                    index + 1
                ))
            });
        if sender.send((index, result)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_in_order_however_the_jobs_finish() {
        let job: Job<usize> = Arc::new(|i| {
            // Early jobs are the slowest.
            std::thread::sleep(Duration::from_millis(((20 - i % 20) % 7) as u64));
            Ok(i * 10)
        });
        let mut seen = Vec::new();
        run_in_order(50, 4, 8, job, |i, r| {
            seen.push((i, r));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..50).map(|i| (i, i * 10)).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_failure_in_order_ends_it_after_the_results_before_it() {
        let job: Job<usize> = Arc::new(|i| {
            if i == 30 || i == 12 {
                bail!("job {i} failed")
            }
            Ok(i)
        });
        let mut seen = Vec::new();
        let error = run_in_order(100, 3, 5, job, |i, _| {
            seen.push(i);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "job 12 failed");
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn no_job_starts_more_than_a_window_past_the_first_awaited_one() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let furthest = Arc::new(AtomicUsize::new(0));
        let f = furthest.clone();
        let job: Job<()> = Arc::new(move |i| {
            f.fetch_max(i, Ordering::SeqCst);
            if i == 0 {
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        });
        let watched = furthest.clone();
        run_in_order(1000, 4, 16, job, move |i, ()| {
            if i == 0 {
                // While job 0 ran, the others could only go 16 jobs ahead.
                assert!(watched.load(Ordering::SeqCst) < 16);
            }
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_panicking_job_is_an_error_in_its_place() {
        let job: Job<usize> = Arc::new(|i| {
            if i == 5 {
                panic!("a bug")
            }
            Ok(i)
        });
        let mut seen = 0;
        let error = run_in_order(100, 2, 4, job, |_, _| {
            seen += 1;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(seen, 5);
        assert_eq!(
            error.to_string(),
            "run 6 failed inside the simulator: a bug"
        );
    }

    #[test]
    fn an_error_while_handing_on_stops_it() {
        let job: Job<usize> = Arc::new(Ok);
        let error = run_in_order(10_000, 2, 4, job, |i, _| {
            if i == 3 {
                bail!("the reader went away")
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "the reader went away");
    }
}
