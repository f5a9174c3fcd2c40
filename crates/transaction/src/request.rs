//! Decoding what every single-record command needs: namespace, digest, set, key, and the
//! checks common to all of them.

use std::sync::Arc;

use aerie_namespace::{Namespace, Registry};
use aerie_proto::msg::{field, info2};
use aerie_proto::{Msg, ResultCode};
use aerie_record::{compute_digest, particle, Digest, DIGEST_SIZE};

/// A validated single-record request.
#[derive(Debug)]
pub struct Request<'a> {
    pub msg: &'a Msg<'a>,
    pub ns: &'a Arc<Namespace>,
    pub digest: Digest,
    pub set: &'a [u8],
    /// The user key sent with the request: particle type and bytes.
    pub key: Option<(u8, &'a [u8])>,
    /// The request's own filter expression (field 43), compiled.
    pub own_filter: Option<aerie_exp::Filter>,
    /// A batch parent's filter, for rows without their own.
    pub parent_filter: Option<&'a aerie_exp::Filter>,
}

impl<'a> Request<'a> {
    /// Checks the fields every single-record command carries.
    pub fn new(
        registry: &'a Registry,
        msg: &'a Msg<'a>,
        digest: Option<&Digest>,
        parent_filter: Option<&'a aerie_exp::Filter>,
    ) -> Result<Self, ResultCode> {
        let ns_name = msg
            .fields
            .get(field::NAMESPACE)
            .ok_or(ResultCode::Parameter)?;
        let ns = registry.get(ns_name).ok_or(ResultCode::Namespace)?;
        Self::for_namespace(ns, msg, digest, parent_filter)
    }

    /// As [`Request::new`], with the namespace already found (background jobs).
    pub fn for_namespace(
        ns: &'a Arc<Namespace>,
        msg: &'a Msg<'a>,
        digest: Option<&Digest>,
        parent_filter: Option<&'a aerie_exp::Filter>,
    ) -> Result<Self, ResultCode> {
        let f = &msg.fields;
        if f.has(field::TXN_ID) {
            return Err(ResultCode::UnsupportedFeature);
        }
        // A record UDF names package and function; anything else UDF-shaped is refused.
        if f.has(field::UDF_PACKAGE) != f.has(field::UDF_FUNCTION)
            || f.get(field::UDF_OP).is_some_and(|o| o != [0])
        {
            return Err(ResultCode::Parameter);
        }
        let own_filter = match f.get(field::FILTER_EXP) {
            Some(b) => Some(aerie_exp::Filter::compile(b).map_err(|e| e.result_code())?),
            None => None,
        };
        let set = f.get(field::SET).unwrap_or_default();
        let key = match f.get(field::KEY) {
            Some(k) => {
                let (&t, bytes) = k.split_first().ok_or(ResultCode::Parameter)?;
                // Keys are integers, strings or blobs.
                if !matches!(t, particle::INTEGER | particle::STRING | particle::BLOB) {
                    return Err(ResultCode::Parameter);
                }
                Some((t, bytes))
            }
            None => None,
        };
        let digest = match (digest, f.get(field::DIGEST)) {
            (Some(d), _) => *d,
            (None, Some(d)) => {
                <[u8; DIGEST_SIZE]>::try_from(d).map_err(|_| ResultCode::Parameter)?
            }
            (None, None) => match key {
                Some((t, k)) => compute_digest(set, t, k),
                None => return Err(ResultCode::Parameter),
            },
        };
        Ok(Self {
            msg,
            ns,
            digest,
            set,
            key,
            own_filter,
            parent_filter,
        })
    }

    /// The filter that applies: the request's own, else a batch parent's.
    pub fn filter(&self) -> Option<&aerie_exp::Filter> {
        self.own_filter.as_ref().or(self.parent_filter)
    }

    /// Whether the command writes (put, operate with writes, touch, delete).
    pub fn is_write(&self) -> bool {
        self.msg.header.info2 & info2::WRITE != 0
    }
}
