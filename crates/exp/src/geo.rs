//! GeoJSON comparison for `geo_compare` (op 8): a point inside a region (polygon, multipolygon or
//! AeroCircle), in either argument order. Region-to-region comparisons are unknown.

/// Whether `a` and `b` match; `None` when they cannot be compared.
pub fn matches(a: &[u8], b: &[u8]) -> Option<bool> {
    let (a, b) = (Shape::parse(a)?, Shape::parse(b)?);
    match (&a, &b) {
        (Shape::Point(p), region) | (region, Shape::Point(p))
            if !matches!(region, Shape::Point(_)) =>
        {
            Some(region.contains(*p))
        }
        _ => None,
    }
}

/// Earth radius used by the reference server's AeroCircle (metres).
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// A parsed GeoJSON geometry; positions are (longitude, latitude) in degrees. Secondary
/// geo indexes use it to derive cell coverings, so their exact post-filter and the
/// expression `geo_compare` agree on every answer.
#[derive(Debug)]
pub enum Shape {
    Point((f64, f64)),
    /// Polygons: each a list of rings, the first the outer boundary.
    Polygons(Vec<Vec<Vec<(f64, f64)>>>),
    /// Centre and radius in metres.
    Circle((f64, f64), f64),
}

impl Shape {
    /// Parses GeoJSON text (Point, Polygon, MultiPolygon, AeroCircle).
    pub fn parse(text: &[u8]) -> Option<Shape> {
        let j = json::parse(text)?;
        let ty = j.get("type")?.as_str()?;
        let coords = j.get("coordinates")?;
        match ty {
            "Point" => Some(Shape::Point(position(coords)?)),
            "Polygon" => Some(Shape::Polygons(vec![polygon(coords)?])),
            "MultiPolygon" => {
                let polys = coords
                    .as_array()?
                    .iter()
                    .map(polygon)
                    .collect::<Option<Vec<_>>>()?;
                Some(Shape::Polygons(polys))
            }
            "AeroCircle" => {
                let [c, r] = coords.as_array()? else {
                    return None;
                };
                Some(Shape::Circle(position(c)?, r.as_f64()?))
            }
            _ => None,
        }
    }

    /// Whether the region holds point `p` (a point holds nothing).
    pub fn contains(&self, p: (f64, f64)) -> bool {
        match self {
            Shape::Point(_) => false,
            Shape::Circle(c, r) => distance_m(*c, p) <= *r,
            Shape::Polygons(polys) => polys.iter().any(|rings| {
                let mut rings = rings.iter();
                rings.next().is_some_and(|outer| in_ring(outer, p))
                    && !rings.any(|hole| in_ring(hole, p))
            }),
        }
    }
}

fn position(v: &json::Json) -> Option<(f64, f64)> {
    match v.as_array()? {
        [x, y, ..] => Some((x.as_f64()?, y.as_f64()?)),
        _ => None,
    }
}

fn polygon(v: &json::Json) -> Option<Vec<Vec<(f64, f64)>>> {
    v.as_array()?
        .iter()
        .map(|ring| ring.as_array()?.iter().map(position).collect())
        .collect()
}

/// Even-odd rule on longitude/latitude (planar; fine for the small regions filters use).
fn in_ring(ring: &[(f64, f64)], p: (f64, f64)) -> bool {
    let mut inside = false;
    for (a, b) in ring.iter().zip(ring.iter().cycle().skip(1)) {
        if (a.1 > p.1) != (b.1 > p.1) {
            let x = a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Great-circle distance in metres (haversine).
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A small JSON reader, enough for GeoJSON geometry (bounded depth).
mod json {
    const MAX_DEPTH: usize = 32;

    #[derive(Debug)]
    pub enum Json {
        /// `null`, `true`, `false`: never part of a geometry.
        Other,
        Num(f64),
        Str(String),
        Arr(Vec<Json>),
        Obj(Vec<(String, Json)>),
    }

    impl Json {
        pub fn get(&self, k: &str) -> Option<&Json> {
            match self {
                Json::Obj(o) => o.iter().find(|(n, _)| n == k).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn as_str(&self) -> Option<&str> {
            match self {
                Json::Str(s) => Some(s),
                _ => None,
            }
        }
        pub fn as_array(&self) -> Option<&[Json]> {
            match self {
                Json::Arr(a) => Some(a),
                _ => None,
            }
        }
        pub fn as_f64(&self) -> Option<f64> {
            match self {
                Json::Num(n) => Some(*n),
                _ => None,
            }
        }
    }

    pub fn parse(b: &[u8]) -> Option<Json> {
        let mut p = P { b, i: 0 };
        let v = p.value(0)?;
        p.ws();
        (p.i == b.len()).then_some(v)
    }

    struct P<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl P<'_> {
        fn peek(&self) -> Option<u8> {
            self.b.get(self.i).copied()
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Option<()> {
            self.ws();
            (self.peek()? == c).then(|| self.i += 1)
        }
        fn lit(&mut self, s: &[u8], v: Json) -> Option<Json> {
            let end = self.i.checked_add(s.len())?;
            (self.b.get(self.i..end)? == s).then(|| {
                self.i = end;
                v
            })
        }
        fn value(&mut self, depth: usize) -> Option<Json> {
            if depth > MAX_DEPTH {
                return None;
            }
            self.ws();
            match self.peek()? {
                b'{' => {
                    self.i += 1;
                    let mut o = Vec::new();
                    self.ws();
                    if self.peek()? == b'}' {
                        self.i += 1;
                        return Some(Json::Obj(o));
                    }
                    loop {
                        self.ws();
                        let Json::Str(k) = self.string()? else {
                            return None;
                        };
                        self.eat(b':')?;
                        o.push((k, self.value(depth + 1)?));
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                return Some(Json::Obj(o));
                            }
                            _ => return None,
                        }
                    }
                }
                b'[' => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.peek()? == b']' {
                        self.i += 1;
                        return Some(Json::Arr(a));
                    }
                    loop {
                        a.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                return Some(Json::Arr(a));
                            }
                            _ => return None,
                        }
                    }
                }
                b'"' => self.string(),
                b't' => self.lit(b"true", Json::Other),
                b'f' => self.lit(b"false", Json::Other),
                b'n' => self.lit(b"null", Json::Other),
                _ => {
                    let start = self.i;
                    while matches!(
                        self.peek(),
                        Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    ) {
                        self.i += 1;
                    }
                    let s = std::str::from_utf8(self.b.get(start..self.i)?).ok()?;
                    s.parse().ok().map(Json::Num)
                }
            }
        }
        fn string(&mut self) -> Option<Json> {
            if self.peek()? != b'"' {
                return None;
            }
            self.i += 1;
            let start = self.i;
            while self.peek()? != b'"' {
                if self.peek()? == b'\\' {
                    self.i += 1;
                }
                self.i += 1;
            }
            let s = std::str::from_utf8(self.b.get(start..self.i)?)
                .ok()?
                .to_string();
            self.i += 1;
            Some(Json::Str(s))
        }
    }
}
