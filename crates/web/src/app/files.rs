//! Files in and out: exports (CSV, PNG of the charts, scenario JSON), import by file picker
//! and drag-and-drop. The browser plumbing lives here; the
//! rules (what a file may hold, file names) are plain functions in [`crate::link`].

use super::Store;
use crate::charts::Theme;
use crate::link;
use crate::state::Action;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlAnchorElement, HtmlCanvasElement,
    HtmlInputElement, Url,
};
use yew::prelude::*;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Offers `href` (an object or data URL) as a download named `name`.
fn save(href: &str, name: &str) -> Result<(), JsValue> {
    let document = document().ok_or("no document")?;
    let anchor: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(href);
    anchor.set_download(name);
    let body = document.body().ok_or("no body")?;
    body.append_child(&anchor)?;
    anchor.click();
    anchor.remove();
    Ok(())
}

/// Offers text as a download.
pub fn download_text(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(
        &js_sys::Array::of1(&JsValue::from_str(text)),
        &options,
    )?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let result = save(&url, name);
    // The download has started from the click; the object URL is no longer needed after it.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    result
}

/// The page's charts stacked into one PNG under a title line, as a data URL.
pub fn charts_png(title: &str, dark: bool) -> Result<String, JsValue> {
    let document = document().ok_or("no document")?;
    let nodes = document.query_selector_all("canvas[data-chart-canvas]")?;
    let canvases: Vec<HtmlCanvasElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i)?.dyn_into().ok())
        .collect();
    if canvases.is_empty() {
        return Err("there are no charts to save".into());
    }
    const HEADER: u32 = 32;
    let width = canvases
        .iter()
        .map(HtmlCanvasElement::width)
        .max()
        .unwrap_or(0);
    let height = HEADER + canvases.iter().map(HtmlCanvasElement::height).sum::<u32>();
    let out: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    out.set_width(width);
    out.set_height(height);
    let ctx: CanvasRenderingContext2d =
        out.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    let theme = Theme { dark };
    ctx.set_fill_style_str(theme.background_hex());
    ctx.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
    ctx.set_fill_style_str(if dark { "#e6edf3" } else { "#1f2328" });
    ctx.set_font("bold 15px sans-serif");
    ctx.fill_text(title, 12.0, 21.0)?;
    let mut y = f64::from(HEADER);
    for canvas in &canvases {
        ctx.draw_image_with_html_canvas_element(canvas, 0.0, y)?;
        y += f64::from(canvas.height());
    }
    out.to_data_url_with_type("image/png")
}

/// Reads a file as text and imports it (the read is asynchronous). A file too large to be a
/// scenario is refused unread.
pub fn import_file(file: web_sys::File, dispatch: Callback<Action>) {
    let name = file.name();
    if let Some(message) = link::too_large(&name, file.size() as usize) {
        dispatch.emit(Action::Notify(message));
        return;
    }
    let Ok(reader) = web_sys::FileReader::new() else {
        return;
    };
    let done = {
        let reader = reader.clone();
        let name = name.clone();
        Closure::once_into_js(
            move || match reader.result().ok().and_then(|r| r.as_string()) {
                Some(text) => import_text(name, text, dispatch),
                None => dispatch.emit(Action::Notify(format!("{name} could not be read."))),
            },
        )
    };
    reader.set_onloadend(Some(done.unchecked_ref()));
    if reader.read_as_text(&file).is_err() {
        reader.set_onloadend(None);
    }
}

/// Imports a text (a file's, a dropped one): once a link in it is read (the browser's
/// decompression answers asynchronously, `crate::codec`).
pub fn import_text(name: String, text: String, dispatch: Callback<Action>) {
    wasm_bindgen_futures::spawn_local(async move {
        link::prepare_import(&text).await;
        dispatch.emit(Action::Import { name, text });
    });
}

#[derive(Properties, PartialEq)]
pub struct FileMenuProps {
    pub state: UseReducerHandle<Store>,
    pub on_share: Callback<()>,
}

/// The share, export and import buttons of the top bar.
#[function_component(FileMenu)]
pub fn file_menu(props: &FileMenuProps) -> Html {
    let store = &props.state;
    let state = &store.0;
    let stem = link::file_stem(&state.scenario.name);
    let seed = state.scenario.seed;
    let has_run = !state.scenario.blocks.is_empty();
    let notify = {
        let store = store.clone();
        move |what: &str, e: JsValue| {
            let why = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            store.dispatch(Action::Notify(format!("Could not save the {what}: {why}.")));
        }
    };
    let on_csv = {
        let notify = notify.clone();
        let name = format!("{stem}-seed{seed}.csv");
        Callback::from(move |_| {
            let csv = super::current_csv();
            if let Err(e) = download_text(&name, "text/csv", &csv) {
                notify("CSV", e);
            }
        })
    };
    let on_png = {
        let notify = notify.clone();
        let name = format!("{stem}-seed{seed}.png");
        let title = format!("{} · seed {seed}", state.scenario.name);
        let dark = state.dark;
        Callback::from(move |_| {
            if let Err(e) = charts_png(&title, dark).and_then(|url| save(&url, &name)) {
                notify("charts", e);
            }
        })
    };
    let on_json = {
        let notify = notify.clone();
        let doc = state.doc.clone();
        let name = format!("{stem}.json");
        Callback::from(move |_| {
            // `{:#}` is `to_string_pretty`, through the serializer the page already has.
            let text = format!("{doc:#}\n");
            if let Err(e) = download_text(&name, "application/json", &text) {
                notify("scenario", e);
            }
        })
    };
    let on_import = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                let store = store.clone();
                import_file(file, Callback::from(move |action| store.dispatch(action)));
            }
            // The same file again must fire `change` again.
            input.set_value("");
        })
    };
    let on_share = props.on_share.reform(|_| ());
    html! {
        <div class="file-menu" role="group" aria-label="Share, export and import">
            <button id="share" onclick={on_share} title="Copy a link or an embed code for this scenario"
                onpointerenter={Callback::from(|_| super::lazy::prefetch_dialogs())}
                onfocus={Callback::from(|_| super::lazy::prefetch_dialogs())}>
                { "Share…" }
            </button>
            <span class="group-label">{ "Export" }</span>
            <button id="export-csv" onclick={on_csv} disabled={!has_run}
                title="The run's metrics as CSV: exactly the CLI's columns">{ "CSV" }</button>
            <button id="export-png" onclick={on_png} disabled={!has_run}
                title="The charts as one PNG image">{ "PNG" }</button>
            <button id="export-json" onclick={on_json}
                title="The scenario as JSON (opens in the CLI and here)">{ "JSON" }</button>
            <label class="button" title="Open a scenario (.json) or a share link from a file; or drop one on the page">
                { "Import…" }
                <input id="import-file" type="file" accept=".json,application/json,.txt,text/plain"
                    class="visually-hidden" onchange={on_import} />
            </label>
        </div>
    }
}
