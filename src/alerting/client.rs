//! The HTTP client every Alertmanager sender of one configuration shares:
//! timeout, TLS (extra CA certificates, client certificate), no redirects.
//! Authentication is added per request by the sender.

use crate::config::Alerting;

/// Why the Alertmanager HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// TLS set-up (certificates, key) or the client itself.
    #[error("building the Alertmanager HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Builds the HTTP client for every Alertmanager of `config`: timeout,
/// extra CA certificates, client certificate, no redirects.
pub fn client(config: &Alerting) -> Result<reqwest::Client, SenderError> {
    crate::outbound::install_crypto_provider();
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("pingone-sync-exporter/", env!("CARGO_PKG_VERSION")))
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        // A redirect could carry the credentials somewhere unexpected.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &config.tls.ca {
        for cert in reqwest::Certificate::from_pem_bundle(&ca.pem)? {
            b = b.add_root_certificate(cert);
        }
    }
    if let Some(c) = &config.tls.client {
        b = b.identity(reqwest::Identity::from_pem(c.pem.expose().as_bytes())?);
    }
    if config.tls.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    Ok(b.build()?)
}
