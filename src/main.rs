//! `pingone-sync-exporter`: see the library crate for everything.
#![forbid(unsafe_code)]

fn main() {}
