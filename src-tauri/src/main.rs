//! The `switchyard` binary: wiring only. Everything it does is in the library.

fn main() {
    std::process::exit(switchyard::cli::run());
}
