//! STUB: app, being written.
