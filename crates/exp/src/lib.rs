//! Aerospike expressions: filter expressions (field 43) and expression read/modify ops
//! (op types 7/8).
//!
//! Owns the expression language as the official clients encode it: parsing the msgpack
//! expression once per request into a compiled tree ([`Program`]), static type checks, and
//! evaluation against a [`RecordView`]. Does not own records, locking, replies or bin writes:
//! the transaction layer builds the view, asks for a verdict or a value, and applies it.
//! List/map/bit/HLL forms (`call`, op 127) are delegated to `aerie-cdt`, the same code the CDT
//! ops use. Mirrors aerospike-server `as/src/base/exp.c` (language) and `expop.c` (op flags).
//!
//! # API
//!
//! ```
//! use aerie_exp::{BinSource, Filter, RecordView};
//! // [1, [81, 2, "a"], 7] : int bin "a" == 7
//! let f = Filter::compile(&[0x93, 0x01, 0x93, 0x51, 0x02, 0xa1, b'a', 0x07])?;
//! let mut flat = Vec::new();
//! aerie_record::bins::push_bin(&mut flat, b"a", 1, &7i64.to_be_bytes());
//! let digest = [0u8; 20];
//! let view = RecordView::new(&digest, BinSource::Flat(&flat));
//! assert!(f.matches(&view)?);
//! # Ok::<(), aerie_exp::ExpError>(())
//! ```
//!
//! * [`Filter::compile`] / [`Program::compile`]: bytes of field 43 (or of an op's expression)
//!   → compiled form, or [`ExpError`] (answer PARAMETER). Compile once per request, evaluate
//!   per record; a `Program` is `Send + Sync` and may be shared by scan threads.
//! * [`Program::matches`]: the filter verdict. An expression that evaluates to "unknown"
//!   (missing bin, wrong bin type, division by zero, failed CDT op …) does not match, as in the
//!   reference server when record data is available.
//! * [`Program::eval`]: the value, for expression ops ([`Outcome`]).
//!
//! Untrusted input: nesting is bounded ([`MAX_DEPTH`]), every malformed or type-inconsistent
//! expression is an [`ExpError`], and evaluation never panics.

mod call;
mod compile;
mod eval;
pub mod geo;
mod value;

use aerie_proto::ResultCode;
use aerie_record::bins::{self, FlatBins};
use aerie_record::Digest;

pub use compile::MAX_DEPTH;

/// Why an expression was refused. Every variant answers PARAMETER (4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpError {
    /// Malformed msgpack, unknown op, wrong argument count or type mismatch.
    #[error("invalid expression: {0}")]
    Invalid(&'static str),
    /// Deeper than [`MAX_DEPTH`].
    #[error("expression nested too deeply")]
    TooDeep,
    /// A regular expression that does not compile.
    #[error("invalid regex")]
    Regex,
}

impl ExpError {
    /// The result code sent to the client.
    pub fn result_code(&self) -> ResultCode {
        match self {
            ExpError::Invalid(_) | ExpError::TooDeep | ExpError::Regex => ResultCode::Parameter,
        }
    }
}

/// A compiled expression.
#[derive(Debug)]
pub struct Program {
    root: compile::Node,
    n_vars: usize,
}

/// A compiled filter expression (the same thing as a [`Program`], named for its use).
pub type Filter = Program;

impl Program {
    /// Parses and type-checks an expression.
    pub fn compile(bytes: &[u8]) -> Result<Self, ExpError> {
        let (root, n_vars) = compile::compile(bytes)?;
        Ok(Self { root, n_vars })
    }

    /// Whether the record passes the filter. "Unknown" (and any non-boolean result) does not.
    pub fn matches(&self, rec: &RecordView<'_>) -> Result<bool, ExpError> {
        Ok(matches!(
            eval::run(&self.root, self.n_vars, rec),
            value::Val::Bool(true)
        ))
    }

    /// Evaluates to a value, for expression read/modify ops.
    pub fn eval(&self, rec: &RecordView<'_>) -> Outcome {
        value::outcome(eval::run(&self.root, self.n_vars, rec))
    }
}

/// The result of evaluating an expression for an op.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The expression could not be evaluated ("unknown").
    Unknown,
    /// A nil value (deletes the bin under allow-delete).
    Nil,
    /// A value: particle type and bytes, lists and maps as msgpack.
    Particle(u8, Vec<u8>),
}

/// Where a record's bins come from: a stored flat buffer, or a write's working copy.
#[derive(Debug, Clone, Copy)]
pub enum BinSource<'a> {
    /// No bin data (metadata-only evaluation): bin reads are unknown.
    None,
    /// Flat bins as stored (`aerie_record::bins`).
    Flat(&'a [u8]),
    /// The working copy of a write in progress.
    Working(&'a FlatBins<'a>),
}

impl<'a> BinSource<'a> {
    /// Particle type and value of bin `name`.
    pub fn get(&self, name: &[u8]) -> Option<(u8, &'a [u8])> {
        match *self {
            BinSource::None => None,
            BinSource::Flat(f) => bins::find(f, name).map(|b| (b.particle_type, b.value)),
            BinSource::Working(w) => w
                .bins
                .iter()
                .find(|(n, _, _)| n.as_ref() == name)
                .map(|(_, t, v)| (*t, v.as_ref())),
        }
    }
}

/// What an expression may look at in a record. Build one per record; all fields are borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub digest: &'a Digest,
    /// The record's set name (empty: no set).
    pub set_name: &'a [u8],
    /// The stored user key, if the record keeps one: particle type and bytes.
    pub key: Option<(u8, &'a [u8])>,
    pub bins: BinSource<'a>,
    /// Milliseconds since the citrusleaf epoch of the last write.
    pub last_update_ms: u64,
    /// Seconds since the citrusleaf epoch of expiry; 0 = never.
    pub void_time: u32,
    /// Stored size of the record in bytes.
    pub record_size_bytes: u64,
    /// Whether the record is a tombstone (never, in Aerie today).
    pub is_tombstone: bool,
}

impl<'a> RecordView<'a> {
    /// A view with the given digest and bins and empty metadata; set the other fields directly.
    pub fn new(digest: &'a Digest, bins: BinSource<'a>) -> Self {
        Self {
            digest,
            set_name: &[],
            key: None,
            bins,
            last_update_ms: 0,
            void_time: 0,
            record_size_bytes: 0,
            is_tombstone: false,
        }
    }
}

/// Flags of an expression op (`[exp, flags]`).
pub mod op_flags {
    pub const CREATE_ONLY: u64 = 1;
    pub const UPDATE_ONLY: u64 = 2;
    pub const ALLOW_DELETE: u64 = 4;
    pub const POLICY_NO_FAIL: u64 = 8;
    pub const EVAL_NO_FAIL: u64 = 16;
    /// Every modify flag.
    pub const MODIFY_MASK: u64 = 31;
    /// Every read flag.
    pub const READ_MASK: u64 = EVAL_NO_FAIL;
}

/// Parses an expression op's value (`[exp]` or `[exp, flags]`), checking the flags allowed for
/// a read (`is_modify` false) or a modify op.
pub fn parse_op(value: &[u8], is_modify: bool) -> Result<(Program, u64), ExpError> {
    let (root, n_vars, flags) = compile::compile_op(value)?;
    let mask = if is_modify {
        op_flags::MODIFY_MASK
    } else {
        op_flags::READ_MASK
    };
    if flags & !mask != 0 {
        return Err(ExpError::Invalid("bad expression op flags"));
    }
    Ok((Program { root, n_vars }, flags))
}
