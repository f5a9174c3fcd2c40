//! Text framing of the info protocol (proto type 1).
//!
//! A request body is a list of commands separated by `\n`; a command is `name` optionally
//! followed by `:k1=v1;k2=v2` (or `/a/b` positional arguments). The reply repeats each command
//! exactly as received, then a tab, its value and a newline.

/// The commands in a request body, in order, without empty lines.
pub fn commands(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n').filter(|c| !c.is_empty())
}

/// Splits a command into its name and its argument text (after `:` or `/`).
pub fn split_command(cmd: &str) -> (&str, &str) {
    match cmd.find([':', '/']) {
        Some(i) => (cmd.get(..i).unwrap_or(cmd), cmd.get(i + 1..).unwrap_or("")),
        None => (cmd, ""),
    }
}

/// Iterates over the `k=v` pairs of an argument text separated by `;` (a bare word yields an
/// empty value).
pub fn params(args: &str) -> impl Iterator<Item = (&str, &str)> {
    args.split(';')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (p.trim(), ""),
        })
}

/// The value of parameter `key` in an argument text.
pub fn param<'a>(args: &'a str, key: &str) -> Option<&'a str> {
    params(args).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Appends one reply line: `cmd \t value \n`.
pub fn push_reply(out: &mut Vec<u8>, cmd: &[u8], value: &[u8]) {
    out.extend_from_slice(cmd);
    out.push(b'\t');
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let cmds: Vec<_> =
            commands(b"node\nnamespace/test\n\nsets:namespace=test;set=a\n").collect();
        assert_eq!(cmds.len(), 3);
        assert_eq!(split_command("namespace/test"), ("namespace", "test"));
        assert_eq!(
            split_command("sets:namespace=test;set=a"),
            ("sets", "namespace=test;set=a")
        );
        assert_eq!(param("namespace=test;set=a", "set"), Some("a"));
        assert_eq!(param("namespace=test;set=a", "x"), None);
    }
}
