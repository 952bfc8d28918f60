//! What every outbound HTTPS client of the exporter needs, whichever part
//! builds it: the PingOne client, the Alertmanager sender and the
//! `healthcheck` command. It sits on the ground floor so none of them has to
//! reach into another's module for it.

/// Installs the process-wide TLS crypto provider (ring) once. Safe to call
/// repeatedly; later calls do nothing. Call it before building a
/// `reqwest::Client`.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An error and its sources on one line: HTTP client errors (reqwest's)
/// say little at the top ("error sending request") and the cause below.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn the_chain_names_every_source_in_order() {
        assert_eq!(error_chain(&Outer(Inner)), "outer: inner");
        assert_eq!(error_chain(&Inner), "inner");
    }
}
