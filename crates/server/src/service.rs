//! The client service: listener, one task per connection, proto framing, dispatch by type.
//! Mirrors aerospike-server `as/src/base/service.c`.

// hot path: every request is read and answered here.

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aerie_config::Config;
use aerie_info::{NodeContext, ServiceStats};
use aerie_namespace::Registry;
use aerie_proto::msg::{info1, MSG_HEADER_SIZE};
use aerie_proto::{compress, ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use aerie_security::{ConnAuth, Security};
use aerie_transaction::tsvc::{self, Origin};
use aerie_transaction::{Dispatched, Route, Step, StreamJob};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// Buffers grown past this by one large request are released after it.
const KEEP_BUFFER_BYTES: usize = 1024 * 1024;
/// Read buffer per connection.
const READ_BUFFER_BYTES: usize = 16 * 1024;
/// Connections the admin port (`network { admin { } }`) holds open at once. Aerospike keeps admin
/// connections outside `proto-fd-max` so an operator can get in when clients have used it up;
/// they are still bounded.
const ADMIN_CONNECTIONS_MAX: usize = 256;

/// Binds the service and the console ports and serves until a shutdown signal.
pub async fn run(config: Arc<Config>) -> Result<(), String> {
    let started = Instant::now();
    let svc = &config.network.service;
    // The port is taken now but listened on only once every namespace is loaded, as Aerospike
    // does: during a cold start a client's connection is refused at once instead of waiting
    // unanswered in the accept backlog.
    let socket = bind_service(&svc.address, svc.port).await?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let node_id = config
        .service
        .node_id
        .unwrap_or_else(|| derive_node_id(local.port()));
    let namespaces = config.namespaces.clone();
    let registry = Arc::new(
        tokio::task::spawn_blocking(move || Registry::open(&namespaces, node_id))
            .await
            .map_err(|e| format!("loading the namespaces failed: {e}"))??,
    );
    let advertised = match config.network.service.access_address.as_deref() {
        Some(a) => a.to_owned(),
        None if local.ip().is_unspecified() => "127.0.0.1".to_owned(),
        None => local.ip().to_string(),
    };
    let service_endpoint = format!("{advertised}:{}", local.port());
    let cluster =
        aerie_cluster::Cluster::start(&config, node_id, service_endpoint.clone(), registry.clone())
            .await?;
    let ctx = Arc::new(NodeContext {
        node_id,
        config: config.clone(),
        registry,
        service_endpoint,
        service_port: local.port(),
        started,
        service_stats: ServiceStats::default(),
        partition_generation: AtomicU64::new(1),
        udf: crate::udf_setup::open(&config)?,
        latencies: aerie_info::Latencies::new(
            &config.namespaces,
            config.service.microsecond_histograms,
        ),
        cluster,
    });
    crate::ticker::observe_batch_rows(ctx.clone());
    let security = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || crate::security_setup::open(&config))
            .await
            .map_err(|e| e.to_string())??
    };
    // System metadata from peers runs as the same info commands, here only; users and roles
    // go to the security state.
    let weak = Arc::downgrade(&ctx);
    let smd_security = security.clone();
    ctx.cluster.set_smd_handler(Box::new(move |cmd| {
        if let Some(entry) = cmd.strip_prefix(aerie_security::SMD_PREFIX) {
            return smd_security
                .as_ref()
                .map(|s| s.apply_smd(entry))
                .unwrap_or_else(|| "ERROR::security is not enabled".to_owned());
        }
        weak.upgrade()
            .map(|ctx| aerie_info::answer_local(&ctx, cmd))
            .unwrap_or_default()
    }));
    for ns in ctx.registry.iter() {
        // Index definitions saved beside the storage files; populated in the background.
        aerie_sindex::restore(ns);
        start_namespace_tasks(ns);
    }
    crate::namespace_admin::install();
    crate::ticker::spawn(ctx.clone());
    if config.network.http.enabled {
        match crate::http::start(&config, ctx.clone()).await {
            Ok(()) => {}
            // Only a default port: several nodes on one host all default to it, and Aerospike
            // has no such port to collide on, so the node serves without a console.
            Err(e) if !config.network.http.requested => {
                tracing::warn!("console not started (no http stanza; default port): {e}");
            }
            Err(e) => return Err(e),
        }
    }
    let pool = StoragePool::new();
    if let Some(admin) = config.network.admin.as_ref().filter(|a| a.port != 0) {
        let admin_listener = TcpListener::bind((admin.address.as_str(), admin.port))
            .await
            .map_err(|e| {
                format!(
                    "cannot listen on admin {}:{}: {e}",
                    admin.address, admin.port
                )
            })?;
        if let Ok(a) = admin_listener.local_addr() {
            tracing::info!("admin ready on {a}");
        }
        let admin_limit = Arc::new(Semaphore::new(ADMIN_CONNECTIONS_MAX));
        tokio::spawn(accept_loop(
            admin_listener,
            admin_limit,
            ctx.clone(),
            security.clone(),
            pool.clone(),
            "admin",
        ));
    }
    let listener = socket
        .listen(LISTEN_BACKLOG)
        .map_err(|e| format!("cannot listen on {local}: {e}"))?;
    tracing::info!(
        node = %ctx.node_name(),
        namespaces = config.namespaces.len(),
        startup_ms = started.elapsed().as_millis() as u64,
        "service ready on {local}"
    );
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "aerie ready: service {local}");
        let _ = out.flush();
    }

    let limit = Arc::new(Semaphore::new(config.service.proto_fd_max.max(1) as usize));
    let accept = accept_loop(
        listener,
        limit,
        ctx.clone(),
        security.clone(),
        pool,
        "proto-fd-max",
    );
    tokio::select! {
        () = accept => Ok(()),
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            let registry = ctx.registry.clone();
            let flushed = tokio::task::spawn_blocking(move || {
                for ns in registry.iter() {
                    // Syncs the files and saves the index snapshot for a warm restart.
                    if let Err(e) = ns.close() {
                        tracing::error!(namespace = %ns.name, "closing the storage failed: {e}");
                    }
                }
            });
            if let Err(e) = flushed.await {
                tracing::error!("final flush failed: {e}");
            }
            Ok(())
        }
    }
}

/// Accepts client connections until the process stops; `limit` bounds how many are open at once
/// (`limit_name` names it in the refusal warning).
async fn accept_loop(
    listener: TcpListener,
    limit: Arc<Semaphore>,
    ctx: Arc<NodeContext>,
    security: Option<Arc<Security>>,
    pool: StoragePool,
    limit_name: &'static str,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "{limit_name} reached; refusing connection");
            drop(stream);
            continue;
        };
        let ctx = ctx.clone();
        let security = security.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            let stats = &ctx.service_stats;
            stats.client_connections.fetch_add(1, Ordering::Relaxed);
            stats
                .client_connections_opened
                .fetch_add(1, Ordering::Relaxed);
            if let Err(e) =
                serve_connection(stream, peer.ip(), &ctx, security.as_ref(), &pool).await
            {
                tracing::debug!(%peer, "connection closed: {e}");
            }
            stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            stats
                .client_connections_closed
                .fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

/// Most commands running at once on the storage pool, per CPU.
const STORAGE_POOL_PER_CPU: usize = 8;
/// Least commands running at once on the storage pool (group commit wants writers in flight).
const STORAGE_POOL_MIN: usize = 16;

/// The bounded pool that runs the commands which may wait on a device
/// ([`aerie_transaction::Route::Storage`]): record reads from `storage-engine device` files,
/// full write-block writes and `commit-to-device` syncs. Runtime threads never wait on a
/// device, so commands on memory namespaces keep their latency behind a slow disk; the
/// semaphore bounds the blocking threads in use.
///
/// Record UDF calls ([`aerie_transaction::Route::Udf`]) have slots of their own, as many as
/// there are service threads (Aerospike runs them on its service threads): long Lua work never
/// holds a service thread, and no more of it runs at once than the node has service threads;
/// the rest wait their turn without holding a thread.
#[derive(Debug, Clone)]
struct StoragePool {
    permits: Arc<Semaphore>,
    udf_permits: Arc<Semaphore>,
}

impl StoragePool {
    fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let size = (cpus * STORAGE_POOL_PER_CPU).max(STORAGE_POOL_MIN);
        let service_threads = tokio::runtime::Handle::current().metrics().num_workers();
        Self {
            permits: Arc::new(Semaphore::new(size)),
            udf_permits: Arc::new(Semaphore::new(service_threads.max(1))),
        }
    }

    /// Runs `f` on a pool thread (a UDF slot for [`Route::Udf`]) and waits for it without
    /// holding a runtime thread.
    async fn run<T: Send + 'static>(
        &self,
        route: Route,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ConnError> {
        let permits = match route {
            Route::Udf => &self.udf_permits,
            Route::Inline | Route::Storage => &self.permits,
        };
        let _permit = permits
            .acquire()
            .await
            .map_err(|e| ConnError::Io(std::io::Error::other(e)))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| ConnError::Io(std::io::Error::other(e)))
    }
}

/// Runs one message through the transaction pipeline ([`tsvc::process`]), on the storage pool
/// when [`aerie_transaction::route`] says so. `msg` and `out` are lent to the pool thread and
/// given back.
async fn dispatch_msg(
    ctx: &Arc<NodeContext>,
    pool: &StoragePool,
    msg: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(Dispatched, Route), ConnError> {
    let route = aerie_transaction::route(&ctx.registry, msg);
    if route == Route::Inline {
        let d = tsvc::process(&ctx.cluster.tsvc(), msg, Origin::Client, out).await;
        return Ok((d, route));
    }
    let c = ctx.clone();
    let handle = tokio::runtime::Handle::current();
    let (m, mut o) = (std::mem::take(msg), std::mem::take(out));
    let (m, o, d) = pool
        .run(route, move || {
            // A pool thread may wait here: for the device or a UDF slot, and for replica
            // acknowledgements (bounded by the transaction's deadline).
            let d = handle.block_on(tsvc::process(&c.cluster.tsvc(), &m, Origin::Client, &mut o));
            (m, o, d)
        })
        .await?;
    *msg = m;
    *out = o;
    Ok((d, route))
}

/// Pending connections the kernel queues for the service port.
const LISTEN_BACKLOG: u32 = 1024;

/// Binds the service address without listening yet (connections are refused until
/// [`TcpSocket::listen`]). `address` may be a name; its first resolved address is used.
async fn bind_service(address: &str, port: u16) -> Result<TcpSocket, String> {
    let addr = tokio::net::lookup_host((address, port))
        .await
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address} resolves to no address"))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .and_then(|s| {
        s.set_reuseaddr(true)?;
        s.bind(addr)?;
        Ok(s)
    })
    .map_err(|e| format!("cannot listen on {address}:{port}: {e}"))?;
    Ok(socket)
}

/// The namespace supervisor: an expiry pass every `nsup-period` seconds, off the service
/// threads' critical path (each partition is locked only while it is swept).
/// Starts a namespace's background tasks: expiry and eviction, usage tracking, and for
/// persisted namespaces the storage flush and defrag. Needs a runtime context.
pub fn start_namespace_tasks(ns: &Arc<aerie_namespace::Namespace>) {
    if ns.config.nsup_period_secs > 0 {
        tokio::spawn(nsup(ns.clone()));
    }
    tokio::spawn(track_usage(ns.clone()));
    if let Some(ms) = ns.flush_interval_ms() {
        tokio::spawn(flush_storage(ns.clone(), ms));
        tokio::spawn(defrag(ns.clone()));
    }
}

async fn nsup(ns: Arc<aerie_namespace::Namespace>) {
    let period = std::time::Duration::from_secs(u64::from(ns.config.nsup_period_secs));
    let mut tick = tokio::time::interval(period);
    tick.tick().await;
    loop {
        tick.tick().await;
        let ns2 = ns.clone();
        let started = Instant::now();
        let pass = tokio::task::spawn_blocking(move || {
            let expired = ns2.expire_pass();
            ns2.update_usage();
            let evicted = ns2.evict_pass();
            (expired, evicted)
        });
        if let Ok((expired, evicted)) = pass.await {
            tracing::info!(
                namespace = %ns.name,
                expired,
                evicted,
                ms = started.elapsed().as_millis() as u64,
                "nsup pass"
            );
        }
    }
}

/// Writes each persisted namespace's partly filled write block every `flush-max-ms`, which
/// bounds what a crash can lose without `commit-to-device`.
async fn flush_storage(ns: Arc<aerie_namespace::Namespace>, interval_ms: u64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(interval_ms));
    loop {
        tick.tick().await;
        let ns2 = ns.clone();
        match tokio::task::spawn_blocking(move || ns2.flush_storage()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(namespace = %ns.name, "flush failed: {e}"),
            Err(e) => tracing::error!(namespace = %ns.name, "flush task failed: {e}"),
        }
    }
}

/// Background defragmentation of a persisted namespace, a pass every `DEFRAG_PERIOD`.
async fn defrag(ns: Arc<aerie_namespace::Namespace>) {
    const DEFRAG_PERIOD: std::time::Duration = std::time::Duration::from_millis(500);
    let mut tick = tokio::time::interval(DEFRAG_PERIOD);
    loop {
        tick.tick().await;
        let ns2 = ns.clone();
        if let Ok((freed, moved)) = tokio::task::spawn_blocking(move || ns2.defrag_pass()).await {
            if freed > 0 || moved > 0 {
                tracing::debug!(namespace = %ns.name, freed, moved, "defrag pass");
            }
        }
    }
}

/// Refreshes a namespace's space use and stop-writes flag every second.
async fn track_usage(ns: Arc<aerie_namespace::Namespace>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        let ns2 = ns.clone();
        let _ = tokio::task::spawn_blocking(move || ns2.update_usage()).await;
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum ConnError {
    Io(std::io::Error),
    Frame(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Frame(m) => write!(f, "bad framing: {m}"),
        }
    }
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Serves one client connection: read a frame, answer it, repeat. Framing errors close the
/// connection without a reply.
async fn serve_connection(
    mut stream: TcpStream,
    peer: IpAddr,
    ctx: &Arc<NodeContext>,
    security: Option<&Arc<Security>>,
    pool: &StoragePool,
) -> Result<(), ConnError> {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.split();
    // Buffered so that a small request costs one read call, header and body together.
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
    let mut header = [0u8; PROTO_HEADER_SIZE];
    let mut body: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut inflated: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut auth = ConnAuth::default();
    loop {
        match reader.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let h = ProtoHeader::parse(&header).map_err(|e| {
            ctx.service_stats
                .proto_errors
                .fetch_add(1, Ordering::Relaxed);
            ConnError::Frame(e.to_string())
        })?;
        read_body(&mut reader, h.size_bytes, &mut body).await?;
        match h.proto_type {
            ProtoType::Info => {
                // Info commands may sweep a namespace (truncate) or write files (index and
                // UDF definitions): they run on a blocking thread, outside the storage pool so
                // a busy device never delays a client's tend.
                let (c, b, mut o) = (
                    ctx.clone(),
                    std::mem::take(&mut body),
                    std::mem::take(&mut out),
                );
                let (sec, mut a) = (security.cloned(), std::mem::take(&mut auth));
                let (b, o, a) = tokio::task::spawn_blocking(move || {
                    let start = o.len();
                    o.extend_from_slice(&[0u8; PROTO_HEADER_SIZE]);
                    match sec {
                        None => aerie_info::handle(&c, &b, &mut o),
                        Some(sec) => aerie_info::handle_checked(&c, &b, &mut o, &mut |n, x| {
                            sec.check_info(&mut a, peer, n, x)
                        }),
                    }
                    let size = (o.len() - start - PROTO_HEADER_SIZE) as u64;
                    if let Some(dst) = o.get_mut(start..start + PROTO_HEADER_SIZE) {
                        dst.copy_from_slice(&ProtoHeader::encode(ProtoType::Info, size));
                    }
                    (b, o, a)
                })
                .await
                .map_err(|e| ConnError::Io(std::io::Error::other(e)))?;
                body = b;
                out = o;
                auth = a;
            }
            ProtoType::Msg => {
                let started = Instant::now();
                if security.is_some_and(|sec| {
                    !crate::security_setup::authorize_msg(sec, &mut auth, peer, &body, &mut out)
                }) {
                    // Refused: `out` holds the reply.
                } else if let (Dispatched::Stream(job), route) =
                    dispatch_msg(ctx, pool, &mut body, &mut out).await?
                {
                    let pool = (route == Route::Storage).then_some(pool);
                    stream_reply(&mut writer, *job, &mut out, false, pool).await?;
                }
                ctx.latencies.record(&body, started);
            }
            ProtoType::Compressed => {
                let started = Instant::now();
                let inner = compress::inflate(&body, &mut inflated).map_err(|e| {
                    ctx.service_stats
                        .proto_errors
                        .fetch_add(1, Ordering::Relaxed);
                    ConnError::Frame(e.to_string())
                })?;
                if inner.proto_type != ProtoType::Msg {
                    return Err(ConnError::Frame(
                        "compressed frame does not hold a message".into(),
                    ));
                }
                if security.is_some_and(|sec| {
                    !crate::security_setup::authorize_msg(sec, &mut auth, peer, &inflated, &mut out)
                }) {
                    writer.write_all(&out).await?;
                    out.clear();
                    continue;
                }
                let compress_reply = inflated
                    .get(1)
                    .is_some_and(|i1| i1 & info1::COMPRESS_RESPONSE != 0)
                    && inflated.len() >= MSG_HEADER_SIZE;
                let mut plain = Vec::new();
                let target = if compress_reply { &mut plain } else { &mut out };
                let (streamed, route) = dispatch_msg(ctx, pool, &mut inflated, target).await?;
                if compress_reply && !plain.is_empty() {
                    compress::deflate_frame(&plain, &mut out)?;
                }
                if let Dispatched::Stream(job) = streamed {
                    let pool = (route == Route::Storage).then_some(pool);
                    stream_reply(&mut writer, *job, &mut out, compress_reply, pool).await?;
                }
                ctx.latencies.record(&inflated, started);
            }
            ProtoType::Admin => match security {
                Some(sec) => {
                    crate::security_setup::admin(
                        sec,
                        &mut auth,
                        peer,
                        &body,
                        &mut out,
                        &ctx.cluster,
                    )
                    .await;
                }
                None => {
                    let command = body.get(2).copied().unwrap_or(0);
                    aerie_proto::admin::write_reply(
                        &mut out,
                        aerie_proto::ResultCode::SecurityNotEnabled,
                        command,
                    );
                }
            },
            ProtoType::Xdr => {
                return Err(ConnError::Frame(
                    "XDR messages are not accepted on the service port".into(),
                ))
            }
        }
        writer.write_all(&out).await?;
        out.clear();
        for b in [&mut body, &mut inflated, &mut out] {
            if b.capacity() > KEEP_BUFFER_BYTES {
                *b = Vec::new();
            }
        }
    }
}

/// Drives a scan or query: writes each frame as it is produced, so memory stays at about one
/// frame whatever the scan's size. The final frame is left in `out` for the caller to write.
/// With `compress`, each frame is sent as its own compressed frame.
async fn stream_reply<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut job: StreamJob,
    out: &mut Vec<u8>,
    compress: bool,
    pool: Option<&StoragePool>,
) -> Result<(), ConnError> {
    let mut plain = Vec::new();
    // Each `More` sends records or finishes a partition, so the loop ends.
    loop {
        let frame = if compress { &mut plain } else { &mut *out };
        let step = match pool {
            // Frames of a persisted namespace read record data from its device.
            Some(pool) => {
                let mut buf = std::mem::take(frame);
                let (j, b, step) = pool
                    .run(Route::Storage, move || {
                        let step = job.next_frame(&mut buf);
                        (job, buf, step)
                    })
                    .await?;
                job = j;
                *frame = b;
                step
            }
            None => job.next_frame(frame),
        };
        if compress && !plain.is_empty() {
            compress::deflate_frame(&plain, out)?;
            plain.clear();
        }
        match step {
            Step::More => {
                writer.write_all(out).await?;
                out.clear();
            }
            Step::Wait(d) => tokio::time::sleep(d).await,
            Step::Finished => return Ok(()),
        }
    }
}

/// Reads exactly `size` body bytes, growing the buffer as data arrives rather than trusting
/// the declared size up front.
async fn read_body<R: AsyncRead + Unpin>(
    reader: &mut R,
    size: u64,
    body: &mut Vec<u8>,
) -> Result<(), ConnError> {
    body.clear();
    if size <= KEEP_BUFFER_BYTES as u64 {
        body.resize(size as usize, 0);
        reader.read_exact(body).await?;
        return Ok(());
    }
    let mut limited = (&mut *reader).take(size);
    let n = limited.read_to_end(body).await?;
    if n as u64 != size {
        return Err(ConnError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(())
}

/// A node id stable for a host and port: Aerospike builds it from a MAC address and the
/// port; with no portable MAC, the host name stands in.
fn derive_node_id(port: u16) -> u64 {
    let host = std::fs::read_to_string("/etc/machine-id")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    host.trim().hash(&mut h);
    let mac_like = h.finish() & 0xFFFF_FFFF_FFFF;
    ((port as u64) << 48) | mac_like | 0x1000_0000_0000
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
