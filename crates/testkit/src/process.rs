//! Spawn the real `aerie server` on a free loopback port and tear it down again.
//!
//! The contract with the binary (see README): with `--port 0` it picks a free port,
//! and once it listens it prints exactly one stdout line
//! `aerie ready: service 127.0.0.1:PORT`. Everything here hangs off that line.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bin::locate_aerie_bin;

/// How long a server may take from spawn to its ready line. A release build is
/// ready in milliseconds; this bound is for a loaded 2-core CI machine.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Prefix of the one stdout line the server prints once it listens.
const READY_PREFIX: &str = "aerie ready: service ";

/// What the server logs on stderr once its HTTP port listens, before the address.
const HTTP_READY_MARKER: &str = "http ready on ";

/// Keep test directories after a passing test too (they are always kept after a
/// failing one, for the logs).
const KEEP_DIRS_ENV: &str = "AERIE_KEEP_TEST_DIRS";

/// How much of stderr a failure message quotes.
const STDERR_TAIL_BYTES: u64 = 8 * 1024;

/// Settings for one server process. Build with [`ServerProcess::builder`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    bin_hint: Option<PathBuf>,
    config_text: Option<String>,
    port: u16,
    /// `None`: no `--http-port` argument, so the config (or its default) decides.
    http_port: Option<u16>,
    extra_args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    ready_timeout: Duration,
}

/// A running `aerie server` child process, killed (and reaped) on drop.
///
/// Its stdout and stderr go to files in a private temporary directory, which is
/// also where a config file passed to [`ServerBuilder::config`] is written. When
/// the owning test panics, drop prints the tail of stderr and keeps the directory.
#[derive(Debug)]
pub struct ServerProcess {
    child: Option<Child>,
    addr: SocketAddr,
    work_dir: PathBuf,
    stderr_path: PathBuf,
    stdout_path: PathBuf,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            bin_hint: None,
            config_text: None,
            port: 0,
            http_port: Some(0),
            extra_args: Vec::new(),
            envs: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }
}

impl ServerBuilder {
    /// The binary to run unless `$AERIE_BIN` overrides it. Integration tests of
    /// `aerie-server` pass `env!("CARGO_BIN_EXE_aerie")`.
    #[must_use]
    pub fn bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.bin_hint = Some(path.into());
        self
    }

    /// Aerospike-format configuration text, written to `aerie.conf` in the work
    /// directory and passed as `--config`. Every `{work_dir}` in the text is replaced
    /// with that directory, for storage files.
    #[must_use]
    pub fn config(mut self, text: impl Into<String>) -> Self {
        self.config_text = Some(text.into());
        self
    }

    /// Service port; 0 (the default) lets the server pick a free one.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// HTTP console port; 0 (the default) lets the server pick a free one.
    #[must_use]
    pub fn http_port(mut self, port: u16) -> Self {
        self.http_port = Some(port);
        self
    }

    /// Passes no `--http-port`, so the console port is whatever the config file says (Aerie's
    /// default when it has no `http` stanza), as when an operator starts a node by hand.
    #[must_use]
    pub fn config_http_port(mut self) -> Self {
        self.http_port = None;
        self
    }

    /// One more argument after `server --port P --http-port H [--config F]`.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// An environment variable for the child (for example `RUST_LOG`).
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Makes every read of the server's storage devices take `delay` longer (a slow disk;
    /// the server's device fault seam, `AERIE_FAULT_DEVICE_READ_DELAY_MS`).
    #[must_use]
    pub fn slow_device_reads(self, delay: Duration) -> Self {
        let ms = delay.as_millis().to_string();
        self.env("AERIE_FAULT_DEVICE_READ_DELAY_MS", ms)
    }

    /// Makes every write and sync of the server's storage devices take `delay` longer (a
    /// slow disk; `AERIE_FAULT_DEVICE_WRITE_DELAY_MS`).
    #[must_use]
    pub fn slow_device_writes(self, delay: Duration) -> Self {
        let ms = delay.as_millis().to_string();
        self.env("AERIE_FAULT_DEVICE_WRITE_DELAY_MS", ms)
    }

    /// Upper bound on the wait for the ready line (default 20 s).
    #[must_use]
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Spawns the server and waits for its ready line.
    ///
    /// # Panics
    ///
    /// With the reason and the tail of the server's stderr when the binary cannot
    /// be found or started, exits early, or is not ready in time. Test-only code:
    /// a panic is the most useful report.
    #[must_use]
    pub fn start(self) -> ServerProcess {
        match self.try_start() {
            Ok(server) => server,
            Err(err) => panic!("aerie server did not start: {err}"),
        }
    }

    /// [`start`](Self::start) returning the error instead of panicking.
    ///
    /// # Errors
    ///
    /// The binary is missing, the spawn failed, the child exited before printing
    /// its ready line, or the ready line did not come within the timeout.
    pub fn try_start(self) -> Result<ServerProcess, String> {
        let bin = locate_aerie_bin(self.bin_hint.as_deref())?;
        self.start_bin(&bin)
    }

    fn start_bin(self, bin: &Path) -> Result<ServerProcess, String> {
        let work_dir = make_work_dir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let stderr_path = work_dir.join("stderr.log");
        let stdout_path = work_dir.join("stdout.log");

        let mut cmd = Command::new(bin);
        cmd.arg("server").arg("--port").arg(self.port.to_string());
        if let Some(http_port) = self.http_port {
            cmd.arg("--http-port").arg(http_port.to_string());
        }
        if let Some(text) = &self.config_text {
            let config_path = work_dir.join("aerie.conf");
            let text = text.replace("{work_dir}", &work_dir.display().to_string());
            fs::write(&config_path, text)
                .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
            cmd.arg("--config").arg(&config_path);
        }
        cmd.args(&self.extra_args);
        for (key, value) in &self.envs {
            cmd.env(key, value);
        }
        let stderr_file = File::create(&stderr_path)
            .map_err(|e| format!("cannot create {}: {e}", stderr_path.display()))?;
        cmd.current_dir(&work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr_file));

        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("child has no stdout pipe")?;
        let ready_rx = spawn_stdout_pump(stdout, &stdout_path)?;

        let mut server = ServerProcess {
            child: Some(child),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            work_dir,
            stderr_path,
            stdout_path,
        };
        match server.wait_ready(&ready_rx, self.ready_timeout) {
            Ok(addr) => {
                server.addr = addr;
                Ok(server)
            }
            Err(reason) => {
                let tail = server.stderr_tail();
                // Dropping the half-started server kills it; keep its logs.
                server.keep_work_dir();
                Err(format!(
                    "{reason}\nbinary: {}\nwork dir: {}\n--- stderr (tail) ---\n{tail}",
                    bin.display(),
                    server.work_dir.display()
                ))
            }
        }
    }
}

impl ServerProcess {
    /// A server with the built-in default configuration (namespace `test` in memory)
    /// on free ports.
    ///
    /// # Panics
    ///
    /// See [`ServerBuilder::start`].
    #[must_use]
    pub fn start() -> ServerProcess {
        ServerProcess::builder().start()
    }

    /// Settings for a server that differs from the default one.
    #[must_use]
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Service address, always on the loopback interface.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Service port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:PORT`, the host string the official clients take.
    #[must_use]
    pub fn hosts(&self) -> String {
        self.addr.to_string()
    }

    /// The HTTP console's address, from the `http ready on ADDR` line the server logs on
    /// stderr before its ready line. `None` when HTTP is off or the line is missing (a
    /// `logging` stanza quieter than `info`).
    #[must_use]
    pub fn http_addr(&self) -> Option<SocketAddr> {
        let log = fs::read_to_string(&self.stderr_path).ok()?;
        let (_, rest) = log.split_once(HTTP_READY_MARKER)?;
        let addr: SocketAddr = rest.split_whitespace().next()?.parse().ok()?;
        if addr.ip().is_unspecified() {
            return Some(SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())));
        }
        Some(addr)
    }

    /// The private directory holding the logs and the config file.
    #[must_use]
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// File that receives the server's stderr.
    #[must_use]
    pub fn stderr_path(&self) -> &Path {
        &self.stderr_path
    }

    /// File that receives the server's stdout (the ready line included).
    #[must_use]
    pub fn stdout_path(&self) -> &Path {
        &self.stdout_path
    }

    /// The child's pid, while it has not been reaped.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The last few KiB of stderr, for assertion messages.
    #[must_use]
    pub fn stderr_tail(&self) -> String {
        read_tail(&self.stderr_path, STDERR_TAIL_BYTES)
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.stderr_path.display()))
    }

    /// Has the child exited? Reaps it if so.
    ///
    /// # Errors
    ///
    /// `waitpid` failed.
    pub fn exit_status(&mut self) -> io::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => child.try_wait(),
            None => Err(io::Error::other("the child was already reaped")),
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit; kills it after that.
    /// Use this to test graceful shutdown; plain drop just kills.
    ///
    /// # Errors
    ///
    /// The signal could not be sent or the child could not be reaped.
    pub fn terminate(&mut self, timeout: Duration) -> io::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            return Err(io::Error::other("the child was already reaped"));
        };
        if let Some(status) = child.try_wait()? {
            self.child = None;
            return Ok(status);
        }
        // std has no signal API and this crate stays free of libc: use kill(1).
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !sent.success() {
            return Err(io::Error::other(format!(
                "kill -TERM {} failed: {sent}",
                child.id()
            )));
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                child.kill()?;
                let status = child.wait()?;
                self.child = None;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no exit within {timeout:?} of SIGTERM; killed ({status})"),
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_ready(
        &mut self,
        ready_rx: &mpsc::Receiver<String>,
        timeout: Duration,
    ) -> Result<SocketAddr, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "no `{READY_PREFIX}...` line on stdout within {timeout:?}"
                ));
            }
            let slice = (deadline - now).min(Duration::from_millis(100));
            match ready_rx.recv_timeout(slice) {
                Ok(line) => return parse_ready_line(&line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed without a ready line: the child is exiting.
                    let status = self.wait_exit(Duration::from_secs(2));
                    return Err(format!(
                        "the server closed stdout without a ready line (exit: {status})"
                    ));
                }
            }
            if let Ok(Some(status)) = self.exit_status() {
                return Err(format!("the server exited before it was ready: {status}"));
            }
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.exit_status() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => return format!("unknown ({e})"),
            }
        }
        "still running".to_string()
    }

    fn keep_work_dir(&self) {
        // A marker file is simpler than threading a flag through Drop.
        let _ = File::create(self.work_dir.join(".keep"));
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let failing = thread::panicking();
        if failing {
            eprintln!(
                "--- aerie server stderr (tail; full logs in {}) ---\n{}",
                self.work_dir.display(),
                self.stderr_tail()
            );
        }
        let keep = failing
            || std::env::var_os(KEEP_DIRS_ENV).is_some()
            || self.work_dir.join(".keep").exists();
        if !keep {
            let _ = fs::remove_dir_all(&self.work_dir);
        }
    }
}

/// Parses `aerie ready: service HOST:PORT`. A wildcard host means "every
/// interface": tests then use the loopback address with that port.
fn parse_ready_line(line: &str) -> Result<SocketAddr, String> {
    let rest = line
        .trim()
        .strip_prefix(READY_PREFIX)
        .ok_or_else(|| format!("unexpected ready line {line:?}"))?;
    let addr: SocketAddr = rest
        .trim()
        .parse()
        .map_err(|e| format!("ready line {line:?} has no HOST:PORT: {e}"))?;
    if addr.port() == 0 {
        return Err(format!("ready line {line:?} reports port 0"));
    }
    if addr.ip().is_unspecified() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())));
    }
    Ok(addr)
}

/// Copies the child's stdout to `path`, line by line, and hands the first ready
/// line to the returned channel. The thread ends when the child closes stdout, so
/// the pipe never fills up and blocks the server.
fn spawn_stdout_pump(
    stdout: impl Read + Send + 'static,
    path: &Path,
) -> Result<mpsc::Receiver<String>, String> {
    let mut log =
        File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("aerie-stdout".to_string())
        .spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                if line.starts_with(READY_PREFIX) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line);
                    }
                }
            }
        })
        .map_err(|e| format!("cannot spawn the stdout thread: {e}"))?;
    Ok(rx)
}

/// A fresh directory under the system temp dir, unique per process and call.
fn make_work_dir() -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("aerie-test-{}-{n}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn read_tail(path: &Path, max_bytes: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line_with_loopback_address() {
        let addr = parse_ready_line("aerie ready: service 127.0.0.1:41234\n").expect("parse");
        assert_eq!(addr, SocketAddr::from((Ipv4Addr::LOCALHOST, 41234)));
    }

    #[test]
    fn ready_line_with_wildcard_address_maps_to_loopback() {
        let addr = parse_ready_line("aerie ready: service 0.0.0.0:3000").expect("parse");
        assert_eq!(addr, SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)));
    }

    #[test]
    fn ready_line_must_carry_a_real_port() {
        assert!(parse_ready_line("aerie ready: service 127.0.0.1:0").is_err());
        assert!(parse_ready_line("aerie ready: service nowhere").is_err());
        assert!(parse_ready_line("starting up").is_err());
    }

    // The two tests below exercise the harness itself, with stand-in processes in
    // place of the binary: they say nothing about the server.

    #[test]
    fn a_child_that_exits_without_a_ready_line_is_an_error_not_a_hang() {
        let started = Instant::now();
        let err = ServerBuilder::default()
            .ready_timeout(Duration::from_secs(10))
            .start_bin(Path::new("/bin/false"))
            .expect_err("/bin/false never prints a ready line");
        assert!(
            err.contains("ready line") || err.contains("exited"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "waited for the full timeout: {err}"
        );
    }

    #[test]
    fn the_ready_line_gives_the_address_and_drop_kills_the_child() {
        let dir = make_work_dir().expect("dir");
        let script = dir.join("fake-aerie.sh");
        fs::write(
            &script,
            "#!/bin/sh\necho 'aerie ready: service 127.0.0.1:45678'\nexec sleep 30\n",
        )
        .expect("write");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&script)
            .status()
            .expect("chmod");
        assert!(status.success());

        let server = ServerBuilder::default().start_bin(&script).expect("starts");
        assert_eq!(server.port(), 45678);
        assert_eq!(server.hosts(), "127.0.0.1:45678");
        let pid = server.pid().expect("pid");
        let work_dir = server.work_dir().to_path_buf();
        drop(server);
        // Reaped, so the pid no longer names our child (kill -0 fails), and the
        // work dir of a passing test is gone.
        let alive = Command::new("kill")
            .arg("-0")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status()
            .expect("kill -0");
        assert!(!alive.success(), "child {pid} still running after drop");
        assert!(std::env::var_os(KEEP_DIRS_ENV).is_some() || !work_dir.exists());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn tail_reads_only_the_end() {
        let dir = make_work_dir().expect("dir");
        let path = dir.join("f");
        fs::write(&path, "0123456789").expect("write");
        assert_eq!(read_tail(&path, 4).expect("tail"), "6789");
        assert_eq!(read_tail(&path, 100).expect("tail"), "0123456789");
        let _ = fs::remove_dir_all(dir);
    }
}
