//! The attempt loop's decisions, apart from its I/O: the typed entries of the attempt log
//! (`Attempt`, written into the usage record as text), what a failed try was (`Failed`), the
//! one decision function that says what comes next (`decide`), and what the client gets when
//! nothing answered (`Tally::give_up`).

use super::super::error::ApiError;
use crate::formats::translate::Format;
use crate::routing::classify::Failure;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use std::fmt;
use std::time::SystemTime;

/// One line of the attempt log.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt<'a> {
    /// The candidate cannot serve this request (the job said why).
    Skipped { provider: &'a str, model: &'a str, reason: &'a str },
    /// The account rests until its cooldown ends.
    Cooling { provider: &'a str, account: i64, model: &'a str, reason: &'a str },
    /// The account serves as many requests as it may at once.
    AtCapacity { provider: &'a str, account: i64 },
    /// A try failed.
    Failed { who: &'a Who<'a>, reason: &'a str },
    /// A login's token was refused (401) and is refreshed for one more try.
    LoginRefreshed { who: &'a Who<'a> },
}

/// The account a try went to: `provider#account model` (`-` for a provider with no account).
#[derive(Debug, Clone, PartialEq)]
pub struct Who<'a> {
    pub provider: &'a str,
    pub account: Option<i64>,
    pub model: &'a str,
}

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.account {
            Some(id) => write!(f, "{}#{} {}", self.provider, id, self.model),
            None => write!(f, "{}#- {}", self.provider, self.model),
        }
    }
}

impl fmt::Display for Attempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Skipped { provider, model, reason } => write!(f, "{provider}/{model}: skipped: {reason}"),
            Self::Cooling { provider, account, model, reason } => {
                write!(f, "{provider}#{account} {model}: cooling down ({reason})")
            }
            Self::AtCapacity { provider, account } => write!(f, "{provider}#{account}: at its concurrency cap"),
            Self::Failed { who, reason } => write!(f, "{who}: {reason}"),
            Self::LoginRefreshed { who } => write!(f, "{who}: 401, login refreshed"),
        }
    }
}

/// What a failed try was.
#[derive(Debug)]
pub enum Failed {
    /// The login's token could not be had (refresh refused, endpoint down).
    Login(ApiError),
    /// The request did not reach the provider, or its answer broke before it began.
    Unreachable(ApiError),
    /// Nothing came back within the first-byte timeout.
    FirstByteTimeout(ApiError),
    /// The provider answered an error: what it means, the client's error, and (when the
    /// client speaks the provider's API) the provider's own status and body to pass on.
    Upstream { status: StatusCode, failure: Failure, error: ApiError, raw: Option<(StatusCode, Bytes)> },
}

impl Failed {
    /// The failure as the client would get it, if it is the last.
    pub fn into_last(self) -> LastFailure {
        match self {
            Self::Login(error) | Self::Unreachable(error) | Self::FirstByteTimeout(error) => {
                LastFailure { error, raw: None }
            }
            Self::Upstream { error, raw, .. } => LastFailure { error, raw },
        }
    }
}

/// What the loop does after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Once more on the same account (a transient failure, a try left).
    RetrySameAccount,
    /// Refresh the login's token, then once more on the same account.
    RefreshLogin,
    /// The provider's next account (or the next candidate when none is left).
    NextAccount,
    /// The next candidate: this provider cannot serve the model on any account.
    NextCandidate,
    /// The client's own mistake: it gets the answer now, with no fallback.
    AnswerNow,
}

/// The one decision: what follows `failed`, given whether a try is left on this account and
/// whether its login may still be refreshed.
pub fn decide(failed: &Failed, try_left: bool, can_refresh_login: bool) -> Decision {
    match failed {
        Failed::Login(_) | Failed::FirstByteTimeout(_) => Decision::NextAccount,
        Failed::Unreachable(_) if try_left => Decision::RetrySameAccount,
        Failed::Unreachable(_) => Decision::NextAccount,
        Failed::Upstream { status: StatusCode::UNAUTHORIZED, .. } if can_refresh_login => Decision::RefreshLogin,
        Failed::Upstream { failure, .. } => match failure {
            Failure::Client => Decision::AnswerNow,
            Failure::ModelNotFound { .. } => Decision::NextCandidate,
            Failure::Transient { .. } if try_left => Decision::RetrySameAccount,
            Failure::Transient { .. } | Failure::RateLimited { .. } | Failure::Auth { .. } => Decision::NextAccount,
        },
    }
}

/// The latest failure, kept to answer with when no candidate succeeds.
#[derive(Debug)]
pub struct LastFailure {
    pub error: ApiError,
    /// Same-format upstream: its own status and body go back unchanged.
    pub raw: Option<(StatusCode, Bytes)>,
}

impl LastFailure {
    pub fn respond(self, format: Format) -> Response {
        match self.raw {
            Some((status, body)) => (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response(),
            None => self.error.render(format),
        }
    }
}

/// What the loop has seen so far, for the answer when nothing answered.
#[derive(Debug, Default)]
pub struct Tally {
    pub last: Option<LastFailure>,
    /// When the first cooling account is ready again.
    pub earliest_reset: Option<SystemTime>,
    /// An account was passed over at its concurrency cap.
    pub busy: bool,
    /// Why candidates were skipped.
    pub skipped: Vec<String>,
}

impl Tally {
    pub fn cooling_until(&mut self, until: SystemTime) {
        self.earliest_reset = Some(self.earliest_reset.map_or(until, |e| e.min(until)));
    }

    /// The client's answer when no candidate answered: 429 with `retry-after` when every
    /// account cools down (or is at its cap), the last failure as it was, 400 when no candidate
    /// could serve the request, 503 when no account could be tried.
    pub fn give_up(self, model: &str, format: Format, now: SystemTime) -> Result<Response, ApiError> {
        let Tally { last, earliest_reset, busy, skipped } = self;
        match (earliest_reset, last) {
            (Some(reset), last) if last.as_ref().is_none_or(|l| l.error.status == StatusCode::TOO_MANY_REQUESTS) => {
                let wait = reset.duration_since(now).unwrap_or_default().as_secs_f64().ceil().max(1.0) as u64;
                let why = last.map(|l| format!(" (last: {})", l.error.message)).unwrap_or_default();
                let mut error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    format!("every account that can serve '{model}' is rate-limited or out of quota; the first is ready again in {wait} s{why}"),
                )
                .code("all_cooling_down");
                error.retry_after = HeaderValue::from_str(&wait.to_string()).ok();
                Err(error)
            }
            (_, Some(last)) => Ok(last.respond(format)),
            (None, None) if busy => {
                let mut error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    format!("every account that can serve '{model}' is at its concurrency cap; try again shortly"),
                )
                .code("all_busy");
                error.retry_after = Some(HeaderValue::from_static("1"));
                Err(error)
            }
            (None, None) if !skipped.is_empty() => Err(ApiError::bad_request(format!(
                "no model that '{model}' names can serve this request: {}",
                skipped.join("; ")
            ))
            .code("no_capable_model")),
            (_, None) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                format!("no account can serve '{model}' now"),
            )
            .code("no_account")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn upstream(status: u16, failure: Failure) -> Failed {
        let status = StatusCode::from_u16(status).unwrap();
        Failed::Upstream { status, failure, error: ApiError::new(status, "upstream_error", "x"), raw: None }
    }

    fn transient() -> Failure {
        Failure::Transient { reason: "503".into() }
    }

    #[test]
    fn each_failure_leads_where_it_should() {
        let unreachable = Failed::Unreachable(ApiError::bad_request("refused"));
        assert_eq!(
            decide(&unreachable, true, false),
            Decision::RetrySameAccount,
            "a connection failure is retried once"
        );
        assert_eq!(decide(&unreachable, false, false), Decision::NextAccount);
        let timeout = Failed::FirstByteTimeout(ApiError::bad_request("slow"));
        assert_eq!(
            decide(&timeout, true, false),
            Decision::NextAccount,
            "a first-byte timeout is not waited out twice"
        );
        assert_eq!(
            decide(&upstream(503, transient()), true, false),
            Decision::RetrySameAccount,
            "a 5xx is retried once"
        );
        assert_eq!(decide(&upstream(503, transient()), false, false), Decision::NextAccount);
        let limited = Failure::RateLimited { reset: Some(Duration::from_secs(30)), reason: "429".into() };
        assert_eq!(decide(&upstream(429, limited), true, false), Decision::NextAccount, "a 429 moves on at once");
        let quota = Failure::RateLimited { reset: None, reason: "insufficient_quota".into() };
        assert_eq!(decide(&upstream(402, quota), true, false), Decision::NextAccount);
        assert_eq!(
            decide(&upstream(400, Failure::Client), true, false),
            Decision::AnswerNow,
            "a 400 comes back at once"
        );
        let missing = Failure::ModelNotFound { reason: "no such model".into() };
        assert_eq!(decide(&upstream(404, missing), true, false), Decision::NextCandidate);
        let refused = Failure::Auth { reason: "401".into() };
        assert_eq!(
            decide(&upstream(401, refused.clone()), true, true),
            Decision::RefreshLogin,
            "a login's 401: refresh"
        );
        assert_eq!(
            decide(&upstream(401, refused.clone()), true, false),
            Decision::NextAccount,
            "refreshed once already"
        );
        assert_eq!(
            decide(&upstream(403, refused), true, true),
            Decision::NextAccount,
            "a 403 is not fixed by a refresh"
        );
        assert_eq!(decide(&Failed::Login(ApiError::bad_request("no token")), true, true), Decision::NextAccount);
    }

    #[test]
    fn the_log_reads_as_before() {
        let who = Who { provider: "openai", account: Some(3), model: "gpt-5" };
        assert_eq!(Attempt::Failed { who: &who, reason: "429" }.to_string(), "openai#3 gpt-5: 429");
        assert_eq!(Attempt::LoginRefreshed { who: &who }.to_string(), "openai#3 gpt-5: 401, login refreshed");
        let keyless = Who { provider: "ollama", account: None, model: "llama" };
        assert_eq!(Attempt::Failed { who: &keyless, reason: "refused" }.to_string(), "ollama#- llama: refused");
        let skipped = Attempt::Skipped { provider: "groq", model: "m", reason: "no tools" };
        assert_eq!(skipped.to_string(), "groq/m: skipped: no tools");
        let cooling = Attempt::Cooling { provider: "p", account: 1, model: "m", reason: "429" };
        assert_eq!(cooling.to_string(), "p#1 m: cooling down (429)");
        assert_eq!(Attempt::AtCapacity { provider: "p", account: 2 }.to_string(), "p#2: at its concurrency cap");
    }

    #[test]
    fn giving_up_says_why() {
        let now = SystemTime::now();
        let cooling = Tally { earliest_reset: Some(now + Duration::from_millis(2500)), ..Default::default() };
        let e = cooling.give_up("m", Format::Openai, now).unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::TOO_MANY_REQUESTS, Some("all_cooling_down")));
        assert_eq!(e.retry_after.unwrap(), "3");
        let busy = Tally { busy: true, ..Default::default() };
        assert_eq!(busy.give_up("m", Format::Openai, now).unwrap_err().code, Some("all_busy"));
        let skipped = Tally { skipped: vec!["no tools".into()], ..Default::default() };
        assert_eq!(skipped.give_up("m", Format::Openai, now).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(Tally::default().give_up("m", Format::Openai, now).unwrap_err().code, Some("no_account"));
        let last =
            LastFailure { error: ApiError::bad_request("x"), raw: Some((StatusCode::BAD_GATEWAY, Bytes::from("{}"))) };
        let answered = Tally { last: Some(last), ..Default::default() }.give_up("m", Format::Openai, now).unwrap();
        assert_eq!(answered.status(), StatusCode::BAD_GATEWAY, "the provider's own answer passes on");
    }
}
