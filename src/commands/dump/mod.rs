//! `pingone-sync-exporter dump --out DIR [--environment NAME]`: fetch every
//! endpoint the exporter reads, scrub the answers ([`scrub`]) and write them
//! as JSON fixture files, one directory per environment, so a user can
//! attach them to a bug report and we can add them to our fixtures.
//!
//! Per environment, into `DIR/<environment name>/` (which must be empty or
//! missing):
//!
//! | file | request |
//! |---|---|
//! | `plans.json`, `stores.json`, `rules.json` (`-2`, `-3`, ... for further pages) | `GET .../propagation/{plans,stores,rules}` |
//! | `revision-latest.json` | `GET .../propagation/revisions/id:latest` |
//! | `synced-groups-<ruleId>.json` | `GET .../propagation/rules/{id}/syncedGroups?limit=1000`, enabled rules the filter keeps |
//! | `users.json` | `GET .../users?limit=5`, first page only: a sample |
//! | `synced-rules-<user pseudonym>-<ruleId>.json` | `GET .../users/{id}/syncedRules/{ruleId}`, sampled users × those rules; a 404 (no record) writes no file; with user-detail mode on, also the failing users' records ([`failing`]) |
//! | `manifest.json` | every request, its file and its result |
//!
//! A failed request is recorded in the manifest and the dump goes on; the
//! exit status is then 2 ([`super::Exit`]).

mod failing;
pub mod scrub;
mod write;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::Exit;
use crate::config::{Config, Environment};
use crate::pingone::hal::parse_page;
use crate::pingone::{ApiError, Endpoint, EnvClient, encode_segment, model};
use scrub::Scrubber;

/// Users in the sample (the first page of `GET /users`).
pub const USER_SAMPLE: usize = 5;

/// Why an environment's dump could not be written at all.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The directory exists and holds files: a dump never mixes with others.
    #[error("{0} already holds files; choose an empty or new directory")]
    NotEmpty(PathBuf),
    /// Creating the directory or writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// One request and its answer pages.
struct Fetched {
    /// File name without `.json`.
    name: String,
    endpoint: Endpoint,
    /// `GET /environments/...`, relative to `api_url`.
    request: String,
    result: Result<Vec<Bytes>, ApiError>,
}

/// What one environment's dump wrote.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written, manifest excluded.
    pub files: usize,
    /// Requests that failed (404s of `syncedRules` are answers, not failures).
    pub failed: usize,
}

/// A directory name for an environment: letters, digits, `-`, `_` and `.`
/// kept, anything else `_`.
pub fn dir_name(env: &str) -> String {
    let s: String = env
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        "_".into()
    } else {
        s
    }
}

/// Runs the command for every configured environment (or only `only`).
pub async fn run(
    config: &Config,
    dir: &Path,
    only: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    if let Some(Err(e)) = only.map(|name| super::find_environment(config, name)) {
        let _ = writeln!(err, "dump: {e}");
        return Exit::Error;
    }
    let clients = match super::clients(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "dump: {e}");
            return Exit::Error;
        }
    };
    let mut exit = Exit::Ok;
    for (env, client) in clients
        .into_iter()
        .filter(|(e, _)| only.is_none_or(|n| e.name == n))
    {
        let target = dir.join(dir_name(&env.name));
        let concurrency = super::concurrency(config, &env);
        match dump_env(&env, &client, concurrency, &target).await {
            Ok(r) => {
                let _ = writeln!(
                    out,
                    "dump: environment {:?}: wrote {} files and manifest.json to {}",
                    env.name,
                    r.files,
                    target.display()
                );
                if r.failed > 0 {
                    let _ = writeln!(
                        err,
                        "dump: environment {:?}: {} requests failed; see manifest.json",
                        env.name, r.failed
                    );
                    exit = Exit::Error;
                }
            }
            Err(e) => {
                let _ = writeln!(err, "dump: environment {:?}: {e}", env.name);
                exit = Exit::Error;
            }
        }
    }
    exit
}

async fn fetch(
    client: &EnvClient,
    name: String,
    endpoint: Endpoint,
    path: &str,
    pages: Option<usize>,
) -> Fetched {
    let result = match client.env_url(path) {
        Err(e) => Err(e),
        Ok(url) => match pages {
            Some(max) => client.raw_pages(endpoint, url, max).await,
            None => client.get_raw(endpoint, url).await.map(|b| vec![b]),
        },
    };
    Fetched {
        name,
        endpoint,
        request: format!("GET /environments/{{id}}/{path}"),
        result,
    }
}

/// Items of the first page of a fetched collection.
fn items<T: serde::de::DeserializeOwned>(f: &Fetched, key: &str) -> Vec<T> {
    let pages = f.result.as_ref().map(Vec::as_slice).unwrap_or_default();
    pages
        .iter()
        .filter_map(|b| parse_page::<T>(b, key).ok())
        .flat_map(|p| p.items)
        .collect()
}

async fn dump_env(
    env: &Environment,
    client: &Arc<EnvClient>,
    concurrency: usize,
    dir: &Path,
) -> Result<Report, DumpError> {
    write::prepare(dir)?;
    let mut scrubber = Scrubber::new(vec![env.credentials.client_secret.expose().to_string()]);
    let mut fetched = Vec::new();
    for (name, endpoint) in [
        ("plans", Endpoint::Plans),
        ("stores", Endpoint::Stores),
        ("rules", Endpoint::Rules),
    ] {
        fetched.push(
            fetch(
                client,
                name.into(),
                endpoint,
                &format!("propagation/{name}"),
                Some(usize::MAX),
            )
            .await,
        );
    }
    let revision = fetch(
        client,
        "revision-latest".into(),
        Endpoint::LatestRevision,
        "propagation/revisions/id%3Alatest",
        None,
    )
    .await;
    if let Some(by) = revision
        .result
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b[0]).ok())
        .and_then(|v| v["createdBy"].as_str().map(str::to_string))
    {
        scrubber.person(&by);
    }
    fetched.push(revision);
    let rules: Vec<model::Rule> = items(&fetched[2], "rules");
    let walked: Vec<String> = rules
        .iter()
        .filter(|r| r.active == Some(true) && env.rules.matches(r.name.as_deref().unwrap_or("")))
        .filter_map(|r| r.id.clone())
        .collect();
    for id in &walked {
        let path = format!(
            "propagation/rules/{}/syncedGroups?limit=1000",
            encode_segment(id)
        );
        fetched.push(
            fetch(
                client,
                format!("synced-groups-{}", dir_name(id)),
                Endpoint::SyncedGroups,
                &path,
                Some(usize::MAX),
            )
            .await,
        );
    }
    let users = fetch(
        client,
        "users".into(),
        Endpoint::Users,
        &format!("users?limit={USER_SAMPLE}"),
        Some(1),
    )
    .await;
    let sample: Vec<String> = items::<model::User>(&users, "users")
        .into_iter()
        .filter_map(|u| u.id)
        .collect();
    for id in &sample {
        scrubber.person(id);
    }
    fetched.push(users);
    for user in sample.iter().take(USER_SAMPLE) {
        let pseudonym = scrubber.person(user);
        for rule in &walked {
            let path = format!(
                "users/{}/syncedRules/{}",
                encode_segment(user),
                encode_segment(rule)
            );
            let name = format!("synced-rules-{pseudonym}-{}", dir_name(rule));
            fetched.push(fetch(client, name, Endpoint::UserSyncedRule, &path, None).await);
        }
    }
    if env.user_detail.is_some() {
        let (sample, scrubber, fetched) = (&sample, &mut scrubber, &mut fetched);
        failing::fetch_failing(env, client, concurrency, sample, scrubber, fetched).await;
    }
    write::write_all(env, dir, &scrubber, fetched)
}
