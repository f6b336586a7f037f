//! Service account tokens: the account id, the qualified name, the bearer string and its parser, and
//! the token-name rule (T1-T4, V1; `CORE/authc/service/ServiceAccountToken.java`,
//! `CORE/authc/service/ServiceAccount.java`, `CORE/support/Validation.java`).

use crate::error::EsError;
use crate::security::hashing::Secret;
use crate::security::ids::{random_base64_uuid, TimeBasedUuidGenerator};
use base64::alphabet;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use rand::RngCore;
use std::fmt;

/// The four bytes every bearer string starts with: magic 0, type 1, reserved 0, format version 1
/// (T2). Base64 of them is why every token starts with `AAEAA`.
pub(crate) const TOKEN_PREFIX: [u8; 4] = [0x00, 0x01, 0x00, 0x01];

/// The shortest secret `ServiceAccountService.authenticateToken` lets through to a store (A2).
pub(crate) const MIN_TOKEN_SECRET_LENGTH: usize = 10;

/// The longest token name V1 allows.
pub(crate) const MAX_TOKEN_NAME_LENGTH: usize = 256;

/// Standard alphabet, padding optional, trailing bits not checked: what the
/// `java.util.Base64.getDecoder().wrap(..)` stream of `fromBearerString` accepts.
const JAVA_DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `ServiceAccountId`: `namespace/service`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceAccountId {
    pub namespace: String,
    pub(crate) service_name: String,
}

impl ServiceAccountId {
    /// The record constructor: namespace and service name must not be blank (Java's
    /// `String.isBlank`).
    ///
    /// # Errors
    /// `illegal_argument_exception` with Elasticsearch's message.
    pub fn new(
        namespace: impl Into<String>,
        service_name: impl Into<String>,
    ) -> Result<Self, EsError> {
        let namespace = namespace.into();
        let service_name = service_name.into();
        if java_is_blank(&namespace) {
            return Err(EsError::illegal_argument(
                "the namespace of a service account ID must not be empty",
            ));
        }
        if java_is_blank(&service_name) {
            return Err(EsError::illegal_argument(
                "the service-name of a service account ID must not be empty",
            ));
        }
        Ok(ServiceAccountId {
            namespace,
            service_name,
        })
    }

    /// `fromPrincipal`: split at the first `/`.
    ///
    /// # Errors
    /// `illegal_argument_exception` without a `/`, or with a blank part.
    pub fn from_principal(principal: &str) -> Result<Self, EsError> {
        match principal.split_once('/') {
            Some((ns, svc)) => Self::new(ns, svc),
            None => Err(EsError::illegal_argument(format!(
                "a service account ID must be in the form {{namespace}}/{{service-name}}, but was [{principal}]"
            ))),
        }
    }

    /// `asPrincipal`: `namespace/service`.
    pub(crate) fn as_principal(&self) -> String {
        format!("{}/{}", self.namespace, self.service_name)
    }
}

impl fmt::Display for ServiceAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.service_name)
    }
}

/// A service account token: account, name and secret. `Debug` shows the secret as
/// `Secret(**redacted**)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountToken {
    pub account: ServiceAccountId,
    pub name: String,
    pub secret: Secret,
}

impl ServiceAccountToken {
    /// The constructor: the name must pass V1.
    ///
    /// # Errors
    /// `illegal_argument_exception` with the V1 message.
    pub fn new(
        account: ServiceAccountId,
        name: impl Into<String>,
        secret: Secret,
    ) -> Result<Self, EsError> {
        let name = name.into();
        validate_token_name(&name)?;
        Ok(ServiceAccountToken {
            account,
            name,
            secret,
        })
    }

    /// `newToken` (T3): the secret is `UUIDs.randomBase64UUIDSecureString()`, 16 random bytes with
    /// the UUID version and variant bits set, URL-safe Base64 without padding: 22 characters.
    ///
    /// # Errors
    /// `illegal_argument_exception` when `name` fails V1 (no randomness is drawn then).
    pub(crate) fn new_token(
        account: ServiceAccountId,
        name: impl Into<String>,
        rng: &mut impl RngCore,
    ) -> Result<Self, EsError> {
        let name = name.into();
        validate_token_name(&name)?;
        let secret = Secret::new(random_base64_uuid(rng));
        Ok(ServiceAccountToken {
            account,
            name,
            secret,
        })
    }

    /// `namespace/service/name`: the cache key everywhere (T1).
    pub fn qualified_name(&self) -> String {
        format!(
            "{}/{}/{}",
            self.account.namespace, self.account.service_name, self.name
        )
    }

    /// `asBearerString` (T2): `00 01 00 01`, `ns/svc/name`, `:`, the secret, all as UTF-8, in
    /// standard Base64 without padding.
    pub fn as_bearer_string(&self) -> String {
        let q = self.qualified_name();
        let secret = self.secret.expose();
        let mut bytes = Vec::with_capacity(4 + q.len() + 1 + secret.len());
        bytes.extend_from_slice(&TOKEN_PREFIX);
        bytes.extend_from_slice(q.as_bytes());
        bytes.push(b':');
        bytes.extend_from_slice(secret.as_bytes());
        STANDARD_NO_PAD.encode(bytes)
    }

    /// `ServiceAccountService.tryParseToken` / `fromBearerString` (T4). Any failure gives `None`
    /// (the header is then not a service token and other bearer handlers get it):
    ///
    /// 1. Base64-decode (standard alphabet; padding optional);
    /// 2. the first 4 bytes must be [`TOKEN_PREFIX`];
    /// 3. the rest is UTF-8 (malformed sequences become U+FFFD, as Java's decoder replaces them),
    ///    split at the **first** `:` (none → `None`);
    /// 4. the left part splits on every `/` into exactly 3 parts (empty parts count);
    /// 5. namespace and service not blank, the name passes V1.
    pub fn try_parse(bearer: &str) -> Option<ServiceAccountToken> {
        let bytes = JAVA_DECODER.decode(bearer.as_bytes()).ok()?;
        if bytes.len() < TOKEN_PREFIX.len() || bytes[..TOKEN_PREFIX.len()] != TOKEN_PREFIX {
            return None;
        }
        let content = String::from_utf8_lossy(&bytes[TOKEN_PREFIX.len()..]);
        let (qualified, secret) = content.split_once(':')?;
        let parts: Vec<&str> = qualified.split('/').collect();
        let [ns, svc, name] = parts.as_slice() else {
            return None;
        };
        let account = ServiceAccountId::new(*ns, *svc).ok()?;
        ServiceAccountToken::new(account, *name, Secret::new(secret)).ok()
    }
}

/// The name of a token created without one (M1): `token_` + `UUIDs.base64UUID()`, the 20-char
/// time-based id.
pub(crate) fn auto_token_name(generator: &mut TimeBasedUuidGenerator, epoch_millis: i64) -> String {
    format!("token_{}", generator.next(epoch_millis))
}

/// V1 (`Validation.isValidServiceAccountTokenName`): `^[a-zA-Z0-9-][a-zA-Z0-9_-]{0,255}$`.
pub fn is_valid_token_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    // Every allowed char is ASCII, so bytes and chars agree whenever the name is valid.
    bytes.len() <= MAX_TOKEN_NAME_LENGTH
        && (first.is_ascii_alphanumeric() || first == b'-')
        && bytes[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `Validation.formatInvalidServiceTokenNameErrorMessage`.
pub(crate) fn invalid_token_name_message(name: &str) -> String {
    format!(
        "invalid service token name [{name}]. service account token name must have at least 1 character and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). It must not begin with an underscore (_)."
    )
}

/// V1 as an error: 400 `illegal_argument_exception` with the exact message.
///
/// # Errors
/// When `name` fails [`is_valid_token_name`].
pub fn validate_token_name(name: &str) -> Result<(), EsError> {
    if is_valid_token_name(name) {
        Ok(())
    } else {
        Err(EsError::illegal_argument(invalid_token_name_message(name)))
    }
}

/// Java's `Character.isWhitespace`: Unicode space separators except the no-break ones
/// (U+00A0, U+2007, U+202F), line and paragraph separators, and `\t \n \u000B \f \r
/// \u001C-\u001F`. (Rust's `char::is_whitespace` also counts U+0085 and the no-break spaces.)
pub(crate) fn java_is_whitespace(c: char) -> bool {
    (c.is_whitespace() && !matches!(c, '\u{85}' | '\u{A0}' | '\u{2007}' | '\u{202F}'))
        || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Java's `String.isBlank`.
pub(crate) fn java_is_blank(s: &str) -> bool {
    s.chars().all(java_is_whitespace)
}

/// Java's `String.trim`: strips every char up to U+0020 from both ends.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Where a token was found (`TokenInfo.TokenSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenSource {
    File,
    Index,
}

impl TokenSource {
    /// `file` / `index`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenSource::File => "file",
            TokenSource::Index => "index",
        }
    }
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const IT_TOKEN: &str =
        "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpyNXdkYmRib1FTZTl2R09Ld2FKR0F3";

    fn fleet() -> ServiceAccountId {
        ServiceAccountId::new("elastic", "fleet-server").unwrap()
    }

    #[test]
    fn t2_example_decodes_and_round_trips() {
        let t = ServiceAccountToken::try_parse(IT_TOKEN).unwrap();
        assert_eq!(t.qualified_name(), "elastic/fleet-server/token1");
        assert_eq!(t.secret.expose(), "r5wdbdboQSe9vGOKwaJGAw");
        assert_eq!(t.as_bearer_string(), IT_TOKEN);
        assert!(!format!("{t:?}").contains("r5wd"));
    }

    #[test]
    fn t3_new_token_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let t = ServiceAccountToken::new_token(fleet(), "tok", &mut rng).unwrap();
        assert_eq!(t.secret.len(), 22);
        assert!(t.as_bearer_string().starts_with("AAEAA"));
        assert!(!t.as_bearer_string().contains('='));
        let back = ServiceAccountToken::try_parse(&t.as_bearer_string()).unwrap();
        assert_eq!(back, t);
        let mut g = TimeBasedUuidGenerator::new(&mut rng);
        let n = auto_token_name(&mut g, 1_767_225_600_000);
        assert_eq!(n.len(), 26);
        assert!(n.starts_with("token_"));
        assert!(is_valid_token_name(&n));
    }

    #[test]
    fn v1_boundaries() {
        assert!(is_valid_token_name("a"));
        assert!(is_valid_token_name("-a"));
        assert!(is_valid_token_name("a_b-C9"));
        assert!(is_valid_token_name(&"x".repeat(256)));
        assert!(!is_valid_token_name(&"x".repeat(257)));
        assert!(!is_valid_token_name(""));
        assert!(!is_valid_token_name("_a"));
        assert!(!is_valid_token_name("a b"));
        assert!(!is_valid_token_name("é"));
        assert!(!is_valid_token_name("*"));
        let e = validate_token_name("_bad").unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e
            .reason
            .starts_with("invalid service token name [_bad]. service account"));
    }

    #[test]
    fn java_whitespace_rules() {
        assert!(java_is_blank(""));
        assert!(java_is_blank(" \t\u{1F}"));
        assert!(!java_is_blank("\u{A0}"));
        assert_eq!(java_trim("\u{0} a \u{7}"), "a");
        assert_eq!(java_trim("\u{A0}a"), "\u{A0}a");
    }
}
