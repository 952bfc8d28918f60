//! The one place the YAML crate is used (SPEC section 9): every YAML file the
//! program reads (the config, simulator scenarios) goes through here.

use serde::de::DeserializeOwned;

/// Parses a YAML document into `T`, rejecting duplicate keys. The error text
/// carries line and column.
pub fn from_str<T: DeserializeOwned>(source: &str) -> Result<T, String> {
    serde_saphyr::from_str(source).map_err(|e| e.to_string())
}
