//! Authenticating a REST request: `SEC/authc/AuthenticatorChain.java` with its authenticators in
//! Elasticsearch's order (service account token, `OAuth2` token, API key, realms), and the 401 bodies of
//! `CORE/authc/DefaultAuthenticationFailureHandler.java` (AK-R3.6).

use super::Cluster;
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::api_key::{
    ApiKeyAuthentication, ApiKeyCredentials, ApiKeyType, AuthOutcome, AuthStep,
};
use crate::security::hashing::Secret;
use crate::security::service_account::{ServiceAccountAuthOutcome, ServiceAccountToken};
use base64::Engine;
use serde_json::{json, Map, Value};

/// A realm reference (`authentication_realm` / `lookup_realm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmRef {
    pub name: String,
    pub type_: String,
}

/// Who a request authenticated as.
#[derive(Debug, Clone, PartialEq)]
pub enum Authentication {
    /// A user from a realm (reserved `elastic`, native users).
    Realm {
        username: String,
        roles: Vec<String>,
        full_name: Option<String>,
        email: Option<String>,
        metadata: Value,
        realm: RealmRef,
    },
    ApiKey(Box<ApiKeyAuthentication>),
    ServiceAccount {
        principal: String,
        token_name: String,
        /// `file` or `index`.
        source: &'static str,
    },
}

impl Authentication {
    pub(crate) fn principal(&self) -> &str {
        match self {
            Authentication::Realm { username, .. } => username,
            Authentication::ApiKey(a) => &a.creator.principal,
            Authentication::ServiceAccount { principal, .. } => principal,
        }
    }

    /// The `_authenticate` body (`Authentication.toXContentFragment`).
    pub(crate) fn to_json(&self) -> Value {
        let realm = |name: &str, type_: &str| json!({"name": name, "type": type_});
        let mut m = Map::new();
        match self {
            Authentication::Realm {
                username,
                roles,
                full_name,
                email,
                metadata,
                realm: r,
            } => {
                m.insert("username".into(), json!(username));
                m.insert("roles".into(), json!(roles));
                m.insert("full_name".into(), json!(full_name));
                m.insert("email".into(), json!(email));
                m.insert("metadata".into(), metadata.clone());
                m.insert("enabled".into(), json!(true));
                m.insert("authentication_realm".into(), realm(&r.name, &r.type_));
                m.insert("lookup_realm".into(), realm(&r.name, &r.type_));
                m.insert("authentication_type".into(), json!("realm"));
            }
            Authentication::ApiKey(a) => {
                m.insert("username".into(), json!(a.creator.principal));
                m.insert("roles".into(), json!([]));
                m.insert("full_name".into(), json!(a.creator.full_name));
                m.insert("email".into(), json!(a.creator.email));
                m.insert("metadata".into(), a.creator.metadata.clone());
                m.insert("enabled".into(), json!(true));
                m.insert(
                    "authentication_realm".into(),
                    realm("_es_api_key", "_es_api_key"),
                );
                m.insert("lookup_realm".into(), realm("_es_api_key", "_es_api_key"));
                m.insert("authentication_type".into(), json!("api_key"));
                let mut key = Map::new();
                key.insert("id".into(), json!(a.id));
                if let Some(name) = &a.name {
                    key.insert("name".into(), json!(name));
                }
                m.insert("api_key".into(), Value::Object(key));
            }
            Authentication::ServiceAccount {
                principal,
                token_name,
                source,
            } => {
                m.insert("username".into(), json!(principal));
                m.insert("roles".into(), json!([]));
                m.insert(
                    "full_name".into(),
                    json!(format!("Service account - {principal}")),
                );
                m.insert("email".into(), Value::Null);
                m.insert(
                    "token".into(),
                    json!({"name": token_name, "type": format!("_service_account_{source}")}),
                );
                m.insert("metadata".into(), json!({"_elastic_service_account": true}));
                m.insert("enabled".into(), json!(true));
                m.insert(
                    "authentication_realm".into(),
                    realm("_service_account", "_service_account"),
                );
                m.insert(
                    "lookup_realm".into(),
                    realm("_service_account", "_service_account"),
                );
                m.insert("authentication_type".into(), json!("token"));
            }
        }
        Value::Object(m)
    }
}

/// The result of authenticating a request.
// Returned once per request and consumed at once, never stored in bulk: boxing the common variant
// would add an allocation to every authentication for no saving.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum AuthenticationOutcome {
    Authenticated(Authentication),
    Failed(EsError),
    /// Waiting for a verification in the node's crypto pool.
    Pending {
        request: u64,
    },
}

/// The challenges a 401 carries, in the order real 8.x clusters send them.
pub(crate) fn www_authenticate() -> Vec<String> {
    vec![
        "Basic realm=\"security\", charset=\"UTF-8\"".to_string(),
        "Bearer realm=\"security\"".to_string(),
        "ApiKey".to_string(),
    ]
}

/// `missing authentication credentials for REST request [<uri>]`.
pub(crate) fn missing_credentials(uri: &str) -> EsError {
    EsError::security(
        format!("missing authentication credentials for REST request [{uri}]"),
        401,
    )
    .with_header("WWW-Authenticate", www_authenticate())
}

/// The failure when every authenticator that saw a credential was unsuccessful (AK-R3.6).
pub(crate) fn unsuccessful_credentials(messages: &[String]) -> EsError {
    let mut e = EsError::security(
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
        401,
    );
    if !messages.is_empty() {
        e = e.with_metadata("additional_unsuccessful_credentials", messages.join(", "));
    }
    e.with_header("WWW-Authenticate", www_authenticate())
}

/// `Authenticator.extractCredentialFromHeaderValue`: `<scheme> <credential>`, credential non-empty.
/// The scheme is compared as Java's `String.regionMatches(true, ..)` does, char by char and
/// case-insensitively, so `baſic` (long s) matches `Basic` as in Elasticsearch. Works on any
/// string: no byte offset is assumed to be a char boundary.
pub(crate) fn credential_for_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    after_scheme(header, scheme).filter(|credential| !credential.is_empty())
}

/// What follows `<scheme> ` when `header` starts with it (case-insensitively, as Java's
/// `regionMatches(true, ..)`), possibly empty.
fn after_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let mut chars = header.chars();
    for expected in scheme.chars().chain(std::iter::once(' ')) {
        if java_fold_case(chars.next()?) != java_fold_case(expected) {
            return None;
        }
    }
    Some(chars.as_str())
}

/// The case folding of Java's `regionMatches(ignoreCase)`: two chars match when their upper cases
/// or the lower cases of their upper cases are equal. Against the ASCII letters of an auth scheme
/// that means ASCII case folding plus the four non-ASCII chars whose (simple) case mappings are
/// ASCII: dotless `ı` and `İ` (i), long `ſ` (s), and the Kelvin sign (k).
fn java_fold_case(c: char) -> char {
    match c {
        '\u{0131}' | '\u{0130}' => 'i',
        '\u{017F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// `ApiKeyService.parseApiKey` (R3.1): standard Base64 of `id:secret`; a colon at index < 1 is
/// `invalid ApiKey value`. Elasticsearch throws `IllegalArgumentException`s here, which
/// `AuthenticatorChain` records as `API key: <message>` before going on (see
/// [`unsuccessful_credentials`]).
pub(crate) fn parse_api_key_credential(value: &str) -> Result<ApiKeyCredentials, String> {
    let bytes = decode_base64_lenient(value)
        .map_err(|b| format!("Illegal base64 character {}", java_byte_hex(b)))?;
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((id, secret)) if !id.is_empty() => Ok(ApiKeyCredentials {
            id: id.to_string(),
            secret: Secret::new(secret),
            expected_type: ApiKeyType::Rest,
        }),
        _ => Err("invalid ApiKey value".to_string()),
    }
}

/// `Integer.toString(b, 16)` of a Java (signed) byte, as `java.util.Base64` prints a bad input
/// byte: `2d` for `-`, `-3d` for `0xC3`.
fn java_byte_hex(b: u8) -> String {
    let signed = i32::from(b as i8);
    if signed < 0 {
        format!("-{:x}", -signed)
    } else {
        format!("{signed:x}")
    }
}

/// `java.util.Base64.getDecoder()`: the standard alphabet, padding optional. Returns the first bad
/// byte on failure.
fn decode_base64_lenient(value: &str) -> Result<Vec<u8>, u8> {
    if let Some(&bad) = value
        .as_bytes()
        .iter()
        .find(|&&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='))
    {
        return Err(bad);
    }
    let trimmed = value.trim_end_matches('=');
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(trimmed).map_err(|_| b'=')
}

/// `Basic base64(user:password)` (`UsernamePasswordToken.extractToken`): nothing after the prefix is
/// a bad value; the rest is trimmed (Java's `trim`), decoded with Java's lenient Base64 decoder,
/// read as UTF-8 with malformed bytes replaced (`CharArrays.utf8BytesToChars`), and split at the
/// first `:`.
fn parse_basic(value: &str) -> Result<(String, Secret), EsError> {
    let bad_value = || EsError::security("invalid basic authentication header value", 401);
    if value.is_empty() {
        return Err(bad_value());
    }
    let bytes = decode_base64_lenient(value.trim_matches(|c: char| c <= ' '))
        .map_err(|_| EsError::security("invalid basic authentication header encoding", 401))?;
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((user, password)) => Ok((user.to_string(), Secret::new(password))),
        None => Err(bad_value()),
    }
}

impl Cluster {
    /// Authenticates a REST request received by `node`.
    pub fn authenticate_request(
        &mut self,
        node: NodeIndex,
        authorization: Option<&str>,
        uri: &str,
    ) -> AuthenticationOutcome {
        let request = self.next_request_id();
        let outcome = self.authenticate_inner(node, authorization, uri, request);
        self.record_auth(node, &outcome);
        outcome
    }

    fn record_auth(&mut self, node: NodeIndex, outcome: &AuthenticationOutcome) {
        let now = self.clock.now();
        match outcome {
            AuthenticationOutcome::Authenticated(a) => {
                let (key, detail) = match a {
                    Authentication::Realm {
                        username, realm, ..
                    } => (username.clone(), realm.type_.clone()),
                    Authentication::ApiKey(k) => (k.id.clone(), "api_key".to_string()),
                    Authentication::ServiceAccount {
                        principal,
                        token_name,
                        source,
                    } => (
                        format!("{principal}/{token_name}"),
                        format!("_service_account_{source}"),
                    ),
                };
                self.events.record(
                    now,
                    node,
                    EventKind::AuthSuccess,
                    CacheId::None,
                    &key,
                    &detail,
                );
            }
            AuthenticationOutcome::Failed(e) => {
                let kind = if e.status == 429 {
                    EventKind::AuthRejected
                } else {
                    EventKind::AuthFailure
                };
                let detail = e
                    .metadata
                    .get("additional_unsuccessful_credentials")
                    .and_then(Value::as_str)
                    .unwrap_or(&e.reason)
                    .to_string();
                self.events
                    .record(now, node, kind, CacheId::None, "", &detail);
            }
            AuthenticationOutcome::Pending { .. } => {}
        }
    }

    fn authenticate_inner(
        &mut self,
        node: NodeIndex,
        authorization: Option<&str>,
        uri: &str,
        request: u64,
    ) -> AuthenticationOutcome {
        let Some(header) = authorization.filter(|h| !h.trim().is_empty()) else {
            return AuthenticationOutcome::Failed(missing_credentials(uri));
        };
        if let Some(token) = credential_for_scheme(header, "Bearer") {
            return self.authenticate_bearer(node, token, uri);
        }
        if let Some(value) = credential_for_scheme(header, "ApiKey") {
            // `parseCredentialsFromApiKeyString`: with API keys disabled the header is ignored.
            if !self.settings.api_key.enabled {
                return AuthenticationOutcome::Failed(missing_credentials(uri));
            }
            // `AuthenticatorChain`: an `IllegalArgumentException` from `extractCredentials` is an
            // unsuccessful attempt (`API key: <message>`); no realm takes an `ApiKey` header, so the
            // chain ends in `handleNullToken` with a 401 that carries the message.
            let credentials = match parse_api_key_credential(value) {
                Ok(c) => c,
                Err(message) => {
                    return AuthenticationOutcome::Failed(unsuccessful_credentials(&[format!(
                        "API key: {message}"
                    )]))
                }
            };
            let step = self.with_node(node, |n, index, ctx| {
                let super::Node {
                    api_keys,
                    crypto_pool,
                    ..
                } = n;
                api_keys.authenticate(credentials, request, index, crypto_pool, ctx)
            });
            return api_key_step_to_outcome(step, &self.nodes[node as usize].name);
        }
        if let Some(value) = after_scheme(header, "Basic") {
            let (username, password) = match parse_basic(value) {
                Ok(p) => p,
                Err(e) => {
                    return AuthenticationOutcome::Failed(
                        e.with_header("WWW-Authenticate", www_authenticate()),
                    )
                }
            };
            return match self.authenticate_basic(node, &username, &password) {
                Some(a) => AuthenticationOutcome::Authenticated(a),
                None => AuthenticationOutcome::Failed(
                    EsError::security(
                        format!(
                            "unable to authenticate user [{username}] for REST request [{uri}]"
                        ),
                        401,
                    )
                    .with_header("WWW-Authenticate", www_authenticate()),
                ),
            };
        }
        // A scheme no authenticator handles: no credentials as far as Elasticsearch is concerned.
        AuthenticationOutcome::Failed(missing_credentials(uri))
    }

    /// A bearer token: a service account token (A2) when it parses as one (T4), else an `OAuth2`
    /// access token, which escache does not issue, so it cannot be valid.
    fn authenticate_bearer(
        &mut self,
        node: NodeIndex,
        token: &str,
        _uri: &str,
    ) -> AuthenticationOutcome {
        let Some(token) = ServiceAccountToken::try_parse(token) else {
            return AuthenticationOutcome::Failed(unsuccessful_credentials(&[]));
        };
        let outcome = self.with_node(node, |n, index, ctx| {
            n.service_accounts.authenticate(&token, index, ctx)
        });
        match outcome {
            ServiceAccountAuthOutcome::Success(a) => {
                AuthenticationOutcome::Authenticated(Authentication::ServiceAccount {
                    principal: a.principal,
                    token_name: a.token_name,
                    source: a.source.as_str(),
                })
            }
            // `exceptionProcessingRequest`: a 401 security exception gets the challenges; anything else
            // is wrapped as `error attempting to authenticate request`.
            ServiceAccountAuthOutcome::Failure(e) => {
                AuthenticationOutcome::Failed(e.with_header("WWW-Authenticate", www_authenticate()))
            }
            ServiceAccountAuthOutcome::Exception(cause) => AuthenticationOutcome::Failed(
                EsError::security("error attempting to authenticate request", 401)
                    .with_cause(cause)
                    .with_header("WWW-Authenticate", www_authenticate()),
            ),
        }
    }
}

/// How an API key step ends a request: success, 401 with the message under
/// `additional_unsuccessful_credentials`, 401 for a terminate, or 429 for a rejection.
pub(crate) fn api_key_step_to_outcome(step: AuthStep, node_name: &str) -> AuthenticationOutcome {
    match step {
        AuthStep::Pending { request } => AuthenticationOutcome::Pending { request },
        AuthStep::Done(AuthOutcome::Success(a)) => AuthenticationOutcome::Authenticated(Authentication::ApiKey(a)),
        AuthStep::Done(AuthOutcome::Unsuccessful { message }) => {
            AuthenticationOutcome::Failed(unsuccessful_credentials(&[format!("API key: {message}")]))
        }
        AuthStep::Done(AuthOutcome::Terminate { too_busy: true, .. }) => AuthenticationOutcome::Failed(EsError::new(
            ExceptionType::EsRejectedExecution,
            format!(
                "rejected execution of API key hash verification on EsThreadPoolExecutor[name = {node_name}/security-crypto, queue capacity = 1000]"
            ),
            429,
        )),
        AuthStep::Done(AuthOutcome::Terminate { message, .. }) => {
            AuthenticationOutcome::Failed(EsError::security(message, 401).with_header("WWW-Authenticate", www_authenticate()))
        }
        AuthStep::Done(AuthOutcome::Exception(cause)) => AuthenticationOutcome::Failed(
            EsError::security("error attempting to authenticate request", 401)
                .with_cause(cause)
                .with_header("WWW-Authenticate", www_authenticate()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn scheme_extraction_follows_elasticsearch() {
        assert_eq!(credential_for_scheme("ApiKey abc", "ApiKey"), Some("abc"));
        assert_eq!(credential_for_scheme("apikey abc", "ApiKey"), Some("abc"));
        assert_eq!(credential_for_scheme("ApiKey ", "ApiKey"), None);
        assert_eq!(credential_for_scheme("ApiKeyabc", "ApiKey"), None);
        assert_eq!(credential_for_scheme("Basic abc", "ApiKey"), None);
        // Java's case-insensitive region match: long s, dotless i, Kelvin sign.
        assert_eq!(credential_for_scheme("Baſic abc", "Basic"), Some("abc"));
        assert_eq!(credential_for_scheme("BASıC abc", "Basic"), Some("abc"));
        assert_eq!(
            credential_for_scheme("Apİ\u{212A}ey k", "ApiKey"),
            Some("k")
        );
        assert_eq!(credential_for_scheme("Basic\u{a0}abc", "Basic"), None);
    }

    /// Issue 8, point 2: non-ASCII chars anywhere around the scheme (the report had `é` at bytes
    /// 4..6 of `abcdéx`, which sliced `header[..5]` inside the char) never panic.
    #[test]
    fn issue8_d02_scheme_extraction_on_non_ascii_headers() {
        for header in [
            "abcdéx",
            "abcdé",
            "Basicé",
            "Basiéc x",
            "ApiKeé x",
            "Beareré",
            "éééééééé",
            "Basic é",
        ] {
            for scheme in ["Basic", "ApiKey", "Bearer"] {
                let got = credential_for_scheme(header, scheme);
                assert!(got.is_none() || header.ends_with(got.unwrap_or_default()));
            }
        }
        assert_eq!(credential_for_scheme("Basic é", "Basic"), Some("é"));
    }

    #[test]
    fn api_key_value_parsing() {
        let c = parse_api_key_credential(&STANDARD.encode("id1:secret")).unwrap();
        assert_eq!(c.id, "id1");
        assert_eq!(c.secret.expose(), "secret");
        assert_eq!(
            parse_api_key_credential(&STANDARD.encode(":x")).unwrap_err(),
            "invalid ApiKey value"
        );
        assert_eq!(
            parse_api_key_credential(&STANDARD.encode("nocolon")).unwrap_err(),
            "invalid ApiKey value"
        );
        assert_eq!(
            parse_api_key_credential("a-b").unwrap_err(),
            "Illegal base64 character 2d"
        );
        // Java prints the (signed) byte: the first byte of `é` is 0xC3, i.e. -61.
        assert_eq!(
            parse_api_key_credential("aé").unwrap_err(),
            "Illegal base64 character -3d"
        );
        // Padding is optional on decode.
        assert_eq!(
            parse_api_key_credential(STANDARD.encode("k:s").trim_end_matches('='))
                .unwrap()
                .id,
            "k"
        );
    }
}
