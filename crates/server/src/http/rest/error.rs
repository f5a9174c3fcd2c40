//! REST errors: an HTTP status mapped from the Aerospike result code, and the gateway's error
//! body `{"message", "inDoubt", "internalErrorCode"}`. The mapping is one table,
//! [`status_of`], documented in `docs/rest.md`.

use axum::http::StatusCode;
use serde_json::json;

/// A failed REST request.
#[derive(Debug)]
pub struct RestError {
    pub status: StatusCode,
    /// The Aerospike result code, or -1 for errors of the HTTP layer itself.
    pub code: i32,
    pub message: String,
}

impl RestError {
    /// A malformed request (bad JSON, a missing or ill-typed field, an unknown option).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: i32::from(aerie_proto::ResultCode::Parameter.code()),
            message: message.into(),
        }
    }

    /// The error the transaction layer answered with `code`.
    pub fn from_code(code: u8, context: &str) -> Self {
        Self {
            status: status_of(code),
            code: i32::from(code),
            message: format!("{context}: {} (result code {code})", code_name(code)),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "message": self.message,
            "inDoubt": false,
            "internalErrorCode": self.code,
        })
    }
}

/// The HTTP status for a result code.
pub fn status_of(code: u8) -> StatusCode {
    match code {
        0 => StatusCode::OK,
        // Not found: record, namespace, bin, CDT element, index, UDF.
        2 | 17 | 20 | 23 | 201 => StatusCode::NOT_FOUND,
        // Conflicts: generation, exists, index exists.
        3 | 5 | 6 | 24 | 200 => StatusCode::CONFLICT,
        // The request is wrong.
        4 | 12 | 21 | 26 | 160 => StatusCode::BAD_REQUEST,
        13 => StatusCode::PAYLOAD_TOO_LARGE,
        27 => StatusCode::PRECONDITION_FAILED,
        // Security: not allowed, not supported, not enabled, and the 60..=86 security family.
        22 | 51 | 52 | 60..=79 | 81..=86 => StatusCode::FORBIDDEN,
        80 => StatusCode::UNAUTHORIZED,
        16 | 25 => StatusCode::NOT_IMPLEMENTED,
        9 => StatusCode::GATEWAY_TIMEOUT,
        8 | 11 | 14 | 18 => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A readable name for a result code, after the clients' names.
pub fn code_name(code: u8) -> &'static str {
    match code {
        0 => "OK",
        1 => "SERVER_ERROR",
        2 => "KEY_NOT_FOUND_ERROR",
        3 => "GENERATION_ERROR",
        4 => "PARAMETER_ERROR",
        5 => "KEY_EXISTS_ERROR",
        6 => "BIN_EXISTS_ERROR",
        8 => "SERVER_MEM_ERROR",
        9 => "TIMEOUT",
        11 => "PARTITION_UNAVAILABLE",
        12 => "BIN_TYPE_ERROR",
        13 => "RECORD_TOO_BIG",
        14 => "KEY_BUSY",
        16 => "UNSUPPORTED_FEATURE",
        17 => "BIN_NOT_FOUND",
        20 => "NAMESPACE_NOT_FOUND",
        21 => "BIN_NAME_TOO_LONG",
        22 => "FAIL_FORBIDDEN",
        23 => "ELEMENT_NOT_FOUND",
        24 => "ELEMENT_EXISTS",
        25 => "ENTERPRISE_ONLY",
        26 => "OP_NOT_APPLICABLE",
        27 => "FILTERED_OUT",
        52 => "SECURITY_NOT_ENABLED",
        80 => "NOT_AUTHENTICATED",
        81 => "ROLE_VIOLATION",
        100 => "UDF_BAD_RESPONSE",
        160 => "GEO_INVALID_GEOJSON",
        200 => "INDEX_ALREADY_EXISTS",
        201 => "INDEX_NOT_FOUND",
        _ => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_gateway() {
        assert_eq!(status_of(2), StatusCode::NOT_FOUND);
        assert_eq!(status_of(3), StatusCode::CONFLICT);
        assert_eq!(status_of(5), StatusCode::CONFLICT);
        assert_eq!(status_of(4), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(22), StatusCode::FORBIDDEN);
        assert_eq!(status_of(80), StatusCode::UNAUTHORIZED);
        assert_eq!(status_of(1), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
