//! Index definitions: what is indexed (bin, key type, collection type), the keys a record
//! yields, and whether a record matches a query range.

use aerie_cdt::msgpack::{self, Value, BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_namespace::Record;
use aerie_record::particle;

use crate::geo::{self, GeoQuery};

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
}

impl CollectionType {
    /// Parses an `indextype=` word (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "default" | "none" => Some(Self::Default),
            "list" => Some(Self::List),
            "mapkeys" => Some(Self::MapKeys),
            "mapvalues" => Some(Self::MapValues),
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
    /// A CDT context (base64 msgpack), kept for listing; indexes with one are not used by
    /// queries yet.
    pub context: Option<String>,
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
        if param("exp").is_some() {
            return Err(DefError::Unsupported("expression indexes"));
        }
        let ctype = match param("indextype") {
            None => CollectionType::Default,
            Some(s) if s.eq_ignore_ascii_case("set") => {
                return Err(DefError::Unsupported("set indexes"))
            }
            Some(s) => CollectionType::parse(s).ok_or(DefError::Invalid("indextype"))?,
        };
        let (bin, ktype) = match (param("bin"), param("type"), param("indexdata")) {
            (Some(b), Some(t), _) => (b, t),
            (_, _, Some(data)) => data.split_once(',').ok_or(DefError::Invalid("indexdata"))?,
            (None, _, None) => return Err(DefError::Missing("bin")),
            (Some(_), None, None) => return Err(DefError::Missing("type")),
        };
        if bin.is_empty() || bin.len() > aerie_record::MAX_BIN_NAME_BYTES {
            return Err(DefError::Invalid("bin"));
        }
        let ktype = KeyType::parse(ktype).ok_or(DefError::Invalid("type"))?;
        Ok(Self {
            name: name.to_owned(),
            set: param("set").filter(|s| !s.is_empty()).map(str::to_owned),
            bin: bin.to_owned(),
            ktype,
            ctype,
            context: param("context")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }

    /// The keys `r` contributes to this index, without repeats.
    pub fn keys(&self, r: &Record) -> Vec<i64> {
        let mut keys = Vec::new();
        let mut cells = Vec::new();
        self.for_each_value(r, |v| {
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

    /// Whether `r` holds a value of this index inside `range` (exact: no hash collisions).
    pub fn matches(&self, r: &Record, range: &QueryRange) -> bool {
        let mut hit = false;
        self.for_each_value(r, |v| {
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

    /// Calls `f` with each indexable value of the bin, by collection type.
    fn for_each_value(&self, r: &Record, mut f: impl FnMut(Item<'_>)) {
        let Some(b) = aerie_record::bins::find(r.bins(), self.bin.as_bytes()) else {
            return;
        };
        match (self.ctype, b.particle_type) {
            (CollectionType::Default, t) => {
                if let Some(item) = Item::from_particle(t, b.value) {
                    f(item);
                }
            }
            (CollectionType::List, particle::LIST) => {
                if let Ok(Value::List(l)) = msgpack::decode(b.value) {
                    l.items.iter().filter_map(Item::from_msgpack).for_each(f);
                }
            }
            (CollectionType::MapKeys, particle::MAP) => {
                if let Ok(Value::Map(m)) = msgpack::decode(b.value) {
                    m.entries
                        .iter()
                        .filter_map(|(k, _)| Item::from_msgpack(k))
                        .for_each(f);
                }
            }
            (CollectionType::MapValues, particle::MAP) => {
                if let Ok(Value::Map(m)) = msgpack::decode(b.value) {
                    m.entries
                        .iter()
                        .filter_map(|(_, v)| Item::from_msgpack(v))
                        .for_each(f);
                }
            }
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
