//! STUB: mapping, being written.
