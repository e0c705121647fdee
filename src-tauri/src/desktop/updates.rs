//! Updates through tauri-plugin-updater: signed bundles (the public key is in tauri.conf.json;
//! an update whose signature does not match is refused), checked when the user asks (tray or
//! Settings). Offline or unreachable is a quiet "could not check", never an error dialog.
//! `SWITCHYARD_UPDATE_URL` points the check at another server (a company mirror, a test);
//! the signature is still checked against the built-in key.

use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Update, UpdaterExt};

/// The update found by the last check, kept for Install.
#[derive(Default)]
pub struct Pending(Mutex<Option<Update>>);

pub use switchyard_api::UpdateCheck;

pub async fn check(app: &AppHandle) -> UpdateCheck {
    let current = app.package_info().version.to_string();
    let could_not = |reason: String| {
        tracing::info!("could not check for updates: {reason}");
        UpdateCheck::CouldNotCheck { current: current.clone(), reason }
    };
    let mut builder = app.updater_builder().timeout(Duration::from_secs(15));
    if let Ok(url) = std::env::var("SWITCHYARD_UPDATE_URL") {
        let endpoint = match url.parse() {
            Ok(endpoint) => endpoint,
            Err(e) => return could_not(format!("SWITCHYARD_UPDATE_URL is not a URL: {e}")),
        };
        builder = match builder.endpoints(vec![endpoint]) {
            Ok(builder) => builder,
            Err(e) => return could_not(e.to_string()),
        };
    }
    let updater = match builder.build() {
        Ok(updater) => updater,
        Err(e) => return could_not(e.to_string()),
    };
    match updater.check().await {
        Ok(Some(update)) => {
            let found = UpdateCheck::Available {
                current: current.clone(),
                version: update.version.clone(),
                notes: update.body.clone(),
            };
            if let Some(pending) = app.try_state::<Pending>() {
                *pending.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(update);
            }
            found
        }
        Ok(None) => UpdateCheck::UpToDate { current },
        Err(e) => could_not(e.to_string()),
    }
}

pub async fn install(app: &AppHandle) -> Result<(), String> {
    let update = app
        .try_state::<Pending>()
        .and_then(|pending| pending.0.lock().unwrap_or_else(|p| p.into_inner()).take())
        .ok_or("no update to install: check for updates first")?;
    update.download_and_install(|_, _| {}, || {}).await.map_err(|e| format!("the update failed: {e}"))?;
    app.restart()
}
