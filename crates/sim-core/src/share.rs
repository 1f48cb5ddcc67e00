//! Share links: a whole scenario in a URL (SPEC §3, §6 "Share"; the format is described with its
//! rationale in `docs/share-url.md`).
//!
//! A link is the site's address with a query parameter `s=<payload>` (or the same in the
//! fragment, `#s=…`). The payload is `<link format>.<base64url, no padding>`:
//!
//! - format 1 (written): a 5-byte header — a flags byte and the CRC-32 of the flags byte
//!   followed by the scenario JSON, big-endian — then the raw DEFLATE of the minified JSON.
//!   Flag `0x01`: the scenario's caption is the caption of the preset whose scenario has the
//!   same `name`; it was left out and is put back when the link is opened;
//! - format 0 (legacy, still read): the minified scenario JSON, uncompressed.
//!
//! Decoding never trusts the link: its length and the inflated size are bounded, the checksum
//! catches damage that would otherwise open a silently different scenario, and the result goes
//! through [`migrate`] and then the one validator, [`Scenario::from_value`], like every other
//! input.
//!
//! ```
//! use sim_core::{presets, share};
//! let scenario = presets::load("retry-storm").unwrap().unwrap();
//! let url = share::link("https://metastable.example/", &scenario);
//! assert!(url.starts_with("https://metastable.example/?s=1."));
//! assert_eq!(share::decode(&url).unwrap(), scenario);
//! ```

use crate::presets;
use crate::scenario::{Scenario, ScenarioError, FORMAT_VERSION};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// The link format this build writes.
pub const LINK_FORMAT: u32 = 1;

/// Longest payload accepted, in characters: far above any real scenario's link (a few hundred
/// characters) and far below what would make decoding slow.
pub const MAX_PAYLOAD_CHARS: usize = 64 * 1024;

/// Largest scenario JSON a link may inflate to, in bytes: a bound on the memory and time a
/// crafted link (a "zip bomb") can cost.
pub const MAX_SCENARIO_BYTES: usize = 1024 * 1024;

/// Format 1 header flag: the caption is the caption of the preset with the same `name`.
const CAPTION_FROM_PRESET: u8 = 0x01;
/// Every flag this build knows; a link with another bit set was not written by Metastable.
const KNOWN_FLAGS: u8 = CAPTION_FROM_PRESET;
/// Format 1 header: the flags byte and a big-endian CRC-32.
const HEADER_BYTES: usize = 5;
/// zlib's "best compression": links are small, so the extra time is a few microseconds, and
/// every byte saved is 1.33 characters of URL. (Levels 6, 9 and 10 give the same size on every
/// preset; 9 is the conventional maximum.)
#[cfg(feature = "miniz")]
const DEFLATE_LEVEL: u8 = 9;

/// How a link's DEFLATE data (RFC 1951, raw) is made and read.
///
/// Natively it is [`Miniz`]. The page uses the browser's own `CompressionStream` and
/// `DecompressionStream` instead (a DEFLATE in the wasm build costs 15 KiB gzipped of every
/// visit); those answer asynchronously, so the page's codec remembers what it has made and
/// read, answers from that memory, and says `None` / [`LinkError::Pending`] for data it has
/// not seen yet: the page runs the streams on it, then asks again (`web::link`). Any codec
/// gives links every other one reads: the format is the DEFLATE data, not the bytes of one
/// compressor's output.
pub trait Codec {
    /// The DEFLATE data of `raw`, or `None` while it is not ready.
    fn deflate(&self, raw: &[u8]) -> Option<Vec<u8>>;
    /// The bytes `deflated` inflates to: [`LinkError::NotDeflate`] when it is not DEFLATE
    /// data, [`LinkError::TooLarge`] past [`MAX_SCENARIO_BYTES`].
    fn inflate(&self, deflated: &[u8]) -> Result<Vec<u8>, LinkError>;
}

/// The native codec: `miniz_oxide` at zlib's best compression.
#[cfg(feature = "miniz")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Miniz;

#[cfg(feature = "miniz")]
impl Codec for Miniz {
    fn deflate(&self, raw: &[u8]) -> Option<Vec<u8>> {
        Some(miniz_oxide::deflate::compress_to_vec(raw, DEFLATE_LEVEL))
    }

    fn inflate(&self, deflated: &[u8]) -> Result<Vec<u8>, LinkError> {
        miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, MAX_SCENARIO_BYTES).map_err(
            |e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => LinkError::TooLarge,
                _ => LinkError::NotDeflate,
            },
        )
    }
}

/// Why a link could not be opened. Every message is a sentence a user can act on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LinkError {
    #[error("this link has no scenario in it (no `s=` parameter)")]
    NoScenario,
    #[error("this link is truncated or damaged (it does not start with a link format number and a dot, like `1.`)")]
    NoFormat,
    #[error("this link is too long ({length_chars} characters; a link holds at most {MAX_PAYLOAD_CHARS})")]
    TooLong { length_chars: usize },
    #[error("this link was made by a newer version of Metastable (link format {0}); this version opens link formats 0 to {LINK_FORMAT}")]
    NewerFormat(u32),
    #[error("this link is truncated or damaged (its data is not base64url)")]
    NotBase64,
    #[error("this link is truncated or damaged (it is too short to hold a scenario)")]
    Truncated,
    #[error("this link is truncated or damaged ({0})")]
    BadHeader(&'static str),
    #[error("this link is truncated or damaged (its data does not decompress)")]
    NotDeflate,
    #[error("the link's scenario is larger than 1 MiB")]
    TooLarge,
    /// The page's codec has not yet run on this link's data (see [`Codec`]); never shown
    /// once the page has read the link ahead of time.
    #[error("this link is still being read")]
    Pending,
    #[error("this link is truncated or damaged (its checksum does not match its data)")]
    Checksum,
    #[error("this link is truncated or damaged (its data is not a scenario in JSON: {0})")]
    NotJson(String),
    #[error("the link's scenario has version {0}, which this version of Metastable cannot open (it reads version {FORMAT_VERSION}); a newer Metastable may")]
    ScenarioVersion(String),
    #[error("the link's scenario is invalid: {0}")]
    Invalid(ScenarioError),
}

impl LinkError {
    /// A short stable name of the error's kind, for counting (the fuzz harness) and for tests.
    pub fn kind(&self) -> &'static str {
        match self {
            LinkError::NoScenario => "no-scenario",
            LinkError::NoFormat => "no-format",
            LinkError::TooLong { .. } => "too-long",
            LinkError::NewerFormat(_) => "newer-format",
            LinkError::NotBase64 => "not-base64",
            LinkError::Truncated => "truncated",
            LinkError::BadHeader(_) => "bad-header",
            LinkError::NotDeflate => "not-deflate",
            LinkError::TooLarge => "too-large",
            LinkError::Pending => "pending",
            LinkError::Checksum => "checksum",
            LinkError::NotJson(_) => "not-json",
            LinkError::ScenarioVersion(_) => "scenario-version",
            LinkError::Invalid(_) => "invalid",
        }
    }
}

/// The payload of a share link for this scenario: `1.<base64url>` (format 1).
///
/// The scenario is expected to be valid (as every `Scenario` built by the validator is); the
/// decoder validates again, so an invalid one gives a link that opens with a clear error.
#[cfg(feature = "miniz")]
pub fn encode(scenario: &Scenario) -> String {
    encode_json(
        &Miniz,
        &scenario.name,
        scenario.caption.as_deref(),
        |without_caption| {
            if without_caption {
                minified(&Scenario {
                    caption: None,
                    ..scenario.clone()
                })
            } else {
                minified(scenario)
            }
        },
    )
    .unwrap_or_default()
}

/// [`encode`] of a scenario document (a valid scenario's JSON, as an editor holds it): the
/// link opens the same scenario. The playground uses this one, so its wasm build needs no
/// serializer for [`Scenario`].
#[cfg(feature = "miniz")]
pub fn encode_doc(doc: &Value) -> String {
    encode_doc_with(doc, &Miniz).unwrap_or_default()
}

/// [`encode_doc`] with this codec: `None` while the codec's DEFLATE is not ready.
pub fn encode_doc_with(doc: &Value, codec: &dyn Codec) -> Option<String> {
    let text = |key: &str| doc.get(key).and_then(Value::as_str);
    encode_json(
        codec,
        text("name").unwrap_or(""),
        text("caption"),
        |without_caption| {
            if without_caption {
                let mut doc = doc.clone();
                if let Value::Object(map) = &mut doc {
                    map.remove("caption");
                }
                minified(&doc)
            } else {
                minified(doc)
            }
        },
    )
}

/// Format 1 of a scenario called `name` with this caption; `json(without_caption)` gives
/// its minified JSON, without the caption when that is the preset's.
fn encode_json(
    codec: &dyn Codec,
    name: &str,
    caption: Option<&str>,
    json: impl FnOnce(bool) -> String,
) -> Option<String> {
    let caption_from_preset = caption.is_some() && caption == preset_caption(name).as_deref();
    let flags = if caption_from_preset {
        CAPTION_FROM_PRESET
    } else {
        0
    };
    let json = json(caption_from_preset);
    let deflated = codec.deflate(json.as_bytes())?;
    let mut bytes = Vec::with_capacity(HEADER_BYTES + deflated.len());
    bytes.push(flags);
    bytes.extend_from_slice(&crc32(flags, json.as_bytes()).to_be_bytes());
    bytes.extend_from_slice(&deflated);
    Some(format!("{LINK_FORMAT}.{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The payload in the legacy link format 0 (uncompressed JSON, caption included). Nothing
/// writes it any more; it exists so that tests can prove old links keep opening.
pub fn encode_legacy(scenario: &Scenario) -> String {
    format!("0.{}", URL_SAFE_NO_PAD.encode(minified(scenario)))
}

/// The share URL of this scenario on the site at `base`: `base` with `s=<payload>` added to its
/// query. Other query parameters and a fragment are kept (an `s=` already there is replaced),
/// and a bare origin gets its `/`.
#[cfg(feature = "miniz")]
pub fn link(base: &str, scenario: &Scenario) -> String {
    link_with_payload(base, &encode(scenario))
}

/// [`link`] for a payload already encoded.
pub fn link_with_payload(base: &str, payload: &str) -> String {
    let base = base.trim();
    let (address, fragment) = match base.split_once('#') {
        Some((address, fragment)) => (address, Some(fragment)),
        None => (base, None),
    };
    let (path, query) = address.split_once('?').unwrap_or((address, ""));
    let mut url = String::with_capacity(base.len() + payload.len() + 4);
    url.push_str(path);
    // `https://host?s=…` is legal but unusual; browsers show `https://host/?s=…`.
    if let Some((_, host)) = path.split_once("://") {
        if !host.is_empty() && !host.contains('/') {
            url.push('/');
        }
    }
    url.push('?');
    for param in other_params(query) {
        url.push_str(param);
        url.push('&');
    }
    url.push_str("s=");
    url.push_str(payload);
    if let Some(fragment) = fragment {
        // An old `#s=` would be shadowed by the new query parameter but would confuse a
        // reader of the URL, so it goes; anything else in the fragment stays.
        let kept: Vec<&str> = other_params(fragment).collect();
        if !kept.is_empty() {
            url.push('#');
            url.push_str(&kept.join("&"));
        }
    }
    url
}

/// The parameters of a query (or fragment) other than `s`, in order.
fn other_params(params: &str) -> impl Iterator<Item = &str> {
    params
        .split('&')
        .filter(|p| !p.is_empty() && *p != "s" && !p.starts_with("s="))
}

/// The `s=` payload of a URL: the query's first, else the fragment's (`#s=…`, also after a
/// `?` inside the fragment, as routers write it). Other parameters (`embed`, `charts`,
/// `knobs`, `autoplay`, …) are skipped.
pub fn payload_of(url: &str) -> Option<&str> {
    let (address, fragment) = match url.split_once('#') {
        Some((address, fragment)) => (address, Some(fragment)),
        None => (url, None),
    };
    let from_query = address
        .split_once('?')
        .and_then(|(_, query)| param_s(query));
    from_query.or_else(|| {
        let fragment = fragment?;
        let params = fragment.rsplit_once('?').map_or(fragment, |(_, q)| q);
        param_s(params)
    })
}

fn param_s(params: &str) -> Option<&str> {
    params.split('&').find_map(|p| p.strip_prefix("s="))
}

/// Opens a share link: a whole URL, a bare `?s=…` or `#s=…`, or just the payload. The
/// scenario is migrated to the current version and validated like any other input.
#[cfg(feature = "miniz")]
pub fn decode(text: &str) -> Result<Scenario, LinkError> {
    let value = decode_value(text, &Miniz)?;
    Scenario::from_value(value).map_err(LinkError::Invalid)
}

/// [`decode`], giving the scenario's document (migrated, caption restored, validated)
/// rather than the [`Scenario`]: what an editor holds.
#[cfg(feature = "miniz")]
pub fn decode_doc(text: &str) -> Result<Value, LinkError> {
    decode_doc_with(text, &Miniz)
}

/// [`decode_doc`] with this codec ([`LinkError::Pending`] while its inflation is not ready).
pub fn decode_doc_with(text: &str, codec: &dyn Codec) -> Result<Value, LinkError> {
    let value = decode_value(text, codec)?;
    Scenario::from_value_ref(&value).map_err(LinkError::Invalid)?;
    Ok(value)
}

/// The migrated document of a link, not yet validated.
fn decode_value(text: &str, codec: &dyn Codec) -> Result<Value, LinkError> {
    let text = text.trim();
    let payload = if text.contains(['?', '#']) || text.contains("://") {
        payload_of(text).ok_or(LinkError::NoScenario)?
    } else {
        text.strip_prefix("s=").unwrap_or(text)
    };
    decode_payload(payload, codec)
}

fn decode_payload(payload: &str, codec: &dyn Codec) -> Result<Value, LinkError> {
    // Checked first, so that nothing below ever works on more than this.
    if payload.len() > MAX_PAYLOAD_CHARS {
        return Err(LinkError::TooLong {
            length_chars: payload.len(),
        });
    }
    let (format, data) = payload.split_once('.').ok_or(LinkError::NoFormat)?;
    // Nine digits always fit a u32; more is damage, not a format from the far future.
    if format.is_empty() || format.len() > 9 || !format.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LinkError::NoFormat);
    }
    let format: u32 = format.parse().map_err(|_| LinkError::NoFormat)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(data)
        .map_err(|_| LinkError::NotBase64)?;
    // One arm per link format ever written: old links keep opening.
    match format {
        0 => parse_json(&bytes),
        1 => decode_format_1(&bytes, codec),
        newer => Err(LinkError::NewerFormat(newer)),
    }
}

/// Format 1: header, checksum, DEFLATE; returns the migrated document with its caption back.
fn decode_format_1(bytes: &[u8], codec: &dyn Codec) -> Result<Value, LinkError> {
    let Some((header, deflated)) = bytes.split_first_chunk::<HEADER_BYTES>() else {
        return Err(LinkError::Truncated);
    };
    let flags = header[0];
    if flags & !KNOWN_FLAGS != 0 {
        return Err(LinkError::BadHeader(
            "its header has flags this format does not define",
        ));
    }
    let checksum = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let json = codec.inflate(deflated)?;
    if crc32(flags, &json) != checksum {
        return Err(LinkError::Checksum);
    }
    let mut value = parse_json(&json)?;
    if flags & CAPTION_FROM_PRESET != 0 {
        // Not an object: nothing to put back, and the validator says what is wrong.
        if let Value::Object(map) = &mut value {
            if map.contains_key("caption") {
                return Err(LinkError::BadHeader(
                    "it carries a caption and also says to take the preset's",
                ));
            }
            let caption = map
                .get("name")
                .and_then(Value::as_str)
                .and_then(preset_caption);
            // A preset renamed or removed by a later build: the caption is presentation
            // only, so the scenario opens without it rather than not at all.
            if let Some(caption) = caption {
                map.insert("caption".into(), Value::String(caption));
            }
        }
    }
    Ok(value)
}

/// Parses the scenario document and brings it to the current scenario version.
fn parse_json(bytes: &[u8]) -> Result<Value, LinkError> {
    // `from_str` rather than `from_slice`: it is the parser `Scenario::from_json` already
    // links, where `from_slice` would add a second copy of it to the wasm build.
    let text =
        std::str::from_utf8(bytes).map_err(|_| LinkError::NotJson("it is not UTF-8".into()))?;
    crate::scenario::check_shape(text)
        .map_err(|p| LinkError::Invalid(ScenarioError::Invalid(vec![p])))?;
    let value: Value = serde_json::from_str(text).map_err(|e| LinkError::NotJson(e.to_string()))?;
    migrate(value)
}

/// Brings a scenario document of an older scenario `version` to the current one.
///
/// Only version 1 exists, so this is the identity for it. A scenario format 2 would turn the
/// first arm into `Some(2)` and add one arm, `Some(1) => migrate(v1_to_v2(value))`, so that
/// links of every age reach the current version one step at a time. A document without a
/// numeric version is passed on: the validator names the field.
pub fn migrate(value: Value) -> Result<Value, LinkError> {
    let version = match value.get("version") {
        Some(version) => version,
        None => return Ok(value),
    };
    match version.as_u64() {
        Some(v) if v == u64::from(FORMAT_VERSION) => Ok(value),
        _ => Err(LinkError::ScenarioVersion(version.to_string())),
    }
}

/// Minified JSON of a scenario, fields in declaration order, defaults left out.
fn minified<T: serde::Serialize>(scenario: &T) -> String {
    // Serialising plain data with string keys cannot fail; were it ever to, the empty payload
    // would be refused by the decoder, never opened as another scenario.
    serde_json::to_string(scenario).unwrap_or_default()
}

/// The caption of the first preset whose scenario is called `name`.
fn preset_caption(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    presets::ALL.iter().find_map(|preset| {
        // Parsed as a `Value`, the parser every build already has, rather than a dedicated
        // struct that would be more wasm; presets are a few KiB, parsed in microseconds.
        let mut doc: Value = serde_json::from_str(preset.json).ok()?;
        if doc.get("name").and_then(Value::as_str) != Some(name) {
            return None;
        }
        match doc.get_mut("caption").map(Value::take) {
            Some(Value::String(caption)) => Some(caption),
            _ => None,
        }
    })
}

/// CRC-32 (IEEE 802.3, as in zip and PNG) of the flags byte followed by `data`, a byte at a
/// time by [`CRC_TABLE`] (1 KiB of wasm for a link's megabyte checked in milliseconds).
fn crc32(flags: u8, data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in std::iter::once(&flags).chain(data) {
        crc = (crc >> 8) ^ CRC_TABLE[usize::from((crc as u8) ^ byte)];
    }
    !crc
}

/// The CRC-32 (IEEE, reflected) of every byte value, computed at compile time: a byte per
/// step instead of a bit (a link's megabyte of JSON is checked in a browser tab, SPEC §10).
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 of "123456789" is 0xCBF43926; here the flags byte is the "1".
        assert_eq!(crc32(b'1', b"23456789"), 0xCBF4_3926);
    }

    #[test]
    fn payload_of_finds_the_parameter_in_query_or_fragment() {
        assert_eq!(payload_of("https://h/?s=1.abc"), Some("1.abc"));
        assert_eq!(
            payload_of("https://h/?embed&s=1.abc&knobs=a"),
            Some("1.abc")
        );
        assert_eq!(payload_of("https://h/#s=0.x"), Some("0.x"));
        assert_eq!(payload_of("https://h/#/play?autoplay&s=1.y"), Some("1.y"));
        assert_eq!(payload_of("https://h/?s=1.q#s=1.f"), Some("1.q"));
        assert_eq!(payload_of("?s=1.a"), Some("1.a"));
        assert_eq!(payload_of("#s=1.a"), Some("1.a"));
        assert_eq!(payload_of("https://h/?ss=1&xs=2"), None);
        assert_eq!(payload_of("https://h/"), None);
    }

    #[test]
    fn link_keeps_other_parameters_and_replaces_an_old_payload() {
        assert_eq!(link_with_payload("https://h/", "1.a"), "https://h/?s=1.a");
        assert_eq!(link_with_payload("https://h", "1.a"), "https://h/?s=1.a");
        assert_eq!(
            link_with_payload("https://h/m/", "1.a"),
            "https://h/m/?s=1.a"
        );
        assert_eq!(
            link_with_payload("https://h/m/?embed&s=0.old&charts=a", "1.a"),
            "https://h/m/?embed&charts=a&s=1.a"
        );
        assert_eq!(
            link_with_payload("https://h/#s=0.old&x", "1.a"),
            "https://h/?s=1.a#x"
        );
        assert_eq!(link_with_payload("", "1.a"), "?s=1.a");
    }
}
