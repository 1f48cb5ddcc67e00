//! The analysis view's Web Worker: runs the jobs the page sends (grid points, tipping
//! searches; see [`web::analysis`]) and answers each with its result, as JSON text.
//!
//! Trunk builds it as a classic worker (`dist/worker.js`, `worker_bg.wasm` and the
//! `worker_loader.js` shim the page starts). Messages sent before the wasm has loaded would
//! find no handler, so the worker says `ready` first and the page waits for it.

#[cfg(target_arch = "wasm32")]
fn main() {
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web::analysis::{Reply, Request, WorkerState};

    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post = {
        let scope = scope.clone();
        move |reply: &Reply| {
            if let Ok(text) = serde_json::to_string(reply) {
                let _ = scope.post_message(&JsValue::from_str(&text));
            }
        }
    };
    let state = RefCell::new(WorkerState::default());
    let on_message = {
        let post = post.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let reply = match event
                .data()
                .as_string()
                .map(|t| serde_json::from_str::<Request>(&t))
            {
                Some(Ok(request)) => state.borrow_mut().handle(request),
                Some(Err(e)) => Some(Reply::Failed {
                    message: format!("The worker could not read a job: {e}."),
                }),
                None => Some(Reply::Failed {
                    message: "The worker was sent something that is not a job.".into(),
                }),
            };
            if let Some(reply) = reply {
                post(&reply);
            }
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_message.forget();
    post(&Reply::Ready);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the analysis worker runs in a browser: `bash scripts/serve.sh`");
}
