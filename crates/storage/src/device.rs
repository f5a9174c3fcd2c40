//! The I/O seam: a tiny device interface so tests can wrap a device to fail, "crash" or go
//! slow ([`DelayedDevice`]).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A byte-addressed storage device (a file or a raw device).
///
/// Requirements: `write_at` either writes all bytes or returns an error; `sync` makes every
/// completed write durable; reads past the end return an error.
pub trait Device: Send + Sync + std::fmt::Debug {
    /// Size in bytes.
    fn len(&self) -> u64;
    /// Whether the device has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at `offset`.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes completed writes durable.
    fn sync(&self) -> io::Result<()>;
    /// A name for log lines.
    fn name(&self) -> &str;
}

/// A file used as a device.
#[derive(Debug)]
pub struct FileDevice {
    file: File,
    path: PathBuf,
    name: String,
    len: u64,
}

impl FileDevice {
    /// Opens `path`, creating it and sizing it to `size_bytes` when it is new or smaller.
    pub fn open(path: &Path, size_bytes: u64) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len < size_bytes {
            file.set_len(size_bytes)?;
        }
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            path: path.to_owned(),
            name: path.display().to_string(),
            len,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Device for FileDevice {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Environment variable naming a delay in milliseconds added to every device read (the fault
/// seam tests use to slow a cold start down).
pub const FAULT_READ_DELAY_ENV: &str = "AERIE_FAULT_DEVICE_READ_DELAY_MS";
/// Environment variable naming a delay in milliseconds added to every device write and sync
/// (the fault seam tests use to play a slow disk).
pub const FAULT_WRITE_DELAY_ENV: &str = "AERIE_FAULT_DEVICE_WRITE_DELAY_MS";

/// A device that sleeps before each read, or each write and sync: a slow disk.
///
/// The fault seam of the integration tests, which drive the real server binary: it is compiled
/// in always (a cargo feature would build every crate above this one twice) and wraps devices
/// only when [`FAULT_READ_DELAY_ENV`] or [`FAULT_WRITE_DELAY_ENV`] is set, with a warning in the
/// log (see [`DelayedDevice::from_env`]).
#[derive(Debug)]
pub struct DelayedDevice {
    inner: Arc<dyn Device>,
    read_delay: Duration,
    write_delay: Duration,
}

impl DelayedDevice {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Device>, read_delay: Duration, write_delay: Duration) -> Self {
        Self {
            inner,
            read_delay,
            write_delay,
        }
    }

    /// Wraps `inner` when the fault environment variables ask for it.
    pub fn from_env(inner: Arc<dyn Device>) -> Arc<dyn Device> {
        let ms = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::ZERO, Duration::from_millis)
        };
        let (read, write) = (ms(FAULT_READ_DELAY_ENV), ms(FAULT_WRITE_DELAY_ENV));
        if read.is_zero() && write.is_zero() {
            return inner;
        }
        tracing::warn!(
            device = inner.name(),
            read_delay_ms = read.as_millis() as u64,
            write_delay_ms = write.as_millis() as u64,
            "fault injection: device I/O is delayed"
        );
        Arc::new(Self::new(inner, read, write))
    }
}

impl Device for DelayedDevice {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::thread::sleep(self.read_delay);
        self.inner.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        std::thread::sleep(self.write_delay);
        self.inner.write_at(buf, offset)
    }

    fn sync(&self) -> io::Result<()> {
        std::thread::sleep(self.write_delay);
        self.inner.sync()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }
}
