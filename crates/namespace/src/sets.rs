//! The set table: set names to small ids, with per-set statistics and truncate cut-offs.
//!
//! Ids are handed out once and never reused (as in the reference server); lookups by id are
//! lock-free, lookups by name take a read lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use parking_lot::RwLock;

/// A set's index in the table; 0 means "no set".
pub type SetId = u16;
/// The id of records without a set.
pub const NO_SET: SetId = 0;
/// Longest set name.
pub const MAX_SET_NAME_BYTES: usize = 63;
/// Most sets a namespace may have (ids 1..=MAX_SETS).
pub const MAX_SETS: usize = 4095;

/// One set's name and statistics.
#[derive(Debug)]
pub struct SetInfo {
    pub name: String,
    /// Live records in the set (decremented lazily for expired records).
    pub objects: AtomicU64,
    /// Records with a last-update time at or before this (citrusleaf ms) are truncated.
    pub truncate_lut_ms: AtomicU64,
    /// Default TTL for the set, from configuration.
    pub default_ttl_secs: Option<u64>,
}

/// The set table of one namespace.
#[derive(Debug)]
pub struct SetTable {
    by_name: RwLock<HashMap<Box<[u8]>, SetId>>,
    slots: Box<[OnceLock<SetInfo>]>,
    defaults: HashMap<String, u64>,
}

/// Why a set cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetError {
    NameTooLong,
    NameInvalid,
    TableFull,
}

impl SetTable {
    /// An empty table; `defaults` gives configured per-set default TTLs.
    pub fn new(defaults: HashMap<String, u64>) -> Self {
        Self {
            by_name: RwLock::new(HashMap::new()),
            slots: (0..=MAX_SETS).map(|_| OnceLock::new()).collect(),
            defaults,
        }
    }

    /// The id of `name`, if the set exists.
    pub fn id(&self, name: &[u8]) -> Option<SetId> {
        self.by_name.read().get(name).copied()
    }

    /// The id of `name`, creating the set if needed. An empty name is "no set".
    pub fn get_or_create(&self, name: &[u8]) -> Result<SetId, SetError> {
        if name.is_empty() {
            return Ok(NO_SET);
        }
        if let Some(id) = self.id(name) {
            return Ok(id);
        }
        if name.len() > MAX_SET_NAME_BYTES {
            return Err(SetError::NameTooLong);
        }
        let text = std::str::from_utf8(name).map_err(|_| SetError::NameInvalid)?;
        if text.contains([':', ';', '=', '\0']) {
            return Err(SetError::NameInvalid);
        }
        let mut map = self.by_name.write();
        if let Some(&id) = map.get(name) {
            return Ok(id);
        }
        let id = map.len() + 1;
        let slot = self.slots.get(id).ok_or(SetError::TableFull)?;
        let _ = slot.set(SetInfo {
            name: text.to_owned(),
            objects: AtomicU64::new(0),
            truncate_lut_ms: AtomicU64::new(0),
            default_ttl_secs: self.defaults.get(text).copied(),
        });
        map.insert(name.into(), id as SetId);
        Ok(id as SetId)
    }

    /// The set with `id`.
    #[inline]
    pub fn get(&self, id: SetId) -> Option<&SetInfo> {
        if id == NO_SET {
            return None;
        }
        self.slots.get(id as usize).and_then(OnceLock::get)
    }

    /// Every set, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (SetId, &SetInfo)> {
        self.slots
            .iter()
            .enumerate()
            .skip(1)
            .map_while(|(i, s)| s.get().map(|s| (i as SetId, s)))
    }

    /// Adjusts a set's object count.
    #[inline]
    pub fn add_objects(&self, id: SetId, delta: i64) {
        if let Some(s) = self.get(id) {
            if delta >= 0 {
                s.objects.fetch_add(delta as u64, Ordering::Relaxed);
            } else {
                s.objects.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
            }
        }
    }
}
