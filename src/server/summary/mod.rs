//! The status page for people without PingOne admin rights, and its JSON:
//!
//! | path | answer |
//! |---|---|
//! | `/` | the sync summary: one table per environment, failing rules first ([`page`]) |
//! | `/environments/{environment id}` | one environment's table (what `/` shows of it; above [`page::FULL_PAGE_RULES`] rules in all, `/` lists only the environments) |
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
pub async fn offload(
    web: Arc<Web>,
    render: impl FnOnce(&Web) -> Response + Send + 'static,
) -> Response {
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

/// `/environments/...`: `rest` is the path after `/environments/`; 404
/// unless it is the id of a configured environment.
pub fn environment_page(web: &Web, rest: &str) -> Response {
    let id = (!rest.is_empty() && !rest.contains('/'))
        .then(|| html::decode_segment(rest))
        .flatten();
    let envs = web.shared.envs();
    let Some(state) = id.and_then(|id| envs.iter().find(|e| *e.key.id == *id)) else {
        return text(
            StatusCode::NOT_FOUND,
            "not found; an environment's page is /environments/{environment id}\n",
        );
    };
    let env = view::EnvView::new(state, &web.page);
    answer(HTML, page::render_environment(web, &env, now_unix()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::web;

    fn summary_of(web: &Web) -> String {
        let envs = web.shared.envs();
        page::render(web, &view::environments(&envs, &web.page), 1060.0)
    }

    #[test]
    fn many_rules_make_the_summary_list_environments() {
        let small = web(3);
        let page = summary_of(&small);
        assert_eq!(page.matches("<tr class=\"rule attention\"").count(), 6);
        assert!(!page.contains("class=\"environments\""));

        let large = web(page::FULL_PAGE_RULES / 2 + 1);
        let page = summary_of(&large);
        assert!(!page.contains("<tr class=\"rule"), "no rule rows");
        assert_eq!(
            page.matches("<tr class=\"environment attention\"").count(),
            2
        );
        assert!(page.contains("<a href=\"/environments/e1\">one</a>"));
        assert!(page.len() < 20_000, "{} bytes", page.len());
        let envs = large.shared.envs();
        let one = view::EnvView::new(&envs[0], &large.page);
        let env_page = page::render_environment(&large, &one, 1060.0);
        assert_eq!(
            env_page.matches("<tr class=\"rule").count(),
            page::FULL_PAGE_RULES / 2 + 1
        );
    }
}
