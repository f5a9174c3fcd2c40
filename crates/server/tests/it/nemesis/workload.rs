//! The clients: register and list-append workers driving the cluster with the official Rust
//! client, each operation recorded (invoke before the request, completion after the answer)
//! for the linearizability checker.
//!
//! Completions follow the client's own judgement: a write error the client marks
//! `in_doubt` (timeouts, connections lost after sending) is indeterminate and the worker
//! continues as a new process; any other error means the write was not applied. A failed
//! read changes nothing and is dropped.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aerie_linearize::models::{ListInput, ListOutput, RegisterInput, RegisterOutput};
use aerie_linearize::{Completion, Recorder};
use aerospike::operations::lists::{self, ListPolicy};
use aerospike::{
    as_bin, as_key, Bins, Client, Error, ErrorKind, GenerationPolicy, ReadPolicy, Record,
    ResultCode, Value, WritePolicy,
};

pub const NS: &str = "test";
pub const REGISTER_SET: &str = "reg";
pub const LIST_SET: &str = "list";
pub const REGISTER_KEYS: u64 = 4;
pub const LIST_KEYS: u64 = 4;
/// Process ids of worker `w` are `w`, `w + PROCESS_STRIDE`, … (a new one after each
/// indeterminate operation).
const PROCESS_STRIDE: u64 = 1000;
/// Process id of the final reads.
pub const FINAL_PROCESS: u64 = u64::MAX;

pub type RegisterLog = Recorder<RegisterInput, RegisterOutput>;
pub type ListLog = Recorder<ListInput, ListOutput>;

/// What every worker shares.
pub struct Shared {
    pub client: Client,
    pub registers: RegisterLog,
    pub lists: ListLog,
    pub stop: AtomicBool,
    /// While set, workers start no new operation (a quiescent window for the nemesis).
    pub hold_off: AtomicBool,
    /// Source of unique written values, so a read names the write it saw.
    next_value: AtomicI64,
}

impl Shared {
    pub fn new(client: Client) -> Self {
        Shared {
            client,
            registers: Recorder::new(),
            lists: Recorder::new(),
            stop: AtomicBool::new(false),
            hold_off: AtomicBool::new(false),
            next_value: AtomicI64::new(1),
        }
    }

    /// Waits while the nemesis holds the workload off; false once the run stops.
    async fn proceed(&self) -> bool {
        while self.hold_off.load(Ordering::Relaxed) && !self.stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        !self.stop.load(Ordering::Relaxed)
    }

    fn unique(&self) -> i64 {
        self.next_value.fetch_add(1, Ordering::Relaxed)
    }
}

/// Short timeouts and no retries for writes: a client that waits out a fault would hide it,
/// and a retried write is in doubt anyway.
pub fn write_policy() -> WritePolicy {
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 1000;
    wp.base_policy.socket_timeout = 1000;
    wp.base_policy.max_retries = 0;
    wp
}

pub fn read_policy() -> ReadPolicy {
    let mut rp = ReadPolicy::default();
    rp.base_policy.total_timeout = 1000;
    rp.base_policy.socket_timeout = 1000;
    rp.base_policy.max_retries = 1;
    rp
}

fn is_not_found(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Server {
            rc: ResultCode::KeyNotFoundError,
            ..
        }
    )
}

fn write_completion<O>(e: &Error) -> Completion<O> {
    if e.in_doubt() {
        Completion::Info
    } else {
        Completion::Fail
    }
}

/// A small xorshift generator: the workload's choices need no quality, only a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

async fn pace(rng: &mut Rng) {
    tokio::time::sleep(Duration::from_millis(10 + rng.below(20))).await;
}

fn register_of(r: &Record) -> Option<(i64, u32)> {
    match r.bins.get("v") {
        Some(Value::Int(v)) => Some((*v, r.generation)),
        _ => None,
    }
}

/// Reads register `key` once, recorded.
pub async fn read_register(s: &Shared, process: u64, key: u64) -> Option<Option<(i64, u32)>> {
    let id = s.registers.invoke(process, key, RegisterInput::Read);
    let got = match s
        .client
        .get(
            &read_policy(),
            &as_key!(NS, REGISTER_SET, key as i64),
            Bins::All,
        )
        .await
    {
        Ok(r) => Some(register_of(&r)),
        Err(e) if is_not_found(&e) => Some(None),
        Err(_) => None,
    };
    match got {
        Some(v) => s
            .registers
            .complete(id, Completion::Ok(RegisterOutput::Read(v))),
        None => s.registers.complete(id, Completion::Fail),
    }
    got
}

/// Worker `w` of the register workload: reads, blind writes, and compare-and-set writes
/// (a read, then a put expecting the generation read).
pub async fn register_worker(s: Arc<Shared>, w: u64, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut process = w;
    while s.proceed().await {
        let key = rng.below(REGISTER_KEYS);
        let akey = as_key!(NS, REGISTER_SET, key as i64);
        let choice = rng.below(3);
        let (input, policy) = match choice {
            0 => {
                read_register(&s, process, key).await;
                pace(&mut rng).await;
                continue;
            }
            1 => (RegisterInput::Write(s.unique()), write_policy()),
            _ => {
                let Some(Some((_, generation))) = read_register(&s, process, key).await else {
                    pace(&mut rng).await;
                    continue;
                };
                let mut wp = write_policy();
                wp.generation_policy = GenerationPolicy::ExpectGenEqual;
                wp.generation = generation;
                let input = RegisterInput::Cas {
                    expect_generation: generation,
                    value: s.unique(),
                };
                (input, wp)
            }
        };
        let value = match input {
            RegisterInput::Write(v) | RegisterInput::Cas { value: v, .. } => v,
            RegisterInput::Read => continue,
        };
        let id = s.registers.invoke(process, key, input);
        let completion = match s.client.put(&policy, &akey, &[as_bin!("v", value)]).await {
            Ok(()) if choice == 1 => Completion::Ok(RegisterOutput::Written),
            Ok(()) => Completion::Ok(RegisterOutput::Cas(true)),
            Err(e)
                if choice == 2
                    && !e.in_doubt()
                    && matches!(
                        e.kind(),
                        ErrorKind::Server {
                            rc: ResultCode::GenerationError,
                            ..
                        }
                    ) =>
            {
                Completion::Ok(RegisterOutput::Cas(false))
            }
            Err(e) => write_completion(&e),
        };
        if completion == Completion::Info {
            process += PROCESS_STRIDE;
        }
        s.registers.complete(id, completion);
        pace(&mut rng).await;
    }
}

fn list_of(r: &Record) -> Vec<i64> {
    match r.bins.get("l") {
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                // Never written by the workload: makes the read impossible for the model.
                _ => i64::MIN,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads list `key` once, recorded.
pub async fn read_list(s: &Shared, process: u64, key: u64) -> Option<Vec<i64>> {
    let id = s.lists.invoke(process, key, ListInput::Read);
    let got = match s
        .client
        .get(
            &read_policy(),
            &as_key!(NS, LIST_SET, key as i64),
            Bins::All,
        )
        .await
    {
        Ok(r) => Some(list_of(&r)),
        Err(e) if is_not_found(&e) => Some(Vec::new()),
        Err(_) => None,
    };
    match &got {
        Some(v) => s
            .lists
            .complete(id, Completion::Ok(ListOutput::Read(v.clone()))),
        None => s.lists.complete(id, Completion::Fail),
    }
    got
}

/// Worker `w` of the list-append workload: appends of unique integers and whole reads.
pub async fn list_worker(s: Arc<Shared>, w: u64, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut process = w;
    while s.proceed().await {
        let key = rng.below(LIST_KEYS);
        if rng.below(2) == 0 {
            read_list(&s, process, key).await;
        } else {
            let x = s.unique();
            let id = s.lists.invoke(process, key, ListInput::Append(x));
            let op = lists::append(&ListPolicy::default(), "l", Value::from(x));
            let completion = match s
                .client
                .operate(&write_policy(), &as_key!(NS, LIST_SET, key as i64), &[op])
                .await
            {
                Ok(_) => Completion::Ok(ListOutput::Appended),
                Err(e) => write_completion(&e),
            };
            if completion == Completion::Info {
                process += PROCESS_STRIDE;
            }
            s.lists.complete(id, completion);
        }
        pace(&mut rng).await;
    }
}
