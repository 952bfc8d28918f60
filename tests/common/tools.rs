//! Where the tests find the external programs they run.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

/// The Python interpreter for tests/tools/*.py: `$TEST_PYTHON`
/// (scripts/test.sh sets it to the virtual environment that
/// scripts/install-test-deps.sh fills), else that environment's interpreter
/// if it exists, else `python3`. Debian's own Python has neither
/// prometheus-client nor PyYAML, and refuses to pip-install them (PEP 668).
pub fn python() -> String {
    if let Some(p) = std::env::var_os("TEST_PYTHON").filter(|p| !p.is_empty()) {
        return p.to_string_lossy().into_owned();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tmp/venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".to_string()
}
