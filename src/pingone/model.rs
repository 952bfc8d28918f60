//! The PingOne API objects the exporter reads, parsed leniently.
//!
//! Rules of this module (`docs/pingone-api.md`, "Parsing"):
//! - every field is optional, and a field of the wrong JSON type is treated
//!   as absent instead of failing the whole answer;
//! - every enum (`syncState`, `status`, store `type`, ...) is an open string;
//! - store `configuration` is never named, so serde skips it without
//!   materialising it: it holds connection secrets and never enters memory
//!   we keep.
//!
//! Collections are HAL documents, read by [`super::hal`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Deserialises `T` if the JSON value has the right shape, else `None`.
/// Keeps one odd field from failing a whole page.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// Like [`lenient`] for counts: accepts integers and integral floats >= 0.
pub(crate) fn lenient_count<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        }),
        _ => None,
    })
}

/// A `{"id": "..."}` reference to another object; may carry a name and type.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Ref {
    /// The referenced object's id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Its name, when the API includes it.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// Its type, when the API includes it.
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
}

/// A propagation plan (`/propagation/plans`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Plan {
    /// Plan id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Plan name.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// `ACTIVE`, `INACTIVE`, or anything newer.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// A propagation store (`/propagation/stores`). `configuration` is
/// deliberately not a field.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Store {
    /// Store id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Store name as shown in the console.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// `directory`, `PingOne`, `scim`, `Workday`, ... (open set).
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    /// Store status (`ACTIVE`, `INACTIVE`, ...).
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Sync counters; absent on stores that have not synced yet.
    #[serde(default, rename = "syncStatus", deserialize_with = "lenient")]
    pub sync_status: Option<SyncStatus>,
}

/// `syncStatus` of a store: counters since the latest revision.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct SyncStatus {
    /// `SYNCING`, `FAILED`, or anything newer.
    #[serde(default, rename = "syncState", deserialize_with = "lenient")]
    pub sync_state: Option<String>,
    /// RFC 3339 time of the last synchronisation.
    #[serde(default, rename = "lastSyncAt", deserialize_with = "lenient")]
    pub last_sync_at: Option<String>,
    /// Successful sync events since the last revision.
    #[serde(default, rename = "successCount", deserialize_with = "lenient_count")]
    pub success_count: Option<u64>,
    /// Failed sync events since the last revision.
    #[serde(default, rename = "failedCount", deserialize_with = "lenient_count")]
    pub failed_count: Option<u64>,
    /// Failed deprovisioning events since the last revision.
    #[serde(
        default,
        rename = "failedDeprovisionCount",
        deserialize_with = "lenient_count"
    )]
    pub failed_deprovision_count: Option<u64>,
    /// Users the rule's filter targets at this store.
    #[serde(default, rename = "userTotal", deserialize_with = "lenient_count")]
    pub user_total: Option<u64>,
    /// Free-text error details.
    #[serde(default, deserialize_with = "lenient")]
    pub details: Option<String>,
}

/// A propagation rule (`/propagation/rules`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Rule {
    /// Rule id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Rule name as shown in the console.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// The rule's enabled flag.
    #[serde(default, deserialize_with = "lenient")]
    pub active: Option<bool>,
    /// Where identities come from.
    #[serde(default, rename = "sourceStore", deserialize_with = "lenient")]
    pub source_store: Option<Ref>,
    /// Where identities go.
    #[serde(default, rename = "targetStore", deserialize_with = "lenient")]
    pub target_store: Option<Ref>,
    /// Set on write-back rules only: the inbound rule they belong to.
    #[serde(default, rename = "parentRule", deserialize_with = "lenient")]
    pub parent_rule: Option<Ref>,
}

/// One entry of `/propagation/rules/{id}/syncedGroups`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct SyncedGroup {
    /// The group.
    #[serde(default, deserialize_with = "lenient")]
    pub group: Option<Ref>,
    /// `SUCCESS`, `FAILED`, or anything newer.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// RFC 3339 time of the group's last sync.
    #[serde(default, rename = "lastSyncAt", deserialize_with = "lenient")]
    pub last_sync_at: Option<String>,
}

/// A propagation revision (`/propagation/revisions/id:latest`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Revision {
    /// Revision id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// RFC 3339 creation time: the last config change or forced resync.
    #[serde(default, rename = "createdAt", deserialize_with = "lenient")]
    pub created_at: Option<String>,
}

/// A user (`/users`): only the id is kept; names and e-mails are personal
/// data the exporter has no use for.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct User {
    /// User id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
}

/// `/users/{id}/syncedRules/{ruleId}`: one user's sync state for one rule.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct SyncedRule {
    /// `SUCCESS`, `FAILED`, ... (open set).
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// `INBOUND`, `OUTBOUND`, ...
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    /// RFC 3339 time of the user's last sync for this rule.
    #[serde(default, rename = "lastSyncAt", deserialize_with = "lenient")]
    pub last_sync_at: Option<String>,
    /// Free text about the user's sync errors (may name targets or hold
    /// credentials: scrub before showing it).
    #[serde(default, deserialize_with = "lenient")]
    pub details: Option<String>,
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The bearer token. Wrapped in a `Secret` as soon as it is read.
    pub access_token: String,
    /// Lifetime in seconds; PingOne issues 3600.
    #[serde(default, deserialize_with = "lenient_count")]
    pub expires_in: Option<u64>,
}

/// An OAuth error from the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Default, Deserialize)]
pub struct OAuthError {
    /// `invalid_client`, ...
    #[serde(default, deserialize_with = "lenient")]
    pub error: Option<String>,
    /// Human-readable description.
    #[serde(default, deserialize_with = "lenient")]
    pub error_description: Option<String>,
}

/// PingOne's error body: `{"id","code","message","details":[...]}`.
#[derive(Debug, Default, Deserialize)]
pub struct ApiErrorBody {
    /// Top-level code, e.g. `REQUEST_LIMITED`, `ACCESS_FAILED`.
    #[serde(default, deserialize_with = "lenient")]
    pub code: Option<String>,
    /// English message for debugging.
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
    /// Server-side id, quoted to Ping support.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
}

/// Parses a single object answer.
pub fn parse_one<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pingone::hal::{Page, parse_page};

    #[test]
    fn store_configuration_is_dropped_and_odd_fields_are_absent() {
        let body = br#"{"_embedded":{"stores":[
            {"id":"s1","name":"SCIM","type":"scim","configuration":{"BASIC_AUTH_PASSWORD":"pw"},
             "syncStatus":{"syncState":"SYNCING","successCount":12,"failedCount":"three","userTotal":15.0,
                           "lastSyncAt":"2024-05-02T10:15:03.120Z","somethingNew":1}},
            {"id":"s2","type":42},
            "not an object"
        ]}}"#;
        let page: Page<Store> = parse_page(body, "stores").unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.skipped, 1);
        let s = &page.items[0];
        let ss = s.sync_status.as_ref().unwrap();
        assert_eq!(ss.success_count, Some(12));
        assert_eq!(ss.failed_count, None, "a string count is absent, not 0");
        assert_eq!(ss.user_total, Some(15));
        assert_eq!(page.items[1].kind, None);
        assert!(!format!("{page:?}").contains("pw"));
    }
}
