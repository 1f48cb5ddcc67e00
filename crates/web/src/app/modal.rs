//! What makes a dialog modal for the keyboard: Escape closes it, Tab stays inside it. The
//! share and fix dialogs use both; the playground's stand-in while their binary loads, Escape.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Keeps Tab and Shift+Tab inside the dialog `dialog_id` (it is modal): from its last
/// control to its first and back, and into it from wherever the focus strayed.
fn trap_focus(e: &KeyboardEvent, dialog_id: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(dialog) = document.get_element_by_id(dialog_id) else {
        return;
    };
    let Ok(list) = dialog.query_selector_all(
        "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, [tabindex]:not([tabindex='-1'])",
    ) else {
        return;
    };
    let controls: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
        return;
    };
    let active = document.active_element();
    let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == AsRef::<web_sys::Element>::as_ref(el))
    };
    let target = if e.shift_key() {
        (!inside || at(first)).then_some(last)
    } else {
        (!inside || at(last)).then_some(first)
    };
    if let Some(target) = target {
        e.prevent_default();
        let _ = target.focus();
    }
}

/// Calls `on_key` with every key pressed anywhere on the page while `active`: a listener on
/// the document, taken off when `active` turns false or the component goes.
#[hook]
fn use_document_keys<F>(active: bool, on_key: F)
where
    F: Fn(&KeyboardEvent) + 'static,
{
    use_effect_with(active, move |&active| {
        let listener = active
            .then(|| Closure::<dyn FnMut(KeyboardEvent)>::new(move |e: KeyboardEvent| on_key(&e)));
        let document = web_sys::window().and_then(|w| w.document());
        if let (Some(d), Some(l)) = (&document, &listener) {
            let _ = d.add_event_listener_with_callback("keydown", l.as_ref().unchecked_ref());
        }
        move || {
            if let (Some(d), Some(l)) = (document, listener) {
                let _ =
                    d.remove_event_listener_with_callback("keydown", l.as_ref().unchecked_ref());
            }
        }
    });
}

/// Escape closes the modal dialog `dialog_id` wherever the focus is (even outside it, after
/// a click on its text), and Tab stays inside it, for as long as the dialog is open.
#[hook]
pub(super) fn use_modal_keys(dialog_id: &'static str, on_close: Callback<()>) {
    use_document_keys(true, move |e| {
        if e.key() == "Escape" {
            on_close.emit(());
        } else if e.key() == "Tab" {
            trap_focus(e, dialog_id);
        }
    });
}

/// Escape calls `on_close` wherever the focus is, while `active`: the playground's stand-in
/// for a dialog whose binary is loading (it has no controls to keep Tab in).
#[hook]
pub(super) fn use_escape(on_close: Callback<()>, active: bool) {
    use_document_keys(active, move |e| {
        if e.key() == "Escape" {
            on_close.emit(());
        }
    });
}
