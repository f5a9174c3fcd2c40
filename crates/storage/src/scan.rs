//! The cold-start scan: replays every write block of a namespace's devices in write order,
//! handing each valid record image to the caller, who rebuilds the index (the last image of a
//! digest wins; a tombstone removes it).

use std::sync::Arc;
use std::time::Instant;

use crate::device::Device;
use crate::format::{
    self, align_up, Decoded, Location, RecordImage, FILE_HEADER_BYTES, WBLOCK_HEADER_BYTES,
};
use crate::StorageError;

/// What a scan found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    pub blocks: u64,
    pub records: u64,
    pub corrupt_blocks: u64,
    /// One past the highest block sequence seen: the writer continues from here.
    pub next_seq: u64,
    pub elapsed_ms: u64,
}

/// How often the scan logs its progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Replays all devices. Devices whose header is blank are skipped (they are new); a foreign or
/// mismatched header is an error, so the server does not start on someone else's data.
pub fn scan_devices(
    devices: &[Arc<dyn Device>],
    namespace: &str,
    wblock_bytes: u32,
    mut on_image: impl FnMut(&RecordImage<'_>, Location),
) -> Result<ScanSummary, StorageError> {
    let started = Instant::now();
    let wb = wblock_bytes as usize;
    let mut summary = ScanSummary {
        next_seq: 1,
        ..Default::default()
    };
    let blocks = written_blocks(devices, namespace, wblock_bytes)?;
    let mut buf = vec![0u8; wb];
    let total = blocks.len();
    let mut next_report = Instant::now() + PROGRESS_EVERY;
    for (done, &(seq, di, b)) in blocks.iter().enumerate() {
        if Instant::now() >= next_report {
            next_report += PROGRESS_EVERY;
            let secs = started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(
                namespace,
                blocks_done = done,
                blocks_total = total,
                pct = done * 100 / total.max(1),
                records_scanned = summary.records,
                records_per_sec = (summary.records as f64 / secs) as u64,
                "cold start progress"
            );
        }
        let Some(d) = devices.get(di as usize) else {
            continue;
        };
        d.read_at(&mut buf, b as u64 * wb as u64)
            .map_err(|e| io_err(d.as_ref(), e))?;
        summary.blocks += 1;
        summary.next_seq = summary.next_seq.max(seq + 1);
        let mut off = WBLOCK_HEADER_BYTES;
        while off < wb {
            match format::decode_record(seq, buf.get(off..).unwrap_or_default()) {
                Decoded::Image(img, size) => {
                    on_image(
                        &img,
                        Location {
                            device: di,
                            wblock: b,
                            offset: off as u32,
                            size: size as u32,
                        },
                    );
                    summary.records += 1;
                    off += align_up(size);
                }
                Decoded::End => break,
                Decoded::Corrupt(why) => {
                    summary.corrupt_blocks += 1;
                    tracing::warn!(
                        "{}: offset {}: {why}; skipping the rest of write block {b}",
                        d.name(),
                        b as u64 * wb as u64 + off as u64
                    );
                    break;
                }
            }
        }
    }
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}

/// Every written block of the devices, as (sequence, device, block), in write order. Devices
/// whose header is blank are skipped (they are new); a foreign or mismatched header is an
/// error.
pub fn written_blocks(
    devices: &[Arc<dyn Device>],
    namespace: &str,
    wblock_bytes: u32,
) -> Result<Vec<(u64, u16, u32)>, StorageError> {
    let wb = wblock_bytes as usize;
    let mut blocks: Vec<(u64, u16, u32)> = Vec::new();
    for (di, d) in devices.iter().enumerate() {
        let mut h = [0u8; FILE_HEADER_BYTES];
        d.read_at(&mut h, 0).map_err(|e| io_err(d.as_ref(), e))?;
        match format::decode_file_header(&h) {
            Ok(None) => continue,
            Ok(Some(fh)) => {
                if fh.namespace != namespace || fh.wblock_bytes != wblock_bytes {
                    return Err(StorageError::Format {
                        path: d.name().to_owned(),
                        message: format!(
                            "written for namespace '{}' with write-block-size {}; configured '{}' with {}",
                            fh.namespace, fh.wblock_bytes, namespace, wblock_bytes
                        ),
                    });
                }
            }
            Err(m) => {
                return Err(StorageError::Format {
                    path: d.name().to_owned(),
                    message: m.to_owned(),
                })
            }
        }
        let n_blocks = (d.len() / wb as u64) as u32;
        let mut wh = [0u8; WBLOCK_HEADER_BYTES];
        for b in 1..n_blocks {
            d.read_at(&mut wh, b as u64 * wb as u64)
                .map_err(|e| io_err(d.as_ref(), e))?;
            if let Some(seq) = format::decode_wblock_header(&wh) {
                blocks.push((seq, di as u16, b));
            }
        }
    }
    blocks.sort_unstable();
    Ok(blocks)
}

fn io_err(d: &dyn Device, e: std::io::Error) -> StorageError {
    StorageError::Io {
        path: d.name().to_owned(),
        source: e,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests index fixtures they built")]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;
    use crate::device::FileDevice;
    use crate::writer::{BlockWriter, WriterConfig};

    const WB: u32 = 64 * 1024;

    fn devices(dir: &std::path::Path, n: usize, blocks: u64) -> Vec<Arc<dyn Device>> {
        (0..n)
            .map(|i| {
                let d = FileDevice::open(&dir.join(format!("d{i}.dat")), blocks * WB as u64);
                Arc::new(d.unwrap_or_else(|e| panic!("open device: {e}"))) as Arc<dyn Device>
            })
            .collect()
    }

    fn cfg(commit: bool) -> WriterConfig {
        WriterConfig {
            namespace: "test".into(),
            wblock_bytes: WB,
            commit_to_device: commit,
        }
    }

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("aerie-storage-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::create_dir_all(&d);
        d
    }

    /// Replays into a map, as the namespace layer does: last image wins, tombstones remove.
    fn replay(devs: &[Arc<dyn Device>]) -> (HashMap<[u8; 20], Vec<u8>>, ScanSummary) {
        let mut m = HashMap::new();
        let s = scan_devices(devs, "test", WB, |img, _| {
            if img.tombstone {
                m.remove(&img.digest);
            } else {
                m.insert(img.digest, img.data.to_vec());
            }
        });
        (m, s.unwrap_or_else(|e| panic!("scan: {e}")))
    }

    fn img<'a>(k: u8, data: &'a [u8], tombstone: bool) -> RecordImage<'a> {
        RecordImage {
            digest: [k; 20],
            last_update_ms: 1,
            void_time: 0,
            generation: 1,
            tombstone,
            codec: crate::compress::Codec::None,
            set: b"s",
            data,
        }
    }

    #[test]
    fn writes_survive_reopen_and_last_write_wins() -> Result<(), StorageError> {
        let dir = tmpdir("reopen");
        let devs = devices(&dir, 2, 8);
        let w = BlockWriter::open(devs.clone(), cfg(false), 1, Vec::new())?;
        let big = vec![7u8; 5000];
        // Superseded images are released, as the namespace layer does, so blocks get reused.
        let mut last: HashMap<u8, Location> = HashMap::new();
        for round in 0..30u8 {
            for k in 0..10u8 {
                let mut data = big.clone();
                data[0] = round;
                let loc = w.append(&img(k, &data, false))?;
                assert!(loc.wblock >= 1);
                if let Some(old) = last.insert(k, loc) {
                    w.release(old);
                }
            }
        }
        w.append(&img(3, b"", true))?;
        w.flush()?;
        drop(w);
        let (m, s) = replay(&devices(&dir, 2, 8));
        assert_eq!(m.len(), 9);
        assert!(!m.contains_key(&[3u8; 20]));
        assert_eq!(m.get(&[4u8; 20]).and_then(|d| d.first()).copied(), Some(29));
        assert!(s.blocks > 1);
        assert_eq!(s.corrupt_blocks, 0);
        Ok(())
    }

    #[test]
    fn corruption_is_skipped_with_the_rest_kept() -> Result<(), StorageError> {
        let dir = tmpdir("corrupt");
        let devs = devices(&dir, 1, 4);
        let w = BlockWriter::open(devs.clone(), cfg(true), 1, Vec::new())?;
        let mut locs = Vec::new();
        for k in 0..5u8 {
            locs.push(w.append(&img(k, b"value-bytes", false))?);
        }
        drop(w);
        // Flip a byte inside the third image.
        let l = locs[2];
        let at = l.wblock as u64 * WB as u64 + l.offset as u64 + 50;
        let mut b = [0u8; 1];
        devs[0].read_at(&mut b, at).map_err(|e| StorageError::Io {
            path: "x".into(),
            source: e,
        })?;
        b[0] ^= 0xff;
        devs[0].write_at(&b, at).map_err(|e| StorageError::Io {
            path: "x".into(),
            source: e,
        })?;
        let (m, s) = replay(&devices(&dir, 1, 4));
        assert_eq!(s.corrupt_blocks, 1);
        assert_eq!(m.len(), 2, "images before the damage survive");
        Ok(())
    }

    #[test]
    fn reused_block_never_resurrects_old_images() -> Result<(), StorageError> {
        let dir = tmpdir("reuse");
        let devs = devices(&dir, 1, 3); // two usable blocks
        let w = BlockWriter::open(devs.clone(), cfg(false), 1, Vec::new())?;
        let data = vec![1u8; 20_000];
        // With two blocks there is no room for the defragmentation reserve: write as
        // defragmentation does.
        let a = w.append_defrag(&img(1, &data, false))?;
        let b = w.append_defrag(&img(2, &data, false))?;
        let c = w.append_defrag(&img(3, &data, false))?;
        // Block 1 is full: these go to block 2, superseding every image of block 1.
        let c2 = w.append_defrag(&img(3, &data, false))?;
        w.append_defrag(&img(1, b"new", false))?;
        w.append_defrag(&img(2, b"", true))?;
        assert_eq!((a.wblock, b.wblock, c.wblock), (1, 1, 1));
        assert_eq!(c2.wblock, 2);
        for l in [a, b, c] {
            w.release(l);
        }
        // Fill block 2 so that the writer reuses block 1 under a new sequence number.
        w.append_defrag(&img(4, &data, false))?;
        w.append_defrag(&img(5, &data, false))?;
        let later = vec![9u8; 20_000];
        let e = w.append_defrag(&img(6, &later, false))?;
        assert_eq!(e.wblock, 1, "block 1 was reused");
        w.flush()?;
        let (m, _) = replay(&devices(&dir, 1, 3));
        assert_eq!(m.get(&[1u8; 20]).map(Vec::as_slice), Some(&b"new"[..]));
        assert!(
            !m.contains_key(&[2u8; 20]),
            "the deleted digest stays deleted"
        );
        assert_eq!(m.get(&[6u8; 20]), Some(&later));
        assert_eq!(m.len(), 5);
        Ok(())
    }
}
