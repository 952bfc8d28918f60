//! STUB: timefmt, being written.
