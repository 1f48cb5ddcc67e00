//! A fluid (mean-field) model of client → retry → server, beside the simulation: two
//! deterministic equations over the calls at the server `q` and the requests waiting to retry
//! `r` (in orbit), their equilibria and the stability of each, and the trajectory through the
//! scenario's triggers. The equations and their assumptions are in `docs/fluid.md`.
//!
//! With λ the fresh request rate, c workers of rate μ, attempt timeout τ, at most m attempts
//! and a mean backoff 1/β:
//!
//! ```text
//! a(q, r) = λ + β r                      attempts per second reaching the server
//! dq/dt   = a − μ·min(q, c)              FIFO: every attempt is served, timed out or not
//! dr/dt   = a·p(q)·g(p(q)) − β r         timed-out attempts with attempts left go into orbit
//! p(q)    = P(wait + service > τ)        wait = max(0, q − c)/(cμ), service ~ Exp(μ)
//! g(p)    = (1 − p^(m−1)) / (1 − p^m)    the share of timed-out attempts that are retried
//! ```
//!
//! An equilibrium solves μ·min(q, c)·(1 − p·g) = λ. The retry storm has a stable "good"
//! point (few calls queued, p ≈ 0) and, when m·λ > cμ, a saddle beyond it: a trigger that
//! pushes the state past the saddle's stable manifold leaves it in a runaway in which the
//! queue grows for ever while the servers stay busy with attempts nobody waits for.
//!
//! Like the engine, it takes `exp` and `pow` from `libm`, so native and wasm builds agree.

use crate::scenario::{BackoffKind, Block, Discipline, Dist, Jitter, Scenario, Trigger};
use crate::verdict::Verdict;

/// The integration step of trajectories, in seconds.
const STEP_S: f64 = 0.1;

/// The model's parameters, read from a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Fluid {
    /// Fresh requests per second (before triggers).
    pub lambda: f64,
    /// Workers.
    pub c: f64,
    /// Service rate of one worker (1 / mean service time).
    pub mu: f64,
    /// Attempt timeout (infinite: attempts never time out).
    pub tau: f64,
    /// Most attempts per request (1: no retries).
    pub m: u32,
    /// 1 / the mean backoff before a retry.
    pub beta: f64,
    /// Load spikes (a staircase: one per step) and latency triggers: (start, end, load
    /// factor, service-time factor).
    pub triggers: Vec<(f64, f64, f64, f64)>,
    pub duration_s: f64,
}

/// What an equilibrium is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stability {
    Stable,
    Saddle,
    Unstable,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Equilibrium {
    pub q: f64,
    pub r: f64,
    pub stability: Stability,
}

/// One step of a trajectory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    pub t: f64,
    pub q: f64,
    pub r: f64,
    /// Attempts per second reaching the server.
    pub attempts: f64,
    /// Replies within the attempt timeout per second.
    pub goodput: f64,
}

impl Fluid {
    /// The model of a scenario of one open-loop client, optionally one retry block, and one
    /// FIFO server with exponential service; anything else is refused with the reason.
    pub fn of(scenario: &Scenario) -> Result<Fluid, String> {
        let mut client = None;
        let mut retry = None;
        let mut server = None;
        for block in &scenario.blocks {
            match block {
                Block::Client(c) if client.is_none() => client = Some(c),
                Block::Retry(r) if retry.is_none() => retry = Some(r),
                Block::Server(s) if server.is_none() => server = Some(s),
                other => {
                    return Err(format!(
                        "the fluid model covers one client, one retry block and one server; block \"{}\" is more",
                        other.id()
                    ))
                }
            }
        }
        let (Some(client), Some(server)) = (client, server) else {
            return Err("the fluid model needs a client and a server".into());
        };
        let lambda = client
            .rate
            .ok_or("the fluid model covers open-loop clients (with a rate) only")?;
        if server.discipline != Discipline::Fifo
            || server.drop_expired
            || server.queue_capacity.is_some()
            || server.slowdown.is_some()
            || server.service.dist != Dist::Exponential
            || server.error_rate > 0.0
        {
            return Err(format!(
                "the fluid model covers a FIFO server with exponential service, no queue limit, no slowdown, no errors and no expiry; \"{}\" has more",
                server.id
            ));
        }
        let (m, tau, beta) = match retry {
            None => (1, client.timeout_s.unwrap_or(f64::INFINITY), f64::INFINITY),
            Some(r) => {
                if r.hedge_after_s.is_some() {
                    return Err(format!(
                        "the fluid model covers sequential retries, not hedging; \"{}\" hedges",
                        r.id
                    ));
                }
                if r.budget.is_some() || r.respect_deadline {
                    return Err(format!(
                        "the fluid model covers retries without a budget or deadline; \"{}\" has one",
                        r.id
                    ));
                }
                (
                    r.max_attempts.max(1),
                    r.attempt_timeout_s.unwrap_or(f64::INFINITY),
                    1.0 / mean_backoff(r.max_attempts, &r.backoff).max(1e-3),
                )
            }
        };
        let mut triggers = Vec::new();
        for trigger in &scenario.triggers {
            match trigger {
                Trigger::LoadSpike(t) => triggers.push((t.at_s, t.at_s + t.for_s, t.factor, 1.0)),
                // A staircase is a spike per step.
                Trigger::LoadSteps(t) => {
                    for (i, &factor) in t.factors.iter().enumerate() {
                        let from = t.at_s + t.step_s * i as f64;
                        triggers.push((from, from + t.step_s, factor, 1.0));
                    }
                }
                Trigger::Latency(t) => triggers.push((t.at_s, t.at_s + t.for_s, 1.0, t.factor)),
                Trigger::Outage(_)
                | Trigger::Capacity(_)
                | Trigger::Errors(_)
                | Trigger::Partition(_)
                | Trigger::CacheFlush(_) => {
                    return Err(
                        "the fluid model covers load spikes, load steps and latency triggers only"
                            .into(),
                    )
                }
            }
        }
        Ok(Fluid {
            lambda,
            c: f64::from(server.workers),
            mu: 1.0 / server.service.mean_s,
            tau,
            m,
            beta,
            triggers,
            duration_s: scenario.duration_s,
        })
    }

    /// The probability that an attempt arriving with `q` calls at the server times out.
    pub fn p(&self, q: f64, mu: f64) -> f64 {
        if !self.tau.is_finite() {
            return 0.0;
        }
        let wait = (q - self.c).max(0.0) / (self.c * mu);
        if wait >= self.tau {
            1.0
        } else {
            libm::exp(-mu * (self.tau - wait))
        }
    }

    /// The share of timed-out attempts that have attempts left.
    pub fn g(&self, p: f64) -> f64 {
        let m = self.m as i32;
        if m <= 1 {
            return 0.0;
        }
        let denominator = 1.0 - libm::pow(p, f64::from(m));
        if denominator < 1e-12 {
            f64::from(self.m - 1) / f64::from(self.m)
        } else {
            (1.0 - libm::pow(p, f64::from(m - 1))) / denominator
        }
    }

    /// `(dq/dt, dr/dt)` at a state, with fresh load `lambda` and service rate `mu`.
    pub fn rhs(&self, q: f64, r: f64, lambda: f64, mu: f64) -> (f64, f64) {
        let p = self.p(q, mu);
        let retried = p * self.g(p);
        if self.beta.is_finite() {
            let a = lambda + self.beta * r;
            (a - mu * q.min(self.c), a * retried - self.beta * r)
        } else {
            // No backoff: retries return at once; the orbit is empty and a = λ / (1 − p·g).
            let a = lambda / (1.0 - retried).max(1e-9);
            (a - mu * q.min(self.c), 0.0)
        }
    }

    /// Equilibria at fresh load `lambda`, by bracketing the roots of
    /// μ·min(q, c)·(1 − p·g) − λ over q (up to the point where attempts wait 4 timeouts).
    pub fn equilibria(&self, lambda: f64) -> Vec<Equilibrium> {
        let mu = self.mu;
        let f = |q: f64| {
            let p = self.p(q, mu);
            mu * q.min(self.c) * (1.0 - p * self.g(p)) - lambda
        };
        let top = self.c
            + if self.tau.is_finite() {
                4.0 * self.tau * self.c * mu
            } else {
                10.0 * self.c
            };
        let steps = 5_000;
        let mut out = Vec::new();
        let mut prev_q = 0.0;
        let mut prev = f(0.0);
        for i in 1..=steps {
            let q = top * f64::from(i) / f64::from(steps);
            let now = f(q);
            if (prev < 0.0) != (now < 0.0) {
                let (mut lo, mut hi) = (prev_q, q);
                for _ in 0..60 {
                    let mid = (lo + hi) / 2.0;
                    if (f(lo) < 0.0) == (f(mid) < 0.0) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let q = (lo + hi) / 2.0;
                let p = self.p(q, mu);
                let a = mu * q.min(self.c);
                let r = if self.beta.is_finite() {
                    a * p * self.g(p) / self.beta
                } else {
                    0.0
                };
                out.push(Equilibrium {
                    q,
                    r,
                    stability: self.stability(q, r, lambda),
                });
            }
            prev_q = q;
            prev = now;
        }
        out
    }

    /// The stability of an equilibrium from the Jacobian's trace and determinant (by central
    /// differences). Without backoff the system is one-dimensional: the sign of d(dq/dt)/dq.
    fn stability(&self, q: f64, r: f64, lambda: f64) -> Stability {
        let h = 1e-6 * (1.0 + q);
        let mu = self.mu;
        let dq = |q: f64, r: f64| self.rhs(q, r, lambda, mu);
        let (fq_plus, gq_plus) = dq(q + h, r);
        let (fq_minus, gq_minus) = dq((q - h).max(0.0), r);
        let span = q + h - (q - h).max(0.0);
        let (a11, a21) = ((fq_plus - fq_minus) / span, (gq_plus - gq_minus) / span);
        if !self.beta.is_finite() {
            return if a11 < 0.0 {
                Stability::Stable
            } else {
                Stability::Unstable
            };
        }
        let hr = 1e-6 * (1.0 + r);
        let (fr_plus, gr_plus) = dq(q, r + hr);
        let (fr_minus, gr_minus) = dq(q, (r - hr).max(0.0));
        let span_r = r + hr - (r - hr).max(0.0);
        let (a12, a22) = ((fr_plus - fr_minus) / span_r, (gr_plus - gr_minus) / span_r);
        let det = a11 * a22 - a12 * a21;
        let trace = a11 + a22;
        if det < 0.0 {
            Stability::Saddle
        } else if trace < 0.0 {
            Stability::Stable
        } else {
            Stability::Unstable
        }
    }

    /// The trajectory from the good equilibrium (or from empty, if there is none) through the
    /// triggers to the end of the scenario, one state per `every_s` seconds.
    pub fn trajectory(&self, every_s: f64) -> Vec<State> {
        self.trajectory_from(self.good_point(), every_s)
    }

    /// The stable equilibrium at the scenario's own load, if there is one.
    fn good_point(&self) -> Option<Equilibrium> {
        self.equilibria(self.lambda)
            .into_iter()
            .find(|e| e.stability == Stability::Stable)
    }

    fn trajectory_from(&self, start: Option<Equilibrium>, every_s: f64) -> Vec<State> {
        let (mut q, mut r) = start.map_or((0.0, 0.0), |e| (e.q, e.r));
        let mut out = Vec::new();
        let mut t = 0.0;
        let mut next_out = 0.0;
        while t <= self.duration_s + 1e-9 {
            let (lambda, mu) = self.at(t);
            let p = self.p(q, mu);
            let a = if self.beta.is_finite() {
                lambda + self.beta * r
            } else {
                lambda / (1.0 - p * self.g(p)).max(1e-9)
            };
            if t + 1e-9 >= next_out {
                out.push(State {
                    t,
                    q,
                    r,
                    attempts: a,
                    goodput: mu * q.min(self.c) * (1.0 - p),
                });
                next_out += every_s;
            }
            (q, r) = self.step(q, r, lambda, mu, STEP_S);
            t += STEP_S;
        }
        out
    }

    /// One step of `dt` seconds, exact for the linear parts with the timeout probability held
    /// at its value at the step's start (an exponential integrator): stable for any step and
    /// any rates, so an hour's run costs 36,000 steps.
    fn step(&self, q: f64, r: f64, lambda: f64, mu: f64, dt: f64) -> (f64, f64) {
        let p = self.p(q, mu);
        let retried = p * self.g(p);
        // dr/dt = λ·pg − β(1 − pg)·r relaxes towards λ·pg / (β(1 − pg)).
        let (r, a) = if self.beta.is_finite() {
            let k = self.beta * (1.0 - retried);
            let r_inf = lambda * retried / k.max(1e-12);
            let r = r_inf + (r - r_inf) * libm::exp(-k * dt);
            (r, lambda + self.beta * r)
        } else {
            (0.0, lambda / (1.0 - retried).max(1e-9))
        };
        // Below c busy workers dq/dt = a − μq relaxes towards a/μ; at c it grows by a − cμ.
        let q_inf = a / mu;
        let q = if q < self.c && q_inf <= self.c {
            q_inf + (q - q_inf) * libm::exp(-mu * dt)
        } else {
            let from = q.max(self.c.min(q_inf));
            (from + dt * (a - mu * self.c)).max(self.c.min(q_inf))
        };
        (q.max(0.0), r.max(0.0))
    }

    /// Fresh load and service rate at time `t` (triggers multiply them).
    fn at(&self, t: f64) -> (f64, f64) {
        let mut lambda = self.lambda;
        let mut mu = self.mu;
        for &(from, to, load, slow) in &self.triggers {
            if t >= from && t < to {
                lambda *= load;
                mu /= slow;
            }
        }
        (lambda, mu)
    }

    /// The model's verdict: `overloaded` when the load has no stable point; after the last
    /// trigger, `metastable` when the state ran away (beyond the saddle, or past every
    /// equilibrium) and `recovered` when it came back to the good point.
    pub fn verdict(&self) -> Verdict {
        let Some(good) = self.good_point() else {
            return Verdict::Overloaded;
        };
        let end = self.trajectory_from(Some(good), 1.0).last().copied();
        match end {
            Some(state) if state.q > good.q + 0.5 * (self.c + 1.0) => Verdict::Metastable,
            _ => Verdict::Recovered,
        }
    }
}

impl Fluid {
    /// The range of fresh loads (requests/s, scanned in steps of 0.5% of capacity) at which
    /// the model has both a stable good point and a saddle: where a trigger can tip it.
    pub fn bistable_loads(&self) -> Option<(f64, f64)> {
        let capacity = self.c * self.mu;
        let both = |lambda: f64| {
            let kinds: Vec<Stability> = self
                .equilibria(lambda)
                .iter()
                .map(|e| e.stability)
                .collect();
            kinds.contains(&Stability::Stable) && kinds.contains(&Stability::Saddle)
        };
        let loads: Vec<f64> = (1..200)
            .map(|i| capacity * f64::from(i) / 200.0)
            .filter(|&l| both(l))
            .collect();
        Some((*loads.first()?, *loads.last()?))
    }

    /// The top of a state-space picture `(q_hi, r_hi)` that holds the model's trajectory, a
    /// simulated path `(q, r)` and every equilibrium at the scenario's load with room around
    /// them (q is drawn on a log scale from 1, r from 0).
    pub fn frame(&self, trajectory: &[State], simulated: &[(f64, f64)]) -> (f64, f64) {
        let equilibria = self.equilibria(self.lambda);
        let q_hi = trajectory
            .iter()
            .map(|s| s.q)
            .chain(simulated.iter().map(|s| s.0))
            .chain(equilibria.iter().map(|e| e.q * 3.0))
            .fold(self.c * 3.0, f64::max)
            * 1.3;
        let r_hi = trajectory
            .iter()
            .map(|s| s.r)
            .chain(simulated.iter().map(|s| s.1))
            .chain(equilibria.iter().map(|e| e.r * 2.0))
            .fold(1.0, f64::max)
            * 1.15;
        (q_hi, r_hi)
    }

    /// The vector field at the scenario's load over a frame: at `nx × ny` points (q spaced
    /// evenly on a log scale from 1 to `q_hi`, r evenly from 0 to `r_hi`, cell centres), the
    /// direction the state moves in, in fractions of the picture per second:
    /// `(d ln q/dt ÷ ln q_hi, dr/dt ÷ r_hi)`. A picture scales these by its width and height.
    pub fn field(&self, q_hi: f64, r_hi: f64, nx: usize, ny: usize) -> Vec<Arrow> {
        let log_span = q_hi.max(1.0 + 1e-9).ln();
        let mut out = Vec::with_capacity(nx * ny);
        for i in 0..nx {
            for j in 0..ny {
                let q = (log_span * (i as f64 + 0.5) / nx as f64).exp();
                let r = r_hi * (j as f64 + 0.5) / ny as f64;
                let (dq, dr) = self.rhs(q, r, self.lambda, self.mu);
                out.push(Arrow {
                    q,
                    r,
                    dx: dq / q / log_span,
                    dy: dr / r_hi,
                });
            }
        }
        out
    }
}

/// One arrow of [`Fluid::field`]: where it stands and its direction in picture fractions per
/// second (`dy` upwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrow {
    pub q: f64,
    pub r: f64,
    pub dx: f64,
    pub dy: f64,
}

impl Arrow {
    /// The arrow drawn `length` pixels long in a `width × height` picture: its shaft's offset
    /// `(x, y)` in pixels (y upwards), or `None` where the state stands still.
    pub fn offset(&self, width: f64, height: f64, length: f64) -> Option<(f64, f64)> {
        let (px, py) = (self.dx * width, self.dy * height);
        let norm = px.hypot(py);
        (norm.is_finite() && norm > 1e-12).then(|| (px / norm * length, py / norm * length))
    }

    /// The ends of an arrowhead's two barbs, as offsets from the arrow's foot, for a shaft
    /// of offset `(x, y)` (y upwards): each barb 0.4 of the shaft long, 0.5 rad off it.
    pub fn barbs(x: f64, y: f64) -> [(f64, f64); 2] {
        [0.5f64, -0.5].map(|angle| {
            let (c, s) = (angle.cos(), angle.sin());
            (x - (x * c - y * s) * 0.4, y - (x * s + y * c) * 0.4)
        })
    }
}

/// The mean wait before a retry, averaged over the retries of a request that uses them all.
fn mean_backoff(max_attempts: u32, backoff: &crate::scenario::Backoff) -> f64 {
    let retries = max_attempts.saturating_sub(1).max(1);
    let jitter = match backoff.jitter {
        Jitter::None => 1.0,
        Jitter::Full => 0.5,
        Jitter::Equal => 0.75,
        Jitter::Decorrelated => 1.0,
    };
    let cap = backoff.cap_s.unwrap_or(f64::INFINITY);
    let total: f64 = (0..retries)
        .map(|k| match backoff.kind {
            BackoffKind::None => 0.0,
            BackoffKind::Constant => backoff.base_s,
            BackoffKind::Exponential => (backoff.base_s * libm::pow(2.0, f64::from(k))).min(cap),
        })
        .sum();
    jitter * total / f64::from(retries)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_field_points_home_below_the_saddle_and_away_beyond_it() {
        let storm = Fluid::of(&crate::presets::load("retry-storm").unwrap().unwrap()).unwrap();
        let (q_hi, r_hi) = storm.frame(&storm.trajectory(1.0), &[]);
        assert!(q_hi > 50_000.0 && r_hi > 14.0, "{q_hi} {r_hi}");
        let field = storm.field(q_hi, r_hi, 26, 16);
        assert_eq!(field.len(), 26 * 16);
        // On the floor of the picture (a small orbit): left of the good point the queue grows;
        // between it and the saddle the queue and the orbit shrink; beyond the saddle every
        // attempt times out and the orbit grows.
        let at = |q: f64| {
            *field
                .iter()
                .filter(|a| a.r < r_hi / 16.0)
                .min_by(|a, b| {
                    (a.q.ln() - q.ln())
                        .abs()
                        .total_cmp(&(b.q.ln() - q.ln()).abs())
                })
                .unwrap()
        };
        assert!(at(3.0).dx > 0.0);
        assert!(at(40.0).dx < 0.0 && at(40.0).dy < 0.0);
        assert!(at(1000.0).dy > 0.0);
        let (x, y) = field[0].offset(800.0, 500.0, 10.0).unwrap();
        assert!((x.hypot(y) - 10.0).abs() < 1e-9);
    }

    use super::*;
    use crate::presets;

    fn storm() -> Fluid {
        Fluid::of(&presets::load("retry-storm").unwrap().unwrap()).unwrap()
    }

    #[test]
    fn equilibria_solve_the_equations() {
        let model = storm();
        let equilibria = model.equilibria(model.lambda);
        assert!(!equilibria.is_empty());
        for e in &equilibria {
            let (dq, dr) = model.rhs(e.q, e.r, model.lambda, model.mu);
            assert!(
                dq.abs() < 1e-6 && dr.abs() < 1e-6,
                "{e:?}: residual ({dq}, {dr})"
            );
        }
    }

    #[test]
    fn the_retry_storm_has_a_good_point_and_a_saddle() {
        let model = storm();
        let kinds: Vec<Stability> = model
            .equilibria(model.lambda)
            .iter()
            .map(|e| e.stability)
            .collect();
        assert_eq!(
            kinds,
            vec![Stability::Stable, Stability::Saddle],
            "{:?}",
            model.equilibria(model.lambda)
        );
        let good = model.equilibria(model.lambda)[0];
        assert!(
            good.q < model.c,
            "the good point is below capacity: {good:?}"
        );
        assert_eq!(model.verdict(), Verdict::Metastable);
        // Bistable where m·λ exceeds capacity (4 × 25 = 100) and below capacity.
        let (low, high) = model.bistable_loads().unwrap();
        assert!((low - 25.5).abs() < 1.0 && high > 95.0, "{low}..{high}");
    }

    #[test]
    fn without_retries_there_is_one_stable_point_below_capacity() {
        let scenario = presets::load("retry-storm-no-retries").unwrap().unwrap();
        let model = Fluid::of(&scenario).unwrap();
        let equilibria = model.equilibria(model.lambda);
        assert_eq!(equilibria.len(), 1, "{equilibria:?}");
        assert_eq!(equilibria[0].stability, Stability::Stable);
        assert!(equilibria[0].q < model.c);
        assert_eq!(model.verdict(), Verdict::Recovered);
    }

    #[test]
    fn scenarios_outside_the_model_are_refused_with_the_reason() {
        let budget = presets::load("retry-storm-budget").unwrap().unwrap();
        assert!(Fluid::of(&budget).unwrap_err().contains("budget"));
        let cache = presets::load("cold-cache").unwrap().unwrap();
        assert!(Fluid::of(&cache).unwrap_err().contains("block \"cache\""));
    }
}
