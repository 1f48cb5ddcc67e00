//! The page's address and files as inputs: opening a share link, writing the link of the
//! current scenario, the embed link, and importing a file. Plain functions over text, so
//! every rule here is tested natively; the wasm side only reads and writes `location`.
//!
//! Everything that arrives from outside (a link anyone can craft, a file anyone can drop)
//! goes through the core's decoder and validator and ends as either a document or a sentence
//! for the user: never a panic, never a blank page.

use crate::analysis::AnalysisConfig;
use crate::codec::{codec, settle};
use crate::embed::{query_value, EmbedConfig};
use crate::state::AppState;
use serde_json::Value;
use sim_core::share;

/// The page's address without its query and fragment: what share links are built on.
pub fn page_base(href: &str) -> &str {
    let end = href.find(['?', '#']).unwrap_or(href.len());
    &href[..end]
}

/// The scenario document of a link, or why it could not be opened. `None` when the address
/// carries no scenario at all (the page's plain address).
pub fn open(href: &str) -> Option<Result<Value, String>> {
    share::payload_of(href)?;
    Some(match share::decode_doc_with(href, codec()) {
        Ok(doc) => Ok(doc),
        Err(e) => Err(format!(
            "The link could not be opened: {e}. Showing the default scenario instead."
        )),
    })
}

/// The state a page opens with at this address: the link's scenario, or the default one
/// with a message when the link is broken.
pub fn initial_state(href: &str, dark: bool) -> AppState {
    let mut state = opened(href, dark, AppState::restore);
    state.analysis = view_of(href, &state.doc);
    state
}

/// [`initial_state`] for embed mode: a link's scenario is not matched against the presets
/// (embed mode has no gallery to mark one in), and the analysis view's settings are not
/// read (embed mode has no analysis view; its binary does not carry their reader).
pub fn embed_state(href: &str, dark: bool) -> AppState {
    opened(href, dark, AppState::restore_unnamed)
}

/// The state at this address, the link's scenario opened by `restore`. Rationale: generic,
/// not a flag, so that each binary compiles only the `restore` it calls.
fn opened(href: &str, dark: bool, restore: impl Fn(&mut AppState, Value)) -> AppState {
    let mut state = AppState {
        dark,
        ..AppState::default()
    };
    match open(href) {
        None => {}
        // The state's own methods, not `reduce`: embed mode's binary opens links too and does
        // not carry the editor's actions.
        Some(Ok(doc)) => restore(&mut state, doc),
        Some(Err(message)) => state.notice = Some(message),
    }
    if let Some(k) = query_value(query_of(href), "seeds").and_then(|k| k.parse::<u32>().ok()) {
        state.set_seeds(k);
    }
    match open_baseline(href) {
        None => {}
        Some(Ok(doc)) => state.pin_doc(doc),
        Some(Err(e)) => {
            state.notice = Some(format!(
                "The link's baseline could not be opened: {e}. Showing the scenario without it."
            ))
        }
    }
    state
}

/// The pinned baseline's scenario an address carries (`b=`, encoded as `s=` is), if any.
fn open_baseline(href: &str) -> Option<Result<Value, share::LinkError>> {
    let payload = query_value(query_of(href), "b")?;
    Some(share::decode_doc_with(&format!("s={payload}"), codec()))
}

/// The query of an address (after `?`, before `#`), or its fragment's when it has none.
fn query_of(href: &str) -> &str {
    let address = href.split('#').next().unwrap_or("");
    match address.split_once('?') {
        Some((_, q)) => q,
        None => href.split_once('#').map_or("", |(_, f)| f),
    }
}

/// What a link adds for the instrument: the seed count when more than one, and the pinned
/// baseline's scenario (`b=`, the same encoding as `s=`), so a link opens the same pair.
/// `None` while the codec is not ready (see [`crate::codec`]).
pub fn instrument_query(state: &AppState) -> Option<String> {
    let mut query = String::new();
    if state.seeds > 1 {
        query.push_str(&format!("seeds={}&", state.seeds));
    }
    if let Some(baseline) = &state.baseline {
        let payload = share::encode_doc_with(&baseline.doc, codec())?;
        query.push_str(&format!("b={payload}&"));
    }
    Some(query)
}

/// Whether an address carries a link to read (a scenario or a baseline).
pub fn carries_link(href: &str) -> bool {
    share::payload_of(href).is_some() || query_value(query_of(href), "b").is_some()
}

/// Reads the links an address carries ahead of time, so that [`initial_state`] and [`open`]
/// find them ready (the page's codec answers asynchronously).
pub async fn prepare(href: &str) {
    if !carries_link(href) {
        return;
    }
    loop {
        // The links `initial_state` reads: the scenario's and the baseline's.
        let _ = open(href);
        let _ = open_baseline(href);
        if !settle().await {
            return;
        }
    }
}

/// Reads a link in an imported text ahead of time, so that [`import`] finds it ready.
pub async fn prepare_import(text: &str) {
    loop {
        let _ = import("", text);
        if !settle().await {
            return;
        }
    }
}

/// The analysis view's settings in an address, if it asks for that view.
pub fn view_of(href: &str, doc: &Value) -> Option<AnalysisConfig> {
    let address = href.split('#').next().unwrap_or("");
    let query = address.split_once('?').map_or("", |(_, q)| q);
    AnalysisConfig::from_query(query, doc)
}

/// The share link of the state's scenario on the page at `href`, or `None` while the
/// document has problems (a link holds a valid scenario; the last valid one stays in the
/// address bar) or has nothing in it, and while the codec is not ready.
pub fn share_url(href: &str, state: &AppState) -> Option<String> {
    let (payload, extra) = share_parts(state)?;
    Some(share_url_of(href, state, &payload, &extra))
}

/// [`share_url`] from the link's parts ([`share_parts`]), for a caller that has them.
pub fn share_url_of(href: &str, state: &AppState, payload: &str, extra: &str) -> String {
    match &state.analysis {
        // The analysis view's link: its settings, then the scenario.
        Some(config) => format!(
            "{}?{}&{extra}s={payload}",
            page_base(href),
            config.to_query()
        ),
        None if !extra.is_empty() => format!("{}?{extra}s={payload}", page_base(href)),
        None => share::link_with_payload(page_base(href), payload),
    }
}

/// What every link of the state's scenario is made of: its payload (`s=`) and the
/// instrument's part of the query ([`instrument_query`]). `None` as for [`share_url`].
pub fn share_parts(state: &AppState) -> Option<(String, String)> {
    if !state.problems.is_empty() || state.scenario.blocks.is_empty() {
        return None;
    }
    let payload = share::encode_doc_with(&state.doc, codec())?;
    Some((payload, instrument_query(state)?))
}

/// The embed link of a scenario's `payload` (its share link's `s=`, [`share_parts`]) on the
/// page at `href`, with the author's choices. `extra`: the instrument's part of the query
/// ([`instrument_query`]), which an embed keeps.
pub fn embed_url(href: &str, config: &EmbedConfig, payload: &str, extra: &str) -> String {
    format!(
        "{}?{}&{extra}s={payload}",
        page_base(href),
        config.to_query()
    )
}

/// The message refusing a file of `bytes` bytes, if it is too large to be a scenario.
pub fn too_large(name: &str, bytes: usize) -> Option<String> {
    (bytes > share::MAX_SCENARIO_BYTES).then(|| {
        format!(
            "{name} is {} KiB; a scenario file is at most {} KiB.",
            bytes.div_ceil(1024),
            share::MAX_SCENARIO_BYTES / 1024
        )
    })
}

/// A file name for exports of a scenario: its name in lower case, words joined by `-`, only
/// ASCII letters and digits (a name is anyone's text; a file name must be safe everywhere).
pub fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if stem.len() + word.len() > 60 {
            break;
        }
        if !stem.is_empty() {
            stem.push('-');
        }
        stem.push_str(&word.to_ascii_lowercase());
    }
    if stem.is_empty() {
        "scenario".into()
    } else {
        stem
    }
}

/// Reads an imported file: a scenario in JSON (valid or not: the editor shows an invalid
/// scenario's problems where they are) or a share link. Anything else is refused with a
/// sentence that names the file.
pub fn import(name: &str, text: &str) -> Result<Value, String> {
    let name = if name.is_empty() { "the file" } else { name };
    if let Some(message) = too_large(name, text.len()) {
        return Err(message);
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(format!("{name} is empty."));
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // The shape first, before a document is built: a list of a million entries would
        // take the tab seconds to build and the editor longer to draw.
        sim_core::scenario::check_shape(trimmed).map_err(|p| format!("{name}: {p}."))?;
        let value: Value =
            serde_json::from_str(trimmed).map_err(|e| format!("{name} is not valid JSON: {e}."))?;
        if !value.is_object() {
            return Err(format!(
                "{name} is JSON but not a scenario: a scenario is an object with \"blocks\" and \"triggers\"."
            ));
        }
        return share::migrate(value).map_err(|e| format!("{name}: {e}."));
    }
    if share::payload_of(trimmed).is_some() || trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        return share::decode_doc_with(trimmed, codec())
            .map_err(|e| format!("{name} holds a link that could not be opened: {e}."));
    }
    Err(format!(
        "{name} is neither a scenario in JSON nor a share link."
    ))
}

// Natively only: the tests make links with the core's own codec (`share::link`), which the
// wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::state::Action;
    use sim_core::{presets, Scenario};

    const PAGE: &str = "https://example.org/metastable/";

    fn storm() -> Scenario {
        presets::load("retry-storm").unwrap().unwrap()
    }

    #[test]
    fn a_link_carries_the_seed_count_and_the_baseline_and_opens_the_same_pair() {
        let state = AppState::with_preset("retry-storm")
            .reduce(Action::PinBaseline)
            .reduce(Action::LoadPreset("retry-storm-budget".into()))
            .reduce(Action::SetSeeds(10));
        let url = share_url(PAGE, &state).unwrap();
        assert!(url.contains("seeds=10&") && url.contains("b=1."), "{url}");
        let back = initial_state(&url, false);
        assert_eq!(back.seeds, 10);
        assert_eq!(back.scenario, state.scenario);
        let baseline = back
            .baseline
            .as_ref()
            .expect("the baseline came with the link");
        assert_eq!(baseline.scenario.name, "Retry storm");
        assert_eq!(baseline.scenario, state.baseline.as_ref().unwrap().scenario);
        // The embed keeps the pair too.
        let config = EmbedConfig::default();
        let (payload, extra) = share_parts(&state).unwrap();
        let embed = embed_url(PAGE, &config, &payload, &extra);
        let framed = embed_state(&embed, false);
        assert_eq!((framed.seeds, framed.baseline.is_some()), (10, true));
        assert_eq!(framed.scenario, state.scenario);
        // A damaged baseline leaves the scenario and says so; a silly seed count is held in
        // range.
        let broken = url.replace("b=1.", "b=1.%%%");
        let opened = initial_state(&broken, false);
        assert_eq!(opened.scenario, state.scenario);
        assert!(opened.baseline.is_none());
        assert!(opened
            .notice
            .unwrap()
            .contains("baseline could not be opened"));
        let many = initial_state(&url.replace("seeds=10", "seeds=99999"), false);
        assert_eq!(many.seeds, crate::state::MAX_SEEDS);
        // Nothing pinned, one seed: the link is the plain one.
        let plain = AppState::with_preset("retry-storm");
        assert!(!share_url(PAGE, &plain).unwrap().contains("seeds="));
    }

    #[test]
    fn a_link_opens_its_scenario_and_the_plain_page_the_default() {
        let mut scenario = storm();
        scenario.seed = 42;
        let url = share::link(PAGE, &scenario);
        let state = initial_state(&url, false);
        assert_eq!(*state.scenario, scenario);
        assert!(state.problems.is_empty());
        assert_eq!(state.notice, None);

        let plain = initial_state(PAGE, true);
        assert_eq!(plain.doc, AppState::default().doc);
        assert!(plain.dark);
        assert_eq!(plain.notice, None);
        assert_eq!(plain.preset.as_deref(), Some("retry-storm"));
    }

    #[test]
    fn the_playground_names_a_preset_a_link_opens_and_the_embed_opens_it_the_same() {
        let budget = sim_core::presets::load("retry-storm-budget")
            .unwrap()
            .unwrap();
        let url = share::link(PAGE, &budget);
        let page = initial_state(&url, false);
        assert_eq!(*page.scenario, budget);
        assert_eq!(page.preset.as_deref(), Some("retry-storm-budget"));
        // The embed has no gallery to mark it in: the same scenario, caption and all.
        let embed = embed_state(&url.replacen('?', "?embed&", 1), false);
        assert_eq!(embed.scenario, page.scenario);
        assert_eq!(embed.doc, page.doc);
        assert_eq!(embed.preset, None);
        assert_eq!(embed_state(PAGE, false).doc, AppState::default().doc);
    }

    #[test]
    fn the_analysis_view_and_its_settings_live_in_the_link() {
        use crate::analysis::Mode;
        use crate::state::Action;
        let state = AppState::default().reduce(Action::OpenAnalysis);
        let mut config = state.analysis.clone().unwrap();
        config.mode = Mode::Tip;
        config.seeds = 3;
        let state = state.reduce(Action::SetAnalysis(config.clone()));
        let url = share_url(PAGE, &state).unwrap();
        assert!(
            url.starts_with(&format!("{PAGE}?view=tip&x=users.rate")),
            "{url}"
        );
        let opened = initial_state(&url, false);
        assert_eq!(opened.analysis, Some(config.clone()));
        assert_eq!(opened.doc, state.doc);
        // The hysteresis picture, with its load and hold time.
        let mut staircase = config.with_mode(Mode::Hysteresis, &state.doc);
        staircase.hold_s = 45.0;
        let hysteresis = state.reduce(Action::SetAnalysis(staircase.clone()));
        let url = share_url(PAGE, &hysteresis).unwrap();
        assert!(
            url.starts_with(&format!(
                "{PAGE}?view=hysteresis&x=users.rate%3D10..120:12&"
            )),
            "{url}"
        );
        assert!(url.contains("&hold=45&"), "{url}");
        assert_eq!(initial_state(&url, false).analysis, Some(staircase));
        // Back in the playground, the link is the scenario's alone, and a late edit of the
        // closed view's settings does not reopen it.
        let back = state.reduce(Action::CloseAnalysis);
        assert_eq!(
            back.reduce(Action::SetAnalysis(config.clone())).analysis,
            None
        );
        assert!(share_url(PAGE, &back)
            .unwrap()
            .starts_with(&format!("{PAGE}?s=1.")));
        assert_eq!(
            initial_state(&share_url(PAGE, &back).unwrap(), false).analysis,
            None
        );
        // Opening a cell is a new page of history, in the playground, with that scenario.
        let mut doc = state.doc.clone();
        sim_core::set_path(&mut doc, "users.rate", "95").unwrap();
        let point = state.reduce(Action::OpenPoint(doc.clone()));
        assert_eq!((point.analysis.clone(), point.nav), (None, state.nav + 1));
        assert_eq!(point.doc, doc);
        assert!(point.playing);
    }

    #[test]
    fn a_broken_link_opens_the_default_scenario_with_a_message() {
        let url = share::link(PAGE, &storm());
        let cut = &url[..url.len() - 40];
        for broken in [
            cut.to_string(),
            format!("{PAGE}?s=1.AAAA"),
            format!("{PAGE}?s=hello"),
            format!("{PAGE}?s=9.abc"),
            format!("{PAGE}?s="),
        ] {
            let state = initial_state(&broken, false);
            assert_eq!(state.doc, AppState::default().doc, "{broken}");
            let notice = state.notice.expect("a message");
            assert!(
                notice.starts_with("The link could not be opened"),
                "{notice}"
            );
            assert!(notice.ends_with("Showing the default scenario instead."));
        }
    }

    #[test]
    fn the_address_follows_valid_edits_only() {
        let state = AppState::default();
        let url = share_url("https://example.org/m/?s=old#x", &state).unwrap();
        assert!(url.starts_with("https://example.org/m/?s=1."), "{url}");
        assert_eq!(
            share::decode(&url).unwrap(),
            *state.scenario,
            "the link holds exactly the running scenario"
        );
        let bad = state.reduce(Action::SetField {
            owner: crate::state::Owner::Block("api".into()),
            path: "workers".into(),
            raw: "0".into(),
        });
        assert!(!bad.problems.is_empty());
        assert_eq!(share_url(PAGE, &bad), None, "the last valid link stays");
        assert_eq!(share_url(PAGE, &state.reduce(Action::New)), None);
    }

    #[test]
    fn an_embed_link_keeps_the_choices_and_the_scenario() {
        let config = EmbedConfig {
            knobs: vec!["users.rate".into()],
            ..EmbedConfig::default()
        };
        let doc = serde_json::from_str(presets::find("retry-storm").unwrap().json).unwrap();
        let payload = share::encode_doc_with(&doc, codec()).unwrap();
        let url = embed_url("https://example.org/m/?s=old", &config, &payload, "");
        assert!(url.starts_with("https://example.org/m/?embed&"), "{url}");
        assert_eq!(
            EmbedConfig::from_query(&url[url.find('?').unwrap()..]),
            Some(config)
        );
        assert_eq!(share::decode(&url).unwrap(), storm());
    }

    #[test]
    fn imports_read_json_and_links_and_refuse_the_rest_by_name() {
        let json = presets::find("retry-storm").unwrap().json;
        let doc = import("storm.json", json).unwrap();
        assert_eq!(Scenario::from_value(doc).unwrap(), storm());

        // An invalid scenario is imported: the inspector shows its problems.
        let invalid = import(
            "bad.json",
            r#"{"version":1,"blocks":[{"id":"a","kind":"server","workers":0}]}"#,
        )
        .unwrap();
        assert!(Scenario::from_value(invalid).is_err());

        let link = share::link(PAGE, &storm());
        assert_eq!(
            Scenario::from_value(import("link.txt", &format!("{link}\n")).unwrap()).unwrap(),
            storm()
        );

        let refused = [
            (
                "a.json",
                "{\"version\": 1,",
                "a.json is not valid JSON: EOF while parsing a value at line 1 column 14.",
            ),
            ("b.json", "[1, 2]", "b.json is JSON but not a scenario"),
            (
                "c.txt",
                "hello",
                "c.txt is neither a scenario in JSON nor a share link.",
            ),
            ("d.json", "  \n", "d.json is empty."),
            (
                "e.txt",
                "1.AAAA",
                "e.txt holds a link that could not be opened",
            ),
            ("", "{\"version\": 99}", "the file: "),
        ];
        for (name, text, message) in refused {
            let error = import(name, text).unwrap_err();
            assert!(error.starts_with(message), "{name}: {error}");
        }
        let huge = " ".repeat(share::MAX_SCENARIO_BYTES + 1);
        assert!(import("big.json", &huge)
            .unwrap_err()
            .starts_with("big.json is 1025 KiB"));
    }

    #[test]
    fn the_example_posts_embeds_open_with_their_charts_and_sliders() {
        let page = include_str!("../../../web/example-post.html");
        let sources: Vec<String> = page
            .split("src=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
            .filter(|src| src.contains("embed"))
            .collect();
        assert_eq!(sources.len(), 2, "two embedded simulations");
        for src in sources {
            let query = &src[src.find('?').unwrap()..];
            let config = EmbedConfig::from_query(query).expect("embed mode");
            let doc = share::decode_doc(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let scenario = Scenario::from_value(doc.clone()).unwrap();
            let applicable = crate::charts::charts_for(&scenario);
            assert!(
                config.charts.iter().all(|c| applicable.contains(c)),
                "{src}"
            );
            assert_eq!(config.knobs.len(), 2, "{src}");
            for knob in &config.knobs {
                assert!(
                    crate::embed::resolve_knob(&doc, knob).is_some(),
                    "{knob} in {src}"
                );
            }
        }
    }

    #[test]
    fn export_names_are_safe_file_names() {
        assert_eq!(file_stem("Retry storm (×3 spike)"), "retry-storm-3-spike");
        assert_eq!(
            file_stem("<img src=x onerror=alert(1)>"),
            "img-src-x-onerror-alert-1"
        );
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("   "), "scenario");
        assert!(file_stem(&"word ".repeat(100)).len() <= 60);
    }
}
