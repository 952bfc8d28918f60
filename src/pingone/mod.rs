//! STUB: PingOne API client, being written.
