//! Index definitions kept across restarts (the reference server keeps them in its system
//! metadata). A namespace with storage files keeps its definitions in a small text file
//! beside the first one, `<file>.sindex`: one line per index holding the `sindex-create`
//! parameters (`indexname=..;set=..;bin=..;type=..;indextype=..[;context=..][;exp=..]`).
//! The file is rewritten whole (temporary file, then rename) on every create and drop.
//!
//! At start, [`restore`] recreates each index; they are populated in the background from
//! the records the cold start loaded, with progress in `sindex-stat` (`load_pct`). A
//! namespace without storage files keeps no records across restarts and so no indexes.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use aerie_config::StorageEngineConfig;
use aerie_namespace::Namespace;

use crate::{CollectionType, SindexDef, Sindexes};

/// Where `ns` keeps its index definitions, if it has storage files.
pub fn defs_path(ns: &Namespace) -> Option<PathBuf> {
    let files = match &ns.config.storage {
        StorageEngineConfig::Memory(m) => &m.files,
        StorageEngineConfig::Device(d) => &d.files,
    };
    files.first().map(|f| PathBuf::from(format!("{f}.sindex")))
}

/// One definition as a line of `sindex-create` parameters.
fn line(d: &SindexDef) -> String {
    let mut s = format!("indexname={}", d.name);
    if let Some(set) = &d.set {
        s.push_str(";set=");
        s.push_str(set);
    }
    if d.ctype == CollectionType::Set {
        s.push_str(";indextype=set");
        return s;
    }
    if !d.bin.is_empty() {
        s.push_str(";bin=");
        s.push_str(&d.bin);
    }
    s.push_str(";type=");
    s.push_str(d.ktype.name());
    s.push_str(";indextype=");
    s.push_str(d.ctype.name());
    if let Some(c) = &d.context {
        s.push_str(";context=");
        s.push_str(&c.base64);
    }
    if let Some(e) = &d.exp {
        s.push_str(";exp=");
        s.push_str(&e.base64);
    }
    s
}

/// Parses one line back (the same parser as `sindex-create`).
fn parse_line(l: &str) -> Option<SindexDef> {
    let param = |k: &str| {
        l.split(';')
            .find_map(|kv| kv.split_once('=').filter(|(n, _)| *n == k).map(|(_, v)| v))
    };
    SindexDef::parse(param).ok()
}

/// Writes the definitions of `sis` for `ns` (no-op without storage files).
pub(crate) fn save(ns: &Namespace, sis: &Sindexes) {
    let Some(path) = defs_path(ns) else {
        return;
    };
    let mut text = String::new();
    for si in sis.list() {
        text.push_str(&line(&si.def));
        text.push('\n');
    }
    let tmp = path.with_extension("sindex.tmp");
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::error!(path = %path.display(), "cannot save index definitions: {e}");
    }
}

/// Recreates the indexes saved for `ns`, each populated in the background. Returns how many.
pub fn restore(ns: &Arc<Namespace>) -> usize {
    let Some(path) = defs_path(ns) else {
        return 0;
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
        Err(e) => {
            tracing::error!(path = %path.display(), "cannot read index definitions: {e}");
            return 0;
        }
    };
    let Some(sis) = Sindexes::of(ns) else {
        return 0;
    };
    let mut n = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(l) {
            Some(def) => match sis.create(ns, def) {
                Ok(()) => n += 1,
                Err(e) => tracing::error!(line = l, "cannot restore index: {e:?}"),
            },
            None => tracing::error!(line = l, "unreadable index definition skipped"),
        }
    }
    if n > 0 {
        tracing::info!(namespace = %ns.name, indexes = n, "index definitions restored; populating");
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let lines = [
            "indexname=a;set=s;bin=b;type=numeric;indextype=default",
            "indexname=g;bin=loc;type=geo2dsphere;indextype=list",
            "indexname=c;set=s;bin=n;type=string;indextype=mapvalues;context=khAB",
            "indexname=t;set=s;indextype=set",
        ];
        for l in lines {
            let d = parse_line(l).unwrap_or_else(|| panic!("{l}"));
            assert_eq!(line(&d), l);
        }
        assert!(parse_line("indexname=x;bin=b;type=nonsense").is_none());
    }
}
