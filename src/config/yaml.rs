//! The YAML entry points (docs/configuration.md): every YAML file the program reads
//! (the config, simulator scenarios) goes through here. The YAML crate is
//! used only inside the config module (here, `tree.rs`, `positions.rs`).
//!
//! A document is read twice: once into a span-carrying tree (syntax errors,
//! repeated keys, and the position index that maps field paths to lines
//! and columns), then into the caller's `serde` type. Errors from the second
//! pass are rewritten into [`Problem`](super::Problem)s that name the field path (found by
//! position) and say what would be accepted. Messages never quote a scalar
//! value, so a secret in a mistyped field cannot leak through them; only
//! key names and enum variant names are quoted.

use serde::de::DeserializeOwned;
use serde_saphyr::{
    Budget, DuplicateKeyPolicy, Error, MessageFormatter, NonFiniteFloatPolicy, Options, Spanned,
};

use super::ConfigError;
use super::positions::{NodeKind, PositionIndex, is_identifier};
use super::problem::{Problems, did_you_mean, quote};
use super::tree::Node;

/// Parses a YAML document into `T`, rejecting repeated keys.
///
/// The error text is one problem per line, each `line L, column C: PATH:
/// MESSAGE` (without a file name: callers prefix their own). Prefer
/// [`parse`], which returns structured problems with the file name.
pub fn from_str<T: DeserializeOwned>(source: &str) -> Result<T, String> {
    parse(source, "").map_err(|err| {
        err.problems
            .iter()
            .map(|p| {
                let mut line = String::new();
                if let Some((l, c)) = p.position {
                    line.push_str(&format!("line {l}, column {c}: "));
                }
                if !p.path.is_empty() {
                    line.push_str(&format!("{}: ", p.path));
                }
                line.push_str(&p.message);
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Parses a YAML document into `T`; `file` is the name the problems carry
/// (the path as the user gave it).
///
/// Syntax errors and repeated keys are reported with line and column;
/// repeated keys are all reported at once. A type error (a list where a
/// mapping belongs, an unknown field under `deny_unknown_fields`, ...)
/// stops at the first one and names its field path, e.g.
/// `scenario.yml:4:3: tenants[0]: unknown field "nmae"; expected one of:
/// name, id (did you mean "name"?)`.
pub fn parse<T: DeserializeOwned>(source: &str, file: &str) -> Result<T, ConfigError> {
    let index = index(source, file)?;
    typed(source, file, &index)
}

/// Deepest nesting accepted: far beyond any configuration file (they nest
/// five levels), low enough that the recursive passes over the tree stay
/// well within a thread's stack (a file nesting 200 lists deep overflowed
/// it).
pub const MAX_DEPTH: usize = 24;

/// The parser's options shared by both passes: no snippets, bounded depth.
fn options() -> Options {
    let mut options = Options::default();
    options.with_snippet = false;
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    options.budget = Some(budget);
    options
}

/// First pass: reads the document into a tree and indexes it. Fails on
/// YAML syntax errors and repeated keys.
pub(crate) fn index(source: &str, file: &str) -> Result<PositionIndex, ConfigError> {
    let mut options = options();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.non_finite_float_policy = NonFiniteFloatPolicy::AsString;
    let tree: Spanned<Node> = serde_saphyr::from_str_with_options(source, options)
        .map_err(|err| ConfigError::single(translate(&err, None, file)))?;
    let mut problems = Problems::new(file);
    let index = PositionIndex::build(&tree, &mut problems);
    if problems.is_empty() {
        Ok(index)
    } else {
        Err(ConfigError {
            problems: problems.into_sorted(),
        })
    }
}

/// Second pass: deserializes `T`; errors are named with `index`.
pub(crate) fn typed<T: DeserializeOwned>(
    source: &str,
    file: &str,
    index: &PositionIndex,
) -> Result<T, ConfigError> {
    let mut options = options();
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    serde_saphyr::from_str_with_options(source, options)
        .map_err(|err| ConfigError::single(translate(&err, Some(index), file)))
}

/// Turns a YAML-crate error into a problem with a path and a message that
/// says what would be accepted.
fn translate(err: &Error, index: Option<&PositionIndex>, file: &str) -> super::Problem {
    let err = err.without_snippet();
    let position = err.location().filter(|l| l.line() > 0).map(|l| {
        (
            usize::try_from(l.line()).unwrap_or(usize::MAX),
            usize::try_from(l.column()).unwrap_or(usize::MAX),
        )
    });
    let value_path = || -> String {
        match (index, position) {
            (Some(index), Some(pos)) => index.path_of_value(pos).unwrap_or_default().to_string(),
            _ => String::new(),
        }
    };
    let found = |path: &str| -> String {
        index
            .and_then(|i| i.get(path))
            .map_or(String::new(), |e| format!(", found {}", e.kind.describe()))
    };
    let root_is_empty = index
        .and_then(|i| i.get(""))
        .is_some_and(|e| e.kind == NodeKind::Null);

    let (path, message) = match err {
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let key_path = match (index, position) {
                (Some(index), Some(pos)) => index.parent_of_key(pos).unwrap_or_default(),
                _ => "",
            };
            (key_path.to_string(), unknown_field(field, expected))
        }
        Error::SerdeMissingField { field, .. } => (
            value_path(),
            format!("missing required field {}", quote(field)),
        ),
        Error::Unexpected { expected, .. } => {
            let path = value_path();
            let message = format!("expected {}{}", describe_expected(expected), found(&path));
            (path, message)
        }
        Error::InvalidScalar { ty, .. } => {
            let path = value_path();
            (path, format!("expected {}", describe_expected(ty)))
        }
        Error::SerdeInvalidType { expected, .. } => {
            let path = value_path();
            let message = format!("expected {}{}", describe_expected(expected), found(&path));
            (path, message)
        }
        Error::SerdeInvalidValue { expected, .. } => {
            (value_path(), format!("invalid value; expected {expected}"))
        }
        Error::SerdeInvalidLength { len, expected, .. } => (
            value_path(),
            format!("expected {expected}, found {len} items"),
        ),
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            value_path(),
            format!(
                "unknown value {}; expected one of: {}",
                quote(variant),
                expected.join(", ")
            ),
        ),
        Error::DuplicateMappingKey { key, .. } => {
            let shown = key.as_deref().map(quote).unwrap_or_default();
            (
                String::new(),
                format!("duplicate key {shown}; each key may appear once"),
            )
        }
        Error::Eof { .. } if root_is_empty => (
            String::new(),
            "the file is empty; expected a YAML mapping".to_string(),
        ),
        Error::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
            ..
        } => (
            String::new(),
            format!(
                "the YAML nests deeper than {MAX_DEPTH} levels; expected a configuration (it nests at most 5)"
            ),
        ),
        Error::MultipleDocuments { .. } => (
            String::new(),
            "the file holds more than one YAML document (a `---` line); expected exactly one"
                .to_string(),
        ),
        other => {
            let text = serde_saphyr::UserMessageFormatter.format_message(other);
            (String::new(), format!("invalid YAML: {}", sanitize(&text)))
        }
    };
    super::Problem {
        file: file.to_string(),
        position,
        path,
        message,
    }
}

/// `unknown field "x"; expected one of: a, b (did you mean "a"?)`.
///
/// In a mapping that holds secrets (it accepts a field named like
/// `*secret*`, `*password*` or `*token*`), the unknown name is shown only
/// when it looks like a field name (lower-case `snake_case` with an `_`) or
/// is a near-miss of an accepted one: `{client_secret s3cr3t}` (a
/// forgotten colon) makes the secret itself a key.
fn unknown_field(field: &str, expected: &[&str]) -> String {
    let holds_secrets = expected
        .iter()
        .any(|f| f.contains("secret") || f.contains("password") || f.contains("token"));
    let suggestion = did_you_mean(field, expected);
    let safe = is_identifier(field) && (suggestion.is_some() || is_snake_case(field));
    let mut message = if holds_secrets && !safe {
        "unknown field (its name is not shown: this mapping holds secrets)".to_string()
    } else {
        format!("unknown field {}", quote(field))
    };
    if expected.is_empty() {
        message.push_str("; no fields are accepted here");
    } else {
        message.push_str(&format!("; expected one of: {}", expected.join(", ")));
    }
    if let Some(close) = suggestion {
        message.push_str(&format!(" (did you mean {}?)", quote(close)));
    }
    message
}

/// True for lower-case `snake_case` names with at least one `_` and at
/// most 40 characters, like every config key; random secrets are not.
fn is_snake_case(name: &str) -> bool {
    name.len() <= 40
        && name.contains('_')
        && !name.starts_with('_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Words for what the YAML crate or serde expected.
fn describe_expected(expected: &str) -> String {
    match expected {
        "sequence start" | "seq" | "a sequence" => "a list".into(),
        "mapping start" | "map" | "a map" | "empty mapping start" => "a mapping".into(),
        "string scalar" | "scalar" | "string" | "a string" => "a single value (a string)".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number >= 0".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "an integer" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "bool" | "a boolean" => "true or false".into(),
        "char" => "a single character".into(),
        other => sanitize(other),
    }
}

/// One line, no control characters.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        name: String,
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        count: u32,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        User,
        Group,
    }

    fn err(source: &str) -> String {
        match parse::<Doc>(source, "s.yml") {
            Ok(doc) => panic!("parsed: {doc:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // Found by the fuzz test: 200 nested lists overflowed the stack.
        let source = format!("a:\n  {}x\n", "- ".repeat(200));
        let e = err(&source);
        assert!(e.starts_with("s.yml:2:"), "{e}");
        assert!(e.contains("nests deeper than 24 levels"), "{e}");
        let flow = format!("a: {}", "[".repeat(5000));
        assert!(!err(&flow).is_empty());
    }

    #[test]
    fn parses() {
        let doc: Doc =
            parse("name: a\nitems:\n  - count: 3\n    kind: user\n", "s.yml").expect("ok");
        assert_eq!(doc.items.map(|i| i[0].count), Some(3));
        let doc: Doc = from_str("name: b").expect("ok");
        assert_eq!(doc.name, "b");
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            err("name: a\nitems:\n  - count: 3\n    cuont: 4\n"),
            "s.yml:4:5: items[0]: unknown field \"cuont\"; expected one of: count, kind (did you mean \"count\"?)"
        );
        assert_eq!(
            err("name: a\nitems:\n  - count: many\n"),
            "s.yml:3:12: items[0].count: expected a whole number >= 0"
        );
        assert_eq!(
            err("name: a\nitems: x\n"),
            "s.yml:2:8: items: expected a list, found a single value"
        );
        assert_eq!(
            err("name: a\nitems:\n  - count: 1\n    kind: robot\n"),
            "s.yml:4:11: items[0].kind: unknown value \"robot\"; expected one of: user, group"
        );
        assert_eq!(
            err("name: a\nname: b\n"),
            "s.yml:2:1: duplicate key \"name\"; it is first set at line 1, column 1; each key may appear once"
        );
        assert_eq!(
            err(""),
            "s.yml:1:1: the file is empty; expected a YAML mapping"
        );
        assert_eq!(
            err("name: [a\n"),
            "s.yml:1:7: invalid YAML: unclosed bracket '['"
        );
    }

    #[test]
    fn from_str_keeps_line_and_column() {
        let e = from_str::<Doc>("name: a\nbogus: 1\n").expect_err("unknown field");
        assert!(
            e.starts_with("line 2, column 1: unknown field \"bogus\""),
            "{e}"
        );
    }
}
