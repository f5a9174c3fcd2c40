//! A cluster harness: N `aerie server` processes on distinct loopback ports, each with its
//! own config (node id, fabric and heartbeat ports, every node's heartbeat port as a mesh
//! seed), which can be killed, paused, restarted and grown one node at a time.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::process::{ServerBuilder, ServerProcess};

/// One node's fixed identity: it keeps these across restarts.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub node_id: u64,
    /// The loopback address every listener of the node binds.
    pub ip: Ipv4Addr,
    pub fabric_port: u16,
    pub heartbeat_port: u16,
}

/// A running (or stopped) cluster.
#[derive(Debug)]
pub struct TestCluster {
    bin: PathBuf,
    /// Node `i`'s namespace stanzas (a node added later takes the first node's).
    namespaces: Vec<String>,
    /// Environment for every node's process; `{node}` in a value becomes the node's index.
    envs: Vec<(String, String)>,
    specs: Vec<NodeSpec>,
    nodes: Vec<Option<ServerProcess>>,
    /// User and client-side password hash the harness logs in with on a `security { }`
    /// cluster, before its own info commands.
    login: Option<(String, String)>,
}

/// A port free for both TCP and UDP on 127.0.0.1 at the time of the call.
pub fn free_port() -> io::Result<u16> {
    free_port_on(Ipv4Addr::LOCALHOST)
}

/// A port free for both TCP and UDP on `ip` at the time of the call.
pub fn free_port_on(ip: Ipv4Addr) -> io::Result<u16> {
    for _ in 0..64 {
        let tcp = TcpListener::bind((ip, 0))?;
        let port = tcp.local_addr()?.port();
        if UdpSocket::bind((ip, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no port free for both TCP and UDP"))
}

impl TestCluster {
    /// Starts `n` nodes of `bin`, each with the namespace stanzas `namespaces`, and waits
    /// until every node reports `cluster-size` n.
    ///
    /// # Panics
    ///
    /// A node does not start or the cluster does not form within the timeout.
    #[must_use]
    pub fn start(bin: impl Into<PathBuf>, n: usize, namespaces: &str) -> Self {
        Self::start_at(bin, &vec![Ipv4Addr::LOCALHOST; n], namespaces)
    }

    /// [`start`](Self::start) with node `i` on loopback address `ips[i]` (all its
    /// listeners, and the source of its outgoing fabric connections).
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_at(bin: impl Into<PathBuf>, ips: &[Ipv4Addr], namespaces: &str) -> Self {
        Self::start_inner(bin.into(), ips, &[namespaces.to_owned()], &[], None)
    }

    /// [`start`](Self::start) for a configuration with `security { }`: the harness logs in as
    /// `user` with `credential` (the client-side bcrypt hash of the password) before its info
    /// commands.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_secured(
        bin: impl Into<PathBuf>,
        n: usize,
        config: &str,
        user: &str,
        credential: &str,
    ) -> Self {
        let login = Some((user.to_owned(), credential.to_owned()));
        Self::start_inner(
            bin.into(),
            &vec![Ipv4Addr::LOCALHOST; n],
            &[config.to_owned()],
            &[],
            login,
        )
    }

    /// [`start_at`](Self::start_at) with environment variables for every node process (also
    /// after a restart); `{node}` in a value is replaced with the node's index.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with_env(
        bin: impl Into<PathBuf>,
        ips: &[Ipv4Addr],
        namespaces: &str,
        envs: &[(&str, &str)],
    ) -> Self {
        Self::start_inner(bin.into(), ips, &[namespaces.to_owned()], envs, None)
    }

    /// [`start_at`](Self::start_at) with node `i`'s own namespace stanzas `namespaces[i]`
    /// (a rack id per node, say).
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start), or when the two lists differ in length.
    #[must_use]
    pub fn start_each(bin: impl Into<PathBuf>, ips: &[Ipv4Addr], namespaces: &[String]) -> Self {
        assert_eq!(ips.len(), namespaces.len(), "one namespace text per node");
        Self::start_inner(bin.into(), ips, namespaces, &[], None)
    }

    /// `namespaces` holds one text per node, or one for all.
    fn start_inner(
        bin: PathBuf,
        ips: &[Ipv4Addr],
        namespaces: &[String],
        envs: &[(&str, &str)],
        login: Option<(String, String)>,
    ) -> Self {
        let n = ips.len();
        let mut c = TestCluster {
            bin,
            namespaces: namespaces.to_vec(),
            envs: envs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            specs: Vec::new(),
            nodes: Vec::new(),
            login,
        };
        for &ip in ips {
            c.specs.push(c.new_spec(ip));
        }
        for i in 0..n {
            let p = c.spawn(i, true);
            c.nodes.push(Some(p));
        }
        c.wait_size(n, Duration::from_secs(30));
        c
    }

    fn new_spec(&self, ip: Ipv4Addr) -> NodeSpec {
        let n = self.specs.len() as u64;
        NodeSpec {
            node_id: 0xA1E0_0000_0000_0001 + n,
            ip,
            fabric_port: free_port_on(ip).unwrap_or_else(|e| panic!("no free port: {e}")),
            heartbeat_port: free_port_on(ip).unwrap_or_else(|e| panic!("no free port: {e}")),
        }
    }

    /// The config text of node `i`: every node's heartbeat port is a seed.
    fn config(&self, i: usize) -> String {
        let spec = &self.specs[i];
        let seeds: String = self
            .specs
            .iter()
            .map(|s| {
                format!(
                    "        mesh-seed-address-port {} {}\n",
                    s.ip, s.heartbeat_port
                )
            })
            .collect();
        format!(
            "service {{\n    cluster-name aerie-test\n    node-id {:X}\n}}\n\
             network {{\n    service {{\n        address {ip}\n    }}\n\
             \x20   fabric {{\n        address {ip}\n        port {}\n    }}\n\
             \x20   heartbeat {{\n        mode mesh\n        address {ip}\n        port {}\n{seeds}\
             \x20       interval 100\n        timeout 10\n    }}\n\
             \x20   http {{\n        enabled false\n    }}\n}}\n{}",
            spec.node_id,
            spec.fabric_port,
            spec.heartbeat_port,
            self.namespaces
                .get(i)
                .or(self.namespaces.first())
                .map_or("", String::as_str),
            ip = spec.ip,
        )
    }

    /// Starts node `i`. A port picked free can be taken (by any process's outgoing
    /// connection) before the node binds it: a new node then gets new ports, a restarted one
    /// (which keeps its identity) tries its own again.
    fn spawn(&mut self, i: usize, fresh: bool) -> ServerProcess {
        let mut last = String::new();
        for _ in 0..5 {
            let mut builder = ServerBuilder::default()
                .bin(self.bin.clone())
                .config(self.config(i));
            for (k, v) in &self.envs {
                builder = builder.env(k, v.replace("{node}", &i.to_string()));
            }
            match builder.try_start() {
                Ok(p) => return p,
                Err(e) if e.contains("Address already in use") || e.contains("failed to bind") => {
                    if fresh {
                        let ip = self.specs[i].ip;
                        let spec = self.new_spec(ip);
                        self.specs[i].fabric_port = spec.fabric_port;
                        self.specs[i].heartbeat_port = spec.heartbeat_port;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                    last = e;
                }
                Err(e) => panic!("aerie server did not start: {e}"),
            }
        }
        panic!("aerie server did not start: {last}")
    }

    /// Number of node slots (running or not).
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the harness has no nodes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s spec.
    #[must_use]
    pub fn spec(&self, i: usize) -> &NodeSpec {
        &self.specs[i]
    }

    /// Node `i`'s process, if running.
    #[must_use]
    pub fn node(&self, i: usize) -> Option<&ServerProcess> {
        self.nodes.get(i).and_then(Option::as_ref)
    }

    /// Service addresses of the running nodes.
    #[must_use]
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes
            .iter()
            .flatten()
            .map(ServerProcess::addr)
            .collect()
    }

    /// Kills node `i` with SIGKILL (no shutdown of any kind).
    pub fn kill(&mut self, i: usize) {
        if let Some(slot) = self.nodes.get_mut(i) {
            // Dropping the process kills it with SIGKILL and reaps it.
            drop(slot.take());
        }
    }

    /// Stops node `i` with SIGSTOP: it keeps its sockets but answers nothing (a long GC or
    /// VM pause) until [`resume`](Self::resume).
    ///
    /// # Panics
    ///
    /// The node is not running or the signal could not be sent.
    pub fn pause(&self, i: usize) {
        self.signal(i, "-STOP");
    }

    /// Continues node `i` after [`pause`](Self::pause) (SIGCONT).
    ///
    /// # Panics
    ///
    /// As [`pause`](Self::pause).
    pub fn resume(&self, i: usize) {
        self.signal(i, "-CONT");
    }

    fn signal(&self, i: usize, sig: &str) {
        let pid = self
            .node(i)
            .and_then(ServerProcess::pid)
            .unwrap_or_else(|| panic!("node {i} is not running"));
        // std has no signal API and this crate stays free of libc: use kill(1).
        let ok = std::process::Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid} failed");
    }

    /// Starts node `i` again with its old identity.
    pub fn restart(&mut self, i: usize) {
        let p = self.spawn(i, false);
        self.nodes[i] = Some(p);
    }

    /// Adds a node (its seeds are every node's heartbeat port) and returns its index.
    pub fn add_node(&mut self) -> usize {
        self.specs.push(self.new_spec(Ipv4Addr::LOCALHOST));
        let i = self.specs.len() - 1;
        let p = self.spawn(i, true);
        self.nodes.push(Some(p));
        i
    }

    /// Waits until every running node reports `cluster-size` `n` and the same cluster key.
    ///
    /// # Panics
    ///
    /// Not within `timeout`.
    pub fn wait_size(&self, n: usize, timeout: Duration) {
        if let Err(seen) = self.try_wait_size(n, timeout) {
            panic!("cluster did not reach size {n} within {timeout:?}: {seen}");
        }
    }

    /// [`wait_size`](Self::wait_size) returning what the nodes last answered instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// Not within `timeout`.
    pub fn try_wait_size(&self, n: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let answers: Vec<Option<(String, String)>> = self
                .addrs()
                .iter()
                .map(|a| {
                    let size = self.info(*a, "cluster-size").ok()?;
                    let key = self.info(*a, "cluster-key").ok()?;
                    // Settled on a member list (migrations may still run).
                    let stable = self
                        .info(*a, "cluster-stable:ignore-migrations=true")
                        .ok()?;
                    (!stable.starts_with("ERROR")).then_some((size, key))
                })
                .collect();
            let want = n.to_string();
            let first_key = answers.first().cloned().flatten().map(|(_, k)| k);
            if answers
                .iter()
                .all(|a| matches!(a, Some((s, k)) if *s == want && Some(k) == first_key.as_ref()))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{answers:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sums `stat` from `statistics` over the running nodes.
    #[must_use]
    pub fn sum_stat(&self, stat: &str) -> u64 {
        self.addrs()
            .iter()
            .filter_map(|a| self.info(*a, "statistics").ok())
            .filter_map(|s| stat_value(&s, stat))
            .sum()
    }

    /// Waits until no running node has partitions left to migrate.
    ///
    /// # Panics
    ///
    /// Not within `timeout`.
    pub fn wait_migrations(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.sum_stat("migrate_partitions_remaining") != 0 {
            assert!(
                Instant::now() < deadline,
                "migrations did not finish within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl TestCluster {
    /// One info command, logged in first when the cluster is secured.
    fn info(&self, addr: SocketAddr, command: &str) -> io::Result<String> {
        match &self.login {
            None => info(addr, command),
            Some((user, credential)) => info_as(addr, command, user, credential),
        }
    }
}

/// The value of `name` in a `k=v;k=v` answer.
#[must_use]
pub fn stat_value(answer: &str, name: &str) -> Option<u64> {
    answer
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// Sends one info command to `addr` and returns its value.
///
/// # Errors
///
/// Connection or protocol failures.
pub fn info(addr: SocketAddr, command: &str) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    info_on(&mut s, command)
}

/// [`info`] on a `security { }` node: logs in (admin LOGIN with `user` and `credential`,
/// the client-side password hash) on the same connection first.
///
/// # Errors
///
/// Connection or protocol failures, or a refused login.
pub fn info_as(
    addr: SocketAddr,
    command: &str,
    user: &str,
    credential: &str,
) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    // Admin header: result, command LOGIN (20), two fields; then `u32 size · u8 id · data`.
    let mut body = vec![0u8, 0, 20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (id, data) in [(0u8, user.as_bytes()), (3, credential.as_bytes())] {
        body.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
        body.push(id);
        body.extend_from_slice(data);
    }
    s.write_all(&crate::wire::frame(2, &body))?;
    let mut head = [0u8; 8];
    s.read_exact(&mut head)?;
    let size = u64::from_be_bytes([0, 0, head[2], head[3], head[4], head[5], head[6], head[7]]);
    if size > 64 * 1024 {
        return Err(io::Error::other("login answer too large"));
    }
    let mut reply = vec![0u8; size as usize];
    s.read_exact(&mut reply)?;
    match reply.get(1) {
        Some(0) => info_on(&mut s, command),
        rc => Err(io::Error::other(format!("login refused: {rc:?}"))),
    }
}

fn info_on(s: &mut TcpStream, command: &str) -> io::Result<String> {
    s.write_all(&crate::wire::info_frame(&[command]))?;
    let mut head = [0u8; 8];
    s.read_exact(&mut head)?;
    let size = u64::from_be_bytes([0, 0, head[2], head[3], head[4], head[5], head[6], head[7]]);
    if size > 16 * 1024 * 1024 {
        return Err(io::Error::other("info answer too large"));
    }
    let mut body = vec![0u8; size as usize];
    s.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    let line = text.lines().next().unwrap_or_default();
    Ok(line
        .split_once('\t')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default())
}
