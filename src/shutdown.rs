//! A cloneable shutdown signal shared by the poller, the server and the
//! simulator.
//!
//! Built on a `watch` channel so that any number of tasks can wait for it and
//! a task that starts waiting after the trigger returns at once.

use tokio::sync::watch;

/// Fires once; every clone observes it.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A new, untriggered signal.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    /// Triggers the signal. Idempotent.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when the signal has been triggered.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        // An Err means every sender is gone, which only happens at teardown:
        // treat it as a shutdown too.
        let _ = rx.wait_for(|v| *v).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Shutdown;

    #[tokio::test]
    async fn wait_returns_after_trigger_even_for_late_waiters() {
        let s = Shutdown::new();
        assert!(!s.is_triggered());
        let c = s.clone();
        s.trigger();
        c.wait().await;
        assert!(c.is_triggered());
    }
}
