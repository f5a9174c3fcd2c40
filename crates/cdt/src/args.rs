//! The arguments of one CDT op (`[op_id, arg…]` after the id), with the typed accessors the
//! server's parameter table implies: index (signed), count/flags (unsigned), payload (any value),
//! storage (a value without wildcard or infinity).

use crate::msgpack::Value;
use crate::Error;

/// Decoded op arguments.
#[derive(Debug)]
pub struct Args(pub Vec<Value>);

impl Args {
    /// Checks the argument count against the op's required and total parameter counts.
    pub fn count(&self, required: usize, total: usize) -> Result<(), Error> {
        let n = self.0.len();
        if n < required || n > total {
            return Err(Error::Parameter);
        }
        Ok(())
    }

    /// Argument `i`, if given.
    pub fn opt(&self, i: usize) -> Option<&Value> {
        self.0.get(i)
    }

    /// A signed integer argument.
    pub fn int(&self, i: usize) -> Result<i64, Error> {
        match self.0.get(i) {
            Some(Value::Int(x)) => Ok(*x),
            _ => Err(Error::Parameter),
        }
    }

    /// An unsigned integer argument (negative integers wrap, as the server reads them).
    pub fn uint(&self, i: usize) -> Result<u64, Error> {
        match self.0.get(i) {
            Some(Value::Int(x)) => Ok(*x as u64),
            Some(Value::Uint(x)) => Ok(*x),
            _ => Err(Error::Parameter),
        }
    }

    /// An unsigned argument with a default when absent.
    pub fn uint_or(&self, i: usize, default: u64) -> Result<u64, Error> {
        if self.0.len() <= i {
            return Ok(default);
        }
        self.uint(i)
    }

    /// Any value.
    pub fn payload(&self, i: usize) -> Result<&Value, Error> {
        self.0.get(i).ok_or(Error::Parameter)
    }

    /// A value that may be stored.
    pub fn storage(&self, i: usize) -> Result<&Value, Error> {
        let v = self.payload(i)?;
        if v.has_nonstorage() {
            return Err(Error::Parameter);
        }
        Ok(v)
    }
}
