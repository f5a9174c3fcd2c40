//! The record-change hook: one observer per namespace told of every change to its records,
//! so derived structures (secondary indexes) stay exact. Set once; absent, it costs a load.
//!
//! Requirements for implementors: `changed` runs under the record's partition lock, on the
//! write path, so it must be quick, must not block on I/O and must never take a partition lock
//! (the lock order is partition lock, then the hook's own locks).

use std::any::Any;

use aerie_record::Digest;

use crate::record::RecordData;

/// Observer of record changes.
pub trait RecordHook: Send + Sync + std::fmt::Debug {
    /// A record changed: `old` is the previous version (None when created), `new` the new one
    /// (None when deleted, expired, evicted or truncated). Both carry their bins, read back
    /// from the device when the namespace keeps data there.
    fn changed(&self, digest: &Digest, old: Option<&RecordData<'_>>, new: Option<&RecordData<'_>>);

    /// For downcasting to the implementation that installed itself.
    fn as_any(&self) -> &dyn Any;
}
