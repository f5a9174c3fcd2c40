//! Increment arithmetic shared by list and map increment: integer or double, as the stored value
//! is; a missing value starts from zero and takes the delta's type.

use crate::msgpack::Value;
use crate::Error;

/// `cur + delta` (or `cur - delta`). The delta defaults to 1; it must be an integer, a double or
/// nil; the current value must be an integer or a double.
pub fn add(cur: Option<&Value>, delta: Option<&Value>, decrement: bool) -> Result<Value, Error> {
    let (mut di, mut dd, dtype_double) = match delta {
        None | Some(Value::Nil) => (1i64, 1f64, false),
        Some(Value::Int(i)) => (*i, 1f64, false),
        Some(Value::Float(f)) => (1i64, *f, true),
        _ => return Err(Error::Parameter),
    };
    if decrement {
        di = di.wrapping_neg();
        dd = -dd;
    }
    match cur {
        Some(Value::Int(v)) => {
            let add = if dtype_double { dd as i64 } else { di };
            Ok(Value::Int(v.wrapping_add(add)))
        }
        Some(Value::Float(v)) => Ok(Value::Float(v + if dtype_double { dd } else { di as f64 })),
        Some(_) => Err(Error::Parameter),
        None if dtype_double => Ok(Value::Float(dd)),
        None => Ok(Value::Int(di)),
    }
}
