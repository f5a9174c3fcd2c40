//! The record model: digests, partition ids, particle types, the flat bin encoding records
//! are stored in, and Aerospike's clock (seconds and milliseconds since 2010-01-01).
//!
//! Mirrors aerospike-server `as/include/base/datamodel.h`, `as/src/base/particle_*.c` and
//! `as/include/fabric/partition.h`. Knows nothing of sockets or storage.

pub mod bins;
pub mod digest;
pub mod particle;
pub mod time;

pub use bins::{BinRef, BinsIter, FlatBins, MAX_BIN_NAME_BYTES};
pub use digest::{compute_digest, partition_id, Digest, DIGEST_SIZE, N_PARTITIONS};
