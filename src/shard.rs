//! Sharding across replicas, the kube-state-metrics way: `--shard.count`
//! replicas each poll and serve a disjoint share of the configured
//! environments, so a tenant too large for one replica's request budget or
//! memory is split without splitting the config file.
//!
//! An environment belongs to the shard that a stable hash of its id picks:
//! FNV-1a (64 bit) of the id, then jump consistent hashing (Lamping and
//! Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014) into
//! `count` buckets. Every replica computes the same answer from the id
//! alone, with no coordination; and when `count` grows from n to n + 1 an
//! environment either stays where it was or moves to the new shard n, so
//! only about 1/(n + 1) of the environments move (a plain `hash % count`
//! would move most of them).
//!
//! The index comes from `--shard.index`, or, in a StatefulSet, from the
//! ordinal at the end of the pod's name (`pingone-sync-exporter-2` → 2),
//! which Kubernetes also sets as the hostname.

use crate::config::Config;

/// Which share of the environments this replica polls and serves.
/// Invariant: `index < count`, `count >= 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why the shard flags cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    /// `--shard.count 0`.
    #[error("--shard.count must be at least 1")]
    NoShards,
    /// `--shard.index` outside `0..count`.
    #[error("--shard.index {index} is not below --shard.count {count} (shards are numbered 0 to {last})", last = count - 1)]
    IndexTooLarge {
        /// The index given or derived.
        index: u32,
        /// The shard count.
        count: u32,
    },
    /// Sharded, no index, and no ordinal in the host name.
    #[error(
        "--shard.count is {count} but no --shard.index was given, and the host name {hostname:?} does not end in a StatefulSet ordinal (-N)"
    )]
    NoIndex {
        /// The shard count.
        count: u32,
        /// The host name looked at.
        hostname: String,
    },
}

impl Shard {
    /// One replica serving every environment (the default).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// The shard of `--shard.index` (when given) and `--shard.count`. With
    /// more than one shard and no index, the index is the ordinal at the end
    /// of `hostname` (a StatefulSet pod's name).
    pub fn from_flags(
        index: Option<u32>,
        count: u32,
        hostname: Option<&str>,
    ) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        let index = match index {
            Some(i) => i,
            None if count == 1 => 0,
            None => {
                let name = hostname.unwrap_or_default();
                ordinal(name).ok_or_else(|| ShardError::NoIndex {
                    count,
                    hostname: name.to_string(),
                })?
            }
        };
        if index >= count {
            return Err(ShardError::IndexTooLarge { index, count });
        }
        Ok(Shard { index, count })
    }

    /// This replica's shard, from 0.
    pub fn index(self) -> u32 {
        self.index
    }

    /// The number of shards (replicas).
    pub fn count(self) -> u32 {
        self.count
    }

    /// True when there is more than one shard.
    pub fn is_sharded(self) -> bool {
        self.count > 1
    }

    /// True when this shard polls and serves the environment with this id.
    pub fn owns(self, environment_id: &str) -> bool {
        jump_hash(fnv1a64(environment_id.as_bytes()), self.count) == self.index
    }

    /// `config` with only this shard's environments (the rest unchanged).
    pub fn select(self, mut config: Config) -> Config {
        if self.is_sharded() {
            config.environments.retain(|e| self.owns(&e.id));
        }
        config
    }
}

impl std::fmt::Display for Shard {
    /// `index/count`, as logged and shown on the landing page.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The StatefulSet ordinal at the end of a pod name: the digits after the
/// last `-`.
fn ordinal(name: &str) -> Option<u32> {
    let (_, digits) = name.trim().rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// FNV-1a, 64 bit: stable across builds and platforms (unlike std's
/// `DefaultHasher`, whose algorithm may change).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Jump consistent hash: the bucket in `0..buckets` of `key` (`buckets` >= 1).
fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The published algorithm, in f64 as written there.
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    // b is in 0..buckets here, so it fits.
    u32::try_from(b).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("3f0b6a1e-0000-4000-8000-{i:012}"))
            .collect()
    }

    fn owner(id: &str, count: u32) -> u32 {
        (0..count)
            .find(|&i| Shard { index: i, count }.owns(id))
            .unwrap()
    }

    #[test]
    fn every_environment_has_exactly_one_shard() {
        for count in 1..=5 {
            for id in ids(200) {
                let owners = (0..count)
                    .filter(|&i| Shard { index: i, count }.owns(&id))
                    .count();
                assert_eq!(owners, 1, "{id} with {count} shards");
            }
        }
    }

    #[test]
    fn shards_share_the_environments_roughly_evenly() {
        let ids = ids(3000);
        for count in [2u32, 3, 7] {
            let mut per = vec![0usize; count as usize];
            for id in &ids {
                per[owner(id, count) as usize] += 1;
            }
            let fair = ids.len() / count as usize;
            for n in per {
                assert!(n > fair * 8 / 10 && n < fair * 12 / 10, "{n} of {fair}");
            }
        }
    }

    #[test]
    fn growing_the_count_moves_only_environments_to_the_new_shard() {
        let ids = ids(3000);
        for count in 1u32..6 {
            let mut moved = 0;
            for id in &ids {
                let (before, after) = (owner(id, count), owner(id, count + 1));
                if before != after {
                    assert_eq!(after, count, "{id} moved between old shards");
                    moved += 1;
                }
            }
            // About 1/(count+1) move; never most of them.
            let expected = ids.len() / (count as usize + 1);
            assert!(moved > expected * 8 / 10 && moved < expected * 12 / 10);
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // Pinned: a change here reshuffles every deployed replica's share.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(jump_hash(fnv1a64(b"a"), 1), 0);
        let owners: Vec<u32> = ids(6).iter().map(|id| owner(id, 3)).collect();
        assert_eq!(owners, [2, 0, 0, 1, 1, 2]);
    }

    #[test]
    fn index_from_flags_or_the_pod_ordinal() {
        assert_eq!(Shard::from_flags(None, 1, None), Ok(Shard::WHOLE));
        assert_eq!(
            Shard::from_flags(None, 3, Some("pingone-sync-exporter-2")),
            Ok(Shard { index: 2, count: 3 })
        );
        assert_eq!(
            Shard::from_flags(Some(1), 3, Some("pingone-sync-exporter-2")),
            Ok(Shard { index: 1, count: 3 }),
            "the flag wins"
        );
        assert_eq!(
            Shard::from_flags(Some(0), 0, None),
            Err(ShardError::NoShards)
        );
        assert_eq!(
            Shard::from_flags(None, 3, Some("pingone-sync-exporter-5")),
            Err(ShardError::IndexTooLarge { index: 5, count: 3 })
        );
        let e = Shard::from_flags(None, 3, Some("exporter-abc")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--shard.count is 3 but no --shard.index was given, and the host name \"exporter-abc\" does not end in a StatefulSet ordinal (-N)"
        );
        assert_eq!(
            ShardError::IndexTooLarge { index: 3, count: 3 }.to_string(),
            "--shard.index 3 is not below --shard.count 3 (shards are numbered 0 to 2)"
        );
    }
}
