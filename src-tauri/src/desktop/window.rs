//! The dashboard window: created when first opened (an app started hidden carries no web
//! view), shown and focused when opened again, hidden, not closed, when the user closes it:
//! the app and its gateway keep running in the tray.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};

pub const LABEL: &str = "dashboard";

/// Shows the dashboard window, creating it the first time.
pub fn open(app: &AppHandle) {
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

/// Closing the window hides it.
pub fn on_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        api.prevent_close();
        let _ = window.hide();
    }
}
