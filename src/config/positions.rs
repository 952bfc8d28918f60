//! A position index of a YAML document: field path → line and column.
//!
//! The document is first read into a span-carrying node tree (every key and
//! value wrapped in `serde_saphyr::Spanned`), then flattened into a map from
//! field paths (`environments[1].region`) to the position of the key and of
//! the value. Semantic checks use it to point at the offending key or value,
//! and typed-deserialization errors use the reverse lookup (position → path)
//! to name the field. Repeated keys are found here too, all at once.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::problem::{Problems, quote};
use super::tree::Node;

/// A 1-based (line, column) pair; columns count characters.
pub type Pos = (usize, usize);

/// What kind of YAML node sits at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `~`, `null` or nothing at all.
    Null,
    /// A string, number or boolean.
    Scalar,
    /// A sequence (`- a` or `[a, b]`).
    List,
    /// A mapping (`k: v` or `{k: v}`).
    Mapping,
}

impl NodeKind {
    /// The kind as a message says it: `a list`, `a mapping`, ...
    pub fn describe(self) -> &'static str {
        match self {
            NodeKind::Null => "an empty value",
            NodeKind::Scalar => "a single value",
            NodeKind::List => "a list",
            NodeKind::Mapping => "a mapping",
        }
    }
}

/// Where one node of the document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position of the key, for mapping values; `None` for list items and the root.
    pub key: Option<Pos>,
    /// Position of the value (for block collections: their first item).
    pub value: Pos,
    /// The value's kind.
    pub kind: NodeKind,
}

/// Field path → [`Entry`] for every node of a document.
#[derive(Clone, Debug, Default)]
pub struct PositionIndex {
    entries: HashMap<String, Entry>,
    /// Paths in document order, for reverse lookups.
    order: Vec<String>,
    /// Key position → path of the mapping holding the key.
    key_parents: HashMap<Pos, String>,
}

impl PositionIndex {
    /// The entry at `path` (`""` is the root).
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// True when the document has a node at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// Where to point for a problem with the field at `path`: the value of a
    /// scalar, the key of a collection or empty value, the first key of a
    /// list item. `None` when the path is not in the document.
    pub fn at(&self, path: &str) -> Option<Pos> {
        let e = self.entries.get(path)?;
        match (e.kind, e.key) {
            (NodeKind::Scalar, _) | (_, None) => Some(e.value),
            (_, Some(key)) => Some(key),
        }
    }

    /// The key position of `path`, falling back to [`PositionIndex::at`].
    pub fn key_at(&self, path: &str) -> Option<Pos> {
        self.entries.get(path)?.key.or_else(|| self.at(path))
    }

    /// The path of the mapping holding the key written at `pos`.
    pub fn parent_of_key(&self, pos: Pos) -> Option<&str> {
        self.key_parents.get(&pos).map(String::as_str)
    }

    /// The outermost path whose value starts at `pos`.
    pub fn path_of_value(&self, pos: Pos) -> Option<&str> {
        self.order
            .iter()
            .filter(|p| self.entries.get(*p).is_some_and(|e| e.value == pos))
            .min_by_key(|p| depth(p))
            .map(String::as_str)
    }

    /// Builds the index from a parsed tree, reporting repeated keys (each
    /// at its second occurrence, naming the first) into `problems`.
    pub(crate) fn build(root: &Spanned<Node>, problems: &mut Problems) -> Self {
        let mut index = Self::default();
        index.walk(String::new(), None, root, problems);
        index
    }

    fn walk(
        &mut self,
        path: String,
        key: Option<Pos>,
        node: &Spanned<Node>,
        problems: &mut Problems,
    ) {
        let kind = match &node.value {
            Node::Null => NodeKind::Null,
            Node::Scalar => NodeKind::Scalar,
            Node::List(_) => NodeKind::List,
            Node::Mapping(_) => NodeKind::Mapping,
        };
        let value = pos(&node.referenced);
        self.entries
            .insert(path.clone(), Entry { key, value, kind });
        self.order.push(path.clone());
        match &node.value {
            Node::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(format!("{path}[{i}]"), None, item, problems);
                }
            }
            Node::Mapping(pairs) => {
                let mut seen: HashMap<&str, Pos> = HashMap::new();
                for (k, v) in pairs {
                    let key_pos = pos(&k.referenced);
                    if let Some(first) = seen.get(k.value.0.as_str()) {
                        // A key that is not a plain name might be a value
                        // (even a secret) typed as a key: do not show it.
                        let shown = if is_identifier(&k.value.0) {
                            format!(" {}", quote(&k.value.0))
                        } else {
                            String::new()
                        };
                        // Nor the path below an odd key: cut it there.
                        let shown_path = path.find("[\"").map_or(path.as_str(), |i| &path[..i]);
                        problems.push(
                            Some(key_pos),
                            shown_path,
                            format!(
                                "duplicate key{shown}; it is first set at line {}, column {}; each key may appear once",
                                first.0, first.1
                            ),
                        );
                        continue;
                    }
                    seen.insert(&k.value.0, key_pos);
                    self.key_parents.insert(key_pos, path.clone());
                    self.walk(join_key(&path, &k.value.0), Some(key_pos), v, problems);
                }
            }
            Node::Null | Node::Scalar => {}
        }
    }
}

/// `parent.key`, or `key` at the root.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of `key` in the mapping at `parent` as the index spells it:
/// `parent.key` for plain names, `parent["odd key"]` for anything else,
/// so a key holding `.` or `[` cannot be confused with nesting.
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    if is_identifier(key) {
        join(parent, key)
    } else {
        format!("{parent}[{}]", quote(key))
    }
}

/// The path of the mapping or list holding `path` (`a.b[2]` → `a.b`).
pub fn parent(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

fn depth(path: &str) -> usize {
    path.matches(['.', '[']).count() + usize::from(!path.is_empty())
}

fn pos(location: &serde_saphyr::Location) -> Pos {
    let line = usize::try_from(location.line()).unwrap_or(usize::MAX);
    let column = usize::try_from(location.column()).unwrap_or(usize::MAX);
    (line, column)
}

/// True for names made of ASCII letters, digits and `_` (at most 64), the
/// shape of every field name; anything else might be a value typed as a key.
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(join("", "global"), "global");
        assert_eq!(join("environments[0]", "id"), "environments[0].id");
        assert_eq!(
            parent("environments[0].credentials.client_id"),
            "environments[0].credentials"
        );
        assert_eq!(parent("environments[3]"), "environments");
        assert_eq!(parent("global"), "");
        assert_eq!(join_key("a", "b_c"), "a.b_c");
        assert_eq!(join_key("a", "b.c"), "a[\"b.c\"]");
        assert_eq!(depth(""), 0);
        assert_eq!(depth("a"), 1);
        assert_eq!(depth("a[0].b"), 3);
    }
}
