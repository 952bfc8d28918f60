//! `tls_server_config`: versions, client authentication, the unsupported
//! toolkit keys, and the certificate, key and client CA files.

use std::path::PathBuf;

use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{Context, boolean, quote};
use crate::webconfig::Tls;
use crate::webconfig::raw::RawTls;
use crate::webconfig::tls::{self, BuildError, ClientAuth, TlsOptions, TlsVersion};

const CLIENT_AUTH_TYPES: &str = "NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert";

/// A toolkit key this exporter does not implement: its name, whether the
/// file sets it, and what to do instead.
type Unsupported = (&'static str, fn(&RawTls) -> bool, &'static str);

/// The toolkit keys this exporter does not implement, reported in this
/// order.
const UNSUPPORTED: [Unsupported; 6] = [
    (
        "cert",
        |r| r.cert.is_some(),
        "put the certificate in a file and name it in cert_file",
    ),
    (
        "key",
        |r| r.key.is_some(),
        "put the private key in a file and name it in key_file",
    ),
    (
        "client_ca",
        |r| r.client_ca.is_some(),
        "put the CA certificates in a file and name it in client_ca_file",
    ),
    (
        "client_allowed_sans",
        |r| r.client_allowed_sans.is_some(),
        "issue client certificates from a CA of their own and name it in client_ca_file",
    ),
    (
        "cipher_suites",
        |r| r.cipher_suites.is_some(),
        "rustls offers only modern AEAD cipher suites (remove the key)",
    ),
    (
        "curve_preferences",
        |r| r.curve_preferences.is_some(),
        "rustls offers X25519, P-256 and P-384 (remove the key)",
    ),
];

/// The file names as written, trimmed; an empty one counts as absent.
struct FileNames {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
}

impl FileNames {
    fn of(raw: &RawTls) -> Self {
        let written = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Self {
            cert: written(&raw.cert_file),
            key: written(&raw.key_file),
            client_ca: written(&raw.client_ca_file),
        }
    }
}

/// What the files hold: the certificate chain, its key and, when client
/// certificates are verified, the CA certificates to verify them against.
struct Material {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    roots: Option<RootCertStore>,
}

fn version(
    ctx: &mut Context<'_>,
    field: &str,
    value: Option<&str>,
    default: TlsVersion,
) -> TlsVersion {
    let path = format!("tls_server_config.{field}");
    match value.map(str::trim) {
        None => default,
        Some("TLS12") => TlsVersion::Tls12,
        Some("TLS13") => TlsVersion::Tls13,
        Some("TLS10" | "TLS11") => {
            ctx.problem(
                &path,
                "obsolete TLS 1.0 and 1.1 are not supported (rustls implements only TLS 1.2 and \
                 1.3); expected TLS12 or TLS13",
            );
            default
        }
        Some(other) => {
            ctx.problem(
                &path,
                format!("unknown value {}; expected TLS12 or TLS13", quote(other)),
            );
            default
        }
    }
}

fn client_auth(ctx: &mut Context<'_>, value: Option<&str>) -> ClientAuth {
    let path = "tls_server_config.client_auth_type";
    match value.map(str::trim) {
        None | Some("NoClientCert") => ClientAuth::None,
        Some("VerifyClientCertIfGiven") => ClientAuth::VerifyIfGiven,
        Some("RequireAndVerifyClientCert") => ClientAuth::RequireAndVerify,
        Some(v @ ("RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert")) => {
            ctx.problem(
                path,
                format!(
                    "{} is not supported: a client certificate that is not verified proves nothing; \
                     expected one of: {CLIENT_AUTH_TYPES}",
                    quote(v)
                ),
            );
            ClientAuth::None
        }
        Some(other) => {
            ctx.problem(
                path,
                format!(
                    "unknown value {}; expected one of: {CLIENT_AUTH_TYPES}",
                    quote(other)
                ),
            );
            ClientAuth::None
        }
    }
}

/// Resolves `tls_server_config`: every problem is recorded in `ctx`, in the
/// order a reader meets the keys; every file read is added to `files` (so a
/// reload notices when it changes). `None` when a problem was recorded.
pub(super) fn tls_config(
    raw: RawTls,
    ctx: &mut Context<'_>,
    files: &mut Vec<PathBuf>,
) -> Option<Tls> {
    for (field, present, instead) in UNSUPPORTED {
        if present(&raw) {
            ctx.problem(
                &format!("tls_server_config.{field}"),
                format!("not supported by this exporter; {instead}"),
            );
        }
    }
    let options = options(&raw, ctx);
    let names = FileNames::of(&raw);
    require_cert_and_key(ctx, &names);
    match_client_ca(ctx, options.client_auth, names.client_ca.is_some());
    let material = read_files(ctx, &names, files)?;
    if !ctx.problems.is_empty() {
        return None;
    }
    match tls::build(material.certs, material.key, material.roots, options) {
        Ok(server) => Some(Tls { server, options }),
        Err(BuildError::Key(m)) => ctx.report("tls_server_config.key_file", Err(m)),
        Err(BuildError::ClientCa(m)) => ctx.report("tls_server_config.client_ca_file", Err(m)),
        Err(BuildError::Other(m)) => ctx.report("tls_server_config", Err(m)),
    }
}

/// The protocol settings: versions (and their order), client
/// authentication, cipher suite preference.
fn options(raw: &RawTls, ctx: &mut Context<'_>) -> TlsOptions {
    let min_version = version(
        ctx,
        "min_version",
        raw.min_version.as_deref(),
        TlsVersion::Tls12,
    );
    let max_version = version(
        ctx,
        "max_version",
        raw.max_version.as_deref(),
        TlsVersion::Tls13,
    );
    if min_version > max_version {
        ctx.problem(
            "tls_server_config.max_version",
            format!(
                "max_version {} is lower than min_version {}; expected a version >= min_version",
                max_version.name(),
                min_version.name()
            ),
        );
    }
    let client_auth = client_auth(ctx, raw.client_auth_type.as_deref());
    let prefer_server_cipher_suites = match raw.prefer_server_cipher_suites.as_deref() {
        None => true,
        Some(text) => ctx
            .report(
                "tls_server_config.prefer_server_cipher_suites",
                boolean(text),
            )
            .unwrap_or(true),
    };
    TlsOptions {
        min_version,
        max_version,
        client_auth,
        prefer_server_cipher_suites,
    }
}

/// TLS needs both `cert_file` and `key_file`: names the one that is empty,
/// or those that are missing.
fn require_cert_and_key(ctx: &mut Context<'_>, names: &FileNames) {
    let missing: Vec<&str> = [("cert_file", &names.cert), ("key_file", &names.key)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if missing.is_empty() {
        return;
    }
    const NEEDS: &str =
        "TLS needs both cert_file and key_file (leave tls_server_config out to serve plain HTTP)";
    match missing.as_slice() {
        [one] if ctx.index.contains(&format!("tls_server_config.{one}")) => {
            ctx.problem(
                &format!("tls_server_config.{one}"),
                format!("the value is empty; {NEEDS}"),
            );
        }
        _ => ctx.problem(
            "tls_server_config",
            format!(
                "missing {}; {NEEDS}",
                missing
                    .iter()
                    .map(|k| quote(k))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
    }
}

/// A client CA file and verified client certificates go together.
fn match_client_ca(ctx: &mut Context<'_>, client_auth: ClientAuth, has_ca_file: bool) {
    match (client_auth, has_ca_file) {
        (ClientAuth::None, true) => ctx.problem(
            "tls_server_config.client_ca_file",
            "client_ca_file is set but client_auth_type is NoClientCert (the default); \
             set client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven",
        ),
        (ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify, false) => ctx.problem(
            "tls_server_config.client_auth_type",
            "verifying client certificates needs client_ca_file, the CA certificates to verify them against",
        ),
        _ => {}
    }
}

/// Reads the certificate, key and client CA files, relative to the config
/// file's folder; each one named is added to `files`, read or not. `None`
/// when one is missing or unreadable (the problem is recorded).
fn read_files(
    ctx: &mut Context<'_>,
    names: &FileNames,
    files: &mut Vec<PathBuf>,
) -> Option<Material> {
    let base = ctx.base_dir.to_path_buf();
    let resolve = |w: &str| -> PathBuf { base.join(w).components().collect() };
    let certs = names.cert.as_deref().map(resolve).and_then(|p| {
        files.push(p.clone());
        ctx.report(
            "tls_server_config.cert_file",
            tls::read_certs(&p, "certificate"),
        )
    });
    let key = names.key.as_deref().map(resolve).and_then(|p| {
        files.push(p.clone());
        ctx.report("tls_server_config.key_file", tls::read_key(&p))
    });
    let roots = match names.client_ca.as_deref().map(resolve) {
        Some(p) => {
            files.push(p.clone());
            Some(ctx.report("tls_server_config.client_ca_file", tls::read_client_ca(&p))?)
        }
        None => None,
    };
    Some(Material {
        certs: certs?,
        key: key?,
        roots,
    })
}
