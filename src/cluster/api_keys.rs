//! The API key actions a node runs: create (R3.8), get, invalidate (R4.2, R4.4) and update (R4.3),
//! over the `.security` index, with the clear-cache broadcasts they send.

use super::authn::Authentication;
use super::Cluster;
use crate::error::{EsError, ExceptionType};
use crate::events::NodeIndex;
use crate::security::api_key::{
    parse_role_descriptors_blob, role_descriptors_blob, ApiKeyDoc, ApiKeyDocFields, ApiKeyType,
    Creator,
};
use crate::security::authz::RoleDescriptor;
use crate::security::crypto_pool::CryptoPoolMode;
use crate::security::hashing::Secret;
use crate::security::ids::random_secret;
use crate::security::index::{Availability, SecurityIndex};
use crate::time::{epoch_millis, TimeValue};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// `CreateApiKeyRequest`, validated.
#[derive(Debug, Clone, Default)]
pub struct CreateApiKeyRequest {
    pub name: String,
    /// An object of role name → descriptor (empty: the key inherits its owner's privileges).
    pub role_descriptors: Map<String, Value>,
    pub expiration: Option<TimeValue>,
    pub metadata: Option<Map<String, Value>>,
}

/// `CreateApiKeyResponse`. The secret and the encoded credential are only ever handed back to the
/// caller, once.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub expiration: Option<i64>,
    pub api_key: Secret,
    pub encoded: Secret,
}

impl CreatedApiKey {
    /// The response body: `id`, `name`, `expiration` (when set), `api_key`, `encoded`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        if let Some(e) = self.expiration {
            m.insert("expiration".into(), json!(e));
        }
        m.insert("api_key".into(), json!(self.api_key.expose()));
        m.insert("encoded".into(), json!(self.encoded.expose()));
        Value::Object(m)
    }
}

/// `InvalidateApiKeyRequest`, validated.
#[derive(Debug, Clone, Default)]
pub struct InvalidateApiKeyRequest {
    pub ids: Option<Vec<String>>,
    pub name: Option<String>,
    pub username: Option<String>,
    pub realm_name: Option<String>,
    pub owner: bool,
}

/// `InvalidateApiKeyResponse`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvalidateApiKeyResult {
    pub invalidated: Vec<String>,
    pub previously_invalidated: Vec<String>,
    pub errors: Vec<EsError>,
}

impl InvalidateApiKeyResult {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("invalidated_api_keys".into(), json!(self.invalidated));
        m.insert(
            "previously_invalidated_api_keys".into(),
            json!(self.previously_invalidated),
        );
        m.insert("error_count".into(), json!(self.errors.len()));
        if !self.errors.is_empty() {
            let details: Vec<Value> = self.errors.iter().map(|e| e.to_xcontent(true)).collect();
            m.insert("error_details".into(), Value::Array(details));
        }
        Value::Object(m)
    }
}

/// `UpdateApiKeyRequest`.
#[derive(Debug, Clone, Default)]
pub struct UpdateApiKeyRequest {
    pub role_descriptors: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
    pub expiration: Option<TimeValue>,
}

/// The built-in `superuser` role as it appears among an API key's limited-by descriptors.
pub fn superuser_descriptor() -> Value {
    json!({
        "cluster": ["all"],
        "indices": [{"names": ["*"], "privileges": ["all"], "allow_restricted_indices": true}],
        "applications": [{"application": "*", "privileges": ["*"], "resources": ["*"]}],
        "run_as": ["*"],
        "metadata": {"_reserved": true},
        "transient_metadata": {}
    })
}

fn creator_of(auth: &Authentication) -> Creator {
    match auth {
        Authentication::Realm {
            username,
            full_name,
            email,
            metadata,
            realm,
            ..
        } => Creator {
            principal: username.clone(),
            full_name: full_name.clone(),
            email: email.clone(),
            metadata: metadata.clone(),
            realm: realm.name.clone(),
            realm_type: realm.type_.clone(),
        },
        Authentication::ApiKey(k) => Creator {
            realm: "_es_api_key".into(),
            realm_type: "_es_api_key".into(),
            ..k.creator.clone()
        },
        Authentication::ServiceAccount { principal, .. } => Creator {
            principal: principal.clone(),
            full_name: Some(format!("Service account - {principal}")),
            email: None,
            metadata: json!({"_elastic_service_account": true}),
            realm: "_service_account".into(),
            realm_type: "_service_account".into(),
        },
    }
}

/// Whether a stored key belongs to the caller (principal and realm).
fn owned_by(doc: &ApiKeyDoc, auth: &Authentication) -> bool {
    let c = creator_of(auth);
    doc.creator.principal == c.principal && doc.creator.realm == c.realm
}

/// The per-key object of `GET /_security/api_key` (`ApiKey.toXContent`).
/// A stored descriptor blob that does not parse fails the whole request, as ES's
/// `parseRoleDescriptorsBytes` throws.
pub(crate) fn api_key_info(
    id: &str,
    doc: &ApiKeyDoc,
    with_limited_by: bool,
) -> Result<Value, EsError> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("name".into(), json!(doc.name));
    m.insert("type".into(), json!(doc.key_type.value()));
    m.insert("creation".into(), json!(doc.creation_time));
    if doc.expiration_time != -1 {
        m.insert("expiration".into(), json!(doc.expiration_time));
    }
    m.insert("invalidated".into(), json!(doc.is_invalidated()));
    if let (true, Some(t)) = (doc.is_invalidated(), doc.invalidation_time) {
        m.insert("invalidation".into(), json!(t));
    }
    m.insert("username".into(), json!(doc.creator.principal));
    m.insert("realm".into(), json!(doc.creator.realm));
    m.insert("realm_type".into(), json!(doc.creator.realm_type));
    m.insert(
        "metadata".into(),
        doc.metadata_flattened.clone().unwrap_or_else(|| json!({})),
    );
    m.insert(
        "role_descriptors".into(),
        Value::Object(checked_descriptors(doc.role_descriptors_json()?)?),
    );
    if with_limited_by {
        m.insert(
            "limited_by".into(),
            json!([checked_descriptors(doc.limited_by_json()?)?]),
        );
    }
    Ok(Value::Object(m))
}

/// ES shows stored descriptors through `RoleDescriptor.parse`: one that does not parse fails the
/// request (its error) instead of being shown.
fn checked_descriptors(map: Map<String, Value>) -> Result<Map<String, Value>, EsError> {
    for (name, v) in &map {
        RoleDescriptor::parse(name, v)?;
    }
    Ok(map)
}

impl Cluster {
    /// The role descriptors of an authenticated subject, by name (the limited-by of a new key).
    pub(crate) fn role_descriptors_of(
        &self,
        auth: &Authentication,
    ) -> Result<Map<String, Value>, EsError> {
        let mut out = Map::new();
        match auth {
            Authentication::Realm { roles, .. } => {
                for r in roles {
                    if r == "superuser" {
                        out.insert(r.clone(), superuser_descriptor());
                    } else if let Some(d) = self.security_index.roles.get(r) {
                        // A stored role that does not parse is left out, as ES's
                        // `NativeRolesStore.transformRole` drops it when resolving the owner's roles.
                        if RoleDescriptor::parse(r, d).is_ok() {
                            out.insert(r.clone(), d.clone());
                        }
                    }
                }
            }
            Authentication::ApiKey(k) => {
                // Stored blobs that do not parse deny (issue 8 point 1); an empty own set means
                // the key inherits its limited-by descriptors.
                let own = parse_role_descriptors_blob(&k.role_descriptors)?;
                out = if own.is_empty() {
                    parse_role_descriptors_blob(&k.limited_by_role_descriptors)?
                } else {
                    own
                };
            }
            Authentication::ServiceAccount { .. } => {}
        }
        Ok(out)
    }

    /// Creates an API key on `node`: hashes the secret on the crypto pool, writes the document
    /// (creating the index if needed), then pre-warms this node's auth cache only (R3.8).
    pub fn create_api_key(
        &mut self,
        node: NodeIndex,
        auth: &Authentication,
        req: CreateApiKeyRequest,
    ) -> Result<CreatedApiKey, EsError> {
        if !self.settings.api_key.enabled {
            return Err(EsError::new(
                ExceptionType::FeatureNotEnabled,
                "api keys are not enabled",
                400,
            )
            .with_metadata("es.feature", "api_keys"));
        }
        if self.nodes[node as usize].crypto_pool.mode == CryptoPoolMode::Saturated {
            return Err(EsError::new(
                ExceptionType::EsRejectedExecution,
                format!(
                    "rejected execution of API key hashing on EsThreadPoolExecutor[name = {}/security-crypto, queue capacity = 1000]",
                    self.nodes[node as usize].name
                ),
                429,
            ));
        }
        self.prepare_index_for_write()?;
        let now = self.clock.now();
        let created = epoch_millis(now);
        // Both blobs are built (and checked) before anything is drawn or stored.
        let rd_blob = role_descriptors_blob(req.role_descriptors)?;
        let limited_by_blob = role_descriptors_blob(self.role_descriptors_of(auth)?)?;
        let hasher = self.settings.api_key.hashing_algorithm;
        let n = &mut self.nodes[node as usize];
        let id = n.uuids.next(created);
        let secret = Secret::new(random_secret(&mut n.rng));
        let hash = hasher.hash(secret.expose(), &mut n.rng);
        // `now.plusSeconds(expiration.getSeconds())`: whole seconds only.
        let expiration = req.expiration.map(|e| {
            let seconds = e.nanos().max(0) / 1_000_000_000;
            (created / 1000 + seconds) * 1000 + created % 1000
        });
        let mut doc = ApiKeyDoc::new(
            ApiKeyDocFields {
                doc_type: "api_key".into(),
                key_type: ApiKeyType::Rest,
                creation_time: created,
                expiration_time: expiration.unwrap_or(-1),
                invalidated: Some(false),
                invalidation_time: None,
                hash: Some(hash),
                name: Some(req.name.clone()),
                version: 8_000_099,
                metadata_flattened: req.metadata.map(Value::Object),
                creator: creator_of(auth),
            },
            rd_blob,
            limited_by_blob,
        );
        if let Some((_, previous)) = self.security_index.api_keys.last() {
            doc.share_digests_of(previous);
        }
        // `Hasher.verify(x, Hasher.hash(x))` holds for every hasher: the secret instance the stored
        // hash was just made from is remembered as verifying (as `CachedHash::made_from` does for the
        // auth cache). A request presenting this very instance (the simulator's clients) is then
        // answered without the real check; any other instance (a REST header, parsed anew) is checked
        // as before. The crypto pool's task, its modelled cost and the trace are unchanged.
        doc.remember_stored(&secret, true);
        self.security_index.api_keys.insert(id.clone(), doc);
        self.with_node(node, |n, _, ctx| n.api_keys.on_created(&id, &secret, ctx));
        let encoded = Secret::new(STANDARD.encode(format!("{}:{}", id, secret.expose())));
        Ok(CreatedApiKey {
            id,
            name: req.name,
            expiration,
            api_key: secret,
            encoded,
        })
    }

    /// Checks that the index can be searched (`checkIndexVersionThenExecute`); `Ok(false)` when it
    /// is absent (an empty result).
    pub(crate) fn check_search(&self) -> Result<bool, EsError> {
        let index: &SecurityIndex = &self.security_index;
        if !index.exists() {
            return Ok(false);
        }
        if let Some(e) = index.unavailable_reason(Availability::SearchShards) {
            return Err(e);
        }
        if !index.state().is_up_to_date() {
            return Err(SecurityIndex::not_up_to_date_error(false));
        }
        Ok(true)
    }

    /// `GET /_security/api_key`. Returns the keys and whether an `id` matched nothing (a 404 with an
    /// empty list).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn get_api_keys(
        &self,
        auth: &Authentication,
        id: Option<&str>,
        name: Option<&str>,
        username: Option<&str>,
        realm_name: Option<&str>,
        owner: bool,
        with_limited_by: bool,
        active_only: bool,
    ) -> Result<(Vec<Value>, bool), EsError> {
        if !self.check_search()? {
            return Ok((Vec::new(), id.is_some()));
        }
        let now_ms = epoch_millis(self.clock.now());
        let caller = creator_of(auth);
        let keys: Vec<Value> = self
            .security_index
            .api_keys
            .iter()
            .filter(|(kid, d)| {
                id.is_none_or(|i| i == kid.as_str())
                    && name.is_none_or(|n| name_matches(n, d.name.as_deref()))
                    && username.is_none_or(|u| u == d.creator.principal)
                    && realm_name.is_none_or(|r| r == d.creator.realm)
                    && (!owner
                        || (d.creator.principal == caller.principal
                            && d.creator.realm == caller.realm))
                    && (!active_only
                        || (!d.is_invalidated()
                            && (d.expiration_time == -1 || d.expiration_time > now_ms)))
            })
            .map(|(kid, d)| api_key_info(kid, d, with_limited_by))
            .collect::<Result<_, _>>()?;
        let not_found = id.is_some() && keys.is_empty();
        Ok((keys, not_found))
    }

    /// `DELETE /_security/api_key` (R4.2): marks the matching keys invalidated, then broadcasts an
    /// `api_key` clear of exactly those ids to every node. Per-node failures are ignored (R4.4).
    pub fn invalidate_api_keys(
        &mut self,
        node: NodeIndex,
        auth: &Authentication,
        req: &InvalidateApiKeyRequest,
    ) -> Result<InvalidateApiKeyResult, EsError> {
        if !self.check_search()? {
            return Ok(InvalidateApiKeyResult::default());
        }
        let caller = creator_of(auth);
        let (username, realm) = if req.owner {
            (Some(caller.principal.clone()), Some(caller.realm.clone()))
        } else {
            (req.username.clone(), req.realm_name.clone())
        };
        let targets: Vec<String> = self
            .security_index
            .api_keys
            .iter()
            .filter(|(kid, d)| {
                !d.is_invalidated()
                    && req
                        .ids
                        .as_ref()
                        .is_none_or(|ids| ids.iter().any(|i| i == *kid))
                    && req
                        .name
                        .as_deref()
                        .is_none_or(|n| name_matches(n, d.name.as_deref()))
                    && username.as_deref().is_none_or(|u| u == d.creator.principal)
                    && realm.as_deref().is_none_or(|r| r == d.creator.realm)
            })
            .map(|(kid, _)| kid.clone())
            .collect();
        if targets.is_empty() {
            return Ok(InvalidateApiKeyResult::default());
        }
        self.prepare_index_for_write()?;
        let now_ms = epoch_millis(self.clock.now());
        for kid in &targets {
            if let Some(d) = self.security_index.api_keys.get_mut(kid) {
                d.invalidated = Some(true);
                d.invalidation_time = Some(now_ms);
            }
        }
        // Runs as the internal security origin: no privilege check.
        self.clear_security_cache(node, "api_key", &targets);
        Ok(InvalidateApiKeyResult {
            invalidated: targets,
            previously_invalidated: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// `PUT /_security/api_key/{id}` (R4.3): `Ok(true)` when the document changed (and the `api_key_doc`
    /// clear for it was broadcast), `Ok(false)` for a noop.
    pub fn update_api_key(
        &mut self,
        node: NodeIndex,
        auth: &Authentication,
        id: &str,
        req: UpdateApiKeyRequest,
    ) -> Result<bool, EsError> {
        if matches!(auth, Authentication::ApiKey(_)) {
            return Err(EsError::illegal_argument(
                "authentication via API key not supported: only the owner user can update an API key",
            ));
        }
        self.check_search()?;
        let not_found = || {
            EsError::resource_not_found(format!(
                "no API key owned by requesting user found for ID [{id}]"
            ))
        };
        let doc = self
            .security_index
            .api_keys
            .get(id)
            .filter(|d| owned_by(d, auth))
            .cloned()
            .ok_or_else(not_found)?;
        let now_ms = epoch_millis(self.clock.now());
        if doc.is_invalidated() {
            return Err(EsError::illegal_argument(format!(
                "cannot update invalidated API key [{id}]"
            )));
        }
        if doc.expiration_time != -1 && now_ms > doc.expiration_time {
            return Err(EsError::illegal_argument(format!(
                "cannot update expired API key [{id}]"
            )));
        }
        if doc.name.as_deref().is_none_or(str::is_empty) {
            return Err(EsError::illegal_argument(format!(
                "cannot update legacy API key [{id}] without name"
            )));
        }
        let caller = creator_of(auth);
        let limited_by = self.role_descriptors_of(auth)?;
        // ES parses the stored descriptors to decide whether the update is a no-op; a stored blob
        // that does not parse fails the update.
        let current_role_descriptors = doc.role_descriptors_json()?;
        let noop = req.expiration.is_none()
            && doc.creator == caller
            && req
                .metadata
                .as_ref()
                .is_none_or(|m| doc.metadata_flattened.as_ref() == Some(&Value::Object(m.clone())))
            && req
                .role_descriptors
                .as_ref()
                .is_none_or(|r| current_role_descriptors == *r)
            && doc.limited_by_json()? == limited_by;
        if noop {
            return Ok(false);
        }
        let new_role_descriptors = req
            .role_descriptors
            .map(role_descriptors_blob)
            .transpose()?;
        let limited_by_blob = role_descriptors_blob(limited_by)?;
        self.prepare_index_for_write()?;
        let mut updated = doc;
        if let Some(e) = req.expiration {
            let seconds = e.nanos().max(0) / 1_000_000_000;
            updated.expiration_time = (now_ms / 1000 + seconds) * 1000 + now_ms % 1000;
        }
        if let Some(r) = new_role_descriptors {
            updated.role_descriptors = r;
        }
        if let Some(m) = req.metadata {
            updated.metadata_flattened = Some(Value::Object(m));
        }
        updated.limited_by_role_descriptors = limited_by_blob;
        updated.creator = caller;
        self.security_index.api_keys.insert(id.to_string(), updated);
        self.clear_security_cache(node, "api_key_doc", &[id.to_string()]);
        Ok(true)
    }
}

/// An API key name filter: a trailing `*` is a prefix, a lone `*` is every name.
fn name_matches(filter: &str, name: Option<&str>) -> bool {
    match filter.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => name.is_some_and(|n| n.starts_with(prefix)),
        None => name == Some(filter),
    }
}
