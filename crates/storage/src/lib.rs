//! Persistent storage: log-structured write blocks on files, the on-disk record format, and
//! the cold-start scan that rebuilds the primary index.
//!
//! Owns bytes on devices and nothing else: it does not know partitions, policies or the
//! index. The namespace layer appends record images through [`writer::BlockWriter`], keeps
//! each record's [`format::Location`] in its index, and replays [`scan::scan_devices`] at start.
//! Mirrors aerospike-server `as/src/storage/{drv_ssd,flat}.c`.
//!
//! Guarantees implementors of [`device::Device`] rely on and callers get:
//! - a record image is accepted at cold start only if its checksum matches; a torn or
//!   corrupt image ends the scan of its write block with one log line naming file and offset;
//! - write blocks are replayed in write order (each carries a sequence number), so the last
//!   image written for a digest wins, and a tombstone removes it;
//! - with `commit_to_device`, `append` returns only after the image is synced.

pub mod compress;
pub mod device;
pub mod format;
pub mod scan;
pub mod writer;

pub use compress::Codec;
pub use device::{Device, FileDevice};
pub use format::{Location, RecordImage, FILE_HEADER_BYTES, WBLOCK_HEADER_BYTES};
pub use writer::{BlockWriter, WriterConfig};

/// Storage errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("no free write block: the namespace's storage is full")]
    OutOfSpace,
    #[error("record of {0} bytes does not fit in a write block")]
    RecordTooBig(usize),
    #[error("the storage is closed for shutdown")]
    Closed,
}
