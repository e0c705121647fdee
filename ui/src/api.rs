//! The one way the UI talks to Switchyard: a `Transport` that carries a management call
//! (method, /api path, JSON body) and brings back JSON or an error. In a browser it is fetch
//! against the same origin's /api (the session cookie rides along); inside the desktop app it is
//! a Tauri command that hands the same call to the same management API in-process. Pages call
//! the typed routes of `switchyard_api` through `call`; the live usage feed sits beside it.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use switchyard_api::routes::{Route, USAGE_EVENTS};
use switchyard_api::ErrorBody;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A failed call, as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status (0: the call never reached Switchyard).
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn js_error(context: &str, e: JsValue) -> ApiError {
    let detail = e.as_string().or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()));
    ApiError { status: 0, message: format!("{context}: {}", detail.unwrap_or_else(|| "unknown error".into())) }
}

pub type CallFuture = Pin<Box<dyn Future<Output = Result<Value, ApiError>>>>;

/// Carries one management call.
pub trait Transport {
    fn call(&self, method: &'static str, path: String, body: Option<Value>) -> CallFuture;
}

/// fetch() against this origin's /api.
pub struct Http;

impl Transport for Http {
    fn call(&self, method: &'static str, path: String, body: Option<Value>) -> CallFuture {
        Box::pin(async move {
            let init = web_sys::RequestInit::new();
            init.set_method(method);
            init.set_credentials(web_sys::RequestCredentials::SameOrigin);
            let headers = web_sys::Headers::new().map_err(|e| js_error("headers", e))?;
            headers.set("accept", "application/json").map_err(|e| js_error("headers", e))?;
            if let Some(body) = &body {
                headers.set("content-type", "application/json").map_err(|e| js_error("headers", e))?;
                init.set_body(&JsValue::from_str(&body.to_string()));
            }
            init.set_headers(&headers);
            let window = web_sys::window().ok_or_else(|| ApiError { status: 0, message: "no window".into() })?;
            let response = JsFuture::from(window.fetch_with_str_and_init(&path, &init))
                .await
                .map_err(|e| js_error("cannot reach Switchyard", e))?;
            let response: web_sys::Response = response.unchecked_into();
            let status = response.status();
            let text = JsFuture::from(response.text().map_err(|e| js_error("reading the answer", e))?)
                .await
                .map_err(|e| js_error("reading the answer", e))?
                .as_string()
                .unwrap_or_default();
            let value: Value =
                if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
            if (200..300).contains(&status) {
                Ok(value)
            } else {
                Err(ApiError { status, message: error_message(&value, status) })
            }
        })
    }
}

/// The message of an /api error body (`ErrorBody`), or the text, or the status.
fn error_message(value: &Value, status: u16) -> String {
    serde_json::from_value::<ErrorBody>(value.clone())
        .map(|body| body.error.message)
        .ok()
        .or_else(|| value.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("Switchyard answered {status}"))
}

/// `window.__TAURI__.core.invoke("api", {method, path, body})` inside the desktop app.
pub struct Tauri {
    invoke: js_sys::Function,
}

impl Transport for Tauri {
    fn call(&self, method: &'static str, path: String, body: Option<Value>) -> CallFuture {
        let invoke = self.invoke.clone();
        Box::pin(async move {
            let request = serde_json::json!({"request": {"method": method, "path": path, "body": body}});
            let args = js_sys::JSON::parse(&request.to_string()).map_err(|e| js_error("request", e))?;
            let promise = invoke
                .call2(&JsValue::NULL, &JsValue::from_str("api"), &args)
                .map_err(|e| js_error("desktop call", e))?;
            let answer =
                JsFuture::from(js_sys::Promise::from(promise)).await.map_err(|e| js_error("desktop call", e))?;
            let text = js_sys::JSON::stringify(&answer).ok().and_then(|s| s.as_string()).unwrap_or_default();
            // The command answers {status, body}, the same as the HTTP route would.
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let status = answer.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
            let body = answer.get("body").cloned().unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                Ok(body)
            } else {
                Err(ApiError { status, message: error_message(&body, status) })
            }
        })
    }
}

/// The Tauri invoke function, when running inside the desktop app.
fn tauri_invoke() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    let tauri = js_sys::Reflect::get(&window, &JsValue::from_str("__TAURI__")).ok().filter(|v| v.is_object())?;
    let core = js_sys::Reflect::get(&tauri, &JsValue::from_str("core")).ok()?;
    js_sys::Reflect::get(&core, &JsValue::from_str("invoke")).ok()?.dyn_into().ok()
}

thread_local! {
    static TRANSPORT: Rc<dyn Transport> = match tauri_invoke() {
        Some(invoke) => Rc::new(Tauri { invoke }),
        None => Rc::new(Http),
    };
}

/// Calls one of the desktop app's own commands (gateway start/stop, updates, start on login);
/// an error outside the app.
pub async fn invoke<T: DeserializeOwned>(command: &str, args: Value) -> Result<T, ApiError> {
    let invoke = tauri_invoke().ok_or_else(|| ApiError { status: 0, message: "only in the desktop app".into() })?;
    let args = js_sys::JSON::parse(&args.to_string()).map_err(|e| js_error("request", e))?;
    let promise = invoke.call2(&JsValue::NULL, &JsValue::from_str(command), &args).map_err(|e| js_error(command, e))?;
    let answer = JsFuture::from(js_sys::Promise::from(promise)).await.map_err(|e| js_error(command, e))?;
    let text = js_sys::JSON::stringify(&answer).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "null".into());
    serde_json::from_str(&text)
        .map_err(|e| ApiError { status: 0, message: format!("unexpected answer from {command}: {e}") })
}

/// Follows the desktop app's events (`usage` for each finished request, `usage-lagged` when
/// some were missed, `gateway` when its status changes) for the life of the page.
pub fn follow_app_events(on_usage: impl Fn(Option<Value>) + 'static, on_gateway: impl Fn(Value) + 'static) {
    use wasm_bindgen::closure::Closure;
    let Some(listen) = tauri_event_listen() else { return };
    let on_usage = Rc::new(on_usage);
    let usage = {
        let on_usage = on_usage.clone();
        Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| on_usage(Some(event_payload(&event))))
    };
    let lagged = Closure::<dyn Fn(JsValue)>::new(move |_| on_usage(None));
    let gateway = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| on_gateway(event_payload(&event)));
    for (name, callback) in [("usage", &usage), ("usage-lagged", &lagged), ("gateway", &gateway)] {
        let _ = listen.call2(&JsValue::NULL, &JsValue::from_str(name), callback.as_ref().unchecked_ref());
    }
    // The listeners live as long as the page.
    usage.forget();
    lagged.forget();
    gateway.forget();
}

fn event_payload(event: &JsValue) -> Value {
    js_sys::Reflect::get(event, &JsValue::from_str("payload"))
        .ok()
        .and_then(|p| js_sys::JSON::stringify(&p).ok())
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

/// `window.__TAURI__.event.listen`, inside the desktop app.
fn tauri_event_listen() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    let tauri = js_sys::Reflect::get(&window, &JsValue::from_str("__TAURI__")).ok().filter(|v| v.is_object())?;
    let event = js_sys::Reflect::get(&tauri, &JsValue::from_str("event")).ok()?;
    js_sys::Reflect::get(&event, &JsValue::from_str("listen")).ok()?.dyn_into().ok()
}

/// Whether the UI runs inside the desktop app (no login, no browser-only features).
pub fn in_desktop_app() -> bool {
    tauri_invoke().is_some()
}

/// Calls one /api route (`switchyard_api::routes`) with its body and decodes its answer: the
/// one way the pages reach the management API.
pub async fn call<R: Route>(route: R, body: R::Body) -> Result<R::Answer, ApiError> {
    let body = serde_json::to_value(&body)
        .map_err(|e| ApiError { status: 0, message: format!("cannot encode the request: {e}") })?;
    let body = (!body.is_null()).then_some(body);
    let transport = TRANSPORT.with(Rc::clone);
    let value = transport.call(R::METHOD.as_str(), route.path(), body).await?;
    serde_json::from_value(value)
        .map_err(|e| ApiError { status: 0, message: format!("unexpected answer from Switchyard: {e}") })
}

/// Follows the live usage feed (server-sent events); calls `on_event` with each finished
/// request's event, and with `None` when events were missed. Browser only; the desktop app
/// gets the same events as Tauri events.
pub fn follow_usage(on_event: impl Fn(Option<Value>) + 'static) -> Option<web_sys::EventSource> {
    use wasm_bindgen::closure::Closure;
    let source = web_sys::EventSource::new(USAGE_EVENTS).ok()?;
    let on_event = Rc::new(on_event);
    let usage = {
        let on_event = on_event.clone();
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let data = e.data().as_string().unwrap_or_default();
            if let Ok(value) = serde_json::from_str(&data) {
                on_event(Some(value));
            }
        })
    };
    let lagged = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| on_event(None));
    source.add_event_listener_with_callback("usage", usage.as_ref().unchecked_ref()).ok()?;
    source.add_event_listener_with_callback("lagged", lagged.as_ref().unchecked_ref()).ok()?;
    // The listeners live as long as the page.
    usage.forget();
    lagged.forget();
    Some(source)
}

/// Copies text to the clipboard (best effort: a page without clipboard access does nothing).
pub fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}
