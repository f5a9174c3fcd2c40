//! `aerie bench` command line, after asbench's flags (aerospike-benchmark `benchmark_init.c`), so
//! an Aerospike user's muscle memory works: `-h -p -n -s -b -K -k -o -R -e -t -w -z -g -T
//! --batch-size`. Our own additions are long options only: `--count`, `--json`,
//! `--io-threads`, `--socket-timeout`, `--read-filter`.

use std::time::Duration;

use crate::spec::{self, BinSpec};

/// Default service port of an Aerospike node.
pub const DEFAULT_PORT: u16 = 3000;
/// Most connections (`-z`) one bench process opens.
pub const MAX_CONNECTIONS: usize = 4096;
/// Most keys in one batch read.
pub const MAX_BATCH_SIZE: usize = 5000;
/// Longest run one invocation accepts (a day), so no run is unbounded in time.
pub const MAX_DURATION_SECS: u64 = 24 * 3600;
/// Duration of a read/update stage when neither `--duration` nor `--count` is given (asbench's).
pub const DEFAULT_DURATION_SECS: u64 = 10;

pub const USAGE: &str = "usage: aerie bench [options]
Load generator speaking the Aerospike protocol to one node (Aerie or Aerospike).
  -h, --hosts HOST[:PORT]      node to drive (default 127.0.0.1; the first of a list is used)
  -p, --port PORT              port when HOST has none (default 3000)
  -n, --namespace NS           namespace (default test)
  -s, --set SET                set (default testset; \"\" for none)
  -b, --bin NAME               base bin name: NAME, NAME_2, ... (default testbin)
  -K, --start-key N            first key (default 0); keys are integers
  -k, --keys N                 key range size (default 1000000)
  -o, --object-spec SPEC       bins, comma separated: I[1-8] | S:LEN | B:LEN | D | b,
                               with an optional count: 3*S:10 (default I)
  -R, --random                 new random values on every write (default: fixed values)
  -e, --expiration-time SECS   record TTL: 0 namespace default, -1 never, -2 keep (default 0)
  -w, --workload W             I[,PCT] insert PCT% of the range in order (default 100),
                               RU[,READ_PCT] random reads/updates (default RU,50);
                               MI map increments, LA list appends (collection ops);
                               UDF record-UDF increments of one bin, OI the same
                               increment as an operate (INCR + READ), to compare;
                               repeat -w to run stages in order: -w I -w RU,80
  -t, --duration SECS          length of each RU stage (default 10; an insert stage
                               stops at the end of its range or after SECS if given)
      --count N                stop each stage after N transactions
  -z, --threads N              connections, one request in flight on each (default 16)
  -g, --throughput TPS         cap on transactions per second, 0 = none (default 0)
      --batch-size N           RU reads as batch reads of N keys (default 1 = single reads)
  -T, --timeout MS             server-side total timeout sent with each request (default 0)
      --socket-timeout MS      give up on a reply after MS and reconnect (default 30000)
      --io-threads N           runtime threads (default: cores, at most -z)
      --read-filter            RU reads carry a filter expression (the first bin's type
                               equals the type written), true for every record the bench
                               wrote: compare against a run without it for the filter's cost
      --json                   final summary as one JSON object on stdout
                               (per-second lines go to stderr)
  -L, --latency                accepted for asbench compatibility (latency is always shown)
      --help                   this text";

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

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<BenchArgs>),
    Help,
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

/// Parses the arguments that follow `aerie bench`.
pub fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut a = BenchArgs::default();
    let mut host_port: Option<u16> = None;
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        // `--name=value` as well as `--name value`; short options also as `-k100`.
        let (flag, inline) = split_inline(arg);
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--help" | "-u" => return Ok(Parsed::Help),
            "-h" | "--hosts" => {
                let v = value(&flag)?;
                let (host, port) = parse_host(&v)?;
                a.host = host;
                host_port = port;
            }
            "-p" | "--port" => a.port = num(&flag, &value(&flag)?)?,
            "-n" | "--namespace" => a.namespace = nonempty(&flag, value(&flag)?)?,
            "-s" | "--set" => a.set = value(&flag)?,
            "-b" | "--bin" => a.bin_base = nonempty(&flag, value(&flag)?)?,
            "-K" | "--start-key" | "--startKey" => a.start_key = num(&flag, &value(&flag)?)?,
            "-k" | "--keys" => a.keys = num(&flag, &value(&flag)?)?,
            "-o" | "--object-spec" | "--objectSpec" => a.bins = spec::parse(&value(&flag)?)?,
            "-R" | "--random" => a.random_values = true,
            "-e" | "--expiration-time" => a.record_ttl = ttl(&value(&flag)?)?,
            "-w" | "--workload" => a.stages.push(workload(&value(&flag)?)?),
            "-t" | "--duration" => {
                let secs: u64 = num(&flag, &value(&flag)?)?;
                if secs == 0 || secs > MAX_DURATION_SECS {
                    return Err(format!("{flag} must be 1..={MAX_DURATION_SECS} seconds"));
                }
                a.duration = Some(Duration::from_secs(secs));
            }
            "--count" => a.count = Some(num(&flag, &value(&flag)?)?),
            "-z" | "--threads" => a.connections = num(&flag, &value(&flag)?)?,
            "-g" | "--throughput" => a.throughput_tps = num(&flag, &value(&flag)?)?,
            "--batch-size" | "--batchSize" => a.batch_size = num(&flag, &value(&flag)?)?,
            "-T" | "--timeout" => a.timeout_ms = num(&flag, &value(&flag)?)?,
            "--socket-timeout" => {
                let ms: u64 = num(&flag, &value(&flag)?)?;
                a.socket_timeout = Duration::from_millis(ms.max(1));
            }
            "--io-threads" | "-W" | "--event-loops" => {
                a.io_threads = Some(num(&flag, &value(&flag)?)?)
            }
            "--json" => a.json = true,
            "--read-filter" => a.read_filter = true,
            "-L" | "--latency" => {}
            other => return Err(format!("unknown option '{other}' (see aerie bench --help)")),
        }
    }
    if let Some(p) = host_port {
        a.port = p;
    }
    validate(&a)?;
    Ok(Parsed::Run(Box::new(a)))
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

fn split_inline(arg: &str) -> (String, Option<String>) {
    if let Some(long) = arg.strip_prefix("--") {
        if let Some((name, v)) = long.split_once('=') {
            return (format!("--{name}"), Some(v.to_owned()));
        }
        return (arg.to_owned(), None);
    }
    // `-k100`: a short flag with its value attached. Flags without a value stand alone.
    let mut chars = arg.chars();
    if let (Some('-'), Some(c), rest) = (chars.next(), chars.next(), chars.as_str()) {
        if !rest.is_empty() && c.is_ascii_alphabetic() && !matches!(c, 'R' | 'L' | 'u') {
            return (format!("-{c}"), Some(rest.to_owned()));
        }
    }
    (arg.to_owned(), None)
}

/// `host`, `host:port`, `[v6]:port`, or a comma list of those (the first is used: single node).
pub fn parse_host(v: &str) -> Result<(String, Option<u16>), String> {
    let first = v.split(',').next().unwrap_or_default().trim();
    if first.is_empty() {
        return Err("-h needs a host".to_owned());
    }
    if let Some(rest) = first.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("bad host '{first}'"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(num("port", p)?),
            None if tail.is_empty() => None,
            None => return Err(format!("bad host '{first}'")),
        };
        return Ok((h.to_owned(), port));
    }
    match first.rsplit_once(':') {
        // asbench also allows `host:tlsname:port`; TLS is not supported, so a middle part is refused.
        Some((h, p)) if !h.contains(':') => Ok((h.to_owned(), Some(num("port", p)?))),
        Some(_) => Err(format!(
            "bad host '{first}': expected HOST[:PORT] (TLS names are not supported)"
        )),
        None => Ok((first.to_owned(), None)),
    }
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

fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("invalid value '{v}' for {name}"))
}

fn nonempty(name: &str, v: String) -> Result<String, String> {
    if v.is_empty() {
        Err(format!("{name} must not be empty"))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<BenchArgs, String> {
        let argv: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        match parse(&argv)? {
            Parsed::Run(a) => Ok(*a),
            Parsed::Help => Err("help".to_owned()),
        }
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
        assert!(matches!(parse(&["--help".to_owned()]), Ok(Parsed::Help)));
        let a = args("-o 3*I,S:4 -b b")?;
        assert_eq!(a.bin_names(), vec!["b", "b_2", "b_3", "b_4"]);
        Ok(())
    }
}
