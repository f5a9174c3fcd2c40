//! GeoJSON bin validation: Point, Polygon, MultiPolygon and Aerospike's AeroCircle, as the
//! server accepts them on write (`as/src/base/particle_geojson.c`, `as/src/geospatial/*`).
//! Invalid text answers GEO_INVALID_GEOJSON (160).
//!
//! A GeoJSON particle is `u8 flags · u16 cell count · cells (u64 each) · JSON text`; clients send
//! no cells.

use crate::Error;

/// Deepest JSON nesting accepted.
const MAX_JSON_DEPTH: usize = 32;

/// Validates a GeoJSON particle (header and text).
pub fn validate_particle(p: &[u8]) -> Result<(), Error> {
    let (hdr, rest) = p.split_first_chunk::<3>().ok_or(Error::GeoInvalid)?;
    let ncells = usize::from(u16::from_be_bytes([hdr[1], hdr[2]]));
    let text = rest.get(ncells * 8..).ok_or(Error::GeoInvalid)?;
    validate_text(text)
}

/// Validates GeoJSON text.
pub fn validate_text(text: &[u8]) -> Result<(), Error> {
    let s = std::str::from_utf8(text).map_err(|_| Error::GeoInvalid)?;
    let mut p = Parser {
        b: s.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(Error::GeoInvalid);
    }
    geometry(&v)
}

#[derive(Debug)]
enum Json {
    Null,
    Bool,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, k: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(x, _)| x == k).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn geometry(v: &Json) -> Result<(), Error> {
    let Some(Json::Str(t)) = v.get("type") else {
        return Err(Error::GeoInvalid);
    };
    let coords = v.get("coordinates").ok_or(Error::GeoInvalid)?;
    match t.as_str() {
        "Point" => position(coords),
        "Polygon" => polygon(coords),
        "MultiPolygon" => {
            let Json::Arr(ps) = coords else {
                return Err(Error::GeoInvalid);
            };
            if ps.is_empty() {
                return Err(Error::GeoInvalid);
            }
            ps.iter().try_for_each(polygon)
        }
        "AeroCircle" => {
            let Json::Arr(parts) = coords else {
                return Err(Error::GeoInvalid);
            };
            let [center, Json::Num(radius)] = parts.as_slice() else {
                return Err(Error::GeoInvalid);
            };
            if !radius.is_finite() || *radius < 0.0 {
                return Err(Error::GeoInvalid);
            }
            position(center)
        }
        _ => Err(Error::GeoInvalid),
    }
}

fn position(v: &Json) -> Result<(), Error> {
    let Json::Arr(xs) = v else {
        return Err(Error::GeoInvalid);
    };
    let [Json::Num(lon), Json::Num(lat), ..] = xs.as_slice() else {
        return Err(Error::GeoInvalid);
    };
    if !(-180.0..=180.0).contains(lon) || !(-90.0..=90.0).contains(lat) {
        return Err(Error::GeoInvalid);
    }
    Ok(())
}

fn polygon(v: &Json) -> Result<(), Error> {
    let Json::Arr(rings) = v else {
        return Err(Error::GeoInvalid);
    };
    if rings.is_empty() {
        return Err(Error::GeoInvalid);
    }
    for ring in rings {
        let Json::Arr(pts) = ring else {
            return Err(Error::GeoInvalid);
        };
        if pts.len() < 4 {
            return Err(Error::GeoInvalid);
        }
        pts.iter().try_for_each(position)?;
        let coords = |p: &Json| match p {
            Json::Arr(xs) => xs
                .iter()
                .take(2)
                .map(|x| if let Json::Num(n) = x { *n } else { f64::NAN })
                .collect(),
            _ => Vec::new(),
        };
        if coords(pts.first().ok_or(Error::GeoInvalid)?)
            != coords(pts.last().ok_or(Error::GeoInvalid)?)
        {
            return Err(Error::GeoInvalid);
        }
    }
    Ok(())
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn lit(&mut self, word: &[u8]) -> Result<(), Error> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Error::GeoInvalid)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, Error> {
        if depth > MAX_JSON_DEPTH {
            return Err(Error::GeoInvalid);
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return Err(Error::GeoInvalid);
                    }
                    m.push((k, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Ok(Json::Obj(m));
                    }
                    if !self.eat(b',') {
                        return Err(Error::GeoInvalid);
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Ok(Json::Arr(a));
                    }
                    if !self.eat(b',') {
                        return Err(Error::GeoInvalid);
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.lit(b"true").map(|_| Json::Bool),
            Some(b'f') => self.lit(b"false").map(|_| Json::Bool),
            Some(b'n') => self.lit(b"null").map(|_| Json::Null),
            Some(_) => self.number(),
            None => Err(Error::GeoInvalid),
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        if self.b.get(self.i) != Some(&b'"') {
            return Err(Error::GeoInvalid);
        }
        self.i += 1;
        let start = self.i;
        loop {
            match self.b.get(self.i) {
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
                None => return Err(Error::GeoInvalid),
            }
        }
        let s = self.b.get(start..self.i).ok_or(Error::GeoInvalid)?;
        self.i += 1;
        String::from_utf8(s.to_vec()).map_err(|_| Error::GeoInvalid)
    }

    fn number(&mut self) -> Result<Json, Error> {
        let start = self.i;
        while matches!(
            self.b.get(self.i),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.i += 1;
        }
        let s = std::str::from_utf8(self.b.get(start..self.i).ok_or(Error::GeoInvalid)?)
            .map_err(|_| Error::GeoInvalid)?;
        s.parse::<f64>()
            .map(Json::Num)
            .map_err(|_| Error::GeoInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        let ok = [
            r#"{"type":"Point","coordinates":[-122.5, 37.0]}"#,
            r#"{"type": "AeroCircle", "coordinates": [[-122.0, 37.5], 250.2]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}"#,
        ];
        for t in ok {
            assert_eq!(validate_text(t.as_bytes()), Ok(()), "{t}");
        }
        let bad = [
            r#"{"type":"Point","coordinates":[200, 0]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[2,2]]]}"#,
            r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#,
            r#"{"type":"Point""#,
            "not json",
        ];
        for t in bad {
            assert_eq!(validate_text(t.as_bytes()), Err(Error::GeoInvalid), "{t}");
        }
        let mut p = vec![0u8, 0, 0];
        p.extend_from_slice(ok[0].as_bytes());
        assert_eq!(validate_particle(&p), Ok(()));
        assert_eq!(validate_particle(&[0, 0, 5, b'{']), Err(Error::GeoInvalid));
    }
}
