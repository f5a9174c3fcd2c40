//! What a filter expression adds to a read, measured in-process without the network: compile
//! once, then evaluate against a stored record `N` times, as the read path does per request.
//! `cargo run --release -p aerie-exp --example filter_cost [N]` prints ns per compile and per
//! evaluation for
//! the `aerie bench --read-filter` filter (`bin_type(testbin) == string`) and for a compare of
//! an integer bin (`testbin_2 > 0`). Bounded: N defaults to 2,000,000, at most 100,000,000.

use std::hint::black_box;
use std::time::Instant;

use aerie_exp::{BinSource, Filter, RecordView};
use aerie_record::bins::push_bin;
use aerie_record::particle;

fn main() -> Result<(), aerie_exp::ExpError> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000)
        .min(100_000_000);
    let mut flat = Vec::new();
    push_bin(&mut flat, b"testbin", particle::STRING, &[b'x'; 100]);
    push_bin(
        &mut flat,
        b"testbin_2",
        particle::INTEGER,
        &7i64.to_be_bytes(),
    );
    let digest = [0u8; 20];
    // [EQ, [BIN_TYPE, "testbin"], 3]
    let bin_type: &[u8] = b"\x93\x01\x92\x52\xa7testbin\x03";
    // [GT, [BIN, INT, "testbin_2"], 0]
    let int_cmp: &[u8] = b"\x93\x03\x93\x51\x02\xa9testbin_2\x00";
    for (name, bytes) in [
        ("bin_type(testbin) == string", bin_type),
        ("testbin_2 > 0", int_cmp),
    ] {
        // A filtered get compiles the expression once per request: time that too.
        let rounds = (n / 10).max(1);
        let started = Instant::now();
        for _ in 0..rounds {
            black_box(Filter::compile(black_box(bytes))?);
        }
        let compile_ns = started.elapsed().as_nanos() as f64 / rounds as f64;
        let f = Filter::compile(bytes)?;
        let started = Instant::now();
        let mut hits = 0u64;
        for _ in 0..n {
            let view = RecordView::new(&digest, BinSource::Flat(black_box(&flat)));
            if f.matches(&view)? {
                hits += 1;
            }
        }
        let per = started.elapsed().as_nanos() as f64 / n as f64;
        assert_eq!(hits, n, "the filter holds for this record");
        println!("{name}: compile {compile_ns:.0} ns per request, evaluate {per:.1} ns per record ({n} runs)");
    }
    Ok(())
}
