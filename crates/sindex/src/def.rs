//! Index definitions: what is indexed (bin, key type, collection type), the keys a record
//! yields, and whether a record matches a query range.

use aerie_cdt::msgpack::{self, Value, BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_namespace::Record;
use aerie_record::{particle, Digest};

use crate::geo::{self, GeoQuery};
use crate::source::{IndexCtx, IndexExp};

/// The indexed value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Numeric,
    String,
    Blob,
    Geo2dsphere,
}

impl KeyType {
    /// Parses a `type=` word (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "numeric" => Some(Self::Numeric),
            "string" => Some(Self::String),
            "blob" => Some(Self::Blob),
            "geo2dsphere" => Some(Self::Geo2dsphere),
            _ => None,
        }
    }

    /// The word `sindex-list` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::String => "string",
            Self::Blob => "blob",
            Self::Geo2dsphere => "geo2dsphere",
        }
    }

    /// The key type a query filter's particle type asks for.
    pub fn from_particle(t: u8) -> Option<Self> {
        match t {
            particle::INTEGER => Some(Self::Numeric),
            particle::STRING => Some(Self::String),
            particle::BLOB => Some(Self::Blob),
            particle::GEOJSON => Some(Self::Geo2dsphere),
            _ => None,
        }
    }
}

/// Where in a bin the indexed values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionType {
    Default,
    List,
    MapKeys,
    MapValues,
    /// A set index (8.1.2): every record of the set, no bin.
    Set,
}

impl CollectionType {
    /// Parses an `indextype=` word (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "default" | "none" => Some(Self::Default),
            "list" => Some(Self::List),
            "mapkeys" => Some(Self::MapKeys),
            "mapvalues" => Some(Self::MapValues),
            "set" => Some(Self::Set),
            _ => None,
        }
    }

    /// The query wire byte (field 26): 0 default, 1 list, 2 mapkeys, 3 mapvalues.
    pub fn from_wire(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Default),
            1 => Some(Self::List),
            2 => Some(Self::MapKeys),
            3 => Some(Self::MapValues),
            _ => None,
        }
    }

    /// The word `sindex-list` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::List => "list",
            Self::MapKeys => "mapkeys",
            Self::MapValues => "mapvalues",
            Self::Set => "set",
        }
    }
}

/// An index definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SindexDef {
    pub name: String,
    pub set: Option<String>,
    pub bin: String,
    pub ktype: KeyType,
    pub ctype: CollectionType,
    /// The values are inside the bin, at this CDT context.
    pub context: Option<IndexCtx>,
    /// The values are this expression's result (then `bin` is empty).
    pub exp: Option<IndexExp>,
}

/// Why a `sindex-create` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefError {
    Missing(&'static str),
    Invalid(&'static str),
    /// Expression indexes are not supported yet.
    Unsupported(&'static str),
}

impl std::fmt::Display for DefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(w) => write!(f, "missing {w}"),
            Self::Invalid(w) => write!(f, "invalid {w}"),
            Self::Unsupported(w) => write!(f, "{w} not supported"),
        }
    }
}

/// A query range on index keys.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryRange {
    /// Integers in `begin..=end`.
    Int(i64, i64),
    /// Strings or blobs equal to the bytes (`ktype` says which).
    Eq(KeyType, Vec<u8>),
    /// GeoJSON: points within a region, or regions containing a point.
    Geo(GeoQuery),
}

impl QueryRange {
    /// The bval intervals (inclusive, sorted, disjoint) the range covers in the index trees.
    pub fn bvals(&self) -> Vec<(i64, i64)> {
        match self {
            Self::Int(b, e) => vec![(*b, *e)],
            Self::Eq(_, v) => {
                let h = bytes_bval(v);
                vec![(h, h)]
            }
            Self::Geo(q) => q.ranges.clone(),
        }
    }

    /// A geo query from the GeoJSON of a query range (with or without particle header).
    pub fn geo(raw: &[u8]) -> Option<Self> {
        geo::plan(geo::particle_text(raw)?).map(Self::Geo)
    }
}

impl SindexDef {
    /// Parses `sindex-create` parameters through `param` (a lookup by name): the 8.1 syntax
    /// (`bin=..;type=..`) or the older `indexdata=<bin>,<type>`.
    pub fn parse<'a>(param: impl Fn(&str) -> Option<&'a str>) -> Result<Self, DefError> {
        let name = param("indexname").ok_or(DefError::Missing("indexname"))?;
        if name.is_empty() || name.len() > 63 {
            return Err(DefError::Invalid("indexname"));
        }
        let set = param("set").filter(|s| !s.is_empty()).map(str::to_owned);
        let ctype = match param("indextype") {
            None => CollectionType::Default,
            Some(s) => CollectionType::parse(s).ok_or(DefError::Invalid("indextype"))?,
        };
        let context = match param("context").filter(|s| !s.is_empty()) {
            Some(c) => Some(IndexCtx::from_base64(c).ok_or(DefError::Invalid("context"))?),
            None => None,
        };
        let exp = match param("exp").filter(|s| !s.is_empty()) {
            Some(e) => Some(IndexExp::from_base64(e).ok_or(DefError::Invalid("exp"))?),
            None => None,
        };
        if ctype == CollectionType::Set {
            // A set index takes a set and nothing else.
            if set.is_none() {
                return Err(DefError::Missing("set"));
            }
            if param("bin").is_some_and(|b| !b.is_empty())
                || param("type").is_some_and(|t| !t.is_empty())
                || context.is_some()
                || exp.is_some()
            {
                return Err(DefError::Invalid("set index parameters"));
            }
            return Ok(Self {
                name: name.to_owned(),
                set,
                bin: String::new(),
                ktype: KeyType::Numeric,
                ctype,
                context: None,
                exp: None,
            });
        }
        let (bin, ktype) = match (param("bin"), param("type"), param("indexdata")) {
            (Some(b), Some(t), _) => (b, t),
            (_, _, Some(data)) => data.split_once(',').ok_or(DefError::Invalid("indexdata"))?,
            (None, Some(t), None) if exp.is_some() => ("", t),
            (None, _, None) => return Err(DefError::Missing("bin")),
            (Some(_), None, None) => return Err(DefError::Missing("type")),
        };
        if (bin.is_empty() && exp.is_none()) || bin.len() > aerie_record::MAX_BIN_NAME_BYTES {
            return Err(DefError::Invalid("bin"));
        }
        let ktype = KeyType::parse(ktype).ok_or(DefError::Invalid("type"))?;
        Ok(Self {
            name: name.to_owned(),
            set,
            bin: bin.to_owned(),
            ktype,
            ctype,
            context,
            exp,
        })
    }

    /// The keys record `r` (digest `d`) contributes to this index, without repeats.
    pub fn keys(&self, d: &Digest, r: &Record) -> Vec<i64> {
        let mut keys = Vec::new();
        if self.ctype == CollectionType::Set {
            keys.push(0);
            return keys;
        }
        let mut cells = Vec::new();
        self.for_each_value(d, r, |v| {
            match (self.ktype, v) {
                (KeyType::Numeric, Item::Int(i)) => cells.push(i),
                (KeyType::String, Item::Str(s)) | (KeyType::Blob, Item::Blob(s)) => {
                    cells.push(bytes_bval(s))
                }
                (KeyType::Geo2dsphere, Item::Geo(t)) => geo::value_keys(t, &mut cells),
                _ => {}
            }
            for k in cells.drain(..) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        });
        keys
    }

    /// Whether a record may hold several keys of this index (collection types, geo regions),
    /// so a query could meet it more than once.
    pub fn multi_valued(&self) -> bool {
        matches!(
            self.ctype,
            CollectionType::List | CollectionType::MapKeys | CollectionType::MapValues
        ) || self.ktype == KeyType::Geo2dsphere
    }

    /// The smallest key of record `r` inside `ranges` (inclusive intervals): a query over a
    /// multi-valued index returns the record only at that key, so once, even across resumes.
    pub fn first_key_in(&self, d: &Digest, r: &Record, ranges: &[(i64, i64)]) -> Option<i64> {
        self.keys(d, r)
            .into_iter()
            .filter(|k| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(k)))
            .min()
    }

    /// Whether `r` holds a value of this index inside `range` (exact: no hash collisions).
    pub fn matches(&self, d: &Digest, r: &Record, range: &QueryRange) -> bool {
        let mut hit = false;
        self.for_each_value(d, r, |v| {
            hit |= match (range, v) {
                (QueryRange::Int(b, e), Item::Int(i)) => (*b..=*e).contains(&i),
                (QueryRange::Eq(KeyType::String, want), Item::Str(s)) => s == want.as_slice(),
                (QueryRange::Eq(KeyType::Blob, want), Item::Blob(s)) => s == want.as_slice(),
                (QueryRange::Geo(q), Item::Geo(t)) => geo::matches(t, q),
                _ => false,
            };
        });
        hit
    }

    /// Calls `f` with each indexable value of the record: the bin's (or the expression's)
    /// value, through the context if any, by collection type.
    fn for_each_value(&self, d: &Digest, r: &Record, f: impl FnMut(Item<'_>)) {
        let evaluated: Vec<u8>;
        let (t, v) = match &self.exp {
            Some(e) => {
                let mut view = aerie_exp::RecordView::new(d, aerie_exp::BinSource::Flat(r.bins()));
                view.key = r.key();
                view.last_update_ms = r.meta.last_update_ms;
                view.void_time = r.meta.void_time;
                view.record_size_bytes = r.data_size() as u64;
                match e.program.eval(&view) {
                    aerie_exp::Outcome::Particle(t, b) => {
                        evaluated = b;
                        (t, evaluated.as_slice())
                    }
                    _ => return,
                }
            }
            None => match aerie_record::bins::find(r.bins(), self.bin.as_bytes()) {
                Some(b) => (b.particle_type, b.value),
                None => return,
            },
        };
        match &self.context {
            None => self.each_in_particle(t, v, f),
            Some(ctx) => {
                if !matches!(t, particle::LIST | particle::MAP) {
                    return;
                }
                let Ok(root) = aerie_cdt::bin_to_value(t, v) else {
                    return;
                };
                if let Some(sub) = ctx.resolve(&root) {
                    self.each_in_value(sub, f);
                }
            }
        }
    }

    /// The values of a bin-shaped value (particle type and bytes), by collection type.
    fn each_in_particle(&self, t: u8, v: &[u8], mut f: impl FnMut(Item<'_>)) {
        match (self.ctype, t) {
            (CollectionType::Default, t) => {
                if let Some(item) = Item::from_particle(t, v) {
                    f(item);
                }
            }
            (_, particle::LIST | particle::MAP) => {
                if let Ok(root) = msgpack::decode(v) {
                    self.each_in_value(&root, f);
                }
            }
            _ => {}
        }
    }

    /// The values of a msgpack value, by collection type.
    fn each_in_value(&self, v: &Value, f: impl FnMut(Item<'_>)) {
        match (self.ctype, v) {
            (CollectionType::Default, v) => Item::from_msgpack(v).into_iter().for_each(f),
            (CollectionType::List, Value::List(l)) => {
                l.items.iter().filter_map(Item::from_msgpack).for_each(f)
            }
            (CollectionType::MapKeys, Value::Map(m)) => m
                .entries
                .iter()
                .filter_map(|(k, _)| Item::from_msgpack(k))
                .for_each(f),
            (CollectionType::MapValues, Value::Map(m)) => m
                .entries
                .iter()
                .filter_map(|(_, v)| Item::from_msgpack(v))
                .for_each(f),
            _ => {}
        }
    }
}

/// An indexable value.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
    Blob(&'a [u8]),
    /// GeoJSON text.
    Geo(&'a [u8]),
}

impl<'a> Item<'a> {
    fn from_particle(t: u8, v: &'a [u8]) -> Option<Self> {
        match t {
            particle::INTEGER => Some(Self::Int(i64::from_be_bytes(v.try_into().ok()?))),
            particle::STRING => Some(Self::Str(v)),
            particle::BLOB => Some(Self::Blob(v)),
            particle::GEOJSON => geo::particle_text(v).map(Self::Geo),
            _ => None,
        }
    }

    fn from_msgpack(v: &'a Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(Self::Int(*i)),
            Value::Str(b) | Value::Bin(b) => match b.split_first() {
                Some((&BYTES_STRING, s)) => Some(Self::Str(s)),
                Some((&BYTES_BLOB, s)) => Some(Self::Blob(s)),
                Some((&BYTES_GEOJSON, s)) => Some(Self::Geo(s)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The bval of a string or blob: the first 8 bytes of a RIPEMD-160 of it, as the reference
/// server derives one (the exact hash does not matter to clients, which only echo bvals).
fn bytes_bval(b: &[u8]) -> i64 {
    let d = aerie_record::compute_digest(b"", 0, b);
    d.first_chunk::<8>().map_or(0, |e| i64::from_le_bytes(*e))
}
