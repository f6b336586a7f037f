//! The API key document (`ApiKeyService.ApiKeyDoc`) and its cached form (`CachedApiKeyDoc`, R2.2).

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// `ApiKey.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyType {
    Rest,
    CrossCluster,
}

impl ApiKeyType {
    pub fn value(self) -> &'static str {
        match self {
            ApiKeyType::Rest => "rest",
            ApiKeyType::CrossCluster => "cross_cluster",
        }
    }
}

/// Who created the key (the `creator` object of the document).
#[derive(Debug, Clone, PartialEq)]
pub struct Creator {
    pub principal: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub metadata: Value,
    pub realm: String,
    pub realm_type: String,
}

impl Creator {
    pub fn to_json(&self) -> Value {
        json!({
            "principal": self.principal,
            "full_name": self.full_name,
            "email": self.email,
            "metadata": self.metadata,
            "realm": self.realm,
            "realm_type": self.realm_type,
        })
    }
}

/// Every field of an API key document except the two role-descriptor blobs. Shared (`Arc`) between
/// the index, the doc cache and requests, so that reading a cached document copies nothing.
#[derive(Clone, PartialEq)]
pub struct ApiKeyDocFields {
    pub doc_type: String,
    pub key_type: ApiKeyType,
    /// Epoch milliseconds.
    pub creation_time: i64,
    /// Epoch milliseconds, or -1 for none.
    pub expiration_time: i64,
    /// `None` models a document missing the field (R3.3 check 2).
    pub invalidated: Option<bool>,
    pub invalidation_time: Option<i64>,
    /// The stored hash of the secret (`api_key_hash`).
    pub hash: Option<String>,
    pub name: Option<String>,
    pub version: i64,
    pub metadata_flattened: Option<Value>,
    pub creator: Creator,
}

/// The document in `.security`. Role descriptors are kept as the JSON bytes Elasticsearch stores,
/// shared (`Arc`) so that the role-descriptor cache can hand out one instance for identical roles (S7).
/// The other fields are reached through `Deref` (and copied on write through `DerefMut`).
#[derive(Clone, PartialEq)]
pub struct ApiKeyDoc {
    fields: Arc<ApiKeyDocFields>,
    pub role_descriptors: Arc<str>,
    pub limited_by_role_descriptors: Arc<str>,
}

impl std::ops::Deref for ApiKeyDoc {
    type Target = ApiKeyDocFields;
    fn deref(&self) -> &ApiKeyDocFields {
        &self.fields
    }
}

impl std::ops::DerefMut for ApiKeyDoc {
    fn deref_mut(&mut self) -> &mut ApiKeyDocFields {
        Arc::make_mut(&mut self.fields)
    }
}

// The hash stays out of Debug output.
impl fmt::Debug for ApiKeyDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyDoc")
            .field("name", &self.name)
            .field("type", &self.key_type)
            .field("creation_time", &self.creation_time)
            .field("expiration_time", &self.expiration_time)
            .field("invalidated", &self.invalidated)
            .field("creator", &self.creator.principal)
            .finish_non_exhaustive()
    }
}

/// SHA-256 hex of role-descriptor bytes: the role-descriptor cache's key (R2.2).
pub fn role_descriptors_hash(bytes: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes.as_bytes());
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

impl ApiKeyDoc {
    pub fn new(
        fields: ApiKeyDocFields,
        role_descriptors: Arc<str>,
        limited_by_role_descriptors: Arc<str>,
    ) -> Self {
        ApiKeyDoc {
            fields: Arc::new(fields),
            role_descriptors,
            limited_by_role_descriptors,
        }
    }

    /// The role descriptors parsed back to JSON (an object of name → descriptor).
    pub fn role_descriptors_json(&self) -> Value {
        serde_json::from_str(&self.role_descriptors).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    pub fn limited_by_json(&self) -> Value {
        serde_json::from_str(&self.limited_by_role_descriptors)
            .unwrap_or_else(|_| Value::Object(Map::new()))
    }

    pub fn is_invalidated(&self) -> bool {
        self.invalidated == Some(true)
    }

    /// `toCachedApiKeyDoc`: everything but the two role-descriptor blobs, replaced by their hashes.
    pub fn to_cached(&self) -> CachedApiKeyDoc {
        CachedApiKeyDoc {
            fields: self.fields.clone(),
            role_descriptors_hash: role_descriptors_hash(&self.role_descriptors).into(),
            limited_by_role_descriptors_hash: role_descriptors_hash(
                &self.limited_by_role_descriptors,
            )
            .into(),
        }
    }
}

/// What the doc cache holds (R2.2): the fields and the hashes of the two blobs.
#[derive(Clone, PartialEq)]
pub struct CachedApiKeyDoc {
    fields: Arc<ApiKeyDocFields>,
    pub role_descriptors_hash: Arc<str>,
    pub limited_by_role_descriptors_hash: Arc<str>,
}

impl std::ops::Deref for CachedApiKeyDoc {
    type Target = ApiKeyDocFields;
    fn deref(&self) -> &ApiKeyDocFields {
        &self.fields
    }
}

impl fmt::Debug for CachedApiKeyDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedApiKeyDoc")
            .field("name", &self.name)
            .field("invalidated", &self.invalidated)
            .field("role_descriptors_hash", &self.role_descriptors_hash)
            .finish_non_exhaustive()
    }
}

impl CachedApiKeyDoc {
    /// `toApiKeyDoc(roleDescriptorsBytes, limitedByRoleDescriptorsBytes)`.
    pub fn to_doc(&self, role_descriptors: Arc<str>, limited_by: Arc<str>) -> ApiKeyDoc {
        ApiKeyDoc {
            fields: self.fields.clone(),
            role_descriptors,
            limited_by_role_descriptors: limited_by,
        }
    }
}
