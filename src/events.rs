//! The event trace: every cache hit, miss, put and removal, every authentication and its outcome, every
//! clear-cache and cluster event, in order, in a compact columnar store.
//!
//! Strings (keys, messages) are interned once, and the columns are dictionary-encoded
//! (`events/store.rs`), so an event costs a fixed 14 bytes of columns. Keys are
//! credential *ids* (API key ids, qualified token names, user names): secrets and hashes never enter the
//! trace.

use crate::time::Nanos;

mod store;
pub use store::EventLog;

/// Which security cache an event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CacheId {
    None = 0,
    ApiKeyAuth = 1,
    ApiKeyDoc = 2,
    ApiKeyRoleDescriptors = 3,
    FileServiceAccountToken = 4,
    IndexServiceAccountToken = 5,
    /// `CachingUsernamePasswordRealm` of the reserved realm (`elastic`, ...).
    ReservedRealmUsers = 6,
    /// `CachingUsernamePasswordRealm` of the native realm.
    NativeRealmUsers = 7,
    /// `CachingUsernamePasswordRealm` of the file realm.
    FileRealmUsers = 8,
    /// `CompositeRolesStore.roleCache` (keyed by role names).
    Roles = 9,
    /// `CompositeRolesStore.negativeLookupCache` (role names not found).
    RolesNegativeLookup = 10,
    /// `NativePrivilegeStore`'s descriptors cache (by application).
    ApplicationPrivileges = 11,
    /// `NativePrivilegeStore`'s application names cache (by application name set).
    ApplicationNames = 12,
}

impl CacheId {
    pub(crate) const ALL: [CacheId; 12] = [
        CacheId::ApiKeyAuth,
        CacheId::ApiKeyDoc,
        CacheId::ApiKeyRoleDescriptors,
        CacheId::FileServiceAccountToken,
        CacheId::IndexServiceAccountToken,
        CacheId::ReservedRealmUsers,
        CacheId::NativeRealmUsers,
        CacheId::FileRealmUsers,
        CacheId::Roles,
        CacheId::RolesNegativeLookup,
        CacheId::ApplicationPrivileges,
        CacheId::ApplicationNames,
    ];

    /// The name users type (`Node.caches[...]`).
    pub fn name(self) -> &'static str {
        match self {
            CacheId::None => "",
            CacheId::ApiKeyAuth => "api_key_auth",
            CacheId::ApiKeyDoc => "api_key_doc",
            CacheId::ApiKeyRoleDescriptors => "api_key_role_descriptors",
            CacheId::FileServiceAccountToken => "file_service_account_token",
            CacheId::IndexServiceAccountToken => "index_service_account_token",
            CacheId::ReservedRealmUsers => "reserved_realm_users",
            CacheId::NativeRealmUsers => "native_realm_users",
            CacheId::FileRealmUsers => "file_realm_users",
            CacheId::Roles => "roles",
            CacheId::RolesNegativeLookup => "roles_negative_lookup",
            CacheId::ApplicationPrivileges => "application_privileges",
            CacheId::ApplicationNames => "application_names",
        }
    }

    pub fn from_name(name: &str) -> Option<CacheId> {
        CacheId::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EventKind {
    CacheHit = 0,
    CacheMiss = 1,
    CachePut = 2,
    /// Removed with reason REPLACED.
    CacheReplaced = 3,
    /// Removed with reason INVALIDATED.
    CacheInvalidated = 4,
    /// Removed with reason EVICTED.
    CacheEvicted = 5,
    /// An authentication succeeded (`detail`: the realm / token source).
    AuthSuccess = 6,
    /// An authentication failed with 401 (`detail`: the message).
    AuthFailure = 7,
    /// An authentication was rejected with 429 (`detail`: the message).
    AuthRejected = 8,
    /// A node ran a clear-cache request (`key`: the cache name, `detail`: the keys or `*`).
    ClearCache = 9,
    /// A node could not be reached by a fan-out (`detail`: the action).
    NodeUnreachable = 10,
    /// The security index changed state (`detail`: the transition).
    SecurityIndexChange = 11,
    NodeStopped = 12,
    NodeStarted = 13,
    NodePartitioned = 14,
    NodeHealed = 15,
    /// A hash verification ran on the node's `security-crypto` pool (`key`: credential id,
    /// `detail`: the algorithm).
    HashVerification = 16,
    /// A log line Elasticsearch would write at WARN (`detail`: the text).
    LogWarn = 17,
    /// A REST request was served (`key`: method and path, `detail`: status).
    RestRequest = 18,
    /// The `service_tokens` file watcher reloaded a changed file.
    FileReloaded = 19,
    /// The simulator's timed GET of an API key document (CA-TM2; `key`: the key id, `detail`:
    /// `started`, then `done` and what became of the document).
    IndexGet = 20,
    /// Fault detection removed the node from the cluster state (CA-PT3; `detail`: the reason).
    NodeRemoved = 21,
    /// A node fault detection removed joined the cluster again (CA-PT4).
    NodeJoined = 22,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::CacheHit => "cache_hit",
            EventKind::CacheMiss => "cache_miss",
            EventKind::CachePut => "cache_put",
            EventKind::CacheReplaced => "cache_replaced",
            EventKind::CacheInvalidated => "cache_invalidated",
            EventKind::CacheEvicted => "cache_evicted",
            EventKind::AuthSuccess => "auth_success",
            EventKind::AuthFailure => "auth_failure",
            EventKind::AuthRejected => "auth_rejected",
            EventKind::ClearCache => "clear_cache",
            EventKind::NodeUnreachable => "node_unreachable",
            EventKind::SecurityIndexChange => "security_index_change",
            EventKind::NodeStopped => "node_stopped",
            EventKind::NodeStarted => "node_started",
            EventKind::NodePartitioned => "node_partitioned",
            EventKind::NodeHealed => "node_healed",
            EventKind::HashVerification => "hash_verification",
            EventKind::LogWarn => "log_warn",
            EventKind::RestRequest => "rest_request",
            EventKind::FileReloaded => "file_reloaded",
            EventKind::IndexGet => "index_get",
            EventKind::NodeRemoved => "node_removed",
            EventKind::NodeJoined => "node_joined",
        }
    }

    pub(crate) const ALL: [EventKind; 23] = [
        EventKind::CacheHit,
        EventKind::CacheMiss,
        EventKind::CachePut,
        EventKind::CacheReplaced,
        EventKind::CacheInvalidated,
        EventKind::CacheEvicted,
        EventKind::AuthSuccess,
        EventKind::AuthFailure,
        EventKind::AuthRejected,
        EventKind::ClearCache,
        EventKind::NodeUnreachable,
        EventKind::SecurityIndexChange,
        EventKind::NodeStopped,
        EventKind::NodeStarted,
        EventKind::NodePartitioned,
        EventKind::NodeHealed,
        EventKind::HashVerification,
        EventKind::LogWarn,
        EventKind::RestRequest,
        EventKind::FileReloaded,
        EventKind::IndexGet,
        EventKind::NodeRemoved,
        EventKind::NodeJoined,
    ];
}

/// Index of a node in its cluster (stable for the cluster's life).
pub type NodeIndex = u16;

/// Symbol 0 is the empty string.
pub(crate) type Symbol = u32;

/// One event, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub time: Nanos,
    pub node: NodeIndex,
    pub kind: EventKind,
    pub cache: CacheId,
    pub key: &'a str,
    pub detail: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_decodes_in_order() {
        let mut log = EventLog::new(true);
        log.record(5, 1, EventKind::CacheMiss, CacheId::ApiKeyAuth, "k1", "");
        log.record(
            6,
            0,
            EventKind::AuthFailure,
            CacheId::None,
            "k1",
            "api key is expired",
        );
        let events: Vec<Event<'_>> = log.iter().collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::CacheMiss);
        assert_eq!(events[0].cache.name(), "api_key_auth");
        assert_eq!(events[1].detail, "api key is expired");
        assert_eq!(log.intern("k1"), log.intern("k1"));
    }

    #[test]
    fn disabled_log_records_nothing() {
        let mut log = EventLog::new(false);
        log.record(1, 0, EventKind::CacheHit, CacheId::ApiKeyDoc, "x", "");
        assert!(log.is_empty());
    }

    #[test]
    fn every_kind_round_trips() {
        let mut log = EventLog::new(true);
        for k in EventKind::ALL {
            log.record(0, 0, k, CacheId::None, "", "");
        }
        let kinds: Vec<EventKind> = log.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, EventKind::ALL);
        for c in CacheId::ALL {
            assert_eq!(CacheId::from_name(c.name()), Some(c));
        }
    }
}
