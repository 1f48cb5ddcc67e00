//! Share links (`sim_core::share`): every preset's link is short and opens to the same scenario,
//! old link formats keep opening, and damaged, tampered, oversized or arbitrary input is refused
//! with a clear message — never a panic, never a hang, never a silently different scenario.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use sim_core::share::{self, LinkError};
use sim_core::{presets, Scenario};
use std::time::{Duration, Instant};

/// A base address of 30 characters, as the link-length budget of the issue assumes.
const BASE_30: &str = "https://metastable.example/app";

/// A scenario with every presentation field and awkward text, frozen below as links made by
/// this build: those links must open to exactly this scenario in every later build.
const FROZEN: &str = r#"{"version": 1, "name": "Frozen <link> & ü", "caption": "A link made once and kept: it must open the same for ever.", "seed": 12345678901234, "duration_s": 40, "bucket_s": 0.5,
  "blocks": [
    {"id": "users", "kind": "client", "rate": 55.5, "timeout_s": 1.25, "to": "retries", "ui": {"x": 10, "y": 20.5}},
    {"id": "retries", "kind": "retry", "max_attempts": 3, "backoff": {"kind": "constant", "base_s": 0.1}, "to": "api"},
    {"id": "api", "kind": "server", "workers": 4, "discipline": "lifo", "service": {"mean_s": 0.05}}],
  "triggers": [{"kind": "latency", "target": "api", "at_s": 10, "for_s": 5, "factor": 3}]}"#;

/// `FROZEN` in link format 1, as written by the first build that wrote format 1.
const FROZEN_FORMAT_1: &str = "1.AI4OhcNNkU1ugzAQha9iedEVQiQN_UFVpW56iSqKJs6QjgAb2UOaNOJm3fVinQEl6c4P4-_Ne3O2B4yJgrfVIrMeOrSVfY_hG715ack3r-bO_P7YzDroefrPvhm9MB3s0ATv0IDfmQZ7rgyx6YbEJvTynj_RJCGaOkSD4pMLJiHuxGt5vyofHp-eCz1ldjdEUPom2WpV5EVmt4NrkFUXeSmyDa4R8XG2DXkhWNcSehYiqRqSxBDBQUREjoQqhSqBylIRTB2GYUIu8qV8GMhWZ3sUKX4nWy3FaRyzq4NiTheDG3OygJ7k2MFxA8zY9SzUexkTXBPqWrmXMYNPDNOgW0g4B1r8t5HJpZuLzwz-CrHRQJV2Q8lRL5Xralqqw9RiPJBD9ZFrlgs89sFLIQStDobgZ6tCIq1l6Ej7_US8NdhKOd5pQoa4R766w1zStAfZnYpyOoPjECVoXozr8Q8";

/// `FROZEN` in the legacy link format 0.
const FROZEN_FORMAT_0: &str = "0.eyJ2ZXJzaW9uIjoxLCJuYW1lIjoiRnJvemVuIDxsaW5rPiAmIMO8IiwiY2FwdGlvbiI6IkEgbGluayBtYWRlIG9uY2UgYW5kIGtlcHQ6IGl0IG11c3Qgb3BlbiB0aGUgc2FtZSBmb3IgZXZlci4iLCJzZWVkIjoxMjM0NTY3ODkwMTIzNCwiZHVyYXRpb25fcyI6NDAuMCwiYnVja2V0X3MiOjAuNSwiYmxvY2tzIjpbeyJraW5kIjoiY2xpZW50IiwiaWQiOiJ1c2VycyIsInRvIjoicmV0cmllcyIsInJhdGUiOjU1LjUsInRpbWVvdXRfcyI6MS4yNSwidWkiOnsieCI6MTAsInkiOjIwLjV9fSx7ImtpbmQiOiJyZXRyeSIsImlkIjoicmV0cmllcyIsInRvIjoiYXBpIiwibWF4X2F0dGVtcHRzIjozLCJiYWNrb2ZmIjp7ImtpbmQiOiJjb25zdGFudCIsImJhc2VfcyI6MC4xfX0seyJraW5kIjoic2VydmVyIiwiaWQiOiJhcGkiLCJ3b3JrZXJzIjo0LCJkaXNjaXBsaW5lIjoibGlmbyIsInNlcnZpY2UiOnsiZGlzdCI6ImV4cG9uZW50aWFsIiwibWVhbl9zIjowLjA1fX1dLCJ0cmlnZ2VycyI6W3sia2luZCI6ImxhdGVuY3kiLCJ0YXJnZXQiOiJhcGkiLCJhdF9zIjoxMC4wLCJmb3JfcyI6NS4wLCJmYWN0b3IiOjMuMH1dfQ";

const EVERY_BLOCK: &str = include_str!("../../../../tests/scenarios/every-block.json");

fn preset(name: &str) -> Scenario {
    presets::load(name).expect("preset").expect("valid preset")
}

fn all_presets() -> Vec<Scenario> {
    presets::ALL.iter().map(|p| preset(p.name)).collect()
}

/// CRC-32 (IEEE), written again here so that the tests check the decoder against an
/// independent implementation of the format rather than against itself.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A format-1 payload built by hand from any bytes, with a correct checksum: it reaches the
/// decoder's JSON, caption and validation stages, which damaged links never reach.
fn format_1(flags: u8, json: &[u8]) -> String {
    let mut checked = vec![flags];
    checked.extend_from_slice(json);
    let mut bytes = vec![flags];
    bytes.extend_from_slice(&crc32(&checked).to_be_bytes());
    bytes.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(json, 9));
    format!("1.{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn error_of(text: &str) -> LinkError {
    match share::decode(text) {
        Ok(scenario) => panic!("{text:?} opened as {:?}", scenario.name),
        Err(e) => e,
    }
}

#[test]
fn every_preset_has_a_short_link_that_opens_to_the_same_scenario() {
    assert_eq!(BASE_30.len(), 30);
    println!("share link lengths with a 30-character base address:");
    for (info, scenario) in presets::ALL.iter().zip(all_presets()) {
        let url = share::link(BASE_30, &scenario);
        let legacy = share::link_with_payload(BASE_30, &share::encode_legacy(&scenario));
        println!(
            "  {:<30} {:>4} characters (format 0 would be {})",
            info.name,
            url.len(),
            legacy.len()
        );
        assert_eq!(share::decode(&url).as_ref(), Ok(&scenario), "{}", info.name);
        assert!(url.len() < 700, "{}: {} characters", info.name, url.len());
    }
    let storm = share::link(BASE_30, &preset("retry-storm"));
    assert!(storm.len() < 600, "{} characters: {storm}", storm.len());
}

#[test]
fn a_preset_document_as_written_makes_the_same_link_as_its_scenario() {
    for preset in presets::ALL {
        let doc: Value = serde_json::from_str(preset.json).unwrap();
        let scenario = Scenario::from_json(preset.json).unwrap();
        let payload = share::encode_doc(&doc);
        assert_eq!(
            share::decode(&payload),
            Ok(scenario.clone()),
            "{}",
            preset.name
        );
        // The caption is left out (flag set) and put back.
        assert!(
            payload.len() < share::encode_legacy(&scenario).len() / 2,
            "{}",
            preset.name
        );
        let reopened = share::decode_doc(&payload).unwrap();
        assert_eq!(reopened["caption"], doc["caption"], "{}", preset.name);
        let edited = {
            let mut doc = doc.clone();
            doc["caption"] = json!("my own words");
            doc
        };
        assert_eq!(
            share::decode_doc(&share::encode_doc(&edited)).unwrap()["caption"],
            "my own words"
        );
    }
    assert!(matches!(
        share::decode_doc(&share::encode_doc(&json!({"version": 1, "blocks": 3}))),
        Err(LinkError::Invalid(_))
    ));
}

#[test]
fn preset_names_are_unique_so_the_caption_flag_is_unambiguous() {
    let mut names: Vec<String> = all_presets().into_iter().map(|s| s.name).collect();
    names.sort();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "two presets share a scenario name");
}

#[test]
fn a_preset_caption_is_left_out_of_the_link_and_put_back() {
    let storm = preset("retry-storm");
    let caption = storm.caption.clone().expect("presets have captions");
    let with = share::encode(&storm);
    let without = share::encode(&Scenario {
        caption: None,
        ..storm.clone()
    });
    // The flag costs nothing: both payloads carry the same JSON.
    assert_eq!(with.len(), without.len());
    assert_ne!(with, without);
    assert_eq!(share::decode(&with).unwrap().caption, Some(caption.clone()));
    assert_eq!(share::decode(&without).unwrap().caption, None);

    // An edited caption, or the preset's caption under another name, travels in full.
    let edited = Scenario {
        caption: Some(format!("{caption} Edited.")),
        ..storm.clone()
    };
    let renamed = Scenario {
        name: "My storm".into(),
        ..storm.clone()
    };
    for scenario in [edited, renamed] {
        let payload = share::encode(&scenario);
        assert!(payload.len() > with.len() + 100, "{}", payload.len());
        assert_eq!(share::decode(&payload).unwrap(), scenario);
    }
}

#[test]
fn format_0_links_of_every_preset_open_to_the_same_scenario_as_format_1() {
    for scenario in all_presets()
        .into_iter()
        .chain([Scenario::from_json(EVERY_BLOCK).unwrap()])
    {
        let old = share::encode_legacy(&scenario);
        assert!(old.starts_with("0."));
        let new = share::encode(&scenario);
        assert!(new.starts_with("1."));
        assert_eq!(
            share::decode(&old),
            share::decode(&new),
            "{}",
            scenario.name
        );
        assert_eq!(share::decode(&old).as_ref(), Ok(&scenario));
    }
}

#[test]
fn links_made_by_earlier_builds_keep_opening() {
    let frozen = Scenario::from_json(FROZEN).unwrap();
    assert_eq!(share::decode(FROZEN_FORMAT_1).as_ref(), Ok(&frozen));
    assert_eq!(share::decode(FROZEN_FORMAT_0).as_ref(), Ok(&frozen));
    // Names and captions are data: markup in them travels as text, byte for byte.
    assert_eq!(frozen.name, "Frozen <link> & ü");
}

#[test]
fn whole_urls_bare_parameters_and_payloads_all_open() {
    let storm = preset("retry-storm");
    let payload = share::encode(&storm);
    let forms = [
        payload.clone(),
        format!("  {payload}\n"),
        format!("s={payload}"),
        format!("?s={payload}"),
        format!("#s={payload}"),
        format!("https://metastable.example/?s={payload}"),
        format!("http://localhost:8080/metastable/#s={payload}"),
        format!("https://h.example/m/#/play?autoplay&s={payload}"),
        share::link("https://h.example/blog/metastable/", &storm),
    ];
    for form in &forms {
        assert_eq!(share::decode(form).as_ref(), Ok(&storm), "{form}");
    }
}

#[test]
fn the_web_apps_other_parameters_are_kept_by_link_and_ignored_by_decode() {
    let storm = preset("retry-storm");
    let base = "https://h.example/metastable/?embed&charts=goodput,queue&knobs=users.rate,retries.max_attempts&autoplay";
    let url = share::link(base, &storm);
    assert!(
        url.starts_with("https://h.example/metastable/?embed&charts=goodput,queue&knobs=users.rate,retries.max_attempts&autoplay&s=1."),
        "{url}"
    );
    assert_eq!(share::decode(&url).as_ref(), Ok(&storm));
    // The payload first and the web app's parameters after it, or in the fragment, too.
    let payload = share::encode(&storm);
    for url in [
        format!("https://h.example/?s={payload}&embed&charts=goodput&knobs=users.rate&autoplay=1"),
        format!("https://h.example/?embed=1#charts=queue&s={payload}&autoplay"),
    ] {
        assert_eq!(share::decode(&url).as_ref(), Ok(&storm), "{url}");
    }
    // Making a link from a link replaces its scenario and keeps the rest.
    let other = preset("stale-queue");
    let again = share::link(&url, &other);
    let s_params = again
        .split(['?', '&', '#'])
        .filter(|p| p.starts_with("s="))
        .count();
    assert_eq!(s_params, 1, "{again}");
    assert!(again.contains("?embed&charts="), "{again}");
    assert_eq!(share::decode(&again).as_ref(), Ok(&other));
    assert_eq!(
        share::payload_of(&again),
        Some(share::encode(&other).as_str())
    );
}

#[test]
fn a_truncated_link_is_refused_at_every_length() {
    let payload = share::encode(&preset("cold-cache"));
    for end in 0..payload.len() {
        let e = error_of(&payload[..end]);
        assert!(
            e.to_string()
                .starts_with("this link is truncated or damaged"),
            "cut at {end}: {e}"
        );
    }
    let e = error_of(&payload[..payload.len() / 2]);
    assert!(e.to_string().contains("truncated or damaged"), "{e}");
}

#[test]
fn one_changed_character_never_opens_a_different_scenario() {
    // With the checksum, a change anywhere either is refused or, where it only touches bits
    // that carry no data (the padding after DEFLATE's last block), opens the same scenario.
    let scenario = preset("retry-storm");
    let payload = share::encode(&scenario);
    let mut refused = 0;
    let mut same = 0;
    for (i, original) in payload.char_indices() {
        for replacement in ['A', 'f', '0', '_', '-', '2', 'z'] {
            if replacement == original {
                continue;
            }
            let mut changed = payload.clone();
            changed.replace_range(i..i + 1, &replacement.to_string());
            match share::decode(&changed) {
                Ok(opened) => {
                    assert_eq!(opened, scenario, "changed at {i}: {changed}");
                    same += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        }
    }
    println!("one changed character: {refused} refused, {same} harmless");
    assert!(
        refused > 50 * same.max(1),
        "{refused} refused, {same} harmless"
    );
}

#[test]
fn a_newer_link_format_says_so() {
    let e = error_of("7.AAAA");
    assert_eq!(e, LinkError::NewerFormat(7));
    assert_eq!(
        e.to_string(),
        "this link was made by a newer version of Metastable (link format 7); this version opens link formats 0 to 1"
    );
    let e = error_of(&format!(
        "https://metastable.example/?s=42.{}",
        &share::encode(&preset("retry-storm"))[2..]
    ));
    assert!(e.to_string().contains("link format 42"), "{e}");
    for bad in [
        "",
        "1",
        "x.AAAA",
        ".AAAA",
        "1234567890.AAAA",
        "-1.AAAA",
        "1 .AAAA",
    ] {
        assert_eq!(error_of(bad), LinkError::NoFormat, "{bad:?}");
    }
}

#[test]
fn a_newer_scenario_version_inside_a_link_says_so() {
    let mut doc: Value = serde_json::from_str(presets::find("stale-queue").unwrap().json).unwrap();
    doc["version"] = json!(2);
    let text = doc.to_string();
    let legacy = format!("0.{}", URL_SAFE_NO_PAD.encode(&text));
    for payload in [legacy, format_1(0, text.as_bytes())] {
        let e = error_of(&payload);
        assert_eq!(e, LinkError::ScenarioVersion("2".into()));
        assert!(e.to_string().contains("has version 2"), "{e}");
    }
    assert_eq!(
        share::migrate(json!({"version": 1, "x": 1})),
        Ok(json!({"version": 1, "x": 1}))
    );
    assert!(share::migrate(json!({"version": "1"})).is_err());
    // No version at all: left to the validator, which names the field.
    let e = error_of(&format_1(0, br#"{"duration_s": 1, "blocks": []}"#));
    assert!(e.to_string().contains("field `version`: missing"), "{e}");
}

#[test]
fn oversized_links_are_refused_before_any_work() {
    let long = format!("1.{}", "A".repeat(share::MAX_PAYLOAD_CHARS));
    let started = Instant::now();
    let e = error_of(&long);
    assert!(matches!(e, LinkError::TooLong { .. }), "{e}");
    assert!(e.to_string().starts_with("this link is too long ("), "{e}");
    // A "zip bomb": 40 KiB of link that would inflate to 8 MiB stops at 1 MiB.
    let bomb = format_1(0, &vec![b' '; 8 << 20]);
    assert!(bomb.len() < share::MAX_PAYLOAD_CHARS, "{}", bomb.len());
    let e = error_of(&bomb);
    assert_eq!(e, LinkError::TooLarge);
    assert_eq!(e.to_string(), "the link's scenario is larger than 1 MiB");
    // Just under the bound: inflated, checked, parsed and refused as not JSON, still quickly.
    let mut big = vec![b' '; share::MAX_SCENARIO_BYTES - 2];
    big.extend_from_slice(b"{}");
    let e = error_of(&format_1(0, &big));
    assert!(e.to_string().contains("field `version`: missing"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_valid_link_to_an_invalid_scenario_names_block_and_field() {
    let mut scenario = preset("retry-storm");
    for block in &mut scenario.blocks {
        if let sim_core::scenario::Block::Server(server) = block {
            server.service.mean_s = -1.0;
        }
    }
    let e = error_of(&share::link(BASE_30, &scenario));
    assert!(matches!(e, LinkError::Invalid(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the link's scenario is invalid: block \"api\", field `service.mean_s`: must be > 0 (got -1)"
    );
    let e = error_of(&format_1(0, br#"{"version": 1, "duration_s": 10, "blocks": [{"id": "a", "kind": "server", "workers": 1, "service": {"mean_s": 1}, "colour": "red"}]}"#));
    assert!(e.to_string().contains("block \"a\""), "{e}");
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn damaged_links_each_say_what_is_wrong() {
    let kind = |text: &str| error_of(text).kind();
    assert_eq!(kind("https://metastable.example/"), "no-scenario");
    assert_eq!(kind("https://metastable.example/?embed&x=1"), "no-scenario");
    assert_eq!(kind("1.AA=A"), "not-base64");
    assert_eq!(kind("1.AA+A"), "not-base64");
    assert_eq!(kind("1.AAAA"), "truncated");
    assert_eq!(kind("1.AAAAAAAAAA"), "not-deflate");
    assert_eq!(kind("0.AAAA"), "not-json");
    assert_eq!(kind(&format_1(0, b"not json")), "not-json");
    assert_eq!(kind(&format_1(0x80, b"{}")), "bad-header");
    // A checksum that does not match: the payload of one scenario with the header of another.
    let a = URL_SAFE_NO_PAD
        .decode(&share::encode(&preset("retry-storm"))[2..])
        .unwrap();
    let b = URL_SAFE_NO_PAD
        .decode(&share::encode(&preset("stale-queue"))[2..])
        .unwrap();
    let mut mixed = a[..5].to_vec();
    mixed.extend_from_slice(&b[5..]);
    assert_eq!(
        kind(&format!("1.{}", URL_SAFE_NO_PAD.encode(mixed))),
        "checksum"
    );
    // The caption flag with a caption already there was not written by Metastable.
    let storm = presets::find("retry-storm").unwrap().json;
    let minified: Value = serde_json::from_str(storm).unwrap();
    let e = error_of(&format_1(1, minified.to_string().as_bytes()));
    assert_eq!(e.kind(), "bad-header");
    assert!(e.to_string().contains("caption"), "{e}");
    // The caption flag for a name no preset has (a preset renamed later): opens, uncaptioned.
    let mut doc = minified.clone();
    doc.as_object_mut().unwrap().remove("caption");
    doc["name"] = json!("A preset of long ago");
    let opened = share::decode(&format_1(1, doc.to_string().as_bytes())).unwrap();
    assert_eq!(opened.caption, None);
    assert_eq!(opened.name, "A preset of long ago");
}

#[test]
fn fractional_editor_positions_survive_exactly() {
    // The link is lossless: positions are not rounded (the editor keeps whole pixels, so
    // this costs nothing in practice); the test shows what fractional ones would cost.
    let storm = preset("retry-storm");
    let mut doc = serde_json::to_value(&storm).unwrap();
    for block in doc["blocks"].as_array_mut().unwrap() {
        let x = block["ui"]["x"].as_f64().unwrap();
        block["ui"] = json!({"x": x + 0.123_456_789_012_3, "y": 120.987_654_321});
    }
    let fractional = Scenario::from_value(doc).unwrap();
    let whole = share::link(BASE_30, &storm).len();
    let url = share::link(BASE_30, &fractional);
    println!(
        "retry-storm: {whole} characters; with fractional positions {}",
        url.len()
    );
    assert_eq!(share::decode(&url).as_ref(), Ok(&fractional));
}

// ---- property tests ----------------------------------------------------------------------

fn cases() -> u32 {
    if crate::slow() {
        1024
    } else {
        128
    }
}

/// Any text a user could type: ASCII, markup, quotes, and non-ASCII letters.
fn text() -> impl Strategy<Value = String> {
    "[ -~éüß€\u{1F600}\n]{0,60}"
}

/// An editor position: none, whole pixels, fractions, or any JSON the `ui` field may hold.
fn ui() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        (-2000i64..2000, -2000i64..2000).prop_map(|(x, y)| Some(json!({"x": x, "y": y}))),
        (-1e4..1e4f64, -1e4..1e4f64).prop_map(|(x, y)| Some(json!({"x": x, "y": y}))),
        text().prop_map(|t| Some(json!({"note": t, "list": [1, 2.5, null, true]}))),
    ]
}

/// A random valid scenario: a preset or the every-block file, with its name, caption, seed,
/// editor positions and numbers changed — the fields a link treats specially, and floats
/// whose shortest decimal form must come back bit for bit.
fn scenario() -> impl Strategy<Value = Scenario> {
    let bases: Vec<Value> = presets::ALL
        .iter()
        .map(|p| p.json)
        .chain([EVERY_BLOCK])
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    let captions: Vec<Option<String>> = all_presets().into_iter().map(|s| s.caption).collect();
    let names: Vec<String> = all_presets().into_iter().map(|s| s.name).collect();
    (
        0..bases.len(),
        prop_oneof![
            Just(None),
            Just(Some(String::new())),
            text().prop_map(Some),
            (0..names.len()).prop_map(move |i| Some(names[i].clone())),
        ],
        0u8..4,
        text(),
        (0..captions.len()).prop_map(move |i| captions[i].clone()),
        any::<u64>(),
        proptest::collection::vec(ui(), 12),
        (1e-3..1e3f64, 0.5..2.0f64),
    )
        .prop_map(
            move |(
                base,
                name,
                caption_pick,
                own_caption,
                other_caption,
                seed,
                uis,
                (rate, scale),
            )| {
                let mut doc = bases[base].clone();
                if let Some(name) = name {
                    doc["name"] = json!(name);
                }
                match caption_pick {
                    // 0 keeps the base's caption (a preset's, with the preset's name or not).
                    1 => {
                        doc.as_object_mut().unwrap().remove("caption");
                    }
                    2 => doc["caption"] = json!(other_caption),
                    3 => doc["caption"] = json!(own_caption),
                    _ => {}
                }
                doc["seed"] = json!(seed);
                doc["duration_s"] = json!(doc["duration_s"].as_f64().unwrap() * scale.max(1.0));
                for (block, ui) in doc["blocks"].as_array_mut().unwrap().iter_mut().zip(uis) {
                    match ui {
                        Some(ui) => block["ui"] = ui,
                        None => {
                            block.as_object_mut().unwrap().remove("ui");
                        }
                    }
                    if block.get("rate").is_some() {
                        block["rate"] = json!(rate);
                    }
                    if let Some(mean) = block.pointer("/service/mean_s").and_then(Value::as_f64) {
                        block["service"]["mean_s"] = json!(mean * scale);
                    }
                }
                Scenario::from_value(doc).expect("the edits keep the scenario valid")
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_round_trip_through_every_link_form(scenario in scenario(), base_pick in 0usize..4) {
        let base = ["https://metastable.example/", BASE_30, "http://localhost:8080/sub/path/?embed", ""][base_pick];
        let url = share::link(base, &scenario);
        let expected = Ok(scenario.clone());
        prop_assert_eq!(share::decode(&url), expected.clone());
        prop_assert_eq!(share::decode(&share::encode(&scenario)), expected.clone());
        prop_assert_eq!(share::decode(&share::encode_legacy(&scenario)), expected);
        // Same scenario, same link: encoding is a function of the scenario alone.
        prop_assert_eq!(share::encode(&share::decode(&url).unwrap()), share::encode(&scenario));
        // The editor's form: a document in, a document out, the same scenario.
        let doc = serde_json::to_value(&scenario).unwrap();
        let from_doc = share::encode_doc(&doc);
        prop_assert_eq!(share::decode(&from_doc), Ok(scenario.clone()));
        let reopened = share::decode_doc(&from_doc).unwrap();
        prop_assert_eq!(Scenario::from_value(reopened).unwrap(), scenario.clone());
        prop_assert_eq!(
            Scenario::from_value(share::decode_doc(&url).unwrap()).unwrap(),
            scenario
        );
    }

    #[test]
    fn arbitrary_text_never_panics_the_decoder(text in "\\PC{0,300}") {
        let started = Instant::now();
        let _ = share::decode(&text);
        let _ = share::payload_of(&text);
        prop_assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn arbitrary_link_shaped_text_never_panics_the_decoder(
        text in "(https://h/\\?|#|\\?)?(s=)?[0-9]{0,2}\\.?[A-Za-z0-9_=+/.-]{0,400}"
    ) {
        let started = Instant::now();
        let _ = share::decode(&text);
        prop_assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2000), format in 0u32..3) {
        let started = Instant::now();
        let payload = format!("{format}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        let result = share::decode(&payload);
        prop_assert!(result.is_err(), "random bytes opened as a scenario");
        let _ = share::decode(&String::from_utf8_lossy(&bytes));
        // Bytes behind a correct header and checksum reach the JSON and validator stages.
        let flags = bytes.first().copied().unwrap_or(0) & 1;
        let _ = share::decode(&format_1(flags, &bytes));
        prop_assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn mutated_scenario_json_behind_a_valid_header_is_refused_or_valid(
        pick in 0usize..17, cut in 0usize..4000, splice in "\\PC{0,12}", flags in 0u8..2,
    ) {
        let json = presets::ALL[pick % presets::ALL.len()].json;
        let mut cut = cut.min(json.len());
        while !json.is_char_boundary(cut) {
            cut -= 1;
        }
        let mutated = format!("{}{splice}{}", &json[..cut], &json[cut..]);
        match share::decode(&format_1(flags, mutated.as_bytes())) {
            Ok(scenario) => prop_assert!(scenario.validate().is_ok()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
