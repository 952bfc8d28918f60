//! STUB: simulator, being written.
