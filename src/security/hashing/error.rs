//! Why a hasher could not be chosen (the exceptions `Hasher.resolve` and `Hasher.resolveFromHash`
//! throw in `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authc/support/Hasher.java`).

/// Why a hasher could not be chosen. The `Display` text is Elasticsearch's exception message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// `Hasher.resolve` got a name it does not know (also reached from `resolveFromHash` for
    /// bcrypt costs and PBKDF2 iteration counts without a hasher).
    #[error("unknown hash function [{0}]")]
    UnknownHashFunction(String),
    /// A `{PBKDF2}`/`{PBKDF2_STRETCH}` hash without a `$`, or with a non-integer iteration count.
    #[error("The number of iterations could not be determined from the provided PBKDF2 hash.")]
    Pbkdf2Iterations,
    /// A bcrypt-prefixed hash shorter than 58 chars: Java's `Arrays.copyOfRange(hash, 4, len - 54)`
    /// fails with `4 > <len - 54>`.
    #[error("4 > {0}")]
    BcryptTooShort(i64),
    /// A bcrypt-prefixed hash whose cost is not an integer (Java's `NumberFormatException`).
    #[error("For input string: \"{0}\"")]
    BcryptCost(String),
}
