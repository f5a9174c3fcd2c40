//! The record-UDF workloads: `UDF` applies a Lua increment to one bin of a random key, `OI`
//! does the same with an operate (INCR and READ of that bin), so the two can be compared
//! directly. The module is registered with `udf-put` before the first UDF stage.

use std::time::{Duration, Instant};

use crate::conn::Conn;

/// Module and function the `UDF` workload applies.
pub const PACKAGE: &str = "aerie_bench";
pub const FUNCTION: &str = "incr";
/// The bin both workloads increment.
pub const BIN: &[u8] = b"udfbin";

const SOURCE: &str = r#"
function incr(rec, bin, n)
  local v = rec[bin]
  if v == nil then
    rec[bin] = n
    if aerospike:exists(rec) then aerospike:update(rec) else aerospike:create(rec) end
  else
    rec[bin] = v + n
    aerospike:update(rec)
  end
  return rec[bin]
end
"#;

/// The argument list `["udfbin", 1]`, msgpack-encoded as clients do (a string carries its
/// particle type, 3, as its first byte).
pub const ARGS_MSGPACK: &[u8] = &[0x92, 0xa7, 3, b'u', b'd', b'f', b'b', b'i', b'n', 0x01];

/// Registers the module and waits until the node lists it.
pub async fn register(conn: &mut Conn) -> Result<(), String> {
    let content = base64(SOURCE.as_bytes());
    let put = format!(
        "udf-put:filename={PACKAGE}.lua;content={content};content-len={};udf-type=LUA;",
        content.len()
    );
    let reply = conn
        .info(&[&put])
        .await
        .map_err(|e| format!("udf-put failed: {e}"))?;
    if reply.contains("error=") {
        return Err(format!("udf-put refused: {}", reply.trim()));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = conn
            .info(&["udf-list"])
            .await
            .map_err(|e| format!("udf-list failed: {e}"))?;
        if list.contains(&format!("filename={PACKAGE}.lua")) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err("the UDF module was not listed within 10 s".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
