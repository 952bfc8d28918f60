//! STUB: snapshot, being written.
