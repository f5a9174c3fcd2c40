//! The UDF pool: where record UDF requests run, so that long Lua work cannot starve the service
//! threads (new connections, info and short reads keep being answered while UDFs run).
//!
//! Owns: the bound on how many record UDF requests execute at once ([`Pool::new`]; the service
//! sizes it to `service-threads`, so a node never runs more Lua than it has service threads,
//! and requests beyond the bound queue without holding a thread), and running
//! one on a blocking thread while the connection's task awaits it. Which requests are record
//! UDFs is the transaction layer's call (`aerie_transaction::runs_record_udf`).

use std::sync::Arc;

use aerie_namespace::Registry;
use tokio::sync::Semaphore;

/// A bounded set of slots for record UDF requests. Requests beyond the bound wait for a slot
/// without holding a thread.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Arc<Semaphore>,
}

impl Pool {
    /// A pool running at most `size` record UDF requests at once (at least one).
    pub(crate) fn new(size: usize) -> Self {
        Pool {
            slots: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// Executes the request `body` on a blocking thread once a slot is free and appends its
    /// whole reply to `out`.
    pub(crate) async fn dispatch(&self, registry: &Arc<Registry>, body: &[u8], out: &mut Vec<u8>) {
        let Ok(_slot) = self.slots.clone().acquire_owned().await else {
            // The semaphore is never closed; answer inline rather than drop the request.
            aerie_transaction::dispatch(registry, body, out);
            return;
        };
        let registry = registry.clone();
        let body = body.to_vec();
        let run = tokio::task::spawn_blocking(move || {
            let mut reply = Vec::new();
            aerie_transaction::dispatch(&registry, &body, &mut reply);
            reply
        });
        match run.await {
            Ok(reply) => out.extend_from_slice(&reply),
            Err(e) => tracing::error!("record UDF request failed: {e}"),
        }
    }
}
