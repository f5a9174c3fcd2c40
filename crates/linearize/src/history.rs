//! Histories: what each client process invoked, when, and how it completed.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// One operation of a history, ready for the checker.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation<I, O> {
    /// The client process that ran it. A process runs one operation at a time; after an
    /// indeterminate one a workload continues under a new process id, as in Jepsen.
    pub process: u64,
    /// The independent object it touched (a record). The checker checks each key alone.
    pub key: u64,
    pub input: I,
    /// `None`: indeterminate (timed out, connection lost after sending).
    pub output: Option<O>,
    /// Nanoseconds since the recorder started, when the client sent the request.
    pub call_ns: u64,
    /// When the client got the answer; `None` (read as +∞) for an indeterminate operation.
    pub return_ns: Option<u64>,
}

/// How an invoked operation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion<O> {
    /// It took effect and the client was told `O`.
    Ok(O),
    /// It certainly did not take effect (rejected before it was applied).
    Fail,
    /// Unknown: it may have taken effect, now or later.
    Info,
}

/// The id [`Recorder::invoke`] hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpId(usize);

#[derive(Debug)]
struct Pending<I, O> {
    process: u64,
    key: u64,
    input: I,
    call_ns: u64,
    done: Option<(Completion<O>, u64)>,
}

/// A history recorder shared by client tasks: `invoke` before sending, `complete` after
/// the answer, timestamps from one monotonic clock.
#[derive(Debug)]
pub struct Recorder<I, O> {
    start: Instant,
    ops: Mutex<Vec<Pending<I, O>>>,
}

impl<I, O> Default for Recorder<I, O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I, O> Recorder<I, O> {
    #[must_use]
    pub fn new() -> Self {
        Recorder {
            start: Instant::now(),
            ops: Mutex::new(Vec::new()),
        }
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records the call of an operation, timestamped now.
    pub fn invoke(&self, process: u64, key: u64, input: I) -> OpId {
        let call_ns = self.now_ns();
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        ops.push(Pending {
            process,
            key,
            input,
            call_ns,
            done: None,
        });
        OpId(ops.len() - 1)
    }

    /// Records how operation `id` ended, timestamped now. A second completion is ignored.
    pub fn complete(&self, id: OpId, completion: Completion<O>) {
        let return_ns = self.now_ns();
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = ops.get_mut(id.0) {
            if p.done.is_none() {
                p.done = Some((completion, return_ns));
            }
        }
    }

    /// Number of operations invoked so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing was invoked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The history: failed operations dropped, operations never completed and `Info` ones
    /// indeterminate.
    #[must_use]
    pub fn finish(self) -> Vec<Operation<I, O>> {
        let ops = self
            .ops
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        ops.into_iter()
            .filter_map(|p| {
                let (output, return_ns) = match p.done {
                    Some((Completion::Fail, _)) => return None,
                    Some((Completion::Ok(o), t)) => (Some(o), Some(t)),
                    Some((Completion::Info, _)) | None => (None, None),
                };
                Some(Operation {
                    process: p.process,
                    key: p.key,
                    input: p.input,
                    output,
                    call_ns: p.call_ns,
                    return_ns,
                })
            })
            .collect()
    }
}
