//! STUB: exposition writers, being written.
