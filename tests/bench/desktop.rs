//! The desktop app's benchmark: start-up time to a served request, and memory (all of the
//! app's processes: the app and the WebKit processes it starts), with the window hidden (as
//! start on login leaves it), open, closed to the tray, and closed after the hidden window
//! gave its web view back (the window is closed as a window manager does, with python-xlib). Runs the release binary under its own
//! Xvfb display and D-Bus session (Debian's xvfb and dbus packages).
//!
//!     bash .ci/ui && cargo bench --bench desktop            # 10 starts
//!     bash .ci/ui && cargo bench --bench desktop -- --quick # 3 starts
//!
//! Targets (issue 7): ≤ 80 MB RSS for all its processes with the window hidden, ≤ 1 s to a
//! served request.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Whether GET /health answers 200 (a served request, over a fresh connection).
fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200")
}

/// The children of every process, from /proc.
fn children_of() -> std::collections::HashMap<u32, Vec<u32>> {
    let mut map: std::collections::HashMap<u32, Vec<u32>> = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // The field after the ")" that ends the command name: state, then the parent's pid.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            map.entry(ppid).or_default().push(pid);
        }
    }
    map
}

fn kb_field(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// (processes, RSS MB, PSS MB) of the app process `root` and everything it started.
fn memory(root: u32) -> (usize, f64, f64) {
    let children = children_of();
    let mut todo = vec![root];
    let (mut n, mut rss, mut pss) = (0, 0, 0);
    while let Some(pid) = todo.pop() {
        n += 1;
        rss += kb_field(&format!("/proc/{pid}/status"), "VmRSS:");
        pss += kb_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:");
        todo.extend(children.get(&pid).into_iter().flatten());
    }
    (n, rss as f64 / 1024.0, pss as f64 / 1024.0)
}

/// The app's own pid: the `switchyard` process under `dbus-run-session`.
fn app_pid(session: u32) -> Option<u32> {
    let children = children_of();
    let mut todo = vec![session];
    while let Some(pid) = todo.pop() {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        if exe.as_deref() == Some(Path::new(BIN)) || exe.is_some_and(|e| e.ends_with("switchyard")) {
            return Some(pid);
        }
        todo.extend(children.get(&pid).into_iter().flatten());
    }
    None
}

struct App {
    session: Child,
    port: u16,
}

impl App {
    fn start(display: &str, data_dir: &Path, hidden: bool) -> Self {
        let port = free_port();
        let mut cmd = Command::new("dbus-run-session");
        cmd.arg("--").arg(BIN).arg("--data-dir").arg(data_dir).args(["--port", &port.to_string()]);
        if hidden {
            cmd.arg("--hidden");
        }
        let session = cmd
            .env("DISPLAY", display)
            .env("NO_AT_BRIDGE", "1")
            .env("SWITCHYARD_KEYCHAIN", "off")
            .env("SWITCHYARD_LOG", "warn")
            .env("HOME", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the app under dbus-run-session");
        Self { session, port }
    }

    fn wait_served(&self, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            if health(self.port) {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }

    fn memory(&self) -> (usize, f64, f64) {
        app_pid(self.session.id()).map(memory).unwrap_or_default()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(pid) = app_pid(self.session.id()) {
            terminate(pid);
        }
        let _ = self.session.wait();
    }
}

/// SIGTERM: the app stops its gateway and exits.
fn terminate(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

/// Closes the app's window as a window manager does (WM_DELETE_WINDOW), through python-xlib
/// (installed by .ci/install from tests/desktop/requirements.txt).
fn close_window(display: &str) -> Result<(), String> {
    const SCRIPT: &str = r#"
from Xlib import X, display, protocol
d = display.Display()
def walk(w):
    if w.get_wm_name() == "Switchyard" and w.get_attributes().map_state == X.IsViewable:
        yield w
    for c in w.query_tree().children:
        yield from walk(c)
for w in walk(d.screen().root):
    w.send_event(protocol.event.ClientMessage(window=w, client_type=d.intern_atom("WM_PROTOCOLS"),
        data=(32, [d.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0])))
d.flush()
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .env("DISPLAY", display)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("python-xlib: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let starts = if quick { 3 } else { 10 };
    let display_no = (300..400).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists()).expect("a free display");
    let display = format!(":{display_no}");
    let mut xvfb = Command::new("Xvfb")
        .arg(&display)
        .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (apt-get install xvfb)");
    let socket = format!("/tmp/.X11-unix/X{display_no}");
    let waited = Instant::now();
    while !Path::new(&socket).exists() && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let data = tempfile::tempdir().expect("temp dir");

    println!("== start-up: launch → first served request (GET /health), started hidden, {starts} starts");
    let mut times = Vec::new();
    for _ in 0..starts {
        let app = App::start(&display, data.path(), true);
        let took = app.wait_served(Duration::from_secs(20)).expect("the app never served a request");
        times.push(took.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "start to served request: p50 {:.0} ms, max {:.0} ms (target: 1000 ms)",
        percentile(&times, 0.5),
        times[times.len() - 1]
    );

    println!("== memory, every process of the app (RSS counts shared pages in each; PSS shares them out)");
    let app = App::start(&display, data.path(), true);
    app.wait_served(Duration::from_secs(20)).expect("served");
    std::thread::sleep(Duration::from_secs(3));
    let (n, rss, pss) = app.memory();
    println!("window hidden (started hidden, as on login): {n} processes, RSS {rss:.1} MB, PSS {pss:.1} MB (target: 80 MB RSS)");
    drop(app);

    let app = App::start(&display, data.path(), false);
    app.wait_served(Duration::from_secs(20)).expect("served");
    std::thread::sleep(Duration::from_secs(6));
    let (n, rss, pss) = app.memory();
    println!("window open (dashboard shown): {n} processes, RSS {rss:.1} MB, PSS {pss:.1} MB");
    match close_window(&display) {
        Ok(()) => {
            std::thread::sleep(Duration::from_secs(2));
            let (n, rss, pss) = app.memory();
            println!("window closed to the tray (web view kept): {n} processes, RSS {rss:.1} MB, PSS {pss:.1} MB");
            let release = Duration::from_secs(32);
            println!("   waiting {} s for the hidden window to give its web view back…", release.as_secs());
            std::thread::sleep(release);
            let (n, rss, pss) = app.memory();
            println!("window closed to the tray, after the release: {n} processes, RSS {rss:.1} MB, PSS {pss:.1} MB (target: 80 MB RSS)");
        }
        Err(why) => println!("window closed to the tray: not measured ({why})"),
    }
    drop(app);

    let _ = xvfb.kill();
    let _ = xvfb.wait();
}
