//! Usage: spend, tokens or requests over time, stacked by provider, model, account, key or
//! tool (a leptos-chartistry chart); totals with latency percentiles and error counts; the
//! request log with each attempt chain. Everything reloads while requests flow.

use crate::api;
use crate::components::{count, live, load, local_time, show, usd};
use chrono::{DateTime, Local, TimeZone};
use leptos::prelude::*;
use leptos_chartistry::*;
use switchyard_api::routes::{UsageLog, UsageSeries, UsageSummary};
use switchyard_api::Outcome;
use switchyard_api::{SeriesPoint, UsageTotals};

const PERIODS: [(&str, &str, i64); 3] =
    [("24h", "hour", 3_600_000), ("7d", "hour", 3_600_000), ("30d", "day", 86_400_000)];
const GROUPS: [&str; 5] = ["provider", "model", "account", "key", "tool"];
const METRICS: [(&str, &str); 4] =
    [("cost", "Spend (USD)"), ("tokens", "Tokens"), ("requests", "Requests"), ("saved", "Tokens saved")];

/// One time bucket of the chart: its start and a value per group (same order as the legend).
#[derive(Clone, PartialEq)]
struct ChartRow {
    at: DateTime<Local>,
    values: Vec<f64>,
}

/// A group as shown: "-" is a request without one (refused before routing, no key, ...).
fn group_label(g: &str) -> String {
    if g == "-" {
        "(none)".into()
    } else {
        g.to_string()
    }
}

fn metric_of(t: &UsageTotals, metric: &str) -> f64 {
    match metric {
        "tokens" => (t.input_tokens + t.output_tokens) as f64,
        "requests" => t.requests as f64,
        "saved" => t.tokens_saved as f64,
        _ => t.cost_usd,
    }
}

/// The series as chart rows: every bucket of the period (empty ones at 0), every group.
fn chart_rows(points: &[SeriesPoint], metric: &str, period_ms: i64, bucket_ms: i64) -> (Vec<String>, Vec<ChartRow>) {
    let mut groups: Vec<String> = Vec::new();
    for p in points {
        if !groups.contains(&p.totals.group) {
            groups.push(p.totals.group.clone());
        }
    }
    let now = js_sys::Date::now() as i64;
    let first = (now - period_ms).div_euclid(bucket_ms) * bucket_ms;
    let last = now.div_euclid(bucket_ms) * bucket_ms;
    let mut rows = Vec::new();
    let mut bucket = first;
    while bucket <= last {
        let mut values = vec![0.0; groups.len()];
        for p in points.iter().filter(|p| p.bucket_ms == bucket) {
            if let Some(i) = groups.iter().position(|g| *g == p.totals.group) {
                values[i] += metric_of(&p.totals, metric);
            }
        }
        if let Some(at) = Local.timestamp_millis_opt(bucket).single() {
            rows.push(ChartRow { at, values });
        }
        bucket += bucket_ms;
    }
    (groups, rows)
}

/// Ten distinct colours that read on light and dark backgrounds (a categorical palette: the
/// library's default gradient runs from near-white, which vanishes on a light theme).
fn palette() -> ColourScheme {
    const RGB: [(u8, u8, u8); 10] = [
        (37, 99, 235),
        (234, 88, 12),
        (22, 163, 74),
        (219, 39, 119),
        (147, 51, 234),
        (202, 138, 4),
        (8, 145, 178),
        (220, 38, 38),
        (101, 163, 13),
        (100, 116, 139),
    ];
    let colours = RGB.map(|(r, g, b)| Colour::from_rgb(r, g, b));
    ColourScheme::new(colours[0], colours[1..].iter().copied())
}

#[component]
pub fn Usage() -> impl IntoView {
    let live = live();
    let period = RwSignal::new("24h".to_string());
    let by = RwSignal::new("provider".to_string());
    let metric = RwSignal::new("cost".to_string());
    let bucket_of = move |p: &str| {
        PERIODS.iter().find(|(name, _, _)| *name == p).map_or(("hour", 3_600_000), |(_, b, ms)| (*b, *ms))
    };
    let series = load(move || {
        live.usage_tick.get();
        let (bucket, _) = bucket_of(&period.get());
        let route = UsageSeries { since: Some(period.get()), bucket: Some(bucket.into()), by: Some(by.get()) };
        api::call(route, ())
    });
    let totals = load(move || {
        live.usage_tick.get();
        api::call(UsageSummary { since: Some(period.get()), by: Some(by.get()) }, ())
    });
    let log = load(move || {
        live.usage_tick.get();
        api::call(UsageLog { limit: Some(50) }, ())
    });
    let select = |id: &'static str, label: &'static str, value: RwSignal<String>, options: Vec<(String, String)>| {
        view! {
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {options.into_iter().map(|(v, name)| { let selected = v == value.get_untracked(); view! { <option value=v selected=selected>{name}</option> } }).collect_view()}
            </select>
        }
    };
    view! {
        <h1>"Usage"</h1>
        <div class="row filters">
            {select("usage-period", "Period ", period, PERIODS.iter().map(|(p, _, _)| (p.to_string(), format!("last {p}"))).collect())}
            {select("usage-by", "Stacked by ", by, GROUPS.iter().map(|g| (g.to_string(), g.to_string())).collect())}
            {select("usage-metric", "Show ", metric, METRICS.iter().map(|(m, n)| (m.to_string(), n.to_string())).collect())}
        </div>
        <section class="card chart" aria-label="Usage over time">
            {show(series, move |points| {
                let (_, bucket_ms) = bucket_of(&period.get_untracked());
                let period_ms = match period.get_untracked().as_str() { "7d" => 7 * 86_400_000, "30d" => 30 * 86_400_000, _ => 86_400_000 };
                let (groups, rows) = chart_rows(&points, &metric.get(), period_ms, bucket_ms);
                if groups.is_empty() {
                    return view! { <p class="muted" id="chart-empty">"No requests in this period yet."</p> }.into_any();
                }
                let mut stack = Stack::new().with_colours::<()>(palette());
                for (i, g) in groups.iter().enumerate() {
                    stack = stack.line(
                        Line::new(move |r: &ChartRow| r.values[i]).with_name(group_label(g)).with_interpolation(Interpolation::Linear),
                    );
                }
                let series = Series::new(|r: &ChartRow| r.at).with_min_y(0.0).stack(stack);
                view! {
                    <div id="usage-chart">
                        <Chart
                            aspect_ratio=AspectRatio::from_env_width(260.0)
                            series=series
                            data=Signal::derive(move || rows.clone())
                            left=TickLabels::aligned_floats()
                            bottom=TickLabels::timestamps()
                            top=Legend::end()
                            inner=[
                                AxisMarker::left_edge().into_inner(),
                                AxisMarker::bottom_edge().into_inner(),
                                YGridLine::default().into_inner(),
                                XGuideLine::over_data().into_inner(),
                            ]
                            tooltip=Tooltip::left_cursor()
                        />
                    </div>
                }.into_any()
            })}
        </section>
        <h2>"Totals"</h2>
        {show(totals, |list| view! {
            <table id="usage-totals">
                <thead><tr>
                    <th scope="col">"Group"</th><th scope="col">"Requests"</th><th scope="col">"Errors"</th>
                    <th scope="col">"Input"</th><th scope="col">"Output"</th><th scope="col">"Cached"</th>
                    <th scope="col">"p50"</th><th scope="col">"p95"</th><th scope="col">"Spend"</th>
                    <th scope="col" title="Tokens the token saver took out of tool outputs">"Saved"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|t| view! {
                        <tr>
                            <td>{group_label(&t.group)}</td><td>{count(t.requests)}</td><td>{count(t.errors)}</td>
                            <td>{count(t.input_tokens)}</td><td>{count(t.output_tokens)}</td><td>{count(t.cache_read_tokens)}</td>
                            <td>{t.p50_latency_ms.map_or("-".into(), |v| format!("≤ {v} ms"))}</td>
                            <td>{t.p95_latency_ms.map_or("-".into(), |v| format!("≤ {v} ms"))}</td>
                            <td>{usd(t.cost_usd)}</td>
                            <td>{count(t.tokens_saved)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        <h2>"Request log"</h2>
        {show(log, |rows| view! {
            <table id="request-log">
                <thead><tr>
                    <th scope="col">"Time"</th><th scope="col">"Tool, API"</th><th scope="col">"Model asked → served by"</th>
                    <th scope="col">"Status"</th><th scope="col">"Latency"</th>
                    <th scope="col">"Tokens in / out (saved)"</th><th scope="col">"Cost"</th><th scope="col">"Attempts"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let served = match (&r.provider, &r.model) { (Some(p), Some(m)) => format!("{p}/{m}"), _ => "-".into() };
                        view! {
                            <tr class:failed=r.outcome != Outcome::Ok>
                                <td>{local_time(r.ts_ms)}</td>
                                <td>{format!("{}, {}{}", r.tool, r.inbound, if r.stream { " stream" } else { "" })}</td>
                                <td><code>{if r.requested_model.is_empty() { "-".to_string() } else { r.requested_model.clone() }}</code>" → "<code>{served}</code></td>
                                <td>{format!("{} {}", r.status, r.outcome.as_str())}</td>
                                <td>{format!("{} ms", r.latency_ms)}</td>
                                <td title=r.usage_estimated.then_some("estimated: the provider reported no counts")>
                                    {format!("{}{} / {}", if r.usage_estimated { "≈ " } else { "" }, count(r.input_tokens), count(r.output_tokens))}
                                    {(r.tokens_saved > 0).then(|| format!(" ({} saved)", count(r.tokens_saved)))}</td>
                                <td>{usd(r.cost_usd)}</td>
                                <td class="attempts">{r.attempts.join(" → ")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
