//! Shared stores: which one rule carries a store's summable numbers, so a
//! sum over rules counts each store once (the rule is in the module docs
//! of [`crate::mapping`]).

use std::collections::HashMap;

use crate::snapshot::Direction;

/// One rule as [`store_owners`] ranks it.
#[derive(Clone, Copy, Debug)]
pub struct OwnerCandidate<'a> {
    /// Rule id.
    pub rule_id: &'a str,
    /// The rule's direction.
    pub direction: Direction,
    /// The rule's `active` flag (`None` counts as disabled).
    pub enabled: Option<bool>,
    /// The rule's connection store id; empty when it names none.
    pub store_id: &'a str,
}

/// The owner of each connection store: the rule that carries the store's
/// summable numbers, so they are reported once. Among the rules sharing a
/// store, enabled rules come before disabled ones, then rules that are not
/// write-back rules (the inbound rule of a Workday pair) before write-back
/// rules, then the lowest id. Rules without a connection store own nothing.
pub fn store_owners<'a>(
    rules: impl IntoIterator<Item = OwnerCandidate<'a>>,
) -> HashMap<&'a str, &'a str> {
    let mut best: HashMap<&'a str, (bool, bool, &'a str)> = HashMap::new();
    for c in rules {
        if c.store_id.is_empty() {
            continue;
        }
        let rank = (
            c.enabled != Some(true),
            c.direction == Direction::Writeback,
            c.rule_id,
        );
        best.entry(c.store_id)
            .and_modify(|b| *b = (*b).min(rank))
            .or_insert(rank);
    }
    best.into_iter().map(|(s, (_, _, id))| (s, id)).collect()
}
