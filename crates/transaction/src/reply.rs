//! Reply helpers shared by every command.

use aerie_proto::msg::info3;
use aerie_proto::{MsgHeader, MsgWriter, ProtoType, ResultCode};

/// Starts a reply message with no ops yet.
#[inline]
pub fn header(
    w: &mut MsgWriter<'_>,
    rc: ResultCode,
    generation: u16,
    void_time: u32,
    batch_index: u32,
) {
    w.header(&MsgHeader {
        result_code: rc.code(),
        generation: generation as u32,
        record_ttl: void_time,
        transaction_ttl: batch_index,
        ..Default::default()
    });
}

/// A reply message with a result code and metadata but no bins.
#[inline]
pub fn header_only(
    w: &mut MsgWriter<'_>,
    rc: ResultCode,
    generation: u16,
    void_time: u32,
    batch_index: u32,
) {
    header(w, rc, generation, void_time, batch_index);
}

/// A whole frame holding a single error reply.
pub fn single_error(out: &mut Vec<u8>, rc: ResultCode) {
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    header(&mut w, rc, 0, 0, 0);
    w.finish();
}

/// A whole frame holding the last message of a stream (batch, scan, query).
pub fn stream_end(out: &mut Vec<u8>, rc: ResultCode) {
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    w.header(&MsgHeader {
        info3: info3::LAST,
        result_code: rc.code(),
        ..Default::default()
    });
    w.finish();
}
