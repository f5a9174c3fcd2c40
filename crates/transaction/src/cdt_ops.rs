//! Collection (list/map), bitwise and HyperLogLog ops: op types 3/4 (CDT read/modify),
//! 12/13 (bit read/modify) and 15/16 (HLL read/modify), routed to `aerie-cdt`.
//!
//! Inside a write request each such op yields at most one result slot (always one under
//! RESPOND_ALL_OPS, a nil when there is no value), like the server's `write_master_bin_ops`.
//! A pure read request carrying any of them takes the general read path
//! (`exp_ops::execute_read`), which computes every result before the reply header is written,
//! so that a failing op turns into a header-only error reply. Plain reads never come here.

use std::borrow::Cow;

use aerie_proto::msg::op;
use aerie_proto::{Op, ResultCode};
use aerie_record::bins::FlatBins;

/// A result value: particle type and bytes.
pub type OpValue = (u8, Vec<u8>);

/// Path expressions evaluate their filters without the record's digest (loop variables and
/// bins only), as the reference server evaluates them against metadata.
const NO_DIGEST: aerie_record::Digest = [0; aerie_record::DIGEST_SIZE];

/// Whether `op_type` is a CDT/bit/HLL read.
pub fn is_read(op_type: u8) -> bool {
    matches!(op_type, op::CDT_READ | op::BIT_READ | op::HLL_READ)
}

/// Applies a read op to the bin it names (`None` when the bin is missing: no value).
pub fn read(bin: Option<(u8, &[u8])>, o: &Op<'_>) -> Result<Option<OpValue>, ResultCode> {
    let Some((t, v)) = bin else { return Ok(None) };
    if o.op_type == op::CDT_READ && aerie_exp::path::is_path_op(o.value) {
        let view = aerie_exp::RecordView::new(&NO_DIGEST, aerie_exp::BinSource::None);
        let (result, _) = aerie_exp::path::run_op(Some((t, v)), o.value, true, &view)
            .map_err(aerie_exp::path::PathError::result_code)?;
        return Ok(result.as_ref().and_then(aerie_cdt::value_to_particle));
    }
    let r = match o.op_type {
        op::CDT_READ => aerie_cdt::cdt_read(t, v, o.value),
        op::BIT_READ => aerie_cdt::bits::bits_read(t, v, o.value),
        op::HLL_READ => aerie_cdt::hll::hll_read(t, v, o.value),
        _ => return Err(ResultCode::Parameter),
    };
    r.map_err(aerie_cdt::Error::result_code)
}

/// Applies a modify op to the working bins; on error the bins are left unchanged.
pub fn modify<'b>(bins: &mut FlatBins<'b>, o: &Op<'b>) -> Result<Option<OpValue>, ResultCode> {
    let cur = bins.get(o.name);
    if o.op_type == op::CDT_MODIFY && aerie_exp::path::is_path_op(o.value) {
        let (result, new) = {
            let view = aerie_exp::RecordView::new(&NO_DIGEST, aerie_exp::BinSource::Working(bins));
            aerie_exp::path::run_op(cur, o.value, false, &view)
                .map_err(aerie_exp::path::PathError::result_code)?
        };
        if let Some((t, v)) = new.as_ref().and_then(aerie_cdt::value_to_bin) {
            bins.set(Cow::Borrowed(o.name), t, Cow::Owned(v));
        }
        return Ok(result.as_ref().and_then(aerie_cdt::value_to_particle));
    }
    let (new, result) = match o.op_type {
        op::CDT_MODIFY => aerie_cdt::cdt_modify(cur, o.value),
        op::BIT_MODIFY => aerie_cdt::bits::bits_modify(cur, o.value).map(|b| (b, None)),
        op::HLL_MODIFY => aerie_cdt::hll::hll_modify(cur, o.value),
        _ => return Err(ResultCode::Parameter),
    }
    .map_err(aerie_cdt::Error::result_code)?;
    if let Some((t, v)) = new {
        bins.set(Cow::Borrowed(o.name), t, Cow::Owned(v));
    }
    Ok(result)
}

/// A whole list, map or GeoJSON bin written by a plain write op: lists and maps come back
/// normalized (maps sorted by key, as the server stores them), GeoJSON is validated. `None`
/// for every other particle type, which is stored as sent.
pub fn normalize_write(particle_type: u8, value: &[u8]) -> Result<Option<Vec<u8>>, ResultCode> {
    use aerie_record::particle;
    match particle_type {
        // The server answers an unparseable list/map bin with its generic error.
        particle::LIST | particle::MAP => aerie_cdt::normalize_bin(particle_type, value)
            .map(Some)
            .map_err(|_| ResultCode::ServerError),
        particle::GEOJSON => {
            aerie_cdt::geojson::validate_particle(value).map_err(aerie_cdt::Error::result_code)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerie_cdt::msgpack::{encode, List};
    use aerie_cdt::Value;
    use aerie_record::particle;

    fn list_op(items: Vec<Value>) -> Vec<u8> {
        encode(&Value::List(List::new(0, items)))
    }

    fn op_of<'a>(op_type: u8, name: &'a [u8], value: &'a [u8]) -> Op<'a> {
        Op {
            op_type,
            particle_type: particle::BLOB,
            flags: 0,
            name,
            value,
        }
    }

    #[test]
    fn modify_then_read_through_working_bins() -> Result<(), ResultCode> {
        let append = list_op(vec![Value::Int(1), Value::Int(7)]);
        let size = list_op(vec![Value::Int(16)]);
        let mut bins = FlatBins::default();
        let r = modify(&mut bins, &op_of(op::CDT_MODIFY, b"l", &append))?;
        assert_eq!(r, Some((particle::INTEGER, 1i64.to_be_bytes().to_vec())));
        let r = read(bins.get(b"l"), &op_of(op::CDT_READ, b"l", &size))?;
        assert_eq!(r, Some((particle::INTEGER, 1i64.to_be_bytes().to_vec())));
        assert_eq!(read(None, &op_of(op::CDT_READ, b"x", &size))?, None);
        // A failing op maps to its result code and leaves the bins alone.
        bins.set(Cow::Borrowed(b"s"), particle::STRING, Cow::Borrowed(b"str"));
        assert_eq!(
            modify(&mut bins, &op_of(op::CDT_MODIFY, b"s", &append)),
            Err(ResultCode::IncompatibleType)
        );
        assert_eq!(bins.get(b"s"), Some((particle::STRING, &b"str"[..])));
        assert_eq!(
            modify(&mut bins, &op_of(op::CDT_MODIFY, b"l", &[0xc1])),
            Err(ResultCode::Parameter)
        );
        Ok(())
    }

    #[test]
    fn whole_bin_writes_are_normalized_or_refused() -> Result<(), ResultCode> {
        let unsorted = encode(&Value::Map(aerie_cdt::Map::new(
            0,
            vec![
                (Value::string("b"), Value::Int(1)),
                (Value::string("a"), Value::Int(2)),
            ],
        )));
        let sorted = encode(&Value::Map(aerie_cdt::Map::new(
            0,
            vec![
                (Value::string("a"), Value::Int(2)),
                (Value::string("b"), Value::Int(1)),
            ],
        )));
        assert_eq!(normalize_write(particle::MAP, &unsorted)?, Some(sorted));
        assert_eq!(normalize_write(particle::INTEGER, &[0; 8])?, None);
        assert_eq!(
            normalize_write(particle::LIST, &[0x92, 0x01]),
            Err(ResultCode::ServerError)
        );
        let bad_geo = b"\x00\x00\x00{\"type\":\"Point\",\"coordinates\":[999,0]}";
        assert_eq!(
            normalize_write(particle::GEOJSON, bad_geo),
            Err(ResultCode::GeoInvalidGeoJson)
        );
        Ok(())
    }
}
