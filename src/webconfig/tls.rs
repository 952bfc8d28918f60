//! TLS for the web server: reads the certificate, key and client CA files
//! the web config names and builds a rustls [`ServerConfig`] (ring crypto,
//! like the HTTP client).
//!
//! Messages name files and say what was expected; none quotes a file's
//! content (the key file is secret).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::quote;

/// Files larger than this are refused (a CA bundle is a few hundred KiB).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// `client_auth_type`, the subset of the toolkit's values rustls can honour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert` (the default): no client certificate is asked for.
    None,
    /// `VerifyClientCertIfGiven`: a certificate is asked for; one that is
    /// sent must verify against `client_ca_file`.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: a certificate that verifies against
    /// `client_ca_file` is required.
    RequireAndVerify,
}

/// `min_version` / `max_version`: rustls implements TLS 1.2 and 1.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2 (`TLS12`).
    Tls12,
    /// TLS 1.3 (`TLS13`).
    Tls13,
}

impl TlsVersion {
    /// The toolkit's spelling.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }

    fn rustls(self) -> &'static SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// Everything [`build`] needs besides the files.
#[derive(Clone, Copy, Debug)]
pub struct TlsOptions {
    /// Lowest protocol version accepted.
    pub min_version: TlsVersion,
    /// Highest protocol version accepted (>= `min_version`).
    pub max_version: TlsVersion,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// Pick the cipher suite by the server's preference order.
    pub prefer_server_cipher_suites: bool,
}

fn shown(path: &Path) -> String {
    quote(&path.display().to_string())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let mut content = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut content))
        .map_err(|e| format!("cannot read the {what} file {}: {e}", shown(path)))?;
    if content.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the {what} file {} is larger than 1 MiB; expected a PEM {what} file",
            shown(path)
        ));
    }
    Ok(content)
}

/// Reads a PEM file of one or more certificates (a chain, or a CA bundle).
pub fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the {what} file {} is not valid PEM: {e}", shown(path)))?;
    if certs.is_empty() {
        return Err(format!(
            "the {what} file {} holds no PEM certificate; expected one or more \
             -----BEGIN CERTIFICATE----- blocks",
            shown(path)
        ));
    }
    Ok(certs)
}

/// Reads the PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC). The error
/// never carries the parser's detail, which could quote the content.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path, "key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        format!(
            "the key file {} holds no PEM private key; expected a -----BEGIN PRIVATE KEY----- \
             (or RSA PRIVATE KEY, EC PRIVATE KEY) block",
            shown(path)
        )
    })
}

/// Reads the client CA bundle into a root store.
pub fn read_client_ca(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path, "client CA")? {
        roots.add(cert).map_err(|e| {
            format!(
                "the client CA file {} holds a certificate that cannot be used as a CA: {e}",
                shown(path)
            )
        })?;
    }
    Ok(roots)
}

/// Why [`build`] failed, by the file to blame.
#[derive(Debug)]
pub enum BuildError {
    /// The key does not fit the certificate, or cannot be used.
    Key(String),
    /// The client CA cannot verify anything.
    ClientCa(String),
    /// Anything else (protocol versions).
    Other(String),
}

/// Builds the server's TLS configuration. Offers ALPN `http/1.1`.
pub fn build(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<RootCertStore>,
    opts: TlsOptions,
) -> Result<Arc<ServerConfig>, BuildError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static SupportedProtocolVersion> = [TlsVersion::Tls12, TlsVersion::Tls13]
        .into_iter()
        .filter(|v| (opts.min_version..=opts.max_version).contains(v))
        .map(TlsVersion::rustls)
        .collect();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| BuildError::Other(format!("TLS versions: {e}")))?;
    let builder = match (opts.client_auth, client_ca) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(roots)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == ClientAuth::VerifyIfGiven {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| BuildError::ClientCa(format!("the client CA cannot be used: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        BuildError::Key(match e {
            rustls::Error::InconsistentKeys(_) => {
                "the private key does not belong to the certificate in cert_file; expected the key \
                 of cert_file's first certificate"
                    .to_string()
            }
            _ => format!("the private key cannot be used: {e}"),
        })
    })?;
    config.ignore_client_order = opts.prefer_server_cipher_suites;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
