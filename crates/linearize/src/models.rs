//! Sequential models of an Aerospike record, as the nemesis workloads use it.

use crate::Model;

/// A record holding one integer bin, read and written by the official client: plain puts,
/// and compare-and-set as a put with `GenerationPolicy::ExpectGenEqual`. Every applied
/// write raises the generation by one; a read returns the value and the generation, or
/// nothing for a record never written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Register;

/// The register's state: `None` until the first write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegisterState {
    pub value: Option<i64>,
    pub generation: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterInput {
    Read,
    Write(i64),
    /// Write `value` only if the record exists with generation `expect_generation`.
    Cas {
        expect_generation: u32,
        value: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutput {
    /// `(value, generation)`, or `None`: not found.
    Read(Option<(i64, u32)>),
    Written,
    /// Applied (`true`) or refused with GENERATION (`false`).
    Cas(bool),
}

impl Model for Register {
    type State = RegisterState;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> RegisterState {
        RegisterState::default()
    }

    fn step(
        &self,
        s: &RegisterState,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<RegisterState> {
        let written = |value| RegisterState {
            value: Some(value),
            generation: s.generation.wrapping_add(1),
        };
        match (input, output) {
            (RegisterInput::Read, None) => Some(*s),
            (RegisterInput::Read, Some(RegisterOutput::Read(seen))) => {
                (*seen == s.value.map(|v| (v, s.generation))).then_some(*s)
            }
            (RegisterInput::Write(v), None | Some(RegisterOutput::Written)) => Some(written(*v)),
            (
                RegisterInput::Cas {
                    expect_generation,
                    value,
                },
                out,
            ) => {
                let applies = s.value.is_some() && s.generation == *expect_generation;
                match out {
                    None => Some(if applies { written(*value) } else { *s }),
                    Some(RegisterOutput::Cas(true)) => applies.then(|| written(*value)),
                    Some(RegisterOutput::Cas(false)) => (!applies).then_some(*s),
                    Some(_) => None,
                }
            }
            (_, Some(_)) => None,
        }
    }
}

/// A record holding one list bin that clients append integers to and read whole. A record
/// never written reads as the empty list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListAppend;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListInput {
    Append(i64),
    Read,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListOutput {
    Appended,
    Read(Vec<i64>),
}

impl Model for ListAppend {
    type State = Vec<i64>;
    type Input = ListInput;
    type Output = ListOutput;

    fn init(&self) -> Vec<i64> {
        Vec::new()
    }

    fn step(
        &self,
        s: &Vec<i64>,
        input: &ListInput,
        output: Option<&ListOutput>,
    ) -> Option<Vec<i64>> {
        match (input, output) {
            (ListInput::Append(x), None | Some(ListOutput::Appended)) => {
                let mut next = s.clone();
                next.push(*x);
                Some(next)
            }
            (ListInput::Read, None) => Some(s.clone()),
            (ListInput::Read, Some(ListOutput::Read(seen))) => (seen == s).then(|| s.clone()),
            (_, Some(_)) => None,
        }
    }
}
