//! Aerospike result codes: one byte in every reply header. Numbers are fixed by the protocol;
//! see `docs/result-codes.md`.

/// A result code sent to clients. Numbers follow aerospike-server `as/include/base/proto.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ResultCode {
    Ok = 0,
    ServerError = 1,
    NotFound = 2,
    Generation = 3,
    Parameter = 4,
    RecordExists = 5,
    BinExists = 6,
    ClusterKeyMismatch = 7,
    OutOfSpace = 8,
    Timeout = 9,
    Unavailable = 11,
    IncompatibleType = 12,
    RecordTooBig = 13,
    KeyBusy = 14,
    QueryAbort = 15,
    UnsupportedFeature = 16,
    BinNotFound = 17,
    DeviceOverload = 18,
    KeyMismatch = 19,
    Namespace = 20,
    BinName = 21,
    Forbidden = 22,
    ElementNotFound = 23,
    ElementExists = 24,
    EnterpriseOnly = 25,
    OpNotApplicable = 26,
    FilteredOut = 27,
    LostConflict = 28,
    QueryEnd = 50,
    SecurityNotSupported = 51,
    SecurityNotEnabled = 52,
    SecuritySchemeNotSupported = 53,
    InvalidCommand = 54,
    InvalidField = 55,
    IllegalState = 56,
    InvalidUser = 60,
    UserAlreadyExists = 61,
    InvalidPassword = 62,
    ExpiredPassword = 63,
    ForbiddenPassword = 64,
    InvalidCredential = 65,
    ExpiredSession = 66,
    InvalidRole = 70,
    RoleAlreadyExists = 71,
    InvalidPrivilege = 72,
    InvalidAllowlist = 73,
    QuotasNotEnabled = 74,
    InvalidQuota = 75,
    NotAuthenticated = 80,
    RoleViolation = 81,
    NotAllowlisted = 82,
    QuotaExceeded = 83,
    UdfExecution = 100,
    BatchDisabled = 150,
    BatchMaxRequests = 151,
    BatchQueuesFull = 152,
    GeoInvalidGeoJson = 160,
    IndexFound = 200,
    IndexNotFound = 201,
}

impl ResultCode {
    /// The wire byte.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for ResultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}({})", self, self.code())
    }
}
