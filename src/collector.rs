//! STUB: collector, being written.
