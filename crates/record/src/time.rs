//! Aerospike's clock: void times in seconds and last-update times in milliseconds, both counted
//! from the "citrusleaf epoch", 2010-01-01T00:00:00Z.
//!
//! This is the server's one wall-clock seam: record times (last-update time, void time)
//! come from [`now_ms`], which adds an offset (zero unless [`set_clock_offset_ms`] was
//! called). Only the server's `fault-injection` build (the nemesis suite's clock jumps)
//! sets it; the offset lives here, unconditionally, so that no feature of this low crate
//! forces a rebuild of everything above it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds at 2010-01-01T00:00:00Z.
pub const CITRUSLEAF_EPOCH_UNIX_SECS: u64 = 1_262_304_000;

/// Milliseconds since the citrusleaf epoch.
pub fn now_ms() -> u64 {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let unix_ms = unix_ms.saturating_add_signed(CLOCK_OFFSET_MS.load(Ordering::Relaxed));
    unix_ms.saturating_sub(CITRUSLEAF_EPOCH_UNIX_SECS * 1000)
}

/// Added to the system clock by [`now_ms`]; see the module docs.
static CLOCK_OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Shifts this process's record clock by `offset_ms` (negative: back in time) from now on.
/// For fault injection only (the nemesis suite's clock jumps); nothing else calls it.
pub fn set_clock_offset_ms(offset_ms: i64) {
    CLOCK_OFFSET_MS.store(offset_ms, Ordering::Relaxed);
}

/// Seconds since the citrusleaf epoch.
pub fn now_secs() -> u32 {
    (now_ms() / 1000) as u32
}

/// Converts Unix nanoseconds (as sent by truncate's `lut=`) to citrusleaf milliseconds.
pub fn unix_ns_to_ms(unix_ns: u64) -> u64 {
    (unix_ns / 1_000_000).saturating_sub(CITRUSLEAF_EPOCH_UNIX_SECS * 1000)
}
