//! Prints the partition-balance simulation's table (`aerie_cluster::sim`): for each node count
//! and rack count, the imbalance of masters and replicas, the data moved when a node joins and
//! when one leaves against the least that must move, the simulated migration time against
//! its bound, and the partitions lost with a whole rack.
//!
//! `cargo run --release -p aerie-cluster --example placement_sim -- [--nodes 3,8,256]
//! [--racks 1,2,3] [--rf 2] [--balance default|uniform|both] [--seed N]`

use aerie_cluster::sim::{sweep, table_markdown, Workload};

fn list<T: std::str::FromStr>(v: &str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(|x| x.trim().parse().map_err(|_| format!("bad number '{x}'")))
        .collect()
}

fn main() -> Result<(), String> {
    let mut nodes: Vec<usize> = vec![3, 4, 8, 16, 32, 64, 128, 256];
    let mut racks: Vec<u32> = vec![1, 2, 3];
    let mut rf = 2usize;
    let mut modes = vec![false, true];
    let mut seed = 21u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--nodes" => nodes = list(&value)?,
            "--racks" => racks = list(&value)?,
            "--rf" => rf = value.parse().map_err(|_| "bad --rf".to_owned())?,
            "--seed" => seed = value.parse().map_err(|_| "bad --seed".to_owned())?,
            "--balance" => {
                modes = match value.as_str() {
                    "default" => vec![false],
                    "uniform" => vec![true],
                    "both" => vec![false, true],
                    _ => return Err("--balance default|uniform|both".to_owned()),
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if nodes.iter().any(|&n| n < 2) || racks.contains(&0) || rf == 0 {
        return Err("nodes ≥ 2, racks ≥ 1, rf ≥ 1".to_owned());
    }
    let workload = Workload::default();
    println!(
        "{} GiB of unique data, links of {:.2} GB/s, seed {seed}\n",
        workload.data_bytes >> 30,
        workload.link_bytes_per_sec / 1e9
    );
    let mut reports = Vec::new();
    for uniform in modes {
        reports.extend(sweep(&nodes, &racks, rf, uniform, seed, &workload));
    }
    print!("{}", table_markdown(&reports));
    Ok(())
}
