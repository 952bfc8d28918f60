//! Sharding across replicas (`--shard.count`, `--shard.index`): replicas
//! of one config together poll and serve the whole tenant, each
//! environment exactly once, and a StatefulSet pod finds its index in its
//! name. Which environment moves when the count changes is checked on the
//! hash itself (`shard::tests`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Dir, Exporter, Sim};

/// Twelve small environments, enough that each of three shards gets some.
const SCENARIO: &str = "seed: 7\nclock: real\ngenerate:\n  environments: 12\n  rules_per_environment: 2\n  users_per_environment: 10\n  groups_per_rule: 1\n";

/// A config for every environment of the simulator's tenant; the worker
/// app (the simulator's demo client) lives in the first one.
fn config(dir: &Dir, sim: &Sim, ids: &[String]) -> String {
    let secret = dir.write("secret", "demo-secret\n");
    let mut c = String::from(
        "global:\n  poll_interval: 10s\n  request_timeout: 5s\n  max_requests_per_second: 50\nenvironments:\n",
    );
    for (i, id) in ids.iter().enumerate() {
        c.push_str(&format!(
            "  - name: env-{i:02}\n    id: {id}\n    api_url: {base}/v1\n    auth_url: {base}\n    credentials:\n      client_id: demo-client\n      client_secret_file: {secret}\n      worker_environment_id: {worker}\n",
            base = sim.base,
            secret = secret.display(),
            worker = ids[0],
        ));
    }
    dir.write("config.yml", &c).display().to_string()
}

/// The environment ids an exporter serves rules of, and those it has any
/// per-environment self-metric for.
fn served(e: &Exporter) -> (BTreeSet<String>, BTreeSet<String>) {
    let m = e.metrics();
    let ids = |name: &str| -> BTreeSet<String> {
        m.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .filter_map(|(_, l, _)| l.get("environment_id").cloned())
            .collect()
    };
    (
        ids("pingone_provisioning_rule_info"),
        ids("pingone_exporter_up"),
    )
}

#[test]
fn three_shards_serve_the_whole_tenant_each_environment_once() {
    let dir = Dir::new();
    let sim = Sim::start(&dir.write("tenant.yml", SCENARIO));
    let ids = sim.env_ids();
    assert_eq!(ids.len(), 12);
    let cfg = config(&dir, &sim, &ids);

    let shards: Vec<Exporter> = (0..3)
        .map(|i| {
            Exporter::start(&[
                "--config.file",
                &cfg,
                "--shard.count",
                "3",
                "--shard.index",
                &i.to_string(),
            ])
        })
        .collect();
    let mut union = BTreeSet::new();
    let mut shares = Vec::new();
    for (i, e) in shards.iter().enumerate() {
        e.wait_ready(Duration::from_secs(60));
        let (rules, up) = served(e);
        assert_eq!(
            rules, up,
            "shard {i} serves rules of exactly the environments it polls"
        );
        assert!(!rules.is_empty(), "shard {i} got no environment of 12");
        for id in &rules {
            assert!(union.insert(id.clone()), "{id} is served by two shards");
        }
        shares.push(rules);
    }
    let all: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(union, all, "the shards together serve every environment");

    // A StatefulSet pod finds its index in its name: pod -1 serves what
    // --shard.index 1 serves.
    let pod = Exporter::start_with_env(
        &["--config.file", &cfg, "--shard.count", "3"],
        &[("HOSTNAME", "pingone-sync-exporter-1")],
    );
    pod.wait_ready(Duration::from_secs(60));
    assert_eq!(served(&pod).0, shares[1]);
    assert!(
        pod.proc.output().contains("shard=1/3"),
        "{}",
        pod.proc.output()
    );
}

#[test]
fn a_pod_name_without_an_ordinal_is_refused_with_the_reason() {
    let dir = Dir::new();
    let cfg = dir.write("config.yml", "environments: []\n");
    let mut p = common::Proc::spawn(
        &[
            "--config.file",
            cfg.to_str().unwrap(),
            "--web.listen-address",
            "127.0.0.1:0",
            "--shard.count",
            "2",
        ],
        &[("HOSTNAME", "exporter")],
    );
    assert_eq!(p.wait_exit(Duration::from_secs(60)), Some(1));
    assert!(
        p.output().contains("pingone-sync-exporter: --shard.count is 2 but no --shard.index was given, and the host name \"exporter\" does not end in a StatefulSet ordinal (-N)"),
        "{}",
        p.output()
    );
}
