//! Index maintenance against a live namespace: population, writes, deletes, truncate, and
//! candidate verification.

use std::sync::Arc;

use aerie_namespace::{Namespace, Record, RecordMeta, Registry};
use aerie_record::{bins, compute_digest, particle, partition_id, Digest};

use super::*;

fn namespace() -> Arc<Namespace> {
    let reg = Registry::new(&aerie_config::Config::default().namespaces, 1);
    let ns = reg.iter().next().cloned();
    ns.unwrap_or_else(|| panic!("default config has no namespace"))
}

fn write(ns: &Namespace, set: &[u8], key: i64, bin: &[u8], t: u8, v: &[u8]) -> Digest {
    let d = compute_digest(set, 1, &key.to_be_bytes());
    let set_id = ns.sets.get_or_create(set).unwrap_or_default();
    let mut data = Vec::new();
    Record::encode_key(&mut data, None);
    bins::push_bin(&mut data, bin, t, v);
    let meta = RecordMeta {
        last_update_ms: aerie_record::time::now_ms(),
        set_id,
        ..Default::default()
    };
    let mut idx = ns.partition(&d).lock();
    if let Err(e) = ns.store(&mut idx, d, meta, data, set) {
        panic!("store: {e}");
    }
    d
}

fn def(name: &str, bin: &str, ktype: KeyType) -> SindexDef {
    SindexDef {
        name: name.into(),
        set: Some("s".into()),
        bin: bin.into(),
        ktype,
        ctype: CollectionType::Default,
        context: None,
        exp: None,
    }
}

fn wait_loaded(si: &Sindex) {
    for _ in 0..1000 {
        if si.load_pct() == 100 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("population did not finish");
}

fn query(si: &Sindex, lo: i64, hi: i64) -> Vec<Digest> {
    let mut out = Vec::new();
    for pid in 0..N_PARTITIONS as u16 {
        si.candidates(pid, &[(lo, hi)], None, usize::MAX, &mut out);
    }
    out.into_iter().map(|(_, d)| d).collect()
}

#[test]
fn populate_then_track_writes_deletes_and_truncate() {
    let ns = namespace();
    let mut ds = Vec::new();
    for i in 0..200i64 {
        ds.push(write(
            &ns,
            b"s",
            i,
            b"n",
            particle::INTEGER,
            &(i % 10).to_be_bytes(),
        ));
    }
    write(
        &ns,
        b"other",
        1,
        b"n",
        particle::INTEGER,
        &3i64.to_be_bytes(),
    );
    let Some(sis) = Sindexes::of(&ns) else {
        panic!("hook")
    };
    assert_eq!(sis.create(&ns, def("n_idx", "n", KeyType::Numeric)), Ok(()));
    assert_eq!(sis.create(&ns, def("n_idx", "n", KeyType::Numeric)), Ok(()));
    assert_eq!(
        sis.create(&ns, def("n_idx", "x", KeyType::Numeric)),
        Err(CreateError::Exists)
    );
    let Some(si) = sis.get("n_idx") else {
        panic!("index")
    };
    wait_loaded(&si);
    assert_eq!(si.entries(), 200);
    assert_eq!(query(&si, 3, 3).len(), 20);
    assert_eq!(query(&si, 0, 4).len(), 100);

    // Rewrite one record to another value, and one to a string (leaves the index).
    let d0 = write(&ns, b"s", 3, b"n", particle::INTEGER, &100i64.to_be_bytes());
    write(&ns, b"s", 13, b"n", particle::STRING, b"x");
    assert_eq!(query(&si, 3, 3).len(), 18);
    assert_eq!(query(&si, 100, 100), vec![d0]);
    // The presence map names exactly the partitions holding a bval in range.
    let present = si.partitions_with(&[(100, 100)]);
    let marked: Vec<usize> = (0..N_PARTITIONS)
        .filter(|&p| present.get(p) == Some(&true))
        .collect();
    assert_eq!(marked, vec![partition_id(&d0) as usize]);
    let with_3 = si.partitions_with(&[(3, 3)]).iter().filter(|&&m| m).count();
    assert!((1..=18).contains(&with_3));
    // Delete.
    {
        let mut idx = ns.partition(&d0).lock();
        let _ = ns.delete_record(&mut idx, &d0);
    }
    assert!(query(&si, 100, 100).is_empty());
    assert!(!si.partitions_with(&[(100, 100)]).contains(&true));
    assert_eq!(si.entries(), 198);
    // Truncate the set.
    let _ = ns.truncate(Some(b"s"), None);
    assert_eq!(si.entries(), 0);
    assert!(sis.delete(&ns, "n_idx"));
    assert!(!sis.delete(&ns, "n_idx"));
}

#[test]
fn string_equality_verifies_and_resumes() {
    let ns = namespace();
    let Some(sis) = Sindexes::of(&ns) else {
        panic!("hook")
    };
    assert_eq!(sis.create(&ns, def("s_idx", "s", KeyType::String)), Ok(()));
    let Some(si) = sis.get("s_idx") else {
        panic!("index")
    };
    wait_loaded(&si);
    for i in 0..50i64 {
        let v: &[u8] = if i % 2 == 0 { b"even" } else { b"odd" };
        write(&ns, b"s", i, b"s", particle::STRING, v);
    }
    let range = QueryRange::Eq(KeyType::String, b"even".to_vec());
    let [(lo, hi)] = range.bvals()[..] else {
        panic!("one interval")
    };
    let got = query(&si, lo, hi);
    assert_eq!(got.len(), 25);
    for d in &got {
        let idx = ns.partition(d).lock();
        let Some(r) = idx.get(d) else {
            panic!("record")
        };
        assert!(si.def.matches(d, r, &range));
        assert!(!si
            .def
            .matches(d, r, &QueryRange::Eq(KeyType::String, b"odd".to_vec())));
    }
    // Resume after the first candidate of a partition skips exactly it.
    let d = got.first().copied().unwrap_or_default();
    let pid = partition_id(&d);
    let mut all = Vec::new();
    si.candidates(pid, &[(lo, hi)], None, usize::MAX, &mut all);
    let mut rest = Vec::new();
    si.candidates(
        pid,
        &[(lo, hi)],
        all.first().copied(),
        usize::MAX,
        &mut rest,
    );
    assert_eq!(rest.len() + 1, all.len());
}

#[test]
fn parse_both_syntaxes() {
    let args = [
        ("indexname", "i1"),
        ("set", "s"),
        ("bin", "b"),
        ("type", "NUMERIC"),
        ("indextype", "LIST"),
    ];
    let p = |k: &str| args.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let d = SindexDef::parse(p);
    assert_eq!(
        d.as_ref().map(|d| (d.ktype, d.ctype)),
        Ok((KeyType::Numeric, CollectionType::List))
    );
    let args = [("indexname", "i2"), ("indexdata", "b,string")];
    let p = |k: &str| args.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let d = SindexDef::parse(p);
    assert_eq!(
        d.as_ref()
            .map(|d| (d.bin.as_str(), d.ktype, d.set.is_none())),
        Ok(("b", KeyType::String, true))
    );
}
