//! Aerie's wire layer: everything about Aerospike's bytes on a socket and nothing else.
//!
//! Owns the 8-byte proto header (`as_proto`), the 22-byte message header (`as_msg`) with its
//! fields and ops, result codes, and the text framing of the info protocol. It is pure: no
//! sockets, no runtime, no knowledge of records or namespaces. Mirrors aerospike-server
//! `as/include/base/proto.h` and `as/src/base/proto.c`.
//!
//! Parsing borrows from the caller's buffer and never allocates for a well-formed message;
//! every length read from the wire is bounds-checked before use.

pub mod admin;
pub mod builder;
pub mod compress;
pub mod header;
pub mod info;
pub mod msg;
pub mod result_code;

pub use builder::MsgWriter;
pub use header::{
    FrameError, ProtoHeader, ProtoType, PROTO_HEADER_SIZE, PROTO_SIZE_MAX, PROTO_VERSION,
};
pub use msg::{Field, Msg, MsgHeader, Op, OpIter, ParseError, MSG_HEADER_SIZE};
pub use result_code::ResultCode;
