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
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

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
}

/// The `_authenticate` body (`Authentication.toXContentFragment`), serialised by serde straight to
/// bytes ([`authenticate_body_bytes`]; no `Value` built). Field order is Elasticsearch's.
pub(crate) struct AuthenticateBody<'a>(pub(crate) &'a Authentication);

/// The `_authenticate` body as compact JSON bytes, what `serde_json::to_vec(&AuthenticateBody(auth))`
/// writes. An API key's (the request path issue 13 measures) is written by hand: the constant parts
/// as bytes, only its strings and metadata through `serde_json` (for escaping), which halves the cost
/// of the body; the test `api_key_body_bytes_are_what_serde_writes` holds the two to the same bytes.
pub(crate) fn authenticate_body_bytes(auth: &Authentication) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let written = match auth {
        Authentication::ApiKey(a) => write_api_key_body(&mut out, a),
        other => serde_json::to_writer(&mut out, &AuthenticateBody(other)),
    };
    // ok: writing strings, options and a `Value` into a Vec cannot fail; fall back to serde if it did.
    if written.is_err() {
        out.clear();
        out = serde_json::to_vec(&AuthenticateBody(auth)).unwrap_or_default();
    }
    out
}

fn write_api_key_body(out: &mut Vec<u8>, a: &ApiKeyAuthentication) -> serde_json::Result<()> {
    out.extend_from_slice(br#"{"username":"#);
    serde_json::to_writer(&mut *out, &a.creator.principal)?;
    out.extend_from_slice(br#","roles":[],"full_name":"#);
    serde_json::to_writer(&mut *out, &a.creator.full_name)?;
    out.extend_from_slice(br#","email":"#);
    serde_json::to_writer(&mut *out, &a.creator.email)?;
    out.extend_from_slice(br#","metadata":"#);
    serde_json::to_writer(&mut *out, &a.creator.metadata)?;
    out.extend_from_slice(
        br#","enabled":true,"authentication_realm":{"name":"_es_api_key","type":"_es_api_key"},"lookup_realm":{"name":"_es_api_key","type":"_es_api_key"},"authentication_type":"api_key","api_key":{"id":"#,
    );
    serde_json::to_writer(&mut *out, &*a.id)?;
    if let Some(name) = &a.name {
        out.extend_from_slice(br#","name":"#);
        serde_json::to_writer(&mut *out, name)?;
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

/// `authentication_realm` / `lookup_realm` / a service account's `token`.
#[derive(Serialize)]
struct NameAndType<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    type_: &'a str,
}

/// An API key's `api_key` object: `name` only when the key has one.
#[derive(Serialize)]
struct KeyRef<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// `metadata` of a service account.
#[derive(Serialize)]
struct ServiceAccountMetadata {
    _elastic_service_account: bool,
}

impl Serialize for AuthenticateBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const NO_ROLES: [&str; 0] = [];
        let mut m = s.serialize_map(None)?;
        match self.0 {
            Authentication::Realm {
                username,
                roles,
                full_name,
                email,
                metadata,
                realm: r,
            } => {
                let realm = NameAndType {
                    name: &r.name,
                    type_: &r.type_,
                };
                m.serialize_entry("username", username)?;
                m.serialize_entry("roles", roles)?;
                m.serialize_entry("full_name", full_name)?;
                m.serialize_entry("email", email)?;
                m.serialize_entry("metadata", metadata)?;
                m.serialize_entry("enabled", &true)?;
                m.serialize_entry("authentication_realm", &realm)?;
                m.serialize_entry("lookup_realm", &realm)?;
                m.serialize_entry("authentication_type", "realm")?;
            }
            Authentication::ApiKey(a) => {
                let realm = NameAndType {
                    name: "_es_api_key",
                    type_: "_es_api_key",
                };
                m.serialize_entry("username", &a.creator.principal)?;
                m.serialize_entry("roles", &NO_ROLES)?;
                m.serialize_entry("full_name", &a.creator.full_name)?;
                m.serialize_entry("email", &a.creator.email)?;
                m.serialize_entry("metadata", &a.creator.metadata)?;
                m.serialize_entry("enabled", &true)?;
                m.serialize_entry("authentication_realm", &realm)?;
                m.serialize_entry("lookup_realm", &realm)?;
                m.serialize_entry("authentication_type", "api_key")?;
                let key = KeyRef {
                    id: &a.id,
                    name: a.name.as_deref(),
                };
                m.serialize_entry("api_key", &key)?;
            }
            Authentication::ServiceAccount {
                principal,
                token_name,
                source,
            } => {
                let realm = NameAndType {
                    name: "_service_account",
                    type_: "_service_account",
                };
                let token_type = format!("_service_account_{source}");
                m.serialize_entry("username", principal)?;
                m.serialize_entry("roles", &NO_ROLES)?;
                m.serialize_entry("full_name", &format!("Service account - {principal}"))?;
                m.serialize_entry("email", &None::<&str>)?;
                m.serialize_entry(
                    "token",
                    &NameAndType {
                        name: token_name,
                        type_: &token_type,
                    },
                )?;
                m.serialize_entry(
                    "metadata",
                    &ServiceAccountMetadata {
                        _elastic_service_account: true,
                    },
                )?;
                m.serialize_entry("enabled", &true)?;
                m.serialize_entry("authentication_realm", &realm)?;
                m.serialize_entry("lookup_realm", &realm)?;
                m.serialize_entry("authentication_type", "token")?;
            }
        }
        m.end()
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
            id: id.into(),
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
                    Authentication::ApiKey(k) => (k.id.to_string(), "api_key".to_string()),
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
        AuthStep::Done(AuthOutcome::Success(a)) => AuthenticationOutcome::Authenticated(Authentication::ApiKey(Box::new(a))),
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
    use serde_json::json;

    /// The hand-written API key body is byte for byte what the serde description writes, with and
    /// without a name, with strings that need escaping and with metadata.
    #[test]
    fn api_key_body_bytes_are_what_serde_writes() {
        use crate::security::api_key::{ApiKeyDoc, ApiKeyDocFields, ApiKeyType, Creator};
        for (name, full_name, metadata) in [
            (Some("k"), None, json!({"_reserved": true})),
            (None, Some("Ann \"A\" \u{e9}\n"), json!({})),
            (Some("\u{1F600}\\"), Some(""), Value::Null),
        ] {
            let doc = ApiKeyDoc::new(
                ApiKeyDocFields {
                    doc_type: "api_key".into(),
                    key_type: ApiKeyType::Rest,
                    creation_time: 0,
                    expiration_time: -1,
                    invalidated: Some(false),
                    invalidation_time: None,
                    hash: None,
                    name: name.map(str::to_string),
                    version: 1,
                    metadata_flattened: None,
                    creator: Creator {
                        principal: "el\"astic".into(),
                        full_name: full_name.map(str::to_string),
                        email: Some("a@b".into()),
                        metadata,
                        realm: "reserved".into(),
                        realm_type: "reserved".into(),
                    },
                },
                "{}".into(),
                "{}".into(),
            );
            let auth = Authentication::ApiKey(Box::new(ApiKeyAuthentication {
                id: "id\t1".into(),
                doc,
            }));
            assert_eq!(
                authenticate_body_bytes(&auth),
                serde_json::to_vec(&AuthenticateBody(&auth)).unwrap()
            );
        }
    }

    /// The `_authenticate` body goes out as serde writes it, in Elasticsearch's field order
    /// (`Authentication.toXContentFragment`).
    #[test]
    fn authenticate_body_bytes_in_elasticsearch_order() {
        let user = Authentication::Realm {
            username: "elastic".into(),
            roles: vec!["superuser".into()],
            full_name: None,
            email: Some("e@x".into()),
            metadata: json!({"_reserved": true}),
            realm: RealmRef {
                name: "reserved".into(),
                type_: "reserved".into(),
            },
        };
        assert_eq!(
            String::from_utf8(serde_json::to_vec(&AuthenticateBody(&user)).unwrap()).unwrap(),
            r#"{"username":"elastic","roles":["superuser"],"full_name":null,"email":"e@x","metadata":{"_reserved":true},"enabled":true,"authentication_realm":{"name":"reserved","type":"reserved"},"lookup_realm":{"name":"reserved","type":"reserved"},"authentication_type":"realm"}"#
        );
        let token = Authentication::ServiceAccount {
            principal: "elastic/fleet-server".into(),
            token_name: "t1".into(),
            source: "file",
        };
        assert_eq!(
            String::from_utf8(serde_json::to_vec(&AuthenticateBody(&token)).unwrap()).unwrap(),
            r#"{"username":"elastic/fleet-server","roles":[],"full_name":"Service account - elastic/fleet-server","email":null,"token":{"name":"t1","type":"_service_account_file"},"metadata":{"_elastic_service_account":true},"enabled":true,"authentication_realm":{"name":"_service_account","type":"_service_account"},"lookup_realm":{"name":"_service_account","type":"_service_account"},"authentication_type":"token"}"#
        );
    }

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
        assert_eq!(&*c.id, "id1");
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
            "k".into()
        );
    }
}
