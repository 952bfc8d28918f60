//! A rule's stores: its direction (from its parent rule and its target
//! store's type), its connection store, and the labels of its source and
//! target stores.

use std::collections::HashMap;

use crate::pingone::model::{Ref, Rule, Store};
use crate::snapshot::{Direction, StoreInfo};

/// The stores of one poll by id; stores without an id cannot be referred
/// to and are left out.
pub(super) fn by_id(stores: &[Store]) -> HashMap<&str, &Store> {
    stores
        .iter()
        .filter_map(|s| s.id.as_deref().map(|id| (id, s)))
        .collect()
}

/// True for PingOne's own directory store types.
pub fn is_pingone_directory(kind: Option<&str>) -> bool {
    matches!(kind, Some("directory" | "PingOne"))
}

/// The direction of `rule`, looking its target store up in `stores`.
pub fn direction(rule: &Rule, stores: &HashMap<&str, &Store>) -> Direction {
    if rule.parent_rule.is_some() {
        return Direction::Writeback;
    }
    let target_kind = rule.target_store.as_ref().and_then(|r| {
        r.id.as_deref()
            .and_then(|id| stores.get(id))
            .and_then(|s| s.kind.as_deref())
            .or(r.kind.as_deref())
    });
    if is_pingone_directory(target_kind) {
        Direction::Inbound
    } else {
        Direction::Outbound
    }
}

/// The labels of the store a rule refers to: the listed store's name and
/// type where it was listed, else what the reference itself carries.
pub(super) fn store_info(r: Option<&Ref>, stores: &HashMap<&str, &Store>) -> StoreInfo {
    let id = r.and_then(|r| r.id.clone()).unwrap_or_default();
    let found = stores.get(id.as_str());
    StoreInfo {
        name: found
            .and_then(|s| s.name.clone())
            .or_else(|| r.and_then(|r| r.name.clone()))
            .unwrap_or_default(),
        kind: found
            .and_then(|s| s.kind.clone())
            .or_else(|| r.and_then(|r| r.kind.clone()))
            .unwrap_or_default(),
        id,
    }
}

/// The id of a rule's connection store (docs/metrics.md): the source store of an
/// inbound rule, the target store otherwise; empty when the rule names none.
pub fn connection_id<'a>(
    direction: Direction,
    source: &'a StoreInfo,
    target: &'a StoreInfo,
) -> &'a str {
    match direction {
        Direction::Inbound => &source.id,
        Direction::Outbound | Direction::Writeback => &target.id,
    }
}
