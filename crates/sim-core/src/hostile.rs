//! Hostile scenarios: the inputs that once exhausted memory or time (issue 12, SPEC §10),
//! built here so the core's tests, the command line's tests and the fuzzer reproduce them the
//! same way. Each returns the scenario's JSON text.

use serde_json::{json, Value};

fn scenario(duration_s: f64, blocks: Vec<Value>) -> String {
    json!({"version": 1, "name": "hostile", "duration_s": duration_s, "blocks": blocks}).to_string()
}

fn server(id: &str) -> Value {
    json!({"id": id, "kind": "server", "workers": 1,
           "service": {"dist": "exponential", "mean_s": 0.1}})
}

/// A client calling `n` retry blocks in a row, each making up to `max_attempts` attempts,
/// in front of a server that fails every call: one failure fans out into a call per layer.
pub fn retry_chain(n: usize, max_attempts: u32) -> String {
    let mut blocks = vec![json!({"id": "users", "kind": "client", "rate": 100, "to": "r0"})];
    for i in 0..n {
        let to = if i + 1 == n {
            "api".to_string()
        } else {
            format!("r{}", i + 1)
        };
        blocks.push(json!({"id": format!("r{i}"), "kind": "retry",
                           "max_attempts": max_attempts, "to": to}));
    }
    blocks.push(
        json!({"id": "api", "kind": "server", "workers": 1, "error_rate": 1.0,
                       "service": {"dist": "deterministic", "mean_s": 0.001}}),
    );
    scenario(60.0, blocks)
}

/// `clients` closed-loop clients of `users` users each: construction alone allocates an event
/// per user.
pub fn closed_clients(clients: usize, users: u32) -> String {
    let mut blocks: Vec<Value> = (0..clients)
        .map(|i| {
            json!({"id": format!("c{i}"), "kind": "client", "mode": "closed",
                   "users": users, "think_s": 1.0, "to": "api"})
        })
        .collect();
    blocks.push(server("api"));
    scenario(10.0, blocks)
}

/// `servers` servers (three metric columns each) and `rows` metric rows: the stored rows
/// alone can be gigabytes.
pub fn many_rows(servers: usize, rows: u32) -> String {
    let mut blocks = vec![json!({"id": "users", "kind": "client", "rate": 1, "to": "s0"})];
    blocks.extend((0..servers).map(|i| server(&format!("s{i}"))));
    let mut doc: Value =
        serde_json::from_str(&scenario(f64::from(rows), blocks)).unwrap_or_default();
    doc["bucket_s"] = json!(1.0);
    doc.to_string()
}

/// `n` balancers in a row, each listing the next one `repeats` times, with `policy`, behind
/// a client of `rate` requests/s: each call is cheap in events, dear in scans or deliveries.
pub fn balancer_chain(n: usize, repeats: usize, policy: &str, rate: f64) -> String {
    let mut blocks = vec![json!({"id": "users", "kind": "client", "rate": rate, "to": "b0"})];
    for i in 0..n {
        let next = if i + 1 == n {
            "api".to_string()
        } else {
            format!("b{}", i + 1)
        };
        blocks.push(
            json!({"id": format!("b{i}"), "kind": "balancer", "policy": policy,
                           "to": vec![next; repeats]}),
        );
    }
    blocks.push(json!({"id": "api", "kind": "server", "workers": 1000,
                       "service": {"dist": "deterministic", "mean_s": 0.001}}));
    scenario(100.0, blocks)
}

/// One balancer listing the server `entries` times (the limit is 1,000).
pub fn long_to_list(entries: usize) -> String {
    let blocks = vec![
        json!({"id": "users", "kind": "client", "rate": 10, "to": "lb"}),
        json!({"id": "lb", "kind": "balancer", "to": vec!["api"; entries]}),
        server("api"),
    ];
    scenario(10.0, blocks)
}

/// `n` staircases of `steps` steps each (0.01 s apiece, every factor 1) on one client: each
/// step combines every staircase active on the client.
pub fn staircases(n: usize, steps: usize) -> String {
    let blocks = vec![
        json!({"id": "users", "kind": "client", "rate": 1, "to": "api"}),
        server("api"),
    ];
    let mut doc: Value = serde_json::from_str(&scenario(15.0, blocks)).unwrap_or_default();
    let staircase = json!({"kind": "load_steps", "target": "users", "at_s": 1,
                           "step_s": 0.01, "factors": vec![1; steps]});
    doc["triggers"] = json!(vec![staircase; n]);
    doc.to_string()
}
