//! Wires access control into the service: opens the security state from `security { }`, and
//! checks each `as_msg` request (a batch row by row) before it runs or is proxied.
//!
//! Users and roles are saved in an `smd` directory beside the first namespace's first storage
//! file (so they persist exactly when data does); a configuration that persists no namespace
//! keeps them in memory, and every node then starts from `admin`/`admin`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use aerie_config::{Config, StorageEngineConfig};
use aerie_proto::msg::{field, info1, info3};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode};
use aerie_security::{ConnAuth, Security};

/// The security state, or `None` when the configuration has no `security { }` stanza.
pub fn open(config: &Config) -> Result<Option<Arc<Security>>, String> {
    let Some(sc) = &config.security else {
        return Ok(None);
    };
    let dir = smd_dir(config);
    let security = Security::open(sc, dir.as_deref())?;
    tracing::info!(
        persisted = dir.is_some(),
        session_ttl_secs = sc.session_ttl_secs,
        enable_quotas = sc.enable_quotas,
        "security enabled"
    );
    Ok(Some(Arc::new(security)))
}

/// Whether the request in `body` may run. When it may not, the refusal (one message carrying
/// the result code, marked last so stream readers stop) is appended to `out`.
pub fn authorize_msg(
    security: &Security,
    auth: &mut ConnAuth,
    peer: IpAddr,
    body: &[u8],
    out: &mut Vec<u8>,
) -> bool {
    let result = match Msg::parse(body) {
        Err(_) => Err(ResultCode::Parameter),
        Ok(msg) if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) => {
            aerie_transaction::for_each_batch_row(&msg, &mut |row| {
                security.check_msg(auth, peer, row)
            })
        }
        Ok(msg) => security.check_msg(auth, peer, &msg),
    };
    match result {
        Ok(()) => true,
        Err(rc) => {
            let mut w = MsgWriter::begin(out, ProtoType::Msg);
            w.header(&MsgHeader {
                info3: info3::LAST,
                result_code: rc.code(),
                ..Default::default()
            });
            w.finish();
            false
        }
    }
}

fn smd_dir(config: &Config) -> Option<PathBuf> {
    config.namespaces.iter().find_map(|ns| {
        let file = match &ns.storage {
            StorageEngineConfig::Memory(m) => m.files.first(),
            StorageEngineConfig::Device(d) => d.files.first(),
        }?;
        Some(PathBuf::from(file).parent()?.join("smd"))
    })
}

/// Answers an admin message off the async runtime (login and password changes run bcrypt),
/// and sends a change to users or roles to the other nodes.
pub async fn admin(
    security: &Arc<Security>,
    auth: &mut ConnAuth,
    peer: IpAddr,
    body: &[u8],
    out: &mut Vec<u8>,
    cluster: &Arc<aerie_cluster::Cluster>,
) {
    let command = body.get(2).copied().unwrap_or_default();
    let (sec, body, mut conn) = (security.clone(), body.to_vec(), std::mem::take(auth));
    let done = tokio::task::spawn_blocking(move || {
        let mut reply = Vec::new();
        let smd = sec.handle_admin(&mut conn, peer, &body, &mut reply);
        (conn, reply, smd)
    })
    .await;
    match done {
        Ok((conn, reply, smd)) => {
            *auth = conn;
            out.extend_from_slice(&reply);
            if let Some(entry) = smd {
                cluster.broadcast_smd(entry);
            }
        }
        Err(e) => {
            tracing::error!(%peer, "admin command failed: {e}");
            aerie_proto::admin::write_reply(out, ResultCode::ServerError, command);
        }
    }
}
