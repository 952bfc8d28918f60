//! Counts of API requests served, per endpoint template and status, for
//! `/_sim/requests` (benchmarks and request-budget tests).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// Request counters. Control requests (`/_sim/...`) are not counted.
#[derive(Default)]
pub(crate) struct Stats {
    counts: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl Stats {
    /// Counts one answered request.
    pub fn record(&self, template: &'static str, status: u16) {
        let mut c = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *c.entry((template, status)).or_default() += 1;
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// `{"total": N, "<template>": n, ..., "by_status": {"<template>": {"200": n}}}`.
    pub fn to_json(&self) -> Value {
        let c = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Map::new();
        let mut by_status = Map::new();
        let mut total = 0;
        for (&(template, status), &n) in c.iter() {
            total += n;
            let e = out.entry(template).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + n);
            let s = by_status.entry(template).or_insert_with(|| json!({}));
            s[status.to_string()] = json!(n);
        }
        out.insert("total".into(), json!(total));
        out.insert("by_status".into(), Value::Object(by_status));
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_template_and_status() {
        let s = Stats::default();
        s.record("token", 200);
        s.record("token", 401);
        s.record("stores", 200);
        let v = s.to_json();
        assert_eq!(v["total"], 3);
        assert_eq!(v["token"], 2);
        assert_eq!(v["by_status"]["token"]["401"], 1);
        s.reset();
        assert_eq!(s.to_json()["total"], 0);
    }
}
