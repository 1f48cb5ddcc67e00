//! Component tests in a real browser (wasm-bindgen-test in headless Chromium): the app is
//! mounted into the page and driven through its DOM, as a person would.
//!
//! Run by scripts/test.sh: `cargo test -p web --target wasm32-unknown-unknown` with the
//! wasm-bindgen test runner and Debian's chromedriver.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlCanvasElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a fresh app in its own element and returns that element.
fn mount() -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    web::app::mount(root.clone());
    root
}

/// Lets Yew render and the run loop take a few frames.
async fn settle(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn click(root: &Element, selector: &str) {
    find(root, selector)
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
}

fn pointer(kind: &str, target: &Element, x: f64, y: f64) {
    let init = web_sys::PointerEventInit::new();
    init.set_bubbles(true);
    init.set_client_x(x as i32);
    init.set_client_y(y as i32);
    let event = web_sys::PointerEvent::new_with_event_init_dict(kind, &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

fn centre(el: &Element) -> (f64, f64) {
    let r = el.get_bounding_client_rect();
    (r.left() + r.width() / 2.0, r.top() + r.height() / 2.0)
}

/// Waits until the verdict banner shows a finished run's verdict.
async fn verdict(root: &Element) -> String {
    for _ in 0..200 {
        let v = root
            .query_selector("[data-testid=verdict]")
            .unwrap()
            .and_then(|banner| banner.get_attribute("data-verdict"))
            .unwrap_or_default();
        if !matches!(v.as_str(), "running" | "none" | "") {
            return v;
        }
        settle(50).await;
    }
    panic!("no verdict within 10 s")
}

#[wasm_bindgen_test]
async fn the_editor_adds_and_connects_blocks() {
    let root = mount();
    settle(50).await;
    click(&root, "#new-scenario");
    settle(20).await;
    click(&root, "[data-add=client]");
    settle(20).await;
    // The client is selected: a new server attaches to its free output.
    click(&root, "[data-add=server]");
    settle(20).await;
    assert!(root
        .query_selector("[data-link='client->server']")
        .unwrap()
        .is_some());
    // A retry added with the server selected (servers may call a dependency) hangs off it;
    // connect it instead by dragging from the client's output port onto it after removing
    // the first link.
    click(&root, "[data-add=retry]");
    settle(20).await;
    assert!(root
        .query_selector("g[data-block=retry]")
        .unwrap()
        .is_some());
    let svg = find(&root, "svg#editor");
    let port = find(&root, "circle[data-block-port=client]");
    let target = find(&root, "g[data-block=retry] rect");
    let (px, py) = centre(&port);
    let (tx, ty) = centre(&target);
    pointer("pointerdown", &port, px, py);
    settle(10).await;
    pointer("pointermove", &svg, tx, ty);
    settle(10).await;
    pointer("pointerup", &svg, tx, ty);
    settle(50).await;
    assert!(
        root.query_selector("[data-link='client->retry']")
            .unwrap()
            .is_some(),
        "dragging from the client's port onto the retry block connects them"
    );
}

#[wasm_bindgen_test]
async fn a_bad_inspector_value_is_kept_and_named_in_words() {
    let root = mount();
    settle(50).await;
    let block = find(&root, "g[data-block=api]");
    let (x, y) = centre(&block);
    pointer("pointerdown", &block, x, y);
    pointer("pointerup", &find(&root, "svg#editor"), x, y);
    settle(30).await;
    let input: HtmlInputElement = find(&root, "#inspector input[data-field='service.mean_s']")
        .dyn_into()
        .unwrap();
    input.set_value("-1");
    let event = web_sys::InputEvent::new("input").unwrap();
    input.dispatch_event(&event).unwrap();
    settle(30).await;
    // The field says at once what is wrong with what was typed, naming itself.
    let message = find(&root, "[data-field-row='service.mean_s'] .field-error")
        .text_content()
        .unwrap_or_default();
    assert!(
        message.starts_with("Mean service must be") && message.contains("-1"),
        "{message}"
    );
    // The draft commits after a pause: the scenario then has the problem.
    settle(700).await;
    assert_eq!(
        input.value(),
        "-1",
        "the field keeps what was typed after it commits"
    );
    // The charts keep the last valid run.
    assert_eq!(verdict(&root).await, "metastable");
}

#[wasm_bindgen_test]
async fn the_default_preset_draws_its_charts_and_verdict() {
    let root = mount();
    settle(50).await;
    assert_eq!(verdict(&root).await, "metastable");
    settle(50).await;
    let canvas: HtmlCanvasElement = find(&root, "figure[data-chart=traffic] canvas")
        .dyn_into()
        .unwrap();
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let (w, h) = (canvas.width(), canvas.height());
    assert!(w > 100 && h > 100, "canvas is {w}x{h}");
    let pixels = ctx
        .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
        .unwrap()
        .data();
    let background = &pixels[0..4];
    let ink = pixels.chunks_exact(4).filter(|p| *p != background).count();
    assert!(ink > 2000, "the traffic chart has only {ink} inked pixels");
}

/// The same scenario gives byte-identical CSV in wasm and natively (the golden file is the
/// native CLI's output; a CLI test keeps it current).
#[wasm_bindgen_test]
fn wasm_runs_match_the_native_golden_csv() {
    let golden = include_str!("../../../tests/golden/retry-storm.csv");
    let scenario = sim_core::presets::load("retry-storm").unwrap().unwrap();
    let mut sim = sim_core::Sim::new(&scenario).unwrap();
    sim.run();
    let csv = sim_core::to_csv(sim.columns(), sim.rows());
    assert!(
        csv == golden,
        "wasm CSV differs from the native golden file"
    );
}
