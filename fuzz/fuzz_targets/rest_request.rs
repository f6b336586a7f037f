//! The REST layer end to end (`rest::handle`, what `Cluster.perform_request`, the in-process client and
//! `escache serve` all call): routing, query and path decoding, authentication headers, body parsing
//! and every handler, on a small in-memory cluster.
//!
//! Each input is a few requests (method, path, query, `Authorization`, headers, body) structured with
//! `arbitrary`, or one request written as text (`REQ ` first, see `RAW_PREFIX`: the hand-written
//! seeds), against a fresh two-node cluster where the `elastic` user has a known password and one API
//! key (and, when the input uses it, one service token) has been created. Oracle, for every response:
//! - no panic (any panic aborts the fuzzer);
//! - a status in 100..=599 other than 500; header names and values free of CR, LF and NUL; the
//!   `X-Elastic-Product` header; a body that is empty (HEAD and OPTIONS answers) or JSON that parses;
//!   an error status with a body has an `error` field (or is the 404 `{"found":false}` of a token
//!   delete), and its `status` field, if any, is the status;
//! - no secret (the password, every API key secret and service token secret created so far, in any
//!   encoding: raw, `id:secret`, Base64) in the body or headers, except in the create response that
//!   hands it out, or where the request itself carried it outside its `Authorization` header.
//!
//! Check names for `ESCACHE_FUZZ_SKIP` (fuzz/README.md): `status-500`, `head-body`, `error-body`,
//! `secrets`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use escache::cluster::{Cluster, ClusterConfig};
use escache::rest::{handle, Response};
use escache::security::settings::SecuritySettings;
use escache_fuzz::secrets::Secret;
use escache_fuzz::skipped;
use escache_fuzz::value::{arbitrary_object, arbitrary_word};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const PASSWORD: &str = "fuzz-elastic-pw";

#[derive(Arbitrary, Debug)]
enum MethodIn {
    Get,
    Post,
    Put,
    Delete,
    Head,
    Options,
    Patch,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Segment {
    KeyId,
    Elastic,
    FleetServer,
    TokenName,
    Star,
    Empty,
    Word(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum PathIn {
    Known(u8, [Segment; 3]),
    Raw(String),
}

/// Paths with `{}` for segments the fuzzer fills in.
const PATHS: &[&str] = &[
    "/",
    "/_security/api_key",
    "/_security/api_key/{}",
    "/_security/api_key/{}/_clear_cache",
    "/_security/_authenticate",
    "/_security/user/{}",
    "/_security/role/{}",
    "/_security/service",
    "/_security/service/{}",
    "/_security/service/{}/{}",
    "/_security/service/{}/{}/credential",
    "/_security/service/{}/{}/credential/token",
    "/_security/service/{}/{}/credential/token/{}",
    "/_security/service/{}/{}/credential/token/{}/_clear_cache",
    "/_security/user/_has_privileges",
    "/_security/api_key/_query",
    "/_nope/{}",
];

const PARAMS: &[&str] = &[
    "error_trace",
    "filter_path",
    "format",
    "human",
    "pretty",
    "ids",
    "id",
    "name",
    "owner",
    "realm_name",
    "username",
    "refresh",
    "active_only",
    "with_limited_by",
    "with_profile_uid",
    "operatorRequest",
    "serverlessRequest",
];

#[derive(Arbitrary, Debug)]
enum AuthIn {
    None,
    Elastic,
    WrongPassword,
    CreatedKey,
    CreatedKeyWrongSecret,
    ServiceToken,
    Basic(String, String),
    ApiKey(String, String),
    ApiKeyRaw(String),
    Bearer(String),
    /// The first `n` bytes of a scheme (`Basic `, `ApiKey `, `Bearer `), a multi-byte char or
    /// spaces, then any text: the header shapes that probe char boundaries and scheme matching.
    SchemePrefix(u8, u8, u8, String),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum BodyIn {
    None,
    Raw(Vec<u8>),
    Text(String),
    Json(JsonBody),
}

#[derive(Debug)]
struct JsonBody(Value);

impl<'a> Arbitrary<'a> for JsonBody {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut m = arbitrary_object(u, 4)?;
        // Often a body that gets past the first field checks.
        if u.ratio(1, 2)? {
            m.insert("name".into(), Value::String(arbitrary_word(u)?));
        }
        Ok(JsonBody(Value::Object(m)))
    }
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    Json,
    None,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Step {
    method: MethodIn,
    path: PathIn,
    params: Vec<(u8, String)>,
    raw_query: Option<String>,
    auth: AuthIn,
    content_type: ContentType,
    headers: Vec<(String, String)>,
    body: BodyIn,
    node: bool,
    advance_seconds: Option<u16>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    steps: Vec<Step>,
}

/// The fixture: a cluster, its credentials and every secret handed out so far.
struct World {
    cluster: Cluster,
    key_id: String,
    key_secret: String,
    token_name: String,
    token_bearer: String,
    secrets: Vec<Secret>,
}

/// The user name of a `Basic` header, decoded as Elasticsearch reads it (the value trimmed, lenient
/// Base64, lossy UTF-8, up to the first `:`).
fn basic_user_name(header: &str) -> Option<String> {
    let scheme = header.get(..6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let value: String = header[6..]
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let decoded = STANDARD_NO_PAD.decode(value.trim_end_matches('=')).ok()?;
    let text = String::from_utf8_lossy(&decoded).into_owned();
    Some(
        text.split_once(':')
            .map_or(text.clone(), |(u, _)| u.to_owned()),
    )
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn body_json(r: &Response) -> Value {
    serde_json::from_slice(&r.body_bytes()).expect("fixture response is JSON")
}

impl World {
    /// `with_token`: also create a service token (PBKDF2 makes it the fixture's costly part).
    fn new(with_token: bool) -> World {
        let mut config = ClusterConfig::new(2);
        config.password = PASSWORD.into();
        // The cheapest stored-token hasher Elasticsearch allows, for speed.
        config.settings = SecuritySettings::from_pairs([(
            "xpack.security.authc.service_token_hashing.algorithm",
            "pbkdf2_stretch_1000",
        )])
        .expect("valid settings");
        let mut cluster = Cluster::new(config).expect("valid cluster");
        let auth = vec![("Authorization".to_owned(), basic("elastic", PASSWORD))];
        let ct = ("Content-Type".to_owned(), "application/json".to_owned());
        let body =
            json!({"name": "k1", "role_descriptors": {"r": {"cluster": ["manage_own_api_key"]}}});
        let mut headers = auth.clone();
        headers.push(ct);
        let r = handle(
            &mut cluster,
            0,
            "POST",
            "/_security/api_key",
            headers,
            Some(body.to_string().into_bytes()),
        );
        assert_eq!(r.status, 200, "fixture: create API key");
        let created = body_json(&r);
        let key_id = created["id"].as_str().expect("id").to_owned();
        let key_secret = created["api_key"].as_str().expect("api_key").to_owned();
        let mut w = World {
            cluster,
            key_id: key_id.clone(),
            key_secret: key_secret.clone(),
            token_name: "t1".into(),
            token_bearer: String::new(),
            secrets: vec![Secret::new("the elastic password", "elastic", PASSWORD)],
        };
        w.secrets
            .push(Secret::new("API key secret", &key_id, &key_secret));
        if with_token {
            let r = handle(
                &mut w.cluster,
                0,
                "POST",
                "/_security/service/elastic/fleet-server/credential/token/t1",
                auth,
                None,
            );
            assert_eq!(r.status, 200, "fixture: create service token");
            let bearer = body_json(&r)["token"]["value"]
                .as_str()
                .expect("value")
                .to_owned();
            w.add_token_secret(&bearer);
            w.token_bearer = bearer;
        }
        w
    }

    /// A service token's value is `STANDARD_NO_PAD(00 01 00 01 ns/svc/name:secret)` (T2).
    fn add_token_secret(&mut self, bearer: &str) {
        let decoded = STANDARD_NO_PAD
            .decode(bearer)
            .expect("a token value is Base64");
        let text = String::from_utf8(decoded[4..].to_vec()).expect("UTF-8");
        let (principal, secret) = text.split_once(':').expect("name:secret");
        let mut s = Secret::new("service token secret", principal, secret);
        s.forms.push(bearer.to_owned());
        self.secrets.push(s);
    }

    fn segment(&self, s: &Segment) -> String {
        match s {
            Segment::KeyId => self.key_id.clone(),
            Segment::Elastic => "elastic".into(),
            Segment::FleetServer => "fleet-server".into(),
            Segment::TokenName => self.token_name.clone(),
            Segment::Star => "*".into(),
            Segment::Empty => String::new(),
            Segment::Word(i) => {
                escache_fuzz::value::WORDS[*i as usize % escache_fuzz::value::WORDS.len()].into()
            }
            Segment::Raw(r) => r.clone(),
        }
    }

    fn authorization(&self, a: &AuthIn) -> Option<String> {
        Some(match a {
            AuthIn::None => return None,
            AuthIn::Elastic => basic("elastic", PASSWORD),
            AuthIn::WrongPassword => basic("elastic", "not-the-password"),
            AuthIn::CreatedKey => format!(
                "ApiKey {}",
                STANDARD.encode(format!("{}:{}", self.key_id, self.key_secret))
            ),
            AuthIn::CreatedKeyWrongSecret => format!(
                "ApiKey {}",
                STANDARD.encode(format!("{}:wrong", self.key_id))
            ),
            AuthIn::ServiceToken => format!("Bearer {}", self.token_bearer),
            AuthIn::Basic(u, p) => basic(u, p),
            AuthIn::ApiKey(id, s) => format!("ApiKey {}", STANDARD.encode(format!("{id}:{s}"))),
            AuthIn::ApiKeyRaw(v) => format!("ApiKey {v}"),
            AuthIn::Bearer(t) => format!("Bearer {t}"),
            AuthIn::SchemePrefix(i, n, glue, rest) => {
                let scheme = ["Basic ", "ApiKey ", "Bearer "][*i as usize % 3];
                let n = *n as usize % (scheme.len() + 1);
                let glue = ["", "\u{e9}", "\u{20ac}", "\u{1f600}", " ", "  "][*glue as usize % 6];
                format!("{}{glue}{rest}", &scheme[..n])
            }
            AuthIn::Raw(r) => r.clone(),
        })
    }

    fn run(&mut self, step: &Step) {
        let method = match &step.method {
            MethodIn::Get => "GET".to_owned(),
            MethodIn::Post => "POST".into(),
            MethodIn::Put => "PUT".into(),
            MethodIn::Delete => "DELETE".into(),
            MethodIn::Head => "HEAD".into(),
            MethodIn::Options => "OPTIONS".into(),
            MethodIn::Patch => "PATCH".into(),
            MethodIn::Other(m) => m.clone(),
        };
        let mut target = match &step.path {
            PathIn::Known(i, segs) => {
                let mut p = PATHS[*i as usize % PATHS.len()].to_owned();
                for s in segs {
                    if let Some(at) = p.find("{}") {
                        p.replace_range(at..at + 2, &self.segment(s));
                    }
                }
                p
            }
            PathIn::Raw(r) => r.clone(),
        };
        let mut sep = if target.contains('?') { '&' } else { '?' };
        for (k, v) in step.params.iter().take(4) {
            target.push(sep);
            target.push_str(PARAMS[*k as usize % PARAMS.len()]);
            target.push('=');
            target.push_str(v);
            sep = '&';
        }
        if let Some(q) = &step.raw_query {
            target.push(sep);
            target.push_str(q);
        }
        let body: Option<Vec<u8>> = match &step.body {
            BodyIn::None => None,
            BodyIn::Raw(b) => Some(b.clone()),
            BodyIn::Text(t) => Some(t.clone().into_bytes()),
            BodyIn::Json(JsonBody(v)) => Some(v.to_string().into_bytes()),
        };
        let mut headers: Vec<(String, String)> = step.headers.iter().take(4).cloned().collect();
        match &step.content_type {
            ContentType::Json if body.is_some() => {
                headers.push(("Content-Type".into(), "application/json".into()))
            }
            ContentType::Raw(c) => headers.push(("Content-Type".into(), c.clone())),
            _ => {}
        }
        let auth = self.authorization(&step.auth);
        self.send(&method, &target, headers, auth, body, u16::from(step.node));
        if let Some(s) = step.advance_seconds {
            self.cluster
                .advance(u64::from(s) * escache::time::NANOS_PER_SECOND);
        }
    }

    /// Sends one request (`auth` is added as its `Authorization` header) and checks the answer.
    fn send(
        &mut self,
        method: &str,
        target: &str,
        mut headers: Vec<(String, String)>,
        auth: Option<String>,
        body: Option<Vec<u8>>,
        node: u16,
    ) {
        // What the client sent outside its credentials: echoing it back is no leak.
        let mut sent = Vec::new();
        sent.extend_from_slice(method.as_bytes());
        sent.extend_from_slice(target.as_bytes());
        for (k, v) in &headers {
            sent.extend_from_slice(k.as_bytes());
            sent.push(b'\n');
            sent.extend_from_slice(v.as_bytes());
            sent.push(b'\n');
        }
        sent.extend_from_slice(body.as_deref().unwrap_or_default());
        // Elasticsearch echoes a Basic credential's user name (`unable to authenticate user [..]`):
        // the client chose it, so a secret the client put there is its own input, not a leak.
        if let Some(user) = auth.as_deref().and_then(basic_user_name) {
            sent.push(b'\n');
            sent.extend_from_slice(user.as_bytes());
        }
        if let Some(a) = auth {
            headers.push(("Authorization".into(), a));
        }
        let resp = handle(&mut self.cluster, node, method, target, headers, body);
        self.check(method, &resp, &sent);
    }

    /// A request written as text (see [`RAW_PREFIX`]); `$elastic`, `$apikey` and `$token` in the
    /// `Authorization` value stand for the fixture's credentials.
    fn send_text(&mut self, text: &[u8]) {
        let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&text[..i], Some(text[i + 2..].to_vec())),
            None => (text, None),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split('\n');
        let first = lines.next().unwrap_or_default();
        let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
        let mut headers = Vec::new();
        let mut auth = None;
        for line in lines {
            let (k, v) = line.split_once(':').unwrap_or((line, ""));
            let v = v.strip_prefix(' ').unwrap_or(v);
            if k.eq_ignore_ascii_case("authorization") && auth.is_none() {
                let v = v
                    .replace(
                        "$elastic",
                        &self.authorization(&AuthIn::Elastic).unwrap_or_default(),
                    )
                    .replace(
                        "$apikey",
                        &self.authorization(&AuthIn::CreatedKey).unwrap_or_default(),
                    )
                    .replace(
                        "$token",
                        &self
                            .authorization(&AuthIn::ServiceToken)
                            .unwrap_or_default(),
                    );
                auth = Some(v);
            } else {
                headers.push((k.to_owned(), v.to_owned()));
            }
        }
        self.send(method, target, headers, auth, body, 0);
    }

    fn check(&mut self, method: &str, resp: &Response, sent: &[u8]) {
        assert!((100..=599).contains(&resp.status), "status {}", resp.status);
        let bytes = resp.body_bytes();
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("the body is JSON")
        };
        assert!(
            resp.status != 500 || skipped("status-500"),
            "an internal error: {body}"
        );
        assert_eq!(resp.header("X-Elastic-Product"), Some("Elasticsearch"));
        let mut head = Vec::new();
        for (k, v) in &resp.headers {
            assert!(
                !k.contains(['\r', '\n', '\0']) && !v.contains(['\r', '\n', '\0']),
                "header injection: {k:?}: {v:?}"
            );
            head.extend_from_slice(k.as_bytes());
            head.extend_from_slice(v.as_bytes());
        }
        if method == "HEAD" && !skipped("head-body") {
            assert!(bytes.is_empty(), "a body for HEAD");
        }
        if resp.status >= 400 && !body.is_null() {
            // Besides error bodies, ES answers a delete of a missing service token 404 `{"found":false}`
            // (`RestDeleteServiceAccountTokenAction`).
            let not_found = resp.status == 404 && body == json!({"found": false});
            assert!(
                body.get("error").is_some() || not_found || skipped("error-body"),
                "an error without `error`: {body}"
            );
            if let Some(s) = body.get("status") {
                assert_eq!(s.as_u64(), Some(u64::from(resp.status)), "{body}");
            }
        }
        // A create response hands out its new secret: check the others, then remember it.
        let handed_out: Option<Secret> = (resp.status == 200)
            .then(|| {
                if let (Some(id), Some(secret)) = (body["id"].as_str(), body["api_key"].as_str()) {
                    Some(Secret::new("API key secret", id, secret))
                } else {
                    None
                }
            })
            .flatten();
        let bearer = (resp.status == 200)
            .then(|| body["token"]["value"].as_str().map(str::to_owned))
            .flatten();
        for s in &self.secrets {
            for haystack in [&bytes[..], &head[..]] {
                if let Some(form) = s.leaked_in(haystack, sent).filter(|_| !skipped("secrets")) {
                    panic!("{} leaked as {form:?} in {body}", s.label);
                }
            }
        }
        if let Some(s) = handed_out {
            self.secrets.push(s);
        }
        if let Some(b) = bearer {
            self.add_token_secret(&b);
        }
    }
}

/// An input that starts with this is one request written as text: `METHOD TARGET`, then header lines
/// `Name: value`, then an empty line and the body (no body without the empty line). Hand-written
/// seeds use it; any other input is structured ([`Input`]).
const RAW_PREFIX: &[u8] = b"REQ ";

fuzz_target!(|data: &[u8]| {
    if let Some(text) = data.strip_prefix(RAW_PREFIX) {
        let uses_token = escache_fuzz::secrets::contains(text, b"$token");
        World::new(uses_token).send_text(text);
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if input.steps.is_empty() {
        return;
    }
    let with_token = input
        .steps
        .iter()
        .take(4)
        .any(|s| matches!(s.auth, AuthIn::ServiceToken));
    let mut world = World::new(with_token);
    for step in input.steps.iter().take(4) {
        world.run(step);
    }
});
