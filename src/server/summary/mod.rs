//! The status page for people without PingOne admin rights, and its JSON:
//!
//! | path | answer |
//! |---|---|
//! | `/` | the sync summary: one table per environment, failing rules first ([`page`]) |
//! | `/rules/{environment id}/{rule id}` | one rule: every number with its metric, links out ([`rule`]) |
//! | `/api/v1/status` | the same data as JSON, the `status --output json` document ([`json`]) |
//!
//! Every answer is built on request from the environments' last snapshots
//! ([`view`]); nothing here calls PingOne. At 10,000 rules a page is some
//! megabytes of HTML, so renders run one at a time on the blocking pool
//! ([`offload`]): a scrape of `/metrics` never waits behind one on an async
//! worker, and pages use at most one core. The pages need no JavaScript,
//! refresh themselves at the shortest poll interval and HTML-escape every
//! value. They sit behind the same web-config guard as every other path.

mod html;
mod json;
mod page;
mod rule;
mod settings;
mod view;

pub use settings::{EnvPage, PageSettings, RULE_DASHBOARD_UID, grafana_base};
pub use view::{Cell, event_counts, failure_reason};

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};

use super::{Response, Web, text};
use crate::http::Chunks;
use crate::timefmt::now_unix;

fn answer(content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut r = hyper::Response::new(Chunks::new(vec![body.into()]).into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

const HTML: &str = "text/html; charset=utf-8";

/// Runs `render` on the blocking pool, one render at a time per server.
pub async fn offload(web: Arc<Web>, render: fn(&Web) -> Response) -> Response {
    let page = Arc::clone(&web.page);
    let Ok(_permit) = page.renders.acquire().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    };
    match tokio::task::spawn_blocking(move || render(&web)).await {
        Ok(r) => r,
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered\n",
        ),
    }
}

/// `/`: the sync summary.
pub fn summary(web: &Web) -> Response {
    let envs = web.shared.envs();
    let views = view::environments(&envs, &web.page);
    answer(HTML, page::render(web, &views, now_unix()))
}

/// `/api/v1/status`: the JSON document.
pub fn status_json(web: &Web) -> Response {
    let envs = web.shared.envs();
    let views = view::environments(&envs, &web.page);
    let doc = json::render(&views, now_unix());
    let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_else(|_| b"{}".to_vec());
    body.push(b'\n');
    answer("application/json", body)
}

/// `/rules/...`: `rest` is the path after `/rules/`; 404 unless it is
/// `{environment id}/{rule id}` of a rule in the last snapshot.
pub fn rule_page(web: &Web, rest: &str) -> Response {
    let ids = rest.split_once('/').and_then(|(e, r)| {
        let ok = !e.is_empty() && !r.is_empty() && !r.contains('/');
        ok.then(|| Some((html::decode_segment(e)?, html::decode_segment(r)?)))
            .flatten()
    });
    let Some((env_id, rule_id)) = ids else {
        return text(
            StatusCode::NOT_FOUND,
            "not found; a rule's page is /rules/{environment id}/{rule id}\n",
        );
    };
    let envs = web.shared.envs();
    let Some(state) = envs.iter().find(|e| *e.key.id == *env_id) else {
        return text(StatusCode::NOT_FOUND, "no such environment\n");
    };
    let env = view::EnvView::new(state, &web.page);
    let Some(row) = env.rows.iter().find(|r| r.rule.id == rule_id) else {
        return text(
            StatusCode::NOT_FOUND,
            "no such rule in the environment's last snapshot\n",
        );
    };
    answer(HTML, rule::render(web, &env, row, now_unix()))
}
