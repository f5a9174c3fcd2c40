//! Errors from loading a config file. Every parse error carries `FILE:LINE` and says what was
//! expected, because the only reader is a person fixing their file.

use std::fmt;
use std::path::PathBuf;

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`crate::MAX_CONFIG_FILE_BYTES`].
    #[error("{file}: config file is too large: expected at most {max_bytes} bytes")]
    TooLarge { file: String, max_bytes: u64 },
    /// The text is not a valid config. Displays as `FILE:LINE: message`.
    #[error("{file}:{line}: {kind}")]
    Parse {
        file: String,
        line: u32,
        kind: ParseErrorKind,
    },
}

impl ConfigError {
    pub(crate) fn parse(file: &str, line: u32, kind: ParseErrorKind) -> Self {
        ConfigError::Parse {
            file: file.to_owned(),
            line,
            kind,
        }
    }

    /// The 1-based line a parse error points at; `None` for errors about the whole file.
    pub fn line(&self) -> Option<u32> {
        match self {
            ConfigError::Parse { line, .. } => Some(*line),
            ConfigError::Read { .. } | ConfigError::TooLarge { .. } => None,
        }
    }
}

/// What is wrong at a given line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    #[error("unknown stanza '{name}' {section}: expected {expected}")]
    UnknownStanza {
        name: String,
        section: Section,
        expected: &'static str,
    },
    #[error("unknown parameter '{name}' {section}")]
    UnknownParameter { name: String, section: Section },
    /// A name that opens a stanza was written as a plain parameter line.
    #[error("'{name}' {section} opens a stanza: expected '{usage}'")]
    ExpectedStanza {
        name: String,
        section: Section,
        usage: &'static str,
    },
    #[error("invalid value '{value}' for '{key}': expected {expected}")]
    InvalidValue {
        key: String,
        value: String,
        expected: String,
    },
    #[error("missing value for '{key}': expected {expected}")]
    MissingValue { key: String, expected: String },
    #[error("too many values for '{key}': expected {expected}")]
    TooManyValues { key: String, expected: String },
    /// `namespace {` without a name, `file {` without a path, ...
    #[error("missing {stanza} {what}: expected '{usage}'")]
    MissingStanzaArg {
        stanza: &'static str,
        what: &'static str,
        usage: &'static str,
    },
    #[error("unexpected '{arg}' after '{stanza}': expected '{usage}'")]
    UnexpectedStanzaArg {
        stanza: String,
        arg: String,
        usage: &'static str,
    },
    #[error("'{{' without a stanza name: expected 'NAME {{' on one line")]
    MissingStanzaName,
    #[error("stanza '{name}' is never closed: expected '}}' before the end of the file")]
    UnclosedStanza { name: String },
    #[error("unexpected '}}': no stanza is open here")]
    UnexpectedCloseBrace,
    #[error("stanzas nested too deeply: expected at most {max} levels")]
    NestedTooDeep { max: usize },
    #[error("duplicate {what}: first defined at line {first_line}")]
    Duplicate { what: String, first_line: u32 },
    #[error("too many {what}: expected at most {max}")]
    TooMany { what: &'static str, max: usize },
    #[error("no namespace configured: expected at least one 'namespace NAME {{ ... }}' stanza")]
    NoNamespace,
    /// A rule that spans several lines (for example `default-ttl` without `nsup-period`).
    #[error("{message}")]
    Invalid { message: String },
}

/// Which stanza a line was in; used in messages ("unknown parameter 'x' in namespace stanza").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    Top,
    Service,
    Logging,
    LogConsole,
    LogFile,
    Network,
    NetworkService,
    Admin,
    Heartbeat,
    Fabric,
    Info,
    Http,
    Namespace,
    StorageMemory,
    StorageDevice,
    Set,
    ModLua,
    Security,
    SecurityLog,
}

impl Section {
    /// The stanza's name as written in the file (`"top level"` for the top).
    pub fn name(self) -> &'static str {
        match self {
            Section::Top => "top level",
            Section::Service => "service",
            Section::Logging => "logging",
            Section::LogConsole => "console",
            Section::LogFile => "file",
            Section::Network => "network",
            Section::NetworkService => "network service",
            Section::Admin => "admin",
            Section::Heartbeat => "heartbeat",
            Section::Fabric => "fabric",
            Section::Info => "info",
            Section::Http => "http",
            Section::Namespace => "namespace",
            Section::StorageMemory => "storage-engine memory",
            Section::StorageDevice => "storage-engine device",
            Section::Set => "set",
            Section::ModLua => "mod-lua",
            Section::Security => "security",
            Section::SecurityLog => "security log",
        }
    }
}

impl fmt::Display for Section {
    /// Includes the preposition so messages read naturally: "at the top level", "in set stanza".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Top => f.write_str("at the top level"),
            other => write!(f, "in {} stanza", other.name()),
        }
    }
}
