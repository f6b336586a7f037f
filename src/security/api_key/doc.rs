//! The API key document (`ApiKeyService.ApiKeyDoc`) and its cached form (`CachedApiKeyDoc`, R2.2).

use crate::error::{EsError, ExceptionType};
use crate::security::hashing::Secret;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// `ApiKey.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyType {
    Rest,
    CrossCluster,
}

impl ApiKeyType {
    pub(crate) fn value(self) -> &'static str {
        match self {
            ApiKeyType::Rest => "rest",
            ApiKeyType::CrossCluster => "cross_cluster",
        }
    }
}

/// Who created the key (the `creator` object of the document).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Creator {
    pub(crate) principal: String,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) metadata: Value,
    pub(crate) realm: String,
    pub(crate) realm_type: String,
}

impl Creator {}

/// Every field of an API key document except the two role-descriptor blobs. Shared (`Arc`) between
/// the index, the doc cache and requests, so that reading a cached document copies nothing.
#[derive(Clone, PartialEq)]
pub struct ApiKeyDocFields {
    pub doc_type: String,
    pub key_type: ApiKeyType,
    /// Epoch milliseconds.
    pub(crate) creation_time: i64,
    /// Epoch milliseconds, or -1 for none.
    pub(crate) expiration_time: i64,
    /// `None` models a document missing the field (R3.3 check 2).
    pub invalidated: Option<bool>,
    pub(crate) invalidation_time: Option<i64>,
    /// The stored hash of the secret (`api_key_hash`).
    pub hash: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) version: i64,
    pub metadata_flattened: Option<Value>,
    pub(crate) creator: Creator,
}

/// The document in `.security`. Role descriptors are kept as the JSON bytes Elasticsearch stores,
/// shared (`Arc`) so that the role-descriptor cache can hand out one instance for identical roles (S7).
/// The other fields are reached through `Deref` (and copied on write through `DerefMut`).
#[derive(Clone)]
pub struct ApiKeyDoc {
    fields: Arc<ApiKeyDocFields>,
    pub role_descriptors: Arc<str>,
    pub limited_by_role_descriptors: Arc<str>,
    /// The digests of the two blobs, computed once per pair of blob instances (shared by clones; a
    /// reassigned blob is a new instance, so its digest is computed again).
    digests: Arc<DocMemo>,
}

/// What is memoised for the clones of one document: its blobs' digests, and the first answer of
/// the check of a presented secret against its stored hash.
#[derive(Default)]
struct DocMemo {
    /// Shared further by the documents whose blobs are the same instances
    /// ([`ApiKeyDoc::share_blobs_of`]).
    digests: Arc<OnceLock<DigestMemo>>,
    stored: OnceLock<StoredVerified>,
}

/// `Hasher.verify(secret, api_key_hash)` is a pure function of the two: the answer for one secret
/// instance against one fields instance (whose `hash` it read), both held so that neither address
/// can be reused while the memo lives. A write to the fields makes a new instance (`DerefMut`
/// copies a shared one), which the memo then does not answer for.
struct StoredVerified {
    fields: Arc<ApiKeyDocFields>,
    secret: Secret,
    verified: bool,
}

/// The memo holds the blobs it was computed for, to compare with a document's own.
#[derive(Clone)]
struct DigestMemo {
    rd_blob: Arc<str>,
    lb_blob: Arc<str>,
    rd: RdDigest,
    lb: RdDigest,
}

impl PartialEq for ApiKeyDoc {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
            && self.role_descriptors == other.role_descriptors
            && self.limited_by_role_descriptors == other.limited_by_role_descriptors
    }
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

/// The SHA-256 of role-descriptor bytes: the role-descriptor cache's key (R2.2). Elasticsearch keys on
/// its hex string; escache keeps the 32 bytes (hashing and comparing half as much) and shows hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RdDigest(pub [u8; 32]);

/// A SHA-256 digest is already uniformly spread: its first eight bytes are hash enough for a table
/// (equality still compares all 32).
impl std::hash::Hash for RdDigest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let first = self.0.first_chunk::<8>().copied().unwrap_or_default();
        state.write_u64(u64::from_le_bytes(first));
    }
}

impl RdDigest {
    pub(crate) fn of(bytes: &str) -> Self {
        RdDigest(Sha256::digest(bytes.as_bytes()).into())
    }

    /// Lowercase hex into a stack buffer.
    pub(crate) fn hex_buf(&self) -> [u8; 64] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 0xf) as usize];
        }
        out
    }

    pub(crate) fn hex(&self) -> String {
        // ok: hex digits are ASCII.
        String::from_utf8(self.hex_buf().to_vec()).unwrap_or_default()
    }

    /// Parses 64 hex digits (either case).
    pub(crate) fn from_hex(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let nib = |c: u8| -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        };
        let mut out = [0u8; 32];
        for i in 0..32 {
            out[i] = (nib(b[2 * i])? << 4) | nib(b[2 * i + 1])?;
        }
        Some(RdDigest(out))
    }
}

impl fmt::Display for RdDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for RdDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RdDigest({})", self.hex())
    }
}

/// Reads a stored role-descriptor blob back, as `ApiKeyService.parseRoleDescriptorsBytes` does: with
/// the same reader and nesting limit as request bodies (so whatever a request stored can be read), and
/// failing closed. ES wraps the parser's `IOException` in an `UncheckedIOException`, which reaches the
/// client as a 500 `unchecked_i_o_exception` caused by the x-content exception.
pub fn parse_role_descriptors_blob(blob: &str) -> Result<Map<String, Value>, EsError> {
    match crate::rest::body::parse_json_object_value(blob.as_bytes(), "role_descriptors") {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(unchecked_io_error(
            crate::rest::body::x_content_parse_error(
                None,
                "[role_descriptors] Expected START_OBJECT",
            ),
        )),
        Err(e) => Err(unchecked_io_error(e)),
    }
}

/// `new UncheckedIOException(e)`: its message is the cause's `toString()`.
fn unchecked_io_error(cause: EsError) -> EsError {
    let class = match cause.kind {
        ExceptionType::XContentEof => "org.elasticsearch.xcontent.XContentEOFException",
        _ => "org.elasticsearch.xcontent.XContentParseException",
    };
    EsError::new(
        ExceptionType::UncheckedIo,
        format!("{class}: {}", cause.reason),
        500,
    )
    .with_cause(cause)
}

/// The nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), without recursion.
pub(crate) fn nesting_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Object(m) => {
                max = max.max(d + 1);
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            Value::Array(a) => {
                max = max.max(d + 1);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    max
}

/// The blob of a role-descriptor map to store in a key document. ES writes the document with
/// Jackson's `StreamWriteConstraints` (nesting limit 1000, the document's own object included), so a
/// blob nested deeper than 999 cannot be written: the write fails with a 500
/// `stream_constraints_exception` and nothing is stored. Every blob written can therefore be read back
/// by [`parse_role_descriptors_blob`].
pub fn role_descriptors_blob(map: Map<String, Value>) -> Result<Arc<str>, EsError> {
    let v = Value::Object(map);
    let depth = nesting_depth(&v) + 1;
    let max = crate::rest::body::MAX_NESTING_DEPTH;
    if depth > max {
        return Err(EsError::new(
            ExceptionType::StreamConstraints,
            format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({max}, from `StreamWriteConstraints.getMaxNestingDepth()`)",
                max + 1
            ),
            500,
        ));
    }
    Ok(Arc::from(v.to_string()))
}

/// SHA-256 hex of role-descriptor bytes, as Elasticsearch writes the role-descriptor cache's keys.
pub fn role_descriptors_hash(bytes: &str) -> String {
    RdDigest::of(bytes).hex()
}

impl ApiKeyDoc {
    /// The shared fields instance (its identity keys the stored-hash verification memo; a write
    /// through `DerefMut` to a shared instance makes a new one).
    pub(crate) fn fields(&self) -> &Arc<ApiKeyDocFields> {
        &self.fields
    }

    pub(crate) fn new(
        fields: ApiKeyDocFields,
        role_descriptors: Arc<str>,
        limited_by_role_descriptors: Arc<str>,
    ) -> Self {
        ApiKeyDoc {
            fields: Arc::new(fields),
            role_descriptors,
            limited_by_role_descriptors,
            digests: Arc::default(),
        }
    }

    /// The role descriptors parsed back to JSON (an object of name → descriptor); a blob that does
    /// not parse is an error, never an empty set (which would mean "inherit the owner").
    pub(crate) fn role_descriptors_json(&self) -> Result<Map<String, Value>, EsError> {
        parse_role_descriptors_blob(&self.role_descriptors)
    }

    /// [`ApiKeyDoc::role_descriptors_json`] for the limited-by blob.
    pub(crate) fn limited_by_json(&self) -> Result<Map<String, Value>, EsError> {
        parse_role_descriptors_blob(&self.limited_by_role_descriptors)
    }

    pub(crate) fn is_invalidated(&self) -> bool {
        self.invalidated == Some(true)
    }

    /// `toCachedApiKeyDoc`: everything but the two role-descriptor blobs, replaced by their hashes.
    pub fn to_cached(&self) -> CachedApiKeyDoc {
        let (rd, lb) = self.digests();
        CachedApiKeyDoc {
            fields: self.fields.clone(),
            role_descriptors_hash: rd,
            limited_by_role_descriptors_hash: lb,
            digests: self.digests.clone(),
        }
    }

    /// Shares `other`'s digest memo when its blobs hold the same bytes as this document's (keys
    /// created by one user for the same roles): their digests are then computed once instead of
    /// once per key. The blob instances stay the document's own (S7: the role-descriptor cache is
    /// what hands out one instance).
    pub(crate) fn share_digests_of(&mut self, other: &ApiKeyDoc) {
        if self.role_descriptors == other.role_descriptors
            && self.limited_by_role_descriptors == other.limited_by_role_descriptors
        {
            self.digests = Arc::new(DocMemo {
                digests: other.digests.digests.clone(),
                stored: OnceLock::new(),
            });
        }
    }

    /// The memoised answer of checking `secret` against this document's stored hash, if this
    /// secret instance was checked against these fields before (by any node: the answer is a pure
    /// function of the two).
    pub(crate) fn stored_verified(&self, secret: &Secret) -> Option<bool> {
        let m = self.digests.stored.get()?;
        (Arc::ptr_eq(&m.fields, &self.fields) && m.secret.same_instance(secret))
            .then_some(m.verified)
    }

    /// Remembers the answer of the real check of `secret` against the stored hash (the first
    /// answer is kept; the callers' [`VerifyMemo`](crate::security::hashing::VerifyMemo) holds
    /// others).
    pub(crate) fn remember_stored(&self, secret: &Secret, verified: bool) {
        let _ = self.digests.stored.set(StoredVerified {
            fields: self.fields.clone(),
            secret: secret.clone(),
            verified,
        });
    }

    /// The two blobs' digests, memoised for these blobs.
    fn digests(&self) -> (RdDigest, RdDigest) {
        let m = self.digests.digests.get_or_init(|| DigestMemo {
            rd_blob: self.role_descriptors.clone(),
            lb_blob: self.limited_by_role_descriptors.clone(),
            rd: RdDigest::of(&self.role_descriptors),
            lb: RdDigest::of(&self.limited_by_role_descriptors),
        });
        // The same instances compare at once; other instances by their bytes (the digest is a
        // function of the bytes).
        if m.rd_blob == self.role_descriptors && m.lb_blob == self.limited_by_role_descriptors {
            (m.rd, m.lb)
        } else {
            (
                RdDigest::of(&self.role_descriptors),
                RdDigest::of(&self.limited_by_role_descriptors),
            )
        }
    }
}

/// What the doc cache holds (R2.2): the fields and the hashes of the two blobs.
#[derive(Clone)]
pub struct CachedApiKeyDoc {
    fields: Arc<ApiKeyDocFields>,
    pub(crate) role_descriptors_hash: RdDigest,
    pub(crate) limited_by_role_descriptors_hash: RdDigest,
    /// The digest memo of the document it was made from, handed on to the documents read back
    /// (sharing it allocates nothing; it answers only for the blob instances it was made for).
    digests: Arc<DocMemo>,
}

impl PartialEq for CachedApiKeyDoc {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
            && self.role_descriptors_hash == other.role_descriptors_hash
            && self.limited_by_role_descriptors_hash == other.limited_by_role_descriptors_hash
    }
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
    pub(crate) fn to_doc(&self, role_descriptors: Arc<str>, limited_by: Arc<str>) -> ApiKeyDoc {
        ApiKeyDoc {
            fields: self.fields.clone(),
            role_descriptors,
            limited_by_role_descriptors: limited_by,
            digests: self.digests.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rd: &str) -> ApiKeyDoc {
        ApiKeyDoc::new(
            ApiKeyDocFields {
                doc_type: "api_key".into(),
                key_type: ApiKeyType::Rest,
                creation_time: 0,
                expiration_time: -1,
                invalidated: Some(false),
                invalidation_time: None,
                hash: None,
                name: Some("k".into()),
                version: 1,
                metadata_flattened: None,
                creator: Creator {
                    principal: "elastic".into(),
                    full_name: None,
                    email: None,
                    metadata: Value::Null,
                    realm: "reserved".into(),
                    realm_type: "reserved".into(),
                },
            },
            Arc::from(rd),
            Arc::from("{}"),
        )
    }

    #[test]
    fn cached_digests_follow_reassigned_blobs() {
        let d = doc(r#"{"a":{}}"#);
        assert_eq!(
            d.to_cached().role_descriptors_hash,
            RdDigest::of(r#"{"a":{}}"#)
        );
        let mut e = d.clone();
        e.role_descriptors = Arc::from(r#"{"b":{}}"#);
        assert_eq!(
            e.to_cached().role_descriptors_hash,
            RdDigest::of(r#"{"b":{}}"#)
        );
        assert_eq!(
            d.to_cached().role_descriptors_hash,
            RdDigest::of(r#"{"a":{}}"#)
        );
        assert_eq!(
            e.to_cached().limited_by_role_descriptors_hash.hex(),
            role_descriptors_hash("{}")
        );
    }

    /// Equal blobs share their digests; different ones do not; the stored-hash
    /// answer stays with its own document.
    #[test]
    fn equal_blobs_are_shared_and_stored_answers_stay_per_document() {
        let a = doc(r#"{"a":{}}"#);
        let a_digest = a.to_cached().role_descriptors_hash;
        let mut b = doc(r#"{"a":{}}"#);
        b.share_digests_of(&a);
        assert!(!Arc::ptr_eq(&a.role_descriptors, &b.role_descriptors));
        assert!(Arc::ptr_eq(&a.digests.digests, &b.digests.digests));
        assert_eq!(b.to_cached().role_descriptors_hash, a_digest);
        let mut c = doc(r#"{"c":{}}"#);
        c.share_digests_of(&a);
        assert!(!Arc::ptr_eq(&a.digests.digests, &c.digests.digests));
        assert_eq!(
            c.to_cached().role_descriptors_hash,
            RdDigest::of(r#"{"c":{}}"#)
        );

        let secret = Secret::new("s");
        a.remember_stored(&secret, true);
        assert_eq!(a.clone().stored_verified(&secret), Some(true));
        assert_eq!(b.stored_verified(&secret), None);
        assert_eq!(a.stored_verified(&Secret::new("s")), None);
        // A write to the fields makes a new instance, which the memo does not answer for.
        let mut changed = a.clone();
        changed.hash = Some("other".into());
        assert_eq!(changed.stored_verified(&secret), None);
    }

    #[test]
    fn digest_hex_round_trips() {
        let x = RdDigest::of("{}");
        assert_eq!(RdDigest::from_hex(&x.hex()), Some(x));
        assert_eq!(RdDigest::from_hex(&x.hex().to_uppercase()), Some(x));
        assert_eq!(RdDigest::from_hex("zz"), None);
        assert_eq!(x.hex().len(), 64);
    }
}
