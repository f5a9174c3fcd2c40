//! Runs arbitrary bytes as a client message against a live in-memory namespace; nothing may
//! panic and every reply must be a well-formed frame.
#![no_main]

use std::sync::OnceLock;

use aerie_namespace::Registry;
use aerie_proto::{ProtoHeader, PROTO_HEADER_SIZE};
use libfuzzer_sys::fuzz_target;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::new(&aerie_config::Config::default().namespaces, 1))
}

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    aerie_transaction::dispatch(registry(), data, &mut out);
    let mut rest = &out[..];
    while !rest.is_empty() {
        let (h, body) = rest
            .split_first_chunk::<PROTO_HEADER_SIZE>()
            .expect("reply frame header");
        let h = ProtoHeader::parse(h).expect("reply frame header parses");
        rest = body
            .get(h.size_bytes as usize..)
            .expect("reply frame body complete");
    }
});
