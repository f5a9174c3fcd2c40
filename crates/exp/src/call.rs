//! `call` (op 127): list/map, bit and HLL operations inside expressions, run by `aerie-cdt`.
//!
//! The op's arguments are expressions; they are evaluated, packed back into the CDT op array
//! the wire ops use (`[op, arg…]`, or `[0xff, ctx, [op, arg…]]` with a context) and handed to
//! the same functions as op types 3/4, 12/13 and 15/16. A read call evaluates to the op's
//! result; a modify call ("modify local") to the modified copy of the bin. Any failure is
//! "unknown", as in the reference server.

use std::borrow::Cow;

use aerie_cdt::msgpack::{pack_int, pack_list_header};
use aerie_record::particle;

use crate::compile::{Call, System};
use crate::eval::Env;
use crate::value::Val;

/// Op id introducing a context.
const CONTEXT_EVAL: i64 = 0xff;

pub fn eval<'a>(c: &'a Call, env: &mut Env<'_, 'a>) -> Val<'a> {
    let mut payload = Vec::with_capacity(32);
    if let Some(ctx) = &c.ctx {
        pack_list_header(&mut payload, 3);
        pack_int(&mut payload, CONTEXT_EVAL);
        payload.extend_from_slice(ctx);
    }
    pack_list_header(&mut payload, 1 + c.args.len());
    pack_int(&mut payload, c.op);
    for a in &c.args {
        if !env.eval(a).encode_into(&mut payload) {
            return Val::Unk;
        }
    }
    let bin = env.eval(&c.bin);
    let (t, bytes): (u8, Cow<'_, [u8]>) = match &bin {
        Val::List(x) => (particle::LIST, x.to_bytes()),
        Val::Map(x) => (particle::MAP, x.to_bytes()),
        Val::Blob(b) => (particle::BLOB, Cow::Borrowed(b.as_ref())),
        Val::Hll(b) => (particle::HLL, Cow::Borrowed(b.as_ref())),
        Val::Nil if c.modify_local => (particle::NULL, Cow::Borrowed(&[][..])),
        _ => return Val::Unk,
    };
    let cur = (t != particle::NULL).then_some((t, bytes.as_ref()));
    if c.modify_local {
        let new = match c.system {
            System::Cdt => aerie_cdt::cdt_modify(cur, &payload).map(|(b, _)| b),
            System::Bits => aerie_cdt::bits::bits_modify(cur, &payload),
            System::Hll => aerie_cdt::hll::hll_modify(cur, &payload).map(|(b, _)| b),
        };
        match new {
            Ok(Some((t, v))) => Val::from_particle(t, v),
            Ok(None) => bin.clone().into_owned(),
            Err(_) => Val::Unk,
        }
    } else {
        let out = match c.system {
            System::Cdt => aerie_cdt::cdt_read(t, &bytes, &payload),
            System::Bits => aerie_cdt::bits::bits_read(t, &bytes, &payload),
            System::Hll => aerie_cdt::hll::hll_read(t, &bytes, &payload),
        };
        match out {
            Ok(Some((t, v))) => Val::from_particle(t, v),
            Ok(None) => Val::Nil,
            Err(_) => Val::Unk,
        }
    }
}
