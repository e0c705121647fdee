//! The dashboard window: created when first opened (an app started hidden carries no web
//! view), shown and focused when opened again, hidden, not closed, when the user closes it:
//! the app and its gateway keep running in the tray. A window left hidden for
//! `RELEASE_AFTER` gives its web view back (WebKit's processes hold a few hundred MB); the
//! next open builds it again in a fraction of a second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};

pub const LABEL: &str = "dashboard";

/// How long a hidden window keeps its web view.
pub const RELEASE_AFTER: Duration = Duration::from_secs(30);

/// Counts closes, so that a release timer only acts on the close that started it.
static CLOSES: AtomicU64 = AtomicU64::new(0);

/// Shows the dashboard window, creating it the first time. Done on the main thread, one
/// call after the other, so that two callers at once never build two windows.
pub fn open(app: &AppHandle) {
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || open_now(&handle)) {
        tracing::error!("cannot open the dashboard window: {e}");
    }
}

fn open_now(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html".into()))
        .title("Switchyard")
        .inner_size(1100.0, 720.0)
        .min_inner_size(900.0, 600.0)
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the dashboard window: {e}");
    }
}

/// Closing the window hides it; still hidden `RELEASE_AFTER` later, its web view is released.
pub fn on_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        api.prevent_close();
        let _ = window.hide();
        let close = CLOSES.fetch_add(1, Ordering::SeqCst) + 1;
        let app = window.app_handle().clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(RELEASE_AFTER).await;
            let Some(window) = app.get_webview_window(LABEL) else { return };
            if CLOSES.load(Ordering::SeqCst) == close && !window.is_visible().unwrap_or(true) {
                tracing::info!("releasing the hidden dashboard window's web view");
                let _ = window.destroy();
            }
        });
    }
}
