//! Cursor paging of collections (`limit` and `cursor` query parameters),
//! and the HAL collection envelope.
//!
//! The cursor is opaque to clients (base64url of an offset); the `next`
//! link is an absolute URL built from the request's `Host`, as PingOne's
//! are, and clients must follow it verbatim.

use base64::Engine as _;
use serde_json::{Value, json};

use super::query;
use super::reply::{self, Response};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One requested page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    pub offset: usize,
    pub limit: usize,
}

/// Reads `limit` (1..=`max`, default `default`) and `cursor`; a bad value
/// is a 400 `INVALID_DATA` answer.
pub(crate) fn parse(
    q: &[(String, String)],
    default: usize,
    max: usize,
) -> Result<Page, Box<Response>> {
    let limit = match query::get(q, "limit") {
        None => default,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                let why = format!("limit must be an integer from 1 to {max}");
                return Err(Box::new(reply::invalid("limit", &why)));
            }
        },
    };
    let offset = match query::get(q, "cursor") {
        None => 0,
        Some(c) => decode_cursor(c)
            .ok_or_else(|| Box::new(reply::invalid("cursor", "cursor is not valid")))?,
    };
    Ok(Page { offset, limit })
}

fn encode_cursor(offset: usize) -> String {
    B64.encode(format!("sim:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = B64.decode(c).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("sim:")?
        .parse()
        .ok()
}

/// The HAL envelope of one page of `total` items: `_embedded.{name}`,
/// `count` (total), `size` (this page), `_links.self` (the request URL)
/// and `_links.next` while items remain. `base` is the absolute URL of the
/// collection without query.
pub(crate) fn envelope(
    name: &str,
    items: Vec<Value>,
    total: usize,
    page: Page,
    base: &str,
    self_href: &str,
) -> Value {
    let size = items.len();
    let mut links = json!({"self": {"href": self_href}});
    if page.offset.saturating_add(size) < total && size > 0 {
        let next = format!(
            "{base}?limit={}&cursor={}",
            page.limit,
            encode_cursor(page.offset + size)
        );
        links["next"] = json!({"href": next});
    }
    json!({"_links": links, "_embedded": {name: items}, "count": total, "size": size})
}

/// The envelope of a whole, unpaged collection.
pub(crate) fn whole(name: &str, items: Vec<Value>, self_href: &str) -> Value {
    let n = items.len();
    envelope(
        name,
        items,
        n,
        Page {
            offset: 0,
            limit: n,
        },
        "",
        self_href,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        query::pairs(s)
    }

    #[test]
    fn parses_limits_and_cursors() {
        assert_eq!(
            parse(&q(""), 100, 1000).unwrap(),
            Page {
                offset: 0,
                limit: 100
            }
        );
        let c = encode_cursor(40);
        assert_eq!(
            parse(&q(&format!("limit=20&cursor={c}")), 100, 1000).unwrap(),
            Page {
                offset: 40,
                limit: 20
            }
        );
        for bad in ["limit=0", "limit=1001", "limit=x", "cursor=abc", "cursor="] {
            assert_eq!(
                parse(&q(bad), 100, 1000).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn next_link_only_while_items_remain() {
        let page = Page {
            offset: 0,
            limit: 2,
        };
        let v = envelope(
            "x",
            vec![json!(1), json!(2)],
            3,
            page,
            "http://h/c",
            "http://h/c?limit=2",
        );
        let next = v["_links"]["next"]["href"].as_str().unwrap();
        assert!(next.starts_with("http://h/c?limit=2&cursor="));
        assert_eq!(
            (v["count"].as_u64(), v["size"].as_u64()),
            (Some(3), Some(2))
        );
        let last = envelope(
            "x",
            vec![json!(3)],
            3,
            Page {
                offset: 2,
                limit: 2,
            },
            "http://h/c",
            "s",
        );
        assert!(last["_links"].get("next").is_none());
    }
}
