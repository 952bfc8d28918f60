//! Fields PingOne sends that its documentation does not list.
//!
//! The typed model ignores fields it does not name: serde skips them
//! without building them, which is how store `configuration` (connection
//! secrets) never enters memory. To still notice when PingOne starts
//! sending something new (perhaps the per-rule counters the admin console
//! shows), a second pass over each answer reads **key names only**: every
//! value is skipped with [`IgnoredAny`], never built, and only the names of
//! keys outside the documented model are returned, shortened and bounded.
//!
//! The documented keys ([`documented`]) are those of `docs/pingone-api.md`.

pub mod documented;

pub use documented::{DocumentedKeys, PLANS, REVISION, RULES, STORES, SYNCED_GROUPS};

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Most names reported from one answer.
const MAX_NAMES: usize = 16;
/// Longest key name reported, in characters.
const MAX_KEY: usize = 64;

/// Undocumented keys of the items of a HAL page (`_embedded.<key>[]`), as
/// `model.key` or `model.nested.key`. Items that are not objects are
/// skipped; a body that is not a page at all yields what was found before
/// the surprise.
pub fn unknown_in_page(
    body: &[u8],
    embedded_key: &str,
    model: &'static DocumentedKeys,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let items = Items {
        model,
        out: &mut out,
    };
    let _ = Field::new("_embedded", Field::new(embedded_key, items)).deserialize(&mut de);
    out
}

/// Undocumented keys of a single object answer.
pub fn unknown_in_object(body: &[u8], model: &'static DocumentedKeys) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Keys {
        path: model.name.to_string(),
        model,
        out: &mut out,
    }
    .deserialize(&mut de);
    out
}

fn record(out: &mut Vec<String>, path: &str, key: &str) {
    let key: String = key.chars().take(MAX_KEY).collect();
    let name = format!("{path}.{key}");
    if out.len() < MAX_NAMES && !out.contains(&name) {
        out.push(name);
    }
}

/// An object in which only `key`'s value is looked into, by `then`; every
/// other value is skipped. A page is one of these (`_embedded`) holding
/// another (the collection's key) holding the [`Items`]. A repeated key is
/// looked into once.
struct Field<'a, S> {
    key: &'a str,
    then: Option<S>,
}

impl<'a, S> Field<'a, S> {
    fn new(key: &'a str, then: S) -> Self {
        Self {
            key,
            then: Some(then),
        }
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for Field<'_, S> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Field<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with {:?}", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == self.key
                && let Some(seed) = self.then.take()
            {
                map.next_value_seed(seed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The list of items.
struct Items<'a> {
    model: &'static DocumentedKeys,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Keys {
                path: self.model.name.to_string(),
                model: self.model,
                out: &mut *self.out,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One object: records undocumented keys, skips every value.
struct Keys<'a> {
    path: String,
    model: &'static DocumentedKeys,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Keys<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A value where an object was expected (`null`, a number, a list) has no
/// keys: it is skipped, and the scan goes on.
impl<'de> Visitor<'de> for Keys<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            match self.model.nested {
                Some((name, inner)) if k == name => {
                    map.next_value_seed(Keys {
                        path: format!("{}.{name}", self.path),
                        model: inner,
                        out: &mut *self.out,
                    })?;
                }
                _ => {
                    if !self.model.known.contains(&k.as_str()) {
                        record(self.out, &self.path, &k);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_undocumented_keys_only() {
        let body = br#"{"_embedded":{"stores":[
            {"id":"s1","configuration":{"SECRET_KEY_NAME":"pw"},"newCounter":3,
             "syncStatus":{"syncState":"SYNCING","partialCount":1}},
            {"id":"s2","newCounter":4,"syncStatus":null}
        ]},"_links":{"self":{"href":"x"}},"count":2}"#;
        let names = unknown_in_page(body, "stores", &STORES);
        assert_eq!(
            names,
            ["stores.newCounter", "stores.syncStatus.partialCount"]
        );
        assert!(
            !names.iter().any(|n| n.contains("SECRET")),
            "configuration is documented: its keys are never looked at"
        );
        assert_eq!(
            unknown_in_object(br#"{"id":"r","createdAt":"t","x":{}}"#, &REVISION),
            ["revision.x"]
        );
    }

    #[test]
    fn bounded_and_tolerant() {
        let mut item = String::from("{");
        for i in 0..100 {
            item.push_str(&format!("\"k{i}{}\":{i},", "y".repeat(200)));
        }
        item.push_str("\"id\":1}");
        let body = format!(r#"{{"_embedded":{{"rules":[{item}, 5]}}}}"#);
        let names = unknown_in_page(body.as_bytes(), "rules", &RULES);
        assert_eq!(names.len(), MAX_NAMES);
        assert!(names.iter().all(|n| n.len() <= "rules.".len() + MAX_KEY));
        assert!(unknown_in_page(b"[1,2]", "rules", &RULES).is_empty());
    }
}
