//! `udf-put`, `udf-get`, `udf-list`, `udf-remove`: module management over info, in the formats
//! the clients parse (a register task waits until `udf-list` shows `filename=<name>`).

use aerie_proto::info::param;
use aerie_udf::PutError;
use base64::Engine as _;

use crate::NodeContext;

/// `udf-put:filename=F;content=B64;content-len=N;udf-type=LUA;`
pub fn put(ctx: &NodeContext, args: &str) -> String {
    let Some(filename) = param(args, "filename") else {
        return "error=invalid_filename".to_owned();
    };
    if let Some(t) = param(args, "udf-type") {
        if !t.eq_ignore_ascii_case("lua") {
            return format!("error=invalid_udf_type;type={t}");
        }
    }
    let content = param(args, "content").unwrap_or("");
    let content_len = match param(args, "content-len").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return "error=invalid_content_len".to_owned(),
    };
    match ctx.udf.put(filename, content, content_len) {
        Ok(()) => {
            tracing::info!(module = filename, "UDF module registered");
            "ok".to_owned()
        }
        Err(PutError::Parameter(m)) => {
            format!("error=invalid_request;file={filename};message={}", b64(&m))
        }
        Err(PutError::Compile { line, message }) => {
            format!(
                "error=compile_error;file={filename};line={line};message={}",
                b64(&message)
            )
        }
    }
}

/// `udf-get:filename=F` → `type=LUA;content=B64;`
pub fn get(ctx: &NodeContext, args: &str) -> String {
    let filename = param(args, "filename").unwrap_or("");
    match ctx.udf.get(filename) {
        Some(m) => format!("type=LUA;content={};", b64_bytes(&m.source)),
        None => "error=not_found".to_owned(),
    }
}

/// `udf-list` → `filename=F,hash=H,type=LUA;…`
pub fn list(ctx: &NodeContext) -> String {
    ctx.udf
        .list()
        .iter()
        .map(|(name, hash)| format!("filename={name},hash={hash},type=LUA;"))
        .collect()
}

/// `udf-remove:filename=F` → `ok`
pub fn remove(ctx: &NodeContext, args: &str) -> String {
    let filename = param(args, "filename").unwrap_or("");
    if ctx.udf.remove(filename) {
        tracing::info!(module = filename, "UDF module removed");
        "ok".to_owned()
    } else {
        "error=not_found".to_owned()
    }
}

fn b64(s: &str) -> String {
    b64_bytes(s.as_bytes())
}

fn b64_bytes(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}
