//! Decodes arbitrary bytes as a proto frame and its message; nothing may panic.
#![no_main]

use aerie_proto::{compress, Msg, ProtoHeader, PROTO_HEADER_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((h, body)) = data.split_first_chunk::<PROTO_HEADER_SIZE>() {
        let _ = ProtoHeader::parse(h);
        let mut out = Vec::new();
        let _ = compress::inflate(body, &mut out);
    }
    if let Ok(m) = Msg::parse(data) {
        for op in m.ops() {
            let _ = aerie_record::particle::read_int(op.value);
        }
    }
    let _ = aerie_record::bins::iter(data).count();
});
