//! Aerospike's clock: void times in seconds and last-update times in milliseconds, both counted
//! from the "citrusleaf epoch", 2010-01-01T00:00:00Z.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds at 2010-01-01T00:00:00Z.
pub const CITRUSLEAF_EPOCH_UNIX_SECS: u64 = 1_262_304_000;

/// Milliseconds since the citrusleaf epoch.
pub fn now_ms() -> u64 {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    unix_ms.saturating_sub(CITRUSLEAF_EPOCH_UNIX_SECS * 1000)
}

/// Seconds since the citrusleaf epoch.
pub fn now_secs() -> u32 {
    (now_ms() / 1000) as u32
}

/// Converts Unix nanoseconds (as sent by truncate's `lut=`) to citrusleaf milliseconds.
pub fn unix_ns_to_ms(unix_ns: u64) -> u64 {
    (unix_ns / 1_000_000).saturating_sub(CITRUSLEAF_EPOCH_UNIX_SECS * 1000)
}
