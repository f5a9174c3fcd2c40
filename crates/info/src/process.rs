//! The server process's own figures (memory, CPU, threads), read from `/proc/self` on
//! Linux, for the ticker, `/metrics` and the console. Elsewhere every figure is `None`.

/// Linux's clock tick (`sysconf(_SC_CLK_TCK)`), 100 on every mainstream architecture; std
/// has no portable way to ask.
const CLOCK_TICKS_PER_SEC: u64 = 100;
/// Page size assumed for `statm`: 4 KiB on x86-64 and the usual arm64 kernels.
const PAGE_BYTES: u64 = 4096;

/// Resident memory, in bytes.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(PAGE_BYTES)
}

/// CPU time used so far (user + system), in milliseconds.
pub fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields are counted after its `)`.
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace();
    // After `)`: state is field 3, so utime (14) and stime (15) are the 12th and 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime
        .checked_add(stime)?
        .checked_mul(1000)
        .map(|t| t / CLOCK_TICKS_PER_SEC)
}

/// Threads in the process.
pub fn threads() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(super::rss_bytes().is_some_and(|b| b > 0));
            assert!(super::cpu_ms().is_some());
            assert!(super::threads().is_some_and(|t| t >= 1));
        }
    }
}
