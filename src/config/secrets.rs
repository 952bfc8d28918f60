//! `credentials:`: the client id and the one source of the client secret.
//!
//! The secret is read at load time, so a missing file or unset variable is
//! a config error and not a failed poll an hour later. It is read from
//! exactly one of `client_secret_file` (a path; relative paths are resolved
//! against the config file's directory), `client_secret_env` (a variable
//! name) or `client_secret` (inline, accepted with a warning). Surrounding
//! whitespace, such as the trailing newline most editors and
//! `kubectl create secret` leave, is trimmed.
//!
//! No message written here contains the secret: they name the file or the
//! variable and say what is wrong with the content, never what it is.

use std::io::Read;
use std::path::Path;

use super::context::Context;
use super::positions::join;
use super::problem::{join_and, quote};
use super::raw::RawCredentials;
use super::{Credentials, SecretSource, checks};
use crate::secret::Secret;

/// The secret-source keys, in the order messages list them.
const SOURCES: [&str; 3] = ["client_secret_file", "client_secret_env", "client_secret"];

/// Secret files larger than this are refused (a secret is a short string;
/// a big file is the wrong file).
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// What `credentials:` must hold, for messages.
pub(crate) const CREDENTIALS_SHAPE: &str = "expected a mapping with client_id and one of client_secret_file, client_secret_env, client_secret";

/// Resolves `credentials:` at `path` for the environment whose (valid) id
/// is `environment_id`. Reports every problem; `None` when there was one.
pub(crate) fn credentials(
    path: &str,
    raw: RawCredentials,
    environment_id: Option<&str>,
    ctx: &mut Context<'_>,
) -> Option<Credentials> {
    let client_id = ctx
        .required(
            path,
            "client_id",
            &raw.client_id,
            "expected the worker app's client id",
        )
        .map(str::to_string);
    let worker_environment_id = match raw.worker_environment_id.as_deref() {
        None => environment_id.map(str::to_string),
        Some(text) => ctx.report(
            &join(path, "worker_environment_id"),
            checks::uuid(text, "the id of the environment the worker app lives in"),
        ),
    };
    let secret = secret(path, &raw, ctx);
    let (client_secret, secret_source) = secret?;
    Some(Credentials {
        client_id: client_id?,
        client_secret,
        secret_source,
        worker_environment_id: worker_environment_id?,
    })
}

/// Picks the one configured source and reads the secret from it.
fn secret(
    path: &str,
    raw: &RawCredentials,
    ctx: &mut Context<'_>,
) -> Option<(Secret, SecretSource)> {
    // A key written without a value still counts as "given".
    let given: Vec<&str> = SOURCES
        .into_iter()
        .filter(|key| ctx.index.contains(&join(path, key)))
        .collect();
    let rule = format!("exactly one of {} must be set", SOURCES.join(", "));
    match given.as_slice() {
        [] => {
            ctx.problem(path, format!("{rule}; found none"));
            return None;
        }
        [_] => {}
        many => {
            ctx.problem(path, format!("{rule}; found {}", join_and(many)));
            return None;
        }
    }
    if let Some(file) = raw.client_secret_file.as_deref() {
        let field = join(path, "client_secret_file");
        // `components()` drops `./` parts: `config/./s.txt` → `config/s.txt`.
        let resolved: std::path::PathBuf = ctx.base_dir.join(file).components().collect();
        let secret = ctx.report(&field, read_file(file, &resolved))?;
        return Some((secret, SecretSource::File(resolved)));
    }
    if let Some(var) = raw.client_secret_env.as_deref() {
        let field = join(path, "client_secret_env");
        let secret = ctx.report(&field, read_env(var, ctx.env))?;
        return Some((secret, SecretSource::Env(var.to_string())));
    }
    if let Some(inline) = raw.client_secret.as_deref() {
        let field = join(path, "client_secret");
        let secret = ctx.report(&field, check_secret(inline, "the inline client secret"))?;
        ctx.warning(
            &field,
            "an inline client secret is discouraged: it ends up in version control and backups; \
             use client_secret_file or client_secret_env instead",
        );
        return Some((secret, SecretSource::Inline));
    }
    // The one key given has no value.
    let hint = match given.first().copied() {
        Some("client_secret_file") => "expected the path of a file holding the client secret",
        Some("client_secret_env") => {
            "expected the name of an environment variable holding the client secret"
        }
        _ => "expected the client secret",
    };
    let key = given.first().copied().unwrap_or("client_secret");
    ctx.problem(&join(path, key), format!("no value given; {hint}"));
    None
}

/// Reads the secret file. Messages name the path, never the content; a
/// path without a `/` that cannot be read is not shown either, since it
/// may be the secret itself, written where the path belongs.
fn read_file(written: &str, resolved: &Path) -> Result<Secret, String> {
    if written.trim().is_empty() {
        return Err(
            "the value is empty; expected the path of a file holding the client secret".into(),
        );
    }
    let shown = quote(&resolved.display().to_string());
    let mut content = Vec::new();
    std::fs::File::open(resolved)
        .and_then(|f| f.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut content))
        .map_err(|e| {
            if written.contains('/') {
                format!("cannot read the client secret file {shown}: {e}")
            } else {
                format!(
                    "cannot read the client secret file: {e}; the path is not shown because it has no \"/\" \
                     and might be the secret itself (write ./NAME for a file next to the config file)"
                )
            }
        })?;
    if content.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!(
            "the client secret file {shown} is larger than 64 KiB; expected a file holding only the client secret"
        ));
    }
    let content = String::from_utf8(content).map_err(|_| {
        format!(
            "the client secret file {shown} is not UTF-8 text; expected the client secret as text"
        )
    })?;
    check_secret(&content, &format!("the client secret file {shown}"))
}

/// Reads the secret variable. Messages name the variable, never the value;
/// a value that is not a variable name is not shown (it may be the secret).
fn read_env(var: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
    let valid_name = var.bytes().next().is_some_and(|b| !b.is_ascii_digit())
        && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid_name {
        return Err(
            "the value is not an environment variable name (letters, digits and _, not starting with a digit, \
             such as PINGONE_CLIENT_SECRET); it is not shown in case it is the secret itself"
                .to_string(),
        );
    }
    let value = env(var).ok_or_else(|| {
        format!("the environment variable {var} is not set; expected it to hold the client secret")
    })?;
    check_secret(&value, &format!("the environment variable {var}"))
}

/// Trims surrounding whitespace and checks what is left looks like one
/// secret. `what` names the source for messages.
fn check_secret(content: &str, what: &str) -> Result<Secret, String> {
    let trimmed = content.trim();
    if trimmed.is_empty() {
        return Err(format!(
            "{what} is empty; expected it to hold the client secret"
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!(
            "{what} holds more than one line or a control character; expected only the client secret \
             (surrounding whitespace and a trailing newline are fine)"
        ));
    }
    Ok(Secret::new(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_without_showing_the_value() {
        assert_eq!(
            check_secret("  abc\n", "x").map(|s| s.expose().to_string()),
            Ok("abc".into())
        );
        for bad in ["", " \n", "abc\ndef", "ab\tc"] {
            let e = check_secret(bad, "the source").expect_err(bad);
            assert!(e.starts_with("the source "), "{e}");
        }
        let e = check_secret("s3cr3t\nline2", "the source").expect_err("two lines");
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn env_lookup() {
        let env = |name: &str| (name == "SET").then(|| "value\n".to_string());
        assert_eq!(
            read_env("SET", &env).map(|s| s.expose().to_string()),
            Ok("value".into())
        );
        assert!(read_env("UNSET", &env).is_err_and(|e| e.contains("UNSET is not set")));
        assert!(read_env("A=B", &env).is_err());
        let e = read_env("s3cr3t-value", &env).expect_err("not a name");
        assert!(!e.contains("s3cr3t"), "{e}");
        assert!(read_env("1ABC", &env).is_err());
    }
}
