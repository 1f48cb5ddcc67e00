//! Where a scenario comes from: a file, standard input, a share link or a preset; the edits
//! (`--seed`, `--set`) applied to it; and the limits that apply before anything is read
//! (SPEC §10): a file or standard input larger than [`MAX_FILE_BYTES`] is refused unread, a
//! link longer than a link can be is refused undecoded.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use sim_core::scenario::limits::MAX_FILE_BYTES;
use sim_core::{presets, set_path, share, Limits, Scenario};
use std::io::Read;

/// The edits every command takes.
#[derive(clap::Args)]
pub struct Edits {
    /// Override the scenario's seed (a whole number from 0 to 18446744073709551615).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Set a field before running: `users.rate=90`, `api.service.mean_s=0.2`,
    /// `triggers.0.factor=3`, `duration_s=600`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

/// Reads a scenario from a file, stdin, a share link or a preset, applies the edits and
/// validates it, including whether it can be built and its rows stored within `limits`.
pub fn load(source: &str, edits: &Edits, limits: &Limits) -> Result<Scenario> {
    let (label, doc) = load_doc(source, edits)?;
    let scenario = validate(&label, doc)?;
    preflight(&label, &scenario, limits)?;
    Ok(scenario)
}

/// The scenario of a document read from `label`, or every problem with it.
pub fn validate(label: &str, doc: Value) -> Result<Scenario> {
    Scenario::from_value(doc).map_err(|e| anyhow!("{label} is not a valid scenario:\n{e}"))
}

/// Whether a valid scenario can be built and its rows stored within `limits` (what a run
/// would find out only once it had allocated it).
pub fn preflight(label: &str, scenario: &Scenario, limits: &Limits) -> Result<()> {
    limits
        .preflight(scenario)
        .map_err(|e| anyhow!("{label} cannot run within the limits:\n{e}"))
}

/// The scenario document of a source with the edits applied, and the source's label (for
/// messages); not yet validated.
pub fn load_doc(source: &str, edits: &Edits) -> Result<(String, Value)> {
    let (label, mut doc) = read_source(source)?;
    if let Some(seed) = edits.seed {
        // Set as a `u64`, exactly: a seed is not a JSON number to be re-read.
        match &mut doc {
            Value::Object(map) => {
                map.insert("seed".into(), Value::from(seed));
            }
            _ => bail!("{label}: --seed: the scenario is not a JSON object"),
        }
    }
    for assignment in &edits.sets {
        let (path, value) = assignment.split_once('=').ok_or_else(|| {
            anyhow!("--set {assignment}: expected PATH=VALUE, e.g. users.rate=90")
        })?;
        set_path(&mut doc, path.trim(), value).map_err(|e| anyhow!("--set {e}"))?;
    }
    Ok((label, doc))
}

/// The scenario document of a source, and its label.
fn read_source(source: &str) -> Result<(String, Value)> {
    if source == "-" {
        let label = "standard input".to_string();
        let bytes = read_limited(std::io::stdin().lock(), &label)?;
        return Ok((label.clone(), parse(&label, &bytes)?));
    }
    let path = std::path::Path::new(source);
    if path.exists() {
        let label = source.to_string();
        let file = std::fs::File::open(path).with_context(|| format!("reading {source}"))?;
        // A regular file says its size: one over the limit is refused unread. A device or a
        // pipe (`/dev/zero`) does not, and is read only up to the limit.
        let size = file
            .metadata()
            .with_context(|| format!("reading {source}"))?
            .len();
        if size > MAX_FILE_BYTES {
            bail!(
                "{source} is {} ({size} bytes); a scenario file may be at most {} ({MAX_FILE_BYTES} bytes), so it was not read",
                mib(size),
                mib(MAX_FILE_BYTES)
            );
        }
        let bytes = read_limited(file, &label)?;
        return Ok((label.clone(), parse(&label, &bytes)?));
    }
    if looks_like_link(source) {
        let length = source.trim().chars().count();
        if length > MAX_LINK_CHARS {
            bail!(
                "this link is too long ({length} characters; a link holds at most {} characters of scenario), so it was not decoded",
                share::MAX_PAYLOAD_CHARS
            );
        }
        // The link's own errors say what is wrong with it; the edits and the validator then
        // see the scenario as a document, like any file's.
        let scenario = share::decode(source).map_err(|e| anyhow!("{e}"))?;
        return Ok(("the share link".into(), serde_json::to_value(&scenario)?));
    }
    if let Some(preset) = presets::find(source) {
        let label = format!("preset {source}");
        return Ok((label.clone(), parse(&label, preset.json.as_bytes())?));
    }
    let names: Vec<&str> = presets::ALL.iter().map(|p| p.name).collect();
    bail!(
        "{source}: no such file or preset (presets: {})",
        names.join(", ")
    )
}

/// Everything `reader` holds, up to [`MAX_FILE_BYTES`]; more is refused without reading on.
fn read_limited(reader: impl Read, label: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {label}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{label} holds more than {} ({MAX_FILE_BYTES} bytes), the most a scenario may be, so it was not read further",
            mib(MAX_FILE_BYTES)
        );
    }
    Ok(bytes)
}

fn parse(label: &str, bytes: &[u8]) -> Result<Value> {
    // The shape first, building nothing: a list of a million entries is refused in
    // milliseconds instead of being built (SPEC §10).
    if let Ok(text) = std::str::from_utf8(bytes) {
        sim_core::scenario::check_shape(text)
            .map_err(|p| anyhow!("{label} is not a valid scenario:\n{p}"))?;
    }
    serde_json::from_slice(bytes).map_err(|e| {
        anyhow!(
            "{label}: not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })
}

/// A size in MiB, as messages write it: `4 MiB`, `91.3 MiB`.
fn mib(bytes: u64) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib.fract() == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

/// The longest link text read: the most a payload may be, plus room for the address and the
/// other parameters before it. A longer argument is refused before it is decoded.
pub const MAX_LINK_CHARS: usize = share::MAX_PAYLOAD_CHARS + 4096;

/// The smallest valid scenario's payload is about 100 characters; a shorter `<digits>.<word>`
/// is more likely a mistyped file name (`1.json`) and gets the "no such file" message.
const MIN_PAYLOAD_DATA_CHARS: usize = 20;

/// A share link in any form `docs/share-url.md` accepts: a URL (any scheme, so that a
/// mistyped one gets the link decoder's message, not "no such file"; or none, as long as it
/// has an `s=` parameter), a bare `?s=…`, `#s=…` or `#/route?s=…`, `s=…`, or a payload
/// `<digits>.<base64url>` of at least [`MIN_PAYLOAD_DATA_CHARS`], with surrounding
/// whitespace. Only asked when no file has that name.
pub fn looks_like_link(source: &str) -> bool {
    let source = source.trim();
    if source.contains("://")
        || source.starts_with('?')
        || source.starts_with('#')
        || source.starts_with("s=")
        || source.contains("?s=")
        || source.contains("&s=")
        || source.contains("#s=")
    {
        return true;
    }
    match source.split_once('.') {
        Some((format, data)) => {
            data.len() >= MIN_PAYLOAD_DATA_CHARS
                && !format.is_empty()
                && format.bytes().all(|b| b.is_ascii_digit())
                && data
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_link_form_looks_like_a_link() {
        for form in [
            "https://metastable.example/?s=1.AAAA",
            "https://metastable.example/?embed&s=1.AAAA",
            "https://metastable.example/#s=1.AAAA",
            "https://metastable.example/#/route?s=1.AAAA",
            "metastable.example/?s=1.AAAA",
            "?s=1.AAAA",
            "#s=1.AAAA",
            "#/route?s=1.AAAA",
            "s=1.AAAA",
            "  s=1.AAAA\n",
            "1.AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            " 1.AAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
        ] {
            assert!(looks_like_link(form), "{form:?}");
        }
        for not_a_link in ["1.json", "retry-storm", "scenarios/a.json", "sweep.json"] {
            assert!(!looks_like_link(not_a_link), "{not_a_link:?}");
        }
    }

    #[test]
    fn sizes_are_written_in_mib() {
        assert_eq!(mib(4 << 20), "4 MiB");
        assert_eq!(mib(95_700_000), "91.3 MiB");
    }
}
