//! STUB: logging, being written.
