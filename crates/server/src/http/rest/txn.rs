//! The REST API's seam to the transaction layer: a [`Command`] is an `as_msg` request built
//! with the proto crate's writer, run through [`crate::tsvc::execute`] — the same path the
//! service port uses, so proxying, replication, latencies and every record rule apply alike —
//! and its reply messages are decoded with the proto crate's parser into [`Record`]s.

use aerie_info::NodeContext;
use aerie_proto::msg::{field, info1, info3};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, MSG_HEADER_SIZE, PROTO_HEADER_SIZE};
use aerie_transaction::{Dispatched, Step};
use serde_json::{Map as JsonMap, Value as Json};

use super::error::RestError;
use super::value::particle_to_json;

/// Records a REST scan or query returns when the request names no smaller `maxRecords`.
pub const MAX_STREAM_RECORDS: u64 = 100_000;

/// One `as_msg` request.
#[derive(Debug, Default, Clone)]
pub struct Command {
    pub header: MsgHeader,
    pub fields: Vec<(u8, Vec<u8>)>,
    pub ops: Vec<OpSpec>,
}

/// One op of a [`Command`].
#[derive(Debug, Clone)]
pub struct OpSpec {
    pub op: u8,
    pub particle_type: u8,
    pub bin: String,
    pub value: Vec<u8>,
}

impl OpSpec {
    pub fn new(op: u8, particle_type: u8, bin: &str, value: Vec<u8>) -> Self {
        Self {
            op,
            particle_type,
            bin: bin.to_owned(),
            value,
        }
    }
}

/// A record as the gateway shows it: bins, generation and TTL (seconds left, -1 never).
#[derive(Debug, Default, Clone)]
pub struct Record {
    pub bins: Option<JsonMap<String, Json>>,
    pub generation: u32,
    pub ttl: i64,
    /// Digest and user key, for scan and query rows.
    pub digest: Option<Vec<u8>>,
    pub user_key: Option<Json>,
}

impl Record {
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "bins": self.bins.clone().map_or(Json::Null, Json::Object),
            "generation": self.generation,
            "ttl": self.ttl,
        })
    }
}

impl Command {
    /// The request body (as_msg, without the proto header).
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(256);
        let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
        w.header(&self.header);
        for (t, data) in &self.fields {
            w.field(*t, data);
        }
        for o in &self.ops {
            w.op(o.op, o.particle_type, o.bin.as_bytes(), &o.value);
        }
        w.finish();
        buf.split_off(PROTO_HEADER_SIZE)
    }

    /// Runs a single-record command. `Ok(None)`: the record was not found (NOT_FOUND), for
    /// callers to map; other non-OK codes are errors.
    pub async fn run(&self, ctx: &NodeContext, what: &str) -> Result<Record, RestError> {
        let body = self.encode();
        let started = std::time::Instant::now();
        let mut out = Vec::with_capacity(512);
        if let (Dispatched::Stream(mut job), route) =
            crate::tsvc::execute(ctx, &body, &mut out).await
        {
            // Not a single-record command after all; finish it rather than leave it half run.
            while !matches!(
                crate::tsvc::next_frame(&mut job, route, &mut out),
                Step::Finished
            ) {}
        }
        ctx.latencies.record(&body, started);
        let mut rows = Vec::new();
        let rc = decode_frames(&out, &mut rows, u64::MAX)?;
        if rc != 0 {
            return Err(RestError::from_code(rc, what));
        }
        rows.into_iter()
            .next()
            .ok_or_else(|| RestError::from_code(1, what))
    }

    /// Runs a scan or query, collecting up to `max` rows.
    pub async fn run_stream(
        &self,
        ctx: &NodeContext,
        what: &str,
        max: u64,
    ) -> Result<Vec<Record>, RestError> {
        let body = self.encode();
        let mut out = Vec::with_capacity(16 * 1024);
        let mut rows = Vec::new();
        if let (Dispatched::Stream(mut job), route) =
            crate::tsvc::execute(ctx, &body, &mut out).await
        {
            // Each `More` sends records or finishes a partition, so the loop ends.
            loop {
                let step = crate::tsvc::next_frame(&mut job, route, &mut out);
                let rc = decode_frames(&out, &mut rows, max)?;
                out.clear();
                if rc != 0 {
                    return Err(RestError::from_code(rc, what));
                }
                match step {
                    Step::More if (rows.len() as u64) < max => {}
                    Step::More | Step::Finished => break,
                    Step::Wait(d) => tokio::time::sleep(d).await,
                }
            }
        } else {
            let rc = decode_frames(&out, &mut rows, max)?;
            if rc != 0 {
                return Err(RestError::from_code(rc, what));
            }
        }
        Ok(rows)
    }
}

/// Decodes every message of every frame in `out`: records go to `rows` (up to `max`); the
/// first non-OK result code is returned (0 when none). The stream's closing message (`LAST`)
/// carries no record.
fn decode_frames(out: &[u8], rows: &mut Vec<Record>, max: u64) -> Result<u8, RestError> {
    let bad = || RestError::from_code(1, "undecodable reply");
    let mut rest = out;
    while !rest.is_empty() {
        let (head, after) = rest
            .split_first_chunk::<PROTO_HEADER_SIZE>()
            .ok_or_else(bad)?;
        let size = u64::from_be_bytes([0, 0, head[2], head[3], head[4], head[5], head[6], head[7]]);
        let (mut body, next) = after
            .split_at_checked(usize::try_from(size).map_err(|_| bad())?)
            .ok_or_else(bad)?;
        rest = next;
        while !body.is_empty() {
            let header = MsgHeader::parse(body).map_err(|_| bad())?;
            let (msg, used) =
                Msg::parse_parts(header, body.get(MSG_HEADER_SIZE..).unwrap_or_default())
                    .map_err(|_| bad())?;
            body = body.get(MSG_HEADER_SIZE + used..).unwrap_or_default();
            let rc = header.result_code;
            if rc != 0 {
                // A scan's per-partition notices are not errors of the request.
                if header.info3 & info3::PARTITION_DONE != 0 {
                    continue;
                }
                return Ok(rc);
            }
            if header.info3 & info3::LAST != 0 || header.info3 & info3::PARTITION_DONE != 0 {
                continue;
            }
            if (rows.len() as u64) < max {
                rows.push(record_of(&msg));
            }
        }
    }
    Ok(0)
}

fn record_of(msg: &Msg<'_>) -> Record {
    let h = &msg.header;
    // Several results for one bin (operate) are gathered in a list, as the clients do.
    let mut grouped: Vec<(String, Vec<Json>)> = Vec::new();
    for op in msg.ops() {
        let name = String::from_utf8_lossy(op.name).into_owned();
        let v = particle_to_json(op.particle_type, op.value);
        match grouped.iter_mut().find(|(n, _)| *n == name) {
            Some((_, vs)) => vs.push(v),
            None => grouped.push((name, vec![v])),
        }
    }
    let mut bins = JsonMap::new();
    for (name, mut vs) in grouped {
        let v = if vs.len() == 1 {
            vs.pop().unwrap_or(Json::Null)
        } else {
            Json::Array(vs)
        };
        bins.insert(name, v);
    }
    let no_bins = h.info1 & info1::GET_NO_BINS != 0 || msg.n_ops() == 0;
    Record {
        bins: if no_bins && bins.is_empty() {
            None
        } else {
            Some(bins)
        },
        generation: h.generation,
        ttl: ttl_of(h.record_ttl),
        digest: msg.fields.get(field::DIGEST).map(<[u8]>::to_vec),
        user_key: msg.fields.get(field::KEY).and_then(|k| {
            let (&t, v) = k.split_first()?;
            Some(particle_to_json(t, v))
        }),
    }
}

/// Seconds left from a reply's void time (seconds since 2010-01-01; 0 never expires).
fn ttl_of(void_time: u32) -> i64 {
    if void_time == 0 {
        return -1;
    }
    const CITRUSLEAF_EPOCH_SECS: u64 = 1_262_304_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_sub(CITRUSLEAF_EPOCH_SECS);
    i64::from(void_time) - now as i64
}
