//! One node's `ServiceAccountService` (`SEC/authc/service/ServiceAccountService.java`) with its two
//! token stores (ST-S1): the file store (`FileServiceAccountTokenStore`: the parsed `service_tokens`
//! file and its cache) and the index store's cache (`IndexServiceAccountTokenStore`; the documents
//! live in the cluster's [`SecurityIndex`]).
//!
//! The caller (the cluster) records the authentication outcome; this service records the cache
//! events of both stores, the hash verifications of the store lookups (`detail`: the hasher name),
//! and the file store's log lines.
//!
//! Index token create/delete/list are pure functions over the index at the bottom of this file; the
//! cluster checks the index's availability around them and sends the clear-cache request (I2).

use super::accounts::{find_account_in, ELASTIC_NAMESPACE};
use super::file::{
    parse_service_tokens_file, parse_service_tokens_file_lenient, ParsedTokens, SERVICE_TOKENS_FILE,
};
use super::store::CachingTokenStore;
use super::token::{ServiceAccountId, ServiceAccountToken, TokenSource, MIN_TOKEN_SECRET_LENGTH};
use crate::cache::CacheStats;
use crate::error::{EsError, ExceptionType};
use crate::events::{CacheId, EventKind};
use crate::security::hashing::{verify_hash, Hasher};
use crate::security::index::{SecurityIndex, ServiceTokenDoc, SECURITY_MAIN_INDEX};
use crate::security::settings::ServiceTokenSettings;
use crate::security::{CacheSize, Ctx, RemovalCounts};
use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// The registry name of the file store's cache.
pub(crate) const FILE_CACHE_NAME: &str = "file_service_account_token";
/// The registry name of the index store's cache.
pub(crate) const INDEX_CACHE_NAME: &str = "index_service_account_token";
/// The document id prefix of index tokens (`IndexServiceAccountTokenStore.docIdForToken`).
pub(crate) const TOKEN_DOC_ID_PREFIX: &str = "service_account_token-";

/// `service_account_token-<qualified name>`.
pub fn token_doc_id(qualified_name: &str) -> String {
    format!("{TOKEN_DOC_ID_PREFIX}{qualified_name}")
}

/// A successful service account authentication (A3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountAuthentication {
    /// `namespace/service`.
    pub principal: String,
    pub token_name: String,
    /// The store that accepted the token.
    pub source: TokenSource,
}

/// What [`ServiceAccountService::authenticate`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceAccountAuthOutcome {
    Success(ServiceAccountAuthentication),
    /// 401 `security_exception` `failed to authenticate service account [<ns/svc>] with token name
    /// [<name>]`. Does not fall through to other authenticators (A2).
    Failure(EsError),
    /// An exception of the index store (ST-S2, ST-S4), returned as is.
    Exception(EsError),
}

impl ServiceAccountAuthOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, ServiceAccountAuthOutcome::Success(_))
    }

    /// The error of a failure or exception.
    pub fn error(&self) -> Option<&EsError> {
        match self {
            ServiceAccountAuthOutcome::Success(_) => None,
            ServiceAccountAuthOutcome::Failure(e) | ServiceAccountAuthOutcome::Exception(e) => {
                Some(e)
            }
        }
    }
}

/// `createAuthenticationException`.
pub(crate) fn authentication_failure(token: &ServiceAccountToken) -> EsError {
    EsError::security(
        format!(
            "failed to authenticate service account [{}] with token name [{}]",
            token.account, token.name
        ),
        401,
    )
}

/// The file store: the map parsed from the file, the bytes it came from, and its cache.
#[derive(Debug)]
pub(crate) struct FileTokenStore {
    tokens: ParsedTokens,
    raw: Vec<u8>,
    pub(crate) cache: CachingTokenStore,
}

impl FileTokenStore {}

/// One node's service account service.
#[derive(Debug)]
pub struct ServiceAccountService {
    file: FileTokenStore,
    index_cache: CachingTokenStore,
    rng: ChaCha8Rng,
    startup_warnings: Vec<String>,
    /// Store lookups that verified a stored hash (file and index).
    pub verifications: u64,
    /// When set, the hasher of every verification is kept here (the simulator charges their cost).
    pub(crate) collect_verified: bool,
    pub(crate) verified: Vec<Hasher>,
    /// The version profile, whose service accounts exist (CA-VP8).
    pub(crate) version: crate::security::version::EsVersion,
}

impl ServiceAccountService {
    /// Builds both stores from the settings and reads the `service_tokens` file (`file`, empty when
    /// the file is missing: F1).
    ///
    /// # Errors
    /// * a malformed file (F3): a line without `:` → `illegal_state_exception` `Missing ':'
    ///   character at line #N`; bad UTF-8 → `illegal_state_exception` `Failed to load
    ///   service_tokens file [config/service_tokens]` caused by the decoder's error; a hash with an
    ///   unusable prefix → `illegal_argument_exception` with `resolveFromHash`'s message;
    /// * `maximumWeight < 0` for a negative `max_tokens`.
    pub fn new(settings: &ServiceTokenSettings, seed: u64, file: &[u8]) -> Result<Self, EsError> {
        let tokens = parse_service_tokens_file(file)?;
        let startup_warnings = tokens.warnings().to_vec();
        Ok(ServiceAccountService {
            file: FileTokenStore {
                tokens,
                raw: file.to_vec(),
                cache: CachingTokenStore::new(CacheId::FileServiceAccountToken, settings)?,
            },
            index_cache: CachingTokenStore::new(CacheId::IndexServiceAccountToken, settings)?,
            rng: ChaCha8Rng::seed_from_u64(seed),
            startup_warnings,
            verifications: 0,
            collect_verified: false,
            verified: Vec::new(),
            version: crate::security::version::EsVersion::default(),
        })
    }

    /// The WARN lines of the startup parse (plaintext lines skipped, duplicate keys), for the caller
    /// to record once it has an event context.
    pub fn startup_warnings(&self) -> &[String] {
        &self.startup_warnings
    }

    /// The cache of a store by its trace id.
    pub fn store(&self, cache: CacheId) -> Option<&CachingTokenStore> {
        match cache {
            CacheId::FileServiceAccountToken => Some(&self.file.cache),
            CacheId::IndexServiceAccountToken => Some(&self.index_cache),
            _ => None,
        }
    }

    fn store_mut(&mut self, cache: CacheId) -> Option<&mut CachingTokenStore> {
        match cache {
            CacheId::FileServiceAccountToken => Some(&mut self.file.cache),
            CacheId::IndexServiceAccountToken => Some(&mut self.index_cache),
            _ => None,
        }
    }

    /// `authenticateToken` (A2) then the composite store (ST-S2): file first, then index.
    ///
    /// Checks 1-3 fail before any store is asked and touch no cache: the namespace must be
    /// `elastic`, the principal a known account, the secret at least 10 characters.
    pub fn authenticate(
        &mut self,
        token: &ServiceAccountToken,
        index: &SecurityIndex,
        ctx: &mut Ctx<'_>,
    ) -> ServiceAccountAuthOutcome {
        if token.account.namespace != ELASTIC_NAMESPACE
            || find_account_in(&token.account.as_principal(), self.version).is_none()
            || token.secret.char_count() < MIN_TOKEN_SECRET_LENGTH
        {
            return ServiceAccountAuthOutcome::Failure(authentication_failure(token));
        }
        // ST-S2: the first success wins; a failure moves on; an exception ends the walk.
        let file_ok = {
            let tokens = &self.file.tokens;
            let verifications = Verified {
                count: &mut self.verifications,
                hashers: self.collect_verified.then_some(&mut self.verified),
            };
            self.file
                .cache
                .authenticate_traced(token, ctx, &mut self.rng, |t, ctx| {
                    Ok(file_lookup(tokens, t, ctx, verifications))
                })
        };
        match file_ok {
            Ok(true) => return success(token, TokenSource::File),
            Ok(false) => {}
            Err(e) => return ServiceAccountAuthOutcome::Exception(e),
        }
        let verifications = Verified {
            count: &mut self.verifications,
            hashers: self.collect_verified.then_some(&mut self.verified),
        };
        let index_ok = self
            .index_cache
            .authenticate_traced(token, ctx, &mut self.rng, |t, ctx| {
                index_lookup(index, t, ctx, verifications)
            });
        match index_ok {
            Ok(true) => success(token, TokenSource::Index),
            Ok(false) => ServiceAccountAuthOutcome::Failure(authentication_failure(token)),
            Err(e) => ServiceAccountAuthOutcome::Exception(e),
        }
    }

    /// The file watcher (I3). `new_bytes` is the file's content now (empty for a deleted file).
    /// When the bytes are the ones last read, the watcher sees no change and nothing happens.
    /// Otherwise the file is re-parsed leniently (a failure logs
    /// `failed to parse service tokens file [config/service_tokens]. skipping/removing all
    /// tokens...` and gives an empty map), and only if the map differs from the current one (keys
    /// and hashes, order ignored) is `service tokens file [config/service_tokens] changed. updating
    /// ...` recorded (a `FileReloaded` event) and the **whole** file cache cleared.
    ///
    /// Returns whether the map changed.
    pub fn poll_file(&mut self, new_bytes: &[u8], ctx: &mut Ctx<'_>) -> bool {
        if new_bytes == self.file.raw.as_slice() {
            return false;
        }
        self.reload_file(new_bytes, ctx)
    }

    /// `tryReload` unconditionally (a watcher event for a touched file); see [`Self::poll_file`].
    pub(crate) fn reload_file(&mut self, new_bytes: &[u8], ctx: &mut Ctx<'_>) -> bool {
        let id = CacheId::FileServiceAccountToken;
        self.file.raw = new_bytes.to_vec();
        let (parsed, error) = parse_service_tokens_file_lenient(new_bytes);
        for w in parsed.warnings() {
            ctx.record(EventKind::LogWarn, id, SERVICE_TOKENS_FILE, w);
        }
        if let Some(error) = error {
            ctx.record(EventKind::LogWarn, id, SERVICE_TOKENS_FILE, &error);
        }
        if parsed.same_tokens(&self.file.tokens) {
            self.file.tokens = parsed;
            return false;
        }
        self.file.tokens = parsed;
        ctx.record(
            EventKind::FileReloaded,
            id,
            SERVICE_TOKENS_FILE,
            &format!("service tokens file [{SERVICE_TOKENS_FILE}] changed. updating ..."),
        );
        self.file.cache.invalidate_all(ctx);
        true
    }

    /// The qualified names of the file tokens, sorted.
    pub fn file_tokens(&self) -> Vec<String> {
        self.file
            .tokens
            .sorted_keys()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// `findNodeLocalTokensFor`: the names of this account's file tokens (what follows
    /// `<principal>/` in the key), sorted.
    pub fn file_token_names(&self, account: &ServiceAccountId) -> Vec<String> {
        let prefix = format!("{}/", account.as_principal());
        self.file
            .tokens
            .sorted_keys()
            .into_iter()
            .filter_map(|k| k.strip_prefix(prefix.as_str()))
            .map(str::to_string)
            .collect()
    }

    /// An invalidator by keys (C4) for one of the two caches. Returns false for another cache id.
    pub(crate) fn invalidate(
        &mut self,
        cache: CacheId,
        keys: &[String],
        ctx: &mut Ctx<'_>,
    ) -> bool {
        match self.store_mut(cache) {
            Some(s) => {
                s.invalidate(keys, ctx);
                true
            }
            None => false,
        }
    }

    /// An invalidator, everything, for one of the two caches. Returns false for another cache id.
    pub fn invalidate_all(&mut self, cache: CacheId, ctx: &mut Ctx<'_>) -> bool {
        match self.store_mut(cache) {
            Some(s) => {
                s.invalidate_all(ctx);
                true
            }
            None => false,
        }
    }

    /// The invalidators by registry name (`file_service_account_token`,
    /// `index_service_account_token`): by keys, or everything when `keys` is `None`. Returns false
    /// for an unknown name.
    pub fn invalidate_by_name(
        &mut self,
        name: &str,
        keys: Option<&[String]>,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let cache = match name {
            FILE_CACHE_NAME => CacheId::FileServiceAccountToken,
            INDEX_CACHE_NAME => CacheId::IndexServiceAccountToken,
            _ => return false,
        };
        match keys {
            Some(k) => self.invalidate(cache, k, ctx),
            None => self.invalidate_all(cache, ctx),
        }
    }

    /// `(count, weight, max weight)` of a cache; `None` when disabled (or another cache id).
    pub fn size(&self, cache: CacheId) -> Option<CacheSize> {
        self.store(cache)?.size()
    }

    /// Keys of a cache, most recently used first.
    pub fn keys(&self, cache: CacheId) -> Vec<String> {
        self.store(cache)
            .map(super::store::CachingTokenStore::keys)
            .unwrap_or_default()
    }

    pub fn contains(&self, cache: CacheId, key: &str) -> bool {
        self.store(cache).is_some_and(|s| s.contains(key))
    }

    pub fn stats(&self, cache: CacheId) -> Option<CacheStats> {
        self.store(cache)?.stats()
    }

    /// Removals of a cache by reason (REPLACED, INVALIDATED, EVICTED).
    pub(crate) fn removals(&self, cache: CacheId) -> Option<RemovalCounts> {
        self.store(cache)?.removals()
    }
}

fn success(token: &ServiceAccountToken, source: TokenSource) -> ServiceAccountAuthOutcome {
    ServiceAccountAuthOutcome::Success(ServiceAccountAuthentication {
        principal: token.account.as_principal(),
        token_name: token.name.clone(),
        source,
    })
}

fn hasher_name(hash: &str) -> String {
    Hasher::resolve_from_hash(hash).map_or_else(|_| "unknown".to_string(), |h| h.name())
}

/// ST-S3: the key must be in the file's map; the secret is checked against its hash.
/// Counts a verification and, for the simulator, which hasher ran.
struct Verified<'a> {
    count: &'a mut u64,
    hashers: Option<&'a mut Vec<Hasher>>,
}

impl Verified<'_> {
    fn note(&mut self, stored_hash: &str) {
        *self.count += 1;
        if let Some(h) = self.hashers.as_mut() {
            h.push(Hasher::resolve_from_hash(stored_hash).unwrap_or(Hasher::Noop));
        }
    }
}

fn file_lookup(
    tokens: &ParsedTokens,
    token: &ServiceAccountToken,
    ctx: &mut Ctx<'_>,
    mut verifications: Verified<'_>,
) -> bool {
    let qualified = token.qualified_name();
    let Some(hash) = tokens.get(&qualified) else {
        return false;
    };
    verifications.note(hash);
    ctx.record(
        EventKind::HashVerification,
        CacheId::FileServiceAccountToken,
        &qualified,
        &hasher_name(hash),
    );
    verify_hash(token.secret.expose(), hash)
}

/// ST-S4: `checkIndexVersionThenExecute`, then the GET of `service_account_token-<qualified>` from
/// `.security`. A missing document is a failure; an index that is not up to date, absent, closed or
/// red is an exception.
fn index_lookup(
    index: &SecurityIndex,
    token: &ServiceAccountToken,
    ctx: &mut Ctx<'_>,
    mut verifications: Verified<'_>,
) -> Result<bool, EsError> {
    if index.exists() && !index.state().is_up_to_date() {
        return Err(SecurityIndex::not_up_to_date_error(false));
    }
    if let Some(e) = index.unavailable_reason(crate::security::index::Availability::Get) {
        return Err(e);
    }
    let qualified = token.qualified_name();
    let Some(doc) = index.service_tokens.get(&qualified) else {
        return Ok(false);
    };
    verifications.note(&doc.password_hash);
    ctx.record(
        EventKind::HashVerification,
        CacheId::IndexServiceAccountToken,
        &qualified,
        &hasher_name(&doc.password_hash),
    );
    Ok(verify_hash(token.secret.expose(), &doc.password_hash))
}

// ----- index token operations (M1, M2, M3) ---------------------------------------------------

/// `IndexServiceAccountTokenStore.createToken`: a new token (T3) hashed with `hasher`
/// (`service_token_hashing.algorithm`), written with `op_type` CREATE. The secret and the hash are
/// drawn before the write, so `rng` advances even when the name is taken. The caller checks the
/// account exists and the index can be written (and creates it); this only writes the document.
///
/// # Errors
/// * V1 for a bad name (400);
/// * 409 `version_conflict_engine_exception` `[service_account_token-<q>]: version conflict,
///   document already exists (current version [1])` when the name is taken.
pub fn create_index_token(
    index: &mut SecurityIndex,
    account: &ServiceAccountId,
    name: &str,
    hasher: Hasher,
    rng: &mut impl RngCore,
    now_epoch_millis: i64,
    creator_json: Value,
) -> Result<ServiceAccountToken, EsError> {
    let token = ServiceAccountToken::new_token(account.clone(), name, rng)?;
    let password_hash = hasher.hash(token.secret.expose(), rng);
    let qualified = token.qualified_name();
    if index.service_tokens.contains_key(&qualified) {
        let uuid = index
            .state()
            .uuid
            .clone()
            .unwrap_or_else(|| "_na_".to_string());
        return Err(EsError::new(
            ExceptionType::VersionConflictEngine,
            format!(
                "[{}]: version conflict, document already exists (current version [1])",
                token_doc_id(&qualified)
            ),
            409,
        )
        .with_metadata("index_uuid", uuid)
        .with_metadata("shard", "0")
        .with_metadata("index", SECURITY_MAIN_INDEX));
    }
    index.service_tokens.insert(
        qualified,
        ServiceTokenDoc {
            username: account.as_principal(),
            name: name.to_string(),
            creation_time: now_epoch_millis,
            enabled: true,
            creator: creator_json,
            password_hash,
        },
    );
    Ok(token)
}

/// `deleteToken`'s document delete: whether the document existed (`result == DELETED`).
pub fn delete_index_token(index: &mut SecurityIndex, qualified_name: &str) -> bool {
    index.service_tokens.shift_remove(qualified_name).is_some()
}

/// `findTokensFor` on the index: the account's index token names, sorted.
pub fn index_token_names(index: &SecurityIndex, account: &ServiceAccountId) -> Vec<String> {
    let principal = account.as_principal();
    let mut names: Vec<String> = index
        .service_tokens
        .values()
        .filter(|d| d.username == principal)
        .map(|d| d.name.clone())
        .collect();
    names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    names
}
