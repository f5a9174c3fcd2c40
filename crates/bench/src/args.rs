//! `aerie bench` command line, after asbench's flags (aerospike-benchmark `benchmark_init.c`), so
//! an Aerospike user's muscle memory works: `-h -p -n -s -b -K -k -o -R -e -t -w -z -g -T
//! --batch-size`. Our own additions are long options only: `--count`, `--json`,
//! `--io-threads`, `--socket-timeout`, `--read-filter`.

use std::time::Duration;

use crate::spec::{self, BinSpec};

/// Default service port of an Aerospike node.
pub const DEFAULT_PORT: u16 = aerie_cli::DEFAULT_PORT;
pub use aerie_cli::parse_host;
/// Most connections (`-z`) one bench process opens.
pub const MAX_CONNECTIONS: usize = 4096;
/// Most keys in one batch read.
pub const MAX_BATCH_SIZE: usize = 5000;
/// Longest run one invocation accepts (a day), so no run is unbounded in time.
pub const MAX_DURATION_SECS: u64 = 24 * 3600;
/// Duration of a read/update stage when neither `--duration` nor `--count` is given (asbench's).
pub const DEFAULT_DURATION_SECS: u64 = 10;

/// One stage of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Write keys `start..start + keys * percent / 100` once each, in order.
    Insert { percent: u8 },
    /// Random keys over the range; `read_percent`% reads, the rest updates.
    ReadUpdate { read_percent: u8 },
    /// Random keys; each transaction increments one of 16 entries of a map bin (`MI`).
    MapIncrement,
    /// Random keys; each transaction appends an integer to a list bin (`LA`).
    ListAppend,
    /// Random keys; each transaction applies a Lua UDF incrementing one bin (`UDF`).
    UdfIncrement,
    /// Random keys; the same increment as an operate, INCR and READ (`OI`).
    OperateIncrement,
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Workload::Insert { percent: 100 } => write!(f, "I"),
            Workload::Insert { percent } => write!(f, "I,{percent}"),
            Workload::ReadUpdate { read_percent } => write!(f, "RU,{read_percent}"),
            Workload::MapIncrement => write!(f, "MI"),
            Workload::ListAppend => write!(f, "LA"),
            Workload::UdfIncrement => write!(f, "UDF"),
            Workload::OperateIncrement => write!(f, "OI"),
        }
    }
}

/// Parsed `aerie bench` options.
#[derive(Debug, Clone)]
pub struct BenchArgs {
    pub host: String,
    pub port: u16,
    pub namespace: String,
    pub set: String,
    pub bin_base: String,
    pub start_key: u64,
    pub keys: u64,
    pub bins: Vec<BinSpec>,
    pub random_values: bool,
    /// Wire record_ttl for writes (0, 0xFFFF_FFFF never, 0xFFFF_FFFE keep, or seconds).
    pub record_ttl: u32,
    pub stages: Vec<Workload>,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub connections: usize,
    pub throughput_tps: u64,
    pub batch_size: usize,
    pub timeout_ms: u32,
    pub socket_timeout: Duration,
    pub io_threads: Option<usize>,
    pub json: bool,
    /// Every RU read carries a filter expression that holds for the bench's own records.
    pub read_filter: bool,
}

impl Default for BenchArgs {
    fn default() -> Self {
        BenchArgs {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            namespace: "test".to_owned(),
            set: "testset".to_owned(),
            bin_base: "testbin".to_owned(),
            start_key: 0,
            keys: 1_000_000,
            bins: vec![BinSpec::Int { bytes: 4 }],
            random_values: false,
            record_ttl: 0,
            stages: Vec::new(),
            duration: None,
            count: None,
            connections: 16,
            throughput_tps: 0,
            batch_size: 1,
            timeout_ms: 0,
            socket_timeout: Duration::from_millis(30_000),
            io_threads: None,
            json: false,
            read_filter: false,
        }
    }
}

impl BenchArgs {
    /// `HOST:PORT` to connect to.
    pub fn addr(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The stages to run: those given with `-w`, else asbench's default RU,50.
    pub fn stages(&self) -> Vec<Workload> {
        if self.stages.is_empty() {
            vec![Workload::ReadUpdate { read_percent: 50 }]
        } else {
            self.stages.clone()
        }
    }

    /// Bin names in order: `base`, `base_2`, `base_3`, ...
    pub fn bin_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.bins.len());
        for i in 0..self.bins.len() {
            names.push(if i == 0 {
                self.bin_base.clone()
            } else {
                format!("{}_{}", self.bin_base, i + 1)
            });
        }
        names
    }
}

/// `aerie bench` flags, after asbench's. Our own additions are long options only.
#[derive(clap::Args, Debug, Clone)]
#[command(
    disable_help_flag = true,
    args_conflicts_with_subcommands = true,
    about = "Load generator speaking the Aerospike protocol to one node (Aerie or Aerospike), after asbench"
)]
pub struct BenchCli {
    #[command(subcommand)]
    pub sub: Option<BenchSub>,
    #[command(flatten)]
    pub connect: aerie_cli::ConnectArgs,
    /// Namespace.
    #[arg(short = 'n', long, default_value = "test", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub namespace: String,
    /// Set ("" for none).
    #[arg(short = 's', long, default_value = "testset")]
    pub set: String,
    /// Base bin name: NAME, NAME_2, ...
    #[arg(short = 'b', long = "bin", default_value = "testbin", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub bin_base: String,
    /// First key; keys are integers.
    #[arg(short = 'K', long, alias = "startKey", default_value_t = 0)]
    pub start_key: u64,
    /// Key range size.
    #[arg(short = 'k', long, default_value_t = 1_000_000)]
    pub keys: u64,
    /// Bins, comma separated: I[1-8] | S:LEN | B:LEN | D | b, with an optional count: 3*S:10.
    #[arg(short = 'o', long, alias = "objectSpec", value_name = "SPEC", default_value = "I", value_parser = object_spec)]
    pub object_spec: ObjectSpec,
    /// New random values on every write (default: fixed values).
    #[arg(short = 'R', long)]
    pub random: bool,
    /// Record TTL: 0 namespace default, -1 never, -2 keep.
    #[arg(short = 'e', long = "expiration-time", value_name = "SECS", default_value = "0", allow_hyphen_values = true, value_parser = ttl)]
    pub record_ttl: u32,
    /// I[,PCT] insert PCT% of the range in order (default 100); RU[,READ_PCT] random
    /// reads/updates (default RU,50); MI map increments; LA list appends; UDF record-UDF
    /// increments of one bin; OI the same increment as an operate. Repeat to run stages in
    /// order: -w I -w RU,80.
    #[arg(short = 'w', long = "workload", value_name = "W", value_parser = workload)]
    pub stages: Vec<Workload>,
    /// Length of each RU stage (default 10; an insert stage stops at the end of its range or
    /// after SECS if given).
    #[arg(short = 't', long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION_SECS))]
    pub duration: Option<u64>,
    /// Stop each stage after N transactions.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Connections, one request in flight on each.
    #[arg(short = 'z', long = "threads", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS as u64))]
    pub connections: u64,
    /// Cap on transactions per second, 0 = none.
    #[arg(
        short = 'g',
        long = "throughput",
        value_name = "TPS",
        default_value_t = 0
    )]
    pub throughput_tps: u64,
    /// RU reads as batch reads of N keys (1 = single reads).
    #[arg(long, alias = "batchSize", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH_SIZE as u64))]
    pub batch_size: u64,
    /// Server-side total timeout sent with each request, in ms.
    #[arg(short = 'T', long = "timeout", value_name = "MS", default_value_t = 0)]
    pub timeout_ms: u32,
    /// Give up on a reply after MS and reconnect.
    #[arg(long = "socket-timeout", value_name = "MS", default_value_t = 30_000)]
    pub socket_timeout_ms: u64,
    /// Runtime threads (default: cores, at most -z).
    #[arg(short = 'W', long, alias = "event-loops", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub io_threads: Option<u64>,
    /// RU reads carry a filter expression (the first bin's type equals the type written),
    /// true for every record the bench wrote: compare against a run without it.
    #[arg(long)]
    pub read_filter: bool,
    /// Final summary as one JSON object on stdout (per-second lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Accepted for asbench compatibility (latency is always shown).
    #[arg(short = 'L', long)]
    pub latency: bool,
    /// Print help (-u as asbench's usage flag).
    #[arg(short = 'u', long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Subcommands of `aerie bench`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum BenchSub {
    /// Secondary-index benchmark: load KEYS records (bin v = key), index v, then time equality
    /// queries, range queries and full scans. Every answer is checked.
    Sindex(crate::sindex::SindexCli),
}

/// The bins of `-o`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSpec(pub Vec<BinSpec>);

fn object_spec(v: &str) -> Result<ObjectSpec, String> {
    spec::parse(v).map(ObjectSpec)
}

impl BenchCli {
    /// The run these flags describe, checked.
    pub fn to_args(&self) -> Result<BenchArgs, String> {
        let seeds = self.connect.seeds()?;
        let (host, port) = seeds.into_iter().next().ok_or("-h needs a host")?;
        let a = BenchArgs {
            host,
            port,
            namespace: self.namespace.clone(),
            set: self.set.clone(),
            bin_base: self.bin_base.clone(),
            start_key: self.start_key,
            keys: self.keys,
            bins: self.object_spec.0.clone(),
            random_values: self.random,
            record_ttl: self.record_ttl,
            stages: self.stages.clone(),
            duration: self.duration.map(Duration::from_secs),
            count: self.count,
            connections: usize::try_from(self.connections).map_err(|e| e.to_string())?,
            throughput_tps: self.throughput_tps,
            batch_size: usize::try_from(self.batch_size).map_err(|e| e.to_string())?,
            timeout_ms: self.timeout_ms,
            socket_timeout: Duration::from_millis(self.socket_timeout_ms.max(1)),
            io_threads: self
                .io_threads
                .map(usize::try_from)
                .transpose()
                .map_err(|e| e.to_string())?,
            json: self.json,
            read_filter: self.read_filter,
        };
        validate(&a)?;
        Ok(a)
    }
}

fn validate(a: &BenchArgs) -> Result<(), String> {
    if a.keys == 0 {
        return Err("-k/--keys must be at least 1".to_owned());
    }
    if a.start_key
        .checked_add(a.keys)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(
            "--start-key + --keys must stay below 2^63 (keys are signed integers)".to_owned(),
        );
    }
    if a.connections == 0 || a.connections > MAX_CONNECTIONS {
        return Err(format!("-z/--threads must be 1..={MAX_CONNECTIONS}"));
    }
    if a.batch_size == 0 || a.batch_size > MAX_BATCH_SIZE {
        return Err(format!("--batch-size must be 1..={MAX_BATCH_SIZE}"));
    }
    if a.io_threads == Some(0) {
        return Err("--io-threads must be at least 1".to_owned());
    }
    if a.count == Some(0) {
        return Err("--count must be at least 1".to_owned());
    }
    if a.bin_base.len()
        + if a.bins.len() > 1 {
            1 + a.bins.len().to_string().len()
        } else {
            0
        }
        > aerie_record::MAX_BIN_NAME_BYTES
    {
        return Err(format!(
            "bin names must fit in {} bytes; shorten -b",
            aerie_record::MAX_BIN_NAME_BYTES
        ));
    }
    Ok(())
}

fn workload(v: &str) -> Result<Workload, String> {
    let mut parts = v.split(',').map(str::trim);
    let kind = parts.next().unwrap_or_default().to_ascii_uppercase();
    let pct = parts.next();
    if parts.next().is_some() {
        return Err(format!(
            "bad workload '{v}': expected I[,PCT], RU[,READ_PCT], MI, LA, UDF or OI"
        ));
    }
    let pct = |default: u8| -> Result<u8, String> {
        match pct {
            None => Ok(default),
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= 100 => Ok(n),
                _ => Err(format!(
                    "bad percentage '{p}' in workload '{v}': expected 0..=100"
                )),
            },
        }
    };
    match kind.as_str() {
        "I" => Ok(Workload::Insert { percent: pct(100)? }),
        "RU" => Ok(Workload::ReadUpdate {
            read_percent: pct(50)?,
        }),
        "MI" => Ok(Workload::MapIncrement),
        "LA" => Ok(Workload::ListAppend),
        "UDF" => Ok(Workload::UdfIncrement),
        "OI" => Ok(Workload::OperateIncrement),
        _ => Err(format!(
            "unsupported workload '{v}': expected I[,PCT], RU[,READ_PCT], MI, LA, UDF or OI"
        )),
    }
}

fn ttl(v: &str) -> Result<u32, String> {
    match v.trim().parse::<i64>() {
        Ok(-1) => Ok(u32::MAX),
        Ok(-2) => Ok(u32::MAX - 1),
        Ok(n) if (0..i64::from(u32::MAX - 1)).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "bad expiration time '{v}': expected -2, -1, 0 or seconds"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        cli: BenchCli,
    }

    fn cli(s: &str) -> Result<BenchCli, clap::Error> {
        use clap::Parser;
        Cmd::try_parse_from(std::iter::once("bench").chain(s.split_whitespace())).map(|c| c.cli)
    }

    fn args(s: &str) -> Result<BenchArgs, String> {
        cli(s).map_err(|e| e.to_string())?.to_args()
    }

    #[test]
    fn defaults_follow_asbench() -> Result<(), String> {
        let a = args("")?;
        assert_eq!(a.addr(), "127.0.0.1:3000");
        assert_eq!(
            (a.namespace.as_str(), a.set.as_str(), a.bin_base.as_str()),
            ("test", "testset", "testbin")
        );
        assert_eq!(
            (a.start_key, a.keys, a.connections, a.batch_size),
            (0, 1_000_000, 16, 1)
        );
        assert_eq!(a.stages(), vec![Workload::ReadUpdate { read_percent: 50 }]);
        assert_eq!(a.bins, vec![BinSpec::Int { bytes: 4 }]);
        assert!(!a.json && a.duration.is_none() && a.count.is_none());
        Ok(())
    }

    #[test]
    fn asbench_core_flags() -> Result<(), String> {
        let a = args(
            "-h 10.0.0.1 -p 3100 -n bar -s s1 -k 1000 -K 50 -o S:100 -w RU,80 -z 8 -t 30 -g 2500 -T 50 --batch-size 10 --json",
        )?;
        assert_eq!(a.addr(), "10.0.0.1:3100");
        assert_eq!((a.namespace.as_str(), a.set.as_str()), ("bar", "s1"));
        assert_eq!((a.keys, a.start_key), (1000, 50));
        assert_eq!(a.bins, vec![BinSpec::Str { len: 100 }]);
        assert_eq!(a.stages, vec![Workload::ReadUpdate { read_percent: 80 }]);
        assert_eq!(
            (a.connections, a.throughput_tps, a.timeout_ms, a.batch_size),
            (8, 2500, 50, 10)
        );
        assert_eq!(a.duration, Some(Duration::from_secs(30)));
        assert!(a.json);
        Ok(())
    }

    #[test]
    fn long_forms_attached_values_and_stages() -> Result<(), String> {
        let a = args("--hosts=127.0.0.1:4000 --duration 5 -w I -w RU --start-key=7 -k20 --count 99 --io-threads 1")?;
        assert_eq!(
            a.addr(),
            "127.0.0.1:4000",
            "a port in -h wins over the default"
        );
        assert_eq!(
            a.stages,
            vec![
                Workload::Insert { percent: 100 },
                Workload::ReadUpdate { read_percent: 50 }
            ]
        );
        assert_eq!(
            (a.start_key, a.keys, a.count, a.io_threads),
            (7, 20, Some(99), Some(1))
        );
        let a = args("-h 127.0.0.1:4000 -p 5000")?;
        assert_eq!(a.port, 4000, "a port inside -h wins over -p, as in asbench");
        let a = args("-h [::1]:3001 -w i,60")?;
        assert_eq!(a.addr(), "[::1]:3001");
        assert_eq!(a.stages, vec![Workload::Insert { percent: 60 }]);
        Ok(())
    }

    #[test]
    fn expiration_values() -> Result<(), String> {
        assert_eq!(args("-e -1")?.record_ttl, u32::MAX);
        assert_eq!(args("-e -2")?.record_ttl, u32::MAX - 1);
        assert_eq!(args("-e 100")?.record_ttl, 100);
        assert!(args("-e -3").is_err());
        Ok(())
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "-w RUF,10,20",
            "-w RU,101",
            "-z 0",
            "-k 0",
            "--batch-size 0",
            "-t 0",
            "-o S:",
            "-p 70000",
            "--frobnicate",
            "-n",
            "-h host:tls:3000",
            "-K 9223372036854775807 -k 2",
            "--count 0",
        ] {
            assert!(args(bad).is_err(), "'{bad}' should be refused");
        }
    }

    #[test]
    fn help_and_bin_names() -> Result<(), String> {
        for help in ["--help", "-u"] {
            assert!(matches!(
                cli(help).map_err(|e| e.kind()),
                Err(clap::error::ErrorKind::DisplayHelp)
            ));
        }
        let err = cli("--frobnicate")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("--frobnicate"), "{err}");
        let a = args("-o 3*I,S:4 -b b")?;
        assert_eq!(a.bin_names(), vec!["b", "b_2", "b_3", "b_4"]);
        Ok(())
    }
}
