//! Config problems and the error that carries them.
//!
//! A [`Problem`] prints as `FILE:LINE:COL: PATH: MESSAGE`, the format of
//! compilers and `promtool`, so editors can jump to it. Messages start in
//! lower case, say what is wrong and what would be accepted, and never
//! contain a secret.

use std::fmt;

/// A configuration error: every problem found, each with its place.
///
/// `Display` prints one problem per line, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The problems, in file order (problems without a position last).
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// An error with a single problem.
    pub fn single(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// An error with a single problem about the whole file (no field path):
    /// it cannot be read, or its top level is not a mapping.
    pub fn whole_file(file: &str, position: Option<(usize, usize)>, message: String) -> Self {
        Self::single(Problem {
            file: file.to_string(),
            position,
            path: String::new(),
            message,
        })
    }
}

/// One problem in a config file (or one warning about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based line and column (columns count characters), when known.
    pub position: Option<(usize, usize)>,
    /// Field path such as `environments[1].region`; empty for the whole file.
    pub path: String,
    /// What is wrong and what would be accepted; starts in lower case.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects problems for one file, then sorts them into file order.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    list: Vec<Problem>,
}

impl Problems {
    /// An empty collector for `file` (the path as given).
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            list: Vec::new(),
        }
    }

    /// Records a problem at `position` about the field at `path`.
    pub(crate) fn push(
        &mut self,
        position: Option<(usize, usize)>,
        path: &str,
        message: impl Into<String>,
    ) {
        self.list.push(Problem {
            file: self.file.clone(),
            position,
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// True when nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems in file order: by position, problems without a
    /// position last, ties in the order they were found.
    pub(crate) fn into_sorted(mut self) -> Vec<Problem> {
        self.list
            .sort_by_key(|p| p.position.map_or((1, 0, 0), |(l, c)| (0, l, c)));
        self.list
    }
}

/// Quotes user-written text for a message: double quotes, control
/// characters escaped, cut to 80 characters so one line stays readable.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::from("\"");
    for (i, ch) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.extend(c.escape_default());
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Joins field names as `a, b and c` for messages.
pub(crate) fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The accepted name closest to `given`, when it is a plausible typo
/// (edit distance at most 2, or one is a prefix of the other).
pub(crate) fn did_you_mean<'a>(given: &str, accepted: &[&'a str]) -> Option<&'a str> {
    accepted
        .iter()
        .map(|name| (edit_distance(given, name), *name))
        .filter(|(d, name)| *d <= 2 || (given.len() >= 4 && name.starts_with(given)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Levenshtein distance between two short strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_omits_what_is_unknown() {
        let mut p = Problem {
            file: "c.yml".into(),
            position: Some((3, 18)),
            path: "global.poll_interval".into(),
            message: "too short".into(),
        };
        assert_eq!(p.to_string(), "c.yml:3:18: global.poll_interval: too short");
        p.position = None;
        p.path.clear();
        assert_eq!(p.to_string(), "c.yml: too short");
    }

    #[test]
    fn sorted_in_file_order() {
        let mut ps = Problems::new("f");
        ps.push(None, "x", "no position");
        ps.push(Some((9, 1)), "b", "second");
        ps.push(Some((2, 5)), "a", "first");
        let order: Vec<_> = ps.into_sorted().into_iter().map(|p| p.message).collect();
        assert_eq!(order, ["first", "second", "no position"]);
    }

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(quote(&"x".repeat(100)).chars().count(), 83);
    }

    #[test]
    fn suggestions() {
        let keys = ["poll_interval", "request_timeout"];
        assert_eq!(did_you_mean("poll_intervall", &keys), Some("poll_interval"));
        assert_eq!(did_you_mean("request", &keys), Some("request_timeout"));
        assert_eq!(did_you_mean("zzz", &keys), None);
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }
}
