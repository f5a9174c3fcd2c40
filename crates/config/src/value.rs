//! Reading values: Aerospike's size, duration and boolean syntax, and checked accessors over a
//! parameter line that produce `FILE:LINE` errors saying what was expected.
//!
//! The `parse_*` functions are public so that runtime config changes (the info protocol's
//! `set-config`, owned by the info crate) accept exactly what the file accepts.

use std::fmt::Display;

use crate::error::{ConfigError, ParseErrorKind};
use crate::lexer::Param;

/// Parses a byte size: decimal digits with an optional suffix `K`, `M`, `G`, `T` or `P`
/// (powers of 1024, either case), as Aerospike's `cf_str_atoi_u64`. `None` when malformed or
/// when the result overflows `u64`.
///
/// ```
/// assert_eq!(aerie_config::parse_size_bytes("4G"), Some(4 << 30));
/// assert_eq!(aerie_config::parse_size_bytes("512"), Some(512));
/// assert_eq!(aerie_config::parse_size_bytes("4.5G"), None);
/// ```
pub fn parse_size_bytes(text: &str) -> Option<u64> {
    let (digits, multiplier) = split_suffix(text, |suffix| match suffix.to_ascii_uppercase() {
        'K' => Some(1 << 10),
        'M' => Some(1 << 20),
        'G' => Some(1 << 30),
        'T' => Some(1 << 40),
        'P' => Some(1 << 50),
        _ => None,
    })?;
    parse_digits(digits)?.checked_mul(multiplier)
}

/// Parses a duration in seconds: decimal digits with an optional suffix `S`, `M` (minutes), `H` or
/// `D`, either case, as Aerospike's `cf_str_atoi_seconds`. A plain number is seconds.
///
/// ```
/// assert_eq!(aerie_config::parse_duration_secs("30D"), Some(30 * 86_400));
/// assert_eq!(aerie_config::parse_duration_secs("10m"), Some(600));
/// assert_eq!(aerie_config::parse_duration_secs("60"), Some(60));
/// ```
pub fn parse_duration_secs(text: &str) -> Option<u64> {
    let (digits, multiplier) = split_suffix(text, |suffix| match suffix.to_ascii_uppercase() {
        'S' => Some(1),
        'M' => Some(60),
        'H' => Some(3_600),
        'D' => Some(86_400),
        _ => None,
    })?;
    parse_digits(digits)?.checked_mul(multiplier)
}

/// `true` or `false`, either case (Aerospike's `cfg_bool`).
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Checked accessors over one parameter line
// ---------------------------------------------------------------------------------------------

/// A parameter line plus the file it came from, so each accessor can fail with `FILE:LINE`.
pub(crate) struct ParamValue<'f, 'a> {
    file: &'f str,
    param: &'a Param,
}

impl<'f, 'a> ParamValue<'f, 'a> {
    pub(crate) fn new(file: &'f str, param: &'a Param) -> Self {
        ParamValue { file, param }
    }

    pub(crate) fn error(&self, kind: ParseErrorKind) -> ConfigError {
        ConfigError::parse(self.file, self.param.line, kind)
    }

    pub(crate) fn invalid(&self, value: &str, expected: impl Into<String>) -> ConfigError {
        self.error(ParseErrorKind::InvalidValue {
            key: self.param.key.clone(),
            value: value.to_owned(),
            expected: expected.into(),
        })
    }

    /// Exactly `count` values, else a missing/too-many error naming `expected`.
    pub(crate) fn exactly(
        &self,
        count: usize,
        expected: &str,
    ) -> Result<&'a [String], ConfigError> {
        let values = self.param.values.as_slice();
        let key = self.param.key.clone();
        if values.len() < count {
            Err(self.error(ParseErrorKind::MissingValue {
                key,
                expected: expected.to_owned(),
            }))
        } else if values.len() > count {
            Err(self.error(ParseErrorKind::TooManyValues {
                key,
                expected: expected.to_owned(),
            }))
        } else {
            Ok(values)
        }
    }

    /// The one value of a single-valued parameter.
    pub(crate) fn single(&self, expected: &str) -> Result<&'a str, ConfigError> {
        match self.exactly(1, expected)? {
            [value] => Ok(value.as_str()),
            _ => Err(self.error(ParseErrorKind::MissingValue {
                key: self.param.key.clone(),
                expected: expected.to_owned(),
            })),
        }
    }

    /// The two values of a two-valued parameter.
    pub(crate) fn pair(&self, expected: &str) -> Result<(&'a str, &'a str), ConfigError> {
        match self.exactly(2, expected)? {
            [first, second] => Ok((first.as_str(), second.as_str())),
            _ => Err(self.error(ParseErrorKind::MissingValue {
                key: self.param.key.clone(),
                expected: expected.to_owned(),
            })),
        }
    }

    /// `HOST PORT`, the port 1..=65535 (Aerospike's `mesh-seed-address-port`).
    pub(crate) fn host_port(&self) -> Result<(String, u16), ConfigError> {
        let (host, port_text) = self.pair("HOST PORT, e.g. '10.0.0.2 3002'")?;
        let port = parse_digits(port_text)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| self.invalid(port_text, "a port 1..65535"))?;
        Ok((host.to_owned(), port))
    }

    /// A free-form single word (a path, a name).
    pub(crate) fn string(&self, expected: &str) -> Result<String, ConfigError> {
        self.single(expected).map(str::to_owned)
    }

    /// A name of 1..=`max_bytes` bytes without `:` or `;`, which delimit info-protocol replies.
    pub(crate) fn name(&self, max_bytes: usize) -> Result<String, ConfigError> {
        let expected = format!("a name of 1..{max_bytes} bytes without ':' or ';'");
        let name = self.single(&expected)?;
        if !is_valid_name(name, max_bytes) {
            return Err(self.invalid(name, expected));
        }
        Ok(name.to_owned())
    }

    /// A plain decimal integer in `min..=max`.
    pub(crate) fn int<T>(&self, min: T, max: T) -> Result<T, ConfigError>
    where
        T: TryFrom<u64> + Into<u64> + Copy + Display,
    {
        let expected = format!("an integer {min}..{max}");
        let text = self.single(&expected)?;
        parse_digits(text)
            .filter(|v| (min.into()..=max.into()).contains(v))
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| self.invalid(text, expected))
    }

    /// A TCP/UDP port. 0 is allowed: it asks the OS for a free port, which tests rely on.
    pub(crate) fn port(&self) -> Result<u16, ConfigError> {
        self.int(0u16, u16::MAX)
    }

    /// A byte size (see [`parse_size_bytes`]) in `min_bytes..=max_bytes`.
    pub(crate) fn size(&self, min_bytes: u64, max_bytes: u64) -> Result<u64, ConfigError> {
        let range = if min_bytes == 0 && max_bytes == u64::MAX {
            String::new()
        } else if max_bytes == u64::MAX {
            format!(" of at least {}", display_size(min_bytes))
        } else {
            format!(" {}..{}", display_size(min_bytes), display_size(max_bytes))
        };
        let expected = format!("a size{range} with an optional K, M, G, T or P suffix (e.g. 4G)");
        let text = self.single(&expected)?;
        parse_size_bytes(text)
            .filter(|v| (min_bytes..=max_bytes).contains(v))
            .ok_or_else(|| self.invalid(text, expected))
    }

    /// A size that must also be a power of two (write blocks).
    pub(crate) fn size_power_of_two(
        &self,
        min_bytes: u64,
        max_bytes: u64,
    ) -> Result<u64, ConfigError> {
        let size = self.size(min_bytes, max_bytes)?;
        if size.is_power_of_two() {
            return Ok(size);
        }
        let expected = format!(
            "a power of two {}..{} (e.g. 1M)",
            display_size(min_bytes),
            display_size(max_bytes)
        );
        Err(self.invalid(self.single(&expected)?, expected))
    }

    /// A count with an optional K/M/G/T/P multiplier: Aerospike parses counts like sizes.
    pub(crate) fn count(&self) -> Result<u64, ConfigError> {
        let expected = "an integer with an optional K, M, G, T or P multiplier (e.g. 10M)";
        let text = self.single(expected)?;
        parse_size_bytes(text).ok_or_else(|| self.invalid(text, expected))
    }

    /// A duration in seconds (see [`parse_duration_secs`]) in `min_secs..=max_secs`.
    pub(crate) fn secs(&self, min_secs: u64, max_secs: u64) -> Result<u64, ConfigError> {
        let expected = format!(
            "a duration {min_secs}..{max_secs} seconds with an optional S, M, H or D suffix (e.g. 30D)"
        );
        let text = self.single(&expected)?;
        parse_duration_secs(text)
            .filter(|v| (min_secs..=max_secs).contains(v))
            .ok_or_else(|| self.invalid(text, expected))
    }

    pub(crate) fn bool(&self) -> Result<bool, ConfigError> {
        let expected = "true or false";
        let text = self.single(expected)?;
        parse_bool(text).ok_or_else(|| self.invalid(text, expected))
    }

    /// A bind address; Aerospike's `any` becomes [`crate::Endpoint::ANY_ADDRESS`].
    pub(crate) fn address(&self) -> Result<String, ConfigError> {
        let text = self.single("an IP address, a host name or 'any'")?;
        Ok(if text.eq_ignore_ascii_case("any") {
            crate::Endpoint::ANY_ADDRESS.to_owned()
        } else {
            text.to_owned()
        })
    }

    /// A 64-bit hex number, non-zero (Aerospike's `node-id`).
    pub(crate) fn hex_u64_nonzero(&self) -> Result<u64, ConfigError> {
        let expected = "a non-zero hex number of at most 16 digits (e.g. A1)";
        let text = self.single(expected)?;
        let valid =
            !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
        valid
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .filter(|v| *v != 0)
            .ok_or_else(|| self.invalid(text, expected))
    }

    /// One of `choices` (compared case-insensitively), returned as the index into `choices`.
    pub(crate) fn choice(&self, choices: &[&str]) -> Result<usize, ConfigError> {
        let expected = quoted_list(choices);
        let text = self.single(&expected)?;
        choices
            .iter()
            .position(|c| c.eq_ignore_ascii_case(text))
            .ok_or_else(|| self.invalid(text, expected))
    }
}

/// `'a', 'b' or 'c'`: how messages list choices.
pub(crate) fn quoted_list(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((only, _)) => only.clone(),
        None => String::new(),
    }
}

/// False when `name` is empty, longer than `max_bytes`, or contains `:`/`;`.
pub(crate) fn is_valid_name(name: &str, max_bytes: usize) -> bool {
    !name.is_empty() && name.len() <= max_bytes && !name.contains([':', ';'])
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Splits a trailing letter off `text` and maps it through `suffix`; no letter = multiplier 1.
fn split_suffix(text: &str, suffix: impl Fn(char) -> Option<u64>) -> Option<(&str, u64)> {
    match text.char_indices().last() {
        Some((at, letter)) if letter.is_ascii_alphabetic() => {
            let (digits, _) = text.split_at(at);
            Some((digits, suffix(letter)?))
        }
        _ => Some((text, 1)),
    }
}

/// Decimal digits only: `u64::from_str` alone would also take a leading `+`.
fn parse_digits(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `8388608` → `8M`: the shortest exact spelling, for messages.
fn display_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 50, "P"),
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    for (unit, suffix) in UNITS {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let cases = [
            ("0", Some(0)),
            ("512", Some(512)),
            ("1K", Some(1024)),
            ("1k", Some(1024)),
            ("128M", Some(128 << 20)),
            ("4G", Some(4 << 30)),
            ("4g", Some(4 << 30)),
            ("2T", Some(2 << 40)),
            ("1P", Some(1 << 50)),
            ("16383P", Some(16383 << 50)),
            ("16384P", None), // overflows u64
            ("", None),
            ("G", None),
            ("+4G", None),
            ("-1", None),
            ("4.5G", None),
            ("4GB", None),
            ("4X", None),
            ("4 G", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_size_bytes(text), expected, "input {text:?}");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("0", Some(0)),
            ("60", Some(60)),
            ("60S", Some(60)),
            ("60s", Some(60)),
            ("10M", Some(600)),
            ("12H", Some(43_200)),
            ("30D", Some(2_592_000)),
            ("30d", Some(2_592_000)),
            ("", None),
            ("D", None),
            ("1W", None),
            ("-1", None),
            ("1.5H", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration_secs(text), expected, "input {text:?}");
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool("1"), None);
    }

    #[test]
    fn size_display_is_exact() {
        assert_eq!(display_size(1024), "1K");
        assert_eq!(display_size(8 << 20), "8M");
        assert_eq!(display_size(2 << 40), "2T");
        assert_eq!(display_size(1536), "1536");
        assert_eq!(display_size(0), "0");
    }

    #[test]
    fn choice_lists_read_naturally() {
        assert_eq!(quoted_list(&["a"]), "'a'");
        assert_eq!(quoted_list(&["a", "b", "c"]), "'a', 'b' or 'c'");
    }

    #[test]
    fn names() {
        assert!(is_valid_name("test", 31));
        assert!(is_valid_name(&"n".repeat(31), 31));
        assert!(!is_valid_name(&"n".repeat(32), 31));
        assert!(!is_valid_name("", 31));
        assert!(!is_valid_name("a:b", 31));
        assert!(!is_valid_name("a;b", 31));
    }
}
