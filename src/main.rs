//! `pingone-sync-exporter`: parse flags and hand over to the library.
#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    pingone_sync_exporter::app::main(pingone_sync_exporter::cli::Cli::parse())
}
