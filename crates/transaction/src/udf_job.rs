//! Background UDF jobs: a scan or query `execute_background` naming a record UDF (UDF op 2)
//! runs the UDF on every match, as a [`RecordAction`] of the job registry. Each record goes
//! through the record-UDF path (`udf_apply`) under its partition lock, with the filter
//! expression checked again there; a record deleted since it matched is skipped. A Lua error
//! fails that record only (`recs-failed`, `udf_sub_lang_error`): the job goes on. Mirrors
//! aerospike-server `as/src/query/query.c` (the `udf_bg` job) and `as/src/base/udf_...`.

use std::sync::Arc;

use aerie_namespace::{bump, Namespace};
use aerie_proto::msg::{field, info2};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode};
use aerie_record::Digest;

use crate::aggr::UDF_OP_BACKGROUND;
use crate::jobs::{Kind, Outcome, RecordAction};
use crate::request::Request;
use crate::udf_apply::{self, Call, Origin};

/// Runs one record UDF on each record of a background job.
#[derive(Debug)]
pub(crate) struct UdfAction {
    call: Call,
    /// A single-record request body (header with the job's TTL, namespace) reused for every
    /// record with its digest and set given apart.
    body: Vec<u8>,
    filter: Option<aerie_exp::Filter>,
}

impl UdfAction {
    /// The action a background scan/query message asks for: UDF op 2 with package and
    /// function (and arguments). Anything else UDF-shaped is a PARAMETER error, as are ops
    /// beside the UDF.
    pub(crate) fn new(msg: &Msg<'_>) -> Result<Self, ResultCode> {
        let f = &msg.fields;
        if f.get(field::UDF_OP) != Some(&[UDF_OP_BACKGROUND][..]) || msg.n_ops() != 0 {
            return Err(ResultCode::Parameter);
        }
        let call = udf_apply::parse_call(msg)?;
        let ns = f.get(field::NAMESPACE).ok_or(ResultCode::Parameter)?;
        let mut frame = Vec::new();
        let mut w = MsgWriter::begin(&mut frame, ProtoType::Msg);
        w.header(&MsgHeader {
            info2: info2::WRITE,
            record_ttl: msg.header.record_ttl,
            ..Default::default()
        });
        w.field(field::NAMESPACE, ns);
        w.finish();
        let body = frame
            .get(aerie_proto::PROTO_HEADER_SIZE..)
            .ok_or(ResultCode::ServerError)?
            .to_vec();
        let filter = match f.get(field::FILTER_EXP) {
            Some(b) => Some(aerie_exp::Filter::compile(b).map_err(|e| e.result_code())?),
            None => None,
        };
        Ok(Self { call, body, filter })
    }
}

impl RecordAction for UdfAction {
    fn apply(&self, ns: &Arc<Namespace>, digest: &Digest, set: &[u8]) -> Outcome {
        let Ok(msg) = Msg::parse(&self.body) else {
            return Outcome::Failed;
        };
        let mut req = match Request::for_namespace(ns, &msg, Some(digest), self.filter.as_ref()) {
            Ok(r) => r,
            Err(_) => return Outcome::Failed,
        };
        req.set = set;
        // The reply is not sent anywhere; it is written to keep the one record path.
        let mut out = Vec::new();
        let mut w = MsgWriter::begin(&mut out, ProtoType::Msg);
        match udf_apply::execute_call(&req, &self.call, &mut w, 0, Origin::Background, None) {
            ResultCode::Ok => Outcome::Succeeded,
            ResultCode::FilteredOut => Outcome::Filtered,
            ResultCode::NotFound => Outcome::Gone,
            _ => Outcome::Failed,
        }
    }

    fn finished(&self, ns: &Namespace, kind: Kind, aborted: bool) {
        let c = match kind {
            Kind::Scan => &ns.stats.udf.pi_query_udf_bg,
            Kind::Query => &ns.stats.udf.si_query_udf_bg,
        };
        bump(if aborted { &c.abort } else { &c.complete });
    }
}
