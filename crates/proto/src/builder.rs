//! Reply encoding into a caller-owned buffer, so a connection reuses one allocation for every
//! reply it sends.

use crate::header::{ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use crate::msg::{MsgHeader, MSG_HEADER_SIZE, OP_FIXED_SIZE};

/// Writes one proto frame holding one or more `as_msg` messages.
///
/// Counts of fields and ops are patched into each message header as they are written, so the
/// caller need not know them in advance.
#[derive(Debug)]
pub struct MsgWriter<'b> {
    buf: &'b mut Vec<u8>,
    proto_type: ProtoType,
    frame_start: usize,
    msg_start: Option<usize>,
    n_fields: u16,
    n_ops: u16,
}

impl<'b> MsgWriter<'b> {
    /// Starts a frame at the end of `buf`.
    pub fn begin(buf: &'b mut Vec<u8>, proto_type: ProtoType) -> Self {
        let frame_start = buf.len();
        buf.extend_from_slice(&ProtoHeader::encode(proto_type, 0));
        Self {
            buf,
            proto_type,
            frame_start,
            msg_start: None,
            n_fields: 0,
            n_ops: 0,
        }
    }

    /// Starts a new message in the frame with the given header (counts are overwritten).
    pub fn header(&mut self, h: &MsgHeader) {
        self.seal_msg();
        self.msg_start = Some(self.buf.len());
        self.buf.extend_from_slice(&h.encode());
        self.n_fields = 0;
        self.n_ops = 0;
    }

    /// Appends a field to the current message.
    pub fn field(&mut self, field_type: u8, data: &[u8]) {
        let size = data.len() as u32 + 1;
        self.buf.extend_from_slice(&size.to_be_bytes());
        self.buf.push(field_type);
        self.buf.extend_from_slice(data);
        self.n_fields += 1;
    }

    /// Appends an op to the current message. `name` must be at most 255 bytes.
    pub fn op(&mut self, op_type: u8, particle_type: u8, name: &[u8], value: &[u8]) {
        self.op_header(op_type, particle_type, name, value.len());
        self.buf.extend_from_slice(value);
    }

    /// Appends an op header whose `value_len` value bytes the caller pushes next with
    /// [`MsgWriter::extend`].
    pub fn op_header(&mut self, op_type: u8, particle_type: u8, name: &[u8], value_len: usize) {
        let name_len = name.len().min(u8::MAX as usize);
        let size = (OP_FIXED_SIZE + name_len + value_len) as u32;
        self.buf.extend_from_slice(&size.to_be_bytes());
        self.buf
            .extend_from_slice(&[op_type, particle_type, 0, name_len as u8]);
        self.buf
            .extend_from_slice(name.get(..name_len).unwrap_or_default());
        self.n_ops += 1;
    }

    /// Appends a complete message encoded earlier (its field and op counts already set),
    /// e.g. a batch row's reply held back until the row's replicas answered.
    pub fn append_message(&mut self, msg: &[u8]) {
        self.seal_msg();
        self.buf.extend_from_slice(msg);
    }

    /// Appends raw bytes to the current message (an op value announced by `op_header`).
    pub fn extend(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Bytes in the frame so far, header included.
    pub fn frame_len(&self) -> usize {
        self.buf.len() - self.frame_start
    }

    /// Completes the frame: patches counts and the proto size.
    pub fn finish(mut self) {
        self.seal_msg();
        let size = (self.buf.len() - self.frame_start - PROTO_HEADER_SIZE) as u64;
        let h = ProtoHeader::encode(self.proto_type, size);
        if let Some(dst) = self
            .buf
            .get_mut(self.frame_start..self.frame_start + PROTO_HEADER_SIZE)
        {
            dst.copy_from_slice(&h);
        }
    }

    fn seal_msg(&mut self) {
        if let Some(start) = self.msg_start.take() {
            let counts_at = start + MSG_HEADER_SIZE - 4;
            if let Some(dst) = self.buf.get_mut(counts_at..counts_at + 4) {
                let f = self.n_fields.to_be_bytes();
                let o = self.n_ops.to_be_bytes();
                dst.copy_from_slice(&[f[0], f[1], o[0], o[1]]);
            }
        }
    }
}

/// Appends a complete frame of `proto_type` whose body is `body`.
pub fn write_frame(buf: &mut Vec<u8>, proto_type: ProtoType, body: &[u8]) {
    buf.extend_from_slice(&ProtoHeader::encode(proto_type, body.len() as u64));
    buf.extend_from_slice(body);
}
