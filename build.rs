//! Records the git revision for `pingone_exporter_build_info{revision}`.
//! Builds without git (a container build context) say `unknown`, unless
//! `PINGONE_SYNC_EXPORTER_REVISION` is set in the build environment.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PINGONE_SYNC_EXPORTER_REVISION");
    println!("cargo:rerun-if-changed=.git/HEAD");
    let rev = std::env::var("PINGONE_SYNC_EXPORTER_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=PINGONE_SYNC_EXPORTER_REVISION={rev}");
}
