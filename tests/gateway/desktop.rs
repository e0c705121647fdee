//! The desktop app in a real window (tests/desktop/window.py): the binary built with the
//! desktop feature, under its own Xvfb display and D-Bus session, driven through tauri-driver
//! and WebKitWebDriver, its tray menu used over D-Bus, against the mock provider. Screenshots
//! of the window land in target/desktop-screenshots (kept by CI as artifacts).

use crate::common::mock::{MockConfig, MockProvider};
use crate::common::{Env, BIN};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
}

/// What the test needs that a developer machine may lack (.ci/install installs each).
fn desktop_ready() -> Result<(), String> {
    for tool in ["Xvfb", "dbus-run-session", "dbus-monitor", "tauri-driver", "WebKitWebDriver", "gdbus", "python3"] {
        if !on_path(tool) {
            return Err(format!("{tool} is not installed (bash .ci/install)"));
        }
    }
    let imports = std::process::Command::new("python3").args(["-c", "import selenium, Xlib"]).output();
    if !imports.is_ok_and(|o| o.status.success()) {
        return Err("selenium and python-xlib are not installed (pip install -r tests/desktop/requirements.txt)".into());
    }
    Ok(())
}

/// An X display number nobody uses.
fn free_display() -> u32 {
    (200..400).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists()).expect("a free X display")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Ends the Xvfb server when the test ends, passed or not.
struct Display(std::process::Child);

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_app_shows_the_dashboard_hides_to_the_tray_and_keeps_serving() {
    if let Err(why) = desktop_ready() {
        // .ci/install puts every piece on the machine; only a developer machine gets here.
        assert!(std::env::var_os("CI").is_none(), "CI must run the desktop test: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let mock = MockProvider::start(MockConfig::default()).await;
    let env = Env::new();
    let display = free_display();
    let xvfb = std::process::Command::new("Xvfb")
        .arg(format!(":{display}"))
        .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Xvfb");
    let _xvfb = Display(xvfb);
    let socket = format!("/tmp/.X11-unix/X{display}");
    assert!(
        crate::common::eventually(Duration::from_secs(10), || Path::new(&socket).exists()).await,
        "Xvfb did not start"
    );

    let shots = format!("{ROOT}/target/desktop-screenshots");
    let out = tokio::process::Command::new("dbus-run-session")
        .args(["--", "python3", &format!("{ROOT}/tests/desktop/window.py")])
        .env("DISPLAY", format!(":{display}"))
        .env("NO_AT_BRIDGE", "1")
        .env("HOME", env.dir.path())
        .env("SWITCHYARD_KEYCHAIN", "off")
        // Nothing listens here: the update check must say "could not check", quietly.
        .env("SWITCHYARD_UPDATE_URL", format!("http://127.0.0.1:{}/latest.json", free_port()))
        .env_remove("SWITCHYARD_DATA_DIR")
        .env_remove("SWITCHYARD_PORT")
        .env("APP", BIN)
        .env("DATA_DIR", env.data_dir())
        .env("GATEWAY_PORT", free_port().to_string())
        .env("DRIVER_PORT", free_port().to_string())
        .env("NATIVE_PORT", free_port().to_string())
        .env("MOCK_URL", mock.base_url())
        .env("SHOTS_DIR", &shots)
        .current_dir(ROOT)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), out)
        .await
        .expect("the desktop test ran over 4 min")
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let measured = stdout.lines().last().unwrap_or_default();
    eprintln!("desktop: {measured}");
    assert!(measured.contains("\"result\": \"ok\""), "{stdout}\n{stderr}");

    // What the window and the tray did is what the store holds.
    assert!(env.ok(&["provider", "list"]).contains("mockai"));
    assert!(env.ok(&["alias", "list"]).contains("coding"));
    for shot in ["window-overview", "window-providers", "window-settings"] {
        assert!(Path::new(&format!("{shots}/{shot}.png")).exists(), "no screenshot {shot}");
    }
}
