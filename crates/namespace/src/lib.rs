//! Namespaces: their configuration, 4096 partitions each holding a primary index of records,
//! the set table with per-set statistics, partition ownership, and truncation.
//!
//! Mirrors aerospike-server `as/src/base/namespace.c`, `as/src/fabric/partition.c` and
//! `as/src/base/truncate.c`. Transaction logic (what a command does to a record) lives in the
//! `transaction` crate; this crate only stores and finds records.
//!
//! Concurrency: each partition has its own lock, held only for the synchronous work of one
//! command on one record (never across an await). There is no namespace-wide lock on the
//! record path; the set table is read-mostly.

mod access;
mod hook;
mod index;
mod namespace;
mod partition;
mod persist;
mod record;
mod sets;
mod tomb;
mod udf_stats;

pub use access::ReadBuf;
pub use hook::RecordHook;
pub use index::PartitionIndex;
pub use namespace::{
    bump, Commit, Namespace, NamespaceStats, Registry, StoreError, TruncateError, Usage,
};
pub use partition::{NodeId, OwnershipTable, Partition};
pub use persist::Persistence;
pub use record::{Record, RecordData, RecordMeta};
pub use sets::{SetId, SetInfo, SetTable, MAX_SET_NAME_BYTES, NO_SET};
pub use udf_stats::{JobCounters, UdfCounters, UdfStats};
