//! The DEFLATE of share links in this build (`sim_core::share::Codec`).
//!
//! In the page it is the browser's own `CompressionStream` / `DecompressionStream`
//! (`deflate-raw`), not a DEFLATE compiled into the wasm (15 KiB gzipped of every visit).
//! Those streams answer asynchronously and the link functions are synchronous, so the codec
//! remembers what it has made and read: a link function asks, gets its answer from memory or
//! `None` / `LinkError::Pending` (the codec notes what was asked), and the caller lets
//! [`settle`] run the streams and asks again. Natively (the tests) it is `share::Miniz`, and
//! nothing is ever pending.

/// The codec of this build.
#[cfg(not(target_arch = "wasm32"))]
pub fn codec() -> &'static dyn sim_core::share::Codec {
    &sim_core::share::Miniz
}

/// Whether a link function asked for something the codec has not made yet.
#[cfg(not(target_arch = "wasm32"))]
pub fn pending() -> bool {
    false
}

/// Runs the codec on what was asked; natively there is never anything to run.
#[cfg(not(target_arch = "wasm32"))]
pub async fn settle() -> bool {
    false
}

#[cfg(target_arch = "wasm32")]
pub use browser::{codec, pending, settle};

#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::{Array, Reflect, Uint8Array};
    use sim_core::share::{Codec, LinkError, MAX_SCENARIO_BYTES};
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Blob, ReadableStream, ReadableStreamDefaultReader, ReadableWritablePair, WritableStream,
    };

    // The Compression Streams API, bound here: web-sys has it only behind its unstable-APIs
    // configuration flag.
    #[wasm_bindgen]
    extern "C" {
        /// A `CompressionStream` or a `DecompressionStream`: a pair of streams.
        type Transform;
        #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
        fn compression(format: &str) -> Result<Transform, JsValue>;
        #[wasm_bindgen(constructor, js_class = "DecompressionStream", catch)]
        fn decompression(format: &str) -> Result<Transform, JsValue>;
        #[wasm_bindgen(method, getter)]
        fn readable(this: &Transform) -> ReadableStream;
        #[wasm_bindgen(method, getter)]
        fn writable(this: &Transform) -> WritableStream;
    }

    /// How many results of each kind are kept: a page needs two at a time (the scenario and
    /// the pinned baseline); a few more let a quick succession of edits find theirs.
    const KEPT: usize = 8;

    /// What some DEFLATE data inflates to, or why it does not.
    type Inflated = Result<Vec<u8>, LinkError>;

    #[derive(Default)]
    struct Memory {
        /// Raw bytes → their DEFLATE data (`None`: the browser could not make it).
        deflated: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        /// DEFLATE data → what it inflates to, or why not.
        inflated: Vec<(Vec<u8>, Inflated)>,
        to_deflate: Vec<Vec<u8>>,
        to_inflate: Vec<Vec<u8>>,
        /// Streams running now.
        running: usize,
    }

    thread_local! {
        static MEMORY: RefCell<Memory> = RefCell::new(Memory::default());
    }

    /// Keeps `entry`, forgetting the oldest past [`KEPT`].
    fn keep<K, V>(list: &mut Vec<(K, V)>, entry: (K, V)) {
        if list.len() >= KEPT {
            list.remove(0);
        }
        list.push(entry);
    }

    /// The answer remembered for `key`, or `None` after noting `key` as asked for.
    fn recall<V: Clone>(made: &[(Vec<u8>, V)], asked: &mut Vec<Vec<u8>>, key: &[u8]) -> Option<V> {
        if let Some((_, answer)) = made.iter().find(|(k, _)| k == key) {
            return Some(answer.clone());
        }
        if !asked.iter().any(|k| k == key) {
            asked.push(key.to_vec());
        }
        None
    }

    struct Browser;

    impl Codec for Browser {
        fn deflate(&self, raw: &[u8]) -> Option<Vec<u8>> {
            MEMORY.with(|m| {
                let m = &mut *m.borrow_mut();
                recall(&m.deflated, &mut m.to_deflate, raw).flatten()
            })
        }

        fn inflate(&self, deflated: &[u8]) -> Inflated {
            MEMORY.with(|m| {
                let m = &mut *m.borrow_mut();
                recall(&m.inflated, &mut m.to_inflate, deflated).unwrap_or(Err(LinkError::Pending))
            })
        }
    }

    pub fn codec() -> &'static dyn Codec {
        &Browser
    }

    pub fn pending() -> bool {
        MEMORY.with(|m| {
            let m = m.borrow();
            !m.to_deflate.is_empty() || !m.to_inflate.is_empty() || m.running > 0
        })
    }

    /// Runs the streams on everything asked for since the last call. `true` when there was
    /// something to run or still running (ask again, and call this again until `false`).
    pub async fn settle() -> bool {
        let (to_deflate, to_inflate, running) = MEMORY.with(|m| {
            let mut m = m.borrow_mut();
            let taken = (
                std::mem::take(&mut m.to_deflate),
                std::mem::take(&mut m.to_inflate),
            );
            m.running += taken.0.len() + taken.1.len();
            (taken.0, taken.1, m.running)
        });
        if running == 0 {
            return false;
        }
        if to_deflate.is_empty() && to_inflate.is_empty() {
            // Another task runs them: wait a moment for it.
            next_task().await;
            return true;
        }
        for raw in to_deflate {
            let out = run(&raw, true, usize::MAX).await.ok();
            MEMORY.with(|m| {
                let mut m = m.borrow_mut();
                m.running -= 1;
                keep(&mut m.deflated, (raw, out));
            });
        }
        for data in to_inflate {
            let out = run(&data, false, MAX_SCENARIO_BYTES).await;
            MEMORY.with(|m| {
                let mut m = m.borrow_mut();
                m.running -= 1;
                keep(&mut m.inflated, (data, out));
            });
        }
        true
    }

    /// A zero timeout.
    async fn next_task() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            }
        });
        let _ = JsFuture::from(promise).await;
    }

    /// `input` through a (de)compression stream, reading at most `limit` bytes out of it.
    async fn run(input: &[u8], compress: bool, limit: usize) -> Result<Vec<u8>, LinkError> {
        let damaged = |_: JsValue| LinkError::NotDeflate;
        let stream = if compress {
            Transform::compression("deflate-raw")
        } else {
            Transform::decompression("deflate-raw")
        }
        .map_err(damaged)?;
        let pair = ReadableWritablePair::new(&stream.readable(), &stream.writable());
        let parts = Array::of1(&Uint8Array::from(input));
        let blob = Blob::new_with_u8_array_sequence(&parts).map_err(damaged)?;
        let reader: ReadableStreamDefaultReader = blob
            .stream()
            .pipe_through(&pair)
            .get_reader()
            .unchecked_into();
        let mut out = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(damaged)?;
            if Reflect::get(&chunk, &"done".into())
                .map_err(damaged)?
                .is_truthy()
            {
                return Ok(out);
            }
            let value: Uint8Array = Reflect::get(&chunk, &"value".into())
                .map_err(damaged)?
                .unchecked_into();
            let start = out.len();
            let end = start + value.length() as usize;
            if end > limit {
                // A "zip bomb": stop reading, and let the stream go.
                let _ = reader.cancel();
                return Err(LinkError::TooLarge);
            }
            out.resize(end, 0);
            value.copy_to(&mut out[start..]);
        }
    }
}
