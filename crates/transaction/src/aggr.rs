//! Stream UDFs (aggregations) over scans and queries: each chunk of records a scan or query
//! job collects runs through the stream function's server-side ops (up to and including the
//! first reduce), and every value that comes out is sent as a message with one bin,
//! `SUCCESS`. The client runs the reduce and the remaining ops over these partial values.
//! Mirrors aerospike-server `as/src/base/aggr.c` and the aggregation query job of
//! `as/src/query/query.c`, which likewise sends one partial result per slice of records.
//!
//! A Lua error sends one message with bin `FAILURE` holding the error text and ends the job
//! with result code 1 (the reference server abandons the job with AS_ERR_UNKNOWN).

use aerie_namespace::Namespace;
use aerie_proto::msg::{field, op};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ResultCode};
use aerie_record::{particle, time};

use crate::scan::Collected;
use crate::udf_apply::{self, Call};

/// Records an aggregation runs through per reply frame, so one `next_frame` call stays short.
pub(crate) const RECORDS_PER_FRAME: u64 = 16 * 1024;

/// `UDF_OP` values (field 33).
const UDF_OP_AGGREGATE: u8 = 1;
pub(crate) const UDF_OP_BACKGROUND: u8 = 2;

/// An aggregation attached to a scan or query job.
#[derive(Debug)]
pub(crate) struct Aggr {
    call: Call,
    /// Set once a Lua error was sent; the job ends with this code.
    failed: Option<ResultCode>,
}

impl Aggr {
    /// The aggregation a foreground scan or query request asks for, if any (a background UDF
    /// is a job's action, see `udf_job`; without the write flag it is a PARAMETER error).
    pub(crate) fn from_msg(msg: &Msg<'_>) -> Result<Option<Self>, ResultCode> {
        let f = &msg.fields;
        match f.get(field::UDF_OP) {
            None if f.has(field::UDF_PACKAGE) || f.has(field::UDF_FUNCTION) => {
                Err(ResultCode::Parameter)
            }
            None => Ok(None),
            Some([UDF_OP_AGGREGATE]) => Ok(Some(Self {
                call: udf_apply::parse_call(msg)?,
                failed: None,
            })),
            Some(_) => Err(ResultCode::Parameter),
        }
    }

    /// The result code the job ends with.
    pub(crate) fn final_rc(&self) -> ResultCode {
        self.failed.unwrap_or(ResultCode::Ok)
    }

    /// Runs the stream function over `records` and appends the messages it yields. Returns
    /// false once the job must stop (a Lua error was sent).
    pub(crate) fn process(
        &mut self,
        ns: &Namespace,
        records: &[Collected],
        w: &mut MsgWriter<'_>,
    ) -> bool {
        if self.failed.is_some() {
            return false;
        }
        if records.is_empty() {
            return true;
        }
        let Some(udf) = aerie_udf::installed() else {
            return self.fail(w, "UDF runtime not started");
        };
        let now = time::now_secs();
        // Collected records are detached copies, so their data is in memory.
        let inputs = records.iter().filter_map(|c| {
            let set = ns
                .sets
                .get(c.record.meta.set_id)
                .map(|s| s.name.as_bytes())
                .unwrap_or_default();
            let data = c.record.resident()?;
            Some(udf_apply::record_input(data, &c.digest, set, now))
        });
        match aerie_udf::apply_stream(
            udf,
            &self.call.package,
            &self.call.function,
            &self.call.args,
            inputs,
        ) {
            Ok(values) => {
                for v in values {
                    w.header(&MsgHeader::default());
                    match aerie_cdt::value_to_particle(&v) {
                        Some((t, bytes)) => w.op(op::READ, t, b"SUCCESS", &bytes),
                        None => w.op(op::READ, particle::NULL, b"SUCCESS", &[]),
                    }
                }
                true
            }
            Err(message) => self.fail(w, &message),
        }
    }

    fn fail(&mut self, w: &mut MsgWriter<'_>, message: &str) -> bool {
        tracing::debug!(package = %self.call.package, function = %self.call.function, %message, "aggregation failed");
        w.header(&MsgHeader::default());
        w.op(op::READ, particle::STRING, b"FAILURE", message.as_bytes());
        self.failed = Some(ResultCode::ServerError);
        false
    }
}
