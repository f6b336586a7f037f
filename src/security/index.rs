//! The `.security` index: its state (health, UUID, up-to-date flag, open or closed) and its documents.
//!
//! State changes are what `SEC/support/SecurityIndexManager.java` reports to its listeners, and
//! [`should_clear_caches`] is `SEC/support/CacheInvalidatorRegistry.java`'s test of whether a change
//! clears the caches (R4.1, I1). Reads and writes fail as Elasticsearch's do when the index is absent,
//! closed, red or not up to date (`SecurityIndexManager.getUnavailableReason`).

use crate::cache::KeyHasher;
use crate::error::{EsError, ExceptionType};
use crate::security::api_key::ApiKeyDoc;
use indexmap::IndexMap;
use serde_json::Value;
use std::fmt;

/// The concrete index behind the `.security` alias.
pub(crate) const SECURITY_MAIN_INDEX: &str = ".security-7";
pub(crate) const SECURITY_MAIN_ALIAS: &str = ".security";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexHealth {
    Green,
    Yellow,
    Red,
}

impl IndexHealth {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IndexHealth::Green => "green",
            IndexHealth::Yellow => "yellow",
            IndexHealth::Red => "red",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<IndexHealth> {
        match s.to_ascii_lowercase().as_str() {
            "green" => Some(IndexHealth::Green),
            "yellow" => Some(IndexHealth::Yellow),
            "red" => Some(IndexHealth::Red),
            _ => None,
        }
    }

    /// [`Self::parse`], refusing any other name with the list of names.
    pub fn from_name(s: &str) -> Result<IndexHealth, EsError> {
        Self::parse(s).ok_or_else(|| {
            EsError::illegal_argument(format!(
                "health must be one of [green, yellow, red], got [{s}]"
            ))
        })
    }
}

/// What `SecurityIndexManager.State` records about the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexState {
    pub exists: bool,
    pub open: bool,
    /// The health while the index exists and is open.
    pub health_when_open: IndexHealth,
    pub uuid: Option<String>,
    /// Whether the index format is current. Reported as true while the index is absent.
    pub format_up_to_date: bool,
}

impl IndexState {
    pub fn absent() -> Self {
        IndexState {
            exists: false,
            open: false,
            health_when_open: IndexHealth::Green,
            uuid: None,
            format_up_to_date: true,
        }
    }

    /// `indexHealth`: none when absent or closed.
    pub fn health(&self) -> Option<IndexHealth> {
        (self.exists && self.open).then_some(self.health_when_open)
    }

    /// `isIndexUpToDate`: true when the index is absent.
    pub fn is_up_to_date(&self) -> bool {
        !self.exists || self.format_up_to_date
    }
}

impl fmt::Display for IndexState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.exists {
            return f.write_str("absent");
        }
        if !self.open {
            return f.write_str("closed");
        }
        write!(f, "{}", self.health_when_open.as_str())?;
        if !self.format_up_to_date {
            f.write_str(" (not up to date)")?;
        }
        Ok(())
    }
}

/// R4.1 / I1: whether a state change clears the opted-in caches. Any of: (a) the previous health was
/// none or RED and the current one is not none and not RED; (b) the index had a health and now has
/// none (deleted or closed); (c) the UUID changed; (d) the up-to-date flag flipped. GREEN→YELLOW,
/// GREEN→RED and mapping-only changes do not clear.
pub fn should_clear_caches(previous: &IndexState, current: &IndexState) -> bool {
    let prev = previous.health();
    let cur = current.health();
    let red_to_non_red = matches!(prev, None | Some(IndexHealth::Red))
        && matches!(cur, Some(h) if h != IndexHealth::Red);
    let deleted = prev.is_some() && cur.is_none();
    red_to_non_red
        || deleted
        || previous.uuid != current.uuid
        || previous.is_up_to_date() != current.is_up_to_date()
}

/// A native user as stored in the index. The password is only ever kept as a salted hash.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDoc {
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub metadata: Value,
    pub enabled: bool,
}

/// The index and its documents.
#[derive(Debug, Clone)]
pub struct SecurityIndex {
    state: IndexState,
    /// API key documents by id, in creation order (read with [`SecurityIndex::api_keys`]; written only
    /// by the cluster's API key actions).
    pub(crate) api_keys: IndexMap<String, ApiKeyDoc, KeyHasher>,
    /// Native users by name.
    pub users: IndexMap<String, UserDoc, KeyHasher>,
    /// Native roles by name (the role descriptor as Elasticsearch renders it).
    pub roles: IndexMap<String, Value, KeyHasher>,
    /// Service account token documents (`service_account_token-<qualified name>`), by qualified name,
    /// with their hashes.
    pub service_tokens: IndexMap<String, ServiceTokenDoc, KeyHasher>,
}

/// An index-backed service account token (`service_account_token-<ns/svc/name>`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTokenDoc {
    pub username: String,
    pub(crate) name: String,
    pub creation_time: i64,
    pub(crate) enabled: bool,
    pub(crate) creator: Value,
    pub password_hash: String,
}

impl Default for SecurityIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// How a caller wants to use the index (`SecurityIndexManager.Availability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Availability {
    /// A GET of one document by id.
    Get,
    /// A search.
    SearchShards,
    /// A write.
    PrimaryShards,
}

impl SecurityIndex {
    /// A cluster starts without a security index; the first write creates it.
    pub fn new() -> Self {
        SecurityIndex {
            state: IndexState::absent(),
            api_keys: IndexMap::default(),
            users: IndexMap::default(),
            roles: IndexMap::default(),
            service_tokens: IndexMap::default(),
        }
    }

    /// The API key documents by id, in creation order.
    pub fn api_keys(&self) -> &IndexMap<String, ApiKeyDoc, KeyHasher> {
        &self.api_keys
    }

    /// Test hook: write API key documents directly, as the Java tests mock the index (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub fn api_keys_mut(&mut self) -> &mut IndexMap<String, ApiKeyDoc, KeyHasher> {
        &mut self.api_keys
    }

    pub fn state(&self) -> &IndexState {
        &self.state
    }

    pub fn exists(&self) -> bool {
        self.state.exists
    }

    /// Replaces the state, returning the previous one. Documents go with a deleted index.
    pub fn set_state(&mut self, state: IndexState) -> IndexState {
        if !state.exists {
            self.api_keys.clear();
            self.users.clear();
            self.roles.clear();
            self.service_tokens.clear();
        }
        std::mem::replace(&mut self.state, state)
    }

    /// `getUnavailableReason`: why the index cannot serve a use, if it cannot. An absent index is
    /// `index_not_found_exception` for the `.security` alias a GET or search names.
    pub(crate) fn unavailable_reason(&self, use_: Availability) -> Option<EsError> {
        let s = &self.state;
        if !s.exists {
            return Some(index_not_found(SECURITY_MAIN_ALIAS));
        }
        if !s.open {
            return Some(
                EsError::new(ExceptionType::IndexClosed, "closed", 400)
                    .with_metadata("index_uuid", "_na_")
                    .with_metadata("index", SECURITY_MAIN_INDEX),
            );
        }
        if s.health_when_open == IndexHealth::Red {
            let what = match use_ {
                Availability::PrimaryShards => "primary",
                Availability::Get | Availability::SearchShards => "search",
            };
            return Some(EsError::new(
                ExceptionType::UnavailableShards,
                format!("at least one {what} shard for the index [{SECURITY_MAIN_INDEX}] is unavailable"),
                503,
            ));
        }
        None
    }

    /// The error of `checkIndexVersionThenExecute` when the index format is not current.
    pub(crate) fn not_up_to_date_error(for_write: bool) -> EsError {
        // The write path's message has no space after "version." in Elasticsearch.
        let sep = if for_write { "" } else { " " };
        EsError::illegal_state(format!(
            "Index [{SECURITY_MAIN_INDEX}] is not on the current version.{sep}Security features relying on the index will not be available until the upgrade API is run on the index"
        ))
    }
}

/// `IndexNotFoundException`.
pub(crate) fn index_not_found(name: &str) -> EsError {
    EsError::new(
        ExceptionType::IndexNotFound,
        format!("no such index [{name}]"),
        404,
    )
    .with_metadata("resource.type", "index_or_alias")
    .with_metadata("resource.id", name)
    .with_metadata("index_uuid", "_na_")
    .with_metadata("index", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(h: IndexHealth, uuid: &str) -> IndexState {
        IndexState {
            exists: true,
            open: true,
            health_when_open: h,
            uuid: Some(uuid.into()),
            format_up_to_date: true,
        }
    }

    #[test]
    fn r4_1_transitions() {
        let absent = IndexState::absent();
        let green = open(IndexHealth::Green, "u1");
        let yellow = open(IndexHealth::Yellow, "u1");
        let red = open(IndexHealth::Red, "u1");
        let closed = IndexState {
            open: false,
            ..green.clone()
        };
        // (a) red -> non-red, including the first recovery from nothing
        assert!(should_clear_caches(&red, &green));
        assert!(should_clear_caches(&red, &yellow));
        assert!(should_clear_caches(&absent, &green));
        // (b) deleted or closed
        assert!(should_clear_caches(&green, &absent));
        assert!(should_clear_caches(&green, &closed));
        // (c) uuid
        assert!(should_clear_caches(&green, &open(IndexHealth::Green, "u2")));
        // (d) up-to-date flips
        assert!(should_clear_caches(
            &green,
            &IndexState {
                format_up_to_date: false,
                ..green.clone()
            }
        ));
        // no clear
        assert!(!should_clear_caches(&green, &yellow));
        assert!(!should_clear_caches(&green, &red));
        assert!(!should_clear_caches(&yellow, &green));
        assert!(!should_clear_caches(&green, &green));
        assert!(!should_clear_caches(&red, &red));
    }

    #[test]
    fn unavailability_errors() {
        let mut idx = SecurityIndex::new();
        assert_eq!(
            idx.unavailable_reason(Availability::Get).unwrap().reason,
            "no such index [.security]"
        );
        idx.set_state(open(IndexHealth::Red, "u"));
        let e = idx.unavailable_reason(Availability::PrimaryShards).unwrap();
        assert_eq!(e.status, 503);
        assert!(e
            .reason
            .contains("primary shard for the index [.security-7]"));
        idx.set_state(open(IndexHealth::Yellow, "u"));
        assert!(idx.unavailable_reason(Availability::SearchShards).is_none());
    }

    #[test]
    fn health_by_name() {
        assert_eq!(IndexHealth::from_name("Yellow"), Ok(IndexHealth::Yellow));
        for h in [IndexHealth::Green, IndexHealth::Yellow, IndexHealth::Red] {
            assert_eq!(IndexHealth::from_name(h.as_str()), Ok(h));
        }
        assert_eq!(
            IndexHealth::from_name("blue").unwrap_err().reason,
            "health must be one of [green, yellow, red], got [blue]"
        );
    }
}
