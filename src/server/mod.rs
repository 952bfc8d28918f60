//! STUB: HTTP endpoints, being written.
