//! A linearizability checker for histories recorded by the nemesis suite.
//!
//! Owns: the history type (operations invoked by client processes, each completed as ok,
//! fail or indeterminate, with monotonic call and return times), sequential models
//! (an Aerospike register with generation checks, a list-append record), and the decision
//! procedure: the Wing–Gong search with Lowe's memoisation of (linearized set, state) pairs,
//! as Porcupine implements it, run separately per key (P-compositionality: a history of
//! independent keys is linearizable iff each key's sub-history is).
//!
//! Does not own: running a workload, faults, or any server code. The crate is plain std
//! so it can check a history in any test.
//!
//! Semantics of an indeterminate (`info`) operation: it may take effect at any point after its
//! call, or never. The search gives it a return time of +∞, so it can be linearized
//! after everything else, which is the same as "never". A failed operation is known not to
//! have taken effect and is left out of the history.
//!
//! References: J. Wing, C. Gong, "Testing and verifying concurrent objects" (1993);
//! G. Lowe, "Testing for linearizability" (2017); A. Horn, D. Kroening, "Faster
//! linearizability checking via P-compositionality" (2015).

mod check;
mod history;
pub mod models;

pub use check::{check, Budget, Counterexample, KeyVerdict, Report};
pub use history::{Completion, OpId, Operation, Recorder};

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification of one key's object.
///
/// Requirements: `step` is a pure function of its arguments (the search calls it many
/// times on the same state) and deterministic: for an indeterminate output (`None`) it
/// returns the one state the input leads to.
pub trait Model {
    /// The object's state; hashed and compared to memoise visited configurations.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asked for.
    type Input: Clone + Debug;
    /// What a client was told.
    type Output: Clone + Debug + PartialEq;

    /// The state before any operation (a key that was never written).
    fn init(&self) -> Self::State;

    /// Applies `input` to `state`. `output` is what the client observed, or `None` when
    /// the outcome is unknown. Returns the next state, or `None` when the observed output
    /// is impossible from `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;
}
