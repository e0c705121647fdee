//! The Switchyard dashboard: a Leptos client-side app compiled to wasm. It runs in the desktop
//! app's window and, served by `switchyard serve`, in a browser; both call the same management
//! API through `api::Transport`.

mod api;
mod app;
mod components;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
