//! Decodes arbitrary bytes as an admin (security) message body and every list field in it;
//! nothing may panic.
#![no_main]

use aerie_proto::admin::{field, AdminRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AdminRequest::parse(data) {
        let _ = req.roles();
        let _ = req.privileges();
        let _ = req.allowlist();
        for id in 0..=u8::MAX {
            let _ = req.str_field(id);
            let _ = req.u32_field(id);
        }
        let _ = req.field(field::SESSION_TOKEN);
    }
});
