//! `cluster.requests`: what tooling did to a cluster. One record per REST request a node answered
//! (in-process or over HTTP): the API in the official clients' spelling, method, path, parameters,
//! node, who was authenticated, the status, and which cache keys the request cleared on which nodes.
//!
//! Records hold names and ids only. Headers are never read (the `Authorization` header is the
//! credential) and of a body only the few fields [`body_params`] names, none of which carries a
//! secret: a `put_user` password or a created key's secret never enters a record.
//!
//! The log is a ring of at most `capacity` records (10 000 unless set): a long simulation that sends
//! REST requests keeps the newest, counts what it dropped, and never grows without bound. A cluster
//! built in Rust (the simulator's, the benches') records nothing until enabled; the Python `Cluster`
//! enables it. A disabled log costs one flag check per request.

use super::{Authentication, Cluster};
use crate::events::{CacheId, NodeIndex};
use crate::rest::{Request, RouteId};
use crate::security::registry::Invalidator;
use crate::time::Nanos;
use std::collections::VecDeque;

/// A parameter's value: one string (a path part or a query parameter, as sent: `ids=a,b` is
/// `"a,b"`), or a list (a body field that is a JSON array, such as invalidate's `ids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    One(String),
    Many(Vec<String>),
}

/// Keys of one cache cleared on one node; `keys: None` is the whole cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    pub node: NodeIndex,
    pub cache: CacheId,
    pub keys: Option<Vec<String>>,
}

/// One REST request and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Virtual time when it was answered.
    pub time: Nanos,
    /// The node it was sent to.
    pub node: NodeIndex,
    /// `security.clear_api_key_cache`; `None` when no handler served it (400 no handler, 405).
    pub api: Option<&'static str>,
    pub method: String,
    /// The raw path, without the query string.
    pub path: String,
    /// Path parts (decoded), then query parameters, then [`body_params`].
    pub params: Vec<(String, ParamValue)>,
    /// The authenticated principal (`_authenticate`'s `username`); `None` when authentication failed
    /// or never ran.
    pub principal: Option<String>,
    /// The authentication realm's name (`default_native`, `reserved`, `_es_api_key`,
    /// `_service_account`).
    pub realm: Option<String>,
    pub status: u16,
    pub cleared: Vec<Cleared>,
}

/// The bounded request log.
#[derive(Debug, Clone)]
pub struct RequestLog {
    enabled: bool,
    capacity: usize,
    records: VecDeque<RequestRecord>,
    dropped: u64,
    /// The clears of the request being answered; `None` outside a recorded request (so a scenario
    /// action or a security-index change that clears caches adds nothing).
    open: Option<Vec<Cleared>>,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog::new(false)
    }
}

impl RequestLog {
    /// How many records a log keeps unless told otherwise.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    pub fn new(enabled: bool) -> Self {
        RequestLog {
            enabled,
            capacity: Self::DEFAULT_CAPACITY,
            records: VecDeque::new(),
            dropped: 0,
            open: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets how many records are kept; the oldest beyond it are dropped now.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.trim();
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Records dropped to stay within the capacity since the last [`Self::clear`].
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn get(&self, i: usize) -> Option<&RequestRecord> {
        self.records.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &RequestRecord> {
        self.records.iter()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.dropped = 0;
    }

    /// Opens a record for the request about to be answered; whether it is recorded.
    pub(crate) fn begin(&mut self) -> bool {
        self.open = self.enabled.then(Vec::new);
        self.enabled
    }

    /// Notes the caches one node cleared of `keys` (`None`: all); a no-op outside a recorded
    /// request.
    pub(crate) fn note_cleared(
        &mut self,
        node: NodeIndex,
        caches: &[CacheId],
        keys: Option<&[String]>,
    ) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        for &cache in caches {
            // CA-AP3: named applications still empty the whole name-expansion cache.
            let whole = cache == CacheId::ApplicationNames;
            open.push(Cleared {
                node,
                cache,
                keys: if whole {
                    None
                } else {
                    keys.map(<[String]>::to_vec)
                },
            });
        }
    }

    /// Closes the open record with what the request was and how it was answered.
    pub(crate) fn finish(&mut self, mut record: RequestRecord) {
        if let Some(cleared) = self.open.take() {
            record.cleared = cleared;
            self.records.push_back(record);
            self.trim();
        }
    }

    fn trim(&mut self) {
        while self.records.len() > self.capacity {
            self.records.pop_front();
            self.dropped += 1;
        }
    }
}

/// The authentication realm's name, as `_authenticate` shows it under `authentication_realm`.
fn realm_name(auth: &Authentication) -> &str {
    match auth {
        Authentication::Realm { realm, .. } => &realm.name,
        Authentication::ApiKey(_) => "_es_api_key",
        Authentication::ServiceAccount { .. } => "_service_account",
    }
}

/// The caches an invalidator clears (`SEC/authc/ApiKeyService.java` `invalidateApiKeyCache` and the
/// doc cache's `invalidateAll`; `ServiceAccountService`'s token caches).
pub(crate) fn caches_cleared(inv: Invalidator, all: bool) -> &'static [CacheId] {
    match (inv, all) {
        (Invalidator::ApiKey, false) => &[CacheId::ApiKeyDoc, CacheId::ApiKeyAuth],
        (Invalidator::ApiKey, true) => &[
            CacheId::ApiKeyDoc,
            CacheId::ApiKeyRoleDescriptors,
            CacheId::ApiKeyAuth,
        ],
        (Invalidator::ApiKeyDoc, false) => &[CacheId::ApiKeyDoc],
        (Invalidator::ApiKeyDoc, true) => &[CacheId::ApiKeyDoc, CacheId::ApiKeyRoleDescriptors],
        (Invalidator::FileServiceAccountToken, _) => &[CacheId::FileServiceAccountToken],
        (Invalidator::IndexServiceAccountToken, _) => &[CacheId::IndexServiceAccountToken],
        // CA-AP3: the named applications' descriptors, and every name expansion.
        (Invalidator::ApplicationPrivileges, _) => {
            &[CacheId::ApplicationPrivileges, CacheId::ApplicationNames]
        }
    }
}

/// The body fields a record keeps, per API: names and ids only, never a secret (a `put_user` body's
/// password, a created key's role descriptors are not read).
pub(crate) fn body_fields(api: &str) -> &'static [&'static str] {
    match api {
        "security.invalidate_api_key" => &["ids", "id", "name", "realm_name", "username", "owner"],
        "security.create_api_key" => &["name"],
        _ => &[],
    }
}

/// [`body_fields`] of a JSON body: strings as one value, arrays of strings as a list, booleans and
/// numbers as their text. A body that does not parse adds nothing.
pub(crate) fn body_params(api: &str, body: Option<&[u8]>) -> Vec<(String, ParamValue)> {
    let fields = body_fields(api);
    let Some(body) = body.filter(|_| !fields.is_empty()) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some(v.to_string()),
        _ => None,
    };
    fields
        .iter()
        .filter_map(|&f| {
            let value = match obj.get(f)? {
                serde_json::Value::Array(items) => {
                    ParamValue::Many(items.iter().filter_map(text).collect())
                }
                v => ParamValue::One(text(v)?),
            };
            Some((f.to_string(), value))
        })
        .collect()
}

impl Cluster {
    /// Records one answered request, if a record was opened for it: `routed` is the built request and
    /// its handler (`None` when it matched none), `auth` who was authenticated.
    pub(crate) fn record_request(
        &mut self,
        node: NodeIndex,
        method: &str,
        target: &str,
        routed: Option<(&Request, RouteId)>,
        auth: Option<&Authentication>,
        status: u16,
    ) {
        let (api, method, path, params) = if let Some((req, route)) = routed {
            let api = route.api_name();
            let mut params: Vec<(String, ParamValue)> = req
                .path_params
                .iter()
                .chain(&req.query)
                .map(|(k, v)| (k.clone(), ParamValue::One(v.clone())))
                .collect();
            params.extend(body_params(api, req.body.as_deref()));
            (
                Some(api),
                req.method.as_str().to_string(),
                req.raw_path().to_string(),
                params,
            )
        } else {
            let path = target.split('?').next().unwrap_or_default();
            (None, method.to_string(), path.to_string(), Vec::new())
        };
        let record = RequestRecord {
            time: self.now(),
            node,
            api,
            method,
            path,
            params,
            principal: auth.map(|a| a.principal().to_string()),
            realm: auth.map(|a| realm_name(a).to_string()),
            status,
            cleared: Vec::new(),
        };
        self.requests.finish(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> RequestRecord {
        RequestRecord {
            time: 0,
            node: 0,
            api: None,
            method: "GET".into(),
            path: path.into(),
            params: Vec::new(),
            principal: None,
            realm: None,
            status: 400,
            cleared: Vec::new(),
        }
    }

    #[test]
    fn disabled_log_records_nothing() {
        let mut log = RequestLog::new(false);
        assert!(!log.begin());
        log.note_cleared(0, caches_cleared(Invalidator::ApiKey, true), None);
        log.finish(record("/"));
        assert!(log.is_empty());
    }

    #[test]
    fn log_keeps_the_newest_within_capacity() {
        let mut log = RequestLog::new(true);
        log.set_capacity(2);
        for p in ["/a", "/b", "/c"] {
            assert!(log.begin());
            log.finish(record(p));
        }
        let paths: Vec<&str> = log.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/c"]);
        assert_eq!(log.dropped(), 1);
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.dropped(), 0);
    }

    #[test]
    fn clears_outside_a_request_are_not_noted() {
        let mut log = RequestLog::new(true);
        log.note_cleared(0, caches_cleared(Invalidator::ApiKey, true), None);
        assert!(log.begin());
        log.note_cleared(
            1,
            caches_cleared(Invalidator::ApiKey, false),
            Some(&["k".to_string()]),
        );
        log.finish(record("/"));
        let cleared = &log.get(0).map(|r| r.cleared.clone()).unwrap_or_default();
        assert_eq!(
            cleared,
            &[
                Cleared {
                    node: 1,
                    cache: CacheId::ApiKeyDoc,
                    keys: Some(vec!["k".into()])
                },
                Cleared {
                    node: 1,
                    cache: CacheId::ApiKeyAuth,
                    keys: Some(vec!["k".into()])
                },
            ]
        );
    }

    #[test]
    fn rest_handle_records_only_when_enabled() {
        let Ok(mut c) = Cluster::new(crate::cluster::ClusterConfig::new(2)) else {
            panic!("a two-node cluster builds")
        };
        // elastic:changeme
        let admin = || {
            vec![(
                "Authorization".to_string(),
                "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==".to_string(),
            )]
        };
        crate::rest::handle(&mut c, 0, "GET", "/", admin(), None);
        assert!(c.requests.is_empty());
        c.requests.set_enabled(true);
        crate::rest::handle(
            &mut c,
            1,
            "POST",
            "/_security/api_key/a,b/_clear_cache",
            admin(),
            None,
        );
        crate::rest::handle(&mut c, 0, "GET", "/_nope?x=1", Vec::new(), None);
        let Some(clear) = c.requests.get(0) else {
            panic!("the clear was recorded")
        };
        assert_eq!(clear.api, Some("security.clear_api_key_cache"));
        assert_eq!(
            (
                clear.node,
                clear.status,
                clear.principal.as_deref(),
                clear.realm.as_deref()
            ),
            (1, 200, Some("elastic"), Some("reserved"))
        );
        assert_eq!(
            clear.params,
            [("ids".to_string(), ParamValue::One("a,b".into()))]
        );
        // Doc and auth caches, on both nodes.
        assert_eq!(clear.cleared.len(), 4);
        let Some(unrouted) = c.requests.get(1) else {
            panic!("the unrouted request was recorded")
        };
        assert_eq!(
            (unrouted.api, unrouted.status, unrouted.path.as_str()),
            (None, 400, "/_nope")
        );
        assert!(unrouted.principal.is_none());
    }

    #[test]
    fn body_params_keep_only_named_fields() {
        let body = br#"{"ids":["a","b"],"owner":true,"password":"x"}"#;
        let p = body_params("security.invalidate_api_key", Some(body));
        assert_eq!(
            p,
            [
                (
                    "ids".to_string(),
                    ParamValue::Many(vec!["a".into(), "b".into()])
                ),
                ("owner".to_string(), ParamValue::One("true".into())),
            ]
        );
        assert!(body_params("security.put_user", Some(br#"{"password":"secret"}"#)).is_empty());
        assert!(body_params("security.invalidate_api_key", Some(b"not json")).is_empty());
    }
}
