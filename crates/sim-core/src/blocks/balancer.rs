//! The balancer: spreads calls over several downstreams.
//!
//! `round_robin` takes them in turn; `random` picks uniformly; `least_outstanding` picks the
//! downstream with the fewest calls it forwarded that have not been answered yet (ties go to
//! the next in turn); `power_of_two` draws two distinct downstreams and takes the one with
//! fewer outstanding calls. A call whose reply never comes (a partition, a dropped call) stays
//! outstanding, as it would for a real balancer without its own timeout.

use super::{Behaviour, Build, Call, Outcome, ReplyTo, Slab, Token};
use crate::ctx::{Ctx, Waiting};
use crate::kind::{Calls, Param, ParamValue};
use crate::rng::{Purpose, Stream};
use crate::scenario::{is_default, Validator};
use serde::Serialize;
use serde_json::Value;

// ---- The spec: what a scenario file says about this block. ----

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    #[default]
    RoundRobin,
    Random,
    LeastOutstanding,
    PowerOfTwo,
}

crate::fields::by_variant!(Policy {
    RoundRobin = "round_robin",
    Random = "random",
    LeastOutstanding = "least_outstanding",
    PowerOfTwo = "power_of_two",
});

/// Spreads calls over several downstreams.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BalancerSpec {
    pub id: String,
    pub to: Vec<String>,
    /// Seconds each call it sends takes to arrive, and each reply to come back to it.
    #[serde(skip_serializing_if = "is_default")]
    pub link_latency_s: f64,
    #[serde(skip_serializing_if = "is_default")]
    pub policy: Policy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
}

crate::fields::by_name!(BalancerSpec {
    id: required,
    to: required,
    link_latency_s: default,
    policy: default,
    ui: default,
});

/// A balancer's parameters, in the order an editor shows them.
pub(crate) const PARAMS: &[Param] = &[
    Param::new(
        "policy",
        ParamValue::Choice(&["round_robin", "random", "least_outstanding", "power_of_two"]),
    ),
    super::LINK_LATENCY_S,
    Param::new("to", ParamValue::Targets),
];

pub(crate) const TEMPLATE: &str = r#"{"policy": "round_robin", "to": []}"#;

/// A balancer has no metric columns: what it spreads shows at its downstreams.
pub(crate) const METRICS: &[&str] = &[];

/// Whether other blocks may call it, and how many blocks it calls.
pub(crate) const TAKES_CALLS: bool = true;
pub(crate) const CALLS: Calls = Calls::Many;

impl BalancerSpec {
    /// The blocks it calls, in order.
    pub(crate) fn downstream(&self) -> Vec<&str> {
        self.to.iter().map(String::as_str).collect()
    }

    /// Its metric columns (`<id>.<name>`), in order: [`METRICS`], or fewer when an option
    /// that has a column of its own is off.
    pub(crate) fn metric_names(&self) -> &'static [&'static str] {
        METRICS
    }

    /// Its `to` list is checked with every block's downstream; the policy is a choice.
    pub(crate) fn validate(&self, _v: &mut Validator) {}
}

struct Forwarded {
    caller: ReplyTo,
    target: u32,
}

pub(crate) struct Balancer {
    me: u32,
    targets: Vec<u32>,
    policy: Policy,
    next: usize,
    outstanding: Vec<u32>,
    rng: Stream,
    calls: Slab<Forwarded>,
}

impl Balancer {
    pub(crate) fn new(me: u32, spec: &BalancerSpec, targets: Vec<u32>, seed: u64) -> Balancer {
        Balancer {
            me,
            outstanding: vec![0; targets.len()],
            targets,
            policy: spec.policy,
            next: 0,
            rng: Stream::new(seed, &spec.id, Purpose::Balance),
            calls: Slab::default(),
        }
    }

    /// The index (into `targets`) of the downstream for the next call.
    pub(crate) fn pick(&mut self) -> usize {
        let n = self.targets.len();
        match self.policy {
            Policy::RoundRobin => {
                let i = self.next;
                self.next = (self.next + 1) % n;
                i
            }
            Policy::Random => self.rng.below(n),
            Policy::LeastOutstanding => {
                let mut best = self.next;
                for step in 1..n {
                    let i = (self.next + step) % n;
                    if self.outstanding[i] < self.outstanding[best] {
                        best = i;
                    }
                }
                self.next = (best + 1) % n;
                best
            }
            Policy::PowerOfTwo => {
                if n == 1 {
                    return 0;
                }
                let a = self.rng.below(n);
                let mut b = self.rng.below(n - 1);
                if b >= a {
                    b += 1;
                }
                if self.outstanding[b] < self.outstanding[a] {
                    b
                } else {
                    a
                }
            }
        }
    }

    #[inline(always)]
    pub(crate) fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        if self.policy == Policy::LeastOutstanding {
            // The scan looks at every downstream block: work the run's budget counts.
            ctx.work += self.targets.len() as u64;
        }
        let i = self.pick();
        self.outstanding[i] += 1;
        let token = self.calls.insert(Forwarded {
            caller: call.reply_to,
            target: i as u32,
        });
        ctx.call(
            self.targets[i],
            Call {
                reply_to: ReplyTo {
                    block: self.me,
                    token,
                },
                ..call
            },
        );
    }

    #[inline(always)]
    pub(crate) fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(forwarded) = self.calls.remove(token) {
            self.outstanding[forwarded.target as usize] -= 1;
            ctx.reply(self.me, forwarded.caller, outcome);
        }
    }

    pub(crate) fn waiting(&self, token: Token) -> Waiting {
        match self.calls.get(token) {
            Some(forwarded) => Waiting::AskCaller(forwarded.caller),
            None => Waiting::No,
        }
    }

    pub(crate) fn live(&self) -> usize {
        self.calls.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.calls.bytes()
    }
}

impl Behaviour for Balancer {
    type Spec = BalancerSpec;

    fn build(spec: &BalancerSpec, b: &mut Build) -> Balancer {
        let targets = spec.to.iter().map(|t| b.index(t)).collect();
        Balancer::new(b.me, spec, targets, b.seed)
    }

    #[inline(always)]
    fn on_call(&mut self, call: Call, ctx: &mut Ctx) {
        Balancer::on_call(self, call, ctx)
    }

    #[inline(always)]
    fn on_reply(&mut self, token: Token, outcome: Outcome, ctx: &mut Ctx) {
        Balancer::on_reply(self, token, outcome, ctx)
    }

    fn waiting(&self, token: Token) -> Waiting {
        Balancer::waiting(self, token)
    }

    fn bytes(&self) -> usize {
        Balancer::bytes(self)
    }

    fn holding(&self) -> String {
        format!("{} forwarded calls", self.live())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balancer(policy: Policy, n: usize) -> Balancer {
        let spec = BalancerSpec {
            id: "lb".into(),
            to: (0..n).map(|i| format!("s{i}")).collect(),
            link_latency_s: 0.0,
            policy,
            ui: None,
        };
        Balancer::new(0, &spec, (1..=n as u32).collect(), 1)
    }

    #[test]
    fn round_robin_takes_turns() {
        let mut b = balancer(Policy::RoundRobin, 3);
        let picks: Vec<usize> = (0..7).map(|_| b.pick()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn least_outstanding_avoids_the_busy_one_and_rotates_ties() {
        let mut b = balancer(Policy::LeastOutstanding, 3);
        b.outstanding = vec![5, 0, 0];
        let picks: Vec<usize> = (0..4).map(|_| b.pick()).collect();
        assert_eq!(picks, vec![1, 2, 1, 2]);
    }

    #[test]
    fn power_of_two_never_picks_the_worst_of_two() {
        let mut b = balancer(Policy::PowerOfTwo, 2);
        b.outstanding = vec![9, 1];
        assert!((0..100).all(|_| b.pick() == 1));
        let mut b = balancer(Policy::PowerOfTwo, 4);
        b.outstanding = vec![0, 0, 0, 50];
        assert!(
            (0..1000).all(|_| b.pick() != 3),
            "the busiest loses every pair it is in"
        );
    }

    #[test]
    fn random_spreads_evenly() {
        let mut b = balancer(Policy::Random, 4);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[b.pick()] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
