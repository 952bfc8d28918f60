//! The state of one validation run and the helpers every check uses to
//! report a problem at the right line and column.

use std::path::Path;
use std::time::Duration;

use super::positions::{PositionIndex, join, parent};
use super::problem::{Problems, quote};
use super::{checks, duration};

/// The state of one validation run.
pub(crate) struct Context<'a> {
    /// Where every path is in the file.
    pub index: &'a PositionIndex,
    /// Problems found so far.
    pub problems: Problems,
    /// Warnings found so far (the config still loads).
    pub warnings: Problems,
    /// Directory relative secret-file paths are resolved against.
    pub base_dir: &'a Path,
    /// Environment-variable lookup (injectable for tests).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Context<'_> {
    /// Records a problem with the field at `path`, pointing at it (or at the
    /// nearest enclosing node that is in the file).
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        let position = self.position(path);
        self.problems.push(position, path, message);
    }

    /// Records a warning with the field at `path`, pointing at its key.
    pub fn warning(&mut self, path: &str, message: impl Into<String>) {
        let position = self.index.key_at(path);
        self.warnings.push(position, path, message);
    }

    fn position(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(pos) = self.index.at(p) {
                return Some(pos);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// A required text field of the mapping at `parent`: reports it when
    /// missing, empty or blank and returns it otherwise.
    pub fn required<'v>(
        &mut self,
        parent: &str,
        field: &str,
        value: &'v Option<String>,
        accepted: &str,
    ) -> Option<&'v str> {
        let path = join(parent, field);
        match value.as_deref() {
            Some(v) if !v.trim().is_empty() => Some(v),
            Some(_) => {
                self.problem(&path, format!("the value is empty; {accepted}"));
                None
            }
            None if self.index.contains(&path) => {
                self.problem(&path, format!("no value given; {accepted}"));
                None
            }
            None => {
                let position = self.index.key_at(parent).or_else(|| self.position(parent));
                self.problems.push(
                    position,
                    parent,
                    format!("missing required field {}; {accepted}", quote(field)),
                );
                None
            }
        }
    }

    /// An optional duration at `path`: `default` when absent, else parsed
    /// and checked against `min` (`None` for "greater than 0").
    pub fn duration(
        &mut self,
        path: &str,
        value: &Option<String>,
        default: Duration,
        min: Option<Duration>,
    ) -> Option<Duration> {
        let Some(text) = value.as_deref() else {
            return Some(default);
        };
        let checked = duration::parse_duration(text).and_then(|d| match min {
            Some(min) => checks::at_least(text, d, min),
            None => checks::positive(text, d),
        });
        self.report(path, checked)
    }

    /// Records the error of `result` at `path`, passing a value through.
    pub fn report<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.problem(path, message)).ok()
    }
}
