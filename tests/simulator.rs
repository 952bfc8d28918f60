//! The PingOne tenant simulator over real HTTP: auth, the documented
//! endpoints, paging, ground truth consistency, determinism and the
//! `/_sim` control endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use pingone_sync_exporter::shutdown::Shutdown;
use pingone_sync_exporter::simulator::{
    self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Running, STORE_SECRET_PREFIX, Scenario,
};
use serde_json::Value;

const ENV_A: &str = "5a11a000-0000-4000-8000-00000000000a";
const ENV_B: &str = "5a11b000-0000-4000-8000-00000000000b";

fn fixture(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Sim {
    running: Running,
    shutdown: Shutdown,
    http: reqwest::Client,
}

impl Sim {
    async fn start(scenario: Scenario) -> Sim {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shutdown = Shutdown::new();
        let running = simulator::start(scenario, "127.0.0.1:0".parse().unwrap(), shutdown.clone())
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Sim {
            running,
            shutdown,
            http,
        }
    }

    async fn small() -> Sim {
        Sim::start(fixture("small.yml")).await
    }

    async fn token_for(&self, env: &str, id: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/{env}/as/token", self.running.auth_url()))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("grant_type", "client_credentials")]))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self) -> String {
        let r = self
            .token_for(ENV_A, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
            .await;
        assert_eq!(r.status(), 200);
        body_json(r).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn get_url(&self, url: &str, token: &str) -> (u16, Value) {
        let r = self.http.get(url).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, body_json(r).await)
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.get_url(&format!("{}{path}", self.running.api_url()), token)
            .await
    }

    async fn control(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        let url = format!("{}/_sim/{path}", self.running.base_url());
        let r = self.http.request(method, url).send().await.unwrap();
        let status = r.status().as_u16();
        (status, body_json(r).await)
    }

    async fn truth(&self) -> Value {
        self.control(reqwest::Method::GET, "truth").await.1
    }

    async fn advance(&self, ticks: u64) {
        let (s, _) = self
            .control(reqwest::Method::POST, &format!("advance?ticks={ticks}"))
            .await;
        assert_eq!(s, 200);
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.running.join().await;
    }
}

/// The JSON body of a response (`Null` when it is not JSON).
async fn body_json(r: reqwest::Response) -> Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null)
}

/// An `application/x-www-form-urlencoded` body (values here need no escaping).
fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn env<'a>(truth: &'a Value, id: &str) -> &'a Value {
    truth["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
}

fn truth_rule<'a>(truth: &'a Value, env_id: &str, name: &str) -> &'a Value {
    env(truth, env_id)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap()
}

fn embedded<'a>(body: &'a Value, name: &str) -> &'a Vec<Value> {
    body["_embedded"][name]
        .as_array()
        .unwrap_or_else(|| panic!("_embedded.{name} in {body}"))
}

#[tokio::test]
async fn token_endpoint_success_and_errors() {
    let sim = Sim::small().await;
    let r = sim
        .token_for(ENV_A, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = body_json(r).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().len() >= 32);

    let r = sim.token_for(ENV_A, DEMO_CLIENT_ID, "wrong").await;
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await["error"], "invalid_client");
    // The worker environment of every client is the first environment.
    assert_eq!(
        sim.token_for(ENV_B, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
            .await
            .status(),
        401
    );

    let url = format!("{}/{ENV_A}/as/token", sim.running.auth_url());
    let r = sim
        .http
        .post(&url)
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("grant_type", "password")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(body_json(r).await["error"], "unsupported_grant_type");
    // CLIENT_SECRET_POST.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
    ];
    assert_eq!(
        sim.http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sim.http.get(&url).send().await.unwrap().status(), 405);
    sim.stop().await;
}

#[tokio::test]
async fn api_needs_a_valid_unexpired_token_and_access() {
    let mut scenario = fixture("small.yml");
    scenario.token_lifetime = Duration::from_secs(1);
    let sim = Sim::start(scenario).await;
    let url = format!(
        "{}/environments/{ENV_A}/propagation/rules",
        sim.running.api_url()
    );
    let r = sim.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = body_json(r).await;
    assert_eq!(body["code"], "ACCESS_FAILED");
    assert!(body["id"].is_string() && body["message"].is_string() && body["details"].is_array());
    assert_eq!(
        sim.get(&format!("/environments/{ENV_A}/propagation/rules"), "bogus")
            .await
            .0,
        401
    );

    // A token is good for its 1 s lifetime. Only an answer that came back
    // within that second proves it: on a loaded machine the round trip may
    // take longer, and then the check is made again with a new token.
    let mut fresh = None;
    for _ in 0..60 {
        let issued = std::time::Instant::now();
        let token = sim.token().await;
        let (status, _) = sim
            .get(&format!("/environments/{ENV_A}/propagation/rules"), &token)
            .await;
        if issued.elapsed() < Duration::from_secs(1) {
            assert_eq!(status, 200, "an unexpired token was refused");
            fresh = Some(token);
            break;
        }
    }
    let token = fresh.expect("no token round trip within 1 s in 60 tries");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = sim
        .get(&format!("/environments/{ENV_A}/propagation/rules"), &token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ACCESS_FAILED"))
    );

    let r = sim
        .token_for(ENV_A, "limited-client", "limited-secret")
        .await;
    let limited = body_json(r).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sim.get(
            &format!("/environments/{ENV_A}/propagation/stores"),
            &limited
        )
        .await
        .0,
        200
    );
    let (status, body) = sim
        .get(
            &format!("/environments/{ENV_B}/propagation/stores"),
            &limited,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "ACCESS_FAILED");
    assert_eq!(body["details"][0]["code"], "INSUFFICIENT_PERMISSIONS");
    sim.stop().await;
}

#[tokio::test]
async fn not_found_and_wrong_method() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    for path in [
        "/environments/nope/propagation/rules".to_owned(),
        format!("/environments/{ENV_A}/propagation/rules/nope"),
        format!("/environments/{ENV_A}/propagation/stores/nope"),
        format!("/environments/{ENV_A}/propagation/rules/nope/syncedGroups"),
        format!("/environments/{ENV_A}/propagation/mappings"),
    ] {
        let (status, body) = sim.get(&path, &t).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
    let url = format!(
        "{}/environments/{ENV_A}/propagation/rules",
        sim.running.api_url()
    );
    let r = sim.http.delete(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let (status, body) = sim
        .get(&format!("/environments/{ENV_A}/users?limit=5000"), &t)
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_DATA")));
    sim.stop().await;
}

#[tokio::test]
async fn plans_stores_rules_and_revision_shapes() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    let (s, plans) = sim
        .get(&format!("/environments/{ENV_A}/propagation/plans"), &t)
        .await;
    assert_eq!(s, 200);
    let plan = &embedded(&plans, "plans")[0];
    assert_eq!(plan["status"], "ACTIVE");
    assert_eq!(plan["environment"]["id"], ENV_A);

    let (_, stores) = sim
        .get(&format!("/environments/{ENV_A}/propagation/stores"), &t)
        .await;
    let stores = embedded(&stores, "stores");
    assert_eq!(stores.len(), 6);
    let by_name: HashMap<&str, &Value> = stores
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s))
        .collect();
    assert!(by_name["PingOne Directory"].get("syncStatus").is_none());
    assert!(
        by_name["Unused Slack"].get("syncStatus").is_none(),
        "no sync yet: no syncStatus"
    );
    let scim = by_name["SCIM app"];
    assert_eq!(scim["type"], "scim");
    assert!(
        scim["configuration"]["BASIC_AUTH_PASSWORD"]
            .as_str()
            .unwrap()
            .starts_with(STORE_SECRET_PREFIX)
    );
    let st = &scim["syncStatus"];
    for f in [
        "syncState",
        "lastSyncAt",
        "successCount",
        "failedCount",
        "failedDeprovisionCount",
        "userTotal",
        "details",
    ] {
        assert!(st.get(f).is_some(), "syncStatus.{f}");
    }
    assert_eq!(st["userTotal"], 30);
    let (s, one) = sim
        .get(
            &format!(
                "/environments/{ENV_A}/propagation/stores/{}",
                scim["id"].as_str().unwrap()
            ),
            &t,
        )
        .await;
    assert_eq!((s, &one), (200, scim));

    let (_, rules) = sim
        .get(&format!("/environments/{ENV_A}/propagation/rules"), &t)
        .await;
    let rules = embedded(&rules, "rules");
    assert_eq!(rules.len(), 4);
    let rule = |n: &str| rules.iter().find(|r| r["name"] == n).unwrap();
    let wb = rule("Workday write-back");
    assert_eq!(wb["parentRule"]["id"], rule("Workday inbound")["id"]);
    assert_eq!(wb["targetStore"]["id"], by_name["Workday HR"]["id"]);
    assert_eq!(wb["sourceStore"]["id"], by_name["PingOne Directory"]["id"]);
    assert_eq!(rule("LDAP inbound")["active"], false);
    for f in [
        "id",
        "name",
        "description",
        "active",
        "populationExpression",
        "createdAt",
        "_links",
    ] {
        assert!(rule("SCIM outbound").get(f).is_some(), "rule.{f}");
    }
    assert_eq!(rule("SCIM outbound")["plan"]["id"], plan["id"]);
    assert!(rule("SCIM outbound").get("parentRule").is_none());
    let id = rule("SCIM outbound")["id"].as_str().unwrap();
    let (s, one) = sim
        .get(&format!("/environments/{ENV_A}/propagation/rules/{id}"), &t)
        .await;
    assert_eq!((s, &one), (200, rule("SCIM outbound")));

    for latest in ["id:latest", "id%3Alatest"] {
        let (s, rev) = sim
            .get(
                &format!("/environments/{ENV_A}/propagation/revisions/{latest}"),
                &t,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(rev["id"], env(&sim.truth().await, ENV_A)["revision"]["id"]);
        assert!(rev["createdAt"].as_str().unwrap().ends_with('Z'));
    }
    sim.stop().await;
}

#[tokio::test]
async fn api_counts_equal_ground_truth() {
    let sim = Sim::small().await;
    sim.advance(4).await;
    let t = sim.token().await;
    let truth = sim.truth().await;
    for env_id in [ENV_A, ENV_B] {
        let (_, stores) = sim
            .get(&format!("/environments/{env_id}/propagation/stores"), &t)
            .await;
        for store in embedded(&stores, "stores") {
            let tstore = env(&truth, env_id)["stores"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == store["id"])
                .unwrap();
            assert_eq!(
                store.get("syncStatus").unwrap_or(&Value::Null),
                &tstore["sync_status"]
            );
        }
    }
    // The SCIM store has one rule: its syncStatus is that rule's counts,
    // events for the three event counts (PingOne documents successCount,
    // failedCount and failedDeprovisionCount as sync events since the last
    // revision) and users for userTotal.
    let scim = truth_rule(&truth, ENV_A, "SCIM outbound");
    let store = env(&truth, ENV_A)["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == scim["connection_store_id"])
        .unwrap();
    assert_eq!(
        store["sync_status"]["successCount"],
        scim["events"]["success"]
    );
    assert_eq!(
        store["sync_status"]["failedCount"],
        scim["events"]["failed"]
    );
    assert_eq!(store["sync_status"]["userTotal"], scim["users"]["impacted"]);
    assert_eq!(
        store["sync_status"]["failedDeprovisionCount"],
        scim["events"]["failed_deprovision"]
    );
    // Users re-synced since the revision count once as users and once per
    // attempt as events: the two never coincide after some ticks.
    let (users, events) = (&scim["users"], &scim["events"]);
    let n = |v: &Value| v.as_u64().unwrap();
    assert!(n(&events["success"]) >= n(&users["success"]), "{scim}");
    assert!(n(&events["failed"]) >= n(&users["failed"]), "{scim}");
    assert!(
        n(&events["success"]) + n(&events["failed"]) > n(&users["impacted"]),
        "every user synced once, some twice: {scim}"
    );
    // The Workday store is shared by the inbound rule and its write-back rule.
    let (inb, wb) = (
        truth_rule(&truth, ENV_A, "Workday inbound"),
        truth_rule(&truth, ENV_A, "Workday write-back"),
    );
    assert_eq!(inb["connection_store_id"], wb["connection_store_id"]);
    let wd = env(&truth, ENV_A)["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Workday HR")
        .unwrap();
    let sum = |f: &str| inb["users"][f].as_u64().unwrap() + wb["users"][f].as_u64().unwrap();
    assert_eq!(
        wd["sync_status"]["userTotal"].as_u64(),
        Some(sum("impacted"))
    );
    let events = |f: &str| inb["events"][f].as_u64().unwrap() + wb["events"][f].as_u64().unwrap();
    assert_eq!(
        wd["sync_status"]["successCount"].as_u64(),
        Some(events("success"))
    );
    assert!(inb["last_poll_at"].is_string() && wb["last_writeback_at"].is_string());
    assert_eq!(wb["writeback_failures"], wb["users"]["failed"]);
    assert_eq!(wb["direction"], "writeback");
    // The inactive LDAP rule never synced: its store has no syncStatus, its users are all unsynced.
    let ldap = truth_rule(&truth, ENV_A, "LDAP inbound");
    assert_eq!(ldap["sync_state"], Value::Null);
    assert_eq!(ldap["users"]["unsynced"], ldap["users"]["impacted"]);
    sim.stop().await;
}

#[tokio::test]
async fn synced_groups_pages_add_up_to_the_truth() {
    let sim = Sim::start(fixture("failures.yml")).await;
    let env_id = "fa110000-0000-4000-8000-000000000001";
    let t = {
        let r = sim
            .token_for(env_id, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
            .await;
        body_json(r).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let truth = sim.truth().await;
    for rule in env(&truth, env_id)["rules"].as_array().unwrap() {
        let first = format!(
            "{}/environments/{env_id}/propagation/rules/{}/syncedGroups?limit=2",
            sim.running.api_url(),
            rule["id"].as_str().unwrap()
        );
        let (mut url, mut seen, mut pages) = (Some(first), Vec::new(), 0);
        let mut by_status: HashMap<String, u64> = HashMap::new();
        while let Some(u) = url.take() {
            let (s, page) = sim.get_url(&u, &t).await;
            assert_eq!(s, 200, "{u}");
            pages += 1;
            assert!(pages < 20, "paging loops");
            assert_eq!(page["count"], rule["groups"]["impacted"]);
            for g in embedded(&page, "syncedGroups") {
                assert_eq!(g["rule"]["id"], rule["id"]);
                seen.push(g["group"]["id"].as_str().unwrap().to_owned());
                *by_status
                    .entry(g["status"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            url = page["_links"]["next"]["href"].as_str().map(str::to_owned);
        }
        let n = |k: &str| by_status.get(k).copied().unwrap_or(0);
        let g = &rule["groups"];
        assert_eq!(seen.len() as u64, g["impacted"].as_u64().unwrap());
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen.len() as u64,
            g["impacted"].as_u64().unwrap(),
            "no group twice"
        );
        assert_eq!(n("SUCCESS"), g["success"].as_u64().unwrap());
        assert_eq!(n("FAILED"), g["failed"].as_u64().unwrap());
        assert_eq!(n("PARTIALLY_SYNCED"), g["partial"].as_u64().unwrap());
        assert_eq!(n("UNSYNCED"), g["unsynced"].as_u64().unwrap());
        assert_eq!(n("SOMETHING_NEW"), g["other"].as_u64().unwrap());
    }
    let forced = truth_rule(&truth, env_id, "Salesforce forced failed");
    assert_eq!(
        (
            forced["sync_state"].as_str(),
            forced["groups"]["other"].as_u64()
        ),
        (Some("FAILED"), Some(1))
    );
    let broken = truth_rule(&truth, env_id, "Broken SCIM outbound");
    assert_eq!(broken["sync_state"], "FAILED");
    sim.stop().await;
}

#[tokio::test]
async fn per_user_synced_rules_match_the_truth_and_404_out_of_scope() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    let mut users = Vec::new();
    let mut url = Some(format!(
        "{}/environments/{ENV_A}/users?limit=25",
        sim.running.api_url()
    ));
    while let Some(u) = url.take() {
        let (_, page) = sim.get_url(&u, &t).await;
        users.extend(
            embedded(&page, "users")
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        assert!(
            embedded(&page, "users")[0]["email"]
                .as_str()
                .unwrap()
                .contains('@')
        );
        url = page["_links"]["next"]["href"].as_str().map(str::to_owned);
    }
    assert_eq!(users.len(), 60);
    let truth = sim.truth().await;
    let rule = truth_rule(&truth, ENV_A, "SCIM outbound");
    let rule_id = rule["id"].as_str().unwrap();
    let mut by_status: HashMap<String, u64> = HashMap::new();
    for user in &users {
        let (s, body) = sim
            .get(
                &format!("/environments/{ENV_A}/users/{user}/syncedRules/{rule_id}"),
                &t,
            )
            .await;
        match s {
            200 => {
                assert_eq!(
                    (body["type"].as_str(), body["rule"]["id"].as_str()),
                    (Some("OUTBOUND"), Some(rule_id))
                );
                assert_eq!(body["targetStore"]["type"], "scim");
                *by_status
                    .entry(body["status"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            404 => assert_eq!(body["code"], "NOT_FOUND"),
            other => panic!("unexpected {other}"),
        }
    }
    let n = |k: &str| by_status.get(k).copied().unwrap_or(0);
    let u = &rule["users"];
    assert_eq!(
        by_status.values().sum::<u64>(),
        u["impacted"].as_u64().unwrap()
    );
    assert_eq!(n("SUCCESS"), u["success"].as_u64().unwrap());
    assert_eq!(n("FAILED"), u["failed"].as_u64().unwrap());
    assert_eq!(n("PARTIALLY_SYNCED"), u["partial"].as_u64().unwrap());
    assert_eq!(n("UNSYNCED"), u["unsynced"].as_u64().unwrap());
    sim.stop().await;
}

fn counts_of(truth: &Value) -> Vec<Value> {
    let envs = truth["environments"].as_array().unwrap();
    envs.iter()
        .flat_map(|e| {
            e["rules"].as_array().unwrap().iter().map(|r| {
                serde_json::json!([r["id"], r["users"], r["groups"], r["deprovision_failures"]])
            })
        })
        .collect()
}

#[tokio::test]
async fn same_seed_and_ticks_serve_identical_counts() {
    let (a, b) = (Sim::small().await, Sim::small().await);
    a.advance(5).await;
    b.advance(2).await;
    b.advance(3).await;
    let (ta, tb) = (a.truth().await, b.truth().await);
    assert_eq!(counts_of(&ta), counts_of(&tb));
    assert_eq!(ta["now"], tb["now"], "manual clock");
    let mut other = fixture("small.yml");
    other.seed = 43;
    let c = Sim::start(other).await;
    c.advance(5).await;
    assert_ne!(counts_of(&ta), counts_of(&c.truth().await));
    for s in [a, b, c] {
        s.stop().await;
    }
}

#[tokio::test]
async fn revision_post_resets_counts_and_is_recorded() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    let before = sim.truth().await;
    let old = env(&before, ENV_A)["revision"]["id"].clone();
    let url = format!(
        "{}/environments/{ENV_A}/propagation/revisions",
        sim.running.api_url()
    );
    let r = sim
        .http
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let rev: Value = body_json(r).await;
    assert_eq!(rev["previousRevision"]["id"], old);
    let (_, latest) = sim
        .get(
            &format!("/environments/{ENV_A}/propagation/revisions/id:latest"),
            &t,
        )
        .await;
    assert_eq!(latest["id"], rev["id"]);
    let after = sim.truth().await;
    assert_eq!(env(&after, ENV_A)["resyncs"], 1);
    assert_eq!(env(&after, ENV_B)["resyncs"], 0);
    let scim = truth_rule(&after, ENV_A, "SCIM outbound");
    assert_eq!(scim["users"]["success"], 0);
    assert_eq!(scim["users"]["unsynced"], scim["users"]["impacted"]);
    let store = env(&after, ENV_A)["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "SCIM app")
        .unwrap();
    assert_eq!(
        (
            store["sync_status"]["successCount"].as_u64(),
            store["sync_status"]["failedDeprovisionCount"].as_u64()
        ),
        (Some(0), Some(0))
    );
    sim.advance(10).await;
    let later = sim.truth().await;
    assert!(
        truth_rule(&later, ENV_A, "SCIM outbound")["users"]["success"]
            .as_u64()
            .unwrap()
            > 10
    );
    sim.stop().await;
}

#[tokio::test]
async fn deleted_rule_vanishes_and_activation_toggles() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    let truth = sim.truth().await;
    let id = truth_rule(&truth, ENV_A, "SCIM outbound")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ldap = truth_rule(&truth, ENV_A, "LDAP inbound")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sim.control(reqwest::Method::POST, &format!("rules/{id}/delete"))
            .await
            .0,
        200
    );
    assert_eq!(
        sim.control(reqwest::Method::POST, &format!("rules/{id}/delete"))
            .await
            .0,
        404
    );
    assert_eq!(
        sim.control(reqwest::Method::GET, &format!("rules/{id}/delete"))
            .await
            .0,
        405
    );
    let (_, rules) = sim
        .get(&format!("/environments/{ENV_A}/propagation/rules"), &t)
        .await;
    assert!(
        embedded(&rules, "rules")
            .iter()
            .all(|r| r["id"] != id.as_str())
    );
    assert_eq!(
        sim.get(&format!("/environments/{ENV_A}/propagation/rules/{id}"), &t)
            .await
            .0,
        404
    );
    assert!(
        env(&sim.truth().await, ENV_A)["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != id.as_str())
    );

    assert_eq!(
        sim.control(reqwest::Method::POST, &format!("rules/{ldap}/activate"))
            .await
            .0,
        200
    );
    sim.advance(3).await;
    let ldap_now = truth_rule(&sim.truth().await, ENV_A, "LDAP inbound").clone();
    assert_eq!(ldap_now["active"], true);
    assert!(ldap_now["last_poll_at"].is_string());
    assert_eq!(ldap_now["sync_state"], "SYNCING");
    sim.stop().await;
}

#[tokio::test]
async fn request_counts_per_endpoint_and_status() {
    let sim = Sim::small().await;
    let t = sim.token().await;
    let _ = sim.token_for(ENV_A, DEMO_CLIENT_ID, "wrong").await;
    assert_eq!(
        sim.control(reqwest::Method::POST, "requests/reset").await.0,
        200
    );
    let t2 = sim.token().await;
    assert!(!t2.is_empty() && t != t2);
    for _ in 0..3 {
        sim.get(&format!("/environments/{ENV_A}/propagation/stores"), &t)
            .await;
    }
    sim.get(&format!("/environments/{ENV_A}/propagation/stores"), "bad")
        .await;
    sim.get(&format!("/environments/{ENV_A}/propagation/rules"), &t)
        .await;
    let (_, counts) = sim.control(reqwest::Method::GET, "requests").await;
    assert_eq!(counts["token"], 1);
    assert_eq!(counts["stores"], 4);
    assert_eq!(counts["rules"], 1);
    assert_eq!(counts["total"], 6);
    assert_eq!(counts["by_status"]["stores"]["401"], 1);
    assert_eq!(counts["by_status"]["stores"]["200"], 3);
    sim.stop().await;
}

#[tokio::test]
async fn real_clock_ticks_on_its_own() {
    let mut scenario = fixture("small.yml");
    scenario.clock = simulator::scenario::ClockMode::Real;
    scenario.start_time = None;
    scenario.tick = Duration::from_millis(100);
    let sim = Sim::start(scenario).await;
    let before = sim.truth().await["ticks"].as_u64().unwrap();
    assert_eq!(before, 3, "warm-up ticks");
    // Ticks every 100 ms of real time; however slow this machine, they
    // keep coming (the deadline only guards against hanging).
    let t0 = std::time::Instant::now();
    while sim.truth().await["ticks"].as_u64().unwrap() < before + 2 {
        assert!(t0.elapsed() < Duration::from_secs(60), "the clock stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sim.stop().await;
}

#[tokio::test]
async fn demo_tenant_has_something_to_alert_on() {
    let sim = Sim::start(Scenario::demo()).await;
    let names: Vec<String> = sim
        .running
        .environments()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["demo-prod", "demo-staging"]);
    let (prod, staging) = (
        &sim.running.environments()[0].0,
        &sim.running.environments()[1].0,
    );
    assert_eq!(
        sim.running.clients(),
        [(DEMO_CLIENT_ID.to_owned(), prod.clone())]
    );
    let truth = sim.truth().await;
    let sf = truth_rule(&truth, prod, "Directory to Salesforce");
    assert!(sf["users"]["failed"].as_u64().unwrap() > 5, "{sf}");
    assert_eq!(
        truth_rule(&truth, prod, "Directory to Zoom")["sync_state"],
        Value::Null
    );
    assert_eq!(
        truth_rule(&truth, prod, "Workday write-back")["direction"],
        "writeback"
    );
    assert_eq!(
        truth_rule(&truth, staging, "Staging Google Workspace")["sync_state"],
        "FAILED"
    );
    // The demo client reads both environments with one token from demo-prod.
    let r = sim
        .token_for(prod, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .await;
    let t = body_json(r).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = sim
        .get(&format!("/environments/{staging}/propagation/stores"), &t)
        .await;
    assert_eq!(s, 200);
    sim.stop().await;
}

#[test]
fn every_fixture_scenario_loads() {
    for name in [
        "demo.yml",
        "small.yml",
        "failures.yml",
        "bench-s.yml",
        "bench-m.yml",
        "bench-l.yml",
    ] {
        fixture(name);
    }
    assert_eq!(fixture("demo.yml"), Scenario::demo());
    assert_eq!(Scenario::demo().environments.len(), 2);
    let s = fixture("bench-l.yml");
    assert_eq!(
        s.generate
            .as_ref()
            .map(|g| (g.environments, g.rules_per_environment)),
        Some((200, 50))
    );
}

#[test]
fn scenario_errors_name_the_problem() {
    let cases = [
        ("environments: []", "none described"),
        (
            "environments:\n  - name: a\n    stores: [{name: d, type: directory}]\n    rules: [{name: r, source: d, target: x}]\n",
            "no store named \"x\"",
        ),
        (
            "clock: real\nstart_time: \"2026-01-01T00:00:00Z\"\nenvironments: [{name: a}]\n",
            "start_time",
        ),
        (
            "environments:\n  - name: a\n    stores: [{name: d, type: directory}, {name: s, type: scim}]\n    rules: [{name: r, source: d, target: s, population: 2}]\n",
            "population",
        ),
        (
            "environments:\n  - name: a\n    stores: [{name: d, type: directory}, {name: s, type: scim}]\n    rules: [{name: r, source: s, target: d, parent: nope}]\n",
            "parent",
        ),
        (
            "clients: [{client_id: c, client_secret: s, environments: [zz]}]\nenvironments: [{name: a}]\n",
            "zz",
        ),
    ];
    for (yaml, want) in cases {
        let err = Scenario::from_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(want), "{yaml}\n=> {err}");
    }
}

#[tokio::test]
async fn bad_listen_address_is_an_error_not_a_panic() {
    let sim = Sim::small().await;
    let taken = sim.running.addr();
    let err = simulator::start(fixture("small.yml"), taken, Shutdown::new())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot listen"), "{err}");
    sim.stop().await;
}
