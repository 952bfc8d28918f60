//! A real browser for page tests: Debian's `chromium`, headless, loads a URL
//! and prints the DOM it built (after parsing, and after any script ran,
//! which is how a failure to escape would show).

use std::process::Command;

/// The DOM of `url` as headless Chromium serializes it after loading.
/// Panics when Chromium is missing or prints no document.
pub fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run chromium (scripts/install-test-deps.sh installs it): {e}")
        });
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "chromium printed no document for {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// The elements of `dom` that open with `open` (e.g. `<tr class="rule`),
/// each up to its matching `close` tag (not nested).
pub fn elements<'a>(dom: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find(open) {
        let tail = &rest[i..];
        let end = tail.find(close).map_or(tail.len(), |j| j + close.len());
        out.push(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

/// The value of attribute `name` in the first tag of `element`.
pub fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let tag = &element[..element.find('>')?];
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}
