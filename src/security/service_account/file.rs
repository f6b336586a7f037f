//! The `service_tokens` file (F1-F3): `FileServiceAccountTokenStore.parseFile` on top of
//! `FileLineParser.parse`, and the file the CLI writes.
//!
//! Rules, in order:
//! * the bytes must be UTF-8 (`Files.readAllLines` with a reporting decoder): anything else fails the
//!   whole file;
//! * lines are split as `BufferedReader.readLine` splits them (`\n`, `\r`, `\r\n`; no empty last
//!   line after a final terminator) and numbered from 1, comments and blank lines included;
//! * a line that **starts with** `#` (before trimming) or is blank (Java `String.isBlank`) is
//!   skipped;
//! * any other line is trimmed (Java `String.trim`) and split at the first `:`; no `:` fails the whole
//!   file with `Missing ':' character at line #N`;
//! * the key is not checked; the hash's algorithm comes from its prefix (`Hasher.resolveFromHash`),
//!   whose errors also fail the whole file; a hash that resolves to NOOP is plaintext and the line is
//!   skipped with a warning;
//! * a repeated key: the last hash wins, with a warning.
//!
//! Hashes are kept as the strings read; the `Debug` form of [`ParsedTokens`] shows only the keys.

use super::token::{java_is_blank, java_trim};
use crate::error::{EsError, ExceptionType};
use crate::security::hashing::{HashError, Hasher};
use indexmap::IndexMap;
use std::fmt;

/// Where Elasticsearch reads the file: `$ES_PATH_CONF/service_tokens` (as logged in messages).
pub(crate) const SERVICE_TOKENS_FILE: &str = "config/service_tokens";

/// Why a `service_tokens` file could not be parsed. `Display` is the Java exception's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileParseError {
    /// The bytes are not UTF-8 (Java's `MalformedInputException`; its message is
    /// `Input length = <length of the bad sequence>`).
    #[error("Input length = {length}")]
    MalformedInput {
        /// Byte offset of the bad sequence.
        offset: usize,
        length: usize,
    },
    /// A line without `:` (`IllegalStateException`).
    #[error("Missing ':' character at line #{line}")]
    MissingColon { line: usize },
    /// `Hasher.resolveFromHash` failed for a key's hash (`IllegalArgumentException` and friends).
    #[error("{error}")]
    BadHash {
        line: usize,
        key: String,
        error: HashError,
    },
}

/// The exception `FileServiceAccountTokenStore` fails with (F3): bad UTF-8 is an
/// `IllegalStateException` `Failed to load service_tokens file [..]` caused by the decoder's
/// `MalformedInputException`; a line without `:` an `IllegalStateException`; a hash with an unusable
/// prefix `resolveFromHash`'s `IllegalArgumentException`.
impl From<FileParseError> for EsError {
    fn from(e: FileParseError) -> Self {
        match e {
            FileParseError::MalformedInput { .. } => EsError::illegal_state(format!(
                "Failed to load service_tokens file [{SERVICE_TOKENS_FILE}]"
            ))
            .with_cause(EsError::new(
                ExceptionType::MalformedInput,
                e.to_string(),
                500,
            )),
            FileParseError::MissingColon { .. } => EsError::illegal_state(e.to_string()),
            FileParseError::BadHash { .. } => EsError::illegal_argument(e.to_string()),
        }
    }
}

/// The parsed file: qualified name → hash (in first-seen order; the last duplicate's hash wins),
/// and the warnings Elasticsearch logs while parsing.
#[derive(Clone, Default)]
pub struct ParsedTokens {
    tokens: IndexMap<String, String, crate::cache::KeyHasher>,
    warnings: Vec<String>,
}

impl fmt::Debug for ParsedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedTokens")
            .field("keys", &self.tokens.keys().collect::<Vec<_>>())
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl ParsedTokens {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The stored hash of a qualified name.
    pub fn get(&self, qualified_name: &str) -> Option<&str> {
        self.tokens.get(qualified_name).map(String::as_str)
    }

    pub fn contains(&self, qualified_name: &str) -> bool {
        self.tokens.contains_key(qualified_name)
    }

    /// Qualified names in first-seen order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.tokens.keys().map(String::as_str)
    }

    /// `(qualified name, hash)` pairs in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.tokens.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The WARN lines Elasticsearch logs while parsing (plaintext lines skipped, duplicate keys).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// I3's comparison (`Maps.deepEquals`): same keys with the same hashes, order ignored.
    pub fn same_tokens(&self, other: &ParsedTokens) -> bool {
        self.tokens == other.tokens
    }

    /// Adds or replaces a token (the CLI's `put`). Returns the previous hash.
    pub(crate) fn insert(&mut self, qualified_name: String, hash: String) -> Option<String> {
        self.tokens.insert(qualified_name, hash)
    }

    /// Removes a token (the CLI's `remove`), keeping the order of the others.
    pub(crate) fn remove(&mut self, qualified_name: &str) -> Option<String> {
        self.tokens.shift_remove(qualified_name)
    }

    /// Qualified names sorted as Java's `TreeMap<String, _>` sorts them (UTF-16 code units).
    pub(crate) fn sorted_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.keys().collect();
        keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        keys
    }

    /// `FileServiceAccountTokenStore.writeFile`: one `key:hash` line per token, keys sorted, each
    /// line ended by `\n`.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for k in self.sorted_keys() {
            out.push_str(k);
            out.push(':');
            out.push_str(&self.tokens[k]);
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// Splits text into lines as `BufferedReader.readLine` does.
pub(crate) fn java_lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                i += 1;
                if i < b.len() && b[i] == b'\n' {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < b.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// `parseFile` (F2, F3): strict; any failure fails the whole file.
///
/// # Errors
/// Bad UTF-8, a line without `:`, or a hash whose prefix names no known hasher.
pub fn parse_service_tokens_file(bytes: &[u8]) -> Result<ParsedTokens, FileParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FileParseError::MalformedInput {
        offset: e.valid_up_to(),
        length: e.error_len().unwrap_or(bytes.len() - e.valid_up_to()),
    })?;
    let mut parsed = ParsedTokens::new();
    for (i, raw) in java_lines(text).into_iter().enumerate() {
        let line_number = i + 1;
        if raw.starts_with('#') || java_is_blank(raw) {
            continue;
        }
        let line = java_trim(raw);
        let Some((key, hash)) = line.split_once(':') else {
            return Err(FileParseError::MissingColon { line: line_number });
        };
        let hasher = Hasher::resolve_from_hash(hash).map_err(|error| FileParseError::BadHash {
            line: line_number,
            key: key.to_string(),
            error,
        })?;
        if hasher == Hasher::Noop {
            parsed.warnings.push(format!(
                "skipping plaintext service account token for key [{key}]"
            ));
            continue;
        }
        if parsed
            .tokens
            .insert(key.to_string(), hash.to_string())
            .is_some()
        {
            parsed.warnings.push(format!(
                "found duplicated key [{key}], earlier entries are overridden"
            ));
        }
    }
    Ok(parsed)
}

/// `parseFileLenient` (I3): any failure gives an empty map, and the error line Elasticsearch logs.
pub fn parse_service_tokens_file_lenient(bytes: &[u8]) -> (ParsedTokens, Option<String>) {
    match parse_service_tokens_file(bytes) {
        Ok(p) => (p, None),
        Err(_) => (
            ParsedTokens::new(),
            Some(format!(
                "failed to parse service tokens file [{SERVICE_TOKENS_FILE}]. skipping/removing all tokens..."
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSHA: &str = "{SSHA256}AAAAAAAAAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    #[test]
    fn lines_split_like_java() {
        assert_eq!(java_lines("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(java_lines("a\n"), ["a"]);
        assert_eq!(java_lines("a\n\n"), ["a", ""]);
        assert!(java_lines("").is_empty());
    }

    #[test]
    fn rules() {
        let text = format!(
            "# comment\n\n   \n  elastic/fleet-server/a:{SSHA}  \nelastic/fleet-server/p:{{plain}}x\nelastic/fleet-server/a:{SSHA}\n #not a comment:{SSHA}\n"
        );
        let p = parse_service_tokens_file(text.as_bytes()).unwrap();
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["elastic/fleet-server/a", "#not a comment"]
        );
        assert_eq!(p.get("elastic/fleet-server/a"), Some(SSHA));
        assert_eq!(
            p.warnings(),
            [
                "skipping plaintext service account token for key [elastic/fleet-server/p]",
                "found duplicated key [elastic/fleet-server/a], earlier entries are overridden"
            ]
        );
        assert!(!format!("{p:?}").contains("SSHA256"));
    }

    #[test]
    fn whole_file_failures() {
        let e = parse_service_tokens_file(b"# c\n\nok:{SHA}x\nbroken\n").unwrap_err();
        assert_eq!(e.to_string(), "Missing ':' character at line #4");
        let e = parse_service_tokens_file(b"a:{SHA}x\n\xff\xfe").unwrap_err();
        assert!(matches!(e, FileParseError::MalformedInput { .. }));
        let e = parse_service_tokens_file(b"a:{PBKDF2}abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The number of iterations could not be determined from the provided PBKDF2 hash."
        );
        let (p, warn) = parse_service_tokens_file_lenient(b"x");
        assert!(p.is_empty());
        assert_eq!(
            warn.unwrap(),
            "failed to parse service tokens file [config/service_tokens]. skipping/removing all tokens..."
        );
    }

    #[test]
    fn write_sorted() {
        let mut p = ParsedTokens::new();
        p.insert("b".into(), "{SHA}2".into());
        p.insert("a".into(), "{SHA}1".into());
        assert_eq!(p.to_file_bytes(), b"a:{SHA}1\nb:{SHA}2\n");
    }
}
