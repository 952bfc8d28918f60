//! Pending, firing and resolved alerts across evaluations, the way
//! Prometheus' alerting rules keep them, so `for` works across polls and
//! config reloads (this state lives as long as the daemon).
//!
//! An alert is identified by its label set (its fingerprint). When its
//! condition first holds it is *pending* since that evaluation
//! (`active_at`); once it has held for the condition's `for` at an
//! evaluation it *fires* (`fired_at`); when the condition stops holding a
//! pending alert is forgotten and a firing one is *resolved*
//! (`resolved_at`), kept and re-sent for [`RESOLVED_RETENTION`], then
//! forgotten. A resolved alert whose condition holds again starts over as
//! pending.

use std::collections::BTreeMap;
use std::time::Duration;

use super::catalog::AlertKind;

/// How long a resolved alert is kept and re-sent (Prometheus: 15 m), so an
/// Alertmanager that missed the resolution still learns of it.
pub const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// An alert's labels, sorted by name: its identity.
pub type Labels = BTreeMap<&'static str, String>;

/// One evaluation's result for one subject: the condition holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Which condition.
    pub kind: AlertKind,
    /// `alertname`, `severity` and the subject's labels.
    pub labels: Labels,
    /// The `description` annotation for this evaluation.
    pub description: String,
}

/// Where an alert is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The condition holds, not yet for `for`; nothing is sent.
    Pending,
    /// The condition has held for `for`.
    Firing,
    /// It fired and its condition stopped holding.
    Resolved,
}

/// One alert's state. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Which condition.
    pub kind: AlertKind,
    /// Identity.
    pub labels: Labels,
    /// From the latest evaluation where the condition held.
    pub description: String,
    /// Current phase.
    pub phase: Phase,
    /// First evaluation of this activation where the condition held.
    pub active_at: f64,
    /// When it started firing (`startsAt`).
    pub fired_at: Option<f64>,
    /// When it was resolved (`endsAt` once resolved).
    pub resolved_at: Option<f64>,
    /// When it was last handed to the senders.
    pub last_sent: Option<f64>,
}

impl Alert {
    /// True when the senders should get it at `now`: a firing alert not sent
    /// within `resend`, a resolution not yet sent, a resolved alert not sent
    /// within `resend` (as Prometheus' `needsSending`). Pending: never.
    pub fn needs_sending(&self, now: f64, resend: Duration) -> bool {
        match (self.phase, self.last_sent) {
            (Phase::Pending, _) => false,
            (_, None) => true,
            (Phase::Resolved, Some(sent)) if self.resolved_at.is_some_and(|r| r > sent) => true,
            (_, Some(sent)) => now - sent >= resend.as_secs_f64(),
        }
    }
}

/// Every known alert, by label set.
#[derive(Debug, Default)]
pub struct AlertStates {
    alerts: BTreeMap<Labels, Alert>,
}

impl AlertStates {
    /// Applies one evaluation at `now`: `candidates` are every subject
    /// whose (enabled) condition holds; `hold` gives each condition's `for`.
    /// Alerts of conditions that are switched off simply stop being
    /// candidates, so they resolve.
    pub fn update(
        &mut self,
        now: f64,
        candidates: Vec<Candidate>,
        hold: impl Fn(AlertKind) -> Duration,
    ) {
        let mut seen = std::collections::BTreeSet::new();
        for c in candidates {
            seen.insert(c.labels.clone());
            match self.alerts.get_mut(&c.labels) {
                Some(a) if a.phase != Phase::Resolved => a.description = c.description,
                _ => {
                    self.alerts.insert(
                        c.labels.clone(),
                        Alert {
                            kind: c.kind,
                            labels: c.labels,
                            description: c.description,
                            phase: Phase::Pending,
                            active_at: now,
                            fired_at: None,
                            resolved_at: None,
                            last_sent: None,
                        },
                    );
                }
            }
        }
        let retention = RESOLVED_RETENTION.as_secs_f64();
        self.alerts.retain(|labels, a| {
            if seen.contains(labels) {
                if a.phase == Phase::Pending && now - a.active_at >= hold(a.kind).as_secs_f64() {
                    a.phase = Phase::Firing;
                    a.fired_at = Some(now);
                }
                return true;
            }
            match a.phase {
                Phase::Pending => false,
                Phase::Firing => {
                    a.phase = Phase::Resolved;
                    a.resolved_at = Some(now);
                    true
                }
                Phase::Resolved => a.resolved_at.is_some_and(|r| now - r < retention),
            }
        });
    }

    /// The alerts to hand to the senders at `now` (all of them that are
    /// firing or resolved when `all`), then marks them sent; the copies
    /// returned still carry the previous `last_sent`.
    pub fn take_due(&mut self, now: f64, resend: Duration, all: bool) -> Vec<Alert> {
        let mut out = Vec::new();
        for a in self.alerts.values_mut() {
            let due = if all {
                a.phase != Phase::Pending
            } else {
                a.needs_sending(now, resend)
            };
            if due {
                out.push(a.clone());
                a.last_sent = Some(now);
            }
        }
        out
    }

    /// Every alert, in label order.
    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Forgets everything (alerting switched off).
    pub fn clear(&mut self) {
        self.alerts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(kind: AlertKind, rule: &str) -> Candidate {
        let mut labels = Labels::new();
        labels.insert("alertname", kind.name().to_string());
        labels.insert("rule_id", rule.to_string());
        Candidate {
            kind,
            labels,
            description: format!("d {rule}"),
        }
    }

    fn phases(s: &AlertStates) -> Vec<(String, Phase)> {
        s.iter()
            .map(|a| (a.labels["rule_id"].clone(), a.phase))
            .collect()
    }

    const MIN: f64 = 60.0;

    #[test]
    fn fires_only_after_holding_for_the_whole_for_duration() {
        let mut s = AlertStates::default();
        let hold = |_| Duration::from_secs(600);
        let c = || vec![cand(AlertKind::RuleFailed, "r1")];
        s.update(0.0, c(), hold);
        assert_eq!(phases(&s), [("r1".into(), Phase::Pending)]);
        assert!(s.take_due(0.0, Duration::from_secs(60), false).is_empty());
        s.update(9.0 * MIN, c(), hold);
        assert_eq!(s.iter().next().map(|a| a.phase), Some(Phase::Pending));
        s.update(10.0 * MIN, c(), hold);
        let a = s.iter().next().cloned().expect("alert");
        assert_eq!(
            (a.phase, a.active_at, a.fired_at),
            (Phase::Firing, 0.0, Some(600.0))
        );
    }

    #[test]
    fn a_gap_restarts_the_pending_clock() {
        let mut s = AlertStates::default();
        let hold = |_| Duration::from_secs(600);
        s.update(0.0, vec![cand(AlertKind::RuleFailed, "r1")], hold);
        s.update(5.0 * MIN, vec![], hold);
        assert_eq!(s.iter().count(), 0, "a pending alert is forgotten");
        s.update(6.0 * MIN, vec![cand(AlertKind::RuleFailed, "r1")], hold);
        s.update(15.0 * MIN, vec![cand(AlertKind::RuleFailed, "r1")], hold);
        assert_eq!(s.iter().next().map(|a| a.phase), Some(Phase::Pending));
        s.update(16.0 * MIN, vec![cand(AlertKind::RuleFailed, "r1")], hold);
        assert_eq!(s.iter().next().map(|a| a.phase), Some(Phase::Firing));
    }

    #[test]
    fn for_zero_fires_at_once_and_resolution_is_sent_then_expires() {
        let mut s = AlertStates::default();
        let hold = |_| Duration::ZERO;
        let resend = Duration::from_secs(60);
        s.update(0.0, vec![cand(AlertKind::SyncFailing, "r1")], hold);
        let sent = s.take_due(0.0, resend, false);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].fired_at, Some(0.0));
        // Re-sent only after `resend`.
        s.update(30.0, vec![cand(AlertKind::SyncFailing, "r1")], hold);
        assert!(s.take_due(30.0, resend, false).is_empty());
        s.update(60.0, vec![cand(AlertKind::SyncFailing, "r1")], hold);
        assert_eq!(s.take_due(60.0, resend, false).len(), 1);
        // Resolved: sent at once, with its resolution time.
        s.update(70.0, vec![], hold);
        let sent = s.take_due(70.0, resend, false);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].phase, sent[0].resolved_at),
            (Phase::Resolved, Some(70.0))
        );
        // Re-sent every `resend` for 15 minutes, then forgotten.
        assert!(s.take_due(100.0, resend, false).is_empty());
        assert_eq!(s.take_due(130.0, resend, false).len(), 1);
        s.update(70.0 + 15.0 * MIN, vec![], hold);
        assert_eq!(s.iter().count(), 0);
    }

    #[test]
    fn a_resolved_alert_that_holds_again_starts_over() {
        let mut s = AlertStates::default();
        let hold = |_| Duration::from_secs(60);
        let c = || vec![cand(AlertKind::GroupsFailing, "r1")];
        s.update(0.0, c(), hold);
        s.update(60.0, c(), hold);
        s.update(120.0, vec![], hold);
        s.update(180.0, c(), hold);
        let a = s.iter().next().cloned().expect("alert");
        assert_eq!(
            (a.phase, a.active_at, a.resolved_at),
            (Phase::Pending, 180.0, None)
        );
    }

    #[test]
    fn force_sends_every_firing_and_resolved_alert() {
        let mut s = AlertStates::default();
        let hold = |k| {
            if k == AlertKind::RuleFailed {
                Duration::ZERO
            } else {
                Duration::from_secs(600)
            }
        };
        s.update(
            0.0,
            vec![
                cand(AlertKind::RuleFailed, "a"),
                cand(AlertKind::SyncStale, "b"),
            ],
            hold,
        );
        assert_eq!(s.take_due(0.0, Duration::from_secs(60), false).len(), 1);
        let all = s.take_due(1.0, Duration::from_secs(60), true);
        assert_eq!(all.len(), 1, "pending alerts are never sent");
        assert_eq!(all[0].labels["rule_id"], "a");
    }
}
