//! Writing one environment's dump: the directory, each answer scrubbed and
//! pretty-printed, and `manifest.json` listing every request and its result.

use std::path::Path;

use serde_json::{Value, json};

use super::scrub::Scrubber;
use super::{DumpError, Fetched, Report};
use crate::config::Environment;
use crate::pingone::{ApiError, Endpoint};
use crate::timefmt::{format_rfc3339, now_unix};

/// Creates `dir`, refusing one that already holds files.
pub(super) fn prepare(dir: &Path) -> Result<(), DumpError> {
    let io = |source| DumpError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(DumpError::NotEmpty(dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir).map_err(io)
}

fn write_json(path: &Path, v: &Value, scrubber: &Scrubber) -> Result<(), DumpError> {
    // The last guard: the scrubbed text itself passes the scrubber once more.
    let text = scrubber.text(&serde_json::to_string_pretty(v).unwrap_or_default()) + "\n";
    std::fs::write(path, text).map_err(|source| DumpError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Scrubs and writes every fetched page, then the manifest.
pub(super) fn write_all(
    env: &Environment,
    dir: &Path,
    scrubber: &Scrubber,
    fetched: Vec<Fetched>,
) -> Result<Report, DumpError> {
    let mut report = Report::default();
    let mut entries = Vec::new();
    for f in fetched {
        let request = scrubber.text(&f.request);
        let pages = match f.result {
            Ok(pages) => pages,
            Err(ApiError::Status { status: 404, .. }) if f.endpoint == Endpoint::UserSyncedRule => {
                entries.push(json!({"request": request, "endpoint": f.endpoint.as_str(), "file": null, "result": "404: no record (the user is not in the rule's scope)"}));
                continue;
            }
            Err(e) => {
                report.failed += 1;
                entries.push(json!({"request": request, "endpoint": f.endpoint.as_str(), "file": null, "result": scrubber.text(&e.to_string())}));
                continue;
            }
        };
        for (i, body) in pages.iter().enumerate() {
            let file = if i == 0 {
                format!("{}.json", f.name)
            } else {
                format!("{}-{}.json", f.name, i + 1)
            };
            let result = match serde_json::from_slice::<Value>(body) {
                Ok(mut v) => {
                    scrubber.scrub(&mut v);
                    write_json(&dir.join(&file), &v, scrubber)?;
                    report.files += 1;
                    "ok".to_string()
                }
                Err(e) => {
                    report.failed += 1;
                    format!("not JSON, not written: {e}")
                }
            };
            entries.push(json!({"request": request, "endpoint": f.endpoint.as_str(), "page": i + 1, "file": file, "result": result}));
        }
    }
    let manifest = json!({
        "exporter_version": crate::VERSION,
        "created_at": format_rfc3339(now_unix()),
        "environment": {"name": env.name, "id": env.id},
        "api_url": env.api_url,
        "scrubbed": "secrets, store configuration values, personal data, free text, people's ids (pseudonyms) and paging cursors; see docs/dump.md",
        "requests": entries,
    });
    write_json(&dir.join("manifest.json"), &manifest, scrubber)?;
    Ok(report)
}
