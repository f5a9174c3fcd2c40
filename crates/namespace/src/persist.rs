//! Persistence of a namespace's records to storage files: every write appends the record's
//! image, every delete a tombstone, and start-up replays the files (cold start).
//!
//! With `storage-engine memory` and persistence files, data stays in memory as well and reads
//! never touch the files. With `storage-engine device` the index keeps only each record's
//! location and reads go to the files (see `crate::access`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aerie_config::{NamespaceConfig, StorageEngineConfig};
use aerie_storage::format::align_up;
use aerie_storage::{
    scan, BlockWriter, Device, FileDevice, Location, RecordImage, StorageError, WriterConfig,
};

/// Default write-block size when the configuration has none (the memory engine).
const DEFAULT_WBLOCK_BYTES: u64 = 1024 * 1024;
/// Default flush interval of a partly filled write block.
const DEFAULT_FLUSH_MAX_MS: u64 = 1000;
/// Largest write block a packed location can address.
pub const MAX_WBLOCK_BYTES: u64 = 4 * 1024 * 1024;

/// Storage files and their writer.
#[derive(Debug)]
pub struct Persistence {
    pub writer: BlockWriter,
    pub devices: Vec<Arc<dyn Device>>,
    pub flush_max_ms: u64,
    pub wblock_bytes: u32,
    pub commit_to_device: bool,
    pub meta_path: PathBuf,
    pub defrag_lwm_pct: u8,
    /// Record data is kept in memory too (memory engine); false = on the device only.
    pub data_in_memory: bool,
}

/// Storage settings resolved from a namespace's configuration; `None` without files.
pub struct StorageSettings {
    pub files: Vec<String>,
    pub filesize_bytes: u64,
    pub wblock_bytes: u64,
    pub flush_max_ms: u64,
    pub commit_to_device: bool,
    pub defrag_lwm_pct: u8,
    /// Record data is kept in memory too (memory engine); false = on the device only.
    pub data_in_memory: bool,
}

impl StorageSettings {
    /// Reads the settings from configuration.
    pub fn from_config(c: &NamespaceConfig) -> Option<Self> {
        match &c.storage {
            StorageEngineConfig::Memory(m) if !m.files.is_empty() => Some(Self {
                files: m.files.clone(),
                filesize_bytes: m.filesize_bytes.unwrap_or(64 * DEFAULT_WBLOCK_BYTES),
                wblock_bytes: DEFAULT_WBLOCK_BYTES,
                flush_max_ms: DEFAULT_FLUSH_MAX_MS,
                commit_to_device: false,
                defrag_lwm_pct: 50,
                data_in_memory: true,
            }),
            StorageEngineConfig::Device(d) if !d.files.is_empty() || !d.devices.is_empty() => {
                Some(Self {
                    files: d.files.iter().chain(d.devices.iter()).cloned().collect(),
                    filesize_bytes: d.filesize_bytes,
                    wblock_bytes: d.write_block_size_bytes,
                    flush_max_ms: d.flush_max_ms,
                    commit_to_device: d.commit_to_device,
                    defrag_lwm_pct: d.defrag_lwm_pct,
                    data_in_memory: false,
                })
            }
            _ => None,
        }
    }
}

/// Packs a location into 64 bits: device (6), write block (22), offset in 16-byte units (18),
/// padded size in 16-byte units (18).
pub fn pack(loc: Location) -> u64 {
    let dev = u64::from(loc.device) & 0x3F;
    let wb = u64::from(loc.wblock) & 0x3F_FFFF;
    let off = u64::from(loc.offset / 16) & 0x3_FFFF;
    let size = (align_up(loc.size as usize) as u64 / 16) & 0x3_FFFF;
    (dev << 58) | (wb << 36) | (off << 18) | size
}

/// Reverses [`pack`]; the size comes back padded.
pub fn unpack(v: u64) -> Location {
    Location {
        device: ((v >> 58) & 0x3F) as u16,
        wblock: ((v >> 36) & 0x3F_FFFF) as u32,
        offset: (((v >> 18) & 0x3_FFFF) * 16) as u32,
        size: ((v & 0x3_FFFF) * 16) as u32,
    }
}

impl Persistence {
    /// Opens (creating when absent) the storage files.
    pub fn open_devices(s: &StorageSettings) -> Result<Vec<Arc<dyn Device>>, StorageError> {
        if s.wblock_bytes > MAX_WBLOCK_BYTES {
            return Err(StorageError::Format {
                path: s.files.first().cloned().unwrap_or_default(),
                message: format!("write-block-size above {MAX_WBLOCK_BYTES} is not supported"),
            });
        }
        if s.files.len() > 64 {
            return Err(StorageError::Format {
                path: String::new(),
                message: "at most 64 files per namespace".into(),
            });
        }
        s.files
            .iter()
            .map(|f| {
                FileDevice::open(Path::new(f), s.filesize_bytes)
                    .map(|d| aerie_storage::device::DelayedDevice::from_env(Arc::new(d)))
                    .map_err(|e| StorageError::Io {
                        path: f.clone(),
                        source: e,
                    })
            })
            .collect()
    }

    /// Starts the writer after the cold-start scan.
    pub fn start(
        namespace: &str,
        s: &StorageSettings,
        devices: Vec<Arc<dyn Device>>,
        summary: &scan::ScanSummary,
        live: Vec<Vec<u32>>,
    ) -> Result<Self, StorageError> {
        let cfg = WriterConfig {
            namespace: namespace.to_owned(),
            wblock_bytes: s.wblock_bytes as u32,
            commit_to_device: s.commit_to_device,
        };
        let writer = BlockWriter::open(devices.clone(), cfg, summary.next_seq, live)?;
        let meta_path = PathBuf::from(format!(
            "{}.meta",
            s.files.first().map(String::as_str).unwrap_or("aerie")
        ));
        Ok(Self {
            writer,
            devices,
            flush_max_ms: s.flush_max_ms,
            wblock_bytes: s.wblock_bytes as u32,
            commit_to_device: s.commit_to_device,
            meta_path,
            defrag_lwm_pct: s.defrag_lwm_pct,
            data_in_memory: s.data_in_memory,
        })
    }

    /// Appends an image; returns its packed location.
    pub fn append(&self, img: &RecordImage<'_>) -> Result<u64, StorageError> {
        self.writer.append(img).map(pack)
    }

    /// Appends an image moved by defragmentation (may use reserved blocks).
    pub fn append_defrag(&self, img: &RecordImage<'_>) -> Result<u64, StorageError> {
        self.writer.append_defrag(img).map(pack)
    }

    /// Releases a superseded image.
    pub fn release(&self, packed: u64) {
        self.writer.release(unpack(packed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trip() {
        let l = Location {
            device: 5,
            wblock: 4000,
            offset: 1024 * 1024 - 16,
            size: 100,
        };
        let u = unpack(pack(l));
        assert_eq!(
            (u.device, u.wblock, u.offset, u.size),
            (5, 4000, 1024 * 1024 - 16, 112)
        );
    }
}
