//! Role allow-lists: the client addresses a role's users may log in from. An entry is an IPv4
//! or IPv6 address, or a CIDR block (`10.1.0.0/16`).

use std::net::IpAddr;

/// Whether `entry` is a valid allow-list entry.
pub fn is_valid(entry: &str) -> bool {
    parse(entry).is_some()
}

/// Whether `addr` matches any entry of `list`.
pub fn contains<'a>(list: impl IntoIterator<Item = &'a String>, addr: IpAddr) -> bool {
    list.into_iter()
        .filter_map(|e| parse(e))
        .any(|(net, bits)| matches(net, bits, addr))
}

fn parse(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn matches(net: IpAddr, bits: u8, addr: IpAddr) -> bool {
    let addr = match (net, addr) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        _ => addr,
    };
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
        (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let mut left = u32::from(bits);
    for (x, y) in a.iter().zip(b) {
        if left == 0 {
            return true;
        }
        let take = left.min(8);
        let mask = (0xFFu16 << (8 - take)) as u8;
        if x & mask != y & mask {
            return false;
        }
        left -= take;
    }
    true
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let list: Vec<String> = vec!["10.1.0.0/16".into(), "127.0.0.5".into(), "::1".into()];
        let has = |a: &str| contains(&list, a.parse().unwrap());
        assert!(has("10.1.200.3"));
        assert!(!has("10.2.0.1"));
        assert!(has("127.0.0.5"));
        assert!(!has("127.0.0.1"));
        assert!(has("::1"));
        assert!(has("::ffff:10.1.2.3"));
        assert!(
            is_valid("0.0.0.0/0")
                && contains(&["0.0.0.0/0".to_owned()], "8.8.8.8".parse().unwrap())
        );
        assert!(!is_valid("10.0.0.0/33"));
        assert!(!is_valid("host.example"));
    }
}
