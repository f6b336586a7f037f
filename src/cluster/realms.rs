//! Username and password authentication through the realms' caches, and the clear-realm-cache nodes
//! action (`SEC/action/realm/TransportClearRealmCacheAction.java`, rules CA-RC1-RC6).
//!
//! The realms run in `Realms` order: the reserved realm (`elastic` with its bootstrap password or
//! the password set by change-password), then the native realm (users in `.security`). The file
//! realm has no users in escache; its cache exists and can be cleared. Each realm checks a password
//! against its stored hash (bcrypt by default, `xpack.security.authc.password_hashing.algorithm`)
//! only on a cache miss or a password that does not match the cached hash (CA-RC2/CA-RC3).

use super::{Authentication, Cluster, NodesResponse, RealmRef};
use crate::events::{CacheId, EventKind, NodeIndex};
use crate::security::hashing::{verify_hash, Hasher, Secret};
use crate::security::index::{Availability, SecurityIndex};
use crate::security::realm_cache::RealmUser;
use crate::security::Ctx;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The trace name of a hasher that verified a stored password.
fn hasher_name(hash: &str) -> String {
    Hasher::resolve_from_hash(hash).map_or_else(|_| "unknown".to_string(), |h| h.name())
}

/// Verifies a password against a stored hash, recording the verification (its cost is the stored
/// hasher's) under the realm's cache, and handing the hasher to `sink` (a simulation charges its
/// cost: CA-RC3).
fn verify_stored(
    ctx: &mut Ctx<'_>,
    sink: Option<&mut Vec<Hasher>>,
    cache: CacheId,
    username: &str,
    password: &Secret,
    stored: &str,
) -> bool {
    ctx.record(
        EventKind::HashVerification,
        cache,
        username,
        &hasher_name(stored),
    );
    if let (Some(sink), Ok(h)) = (sink, Hasher::resolve_from_hash(stored)) {
        sink.push(h);
    }
    verify_hash(password.expose(), stored)
}

/// The native realm's `doAuthenticate` (`NativeUsersStore.verifyPassword`): the user document, an
/// enabled user, and a password that matches its stored hash.
fn native_lookup(
    index: &SecurityIndex,
    username: &str,
    password: &Secret,
    ctx: &mut Ctx<'_>,
    sink: Option<&mut Vec<Hasher>>,
) -> Option<RealmUser> {
    if index.unavailable_reason(Availability::Get).is_some() {
        return None;
    }
    let doc = index.users.get(username)?;
    if !doc.enabled {
        return None;
    }
    if !verify_stored(
        ctx,
        sink,
        CacheId::NativeRealmUsers,
        username,
        password,
        &doc.password_hash,
    ) {
        return None;
    }
    Some(RealmUser {
        username: doc.username.clone(),
        roles: doc.roles.clone(),
        full_name: doc.full_name.clone(),
        email: doc.email.clone(),
        metadata: doc.metadata.clone(),
        enabled: doc.enabled,
    })
}

/// A reserved user's document in `.security` (`reserved-user-<name>`): its password hash when
/// change-password set one, and its enabled flag. It belongs to the index it was written to: a
/// deleted or recreated index forgets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReservedUserDoc {
    index_uuid: Option<String>,
    password_hash: Option<String>,
    enabled: bool,
}

/// `elastic`'s bootstrap password as the reserved realm stores it: hashed with
/// `password_hashing.algorithm`, from its own generator; the cluster generator still draws what the
/// former salt drew, so seeded ids stay what they were.
pub(super) fn bootstrap_password_hash(
    config: &super::ClusterConfig,
    rng: &mut ChaCha8Rng,
) -> String {
    let mut salt = [0u8; 8];
    rng.fill_bytes(&mut salt);
    config.settings.stores.password_hashing.hash(
        &config.password,
        &mut ChaCha8Rng::seed_from_u64(config.seed ^ 0xe1a5_71c0),
    )
}

impl Cluster {
    /// A user's password as stored: `xpack.security.authc.password_hashing.algorithm` (bcrypt).
    pub(crate) fn hash_password(&mut self, password: &str) -> String {
        self.settings
            .stores
            .password_hashing
            .hash(password, &mut self.rng)
    }

    /// A reserved user's document, if the current index holds one.
    fn reserved_doc(&self, username: &str) -> Option<&ReservedUserDoc> {
        let uuid = &self.security_index.state().uuid;
        self.reserved_users
            .get(username)
            .filter(|d| uuid.is_some() && d.index_uuid == *uuid)
    }

    /// The stored hash of a reserved user's password: the one change-password set, else `elastic`'s
    /// bootstrap password (`ReservedRealm`); `None` for a disabled user or one without a password.
    fn reserved_password_hash(&self, username: &str) -> Option<String> {
        match self.reserved_doc(username) {
            Some(d) if !d.enabled => None,
            Some(ReservedUserDoc {
                password_hash: Some(h),
                ..
            }) => Some(h.clone()),
            _ => (username == "elastic").then(|| self.elastic_password_hash.clone()),
        }
    }

    /// Whether a reserved user is enabled (true unless set-enabled disabled it).
    pub(crate) fn reserved_user_enabled(&self, username: &str) -> bool {
        self.reserved_doc(username).is_none_or(|d| d.enabled)
    }

    /// Writes a reserved user's document (`changeReservedUserPassword`, `setReservedUserEnabled`).
    pub(crate) fn update_reserved_user(
        &mut self,
        username: &str,
        password_hash: Option<String>,
        enabled: Option<bool>,
    ) {
        let uuid = self.security_index.state().uuid.clone();
        let current = self.reserved_doc(username).cloned();
        let doc = ReservedUserDoc {
            index_uuid: uuid,
            password_hash: password_hash
                .or_else(|| current.as_ref().and_then(|d| d.password_hash.clone())),
            enabled: enabled.unwrap_or_else(|| current.as_ref().is_none_or(|d| d.enabled)),
        };
        self.reserved_users.insert(username.to_string(), doc);
    }

    /// `Basic` authentication on `node`: the reserved realm for reserved users, else the native
    /// realm, each through its cache.
    pub(crate) fn authenticate_basic(
        &mut self,
        node: NodeIndex,
        username: &str,
        password: &Secret,
    ) -> Option<Authentication> {
        if crate::security::authz::is_reserved_user(username) {
            let stored = self.reserved_password_hash(username);
            let user = self.with_node(node, |n, _, ctx| {
                let super::Node { stores, rng, .. } = n;
                let (realm, sink) = stores.reserved_realm_and_sink();
                realm.authenticate(username, password, ctx, rng, |ctx| {
                    let stored = stored?;
                    verify_stored(
                        ctx,
                        sink,
                        CacheId::ReservedRealmUsers,
                        username,
                        password,
                        &stored,
                    )
                    .then(|| reserved_user(username))
                })
            })?;
            return Some(realm_authentication(user, "reserved", "reserved"));
        }
        let (name, type_, user) = self.with_node(node, |n, index, ctx| {
            let super::Node { stores, rng, .. } = n;
            let (realm, sink) = stores.native_realm_and_sink();
            let user = realm.authenticate(username, password, ctx, rng, |ctx| {
                native_lookup(index, username, password, ctx, sink)
            });
            (realm.name.clone(), realm.type_, user)
        });
        user.map(|u| realm_authentication(u, &name, type_))
    }

    /// CA-RC6: `ClearRealmCacheAction` from `coordinator`: on every node, the named realms (all when
    /// `realms` is empty) expire `usernames` (everything when empty). A realm a node does not have is
    /// that node's failure: `could not find active realm [<name>]`.
    pub fn clear_realm_cache(
        &mut self,
        coordinator: NodeIndex,
        realms: &[String],
        usernames: &[String],
    ) -> NodesResponse {
        self.nodes_action(
            coordinator,
            super::fanout::NodeOperation::ClearRealmCache {
                realms: realms.to_vec(),
                usernames: usernames.to_vec(),
            },
        )
    }
}

/// A reserved user as the reserved realm returns it (`elastic` is a superuser).
pub(crate) fn reserved_user(username: &str) -> RealmUser {
    RealmUser {
        username: username.to_string(),
        roles: crate::security::authz::reserved_user_roles(username)
            .iter()
            .map(|r| (*r).to_string())
            .collect(),
        full_name: None,
        email: None,
        metadata: json!({"_reserved": true}),
        enabled: true,
    }
}

fn realm_authentication(user: RealmUser, name: &str, type_: &str) -> Authentication {
    Authentication::Realm {
        username: user.username,
        roles: user.roles,
        full_name: user.full_name,
        email: user.email,
        metadata: user.metadata,
        realm: RealmRef {
            name: name.to_string(),
            type_: type_.to_string(),
        },
    }
}
