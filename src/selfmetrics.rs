//! STUB: selfmetrics, being written.
