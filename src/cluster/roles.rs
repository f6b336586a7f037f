//! Role resolution through a node's roles cache, and the clear-roles-cache nodes action
//! (`SEC/authz/store/CompositeRolesStore.java`, `SEC/action/role/TransportClearRolesCacheAction.java`;
//! rules CA-RL1-RL5).

use super::{Cluster, NodesResponse};
use crate::events::NodeIndex;
use crate::security::authz::RoleDescriptor;
use crate::security::index::{Availability, SecurityIndex};
use crate::security::roles_cache::RoleLookup;

/// `NativeRolesStore`: one role document. An absent index has no roles (not found); an index that
/// cannot be searched fails the lookup, so the result is not cached. A stored role that does not
/// parse is dropped, as `NativeRolesStore.transformRole` logs and drops it.
fn native_role(index: &SecurityIndex, name: &str) -> RoleLookup {
    if !index.exists() {
        return RoleLookup::NotFound;
    }
    if index
        .unavailable_reason(Availability::SearchShards)
        .is_some()
    {
        return RoleLookup::Unavailable;
    }
    match index
        .roles
        .get(name)
        .and_then(|v| RoleDescriptor::parse(name, v).ok())
    {
        Some(d) => RoleLookup::Found(Box::new(d)),
        None => RoleLookup::NotFound,
    }
}

impl Cluster {
    /// CA-RL2: the descriptors of a user's roles, as `node`'s roles store builds them (the privilege
    /// store is asked for the applications the role names, CA-AP2).
    pub(crate) fn resolve_roles(
        &mut self,
        node: NodeIndex,
        names: &[String],
    ) -> Vec<RoleDescriptor> {
        self.with_node(node, |n, index, ctx| {
            let stores = &mut n.stores;
            let privileges = &mut stores.privileges;
            stores.roles.resolve(
                names,
                ctx,
                |name| native_role(index, name),
                |descriptors, ctx| {
                    let mut apps: Vec<String> = descriptors
                        .iter()
                        .flat_map(|d| d.applications.iter().map(|a| a.application.clone()))
                        .collect();
                    if apps.is_empty() {
                        return;
                    }
                    apps.sort_unstable();
                    apps.dedup();
                    // escache stores no application privilege documents: a fetch finds none.
                    privileges.get_privileges(&apps, ctx, |_| Vec::new());
                },
            )
        })
    }

    /// CA-RL5: `ClearRolesCacheAction` from `coordinator`: every node invalidates the named roles (all
    /// roles when `names` is empty).
    pub fn clear_roles_cache(&mut self, coordinator: NodeIndex, names: &[String]) -> NodesResponse {
        self.nodes_action(
            coordinator,
            super::fanout::NodeOperation::ClearRolesCache {
                names: names.to_vec(),
            },
        )
    }
}
