//! The decision procedure: Wing–Gong search with Lowe's memoisation, per key.
//!
//! The history of one key becomes a doubly linked list of call and return events in time
//! order (a call before a return at the same instant, so touching operations count as
//! concurrent). The search walks the list: at a call it tries to linearize that operation
//! now (the model accepts its output from the current state, and the pair (linearized set,
//! new state) was not seen before), lifts its two events out of the list and starts again
//! from the head; at a return event it has met an operation that ended without being
//! linearized, so it backtracks to the last choice. It succeeds when the list is empty.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use crate::{Model, Operation};

/// Limits on the search (the problem is NP-complete; an exhausted budget gives `Unknown`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Search steps per key.
    pub max_steps_per_key: u64,
    /// Wall time for the whole history.
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps_per_key: 50_000_000,
            time: Duration::from_secs(60),
        }
    }
}

/// The outcome for one key.
#[derive(Debug, Clone)]
pub enum KeyVerdict<I, O> {
    Linearizable,
    Illegal(Box<Counterexample<I, O>>),
    /// The budget ran out first.
    Unknown,
}

/// Why a key's history is not linearizable: the longest linearization the search found and
/// the operation it could not place after it, with the operations concurrent to that one.
#[derive(Debug, Clone)]
pub struct Counterexample<I, O> {
    pub key: u64,
    /// The longest valid linearization found (oldest first), cut to its last 16 operations.
    pub prefix_tail: Vec<Operation<I, O>>,
    /// Length of that linearization before the cut.
    pub prefix_len: usize,
    /// An operation that returned but could not be linearized after the prefix.
    pub stuck: Operation<I, O>,
    /// Unlinearized operations whose intervals overlap `stuck`'s (the window to look at).
    pub concurrent: Vec<Operation<I, O>>,
}

/// The outcome of [`check`] for a whole history.
#[derive(Debug, Clone)]
pub struct Report<I, O> {
    pub keys: BTreeMap<u64, KeyVerdict<I, O>>,
    pub operations: usize,
    pub elapsed: Duration,
}

impl<I, O> Report<I, O> {
    /// Every key linearizable.
    #[must_use]
    pub fn is_linearizable(&self) -> bool {
        self.keys
            .values()
            .all(|v| matches!(v, KeyVerdict::Linearizable))
    }

    /// Keys found not linearizable.
    #[must_use]
    pub fn illegal(&self) -> Vec<&Counterexample<I, O>> {
        self.keys
            .values()
            .filter_map(|v| match v {
                KeyVerdict::Illegal(c) => Some(&**c),
                _ => None,
            })
            .collect()
    }

    /// Keys the budget did not decide.
    #[must_use]
    pub fn unknown(&self) -> Vec<u64> {
        self.keys
            .iter()
            .filter(|(_, v)| matches!(v, KeyVerdict::Unknown))
            .map(|(k, _)| *k)
            .collect()
    }
}

impl<I: fmt::Debug, O: fmt::Debug> fmt::Display for Counterexample<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = |f: &mut fmt::Formatter<'_>, o: &Operation<I, O>| {
            let ret = o
                .return_ns
                .map_or_else(|| "∞".to_owned(), |t| format!("{:.3}", t as f64 / 1e6));
            writeln!(
                f,
                "    p{:<4} [{:>10.3} ms, {:>10} ms] {:?} -> {}",
                o.process,
                o.call_ns as f64 / 1e6,
                ret,
                o.input,
                o.output
                    .as_ref()
                    .map_or_else(|| "indeterminate".to_owned(), |x| format!("{x:?}"))
            )
        };
        writeln!(
            f,
            "key {}: not linearizable; longest linearization has {} operations, ending:",
            self.key, self.prefix_len
        )?;
        for o in &self.prefix_tail {
            op(f, o)?;
        }
        writeln!(f, "  cannot be followed by:")?;
        op(f, &self.stuck)?;
        writeln!(f, "  nor by any of the operations concurrent with it:")?;
        for o in &self.concurrent {
            op(f, o)?;
        }
        Ok(())
    }
}

/// Checks `history` against `model`, each key on its own.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> Report<M::Input, M::Output> {
    let started = Instant::now();
    let deadline = started + budget.time;
    type KeyOps<'a, I, O> = BTreeMap<u64, Vec<&'a Operation<I, O>>>;
    let mut by_key: KeyOps<'_, M::Input, M::Output> = BTreeMap::new();
    for op in history {
        by_key.entry(op.key).or_default().push(op);
    }
    let keys = by_key
        .into_iter()
        .map(|(key, ops)| {
            let verdict = check_key(model, key, &ops, budget.max_steps_per_key, deadline);
            (key, verdict)
        })
        .collect();
    Report {
        keys,
        operations: history.len(),
        elapsed: started.elapsed(),
    }
}

/// One event of the linked list. Node 0 is the list head (a sentinel).
#[derive(Debug, Clone, Copy)]
struct Node {
    op: usize,
    is_call: bool,
    /// The other event of the same operation.
    pair: usize,
    prev: usize,
    next: usize,
}

const HEAD: usize = 0;
const NIL: usize = usize::MAX;

struct Events {
    nodes: Vec<Node>,
}

impl Events {
    fn new(call_ns: &[u64], return_ns: &[Option<u64>]) -> Self {
        // (time, kind: 0 call / 1 return, op)
        let mut order: Vec<(u64, u8, usize)> = Vec::with_capacity(call_ns.len() * 2);
        for (i, (&c, &r)) in call_ns.iter().zip(return_ns).enumerate() {
            order.push((c, 0, i));
            order.push((r.unwrap_or(u64::MAX).max(c), 1, i));
        }
        order.sort_unstable();
        let mut nodes = vec![Node {
            op: NIL,
            is_call: false,
            pair: NIL,
            prev: NIL,
            next: NIL,
        }];
        let mut call_node = vec![NIL; call_ns.len()];
        for (t, kind, op) in order {
            let _ = t;
            let idx = nodes.len();
            let is_call = kind == 0;
            let pair = if is_call { NIL } else { call_node[op] };
            if is_call {
                call_node[op] = idx;
            } else {
                nodes[pair].pair = idx;
            }
            nodes[idx - 1].next = idx;
            nodes.push(Node {
                op,
                is_call,
                pair,
                prev: idx - 1,
                next: NIL,
            });
        }
        Events { nodes }
    }

    fn first(&self) -> usize {
        self.nodes[HEAD].next
    }

    fn unlink(&mut self, i: usize) {
        let Node { prev, next, .. } = self.nodes[i];
        self.nodes[prev].next = next;
        if next != NIL {
            self.nodes[next].prev = prev;
        }
    }

    fn relink(&mut self, i: usize) {
        let Node { prev, next, .. } = self.nodes[i];
        self.nodes[prev].next = i;
        if next != NIL {
            self.nodes[next].prev = i;
        }
    }

    /// Takes a call event and its return out of the list.
    fn lift(&mut self, call: usize) {
        let ret = self.nodes[call].pair;
        self.unlink(call);
        self.unlink(ret);
    }

    /// Undoes the last [`lift`](Self::lift) (dancing links: in reverse order).
    fn unlift(&mut self, call: usize) {
        let ret = self.nodes[call].pair;
        self.relink(ret);
        self.relink(call);
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

fn check_key<M: Model>(
    model: &M,
    key: u64,
    ops: &[&Operation<M::Input, M::Output>],
    max_steps: u64,
    deadline: Instant,
) -> KeyVerdict<M::Input, M::Output> {
    let call_ns: Vec<u64> = ops.iter().map(|o| o.call_ns).collect();
    let return_ns: Vec<Option<u64>> = ops.iter().map(|o| o.return_ns).collect();
    let mut events = Events::new(&call_ns, &return_ns);
    let mut cache: HashSet<(BitSet, M::State)> = HashSet::new();
    let mut linearized = BitSet::new(ops.len());
    let mut state = model.init();
    // (call node, state before it)
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut best: Option<(Vec<usize>, usize)> = None;
    let mut steps: u64 = 0;
    let mut entry = events.first();
    while events.first() != NIL {
        steps += 1;
        if steps > max_steps || (steps.is_multiple_of(4096) && Instant::now() > deadline) {
            return KeyVerdict::Unknown;
        }
        let node = events.nodes[entry];
        if node.is_call {
            let op = ops[node.op];
            if let Some(next_state) = model.step(&state, &op.input, op.output.as_ref()) {
                let mut next_lin = linearized.clone();
                next_lin.set(node.op);
                if cache.insert((next_lin.clone(), next_state.clone())) {
                    let prev = std::mem::replace(&mut state, next_state);
                    stack.push((entry, prev));
                    linearized = next_lin;
                    events.lift(entry);
                    entry = events.first();
                    continue;
                }
            }
            entry = node.next;
        } else {
            // An operation returned before being linearized: keep the deepest such point
            // as the counterexample, then backtrack.
            if best.as_ref().is_none_or(|(p, _)| stack.len() > p.len()) {
                let prefix = stack.iter().map(|(n, _)| events.nodes[*n].op).collect();
                best = Some((prefix, node.op));
            }
            let Some((call, prev_state)) = stack.pop() else {
                return KeyVerdict::Illegal(Box::new(counterexample(key, ops, best)));
            };
            state = prev_state;
            linearized.clear(events.nodes[call].op);
            events.unlift(call);
            entry = events.nodes[call].next;
        }
    }
    KeyVerdict::Linearizable
}

fn counterexample<I: Clone, O: Clone>(
    key: u64,
    ops: &[&Operation<I, O>],
    best: Option<(Vec<usize>, usize)>,
) -> Counterexample<I, O> {
    let (prefix, stuck) = best.unwrap_or_default();
    let stuck_op = ops[stuck];
    let stuck_end = stuck_op.return_ns.unwrap_or(u64::MAX);
    let concurrent = ops
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            *i != stuck
                && !prefix.contains(i)
                && o.call_ns <= stuck_end
                && o.return_ns.unwrap_or(u64::MAX) >= stuck_op.call_ns
        })
        .map(|(_, o)| (*o).clone())
        .collect();
    let tail_from = prefix.len().saturating_sub(16);
    Counterexample {
        key,
        prefix_tail: prefix[tail_from..]
            .iter()
            .map(|&i| ops[i].clone())
            .collect(),
        prefix_len: prefix.len(),
        stuck: stuck_op.clone(),
        concurrent,
    }
}
