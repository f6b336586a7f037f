//! Service account token actions (M1-M3, I2, I4): index tokens in `.security`,
//! file tokens gathered from every node's `service_tokens` file.

use super::authn::Authentication;
use super::fanout::{node_not_connected, NodeFailure};
use super::Cluster;
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::hashing::Secret;
use crate::security::index::{Availability, SecurityIndex};
use crate::security::service_account::{
    auto_token_name, create_index_token, delete_index_token, find_account_in, index_token_names,
    tool, ServiceAccountId, ToolError,
};
use crate::time::epoch_millis;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};

impl Cluster {
    /// M1: creates an index token (auto-named `token_<id>` without a name). Creating a token clears no
    /// cache (I4).
    pub fn create_service_token(
        &mut self,
        node: NodeIndex,
        auth: &Authentication,
        account: &ServiceAccountId,
        name: Option<&str>,
    ) -> Result<(String, Secret), EsError> {
        if find_account_in(&account.as_principal(), self.settings.version).is_none() {
            return Err(EsError::illegal_argument(format!(
                "service account [{}] does not exist",
                account.as_principal()
            )));
        }
        self.prepare_index_for_write()?;
        let now_ms = epoch_millis(self.clock.now());
        let hasher = self.settings.service_token.hashing_algorithm;
        let creator = json!({
            "principal": auth.principal(),
            "full_name": Value::Null,
            "email": Value::Null,
            "metadata": {},
            "realm": realm_name(auth),
            "realm_type": realm_type(auth),
        });
        let n = &mut self.nodes[node as usize];
        let name = match name {
            Some(n) => n.to_string(),
            None => auto_token_name(&mut n.uuids, now_ms),
        };
        let token = create_index_token(
            &mut self.security_index,
            account,
            &name,
            hasher,
            &mut n.rng,
            now_ms,
            creator,
        )?;
        Ok((name, Secret::new(token.as_bearer_string())))
    }

    /// M2 / I2: deletes an index token and always broadcasts an exact-key clear of the index token
    /// cache (unless there is no index, or the account is unknown). Returns `found`.
    pub(crate) fn delete_service_token(
        &mut self,
        node: NodeIndex,
        account: &ServiceAccountId,
        name: &str,
    ) -> Result<bool, EsError> {
        if !self.security_index.exists() {
            return Ok(false);
        }
        if let Some(e) = self
            .security_index
            .unavailable_reason(Availability::PrimaryShards)
        {
            return Err(e);
        }
        if find_account_in(&account.as_principal(), self.settings.version).is_none() {
            return Ok(false);
        }
        let qualified = format!("{}/{}", account.as_principal(), name);
        let found = delete_index_token(&mut self.security_index, &qualified);
        // Per-node failures are inside a successful response; only a whole-action failure would fail
        // the delete (`clearing the cache for service token [...] failed. please clear the cache manually`).
        self.clear_security_cache(node, "index_service_account_token", &[qualified]);
        Ok(found)
    }

    /// M3: index tokens (sorted) and file tokens gathered from every node with a nodes header.
    pub(crate) fn service_credentials(
        &self,
        coordinator: NodeIndex,
        account: &ServiceAccountId,
    ) -> Result<Value, EsError> {
        let principal = account.as_principal();
        let index_names: Vec<String> = if self.security_index.exists() {
            if let Some(e) = self
                .security_index
                .unavailable_reason(Availability::SearchShards)
            {
                return Err(e);
            }
            if !self.security_index.state().is_up_to_date() {
                return Err(SecurityIndex::not_up_to_date_error(false));
            }
            index_token_names(&self.security_index, account)
        } else {
            Vec::new()
        };
        let mut file_tokens: IndexMap<String, Vec<String>> = IndexMap::new();
        let (mut ok, mut failures) = (0usize, Vec::new());
        for (i, n) in self.nodes().iter().enumerate() {
            // Out of the cluster state: not asked, not counted (CA-PT3).
            if !n.running() || (n.removed && i as NodeIndex != coordinator) {
                continue;
            }
            if !self.reachable(coordinator, i as NodeIndex) {
                failures.push(NodeFailure {
                    node_id: n.id.clone(),
                    cause: node_not_connected(&n.name, i as NodeIndex),
                });
                continue;
            }
            ok += 1;
            for token in n.service_accounts.file_token_names(account) {
                file_tokens.entry(token).or_default().push(n.name.clone());
            }
        }
        file_tokens.sort_keys();
        let mut header = Map::new();
        header.insert("total".into(), json!(ok + failures.len()));
        header.insert("successful".into(), json!(ok));
        header.insert("failed".into(), json!(failures.len()));
        if !failures.is_empty() {
            header.insert(
                "failures".into(),
                Value::Array(
                    failures
                        .iter()
                        .map(|f| f.to_error().to_xcontent(true))
                        .collect(),
                ),
            );
        }
        let mut files = Map::new();
        for (name, mut nodes) in file_tokens.clone() {
            nodes.sort();
            files.insert(name, json!({ "nodes": nodes }));
        }
        let mut tokens = Map::new();
        for n in &index_names {
            tokens.insert(n.clone(), json!({}));
        }
        let distinct_file = file_tokens.len();
        Ok(json!({
            "service_account": principal,
            "count": index_names.len() + distinct_file,
            "tokens": Value::Object(tokens),
            "nodes_credentials": {
                "_nodes": Value::Object(header),
                "file_tokens": Value::Object(files),
            }
        }))
    }
}

fn realm_name(auth: &Authentication) -> String {
    match auth {
        Authentication::Realm { realm, .. } => realm.name.clone(),
        Authentication::ApiKey(_) => "_es_api_key".into(),
        Authentication::ServiceAccount { .. } => "_service_account".into(),
    }
}

fn realm_type(auth: &Authentication) -> String {
    match auth {
        Authentication::Realm { realm, .. } => realm.type_.clone(),
        Authentication::ApiKey(_) => "_es_api_key".into(),
        Authentication::ServiceAccount { .. } => "_service_account".into(),
    }
}

/// The `elasticsearch-service-tokens` CLI run on one node's `config/service_tokens` (F4). The written
/// file is picked up by that node's watcher at its next poll (I3).
impl Cluster {
    /// `create <principal> <name>`: returns the new token's bearer value.
    pub fn service_tokens_tool_create(
        &mut self,
        i: NodeIndex,
        principal: &str,
        name: &str,
    ) -> Result<Secret, ToolError> {
        let hasher = self.settings.service_token.hashing_algorithm;
        let n = self.nodes.get_mut(i as usize).ok_or_else(|| ToolError {
            exit_code: 64,
            message: "unknown node".into(),
        })?;
        let (bytes, token) =
            tool::create(&n.service_tokens_file, principal, name, hasher, &mut n.rng)?;
        self.set_service_tokens_file(i, bytes)
            .map_err(|e| ToolError {
                exit_code: 1,
                message: e.into_reason(),
            })?;
        Ok(Secret::new(token.as_bearer_string()))
    }

    /// `delete <principal> <name>`.
    pub fn service_tokens_tool_delete(
        &mut self,
        i: NodeIndex,
        principal: &str,
        name: &str,
    ) -> Result<(), ToolError> {
        let file = self
            .nodes
            .get(i as usize)
            .map(|n| n.service_tokens_file.clone())
            .unwrap_or_default();
        let bytes = tool::delete(&file, principal, name)?;
        self.set_service_tokens_file(i, bytes)
            .map_err(|e| ToolError {
                exit_code: 1,
                message: e.into_reason(),
            })
    }

    /// `list [<principal>]`: sorted qualified names.
    pub fn service_tokens_tool_list(
        &self,
        i: NodeIndex,
        principal: Option<&str>,
    ) -> Result<Vec<String>, ToolError> {
        let file = self
            .nodes
            .get(i as usize)
            .map(|n| n.service_tokens_file.as_slice())
            .unwrap_or_default();
        tool::list(file, principal)
    }
}
