//! A fuzz harness for share-link decoding (`sim_core::share::decode`) that runs on the stable
//! toolchain (cargo-fuzz needs nightly). It feeds the decoder random text, random bytes behind
//! every link format, and mutations of real links (flipped, inserted and deleted bytes,
//! truncations, splices, damaged DEFLATE data, mutated scenario JSON behind a correct header
//! and checksum), catches panics, and counts how each input was answered.
//!
//! ```text
//! cargo run -p sim-core --release --example fuzz_share -- --seconds 60 --seed 1
//! cargo run -p sim-core --release --example fuzz_share -- --iterations 100000
//! ```
//!
//! Inputs depend only on the seed and the iteration number, so a failure is replayed with the
//! same `--seed` and `--iterations` up to the one reported. Exits 1 if any input panicked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64;
use sim_core::{presets, share, Scenario};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const EVERY_BLOCK: &str = include_str!("../../../tests/scenarios/every-block.json");
const USAGE: &str = "usage: fuzz_share [--seconds N | --iterations N] [--seed N]";

/// Characters that matter to the decoder: the payload alphabet, URL punctuation, and some that
/// no link holds.
const ALPHABET: &[char] = &[
    'A',
    'Q',
    'g',
    'w',
    'z',
    '0',
    '1',
    '9',
    '-',
    '_',
    '.',
    '?',
    '#',
    '&',
    '=',
    '/',
    ':',
    's',
    '%',
    '+',
    ' ',
    '\n',
    '\u{0}',
    'é',
    '€',
    '\u{1F600}',
];

struct Options {
    seconds_limit: Option<f64>,
    iterations_limit: Option<u64>,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds_limit: None,
        iterations_limit: None,
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--seconds" => {
                let seconds: f64 = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
                options.seconds_limit = Some(seconds);
            }
            "--iterations" => {
                let n = value()?.parse().map_err(|e| format!("--iterations: {e}"))?;
                options.iterations_limit = Some(n);
            }
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if options.seconds_limit.is_none() && options.iterations_limit.is_none() {
        options.seconds_limit = Some(10.0);
    }
    Ok(options)
}

/// The seeds of mutation: real links in every form, and the scenario JSON they carry.
struct Corpus {
    links: Vec<String>,
    payloads: Vec<Vec<u8>>,
    json: Vec<String>,
}

fn corpus() -> Corpus {
    let scenarios: Vec<Scenario> = presets::ALL
        .iter()
        .map(|p| p.json)
        .chain([EVERY_BLOCK])
        .filter_map(|json| Scenario::from_json(json).ok())
        .collect();
    let mut links = Vec::new();
    let mut payloads = Vec::new();
    let mut json = Vec::new();
    for scenario in &scenarios {
        let payload = share::encode(scenario);
        links.push(share::link("https://metastable.example/", scenario));
        links.push(format!(
            "https://h.example/m/?embed&charts=goodput&s={payload}&autoplay"
        ));
        links.push(format!("#s={payload}"));
        links.push(share::encode_legacy(scenario));
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(&payload[2..]) {
            payloads.push(bytes);
        }
        links.push(payload);
        json.push(serde_json::to_string(scenario).unwrap_or_default());
    }
    Corpus {
        links,
        payloads,
        json,
    }
}

fn below(rng: &mut Pcg64, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

fn random_bytes(rng: &mut Pcg64, max_len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; below(rng, max_len + 1)];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// One to four byte-level mutations: flip a bit, replace, insert, delete, truncate, splice
/// with `other`, duplicate a range.
fn mutate(rng: &mut Pcg64, mut bytes: Vec<u8>, other: &[u8]) -> Vec<u8> {
    for _ in 0..1 + below(rng, 4) {
        let len = bytes.len();
        let at = below(rng, len + 1);
        match below(rng, 7) {
            0 if at < len => bytes[at] ^= 1 << below(rng, 8),
            1 if at < len => {
                let c = ALPHABET[below(rng, ALPHABET.len())];
                let mut buffer = [0u8; 4];
                let encoded = c.encode_utf8(&mut buffer).as_bytes();
                bytes[at] = encoded[0];
            }
            2 => {
                let byte = if rng.next_u32() % 2 == 0 {
                    ALPHABET[below(rng, ALPHABET.len())] as u8
                } else {
                    rng.next_u32() as u8
                };
                bytes.insert(at, byte);
            }
            3 if at < len => {
                let end = (at + 1 + below(rng, 8)).min(len);
                bytes.drain(at..end);
            }
            4 => bytes.truncate(at),
            5 => {
                let from = below(rng, other.len() + 1);
                bytes.truncate(at);
                bytes.extend_from_slice(&other[from..]);
            }
            _ if at < len => {
                let end = (at + 1 + below(rng, 32)).min(len);
                let copy = bytes[at..end].to_vec();
                let to = below(rng, bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
            _ => {}
        }
    }
    bytes
}

/// CRC-32 (IEEE), as the link format defines it: the harness builds its own format-1
/// containers so that it can reach the stages behind the checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A format-1 payload with a correct checksum around any JSON bytes.
fn container(flags: u8, json: &[u8]) -> String {
    let mut checked = vec![flags];
    checked.extend_from_slice(json);
    let mut bytes = vec![flags];
    bytes.extend_from_slice(&crc32(&checked).to_be_bytes());
    bytes.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(json, 6));
    format!("1.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The input of one iteration.
fn input(rng: &mut Pcg64, corpus: &Corpus) -> String {
    let link = corpus.links[below(rng, corpus.links.len())].as_bytes();
    let other = corpus.links[below(rng, corpus.links.len())].as_bytes();
    match below(rng, 8) {
        // Random text over the decoder's alphabet.
        0 => (0..below(rng, 300))
            .map(|_| ALPHABET[below(rng, ALPHABET.len())])
            .collect(),
        // Random bytes behind a link format number, and raw.
        1 => {
            let format = [0, 1, 1, 2, below(rng, 1000)][below(rng, 5)];
            let bytes = random_bytes(rng, 2000);
            format!("{format}.{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        2 => String::from_utf8_lossy(&random_bytes(rng, 300)).into_owned(),
        // Mutated real links, as text.
        3 | 4 => String::from_utf8_lossy(&mutate(rng, link.to_vec(), other)).into_owned(),
        // A real payload's bytes mutated (header, checksum or DEFLATE data), still valid base64.
        5 => {
            let payload = &corpus.payloads[below(rng, corpus.payloads.len())];
            let other = &corpus.payloads[below(rng, corpus.payloads.len())];
            let mut bytes = mutate(rng, payload.clone(), other);
            // Half the time, repair the checksum of whatever still inflates, so that damaged
            // DEFLATE output reaches the JSON parser and the validator.
            if rng.next_u32() % 2 == 0 && bytes.len() >= 5 {
                if let Ok(json) = miniz_oxide::inflate::decompress_to_vec_with_limit(
                    &bytes[5..],
                    share::MAX_SCENARIO_BYTES,
                ) {
                    let mut checked = vec![bytes[0]];
                    checked.extend_from_slice(&json);
                    bytes[1..5].copy_from_slice(&crc32(&checked).to_be_bytes());
                }
            }
            format!("1.{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        // Mutated scenario JSON behind a correct header (format 1) or as format 0.
        _ => {
            let json = corpus.json[below(rng, corpus.json.len())].as_bytes();
            let other = corpus.json[below(rng, corpus.json.len())].as_bytes();
            let mutated = mutate(rng, json.to_vec(), other);
            if rng.next_u32() % 4 == 0 {
                format!("0.{}", URL_SAFE_NO_PAD.encode(mutated))
            } else {
                let flags = [0, 1, 1, rng.next_u32() as u8][below(rng, 4)];
                container(flags, &mutated)
            }
        }
    }
}

fn escaped(text: &str) -> String {
    let shown: String = text.chars().take(400).collect();
    format!("{shown:?}{}", if text.len() > 400 { "…" } else { "" })
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let corpus = corpus();
    let mut rng = Pcg64::seed_from_u64(options.seed);
    // Panics are reported with their input below; the default hook's message would come
    // without it.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut panics = 0u64;
    let mut slowest = Duration::ZERO;
    let mut slowest_input = String::new();
    let started = Instant::now();
    let mut iterations = 0u64;
    loop {
        if options.iterations_limit.is_some_and(|n| iterations >= n) {
            break;
        }
        if iterations % 256 == 0 {
            if let Some(limit) = options.seconds_limit {
                if started.elapsed().as_secs_f64() >= limit {
                    break;
                }
            }
        }
        let text = input(&mut rng, &corpus);
        iterations += 1;
        let one = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| share::decode(&text)));
        let took = one.elapsed();
        if took > slowest {
            slowest = took;
            slowest_input = text.clone();
        }
        match result {
            Ok(Ok(_)) => *outcomes.entry("ok").or_default() += 1,
            Ok(Err(e)) => *outcomes.entry(e.kind()).or_default() += 1,
            Err(_) => {
                panics += 1;
                if panics <= 5 {
                    eprintln!("iteration {iterations} panicked on {}", escaped(&text));
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "fuzz_share: seed {}, {iterations} iterations in {seconds:.1} s ({:.0}/s), {panics} panics, slowest decode {:.2} ms",
        options.seed,
        iterations as f64 / seconds.max(1e-9),
        slowest.as_secs_f64() * 1e3,
    );
    for (kind, count) in &outcomes {
        println!("  {kind:<17} {count}");
    }
    println!(
        "  slowest input: {} characters",
        slowest_input.chars().count()
    );
    if panics > 0 {
        println!("FAILED: {panics} inputs panicked the decoder");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
