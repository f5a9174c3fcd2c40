//! `POST /v1/operate/{ns}/{set}/{key}` (and `/v1/operate/{ns}/{key}`): a list of gateway
//! operations, `[{"operation": "ADD", "opValues": {"bin": "a", "incr": 1}}, ...]`, run as one
//! atomic operate command. Record ops map to the wire's READ/WRITE/INCR/APPEND/PREPEND/TOUCH/
//! DELETE ops; `LIST_*` and `MAP_*` ops to CDT ops (msgpack `[op, args...]`, wrapped in a
//! context when `opValues.ctx` is given). The answer is the record (`bins`, `generation`,
//! `ttl`), with each op's result under its bin.

use std::sync::Arc;

use aerie_cdt::list::op as lop;
use aerie_cdt::map::op as mop;
use aerie_cdt::msgpack;
use aerie_cdt::{List, Value};
use aerie_info::NodeContext;
use aerie_proto::msg::{info1, info2, op};
use aerie_proto::MsgHeader;
use aerie_record::particle;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value as Json;

use super::body;
use super::error::RestError;
use super::kvs::{respond, Address};
use super::params::{self, Params};
use super::txn::{Command, OpSpec};
use super::value::{json_to_cdt, json_to_particle};

type Ctx = State<Arc<NodeContext>>;

/// Most operations accepted in one request.
pub const MAX_OPS: usize = 256;

pub async fn operate_with_set(
    State(ctx): Ctx,
    Path((ns, set, key)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = operate(&ctx, ns, set, &key, q.as_deref(), &headers, &bytes).await;
    respond(&headers, r)
}

pub async fn operate_no_set(
    State(ctx): Ctx,
    Path((ns, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = operate(
        &ctx,
        ns,
        String::new(),
        &key,
        q.as_deref(),
        &headers,
        &bytes,
    )
    .await;
    respond(&headers, r)
}

async fn operate(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let list = match body::decode(headers, bytes)? {
        Json::Array(a) => a,
        Json::Object(mut o) => match o.remove("opsList").or_else(|| o.remove("operations")) {
            Some(Json::Array(a)) => a,
            _ => return Err(RestError::bad_request("the body is a list of operations")),
        },
        _ => return Err(RestError::bad_request("the body is a list of operations")),
    };
    if list.is_empty() || list.len() > MAX_OPS {
        return Err(RestError::bad_request(format!(
            "an operate request carries 1 to {MAX_OPS} operations"
        )));
    }
    let mut header = MsgHeader::default();
    let mut ops = Vec::with_capacity(list.len());
    for o in &list {
        translate(o, &mut header, &mut ops)?;
    }
    if header.info2 & info2::WRITE != 0 {
        params::apply_common_write(&p, &mut header)?;
        if p.get("recordExistsAction").is_some() {
            let h = params::write_header(&p, params::ExistsAction::Update)?;
            header.info2 |= h.info2;
            header.info3 |= h.info3;
        }
    }
    let cmd = Command {
        header,
        fields: addr.fields(&p)?,
        ops,
    };
    let rec = cmd.run(ctx, "operate").await?;
    Ok((StatusCode::OK, rec.to_json()))
}

/// One gateway operation into header bits and wire ops.
pub fn translate(o: &Json, h: &mut MsgHeader, ops: &mut Vec<OpSpec>) -> Result<(), RestError> {
    let name = o
        .get("operation")
        .or_else(|| o.get("type"))
        .and_then(Json::as_str)
        .ok_or_else(|| RestError::bad_request("each operation names its \"operation\""))?
        .to_ascii_uppercase();
    let empty = Json::Object(serde_json::Map::new());
    let v = o.get("opValues").unwrap_or(o);
    let v = if v.is_object() { v } else { &empty };
    let bin = || -> Result<String, RestError> {
        v.get("bin")
            .or_else(|| v.get("binName"))
            .and_then(Json::as_str)
            .map(str::to_owned)
            .ok_or_else(|| RestError::bad_request(format!("{name}: \"bin\" is required")))
    };
    let need = |k: &str| -> Result<&Json, RestError> {
        v.get(k)
            .ok_or_else(|| RestError::bad_request(format!("{name}: \"{k}\" is required")))
    };
    let cdt = |k: &str| -> Result<Value, RestError> {
        json_to_cdt(need(k)?, 0).map_err(RestError::bad_request)
    };
    let int = |k: &str| -> Result<Value, RestError> {
        need(k)?
            .as_i64()
            .map(Value::Int)
            .ok_or_else(|| RestError::bad_request(format!("{name}: \"{k}\" is an integer")))
    };
    let opt_int = |k: &str| v.get(k).and_then(Json::as_i64).map(Value::Int);
    let rtype = |k: &str| -> Result<Value, RestError> {
        return_type(v.get(k).and_then(Json::as_str).unwrap_or("VALUE")).map(Value::Int)
    };
    let ctx = v.get("ctx").filter(|c| !c.is_null());
    let write = |h: &mut MsgHeader| h.info2 |= info2::WRITE;
    let read = |h: &mut MsgHeader| h.info1 |= info1::READ;
    let mut push_cdt = |h: &mut MsgHeader, modify: bool, code: u64, args: Vec<Value>| {
        let payload = cdt_payload(ctx, code, args)?;
        if modify {
            write(h);
        } else {
            read(h);
        }
        let op_type = if modify { op::CDT_MODIFY } else { op::CDT_READ };
        ops.push(OpSpec::new(op_type, particle::BLOB, &bin()?, payload));
        Ok::<(), RestError>(())
    };
    match name.as_str() {
        "GET" => h.info1 |= info1::READ | info1::GET_ALL,
        "GET_HEADER" => h.info1 |= info1::READ | info1::GET_NO_BINS,
        "READ" => {
            read(h);
            ops.push(OpSpec::new(op::READ, particle::NULL, &bin()?, Vec::new()));
        }
        "PUT" | "ADD" | "APPEND" | "PREPEND" => {
            let value = need(if name == "ADD" { "incr" } else { "value" })?;
            let (t, b) = json_to_particle(value).map_err(RestError::bad_request)?;
            let code = match name.as_str() {
                "PUT" => op::WRITE,
                "ADD" => op::INCR,
                "APPEND" => op::APPEND,
                _ => op::PREPEND,
            };
            write(h);
            ops.push(OpSpec::new(code, t, &bin()?, b));
        }
        "TOUCH" => {
            write(h);
            ops.push(OpSpec::new(op::TOUCH, particle::NULL, "", Vec::new()));
        }
        "DELETE" => {
            write(h);
            ops.push(OpSpec::new(op::DELETE, particle::NULL, "", Vec::new()));
        }
        "LIST_APPEND" => push_cdt(h, true, lop::APPEND, vec![cdt("value")?])?,
        "LIST_APPEND_ITEMS" => push_cdt(h, true, lop::APPEND_ITEMS, vec![cdt("values")?])?,
        "LIST_INSERT" => push_cdt(h, true, lop::INSERT, vec![int("index")?, cdt("value")?])?,
        "LIST_INSERT_ITEMS" => push_cdt(
            h,
            true,
            lop::INSERT_ITEMS,
            vec![int("index")?, cdt("values")?],
        )?,
        "LIST_SET" => push_cdt(h, true, lop::SET, vec![int("index")?, cdt("value")?])?,
        "LIST_INCREMENT" => {
            let incr = v.get("incr").map_or(Ok(Value::Int(1)), |j| {
                json_to_cdt(j, 0).map_err(RestError::bad_request)
            })?;
            push_cdt(h, true, lop::INCREMENT, vec![int("index")?, incr])?
        }
        "LIST_POP" => push_cdt(h, true, lop::POP, vec![int("index")?])?,
        "LIST_POP_RANGE" => push_cdt(
            h,
            true,
            lop::POP_RANGE,
            index_count(int("index")?, opt_int("count")),
        )?,
        "LIST_REMOVE" => push_cdt(h, true, lop::REMOVE, vec![int("index")?])?,
        "LIST_REMOVE_RANGE" => push_cdt(
            h,
            true,
            lop::REMOVE_RANGE,
            index_count(int("index")?, opt_int("count")),
        )?,
        "LIST_TRIM" => push_cdt(h, true, lop::TRIM, vec![int("index")?, int("count")?])?,
        "LIST_CLEAR" => push_cdt(h, true, lop::CLEAR, vec![])?,
        "LIST_SORT" => push_cdt(
            h,
            true,
            lop::SORT,
            vec![opt_int("sortFlags").unwrap_or(Value::Int(0))],
        )?,
        "LIST_SIZE" => push_cdt(h, false, lop::SIZE, vec![])?,
        "LIST_GET" => push_cdt(h, false, lop::GET, vec![int("index")?])?,
        "LIST_GET_RANGE" => push_cdt(
            h,
            false,
            lop::GET_RANGE,
            index_count(int("index")?, opt_int("count")),
        )?,
        "LIST_GET_BY_INDEX" => push_cdt(
            h,
            false,
            lop::GET_BY_INDEX,
            vec![rtype("listReturnType")?, int("index")?],
        )?,
        "LIST_GET_BY_INDEX_RANGE" => {
            let mut a = vec![rtype("listReturnType")?, int("index")?];
            a.extend(opt_int("count"));
            push_cdt(h, false, lop::GET_BY_INDEX_RANGE, a)?
        }
        "LIST_GET_BY_RANK" => push_cdt(
            h,
            false,
            lop::GET_BY_RANK,
            vec![rtype("listReturnType")?, int("rank")?],
        )?,
        "LIST_GET_BY_RANK_RANGE" => {
            let mut a = vec![rtype("listReturnType")?, int("rank")?];
            a.extend(opt_int("count"));
            push_cdt(h, false, lop::GET_BY_RANK_RANGE, a)?
        }
        "LIST_GET_BY_VALUE" => push_cdt(
            h,
            false,
            lop::GET_ALL_BY_VALUE,
            vec![rtype("listReturnType")?, cdt("value")?],
        )?,
        "LIST_GET_BY_VALUE_LIST" => push_cdt(
            h,
            false,
            lop::GET_ALL_BY_VALUE_LIST,
            vec![rtype("listReturnType")?, cdt("values")?],
        )?,
        "LIST_GET_BY_VALUE_RANGE" => push_cdt(
            h,
            false,
            lop::GET_BY_VALUE_INTERVAL,
            vec![
                rtype("listReturnType")?,
                begin_end(v, "valueBegin")?,
                begin_end(v, "valueEnd")?,
            ],
        )?,
        "LIST_REMOVE_BY_INDEX" => push_cdt(
            h,
            true,
            lop::REMOVE_BY_INDEX,
            vec![rtype("listReturnType")?, int("index")?],
        )?,
        "LIST_REMOVE_BY_RANK" => push_cdt(
            h,
            true,
            lop::REMOVE_BY_RANK,
            vec![rtype("listReturnType")?, int("rank")?],
        )?,
        "LIST_REMOVE_BY_VALUE" => push_cdt(
            h,
            true,
            lop::REMOVE_ALL_BY_VALUE,
            vec![rtype("listReturnType")?, cdt("value")?],
        )?,
        "LIST_REMOVE_BY_VALUE_LIST" => push_cdt(
            h,
            true,
            lop::REMOVE_ALL_BY_VALUE_LIST,
            vec![rtype("listReturnType")?, cdt("values")?],
        )?,
        "MAP_PUT" => push_cdt(h, true, mop::PUT, vec![cdt("key")?, cdt("value")?])?,
        "MAP_PUT_ITEMS" => push_cdt(h, true, mop::PUT_ITEMS, vec![cdt("map")?])?,
        "MAP_INCREMENT" | "MAP_DECREMENT" => {
            let code = if name == "MAP_INCREMENT" {
                mop::INCREMENT
            } else {
                mop::DECREMENT
            };
            let incr = v.get("incr").map_or(Ok(Value::Int(1)), |j| {
                json_to_cdt(j, 0).map_err(RestError::bad_request)
            })?;
            push_cdt(h, true, code, vec![cdt("key")?, incr])?
        }
        "MAP_CLEAR" => push_cdt(h, true, mop::CLEAR, vec![])?,
        "MAP_SIZE" => push_cdt(h, false, mop::SIZE, vec![])?,
        "MAP_GET_BY_KEY" => push_cdt(
            h,
            false,
            mop::GET_BY_KEY,
            vec![rtype("mapReturnType")?, cdt("key")?],
        )?,
        "MAP_GET_BY_KEY_LIST" => push_cdt(
            h,
            false,
            mop::GET_BY_KEY_LIST,
            vec![rtype("mapReturnType")?, cdt("keys")?],
        )?,
        "MAP_GET_BY_KEY_RANGE" => push_cdt(
            h,
            false,
            mop::GET_BY_KEY_INTERVAL,
            vec![
                rtype("mapReturnType")?,
                begin_end(v, "keyBegin")?,
                begin_end(v, "keyEnd")?,
            ],
        )?,
        "MAP_GET_BY_INDEX" => push_cdt(
            h,
            false,
            mop::GET_BY_INDEX,
            vec![rtype("mapReturnType")?, int("index")?],
        )?,
        "MAP_GET_BY_RANK" => push_cdt(
            h,
            false,
            mop::GET_BY_RANK,
            vec![rtype("mapReturnType")?, int("rank")?],
        )?,
        "MAP_GET_BY_VALUE" => push_cdt(
            h,
            false,
            mop::GET_ALL_BY_VALUE,
            vec![rtype("mapReturnType")?, cdt("value")?],
        )?,
        "MAP_REMOVE_BY_KEY" => push_cdt(
            h,
            true,
            mop::REMOVE_BY_KEY,
            vec![rtype("mapReturnType")?, cdt("key")?],
        )?,
        "MAP_REMOVE_BY_KEY_LIST" => push_cdt(
            h,
            true,
            mop::REMOVE_BY_KEY_LIST,
            vec![rtype("mapReturnType")?, cdt("keys")?],
        )?,
        "MAP_REMOVE_BY_VALUE" => push_cdt(
            h,
            true,
            mop::REMOVE_ALL_BY_VALUE,
            vec![rtype("mapReturnType")?, cdt("value")?],
        )?,
        other => {
            return Err(RestError::bad_request(format!(
                "unsupported operation {other:?}"
            )))
        }
    }
    Ok(())
}

fn index_count(index: Value, count: Option<Value>) -> Vec<Value> {
    let mut a = vec![index];
    a.extend(count);
    a
}

/// A range bound: the given value, or nil (begin) / infinity (end) when absent.
fn begin_end(v: &Json, k: &str) -> Result<Value, RestError> {
    match v.get(k) {
        Some(j) if !j.is_null() => json_to_cdt(j, 0).map_err(RestError::bad_request),
        _ if k.ends_with("End") => Ok(Value::Infinity),
        _ => Ok(Value::Nil),
    }
}

/// The clients' return types for list and map reads and removes.
pub fn return_type(s: &str) -> Result<i64, RestError> {
    let (inverted, s) = match s.strip_suffix("_INVERTED") {
        Some(base) => (0x10000, base),
        None => (0, s),
    };
    let code = match s.to_ascii_uppercase().as_str() {
        "NONE" => 0,
        "INDEX" => 1,
        "REVERSE_INDEX" => 2,
        "RANK" => 3,
        "REVERSE_RANK" => 4,
        "COUNT" => 5,
        "KEY" => 6,
        "VALUE" => 7,
        "KEY_VALUE" => 8,
        "EXISTS" => 13,
        o => return Err(RestError::bad_request(format!("unknown return type {o:?}"))),
    };
    Ok(code | inverted)
}

/// A CDT op value: `[op, args...]`, inside `[0xff, ctx, [op, args...]]` with a context.
pub fn cdt_payload(ctx: Option<&Json>, code: u64, args: Vec<Value>) -> Result<Vec<u8>, RestError> {
    let steps = match ctx {
        None => Vec::new(),
        Some(c) => ctx_values(c)?,
    };
    Ok(cdt_payload_values(steps, code, args))
}

/// As [`cdt_payload`], with the context already as its flat `[type, value, ...]` list
/// (empty: no context).
pub fn cdt_payload_values(steps: Vec<Value>, code: u64, args: Vec<Value>) -> Vec<u8> {
    let mut items = Vec::with_capacity(args.len() + 1);
    items.push(Value::Int(code as i64));
    items.extend(args);
    let inner = Value::List(List::new(0, items));
    if steps.is_empty() {
        return msgpack::encode(&inner);
    }
    msgpack::encode(&Value::List(List::new(
        0,
        vec![Value::Int(0xff), Value::List(List::new(0, steps)), inner],
    )))
}

/// A context as encoded steps (the form a CDT op and a sindex definition both take).
pub fn ctx_to_msgpack(c: &Json) -> Result<Vec<u8>, RestError> {
    Ok(msgpack::encode(&Value::List(List::new(0, ctx_values(c)?))))
}

/// `[{"type": "mapKey", "key": ..}, {"type": "listIndex", "index": ..}, ...]` as the
/// flat `[type, value, ...]` list.
fn ctx_values(c: &Json) -> Result<Vec<Value>, RestError> {
    let Json::Array(steps) = c else {
        return Err(RestError::bad_request("ctx is a list of steps"));
    };
    let mut out = Vec::with_capacity(steps.len() * 2);
    for s in steps {
        let t = s
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(|| RestError::bad_request("each ctx step has a \"type\""))?;
        let (code, field) = match t.to_ascii_lowercase().as_str() {
            "listindex" => (0x10, "index"),
            "listrank" => (0x11, "rank"),
            "listvalue" => (0x13, "value"),
            "mapindex" => (0x20, "index"),
            "maprank" => (0x21, "rank"),
            "mapkey" => (0x22, "key"),
            "mapvalue" => (0x23, "value"),
            o => return Err(RestError::bad_request(format!("unknown ctx type {o:?}"))),
        };
        let v = s
            .get(field)
            .ok_or_else(|| RestError::bad_request(format!("ctx {t} needs \"{field}\"")))?;
        out.push(Value::Int(code));
        out.push(json_to_cdt(v, 0).map_err(RestError::bad_request)?);
    }
    Ok(out)
}
