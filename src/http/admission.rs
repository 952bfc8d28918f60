//! Who gets a connection slot: a global cap, a per-peer cap, and a small
//! reserve for probes.
//!
//! A client that opens the server's whole connection allowance and keeps
//! every connection busy (one request every few seconds is enough to beat
//! the read timeout) would otherwise leave Prometheus and the liveness
//! probe waiting in the listen backlog. So:
//!
//! - one peer ([`PeerKey`]: an IPv4 address, or an IPv6 /64, since one host
//!   usually owns a whole /64) holds at most `per_peer` of the `normal`
//!   slots. Loopback is a peer like any other.
//! - `reserve` more slots take connections the normal lane cannot (the peer
//!   is over its share, or every normal slot is taken). A connection in the
//!   reserve is a *probe lane*: one request, then closed, and only for the
//!   paths the caller names as probes (health, readiness, metrics). A
//!   squatter can take a reserve slot only for as long as one request, so
//!   a probe or scrape that arrives on a fresh connection finds one free.
//! - a connection neither lane takes (its peer is over its share and the
//!   reserve is full) is refused at once with a short `503`, so it does not
//!   sit in the backlog in front of other clients.
//!
//! The [`Ticket`] an admitted connection holds gives its slot back when
//! dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The unit the per-peer cap counts: an IPv4 address, or the /64 prefix of
/// an IPv6 address (IPv4-mapped IPv6 addresses count as IPv4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerKey {
    /// An IPv4 address.
    V4(u32),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
}

impl PeerKey {
    /// The key of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self::V4(u32::from(v4)),
            IpAddr::V6(v6) => Self::V6((u128::from(v6) >> 64) as u64),
        }
    }
}

/// Which lane a connection was admitted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// An ordinary keep-alive connection, within the peer's share.
    Normal,
    /// A probe-lane connection: one request, probe paths only.
    Reserve,
}

/// The slot limits; see the module documentation.
#[derive(Debug)]
pub struct Admission {
    normal: usize,
    per_peer: usize,
    reserve: usize,
    state: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    normal: usize,
    reserve: usize,
    /// Normal-lane connections per peer; entries at 0 are removed.
    peers: HashMap<PeerKey, usize>,
}

impl Admission {
    /// `normal` slots (at least 1), at most `per_peer` of them (at least 1)
    /// for one peer, and `reserve` probe-lane slots.
    pub fn new(normal: usize, per_peer: usize, reserve: usize) -> Arc<Self> {
        Arc::new(Self {
            normal: normal.max(1),
            per_peer: per_peer.max(1),
            reserve,
            state: Mutex::default(),
        })
    }

    /// Slots in all: the most connections served at once.
    pub fn capacity(&self) -> usize {
        self.normal + self.reserve
    }

    /// Admits a connection from `ip` to a lane, or `None`: refuse it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let key = PeerKey::of(ip);
        let mut c = self.state.lock().ok()?;
        let held = c.peers.get(&key).copied().unwrap_or(0);
        let lane = if c.normal < self.normal && held < self.per_peer {
            c.normal += 1;
            c.peers.insert(key, held + 1);
            Lane::Normal
        } else if c.reserve < self.reserve {
            c.reserve += 1;
            Lane::Reserve
        } else {
            return None;
        };
        Some(Ticket {
            admission: Arc::clone(self),
            key,
            lane,
        })
    }

    fn release(&self, key: PeerKey, lane: Lane) {
        let Ok(mut c) = self.state.lock() else { return };
        match lane {
            Lane::Normal => {
                c.normal = c.normal.saturating_sub(1);
                if let Some(n) = c.peers.get_mut(&key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        c.peers.remove(&key);
                    }
                }
            }
            Lane::Reserve => c.reserve = c.reserve.saturating_sub(1),
        }
    }
}

/// An admitted connection's slot, given back on drop.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    key: PeerKey,
    lane: Lane,
}

impl Ticket {
    /// The lane the connection was admitted to.
    pub fn lane(&self) -> Lane {
        self.lane
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.key, self.lane);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_peer_gets_its_share_then_the_reserve_then_nothing() {
        let a = Admission::new(4, 2, 1);
        let t1 = a.admit(ip("127.0.0.1")).unwrap();
        let t2 = a.admit(ip("127.0.0.1")).unwrap();
        assert_eq!((t1.lane(), t2.lane()), (Lane::Normal, Lane::Normal));
        let t3 = a.admit(ip("127.0.0.1")).unwrap();
        assert_eq!(t3.lane(), Lane::Reserve, "over its share: the probe lane");
        assert!(a.admit(ip("127.0.0.1")).is_none(), "the reserve is full");
        // Another peer still gets a normal slot.
        let other = a.admit(ip("127.0.0.2")).unwrap();
        assert_eq!(other.lane(), Lane::Normal);
        drop(t1);
        let again = a.admit(ip("127.0.0.1")).unwrap();
        assert_eq!(
            again.lane(),
            Lane::Normal,
            "a freed slot is the peer's again"
        );
        drop(t3);
        assert_eq!(a.admit(ip("127.0.0.1")).unwrap().lane(), Lane::Reserve);
    }

    #[test]
    fn a_full_normal_lane_sends_everyone_to_the_reserve() {
        let a = Admission::new(2, 2, 1);
        let _held = [a.admit(ip("10.0.0.1")), a.admit(ip("10.0.0.2"))];
        assert_eq!(a.admit(ip("10.0.0.3")).unwrap().lane(), Lane::Reserve);
        assert_eq!(a.capacity(), 3);
    }

    #[test]
    fn ipv6_peers_are_counted_per_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            PeerKey::of(ip("2001:db8:1:2::1")),
            PeerKey::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            PeerKey::of(ip("2001:db8:1:2::1")),
            PeerKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            PeerKey::of(ip("::ffff:127.0.0.1")),
            PeerKey::of(ip("127.0.0.1"))
        );
        assert_ne!(PeerKey::of(ip("::")), PeerKey::of(ip("0.0.0.0")));
    }
}
