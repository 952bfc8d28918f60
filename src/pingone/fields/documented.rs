//! The documented key lists: which keys PingOne's documentation lists for each
//! object the exporter reads (`docs/pingone-api.md`).

/// The documented keys of one kind of object, and one nested object whose
/// keys are checked too.
#[derive(Debug)]
pub struct DocumentedKeys {
    /// Prefix of reported names, e.g. `stores`.
    pub name: &'static str,
    /// Documented keys.
    pub known: &'static [&'static str],
    /// `(key, model)` of a nested object to check as well.
    pub nested: Option<(&'static str, &'static DocumentedKeys)>,
}

const SYNC_STATUS: DocumentedKeys = DocumentedKeys {
    name: "syncStatus",
    known: &[
        "syncState",
        "lastSyncAt",
        "successCount",
        "failedCount",
        "failedDeprovisionCount",
        "userTotal",
        "details",
    ],
    nested: None,
};

/// Items of `_embedded.stores`.
pub const STORES: DocumentedKeys = DocumentedKeys {
    name: "stores",
    known: &[
        "id",
        "environment",
        "createdAt",
        "updatedAt",
        "image",
        "name",
        "description",
        "type",
        "status",
        "managed",
        "configuration",
        "syncStatus",
        "_links",
    ],
    nested: Some(("syncStatus", &SYNC_STATUS)),
};

/// Items of `_embedded.rules`.
pub const RULES: DocumentedKeys = DocumentedKeys {
    name: "rules",
    known: &[
        "id",
        "environment",
        "plan",
        "name",
        "description",
        "sourceStore",
        "targetStore",
        "active",
        "populationExpression",
        "populations",
        "groups",
        "deprovision",
        "configuration",
        "parentRule",
        "createdAt",
        "updatedAt",
        "_links",
    ],
    nested: None,
};

/// Items of `_embedded.plans`.
pub const PLANS: DocumentedKeys = DocumentedKeys {
    name: "plans",
    known: &[
        "id",
        "environment",
        "name",
        "status",
        "createdAt",
        "updatedAt",
        "_links",
    ],
    nested: None,
};

/// Items of a rule's `syncedGroups` (shape assumed by analogy with
/// `syncedRules`, see `docs/pingone-api.md`, "syncedGroups").
pub const SYNCED_GROUPS: DocumentedKeys = DocumentedKeys {
    name: "syncedGroups",
    known: &[
        "id",
        "group",
        "rule",
        "environment",
        "sourceStore",
        "targetStore",
        "type",
        "status",
        "lastSyncAt",
        "details",
        "_links",
    ],
    nested: None,
};

/// The revision object.
pub const REVISION: DocumentedKeys = DocumentedKeys {
    name: "revision",
    known: &[
        "id",
        "environment",
        "createdAt",
        "createdBy",
        "previousRevision",
        "_links",
    ],
    nested: None,
};
