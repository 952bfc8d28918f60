//! The files `alerting.alertmanager` names: the basic-auth password, the
//! bearer token and TLS certificates and key. They are read when the config
//! is loaded (and on each reload), so a missing or wrong file is reported
//! by `--config.check`. Relative paths are relative to the config file's
//! directory, as for `client_secret_file`.
//!
//! No message written here contains a file's content; a secret file's path
//! without a `/` is not shown either (it might be the secret itself).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::problem::quote;
use crate::secret::Secret;

/// Files larger than this are refused (the wrong file, surely).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// `written` joined to `base_dir`, with `./` parts dropped.
pub(super) fn resolve(base_dir: &Path, written: &str) -> PathBuf {
    base_dir.join(written).components().collect()
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut content = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut content)?;
    Ok(content)
}

/// Reads a one-line secret (`what`: "password", "bearer token") from the
/// file written as `written`: trimmed, non-empty, no control characters.
pub(super) fn secret(
    written: &str,
    base_dir: &Path,
    what: &str,
) -> Result<(Secret, PathBuf), String> {
    if written.trim().is_empty() {
        return Err(format!(
            "the value is empty; expected the path of a file holding the {what}"
        ));
    }
    let path = resolve(base_dir, written);
    let shown = quote(&path.display().to_string());
    let content = read_bounded(&path).map_err(|e| {
        if written.contains('/') {
            format!("cannot read the {what} file {shown}: {e}")
        } else {
            format!(
                "cannot read the {what} file: {e}; the path is not shown because it has no \"/\" \
                 and might be the {what} itself (write ./NAME for a file next to the config file)"
            )
        }
    })?;
    if content.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the {what} file {shown} is larger than 64 KiB; expected a file holding only the {what}"
        ));
    }
    let text = String::from_utf8(content)
        .map_err(|_| format!("the {what} file {shown} is not UTF-8 text"))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!(
            "the {what} file {shown} is empty; expected it to hold the {what}"
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!(
            "the {what} file {shown} holds more than one line or a control character; \
             expected only the {what} (surrounding whitespace and a trailing newline are fine)"
        ));
    }
    Ok((Secret::new(trimmed), path))
}

/// Reads a PEM file that is not secret (a CA bundle, a certificate).
pub(super) fn pem(
    written: &str,
    base_dir: &Path,
    what: &str,
) -> Result<(Vec<u8>, PathBuf), String> {
    if written.trim().is_empty() {
        return Err(format!(
            "the value is empty; expected the path of a PEM {what} file"
        ));
    }
    let path = resolve(base_dir, written);
    let shown = quote(&path.display().to_string());
    let content =
        read_bounded(&path).map_err(|e| format!("cannot read the {what} file {shown}: {e}"))?;
    if content.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the {what} file {shown} is larger than 64 KiB; expected a PEM {what} file"
        ));
    }
    Ok((content, path))
}

/// Checks that a CA bundle holds at least one PEM certificate.
pub(super) fn check_ca(pem: &[u8], path: &Path) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(pem) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        _ => Err(format!(
            "the CA file {} holds no PEM certificate; expected one or more -----BEGIN CERTIFICATE----- blocks",
            quote(&path.display().to_string())
        )),
    }
}

/// Reads the client key (secret) and checks it pairs with `cert` as a
/// PEM identity. Returns certificate and key as one PEM.
pub(super) fn client_identity(
    cert: &[u8],
    key_written: &str,
    base_dir: &Path,
) -> Result<(Secret, PathBuf), String> {
    let (key, key_path) = pem(key_written, base_dir, "key")?;
    let mut both = cert.to_vec();
    both.push(b'\n');
    both.extend_from_slice(&key);
    let text = String::from_utf8(both).map_err(|_| {
        "the certificate or key file is not PEM text; expected PEM files (-----BEGIN ...)"
            .to_string()
    })?;
    reqwest::Identity::from_pem(text.as_bytes()).map_err(|_| {
        format!(
            "the key file {} and the certificate file do not form a PEM certificate and private key; \
             expected a PEM certificate in cert_file and its PEM private key in key_file",
            quote(&key_path.display().to_string())
        )
    })?;
    Ok((Secret::new(text), key_path))
}
