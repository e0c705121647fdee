//! Which requests a web page may make. A gateway on loopback serves the user's coding tools,
//! which send no `Origin`; a page open in the user's browser must not spend their accounts.
//! Three checks, on every path (/v1, /api, the dashboard), before anything is parsed:
//! - the `Host` must be one the gateway serves (loopback names and addresses, the address it
//!   listens on, the `allowed-hosts` setting): a DNS-rebound page names its own domain;
//! - a request from a page (`Origin`, or `Sec-Fetch-Site: cross-site|same-site`) must come
//!   from the gateway's own origin or one in `allowed-origins`; CORS is answered for exactly
//!   those. A top-level navigation to the dashboard is let in (it reads nothing);
//! - a page's request to a JSON endpoint must say it is JSON: the types a page can send with
//!   no preflight (`text/plain`, form encodings, none) are refused.

use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::net::IpAddr;

use crate::manage::Settings;

/// What to do with a request.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Not from a page, or from the gateway's own dashboard.
    Pass,
    /// From an allowed origin: answered with CORS headers for it.
    Cors(HeaderValue),
    /// A CORS preflight from an allowed origin: answered here.
    Preflight(HeaderValue),
    Refuse(Refusal),
}

#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// Judges a request from its head alone. `listen`: the address the gateway is bound to.
pub fn judge(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    authority: Option<&str>,
    listen: IpAddr,
    settings: &Settings,
) -> Verdict {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).or(authority);
    if let Some(host) = host {
        if !host_allowed(host, listen, &settings.allowed_hosts) {
            return Verdict::Refuse(Refusal {
                status: StatusCode::FORBIDDEN,
                code: "host_not_allowed",
                message: format!(
                    "this gateway does not answer to the host '{host}' (a web page may be trying DNS rebinding); \
                     if you reach it under this name, run `switchyard settings set allowed-hosts {}`",
                    host_name(host)
                ),
            });
        }
    }
    let origin = headers.get(header::ORIGIN);
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let from_page = origin.is_some() || fetch_site.is_some();
    if !from_page {
        return Verdict::Pass;
    }
    let json_endpoint = path.starts_with("/v1") || path.starts_with("/api/");
    let verdict = match origin.and_then(|o| o.to_str().ok()) {
        Some(o) if host.is_some_and(|h| same_origin(o, h)) => Verdict::Pass,
        Some(o) if settings.allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o)) => {
            let value = origin.cloned().unwrap_or_else(|| HeaderValue::from_static("null"));
            if method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
                return Verdict::Preflight(value);
            }
            Verdict::Cors(value)
        }
        Some(o) => return Verdict::Refuse(cross_site(Some(o))),
        // No Origin: a GET or HEAD, which browsers send without one.
        None => match fetch_site {
            Some("cross-site" | "same-site") => {
                let navigation = headers.get("sec-fetch-mode").is_some_and(|m| m == "navigate");
                if navigation && !json_endpoint && (method == Method::GET || method == Method::HEAD) {
                    Verdict::Pass
                } else {
                    return Verdict::Refuse(cross_site(None));
                }
            }
            _ => Verdict::Pass,
        },
    };
    if json_endpoint && sends_body(method) && !declares_json(headers) {
        return Verdict::Refuse(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_content_type",
            message: "a request from a web page must send its body as 'content-type: application/json'".into(),
        });
    }
    verdict
}

fn cross_site(origin: Option<&str>) -> Refusal {
    let message = match origin {
        Some(origin) => format!(
            "requests from the web page at {origin} are refused: a page must not use your accounts; \
             to let a browser-based client you trust in, run `switchyard settings set allowed-origins {origin}`"
        ),
        None => "requests from another site's web page are refused: a page must not use your accounts".into(),
    };
    Refusal { status: StatusCode::FORBIDDEN, code: "origin_not_allowed", message }
}

fn sends_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// `application/json` or a `+json` type (charset and other parameters aside); a request with
/// no body at all needs none.
fn declares_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        // No type: fine if there is no body (no length, or 0, and not chunked).
        let length = headers.get(header::CONTENT_LENGTH).is_some_and(|n| n != "0");
        return !length && !headers.contains_key(header::TRANSFER_ENCODING);
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.get(essence.len().saturating_sub(5)..).is_some_and(|s| s.eq_ignore_ascii_case("+json"))
}

/// `Host` without its port (`[::1]:20130` → `::1`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Loopback names and addresses, the listening address (any address when listening on all
/// of them: a rebound page names a domain, not an address), and the allowed names.
pub fn host_allowed(host: &str, listen: IpAddr, allowed: &[String]) -> bool {
    let name = host_name(host).trim_end_matches('.');
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip.is_loopback() || ip == listen || listen.is_unspecified();
    }
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    allowed.iter().any(|a| match a.strip_prefix('.') {
        _ if a == "*" => true,
        Some(domain) => {
            name.eq_ignore_ascii_case(domain)
                || name.len() > domain.len()
                    && name[name.len() - domain.len()..].eq_ignore_ascii_case(domain)
                    && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
        }
        None => name.eq_ignore_ascii_case(a),
    })
}

/// The page was served by this gateway under the name the request uses.
fn same_origin(origin: &str, host: &str) -> bool {
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// The headers of a preflight's answer for an allowed origin: every method and the headers
/// asked for, cached ten minutes; loopback reachable from a public page (Private Network
/// Access) when asked.
pub fn preflight_headers(origin: HeaderValue, request: &HeaderMap, answer: &mut HeaderMap) {
    cors_headers(origin, answer);
    answer.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"));
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    answer.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    if request.get("access-control-request-private-network").is_some_and(|v| v == "true") {
        answer.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
    }
}

/// The headers that let an allowed origin's page read the answer (rate-limit headers too).
pub fn cors_headers(origin: HeaderValue, answer: &mut HeaderMap) {
    answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    answer.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("*"));
    answer.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(hosts: &[&str], origins: &[&str]) -> Settings {
        Settings {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    fn request(method: Method, pairs: &[(&'static str, &str)]) -> (Method, HeaderMap) {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(*k, HeaderValue::from_str(v).unwrap());
        }
        (method, headers)
    }

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn verdict(method: Method, path: &str, pairs: &[(&'static str, &str)], s: &Settings) -> Verdict {
        let (m, h) = request(method, pairs);
        judge(&m, path, &h, None, LOOPBACK, s)
    }

    fn refused(v: &Verdict) -> Option<&'static str> {
        match v {
            Verdict::Refuse(r) => Some(r.code),
            _ => None,
        }
    }

    #[test]
    fn tools_and_sdks_pass() {
        let s = settings(&[], &[]);
        for host in ["127.0.0.1:20130", "localhost:20130", "[::1]:20130", "LOCALHOST", "127.0.0.2"] {
            let v =
                verdict(Method::POST, "/v1/chat/completions", &[("host", host), ("content-type", "text/plain")], &s);
            assert_eq!(v, Verdict::Pass, "{host}");
        }
        // Node's fetch (undici) sends sec-fetch-mode but no Origin or Sec-Fetch-Site.
        let v = verdict(Method::POST, "/v1/messages", &[("host", "localhost"), ("sec-fetch-mode", "cors")], &s);
        assert_eq!(v, Verdict::Pass);
        assert_eq!(verdict(Method::GET, "/health", &[], &s), Verdict::Pass, "HTTP/1.0, no Host");
    }

    #[test]
    fn other_host_names_are_refused_unless_allowed() {
        let none = settings(&[], &[]);
        let v = verdict(Method::POST, "/v1/chat/completions", &[("host", "evil.example:1234")], &none);
        assert_eq!(refused(&v), Some("host_not_allowed"));
        assert_eq!(refused(&verdict(Method::GET, "/", &[("host", "evil.example")], &none)), Some("host_not_allowed"));
        assert_eq!(
            refused(&verdict(Method::GET, "/api/overview", &[("host", "10.0.0.5")], &none)),
            Some("host_not_allowed")
        );
        let allowed = settings(&["gw.example.com", ".corp.example"], &[]);
        for host in ["gw.example.com:443", "a.corp.example", "corp.example", "GW.EXAMPLE.COM."] {
            assert_eq!(verdict(Method::GET, "/v1/models", &[("host", host)], &allowed), Verdict::Pass, "{host}");
        }
        for host in ["evilcorp.example", "example.com", "gw.example.com.evil"] {
            assert!(refused(&verdict(Method::GET, "/v1/models", &[("host", host)], &allowed)).is_some(), "{host}");
        }
        assert_eq!(verdict(Method::GET, "/", &[("host", "anything")], &settings(&["*"], &[])), Verdict::Pass);
    }

    #[test]
    fn listening_on_every_address_answers_any_address() {
        let s = settings(&[], &[]);
        let (m, h) = request(Method::GET, &[("host", "192.168.1.20:20130")]);
        let any = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        assert_eq!(judge(&m, "/v1/models", &h, None, any, &s), Verdict::Pass);
        let (m, h) = request(Method::GET, &[("host", "myhost:20130")]);
        assert!(refused(&judge(&m, "/v1/models", &h, None, any, &s)).is_some(), "names still need allowed-hosts");
        let (m, h) = request(Method::GET, &[]);
        assert!(refused(&judge(&m, "/", &h, Some("evil.example"), LOOPBACK, &s)).is_some(), "HTTP/2 :authority");
    }

    #[test]
    fn pages_of_other_origins_are_refused() {
        let s = settings(&[], &[]);
        let host = ("host", "127.0.0.1:20130");
        let evil = ("origin", "https://evil.example");
        let plain = ("content-type", "text/plain");
        assert_eq!(
            refused(&verdict(Method::POST, "/v1/chat/completions", &[host, evil, plain], &s)),
            Some("origin_not_allowed")
        );
        assert_eq!(
            refused(&verdict(Method::POST, "/api/keys", &[host, ("origin", "null")], &s)),
            Some("origin_not_allowed")
        );
        let other_port = ("origin", "http://127.0.0.1:3000");
        assert!(refused(&verdict(Method::GET, "/v1/models", &[host, other_port], &s)).is_some());
        // A no-cors GET (script, image) carries no Origin, only Sec-Fetch-Site.
        let img = [host, ("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "no-cors")];
        assert!(refused(&verdict(Method::GET, "/v1/models", &img, &s)).is_some());
        let same_site = [host, ("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")];
        assert!(refused(&verdict(Method::GET, "/api/usage/log", &same_site, &s)).is_some());
        // A link to the dashboard from another site opens it.
        let link = [host, ("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "navigate")];
        assert_eq!(verdict(Method::GET, "/", &link, &s), Verdict::Pass);
        assert!(refused(&verdict(Method::GET, "/v1/models", &link, &s)).is_some());
    }

    #[test]
    fn the_dashboard_itself_passes_and_must_send_json() {
        let s = settings(&[], &[]);
        let own =
            [("host", "localhost:20130"), ("origin", "http://localhost:20130"), ("sec-fetch-site", "same-origin")];
        let json = [own.as_slice(), &[("content-type", "application/json; charset=utf-8")]].concat();
        assert_eq!(verdict(Method::POST, "/api/keys", &json, &s), Verdict::Pass);
        let bodiless = [own.as_slice(), &[("content-length", "0")]].concat();
        assert_eq!(verdict(Method::POST, "/api/session/logout", &bodiless, &s), Verdict::Pass);
        assert_eq!(verdict(Method::DELETE, "/api/keys/1", &own, &s), Verdict::Pass, "no body, no length");
        for simple in
            ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
        {
            let sent = [own.as_slice(), &[("content-type", simple)]].concat();
            assert_eq!(
                refused(&verdict(Method::POST, "/api/keys", &sent, &s)),
                Some("unsupported_content_type"),
                "{simple}"
            );
        }
        let blob = [own.as_slice(), &[("content-length", "12")]].concat();
        assert!(refused(&verdict(Method::POST, "/v1/chat/completions", &blob, &s)).is_some(), "no type, a body");
        assert_eq!(verdict(Method::GET, "/api/overview", &own, &s), Verdict::Pass);
    }

    #[test]
    fn allowed_origins_get_cors() {
        let s = settings(&[], &["https://app.example"]);
        let host = ("host", "127.0.0.1:20130");
        let origin = ("origin", "https://app.example");
        let v =
            verdict(Method::POST, "/v1/chat/completions", &[host, origin, ("content-type", "application/json")], &s);
        assert_eq!(v, Verdict::Cors(HeaderValue::from_static("https://app.example")));
        let v = verdict(Method::POST, "/v1/chat/completions", &[host, origin, ("content-type", "text/plain")], &s);
        assert_eq!(refused(&v), Some("unsupported_content_type"));
        let pre = [host, origin, ("access-control-request-method", "POST")];
        assert_eq!(
            verdict(Method::OPTIONS, "/v1/chat/completions", &pre, &s),
            Verdict::Preflight(HeaderValue::from_static("https://app.example"))
        );
        let pre = [host, ("origin", "https://evil.example"), ("access-control-request-method", "POST")];
        assert!(refused(&verdict(Method::OPTIONS, "/v1/chat/completions", &pre, &s)).is_some());
    }
}
