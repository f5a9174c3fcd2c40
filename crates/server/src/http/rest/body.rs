//! Request and response bodies: JSON, or MessagePack when the request says
//! `Content-Type: application/msgpack` (bodies) or `Accept: application/msgpack` (answers).
//! Both decode into the same `serde_json::Value` tree, so every route reads one shape.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;

use super::error::RestError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

const MSGPACK: &str = "application/msgpack";

/// Decodes a request body by its content type. An empty body is `null`.
pub fn decode(headers: &HeaderMap, bytes: &[u8]) -> Result<Json, RestError> {
    if bytes.is_empty() {
        return Ok(Json::Null);
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(RestError::bad_request("request body too large"));
    }
    if is_msgpack(headers.get(header::CONTENT_TYPE)) {
        rmp_serde::from_slice(bytes)
            .map_err(|e| RestError::bad_request(format!("bad msgpack body: {e}")))
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| RestError::bad_request(format!("bad JSON body: {e}")))
    }
}

/// An answer in the format the request asked for.
pub fn reply(headers: &HeaderMap, status: StatusCode, body: &Json) -> Response {
    if is_msgpack(headers.get(header::ACCEPT)) {
        match rmp_serde::to_vec_named(body) {
            Ok(b) => (status, [(header::CONTENT_TYPE, MSGPACK)], b).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// An error answer.
pub fn error(headers: &HeaderMap, e: &RestError) -> Response {
    reply(headers, e.status, &e.body())
}

fn is_msgpack(v: Option<&HeaderValue>) -> bool {
    v.and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains(MSGPACK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with(ct: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        h
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_cleanly(b in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&with("application/json"), &b);
            let _ = decode(&with(MSGPACK), &b);
        }
    }

    #[test]
    fn msgpack_and_json_give_the_same_tree() {
        let j: Json = serde_json::json!({"a": 1, "b": [1.5, "x", true, null], "c": {"d": -7}});
        let packed = rmp_serde::to_vec_named(&j).unwrap_or_default();
        assert_eq!(decode(&with(MSGPACK), &packed).ok(), Some(j.clone()));
        assert_eq!(
            decode(&with("application/json"), j.to_string().as_bytes()).ok(),
            Some(j)
        );
    }
}
