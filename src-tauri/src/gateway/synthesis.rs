//! Synthesis combos (`combo set NAME --strategy synthesize --judge J M1 M2 …`): the request
//! goes to every member at once; when all have answered, or the combo's deadline has passed
//! with at least one answer in, the judge model gets the conversation plus the candidate
//! answers and writes the final answer, which is what the client receives (the judge's stream
//! when the client asked for one). Members that fail or miss the deadline are left out; when
//! every member fails the client gets the last failure as usual. Each member's call is a usage
//! record of its own; those and the judge's (the request's own record) share a group id.

use super::attempts::{self, MAX_UPSTREAM_BODY};
use super::chat::ChatJob;
use super::error::ApiError;
use super::inbound::{recorded, Inbound};
use super::AppState;
use crate::formats::ir::{Message, Part, Request, Response as Answer, Role};
use crate::formats::translate::{self, Format};
use crate::providers::capabilities;
use crate::routing::{self, ComboStrategy};
use crate::snapshot::{ComboRuntime, ConfigSnapshot};
use crate::usage::{Draft, UsageTap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use http::{HeaderMap, StatusCode};
use tokio::sync::watch;
use tokio::time::Instant;

/// The synthesis combo `model` names, directly or through an alias.
pub fn combo_for<'a>(config: &'a ConfigSnapshot, model: &str) -> Option<&'a ComboRuntime> {
    let name = config.aliases.get(model).map_or(model, String::as_str);
    config.combos.get(name).filter(|c| c.strategy == ComboStrategy::Synthesize && c.judge.is_some())
}

/// Why a member has no answer for the judge.
struct LeftOut {
    /// The member's error answer, in the client's format (returned when every member fails).
    answer: Option<(StatusCode, Bytes)>,
    why: String,
}

/// What every member call of one request shares.
struct Members<'a> {
    app: &'a AppState,
    inbound: &'a Inbound,
    headers: &'a HeaderMap,
    request: &'a Request,
    key_id: Option<i64>,
    group: i64,
    deadline_secs: u64,
}

impl Members<'_> {
    fn left_out_at_deadline(&self) -> ApiError {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_error",
            format!("left out of the synthesis: no answer within the combo's deadline of {} s", self.deadline_secs),
        )
        .code("synthesis_deadline")
    }

    /// One member's answer, non-streaming, through the usual routing and attempt loop; its
    /// usage record is written as for any request. `cancel` turns true at the deadline.
    async fn answer(&self, member: &str, cancel: watch::Receiver<bool>) -> Result<Answer, LeftOut> {
        let format = self.inbound.format;
        let mut one = self.request.clone();
        one.model = member.to_string();
        one.stream = false;
        one.stream_usage = false;
        let body = Bytes::from(translate::encode_request(format, &one).to_string());
        let inbound = Inbound {
            format,
            path_model: (format == Format::Gemini).then(|| member.to_string()),
            path_stream: false,
            gemini_sse: false,
            internal: true,
        };
        let mut cancelled = cancel.clone();
        let work = async |draft: &mut Draft, _: &mut Option<tokio::task::JoinHandle<u64>>| {
            draft.key_id = self.key_id;
            draft.group_id = Some(self.group);
            draft.part = Some("member");
            draft.requested_model = member.to_string();
            let config = self.app.live.get();
            let candidates = routing::plan(&config, &self.app.routing, member)?;
            let mut job = ChatJob::new(self.app, &inbound, self.headers, &body, None, member, false);
            tokio::select! {
                done = attempts::run(self.app, &mut job, member, &candidates, draft) => done,
                _ = cancelled.wait_for(|c| *c) => Err(self.left_out_at_deadline()),
            }
        };
        let tool = super::inbound::tool_of(self.headers);
        let response = recorded(self.app.clone(), format, format.as_str(), tool, work).await;
        let status = response.status();
        let mut cancelled = cancel;
        let bytes = tokio::select! {
            read = axum::body::to_bytes(response.into_body(), MAX_UPSTREAM_BODY) => read.map_err(|e| LeftOut {
                answer: None,
                why: format!("its answer could not be read: {e}"),
            })?,
            _ = cancelled.wait_for(|c| *c) => {
                return Err(LeftOut { answer: None, why: self.left_out_at_deadline().message })
            }
        };
        if !status.is_success() {
            let why = format!("failed ({}): {}", status.as_u16(), translate::upstream_error_message(&bytes));
            return Err(LeftOut { answer: Some((status, bytes)), why });
        }
        translate::decode_response(format, &bytes)
            .map_err(|e| LeftOut { answer: None, why: format!("its answer could not be read: {e}") })
    }
}

/// Serves `body` (already past the key check and the token saver) with the synthesis combo
/// `combo_name`. `draft` is the request's own record: the judge's.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    app: &AppState,
    inbound: &Inbound,
    headers: &HeaderMap,
    body: &Bytes,
    combo_name: &str,
    stream: bool,
    combo: &ComboRuntime,
    draft: &mut Draft,
) -> Result<(Response, Option<UsageTap>), ApiError> {
    if capabilities::needs_of(body).tools {
        return Err(ApiError::bad_request(format!(
            "'{combo_name}' is a synthesis combo, which takes no requests that define tools: a tool-use conversation needs one model to own the loop (use a single model or a fallback combo)"
        ))
        .code("synthesis_with_tools"));
    }
    let request = translate::decode_request(inbound.format, body, combo_name, stream)?;
    let group = (draft.ts_ms << 20) | i64::from(rand::random::<u16>());
    draft.group_id = Some(group);
    draft.part = Some("judge");
    let members = Members {
        app,
        inbound,
        headers,
        request: &request,
        key_id: draft.key_id,
        group,
        deadline_secs: combo.deadline.as_secs(),
    };
    let (cancel, cancelled) = watch::channel(false);
    let mut pending: FuturesUnordered<_> = combo
        .members
        .iter()
        .map(|m| {
            let cancelled = cancelled.clone();
            let members = &members;
            async move { (m.as_str(), members.answer(m, cancelled).await) }
        })
        .collect();
    let deadline = Instant::now() + combo.deadline;
    let mut answers: Vec<(&str, Answer)> = Vec::new();
    let mut last_failure = None;
    loop {
        let next = match tokio::time::timeout_at(deadline, pending.next()).await {
            Ok(next) => next,
            // Past the deadline with no answer yet: the first that comes.
            Err(_) if answers.is_empty() => pending.next().await,
            Err(_) => break,
        };
        match next {
            None => break,
            Some((member, Ok(answer))) => {
                draft.attempts.push(format!("member {member}: answered"));
                answers.push((member, answer));
            }
            Some((member, Err(left_out))) => {
                draft.attempts.push(format!("member {member}: {}", left_out.why));
                last_failure = left_out.answer.or(last_failure);
            }
        }
        if !answers.is_empty() && Instant::now() >= deadline {
            break;
        }
    }
    // The members still running are cut off; each still gets its record.
    let _ = cancel.send(true);
    while let Some((member, outcome)) = pending.next().await {
        let why = outcome.err().map_or_else(|| "answered after the deadline".to_string(), |l| l.why);
        draft.attempts.push(format!("member {member}: {why}"));
    }
    if answers.is_empty() {
        return match last_failure {
            Some((status, bytes)) => {
                let response = (status, [(http::header::CONTENT_TYPE, "application/json")], bytes).into_response();
                Ok((response, None))
            }
            None => Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("no member of '{combo_name}' answered: {}", draft.attempts.join("; ")),
            )),
        };
    }
    let judge = combo.judge.as_deref().unwrap_or_default();
    let judged = judge_request(&request, judge, stream, &answers);
    let judge_body = Bytes::from(translate::encode_request(inbound.format, &judged).to_string());
    let judge_inbound = Inbound {
        format: inbound.format,
        path_model: (inbound.format == Format::Gemini).then(|| judge.to_string()),
        path_stream: stream,
        gemini_sse: inbound.gemini_sse,
        internal: true,
    };
    let config = app.live.get();
    let candidates = routing::plan(&config, &app.routing, judge)?;
    let mut job = ChatJob::new(app, &judge_inbound, headers, &judge_body, None, combo_name, stream);
    attempts::run(app, &mut job, judge, &candidates, draft).await
}

/// What an answer says, as text for the judge: its text, and its tool calls written out.
fn answer_text(answer: &Answer) -> String {
    let mut out = Vec::new();
    for part in &answer.parts {
        match part {
            Part::Text(text) => out.push(text.clone()),
            Part::ToolCall { name, arguments, .. } => out.push(format!("[calls the tool {name} with {arguments}]")),
            _ => {}
        }
    }
    out.join("\n")
}

/// The judge's request: the conversation, with the candidates and the instruction added to
/// the user's last turn.
fn judge_request(request: &Request, judge: &str, stream: bool, answers: &[(&str, Answer)]) -> Request {
    let mut judged = request.clone();
    judged.model = judge.to_string();
    judged.stream = stream;
    judged.tools.clear();
    judged.tool_choice = None;
    judged.parallel_tool_calls = None;
    let mut text = format!(
        "{} candidate answers to the conversation above follow, each from another model. Write the single best \
         final answer to the user's last message: keep what is correct and useful in them, fix what is wrong, and \
         answer the user directly, without mentioning the candidates.\n",
        answers.len()
    );
    for (i, (member, answer)) in answers.iter().enumerate() {
        text.push_str(&format!("\n<candidate {} from=\"{member}\">\n{}\n</candidate>\n", i + 1, answer_text(answer)));
    }
    match judged.messages.last_mut() {
        Some(last) if last.role == Role::User => last.parts.push(Part::Text(text)),
        _ => judged.messages.push(Message { role: Role::User, parts: vec![Part::Text(text)] }),
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_judge_sees_the_conversation_and_every_candidate_with_tool_calls_as_text() {
        let request = Request {
            model: "trio".into(),
            system: vec!["be brief".into()],
            messages: vec![Message { role: Role::User, parts: vec![Part::Text("what is 2+2?".into())] }],
            ..Default::default()
        };
        let a = Answer { parts: vec![Part::Text("4".into())], ..Default::default() };
        let b = Answer {
            parts: vec![Part::ToolCall { id: "c1".into(), name: "calc".into(), arguments: "{\"x\":\"2+2\"}".into() }],
            ..Default::default()
        };
        let judged = judge_request(&request, "p/judge", true, &[("p/a", a), ("p/b", b)]);
        assert_eq!((judged.model.as_str(), judged.stream), ("p/judge", true));
        assert_eq!(judged.system, vec!["be brief"]);
        assert_eq!(judged.messages.len(), 1, "the candidates join the user's last turn");
        let Part::Text(added) = &judged.messages[0].parts[1] else { panic!("{judged:?}") };
        assert!(added.contains("<candidate 1 from=\"p/a\">\n4\n</candidate>"), "{added}");
        assert!(added.contains("[calls the tool calc with {\"x\":\"2+2\"}]"), "{added}");
    }
}
