//! Query parameters and path keys: `keytype`, `bins`, and the gateway's policy parameters
//! (`recordExistsAction`, `generationPolicy`, `generation`, `expiration`, `durableDelete`,
//! `sendKey`, `respondAllOps`), turned into `as_msg` header bits and fields.

use aerie_proto::msg::{field, info1, info2, info3};
use aerie_proto::MsgHeader;
use aerie_record::{compute_digest, particle, DIGEST_SIZE};
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::error::RestError;

/// The decoded query string; keys may repeat (`bins=a&bins=b`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Self, RestError> {
        match raw {
            None | Some("") => Ok(Self::default()),
            Some(q) => serde_urlencoded::from_str(q)
                .map(Self)
                .map_err(|e| RestError::bad_request(format!("bad query string: {e}"))),
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter; comma-separated values are split too.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn flag(&self, k: &str) -> Result<bool, RestError> {
        match self.get(k) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
            Some(v) => Err(RestError::bad_request(format!(
                "{k}: expected true or false, got {v:?}"
            ))),
        }
    }

    pub fn int<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, RestError> {
        self.get(k)
            .map(|v| {
                v.parse()
                    .map_err(|_| RestError::bad_request(format!("{k}: not a number: {v:?}")))
            })
            .transpose()
    }
}

/// A record key as the REST API names it.
#[derive(Debug, Clone, PartialEq)]
pub enum UserKey {
    Str(String),
    Int(i64),
    Bytes(Vec<u8>),
    Digest([u8; DIGEST_SIZE]),
}

impl UserKey {
    /// Decodes a key by its `keytype` (STRING by default, INTEGER, BYTES or DIGEST; bytes and
    /// digests in URL-safe or standard base64).
    pub fn parse(key: &str, keytype: Option<&str>) -> Result<Self, RestError> {
        match keytype.map(str::to_ascii_uppercase).as_deref() {
            None | Some("STRING") => Ok(Self::Str(key.to_owned())),
            Some("INTEGER") => key
                .parse()
                .map(Self::Int)
                .map_err(|_| RestError::bad_request(format!("key {key:?} is not an integer"))),
            Some("BYTES") => b64(key).map(Self::Bytes),
            Some("DIGEST") => {
                let d = b64(key)?;
                <[u8; DIGEST_SIZE]>::try_from(d.as_slice())
                    .map(Self::Digest)
                    .map_err(|_| RestError::bad_request("a digest is 20 bytes"))
            }
            Some(other) => Err(RestError::bad_request(format!("unknown keytype {other:?}"))),
        }
    }

    /// A key given in a JSON body: a string, an integer, or `{"userKey", "keyType"}` fields.
    pub fn from_json(v: &serde_json::Value, keytype: Option<&str>) -> Result<Self, RestError> {
        match v {
            serde_json::Value::String(s) => Self::parse(s, keytype),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Self::Int)
                .ok_or_else(|| RestError::bad_request("integer keys fit 64 bits")),
            _ => Err(RestError::bad_request("a key is a string or an integer")),
        }
    }

    /// The particle type and bytes sent in the KEY field (none for a digest).
    fn particle(&self) -> Option<(u8, Vec<u8>)> {
        match self {
            Self::Str(s) => Some((particle::STRING, s.as_bytes().to_vec())),
            Self::Int(i) => Some((particle::INTEGER, i.to_be_bytes().to_vec())),
            Self::Bytes(b) => Some((particle::BLOB, b.clone())),
            Self::Digest(_) => None,
        }
    }
}

fn b64(s: &str) -> Result<Vec<u8>, RestError> {
    URL_SAFE
        .decode(s)
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .or_else(|_| STANDARD.decode(s))
        .map_err(|_| RestError::bad_request(format!("{s:?} is not base64")))
}

/// The namespace, set and digest fields for a key (the key itself only with `send_key`).
pub fn key_fields(ns: &str, set: &str, key: &UserKey, send_key: bool) -> Vec<(u8, Vec<u8>)> {
    let mut f = vec![(field::NAMESPACE, ns.as_bytes().to_vec())];
    if !set.is_empty() {
        f.push((field::SET, set.as_bytes().to_vec()));
    }
    let digest = match (key, key.particle()) {
        (UserKey::Digest(d), _) => *d,
        (_, Some((t, b))) => {
            if send_key {
                let mut k = vec![t];
                k.extend_from_slice(&b);
                f.push((field::KEY, k));
            }
            compute_digest(set.as_bytes(), t, &b)
        }
        (_, None) => [0; DIGEST_SIZE],
    };
    f.push((field::DIGEST, digest.to_vec()));
    f
}

/// What a write does when the record exists or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistsAction {
    Update,
    UpdateOnly,
    Replace,
    ReplaceOnly,
    CreateOnly,
}

/// A read: all bins, or the `bins` named.
pub fn read_header(p: &Params) -> MsgHeader {
    MsgHeader {
        info1: info1::READ
            | if p.all("bins").is_empty() {
                info1::GET_ALL
            } else {
                0
            },
        ..MsgHeader::default()
    }
}

/// A write header from the policy parameters; `action` applies unless `recordExistsAction`
/// overrides it.
pub fn write_header(p: &Params, action: ExistsAction) -> Result<MsgHeader, RestError> {
    let action = match p
        .get("recordExistsAction")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None => action,
        Some("UPDATE") => ExistsAction::Update,
        Some("UPDATE_ONLY") => ExistsAction::UpdateOnly,
        Some("REPLACE") => ExistsAction::Replace,
        Some("REPLACE_ONLY") => ExistsAction::ReplaceOnly,
        Some("CREATE_ONLY") => ExistsAction::CreateOnly,
        Some(o) => {
            return Err(RestError::bad_request(format!(
                "unknown recordExistsAction {o:?}"
            )))
        }
    };
    let mut h = MsgHeader {
        info2: info2::WRITE,
        ..MsgHeader::default()
    };
    match action {
        ExistsAction::Update => {}
        ExistsAction::UpdateOnly => h.info3 |= info3::UPDATE_ONLY,
        ExistsAction::Replace => h.info3 |= info3::CREATE_OR_REPLACE,
        ExistsAction::ReplaceOnly => h.info3 |= info3::REPLACE_ONLY,
        ExistsAction::CreateOnly => h.info2 |= info2::CREATE_ONLY,
    }
    apply_common_write(p, &mut h)?;
    Ok(h)
}

/// Generation check, expiration, durable delete.
pub fn apply_common_write(p: &Params, h: &mut MsgHeader) -> Result<(), RestError> {
    match p
        .get("generationPolicy")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("NONE") => {}
        Some("EXPECT_GEN_EQUAL") => h.info2 |= info2::GENERATION,
        Some("EXPECT_GEN_GT") => h.info2 |= info2::GENERATION_GT,
        Some(o) => {
            return Err(RestError::bad_request(format!(
                "unknown generationPolicy {o:?}"
            )))
        }
    }
    if let Some(g) = p.int::<u32>("generation")? {
        h.generation = g;
    }
    if let Some(e) = p.int::<i64>("expiration")? {
        // -1 never expires, -2 keeps the current TTL (the clients' conventions).
        h.record_ttl = match e {
            -1 => u32::MAX,
            -2 => u32::MAX - 1,
            e => u32::try_from(e).map_err(|_| RestError::bad_request("expiration out of range"))?,
        };
    }
    if p.flag("durableDelete")? {
        h.info2 |= info2::DURABLE_DELETE;
    }
    if p.flag("respondAllOps")? {
        h.info2 |= info2::RESPOND_ALL_OPS;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_type() {
        assert_eq!(
            UserKey::parse("7", Some("INTEGER")).ok(),
            Some(UserKey::Int(7))
        );
        assert_eq!(
            UserKey::parse("7", None).ok(),
            Some(UserKey::Str("7".into()))
        );
        assert!(UserKey::parse("x", Some("INTEGER")).is_err());
        assert!(UserKey::parse("AAAA", Some("DIGEST")).is_err());
        assert!(UserKey::parse("x", Some("FLOAT")).is_err());
        assert_eq!(
            UserKey::parse("AQI", Some("BYTES")).ok(),
            Some(UserKey::Bytes(vec![1, 2]))
        );
    }

    #[test]
    fn repeated_and_comma_bins() {
        let p = Params::parse(Some("bins=a&bins=b,c&keytype=STRING")).unwrap_or_default();
        assert_eq!(p.all("bins"), vec!["a", "b", "c"]);
        assert!(
            Params::parse(Some("generation=x")).is_ok_and(|p| p.int::<u32>("generation").is_err())
        );
    }
}
