//! `mod-lua { user-path DIR }`: where UDF modules are kept. Mirrors the `mod-lua` stanza of
//! aerospike-server `as/src/base/cfg.c`; its other parameters (`cache-enabled`,
//! `system-path`) are accepted and ignored.

use crate::error::{ConfigError, Section};
use crate::lexer::{Item, Stanza};
use crate::parse::Ctx;

/// `mod-lua { }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModLuaConfig {
    /// `user-path`: the directory holding registered modules. `None` (no stanza, or no
    /// `user-path` in it): a `udf` directory beside the first namespace's first storage file,
    /// or, when no namespace persists anything, modules kept in memory only.
    pub user_path: Option<String>,
}

/// Parameters of `mod-lua` that Aerie accepts and ignores.
const UNUSED: &[&str] = &["cache-enabled", "system-path"];

pub(crate) fn parse_mod_lua(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    out: &mut ModLuaConfig,
) -> Result<(), ConfigError> {
    ctx.no_args(stanza, "mod-lua {")?;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::ModLua, &[], "only parameters here")?;
                continue;
            }
        };
        match param.key.as_str() {
            "user-path" => out.user_path = Some(ctx.value(param).string("a directory")?),
            _ => ctx.other_param(param, Section::ModLua, UNUSED, &[])?,
        }
    }
    Ok(())
}
