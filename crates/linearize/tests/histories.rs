//! Known-good histories pass, known-bad ones fail with a counterexample, and every history
//! produced by running a model sequentially (with intervals drawn around its linearization
//! points) is accepted.

use aerie_linearize::models::{
    ListAppend, ListInput, ListOutput, Register, RegisterInput, RegisterOutput,
};
use aerie_linearize::{check, Budget, KeyVerdict, Model, Operation};
use proptest::prelude::*;

use ListInput::{Append, Read as LRead};
use ListOutput::{Appended, Read as LRead_};
use RegisterInput::{Cas, Read, Write};
use RegisterOutput::{Cas as CasOk, Read as ReadOk, Written};

type RegOp = Operation<RegisterInput, RegisterOutput>;
type ListOp = Operation<ListInput, ListOutput>;

/// An operation on key 0 that ran from `call` to `ret` (ms); `ret` `None` = indeterminate.
fn op<I, O>(
    process: u64,
    call: u64,
    ret: Option<u64>,
    input: I,
    output: Option<O>,
) -> Operation<I, O> {
    Operation {
        process,
        key: 0,
        input,
        output,
        call_ns: call * 1_000_000,
        return_ns: ret.map(|r| r * 1_000_000),
    }
}

fn linearizable<M: Model>(m: &M, h: &[Operation<M::Input, M::Output>]) -> bool {
    let report = check(m, h, Budget::default());
    assert!(report.unknown().is_empty(), "budget exhausted");
    report.is_linearizable()
}

#[test]
fn concurrent_write_and_reads_either_order() {
    // p0 writes 1 over [0,10]; p1 reads 1 inside it, p2 reads nothing before it lands.
    let h: Vec<RegOp> = vec![
        op(0, 0, Some(10), Write(1), Some(Written)),
        op(1, 2, Some(4), Read, Some(ReadOk(Some((1, 1))))),
        op(2, 1, Some(3), Read, Some(ReadOk(None))),
    ];
    assert!(linearizable(&Register, &h));
}

#[test]
fn stale_read_is_caught() {
    let h: Vec<RegOp> = vec![
        op(0, 0, Some(1), Write(1), Some(Written)),
        op(0, 2, Some(3), Write(2), Some(Written)),
        op(1, 4, Some(5), Read, Some(ReadOk(Some((1, 1))))),
    ];
    let report = check(&Register, &h, Budget::default());
    let bad = report.illegal();
    assert_eq!(bad.len(), 1, "{report:?}");
    // The counterexample names the stale read as the operation that cannot be placed.
    assert_eq!(bad[0].stuck.input, Read);
    assert_eq!(bad[0].prefix_len, 2);
    let text = bad[0].to_string();
    assert!(text.contains("not linearizable"), "{text}");
}

#[test]
fn read_of_a_never_written_value_is_caught() {
    let h: Vec<RegOp> = vec![
        op(0, 0, Some(1), Write(1), Some(Written)),
        op(1, 0, Some(3), Read, Some(ReadOk(Some((7, 1))))),
    ];
    assert!(!linearizable(&Register, &h));
}

#[test]
fn lost_update_through_cas_is_caught() {
    // Both CASes expected generation 1 and both were told they applied.
    let h: Vec<RegOp> = vec![
        op(0, 0, Some(1), Write(1), Some(Written)),
        op(
            1,
            2,
            Some(6),
            Cas {
                expect_generation: 1,
                value: 2,
            },
            Some(CasOk(true)),
        ),
        op(
            2,
            3,
            Some(7),
            Cas {
                expect_generation: 1,
                value: 3,
            },
            Some(CasOk(true)),
        ),
    ];
    assert!(!linearizable(&Register, &h));
    // With one refused it is fine, whichever order they overlap in.
    let mut ok = h.clone();
    ok[2].output = Some(CasOk(false));
    assert!(linearizable(&Register, &ok));
}

#[test]
fn indeterminate_write_may_land_late_or_never() {
    let late: Vec<RegOp> = vec![
        op(0, 0, None, Write(5), None),
        op(1, 10, Some(11), Read, Some(ReadOk(None))),
        op(1, 12, Some(13), Read, Some(ReadOk(Some((5, 1))))),
    ];
    assert!(linearizable(&Register, &late));
    let never: Vec<RegOp> = vec![
        op(0, 0, None, Write(5), None),
        op(1, 10, Some(11), Read, Some(ReadOk(None))),
    ];
    assert!(linearizable(&Register, &never));
    // But it cannot be undone once seen.
    let undone: Vec<RegOp> = vec![
        op(0, 0, None, Write(5), None),
        op(1, 10, Some(11), Read, Some(ReadOk(Some((5, 1))))),
        op(1, 12, Some(13), Read, Some(ReadOk(None))),
    ];
    assert!(!linearizable(&Register, &undone));
}

#[test]
fn lost_append_is_caught() {
    let h: Vec<ListOp> = vec![
        op(0, 0, Some(1), Append(1), Some(Appended)),
        op(1, 2, Some(3), Append(2), Some(Appended)),
        op(2, 4, Some(5), LRead, Some(LRead_(vec![2]))),
    ];
    assert!(!linearizable(&ListAppend, &h));
}

#[test]
fn concurrent_appends_in_either_order() {
    let h: Vec<ListOp> = vec![
        op(0, 0, Some(5), Append(1), Some(Appended)),
        op(1, 1, Some(6), Append(2), Some(Appended)),
        op(2, 7, Some(8), LRead, Some(LRead_(vec![2, 1]))),
        op(3, 9, None, Append(3), None),
        op(2, 10, Some(11), LRead, Some(LRead_(vec![2, 1]))),
        op(2, 12, Some(13), LRead, Some(LRead_(vec![2, 1, 3]))),
    ];
    assert!(linearizable(&ListAppend, &h));
}

#[test]
fn keys_are_checked_apart() {
    let mut h: Vec<RegOp> = vec![
        op(0, 0, Some(1), Write(1), Some(Written)),
        op(0, 2, Some(3), Read, Some(ReadOk(Some((1, 1))))),
    ];
    let mut other = h.clone();
    for o in &mut other {
        o.key = 9;
    }
    other[1].output = Some(ReadOk(Some((2, 1))));
    h.extend(other);
    let report = check(&Register, &h, Budget::default());
    assert!(matches!(
        report.keys.get(&0),
        Some(KeyVerdict::Linearizable)
    ));
    assert!(matches!(report.keys.get(&9), Some(KeyVerdict::Illegal(_))));
}

#[test]
fn a_tiny_budget_answers_unknown_not_a_verdict() {
    // Many concurrent writes and a read no order explains: the search must try many orders.
    let mut h: Vec<RegOp> = (0..12)
        .map(|i| op(i, 0, Some(100), Write(i as i64), Some(Written)))
        .collect();
    h.push(op(99, 101, Some(102), Read, Some(ReadOk(Some((1000, 12))))));
    let report = check(
        &Register,
        &h,
        Budget {
            max_steps_per_key: 50,
            time: std::time::Duration::from_secs(5),
        },
    );
    assert_eq!(report.unknown(), vec![0]);
}

// --- property: sequential executions are always accepted ----------------------------------

#[derive(Debug, Clone)]
struct Step {
    key: u64,
    kind: u8,
    value: i64,
    before_ms: u64,
    after_ms: u64,
    indeterminate: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0u64..3,
            0u8..3,
            0i64..5,
            0u64..20,
            0u64..20,
            prop::bool::weighted(0.1),
        )
            .prop_map(
                |(key, kind, value, before_ms, after_ms, indeterminate)| Step {
                    key,
                    kind,
                    value,
                    before_ms,
                    after_ms,
                    indeterminate,
                },
            ),
        0..40,
    )
}

/// Runs the steps through the model in order, step `i` taking effect at `10 i` ms, its
/// interval drawn around that point: a linearizable history by construction.
fn sequential<M: Model>(
    m: &M,
    steps: &[Step],
    input: impl Fn(&Step, &M::State) -> M::Input,
    output: impl Fn(&M::Input, &M::State, &M::State) -> M::Output,
) -> Vec<Operation<M::Input, M::Output>> {
    let mut states: std::collections::HashMap<u64, M::State> = Default::default();
    let mut h = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let at = 1_000 + 10 * i as u64;
        let state = states.entry(s.key).or_insert_with(|| m.init());
        let inp = input(s, state);
        let Some(next) = m.step(state, &inp, None) else {
            continue;
        };
        let out = output(&inp, state, &next);
        *state = next;
        h.push(Operation {
            process: i as u64,
            key: s.key,
            input: inp,
            output: (!s.indeterminate).then_some(out),
            call_ns: (at - s.before_ms) * 1_000_000,
            return_ns: (!s.indeterminate).then_some((at + s.after_ms) * 1_000_000),
        });
    }
    h
}

proptest! {
    #[test]
    fn sequential_register_histories_are_linearizable(steps in steps()) {
        let h = sequential(
            &Register,
            &steps,
            |s, st| match s.kind {
                0 => Read,
                1 => Write(s.value),
                // Half the CASes expect the current generation.
                _ => Cas { expect_generation: st.generation + (s.value % 2) as u32, value: s.value },
            },
            |inp, before, after| match inp {
                Read => ReadOk(before.value.map(|v| (v, before.generation))),
                Write(_) => Written,
                Cas { .. } => CasOk(before != after),
            },
        );
        prop_assert!(linearizable(&Register, &h));
    }

    #[test]
    fn sequential_list_histories_are_linearizable(steps in steps()) {
        let h = sequential(
            &ListAppend,
            &steps,
            |s, _| if s.kind == 0 { LRead } else { Append(s.value) },
            |inp, before, _| match inp {
                LRead => LRead_(before.clone()),
                Append(_) => Appended,
            },
        );
        prop_assert!(linearizable(&ListAppend, &h));
    }

    #[test]
    fn a_read_of_a_value_never_written_is_always_caught(steps in steps()) {
        let mut h = sequential(
            &Register,
            &steps,
            |s, _| if s.kind == 0 { Read } else { Write(s.value) },
            |inp, before, _| match inp {
                Read => ReadOk(before.value.map(|v| (v, before.generation))),
                _ => Written,
            },
        );
        h.push(Operation {
            process: 1000,
            key: 0,
            input: Read,
            output: Some(ReadOk(Some((-1, 1)))),
            call_ns: 0,
            return_ns: Some(u64::MAX / 2),
        });
        prop_assert!(!linearizable(&Register, &h));
    }
}
