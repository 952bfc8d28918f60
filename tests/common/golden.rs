//! Golden files: expected text kept in the repository, compared exactly,
//! and rewritten by `UPDATE_GOLDEN=1 cargo test` after an intended change
//! (review the diff before committing). One implementation for every test
//! that freezes an interface's text: expositions, `status` tables, config
//! and web-config error messages.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

/// True when the run should rewrite golden files instead of comparing.
pub fn update_requested() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

/// Compares `actual` with the golden file at `path` (or rewrites it when
/// [`update_requested`]). The error names the file and its first differing
/// line.
pub fn compare(path: &Path, actual: &str) -> Result<(), String> {
    if update_requested() {
        return std::fs::write(path, actual).map_err(|e| format!("write {}: {e}", path.display()));
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs at line {}:\n expected: {:?}\n actual:   {:?}\n(UPDATE_GOLDEN=1 rewrites it)",
        path.display(),
        first + 1,
        expected.lines().nth(first),
        actual.lines().nth(first)
    ))
}

/// Panics with [`compare`]'s message when `actual` differs from the file.
pub fn assert_matches(path: impl AsRef<Path>, actual: &str) {
    if let Err(e) = compare(path.as_ref(), actual) {
        panic!("{e}");
    }
}

/// The files of `dir` whose names start with `prefix` and end with `ext`,
/// sorted.
pub fn fixtures(dir: &str, prefix: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && name.ends_with(ext)
        })
        .collect();
    out.sort();
    out
}

/// Every `dir/invalid-<rule>.yml` (at least `min` of them) must fail to
/// load, `error` giving the whole message (`None` when it loaded), with
/// exactly the text of `invalid-<rule>.txt`; every line of the message
/// starts with the file's path, and no golden file lacks its fixture.
pub fn check_invalid_fixtures(dir: &str, min: usize, error: impl Fn(&Path) -> Option<String>) {
    let inputs = fixtures(dir, "invalid-", ".yml");
    assert!(
        inputs.len() >= min,
        "only {} invalid fixtures",
        inputs.len()
    );
    let mut failures = Vec::new();
    for yml in &inputs {
        let shown = yml.display().to_string();
        let Some(message) = error(yml) else {
            failures.push(format!("{shown}: loaded, but should have failed"));
            continue;
        };
        let actual = format!("{message}\n");
        for line in actual.lines() {
            assert!(line.starts_with(&format!("{shown}:")), "{line}");
        }
        if let Err(e) = compare(&yml.with_extension("txt"), &actual) {
            failures.push(e);
        }
    }
    for txt in fixtures(dir, "invalid-", ".txt") {
        if !txt.with_extension("yml").exists() {
            failures.push(format!("{}: golden file without a fixture", txt.display()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
