//! Converting values between the wire (`aerie_cdt::Value`, bin particles) and Lua, in the
//! shapes the prelude (`lua/prelude.lua`) defines for lists, maps, bytes and GeoJSON.

use aerie_cdt::msgpack::{BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_cdt::{List, Map, Value};
use aerie_record::particle;
use mlua::{Lua, Table, Value as LuaValue};

/// Deepest nesting converted; deeper values (or reference cycles) become an error.
const MAX_DEPTH: usize = 64;

/// The prelude's private keys and metatables, looked up once per Lua state.
#[derive(Debug, Clone)]
pub(crate) struct Shapes {
    items: Table,
    count: Table,
    entries: Table,
    size: Table,
    data: Table,
    list_mt: Table,
    map_mt: Table,
    bytes_mt: Table,
    geo_mt: Table,
    rec_mt: Table,
    bins_key: Table,
}

impl Shapes {
    pub(crate) fn load(lua: &Lua) -> mlua::Result<Self> {
        let p: Table = lua.globals().get("__aerie_private")?;
        Ok(Self {
            items: p.get("ITEMS")?,
            count: p.get("COUNT")?,
            entries: p.get("ENTRIES")?,
            size: p.get("SIZE")?,
            data: p.get("DATA")?,
            list_mt: p.get("List_mt")?,
            map_mt: p.get("Map_mt")?,
            bytes_mt: p.get("Bytes_mt")?,
            geo_mt: p.get("Geo_mt")?,
            rec_mt: p.get("Rec_mt")?,
            bins_key: p.get("BINS")?,
        })
    }

    /// A wire value as a Lua value.
    pub(crate) fn make_lua(&self, lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
        self.make_lua_depth(lua, v, 0)
    }

    fn make_lua_depth(&self, lua: &Lua, v: &Value, depth: usize) -> mlua::Result<LuaValue> {
        if depth > MAX_DEPTH {
            return Err(mlua::Error::runtime("value nested too deeply"));
        }
        Ok(match v {
            Value::Nil | Value::Wildcard | Value::Infinity | Value::Ext(..) => LuaValue::Nil,
            Value::Bool(b) => LuaValue::Boolean(*b),
            Value::Int(i) => LuaValue::Integer(*i),
            Value::Uint(u) => LuaValue::Number(*u as f64),
            Value::Float(f) => LuaValue::Number(*f),
            Value::Str(s) | Value::Bin(s) => match s.split_first() {
                None => LuaValue::String(lua.create_string("")?),
                Some((&BYTES_STRING, text)) => LuaValue::String(lua.create_string(text)?),
                Some((&BYTES_GEOJSON, text)) => {
                    let t = lua.create_table()?;
                    t.raw_set(&self.data, lua.create_string(text)?)?;
                    t.set_metatable(Some(self.geo_mt.clone()))?;
                    LuaValue::Table(t)
                }
                Some((&t, raw)) => self.bytes(lua, raw, t)?,
            },
            Value::List(l) => {
                let items = lua.create_table_with_capacity(l.items.len(), 0)?;
                for (i, x) in l.items.iter().enumerate() {
                    items.raw_set(i + 1, self.make_lua_depth(lua, x, depth + 1)?)?;
                }
                let t = lua.create_table_with_capacity(0, 2)?;
                t.raw_set(&self.items, items)?;
                t.raw_set(&self.count, l.items.len())?;
                t.set_metatable(Some(self.list_mt.clone()))?;
                LuaValue::Table(t)
            }
            Value::Map(m) => {
                let entries = lua.create_table_with_capacity(0, m.entries.len())?;
                let mut n = 0usize;
                for (k, x) in &m.entries {
                    let k = self.make_lua_depth(lua, k, depth + 1)?;
                    if k.is_nil() {
                        continue;
                    }
                    entries.raw_set(k, self.make_lua_depth(lua, x, depth + 1)?)?;
                    n += 1;
                }
                let t = lua.create_table_with_capacity(0, 2)?;
                t.raw_set(&self.entries, entries)?;
                t.raw_set(&self.size, n)?;
                t.set_metatable(Some(self.map_mt.clone()))?;
                LuaValue::Table(t)
            }
        })
    }

    fn bytes(&self, lua: &Lua, raw: &[u8], particle_type: u8) -> mlua::Result<LuaValue> {
        let t = lua.create_table()?;
        t.raw_set(&self.data, lua.create_string(raw)?)?;
        t.raw_set(&self.size, particle_type)?;
        t.set_metatable(Some(self.bytes_mt.clone()))?;
        Ok(LuaValue::Table(t))
    }

    /// A Lua value as a wire value. Functions, threads and userdata have no wire form and
    /// become nil, as in Aerospike.
    pub(crate) fn read_lua(&self, v: &LuaValue) -> mlua::Result<Value> {
        self.read_lua_depth(v, 0)
    }

    fn read_lua_depth(&self, v: &LuaValue, depth: usize) -> mlua::Result<Value> {
        if depth > MAX_DEPTH {
            return Err(mlua::Error::runtime("value nested too deeply"));
        }
        Ok(match v {
            LuaValue::Nil => Value::Nil,
            LuaValue::Boolean(b) => Value::Bool(*b),
            LuaValue::Integer(i) => Value::Int(*i),
            LuaValue::Number(f) => Value::Float(*f),
            LuaValue::String(s) => {
                let b = s.as_bytes();
                let mut out = Vec::with_capacity(b.len() + 1);
                out.push(BYTES_STRING);
                out.extend_from_slice(&b);
                Value::Str(out)
            }
            LuaValue::Table(t) => self.table_value(t, depth)?,
            _ => Value::Nil,
        })
    }

    fn table_value(&self, t: &Table, depth: usize) -> mlua::Result<Value> {
        let mt = t.metatable();
        let is = |m: &Table| mt.as_ref().is_some_and(|x| x == m);
        if is(&self.list_mt) {
            let items: Table = t.raw_get(&self.items)?;
            let n: usize = t.raw_get(&self.count)?;
            let mut out = Vec::with_capacity(n.min(1 << 16));
            for i in 1..=n {
                out.push(self.read_lua_depth(&items.raw_get(i)?, depth + 1)?);
            }
            return Ok(Value::List(List::new(0, out)));
        }
        if is(&self.map_mt) {
            let entries: Table = t.raw_get(&self.entries)?;
            return self.entries_value(&entries, depth);
        }
        if is(&self.bytes_mt) {
            let s: mlua::LuaString = t.raw_get(&self.data)?;
            let ty: Option<u8> = t.raw_get(&self.size)?;
            let ty = match ty.unwrap_or(BYTES_BLOB) {
                // A bytes value typed as a string or GeoJSON is still sent as a blob.
                BYTES_STRING | BYTES_GEOJSON | 0 => BYTES_BLOB,
                other => other,
            };
            let b = s.as_bytes();
            let mut out = Vec::with_capacity(b.len() + 1);
            out.push(ty);
            out.extend_from_slice(&b);
            return Ok(Value::Str(out));
        }
        if is(&self.geo_mt) {
            let s: mlua::LuaString = t.raw_get(&self.data)?;
            let b = s.as_bytes();
            let mut out = Vec::with_capacity(b.len() + 1);
            out.push(BYTES_GEOJSON);
            out.extend_from_slice(&b);
            return Ok(Value::Str(out));
        }
        if is(&self.rec_mt) {
            // A record passed on (a stream of records): its bins, as a map.
            let bins: Table = t.raw_get(&self.bins_key)?;
            return self.entries_value(&bins, depth);
        }
        // A plain table: a sequence is a list, anything else a map.
        let n = t.raw_len();
        let mut pairs = 0usize;
        for p in t.pairs::<LuaValue, LuaValue>() {
            p?;
            pairs += 1;
        }
        if pairs == n {
            let mut out = Vec::with_capacity(n);
            for i in 1..=n {
                out.push(self.read_lua_depth(&t.raw_get(i)?, depth + 1)?);
            }
            return Ok(Value::List(List::new(0, out)));
        }
        self.entries_value(t, depth)
    }

    fn entries_value(&self, entries: &Table, depth: usize) -> mlua::Result<Value> {
        let mut out = Vec::new();
        for p in entries.pairs::<LuaValue, LuaValue>() {
            let (k, v) = p?;
            out.push((
                self.read_lua_depth(&k, depth + 1)?,
                self.read_lua_depth(&v, depth + 1)?,
            ));
        }
        Ok(Value::Map(Map::new(0, out)))
    }
}

/// A stored bin as a wire value (`None`: a particle type UDFs cannot see).
pub fn bin_value(particle_type: u8, bytes: &[u8]) -> Option<Value> {
    Some(match particle_type {
        particle::INTEGER => Value::Int(particle::read_int(bytes)?),
        particle::FLOAT => Value::Float(particle::read_float(bytes)?),
        particle::BOOL => Value::Bool(bytes.first().is_some_and(|&b| b != 0)),
        particle::LIST | particle::MAP => aerie_cdt::bin_to_value(particle_type, bytes).ok()?,
        particle::GEOJSON => {
            // Flags (1), cell count (2, big-endian), cells (8 each), then the text.
            let n = u16::from_be_bytes([*bytes.get(1)?, *bytes.get(2)?]) as usize;
            let text = bytes.get(3 + 8 * n..)?;
            let mut out = Vec::with_capacity(text.len() + 1);
            out.push(BYTES_GEOJSON);
            out.extend_from_slice(text);
            Value::Str(out)
        }
        t => {
            // Strings, blobs and other byte particles keep their type in the prefix.
            let mut out = Vec::with_capacity(bytes.len() + 1);
            out.push(t);
            out.extend_from_slice(bytes);
            Value::Str(out)
        }
    })
}
