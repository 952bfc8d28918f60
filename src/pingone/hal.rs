//! HAL collections: `{"_embedded": {"<key>": [...]}, "_links": {"next":
//! {"href": ...}}}`, parsed in one streaming pass.
//!
//! Items are deserialised straight into their typed structs, so fields the
//! exporter does not name (store `configuration`, with its connection
//! secrets) are skipped by serde and never built in memory.

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

use super::model::lenient;

#[derive(Deserialize)]
struct Href {
    #[serde(default, deserialize_with = "lenient")]
    href: Option<String>,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(default, deserialize_with = "lenient")]
    next: Option<Href>,
}

/// One page of a HAL collection.
#[derive(Debug)]
pub struct Page<T> {
    /// The items found under `_embedded`.
    pub items: Vec<T>,
    /// `_links.next.href`, verbatim, when there are more pages.
    pub next: Option<String>,
    /// Items that did not parse as objects and were skipped.
    pub skipped: usize,
}

/// An `_embedded` item that may not be an object: such items are counted and
/// skipped instead of failing the page.
enum Item<T> {
    Parsed(T),
    Skipped,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Item<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                // A field-level type mismatch is already absorbed by
                // `lenient`; what remains here is structural.
                T::deserialize(MapAccessDeserializer::new(map)).map(Item::Parsed)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                IgnoredAny::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Item::Skipped)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Item::Skipped)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A value under `_embedded`: a list of items, or something else (ignored).
enum List<T> {
    Items(Vec<Item<T>>),
    NotAList,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = seq.next_element::<Item<T>>()? {
                    items.push(item);
                }
                Ok(List::Items(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                IgnoredAny::deserialize(MapAccessDeserializer::new(map))?;
                Ok(List::NotAList)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(List::NotAList)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `_embedded`, streamed: items are parsed straight into `T`, so fields the
/// exporter does not name (store `configuration`) are skipped, never built.
struct Embedded<T> {
    wanted: Option<Vec<Item<T>>>,
    first_other: Option<Vec<Item<T>>>,
}

struct EmbeddedSeed<'k, T> {
    key: &'k str,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for EmbeddedSeed<'_, T> {
    type Value = Embedded<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for EmbeddedSeed<'_, T> {
    type Value = Embedded<T>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an _embedded object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Embedded {
            wanted: None,
            first_other: None,
        };
        while let Some(k) = map.next_key::<String>()? {
            match map.next_value::<List<T>>()? {
                List::Items(items) if k == self.key => out.wanted = Some(items),
                List::Items(items) if out.first_other.is_none() => out.first_other = Some(items),
                _ => {}
            }
        }
        Ok(out)
    }
}

struct PageSeed<'k, T> {
    key: &'k str,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageSeed<'_, T> {
    type Value = Page<T>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a HAL collection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut embedded = None;
        let mut next = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "_embedded" => {
                    embedded = Some(map.next_value_seed(EmbeddedSeed::<T> {
                        key: self.key,
                        _t: std::marker::PhantomData,
                    })?);
                }
                "_links" => {
                    let links: Option<Links> = lenient(MapValue(&mut map))?;
                    next = links.and_then(|l| l.next).and_then(|h| h.href);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let list = embedded
            .and_then(|e| e.wanted.or(e.first_other))
            .unwrap_or_default();
        let mut items = Vec::with_capacity(list.len());
        let mut skipped = 0;
        for item in list {
            match item {
                Item::Parsed(t) => items.push(t),
                Item::Skipped => skipped += 1,
            }
        }
        Ok(Page {
            items,
            next,
            skipped,
        })
    }
}

/// Adapts "the next map value" to a `Deserializer`, so a field-level helper
/// such as [`lenient`] can read it.
struct MapValue<'a, A>(&'a mut A);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for MapValue<'_, A> {
    type Error = A::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.0.next_value_seed(ForwardSeed(v))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct ForwardSeed<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for ForwardSeed<V> {
    type Value = V::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0)
    }
}

/// Parses a HAL collection page. Items are read from `_embedded.<key>`; if
/// that key is missing, from the first array under `_embedded` (the
/// `syncedGroups` key is undocumented). A missing `_embedded` is an empty page.
pub fn parse_page<T: DeserializeOwned>(body: &[u8], key: &str) -> serde_json::Result<Page<T>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let page = de.deserialize_map(PageSeed::<T> {
        key,
        _t: std::marker::PhantomData,
    })?;
    de.end()?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pingone::model::{Rule, SyncedGroup};

    #[test]
    fn page_falls_back_to_the_first_array_and_reads_next() {
        let body = br#"{"_embedded":{"groups":[{"status":"SUCCESS"}]},
            "_links":{"self":{"href":"a"},"next":{"href":"https://x/y?cursor=abc"}}}"#;
        let page: Page<SyncedGroup> = parse_page(body, "syncedGroups").unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next.as_deref(), Some("https://x/y?cursor=abc"));
        let empty: Page<Rule> = parse_page(b"{}", "rules").unwrap();
        assert!(empty.items.is_empty() && empty.next.is_none());
    }

    #[test]
    fn malformed_and_truncated_json_is_an_error() {
        assert!(parse_page::<Rule>(b"{\"_embedded\":", "rules").is_err());
        assert!(parse_page::<Rule>(b"[]", "rules").is_err());
        assert!(parse_page::<Rule>(b"{} trailing", "rules").is_err());
    }

    #[test]
    fn non_list_embedded_values_and_non_object_items_are_skipped() {
        let body = br#"{"_embedded":{"rules":[1,"x",[2],null,{"id":"r1","active":"yes"}],"other":{"a":1}}}"#;
        let page: Page<Rule> = parse_page(body, "rules").unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.skipped, 4);
        assert_eq!(page.items[0].active, None);
    }
}
