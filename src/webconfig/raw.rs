//! The web config file as written: `serde` structs mirroring the
//! exporter-toolkit `web-config.yml` format.
//!
//! Every struct denies unknown fields, so a typo is an error that lists the
//! accepted keys. Scalars are read as text and checked in `validate.rs`,
//! which reports every problem at once. Keys of the toolkit format that
//! this exporter does not implement are read as [`IgnoredAny`] (their value
//! is never kept: an inline `key` is a secret) so that using one gives a
//! precise "not supported" message instead of "unknown field".

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebConfig {
    pub tls_server_config: Option<RawTls>,
    pub http_server_config: Option<RawHttp>,
    /// User name → bcrypt hash.
    pub basic_auth_users: Option<BTreeMap<String, Option<String>>>,
    /// Toolkit rate limiting: not implemented.
    pub rate_limit: Option<IgnoredAny>,
}

/// `tls_server_config:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub client_ca_file: Option<String>,
    pub client_auth_type: Option<String>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    pub prefer_server_cipher_suites: Option<String>,
    /// Inline certificate: not implemented.
    pub cert: Option<IgnoredAny>,
    /// Inline private key: not implemented (and never kept).
    pub key: Option<IgnoredAny>,
    /// Inline client CA: not implemented.
    pub client_ca: Option<IgnoredAny>,
    pub client_allowed_sans: Option<IgnoredAny>,
    pub cipher_suites: Option<IgnoredAny>,
    pub curve_preferences: Option<IgnoredAny>,
}

/// `http_server_config:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub http2: Option<String>,
    /// Header name → value, added to every response.
    pub headers: Option<BTreeMap<String, String>>,
}
