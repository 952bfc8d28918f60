//! The entry points: read a config file (or text), index it, deserialize
//! it and validate it into a [`Config`].

use std::path::Path;

use super::positions::NodeKind;
use super::{Config, ConfigError, context, problem, raw, validate, yaml};

/// Loads and validates a config file, reading secrets from the process
/// environment (`client_secret_env`; a value that is not valid Unicode
/// counts as unset). See [`load_with`].
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &|name| std::env::var(name).ok())
}

/// Loads and validates a config file; `env` looks up environment variables
/// (`client_secret_env`), so tests can inject them.
///
/// Problems name the file as `path` displays, so pass the path the user
/// gave. Relative `client_secret_file` paths are resolved against the
/// directory of `path`. On success, [`Config::warnings`] lists what is
/// accepted but discouraged.
pub fn load_with(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::whole_file(&file, None, format!("cannot read the config file: {e}"))
    })?;
    load_str(&source, &file, env)
}

/// Validates config text. `file` names it in problems, and relative
/// `client_secret_file` paths are resolved against its directory.
pub fn load_str(
    source: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let index = yaml::index(source, file)?;
    let root = index.get("").map(|e| (e.kind, e.value));
    let whole_file = |position, message| ConfigError::whole_file(file, position, message);
    match root {
        Some((NodeKind::Mapping, _)) => {}
        Some((NodeKind::Null, _)) | None => {
            return Err(whole_file(
                Some((1, 1)),
                "the file is empty; expected a mapping with at least `environments:` \
                 (see config/example.yml)"
                    .to_string(),
            ));
        }
        Some((kind, position)) => {
            return Err(whole_file(
                Some(position),
                format!(
                    "expected a mapping with the keys global, budgets, environments, alerting, found {}",
                    kind.describe()
                ),
            ));
        }
    }
    let raw: raw::RawConfig = yaml::typed(source, file, &index)?;
    let base_dir = Path::new(file).parent().unwrap_or(Path::new(""));
    let mut ctx = context::Context {
        index: &index,
        problems: problem::Problems::new(file),
        warnings: problem::Problems::new(file),
        base_dir,
        env,
    };
    let config = validate::validate(raw, &mut ctx);
    validate::finish(config, ctx).map_err(|problems| ConfigError { problems })
}
