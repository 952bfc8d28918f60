//! The PingOne client's paging against a scripted fake API on loopback:
//! `_links.next.href` followed verbatim (absolute and relative), a link to
//! another origin re-based onto `api_url` so the token never leaves the
//! configured host, loop detection, and the page cap.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pingone_sync_exporter::config::{Credentials, Environment, Region, RuleFilter, SecretSource};
use pingone_sync_exporter::exposition::Format;
use pingone_sync_exporter::http::{Request, ServeOptions, serve};
use pingone_sync_exporter::pingone::budget::Budget;
use pingone_sync_exporter::pingone::budgets::Allotment;
use pingone_sync_exporter::pingone::{ApiError, Client, ClientSettings, EnvClient};
use pingone_sync_exporter::secret::Secret;
use pingone_sync_exporter::selfmetrics::SelfMetrics;
use pingone_sync_exporter::shutdown::Shutdown;
use pingone_sync_exporter::snapshot::EnvKey;

const ENV: &str = "3f0b6a1e-0000-4000-8000-000000000001";

fn page(items: &[&str], next: Option<&str>) -> String {
    let groups: Vec<String> = items
        .iter()
        .map(|g| format!(r#"{{"group":{{"id":"{g}"}},"status":"SUCCESS"}}"#))
        .collect();
    let links = next.map_or(String::new(), |n| {
        format!(r#","_links":{{"next":{{"href":"{n}"}}}}"#)
    });
    format!(
        r#"{{"_embedded":{{"syncedGroups":[{}]}}{links}}}"#,
        groups.join(",")
    )
}

/// An answer of the fake API.
type Response = hyper::Response<http_body_util::Full<bytes::Bytes>>;

/// An answer with a status, content type and body.
fn response(status: u16, content_type: &str, body: impl Into<bytes::Bytes>) -> Response {
    hyper::Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(http_body_util::Full::new(body.into()))
        .unwrap()
}

/// The fake API. Counts the requests it served.
fn handler(
    base: String,
    hits: Arc<AtomicUsize>,
) -> impl Fn(Request) -> std::future::Ready<Response> + Clone {
    move |req: Request| {
        hits.fetch_add(1, Ordering::SeqCst);
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let authed = req
            .headers()
            .get("authorization")
            .is_some_and(|v| v == "Bearer tok-123");
        let prefix = format!("/v1/environments/{ENV}/propagation/rules/");
        let resp = if path == format!("/{ENV}/as/token") {
            response(
                200,
                "application/json",
                r#"{"access_token":"tok-123","token_type":"Bearer","expires_in":3600}"#,
            )
        } else if !authed {
            response(
                401,
                "application/json",
                r#"{"code":"ACCESS_FAILED","message":"no token"}"#,
            )
        } else if let Some(rest) = path.strip_prefix(&prefix) {
            let rule = rest.trim_end_matches("/syncedGroups");
            let cursor: u32 = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let here = format!("{base}{path}");
            let body = match (rule, cursor) {
                ("paged", 1) => page(&["g1"], Some(&format!("{here}?limit=1000&cursor=2"))),
                // A relative link, resolved against the page's URL.
                ("paged", 2) => page(&["g2"], Some("syncedGroups?limit=1000&cursor=3")),
                ("paged", _) => page(&["g3"], None),
                ("loop", 1) => page(&["a"], Some(&format!("{here}?limit=1000&cursor=2"))),
                ("loop", _) => page(&["b"], Some(&format!("{here}?limit=1000&cursor=1"))),
                ("endless", n) => {
                    page(&["x"], Some(&format!("{here}?limit=1000&cursor={}", n + 1)))
                }
                ("foreign", 1) => page(
                    &["f1"],
                    Some(&format!(
                        "http://api.elsewhere.invalid:9{path}?limit=1000&cursor=2"
                    )),
                ),
                ("foreign", _) => page(&["f2"], None),
                _ => {
                    return std::future::ready(response(
                        404,
                        "application/json",
                        r#"{"code":"NOT_FOUND"}"#,
                    ));
                }
            };
            response(200, "application/json", body)
        } else {
            response(404, "application/json", r#"{"code":"NOT_FOUND"}"#)
        };
        std::future::ready(resp)
    }
}

async fn setup() -> (EnvClient, Arc<AtomicUsize>, Shutdown, Arc<SelfMetrics>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let shutdown = Shutdown::new();
    tokio::spawn(serve(
        listener,
        ServeOptions::default(),
        shutdown.clone(),
        handler(base.clone(), Arc::clone(&hits)),
    ));
    let metrics = SelfMetrics::new("test", "test");
    let settings = ClientSettings {
        request_timeout: Duration::from_secs(5),
        page_cap: 5,
        ..ClientSettings::default()
    };
    let client = Client::new(Arc::clone(&metrics), settings).unwrap();
    let env = Environment {
        name: "fake".into(),
        id: ENV.into(),
        region: Region::Com,
        api_url: format!("{base}/v1"),
        auth_url: base,
        credentials: Credentials {
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            secret_source: SecretSource::Inline,
            worker_environment_id: ENV.into(),
        },
        rules: RuleFilter::default(),
        poll_interval: Duration::from_secs(60),
        rules_interval: Duration::from_secs(60),
        groups_interval: Duration::from_secs(60),
        user_detail: None,
        console_url: None,
        budget: "default".into(),
    };
    (
        EnvClient::new(client, &env, Allotment::new(Budget::new(1000.0, 4), 4)).unwrap(),
        hits,
        shutdown,
        metrics,
    )
}

fn ids(groups: &[pingone_sync_exporter::pingone::model::SyncedGroup]) -> Vec<String> {
    groups
        .iter()
        .map(|g| g.group.as_ref().unwrap().id.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn follows_absolute_and_relative_next_links_to_the_last_page() {
    let (c, _hits, stop, _) = setup().await;
    let (groups, skipped) = c.synced_groups("paged").await.unwrap();
    assert_eq!(ids(&groups), ["g1", "g2", "g3"]);
    assert_eq!(skipped, 0);
    stop.trigger();
}

#[tokio::test]
async fn a_next_link_pointing_back_is_a_paging_loop() {
    let (c, _hits, stop, _) = setup().await;
    let err = c.synced_groups("loop").await.unwrap_err();
    assert!(matches!(err, ApiError::PagingLoop { .. }), "{err}");
    assert_eq!(err.reason(), "paging_loop");
    stop.trigger();
}

#[tokio::test]
async fn endless_paging_stops_at_the_page_cap() {
    let (c, hits, stop, _) = setup().await;
    let before = hits.load(Ordering::SeqCst);
    let err = c.synced_groups("endless").await.unwrap_err();
    assert!(matches!(err, ApiError::PageCap { pages: 5, .. }), "{err}");
    // Token + exactly the capped number of pages.
    assert_eq!(hits.load(Ordering::SeqCst) - before, 1 + 5);
    stop.trigger();
}

#[tokio::test]
async fn a_next_link_to_another_host_is_rebased_onto_api_url() {
    let (c, hits, stop, _) = setup().await;
    let (groups, _) = c.synced_groups("foreign").await.unwrap();
    assert_eq!(
        ids(&groups),
        ["f1", "f2"],
        "the second page came from our host"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "token + two pages, all on the configured host"
    );
    stop.trigger();
}

#[tokio::test]
async fn requests_are_counted_per_endpoint_and_code() {
    let (c, _hits, stop, metrics) = setup().await;
    c.synced_groups("paged").await.unwrap();
    let err = c.synced_groups("missing").await.unwrap_err();
    assert_eq!(err.reason(), "not_found");
    let mut out = Vec::new();
    metrics.encode(Format::Text, &mut out);
    let text = String::from_utf8(out).unwrap();
    let labels = format!(r#"environment_id="{ENV}",environment_name="fake""#);
    for (endpoint, code, n) in [
        ("token", "200", 1),
        ("synced_groups", "200", 3),
        ("synced_groups", "404", 1),
    ] {
        let line = format!(
            r#"pingone_exporter_api_requests_total{{{labels},endpoint="{endpoint}",code="{code}"}} {n}"#
        );
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    // 404 is not retried.
    assert!(
        !text.contains("pingone_exporter_api_retries_total{"),
        "{text}"
    );
    assert_eq!(c.key(), &EnvKey::new(ENV, "fake"));
    stop.trigger();
}
