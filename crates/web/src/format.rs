//! Numbers and words for people: every number the page shows goes through here, so it reads
//! the same everywhere (three significant figures, thousands separators, units).

/// A number to three significant figures, with thousands separators and no trailing zeros:
/// `71.57894736842105` → `71.6`, `4199374` → `4,199,374`, `0.0004` → `0.0004`.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "—".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    // Whole numbers of 1,000 and more keep every digit: a count of calls is read exactly.
    if a >= 1000.0 {
        return with_sign(v, group(&format!("{:.0}", a)));
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 12) as usize;
    let mut s = format!("{a:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    // Rounding can carry into a fourth figure (999.6 → 1000).
    if let Ok(rounded) = s.parse::<f64>() {
        if rounded >= 1000.0 {
            return with_sign(v, group(&format!("{rounded:.0}")));
        }
    }
    with_sign(v, s)
}

/// A whole number with thousands separators.
pub fn int(n: u64) -> String {
    group(&n.to_string())
}

/// A number and its unit (`12.5 s`, `80 requests/s`); the unit is left out when empty.
pub fn with_unit(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        num(v)
    } else if unit == "×" {
        format!("×{}", num(v))
    } else {
        format!("{} {unit}", num(v))
    }
}

/// The factors of a staircase as a span, lowest to highest: `×1–1.3` (one number, `×1.2`,
/// when they are all equal; empty for none).
pub fn factor_span(factors: &[f64]) -> String {
    let low = factors.iter().copied().fold(f64::INFINITY, f64::min);
    let high = factors.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if factors.is_empty() {
        String::new()
    } else if num(low) == num(high) {
        format!("×{}", num(low))
    } else {
        format!("×{}–{}", num(low), num(high))
    }
}

/// A duration in seconds as people say it: `350 ms`, `12.5 s`, `4 min 10 s`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return num(s);
    }
    if s.abs() < 1.0 && s != 0.0 {
        return format!("{} ms", num(s * 1000.0));
    }
    if s.abs() < 600.0 {
        return format!("{} s", num(s));
    }
    let minutes = (s / 60.0).floor();
    let rest = (s - minutes * 60.0).round();
    if rest == 0.0 {
        format!("{} min", num(minutes))
    } else {
        format!("{} min {} s", num(minutes), rest)
    }
}

/// Each block's live figure by block id, for the editor's blocks ([`block_hints`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints(Vec<(String, String)>);

impl Hints {
    /// The figure of the block `id`, if it has one.
    pub fn get(&self, id: &str) -> Option<&str> {
        let at = self.0.binary_search_by(|(k, _)| k.as_str().cmp(id)).ok()?;
        Some(&self.0[at].1)
    }

    /// How many blocks have a figure.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Each block's live figure from a run's last row, for the editor's blocks: a server's queue
/// and utilization (and, autoscaled, its workers and those warming up), a cache's hit rate, a retry layer's budget tokens, a breaker's state.
/// `columns` are the run's columns (`<id>.<metric>` after the global ones), `values` the
/// row's values in the same order.
///
/// Lists, not maps (a block's columns are next to each other; the figures are sorted by id
/// once): each map type would add its code to the page's wasm.
pub fn block_hints(columns: &[String], values: &[Option<f64>]) -> Hints {
    let mut figures: Vec<(&str, Vec<(&str, f64)>)> = Vec::new();
    for (column, value) in columns.iter().zip(values) {
        let (Some((id, metric)), Some(value)) = (column.rsplit_once('.'), value) else {
            continue;
        };
        let group = match figures.iter().rposition(|(g, _)| *g == id) {
            Some(group) => group,
            None => {
                figures.push((id, Vec::new()));
                figures.len() - 1
            }
        };
        figures[group].1.push((metric, *value));
    }
    let mut hints: Vec<(String, String)> = figures
        .into_iter()
        .filter_map(|(id, metrics)| {
            let get = |name: &str| metrics.iter().find(|(m, _)| *m == name).map(|(_, v)| *v);
            let hint = if let Some(utilization) = get("utilization") {
                let queue = get("queue").unwrap_or(0.0);
                let mut hint = format!("q {} · {:.0}%", num(queue), utilization * 100.0);
                // An autoscaled server: its workers, and those warming up.
                if let Some(workers) = get("workers") {
                    hint += &format!(" · {} w", num(workers));
                    if let Some(pending) = get("pending").filter(|&p| p > 0.0) {
                        hint += &format!(" +{}", num(pending));
                    }
                }
                hint
            } else if let Some(hit) = get("hit_rate") {
                format!("hit {:.0}%", hit * 100.0)
            } else if let Some(tokens) = get("tokens") {
                format!("{} tokens", num(tokens))
            } else if let Some(state) = get("state") {
                (if state < 0.25 {
                    "closed"
                } else if state < 0.75 {
                    "half-open"
                } else {
                    "open"
                })
                .to_string()
            } else {
                return None;
            };
            Some((id.to_string(), hint))
        })
        .collect();
    // A run's ids are distinct: the order is the ids' whatever the sort.
    hints.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Hints(hints)
}

fn with_sign(v: f64, digits: String) -> String {
    if v < 0.0 {
        format!("−{digits}")
    } else {
        digits
    }
}

/// Inserts thousands separators into the integer part of a plain decimal.
fn group(digits: &str) -> String {
    let (int_part, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::with_capacity(int_part.len() + int_part.len() / 3 + frac.len() + 1);
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(num(71.57894736842105), "71.6");
        assert_eq!(num(2.052631578947368), "2.05");
        assert_eq!(num(115.7), "116");
        assert_eq!(num(46.9), "46.9");
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(0.0004), "0.0004");
        assert_eq!(num(0.000_123_456), "0.000123");
        assert_eq!(num(4_199_374.0), "4,199,374");
        assert_eq!(num(1_000_000.0), "1,000,000");
        assert_eq!(num(999.6), "1,000");
        assert_eq!(num(-5.0), "−5");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(int(222_628), "222,628");
        assert_eq!(int(7), "7");
    }

    #[test]
    fn a_staircase_reads_as_the_span_of_its_factors() {
        assert_eq!(factor_span(&[1.0, 1.1, 1.3, 1.2, 1.0]), "×1–1.3");
        assert_eq!(factor_span(&[1.2, 1.2]), "×1.2");
        assert_eq!(factor_span(&[2.0, 0.0]), "×0–2");
        assert_eq!(factor_span(&[]), "");
    }

    #[test]
    fn each_block_gets_its_live_figure() {
        let columns: Vec<String> = [
            "t",
            "api.queue",
            "api.busy",
            "api.utilization",
            "c.hit_rate",
            "r.tokens",
            "r.timeouts",
            "b.state",
            "auto.queue",
            "auto.busy",
            "auto.utilization",
            "auto.workers",
            "auto.pending",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        let values = [
            Some(3.0),
            Some(4_210.0),
            Some(10.0),
            Some(0.994),
            Some(0.35),
            Some(2.5),
            Some(0.0),
            Some(1.0),
            Some(0.0),
            Some(12.0),
            Some(0.75),
            Some(16.0),
            Some(4.0),
        ];
        let hints = block_hints(&columns, &values);
        assert_eq!(hints.get("auto").unwrap(), "q 0 · 75% · 16 w +4");
        assert_eq!(hints.get("api").unwrap(), "q 4,210 · 99%");
        assert_eq!(hints.get("c").unwrap(), "hit 35%");
        assert_eq!(hints.get("r").unwrap(), "2.5 tokens");
        assert_eq!(hints.get("b").unwrap(), "open");
        assert_eq!(hints.len(), 5);
    }

    #[test]
    fn durations_and_units() {
        assert_eq!(seconds(0.35), "350 ms");
        assert_eq!(seconds(12.5), "12.5 s");
        assert_eq!(seconds(350.789120027), "351 s");
        assert_eq!(seconds(3600.0), "60 min");
        assert_eq!(seconds(610.0), "10 min 10 s");
        assert_eq!(with_unit(80.0, "requests/s"), "80 requests/s");
        assert_eq!(with_unit(2.052, "×"), "×2.05");
        assert_eq!(with_unit(3.0, ""), "3");
    }
}
