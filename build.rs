//! Records the git revision for `pingone_exporter_build_info{revision}`.
//! Builds without git (a container build context) say `unknown`, unless
//! `PINGONE_SYNC_EXPORTER_REVISION` is set in the build environment.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PINGONE_SYNC_EXPORTER_REVISION");
    // Watch HEAD and the branch it points at, where they exist: a watched
    // path that does not exist makes cargo rerun this script, and rebuild
    // the crate, on every build (a container build has no .git; in a git
    // worktree .git is a file, not a directory).
    let head = git(&["rev-parse", "--git-path", "HEAD"]);
    let branch =
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r]));
    for path in [head, branch].into_iter().flatten() {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let rev = std::env::var("PINGONE_SYNC_EXPORTER_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=PINGONE_SYNC_EXPORTER_REVISION={rev}");
}
