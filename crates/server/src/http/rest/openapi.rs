//! `/v1/openapi.json`: an OpenAPI 3.0 description of every `/v1` route, built from
//! [`ROUTES`] (path, methods, summary), the list the router in `rest/mod.rs` serves.

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Map as JsonMap, Value as Json};

/// One served path: its methods (lower case) and what it does.
pub struct RouteDoc {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub summary: &'static str,
}

const fn r(
    path: &'static str,
    methods: &'static [&'static str],
    summary: &'static str,
) -> RouteDoc {
    RouteDoc {
        path,
        methods,
        summary,
    }
}

const KVS: &[&str] = &["get", "head", "post", "put", "patch", "delete"];

/// Every `/v1` route the server serves.
pub const ROUTES: &[RouteDoc] = &[
    r("/v1/kvs/{ns}/{set}/{key}", KVS, "Read (GET), test (HEAD), create (POST), replace (PUT), update (PATCH) or delete (DELETE) a record"),
    r("/v1/kvs/{ns}/{key}", KVS, "As /v1/kvs/{ns}/{set}/{key}, for a record in no set"),
    r("/v1/operate/{ns}/{set}/{key}", &["post"], "Run a list of operations on a record, atomically"),
    r("/v1/operate/{ns}/{key}", &["post"], "As /v1/operate/{ns}/{set}/{key}, for a record in no set"),
    r("/v1/batch", &["post"], "Read many records"),
    r("/v1/scan/{ns}", &["get"], "Scan a namespace"),
    r("/v1/scan/{ns}/{set}", &["get"], "Scan a set"),
    r("/v1/query/{ns}", &["post"], "Query a namespace through a secondary index"),
    r("/v1/query/{ns}/{set}", &["post"], "Query a set through a secondary index"),
    r("/v1/index", &["post"], "Create a secondary index"),
    r("/v1/index/{ns}", &["get"], "List a namespace's secondary indexes"),
    r("/v1/index/{ns}/{name}", &["get", "delete"], "Show (GET) or drop (DELETE) a secondary index"),
    r("/v1/truncate/{ns}", &["delete"], "Truncate a namespace"),
    r("/v1/truncate/{ns}/{set}", &["delete"], "Truncate a set"),
    r("/v1/info", &["post"], "Run info commands"),
    r("/v1/execute/udf/{ns}/{set}/{key}", &["post"], "Apply a record UDF"),
    r("/v1/execute/udf/{ns}/{key}", &["post"], "As /v1/execute/udf/{ns}/{set}/{key}, for a record in no set"),
    r("/v1/document/{ns}/{set}/{key}", &["get", "put", "post", "delete"], "Read (GET), set (PUT), append to (POST) or delete (DELETE) the parts of a JSON document a JSONPath selects"),
    r("/v1/namespace", &["get", "post"], "List namespaces (GET) or create one at run time (POST)"),
    r("/v1/namespace/{ns}", &["delete"], "Delete a namespace created at run time"),
    r("/v1/openapi.json", &["get"], "This document"),
];

pub async fn serve() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document().to_string(),
    )
}

/// The OpenAPI document.
pub fn document() -> Json {
    let mut paths = JsonMap::new();
    for route in ROUTES {
        let params: Vec<Json> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut item = JsonMap::new();
        for m in route.methods {
            let ok = match *m {
                "post" if route.path.starts_with("/v1/kvs") => "201",
                "put" | "patch" | "delete" if route.path.starts_with("/v1/kvs") => "204",
                "delete" | "post"
                    if route.path.starts_with("/v1/index")
                        || route.path.starts_with("/v1/truncate") =>
                {
                    "202"
                }
                _ => "200",
            };
            let op_id = format!(
                "{m}{}",
                route
                    .path
                    .trim_start_matches("/v1")
                    .replace(['/', '{', '}', '.'], "_")
            );
            item.insert(
                (*m).to_owned(),
                json!({
                    "summary": route.summary,
                    "operationId": op_id,
                    "parameters": params,
                    "responses": {
                        ok: {"description": "success"},
                        "default": {
                            "description": "an error: HTTP status from the Aerospike result code",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                        }
                    }
                }),
            );
        }
        paths.insert(route.path.to_owned(), Json::Object(item));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Aerie REST API",
            "version": aerie_info::AERIE_VERSION,
            "description": "Aerospike REST gateway paths and shapes, served by the database node itself. Bodies are JSON, or MessagePack with Content-Type/Accept application/msgpack."
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Record": {
                    "type": "object",
                    "properties": {
                        "bins": {"type": "object", "nullable": true},
                        "generation": {"type": "integer"},
                        "ttl": {"type": "integer"}
                    }
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "inDoubt": {"type": "boolean"},
                        "internalErrorCode": {"type": "integer"}
                    }
                }
            }
        }
    })
}
