//! Background job info commands: `query-show`, `scan-show` (`[:trid=N|id=N]`), the legacy
//! `jobs:module=..;cmd=get-job|get-all|kill-job[;trid=N]`, `query-abort`/`scan-abort`
//! (`:trid=N|id=N`) and `query-abort-all`/`scan-abort-all`. Mirrors aerospike-server
//! `as/src/query/query_manager.c` and the job parts of `thr_info.c`.
//!
//! A job this node does not know answers `ERROR:2:job not found`, which the clients read as
//! "finished" (the reference server forgets finished jobs after a while, too).

use aerie_proto::info::param;
use aerie_transaction::jobs;

fn job_id(args: &str) -> Option<Result<u64, ()>> {
    let v = param(args, "id").or_else(|| param(args, "trid"))?;
    Some(v.parse().map_err(|_| ()))
}

/// `query-show` / `scan-show`: one job, or every listed job (`;`-separated).
pub fn show(args: &str) -> String {
    match job_id(args) {
        None => jobs::registry()
            .list()
            .iter()
            .map(|j| j.describe())
            .collect::<Vec<_>>()
            .join(";"),
        Some(Err(())) => "ERROR:4:invalid id".to_owned(),
        Some(Ok(id)) => match jobs::registry().get(id) {
            Some(j) => j.describe(),
            None => "ERROR:2:job not found".to_owned(),
        },
    }
}

/// `query-abort` / `scan-abort`.
pub fn abort(args: &str) -> String {
    match job_id(args) {
        None => "ERROR:4:missing id".to_owned(),
        Some(Err(())) => "ERROR:4:invalid id".to_owned(),
        Some(Ok(id)) => match jobs::registry().get(id).filter(|j| !j.is_done()) {
            Some(j) => {
                j.abort();
                "OK".to_owned()
            }
            None => "ERROR:2:job not active".to_owned(),
        },
    }
}

/// `query-abort-all` / `scan-abort-all`.
pub fn abort_all() -> String {
    let n = jobs::registry().abort_all();
    format!("OK - number of queries killed: {n}")
}

/// The legacy `jobs:` command.
pub fn legacy(args: &str) -> String {
    match param(args, "cmd") {
        None | Some("get-all") => show(""),
        Some("get-job") => show(args),
        Some("kill-job") => abort(args),
        Some(_) => "ERROR:4:unknown cmd".to_owned(),
    }
}
