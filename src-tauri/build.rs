//! Build script: with the `desktop` feature, tauri-build reads tauri.conf.json and the
//! capability files (at the repository root) and embeds what the app needs. The core build
//! (`--no-default-features`) does nothing here.

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/build.rs");
    #[cfg(feature = "desktop")]
    tauri_build::build();
}
