//! Entry point of the playground's wasm binary.

#[cfg(target_arch = "wasm32")]
fn main() {
    web::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the playground runs in a browser: `bash scripts/serve.sh`");
}
