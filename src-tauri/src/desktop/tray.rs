//! The tray icon and its menu. The icon's look shows the gateway's status (running, error,
//! stopped). The menu: the endpoint (click copies it), start/stop, the default model (the
//! `default` alias: point a tool at model `default`, switch combos here), the last 24 hours'
//! requests and spend, open dashboard, check for updates, quit. A left click opens the
//! dashboard. The menu is rebuilt only when what it shows changed.

use super::control::{GatewayControl, GatewayStatus};
use super::{notify, updates, window};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt;

const TRAY_ID: &str = "switchyard";
/// The alias the "Default model" submenu sets.
pub const DEFAULT_ALIAS: &str = "default";

const ICON_RUNNING: &[u8] = include_bytes!("../../../icons/tray-running.png");
const ICON_ERROR: &[u8] = include_bytes!("../../../icons/tray-error.png");
const ICON_STOPPED: &[u8] = include_bytes!("../../../icons/tray-stopped.png");

/// Everything the tray shows; the menu is rebuilt when it changes.
#[derive(Debug, Clone, PartialEq, Default)]
struct TrayView {
    status: Option<GatewayStatus>,
    combos: Vec<String>,
    default_model: Option<String>,
    requests: i64,
    errors: i64,
    cost_usd: f64,
    update_note: Option<String>,
}

/// The tray's memory: what it shows now, and a wake-up for the refresher.
#[derive(Default)]
struct TrayState {
    shown: Mutex<TrayView>,
    update_note: Mutex<Option<String>>,
    wake: tokio::sync::Notify,
}

fn control(app: &AppHandle) -> Arc<GatewayControl> {
    app.state::<Arc<GatewayControl>>().inner().clone()
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    app.manage(TrayState::default());
    let view = TrayView::default();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(view.status.as_ref())?)
        .tooltip("Switchyard")
        .menu(&menu(app, &view)?)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                window::open(tray.app_handle());
            }
        })
        .build(app)?;
    let handle = app.clone();
    tauri::async_runtime::spawn(refresher(handle));
    Ok(())
}

/// Asks for the tray to be brought up to date (status or configuration changed).
pub fn refresh(app: &AppHandle) {
    if let Some(state) = app.try_state::<TrayState>() {
        state.wake.notify_one();
    }
}

/// A request finished: the 24-hour numbers moved.
pub fn usage_seen(app: &AppHandle) {
    refresh(app);
}

/// How long after a wake-up the view is computed once more: a finished request's record
/// reaches the store up to a second after its event.
const RECHECK_AFTER: Duration = Duration::from_millis(1500);

/// Recomputes the view when woken (at most twice a second, and once more `RECHECK_AFTER`
/// later) or every 5 s when the configuration revision moved (a change from the CLI), and
/// redraws if it changed.
async fn refresher(app: AppHandle) {
    let mut rev = None;
    let mut recheck = false;
    loop {
        let Some(state) = app.try_state::<TrayState>() else { return };
        let wait = if recheck { RECHECK_AFTER } else { Duration::from_secs(5) };
        let woken = tokio::time::timeout(wait, state.wake.notified()).await.is_ok();
        let control = control(&app);
        let now_rev = control.state().live.get().rev;
        if !woken && !recheck && rev == Some(now_rev) {
            continue;
        }
        recheck = woken;
        rev = Some(now_rev);
        let view = match current_view(&app, &control).await {
            Ok(view) => view,
            Err(e) => {
                tracing::warn!("cannot update the tray: {e}");
                continue;
            }
        };
        let changed = {
            let mut shown = state.shown.lock().unwrap_or_else(|p| p.into_inner());
            let changed = *shown != view;
            *shown = view.clone();
            changed
        };
        if changed {
            if let Err(e) = redraw(&app, &view) {
                tracing::warn!("cannot redraw the tray: {e}");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn current_view(app: &AppHandle, control: &GatewayControl) -> crate::manage::Result<TrayView> {
    let manager = control.manager();
    let combos = manager.combo_list().await?.into_iter().map(|c| c.name).collect();
    let default_model = manager.alias_list().await?.into_iter().find(|a| a.name == DEFAULT_ALIAS).map(|a| a.target);
    let totals = manager.totals("24h").await?;
    let update_note =
        app.try_state::<TrayState>().and_then(|s| s.update_note.lock().unwrap_or_else(|p| p.into_inner()).clone());
    Ok(TrayView {
        status: Some(control.status()),
        combos,
        default_model,
        requests: totals.requests,
        errors: totals.errors,
        cost_usd: totals.cost_usd,
        update_note,
    })
}

fn redraw(app: &AppHandle, view: &TrayView) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return Ok(()) };
    tray.set_menu(Some(menu(app, view)?))?;
    tray.set_icon(Some(icon(view.status.as_ref())?))?;
    let tooltip = match &view.status {
        Some(GatewayStatus::Running { endpoint, .. }) => format!("Switchyard: {endpoint}"),
        Some(GatewayStatus::Failed { message, .. }) => format!("Switchyard: {message}"),
        Some(GatewayStatus::Stopped { .. }) => "Switchyard: stopped".into(),
        _ => "Switchyard".into(),
    };
    tray.set_tooltip(Some(tooltip))?;
    Ok(())
}

fn icon(status: Option<&GatewayStatus>) -> tauri::Result<Image<'static>> {
    let bytes = match status {
        Some(GatewayStatus::Running { .. }) => ICON_RUNNING,
        Some(GatewayStatus::Failed { .. }) => ICON_ERROR,
        _ => ICON_STOPPED,
    };
    Image::from_bytes(bytes)
}

fn menu(app: &AppHandle, view: &TrayView) -> tauri::Result<Menu<Wry>> {
    let (endpoint, running) = match &view.status {
        Some(GatewayStatus::Running { endpoint, .. }) => (format!("{endpoint}  (click to copy)"), true),
        Some(GatewayStatus::Stopped { port }) => (format!("Gateway stopped (port {port})"), false),
        Some(GatewayStatus::Failed { port, .. }) => {
            (format!("Port {port} is taken: choose another in Settings"), false)
        }
        Some(GatewayStatus::Starting) | None => ("Starting…".into(), false),
    };
    let endpoint = MenuItem::with_id(app, "endpoint", endpoint, running, None::<&str>)?;
    let toggle_label = if running { "Stop gateway" } else { "Start gateway" };
    let toggle = MenuItem::with_id(app, "toggle", toggle_label, view.status.is_some(), None::<&str>)?;

    let mut choices: Vec<CheckMenuItem<Wry>> = Vec::new();
    for combo in &view.combos {
        let checked = view.default_model.as_deref() == Some(combo.as_str());
        choices.push(CheckMenuItem::with_id(app, format!("default:{combo}"), combo, true, checked, None::<&str>)?);
    }
    let none = CheckMenuItem::with_id(app, "default-none", "None", true, view.default_model.is_none(), None::<&str>)?;
    let mut items: Vec<&dyn IsMenuItem<Wry>> = choices.iter().map(|c| c as &dyn IsMenuItem<Wry>).collect();
    items.push(&none);
    let title = match &view.default_model {
        Some(target) => format!("Default model: {target}"),
        None => "Default model".into(),
    };
    let defaults = Submenu::with_id_and_items(app, "default", title, true, &items)?;

    let spend = format!(
        "Last 24 h: {} requests{} · ${:.2}",
        view.requests,
        if view.errors > 0 { format!(" ({} failed)", view.errors) } else { String::new() },
        view.cost_usd
    );
    let spend = MenuItem::with_id(app, "spend", spend, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open dashboard", true, None::<&str>)?;
    let updates_label = view.update_note.clone().unwrap_or_else(|| "Check for updates".into());
    let updates = MenuItem::with_id(app, "updates", updates_label, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Switchyard", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let separator2 = PredefinedMenuItem::separator(app)?;
    Menu::with_items(app, &[&endpoint, &toggle, &defaults, &spend, &separator, &open, &updates, &separator2, &quit])
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref().to_string();
    let app = app.clone();
    match id.as_str() {
        "open" => window::open(&app),
        "quit" => app.exit(0),
        "endpoint" => {
            if let GatewayStatus::Running { endpoint, .. } = control(&app).status() {
                if let Err(e) = app.clipboard().write_text(endpoint) {
                    tracing::warn!("cannot copy the endpoint: {e}");
                }
            }
        }
        "toggle" => {
            tauri::async_runtime::spawn(async move {
                let control = control(&app);
                let status = match control.status() {
                    GatewayStatus::Running { .. } => control.stop().await,
                    _ => control.start(control.port()).await,
                };
                if let GatewayStatus::Failed { message, .. } = status {
                    notify::port_problem(&app, &message);
                }
            });
        }
        "updates" => {
            tauri::async_runtime::spawn(async move {
                let found = updates::check(&app).await;
                let note = found.summary();
                notify::show(&app, "Switchyard updates", &note);
                if let Some(state) = app.try_state::<TrayState>() {
                    *state.update_note.lock().unwrap_or_else(|p| p.into_inner()) = Some(note);
                }
                refresh(&app);
            });
        }
        other => {
            let target =
                if other == "default-none" { None } else { other.strip_prefix("default:").map(str::to_string) };
            if target.is_none() && other != "default-none" {
                return;
            }
            tauri::async_runtime::spawn(async move {
                let control = control(&app);
                let manager = control.manager();
                let done = match &target {
                    Some(combo) => manager.alias_set(DEFAULT_ALIAS, combo).await,
                    None => manager.alias_remove(DEFAULT_ALIAS).await.or_else(|e| match e {
                        crate::manage::ManageError::NotFound(_) => Ok(()),
                        e => Err(e),
                    }),
                };
                match done {
                    Ok(()) => control.state().live.refresh(manager.store(), manager.sealer()).await,
                    Err(e) => notify::show(&app, "Cannot change the default model", &e.to_string()),
                }
                refresh(&app);
            });
        }
    }
}
