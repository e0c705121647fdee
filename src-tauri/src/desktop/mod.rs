//! The desktop app (feature `desktop`): a Tauri 2 tray app around the same gateway `serve`
//! runs. It owns no logic: the window is the dashboard (its calls go to /api in-process), the
//! tray and commands call the gateway control and the management layer.
//! - `control`: the in-process gateway: open once, listen / stop on a port, its status
//! - `commands`: the Tauri commands the window may invoke (thin wrappers)
//! - `tray`: the tray icon (its look shows the status) and its menu
//! - `window`: the dashboard window: opened on demand, hidden (not closed) on close
//! - `notify`: native notifications (out of quota, login needed, port taken)
//! - `updates`: signed updates through tauri-plugin-updater

mod commands;
mod control;
mod notify;
mod tray;
mod updates;
mod window;

use crate::manage::Manager;
use control::GatewayControl;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{Emitter, Manager as _, RunEvent};

/// How the app was started.
pub struct Launch {
    pub data_dir: PathBuf,
    /// --port; otherwise the `port` setting.
    pub port: Option<u16>,
    /// Start in the tray without opening the window (start on login does this).
    pub hidden: bool,
}

/// The argument start-on-login adds.
pub const HIDDEN_ARG: &str = "--hidden";

/// Whether a window can be shown here: always on macOS and Windows; on Linux, when an X11 or
/// Wayland display is set (otherwise `switchyard` runs `serve`).
pub fn display_available() -> bool {
    if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
    } else {
        true
    }
}

/// Runs the app until Quit; returns the process exit code.
pub fn run(launch: Launch) -> i32 {
    avoid_gdk_gl();
    let opened = tauri::async_runtime::block_on(async {
        let manager = Manager::open(&launch.data_dir).await?;
        let port = match launch.port {
            Some(port) => port,
            None => manager.settings_get().await?.port,
        };
        let control = GatewayControl::open(manager).await?;
        anyhow::Ok((control, port))
    });
    let (control, port) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    let control = Arc::new(control);
    let hidden = launch.hidden;
    let app = tauri::Builder::default()
        // First: a second launch only tells this one to show its window, then exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| window::open(app)))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_ARG]),
        ))
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(control.clone())
        .manage(updates::Pending::default())
        .invoke_handler(tauri::generate_handler![
            commands::api,
            commands::gateway_status,
            commands::gateway_start,
            commands::gateway_stop,
            commands::update_check,
            commands::update_install,
        ])
        .on_window_event(window::on_event)
        .setup(move |app| {
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            tray::create(app.handle())?;
            // SIGINT/SIGTERM (logout, `kill`) end the app as Quit does: nothing is lost.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                crate::gateway::shutdown_signal().await;
                handle.exit(0);
            });
            let handle = app.handle().clone();
            forward_events(&handle, &control);
            let control = control.clone();
            tauri::async_runtime::spawn(async move {
                let status = control.start(port).await;
                if let control::GatewayStatus::Failed { message, .. } = &status {
                    notify::port_problem(&handle, message);
                    // The window is where another port is chosen.
                    window::open(&handle);
                }
            });
            if !hidden {
                window::open(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start the desktop app: {e}");
            return 1;
        }
    };
    app.run(|handle, event| match event {
        // Hidden windows are not closed ones: only Quit ends the app.
        RunEvent::ExitRequested { api, code: None, .. } => api.prevent_exit(),
        RunEvent::Exit => {
            let control = handle.state::<Arc<GatewayControl>>().inner().clone();
            tauri::async_runtime::block_on(control.shutdown());
        }
        _ => {}
    });
    0
}

/// On X11, GTK 3 opens OpenGL when it opens the display, only to sort its visuals; on a
/// software renderer that maps Mesa's LLVM (~50 MB) into a tray app that draws no GL. The
/// dashboard's web view composites on its own, so GDK's GL is turned off there unless the
/// user chose otherwise. (Wayland keeps it: GTK draws web views through it there.) Called
/// first, before any thread exists.
fn avoid_gdk_gl() {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if cfg!(target_os = "linux") && !wayland && std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}

/// Sends the window what the gateway tells: each finished request (`usage`, the same record
/// as the browser's live feed) and status changes (`gateway`); and turns account events into
/// notifications.
fn forward_events(app: &tauri::AppHandle, control: &Arc<GatewayControl>) {
    let mut usage = control.state().usage.subscribe();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match usage.recv().await {
                Ok(record) => {
                    let _ = handle.emit("usage", &*record);
                    tray::usage_seen(&handle);
                }
                Err(RecvError::Lagged(missed)) => {
                    let _ = handle.emit("usage-lagged", missed);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    let mut status = control.watch_status();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().clone();
            let _ = handle.emit("gateway", &now);
            tray::refresh(&handle);
        }
    });
    notify::follow(app, control.state().notices.subscribe());
}
