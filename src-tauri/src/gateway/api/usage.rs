//! /api routes for usage: the overview, totals and time series over a period, the request log,
//! and the live feed (server-sent events, one `usage` event per finished request).

use super::{ok, Reply};
use crate::gateway::error::ApiError;
use crate::gateway::AppState;
use crate::manage::UsageGroup;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::convert::Infallible;
use std::time::Duration;
use switchyard_api::routes::{GetOverview, UsageLog, UsageSeries, UsageSummary};
use tokio::sync::broadcast::error::RecvError;

pub async fn overview(State(app): State<AppState>) -> Reply<GetOverview> {
    let overview = app.manager.overview().await?;
    let endpoint = format!("http://{}", app.listen);
    let data_dir = app.manager.data_dir().display().to_string();
    ok(switchyard_api::OverviewAnswer { endpoint, data_dir, exposed: app.exposed, overview })
}

/// The period a usage view covers when none is given.
const DEFAULT_PERIOD: &str = "24h";

fn group(by: Option<&str>) -> Result<UsageGroup, ApiError> {
    by.unwrap_or("provider").parse().map_err(ApiError::bad_request)
}

pub async fn summary(State(app): State<AppState>, Query(q): Query<UsageSummary>) -> Reply<UsageSummary> {
    let since = q.since.as_deref().unwrap_or(DEFAULT_PERIOD);
    ok(app.manager.usage_summary(since, group(q.by.as_deref())?).await?)
}

pub async fn series(State(app): State<AppState>, Query(q): Query<UsageSeries>) -> Reply<UsageSeries> {
    let since = q.since.as_deref().unwrap_or(DEFAULT_PERIOD);
    let bucket = q.bucket.as_deref().unwrap_or("hour");
    ok(app.manager.usage_series(since, bucket, group(q.by.as_deref())?).await?)
}

pub async fn log(State(app): State<AppState>, Query(q): Query<UsageLog>) -> Reply<UsageLog> {
    ok(app.manager.usage_log(q.limit.unwrap_or(100)).await?)
}

/// The live feed. A listener that falls behind gets a `lagged` event saying how many it missed
/// (the dashboard then reloads its totals) instead of a silent gap.
pub async fn events(State(app): State<AppState>) -> Response {
    let receiver = app.usage.subscribe();
    let events = stream::unfold((receiver, app.stopping.clone()), |(mut receiver, mut stopping)| async move {
        loop {
            let got = tokio::select! {
                got = receiver.recv() => got,
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            let event = match got {
                Ok(record) => match Event::default().event("usage").json_data(&*record) {
                    Ok(event) => event,
                    Err(_) => continue,
                },
                Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<Event, Infallible>(event), (receiver, stopping)));
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
