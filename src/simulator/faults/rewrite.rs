//! What the answer-side faults do to the model's answer: JSON rewrites
//! (unknown fields and enum values, missing fields, a paging loop), broken
//! or truncated bodies, and bodies shaped as they are sent (huge, reset,
//! stalled).

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{FaultKind, FaultRule};
use crate::simulator::body::SimBody;

/// Broken JSON: a trailing comma and no closing brackets.
const MALFORMED: &[u8] = br#"{"_embedded": {"items": [{"id": "sim-broken", }"#;

/// Default size of a `huge` answer.
const DEFAULT_HUGE: u64 = 64 << 20;

/// Applies a body rewrite. Rewrites that need JSON leave a body that is not
/// a JSON object as it is.
pub(super) fn body(kind: FaultKind, bytes: Bytes, self_href: &str) -> Bytes {
    match kind {
        FaultKind::MalformedJson => return Bytes::from_static(MALFORMED),
        FaultKind::TruncatedJson => return bytes.slice(..bytes.len() / 2),
        _ => {}
    }
    let Ok(Value::Object(mut doc)) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    match kind {
        FaultKind::UnknownFields => add_unknown_fields(&mut doc),
        FaultKind::UnknownEnums => new_enum_values(&mut doc),
        FaultKind::MissingFields => drop_fields(&mut doc),
        FaultKind::PagingLoop => {
            if doc.contains_key("_embedded") {
                doc.insert(
                    "_links".into(),
                    json!({"self": {"href": self_href}, "next": {"href": self_href}}),
                );
            }
        }
        _ => return bytes,
    }
    Bytes::from(Value::Object(doc).to_string())
}

/// A token answer with `expires_in` replaced by `seconds`; any other body
/// as it is.
pub(super) fn expires_in(bytes: Bytes, seconds: u64) -> Bytes {
    let Ok(Value::Object(mut doc)) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    if !doc.contains_key("access_token") {
        return bytes;
    }
    doc.insert("expires_in".into(), json!(seconds));
    Bytes::from(Value::Object(doc).to_string())
}

/// Every object gains fields no documentation mentions.
fn add_unknown_fields(obj: &mut Map<String, Value>) {
    for v in obj.values_mut() {
        walk(v, &mut add_unknown_fields);
    }
    obj.insert(
        "simFutureField".into(),
        json!({"introducedIn": "2030-01", "values": [1, "two", null, {"deep": true}]}),
    );
    obj.insert("simFutureFlag".into(), json!(true));
}

fn walk(v: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(o) => f(o),
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, f)),
        _ => {}
    }
}

fn embedded<'a>(doc: &'a mut Map<String, Value>, key: &str) -> Vec<&'a mut Map<String, Value>> {
    doc.get_mut("_embedded")
        .and_then(|e| e.get_mut(key))
        .and_then(Value::as_array_mut)
        .map(|a| a.iter_mut().filter_map(Value::as_object_mut).collect())
        .unwrap_or_default()
}

/// `syncStatus.syncState` becomes `RECONCILING`; synced-group and
/// synced-rule `status` becomes `QUEUED`.
fn new_enum_values(doc: &mut Map<String, Value>) {
    for store in embedded(doc, "stores") {
        if let Some(Value::Object(ss)) = store.get_mut("syncStatus") {
            ss.insert("syncState".into(), json!("RECONCILING"));
        }
    }
    for g in embedded(doc, "syncedGroups") {
        g.insert("status".into(), json!("QUEUED"));
    }
    if doc.contains_key("rule") && doc.contains_key("status") {
        doc.insert("status".into(), json!("QUEUED"));
    }
}

/// Drops `syncStatus.userTotal` and `.lastSyncAt` of stores, `active` of
/// rules, `status` of synced groups, and `createdAt` and `status` of a
/// single object (the revision).
fn drop_fields(doc: &mut Map<String, Value>) {
    if !doc.contains_key("_embedded") {
        doc.remove("createdAt");
        doc.remove("status");
        return;
    }
    for store in embedded(doc, "stores") {
        if let Some(Value::Object(ss)) = store.get_mut("syncStatus") {
            ss.remove("userTotal");
            ss.remove("lastSyncAt");
        }
    }
    for rule in embedded(doc, "rules") {
        rule.remove("active");
    }
    for g in embedded(doc, "syncedGroups") {
        g.remove("status");
    }
}

/// The body of a shaping fault (`huge`, `reset_mid_body`, `slow_body`).
pub(super) fn shape(rule: &FaultRule, bytes: Bytes) -> SimBody {
    let total = bytes.len() as u64;
    let half = bytes.len() / 2;
    match rule.kind {
        FaultKind::Huge => {
            // Still valid JSON: a padding field in front of the answer's own.
            let (head, tail) = match bytes.first() {
                Some(b'{') if bytes.len() > 2 => (
                    Bytes::from_static(br#"{"simPadding":""#),
                    Bytes::from([&b"\","[..], &bytes[1..]].concat()),
                ),
                _ => (
                    Bytes::from_static(br#"{"simPadding":""#),
                    Bytes::from_static(b"\"}"),
                ),
            };
            let want = rule.bytes.unwrap_or(DEFAULT_HUGE);
            let fill = want.saturating_sub((head.len() + tail.len()) as u64);
            let total = head.len() as u64 + fill + tail.len() as u64;
            SimBody::Stream {
                head: Some(head),
                fill,
                tail: Some(tail),
                exact: rule.content_length,
                total,
            }
        }
        FaultKind::ResetMidBody => SimBody::Abort {
            head: Some(bytes.slice(..half)),
            sleep: None,
            total,
        },
        _ => SimBody::Stall {
            head: Some(bytes.slice(..half)),
            sleep: None,
            delay: rule.delay(),
            tail: Some(bytes.slice(half..)),
            total,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(kind: FaultKind, v: Value) -> Value {
        let out = body(kind, Bytes::from(v.to_string()), "http://h/self");
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn json_rewrites() {
        let page = json!({"_embedded": {"stores": [{"id": "s", "syncStatus": {"syncState": "SYNCING", "userTotal": 3, "lastSyncAt": "x", "successCount": 1}}],
                                        "rules": [{"id": "r", "active": true}]}});
        let v = rewrite(FaultKind::UnknownEnums, page.clone());
        assert_eq!(
            v["_embedded"]["stores"][0]["syncStatus"]["syncState"],
            "RECONCILING"
        );
        let v = rewrite(FaultKind::MissingFields, page.clone());
        let ss = &v["_embedded"]["stores"][0]["syncStatus"];
        assert!(ss.get("userTotal").is_none() && ss.get("lastSyncAt").is_none());
        assert_eq!(ss["successCount"], 1);
        assert!(v["_embedded"]["rules"][0].get("active").is_none());
        let v = rewrite(FaultKind::UnknownFields, page.clone());
        assert_eq!(
            v["_embedded"]["stores"][0]["syncStatus"]["simFutureFlag"],
            true
        );
        assert_eq!(v["_embedded"]["stores"][0]["syncStatus"]["userTotal"], 3);
        let v = rewrite(FaultKind::PagingLoop, page);
        assert_eq!(v["_links"]["next"]["href"], "http://h/self");
    }

    #[test]
    fn broken_bodies() {
        let b = Bytes::from_static(b"{\"a\": [1, 2, 3]}");
        let t = body(FaultKind::TruncatedJson, b.clone(), "");
        assert_eq!(t.len(), b.len() / 2);
        assert!(serde_json::from_slice::<Value>(&t).is_err());
        let m = body(FaultKind::MalformedJson, b, "");
        assert!(serde_json::from_slice::<Value>(&m).is_err());
    }
}
