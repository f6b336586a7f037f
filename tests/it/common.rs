//! Helpers that several test modules share, each written once.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use escache::events::CacheId;
use escache::time::NANOS_PER_MINUTE;

/// The API key doc cache's default TTL (R2.2).
pub const DOC_TTL: u64 = 5 * NANOS_PER_MINUTE;

pub const FILE: CacheId = CacheId::FileServiceAccountToken;
pub const INDEX: CacheId = CacheId::IndexServiceAccountToken;
pub const FLEET: &str = "elastic/fleet-server";

/// Elasticsearch's own `service_tokens` test resource (`tests/data/README.md`).
pub const SERVICE_TOKENS: &str = include_str!("../data/service_tokens");

/// Secrets of the `service_tokens` file's tokens, decoded from
/// `FileServiceAccountTokenStoreTests.TOKENS` (token name -> secret).
pub const SERVICE_TOKEN_SECRETS: [(&str, &str); 5] = [
    ("bcrypt", "XE90eAaoT1iW1W-vJf34qw"),
    ("bcrypt10", "52ejXlazRBafLuzGM5hFcg"),
    ("pbkdf2", "5DjRC_XRSAql5Hlampyv7Q"),
    ("pbkdf2_50000", "wn0Xfx5IRHy2lOKScvfwrg"),
    ("pbkdf2_stretch", "aI_0QLRfRyGBP1U60Sby2w"),
];

/// An `Authorization: Basic` header value.
pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// The `Authorization` header of the bootstrap superuser `elastic:changeme`.
pub fn admin() -> String {
    format!("Basic {}", STANDARD.encode("elastic:changeme"))
}

/// The V1 validation message for a bad service token name.
pub fn v1_message(name: &str) -> String {
    format!(
        "invalid service token name [{name}]. service account token name must have at least 1 character \
         and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore \
         (_). It must not begin with an underscore (_)."
    )
}
