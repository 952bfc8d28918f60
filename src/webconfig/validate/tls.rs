//! `tls_server_config`: versions, client authentication, the unsupported
//! toolkit keys, and the certificate, key and client CA files.

use std::path::PathBuf;

use crate::config::{Context, boolean, quote};
use crate::webconfig::Tls;
use crate::webconfig::raw::RawTls;
use crate::webconfig::tls::{self, BuildError, ClientAuth, TlsOptions, TlsVersion};

const CLIENT_AUTH_TYPES: &str = "NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert";

fn unsupported(ctx: &mut Context<'_>, present: bool, field: &str, instead: &str) {
    if present {
        ctx.problem(
            &format!("tls_server_config.{field}"),
            format!("not supported by this exporter; {instead}"),
        );
    }
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

pub(super) fn tls_config(
    raw: RawTls,
    ctx: &mut Context<'_>,
    files: &mut Vec<PathBuf>,
) -> Option<Tls> {
    unsupported(
        ctx,
        raw.cert.is_some(),
        "cert",
        "put the certificate in a file and name it in cert_file",
    );
    unsupported(
        ctx,
        raw.key.is_some(),
        "key",
        "put the private key in a file and name it in key_file",
    );
    unsupported(
        ctx,
        raw.client_ca.is_some(),
        "client_ca",
        "put the CA certificates in a file and name it in client_ca_file",
    );
    unsupported(
        ctx,
        raw.client_allowed_sans.is_some(),
        "client_allowed_sans",
        "issue client certificates from a CA of their own and name it in client_ca_file",
    );
    unsupported(
        ctx,
        raw.cipher_suites.is_some(),
        "cipher_suites",
        "rustls offers only modern AEAD cipher suites (remove the key)",
    );
    unsupported(
        ctx,
        raw.curve_preferences.is_some(),
        "curve_preferences",
        "rustls offers X25519, P-256 and P-384 (remove the key)",
    );

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

    let written = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (cert_file, key_file) = (written(&raw.cert_file), written(&raw.key_file));
    if cert_file.is_none() || key_file.is_none() {
        let missing: Vec<&str> = [("cert_file", &cert_file), ("key_file", &key_file)]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        const NEEDS: &str = "TLS needs both cert_file and key_file (leave tls_server_config out to serve plain HTTP)";
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
    let ca_file = written(&raw.client_ca_file);
    match (client_auth, &ca_file) {
        (ClientAuth::None, Some(_)) => ctx.problem(
            "tls_server_config.client_ca_file",
            "client_ca_file is set but client_auth_type is NoClientCert (the default); \
             set client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven",
        ),
        (ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify, None) => ctx.problem(
            "tls_server_config.client_auth_type",
            "verifying client certificates needs client_ca_file, the CA certificates to verify them against",
        ),
        _ => {}
    }

    let base = ctx.base_dir.to_path_buf();
    let resolve = |w: &str| -> PathBuf { base.join(w).components().collect() };
    let certs = cert_file.as_deref().map(resolve).and_then(|p| {
        files.push(p.clone());
        ctx.report(
            "tls_server_config.cert_file",
            tls::read_certs(&p, "certificate"),
        )
    });
    let key = key_file.as_deref().map(resolve).and_then(|p| {
        files.push(p.clone());
        ctx.report("tls_server_config.key_file", tls::read_key(&p))
    });
    let roots = match ca_file.as_deref().map(resolve) {
        Some(p) => {
            files.push(p.clone());
            Some(ctx.report("tls_server_config.client_ca_file", tls::read_client_ca(&p))?)
        }
        None => None,
    };
    let (certs, key) = (certs?, key?);
    if !ctx.problems.is_empty() {
        return None;
    }
    let options = TlsOptions {
        min_version,
        max_version,
        client_auth,
        prefer_server_cipher_suites,
    };
    match tls::build(certs, key, roots, options) {
        Ok(server) => Some(Tls { server, options }),
        Err(BuildError::Key(m)) => ctx.report("tls_server_config.key_file", Err(m)),
        Err(BuildError::ClientCa(m)) => ctx.report("tls_server_config.client_ca_file", Err(m)),
        Err(BuildError::Other(m)) => ctx.report("tls_server_config", Err(m)),
    }
}
