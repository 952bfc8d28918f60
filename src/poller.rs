//! STUB: poller, being written.
