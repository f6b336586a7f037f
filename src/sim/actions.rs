//! Running a scheduled action: [`Simulation::run_action`] dispatches to one function per action.
//! REST calls and credential changes are here; node and security index faults are in `faults.rs`.

use super::action::{Action, AuthorizationHeader, Selection};
use super::simulation::{elastic, sim_err, Simulation};
use crate::cluster::{Cluster, InvalidateApiKeyRequest};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::service_account::ServiceAccountId;
use rand::Rng;

impl Simulation {
    /// Runs scheduled action `index`; an error is recorded by the caller and the run goes on.
    pub(super) fn run_action(
        &mut self,
        cluster: &mut Cluster,
        index: usize,
    ) -> Result<(), EsError> {
        let action = self.actions[index].action.clone();
        match action {
            Action::Rest {
                method,
                path,
                body,
                node,
                authorization,
            } => rest(cluster, &method, &path, body, node, authorization.as_ref()),
            Action::InvalidateApiKeys {
                workload,
                selection,
                node,
            } => self.invalidate_api_keys(cluster, workload, &selection, node),
            Action::DeleteServiceTokens {
                workload,
                selection,
                node,
            } => self.delete_service_tokens(cluster, workload, &selection, node),
            Action::RemoveFileTokens {
                workload,
                selection,
                nodes,
            } => {
                self.remove_file_tokens(cluster, workload, &selection, &nodes);
                Ok(())
            }
            Action::SetServiceTokensFile { nodes, content } => {
                set_service_tokens_file(cluster, &nodes, &content)
            }
            Action::ClearCache { cache, keys, node } => clear_cache(cluster, &cache, &keys, node),
            Action::StopNode(n) => self.stop_node(cluster, n),
            Action::StartNode(n) => self.start_node(cluster, n),
            Action::Partition(n) => self.partition(cluster, n, true),
            Action::Heal(n) => self.partition(cluster, n, false),
            Action::DropClearCache(nodes) => {
                super::faults::drop_clear_cache(cluster, &nodes);
                Ok(())
            }
            Action::IndexHealth(h) => super::faults::index_health(cluster, h),
            Action::IndexDelete => {
                cluster.delete_security_index();
                Ok(())
            }
            Action::IndexClose => {
                cluster.close_security_index();
                Ok(())
            }
            Action::IndexOpen => {
                cluster.open_security_index();
                Ok(())
            }
            Action::IndexRecreate => {
                cluster.recreate_security_index();
                Ok(())
            }
            Action::IndexUpToDate(b) => {
                cluster.set_security_index_up_to_date(b);
                Ok(())
            }
        }
    }

    /// `DELETE /_security/api_key` for the selected keys, coordinated by `node`.
    fn invalidate_api_keys(
        &mut self,
        cluster: &mut Cluster,
        workload: usize,
        selection: &Selection,
        node: NodeIndex,
    ) -> Result<(), EsError> {
        let now = cluster.now();
        let picked = self.select(workload, selection);
        let ids: Vec<String> = picked
            .iter()
            .map(|&c| self.workloads[workload].credentials[c].id.clone())
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let req = InvalidateApiKeyRequest {
            ids: Some(ids),
            ..Default::default()
        };
        let res = cluster.invalidate_api_keys(node, &elastic(), &req)?;
        for c in picked {
            let cred = &mut self.workloads[workload].credentials[c];
            if res.invalidated.contains(&cred.id) {
                cred.invalid_since.get_or_insert(now);
            }
        }
        Ok(())
    }

    /// Deletes the selected index tokens through `node`.
    fn delete_service_tokens(
        &mut self,
        cluster: &mut Cluster,
        workload: usize,
        selection: &Selection,
        node: NodeIndex,
    ) -> Result<(), EsError> {
        let now = cluster.now();
        let picked = self.select(workload, selection);
        for c in picked {
            let (principal, name) = self.token_parts(workload, c);
            let acc = ServiceAccountId::from_principal(&principal)?;
            if cluster.delete_service_token(node, &acc, &name)? {
                self.workloads[workload].credentials[c]
                    .invalid_since
                    .get_or_insert(now);
            }
        }
        Ok(())
    }

    /// Removes the selected file tokens from the `service_tokens` files of `nodes` (the tool's delete).
    fn remove_file_tokens(
        &mut self,
        cluster: &mut Cluster,
        workload: usize,
        selection: &Selection,
        nodes: &[NodeIndex],
    ) {
        let now = cluster.now();
        let picked = self.select(workload, selection);
        for c in picked {
            let (principal, name) = self.token_parts(workload, c);
            for &n in nodes {
                if cluster
                    .service_tokens_tool_delete(n, &principal, &name)
                    .is_ok()
                {
                    self.workloads[workload].credentials[c]
                        .removed_from_file
                        .entry(n)
                        .or_insert(now);
                }
            }
        }
    }

    /// (`namespace/service`, token name) of a token credential's qualified name.
    fn token_parts(&self, w: usize, c: usize) -> (String, String) {
        let id = &self.workloads[w].credentials[c].id;
        match id.rsplit_once('/') {
            Some((principal, name)) => (principal.to_string(), name.to_string()),
            None => (String::new(), id.clone()),
        }
    }

    fn select(&mut self, w: usize, sel: &Selection) -> Vec<usize> {
        let n = self.workloads.get(w).map_or(0, |w| w.credentials.len());
        match sel {
            Selection::All => (0..n).collect(),
            Selection::Top(k) => (0..(*k).min(n)).collect(),
            Selection::Indices(v) => v.iter().copied().filter(|&i| i < n).collect(),
            Selection::Random(k) => {
                let k = (*k).min(n);
                let mut picked: Vec<usize> = Vec::with_capacity(k);
                let mut pool: Vec<usize> = (0..n).collect();
                for j in 0..k {
                    let r = self.rng.random_range(j..n);
                    pool.swap(j, r);
                    picked.push(pool[j]);
                }
                picked
            }
        }
    }
}

/// Any REST request, through `node` or the first running node; an error status is the action's error.
fn rest(
    cluster: &mut Cluster,
    method: &str,
    path: &str,
    body: Option<String>,
    node: Option<NodeIndex>,
    authorization: Option<&AuthorizationHeader>,
) -> Result<(), EsError> {
    let node = node
        .or_else(|| cluster.first_running())
        .ok_or_else(|| sim_err("every node is stopped"))?;
    let mut headers = Vec::new();
    if let Some(a) = authorization {
        headers.push(("Authorization".to_string(), a.expose().to_string()));
    }
    if body.is_some() {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    let resp = crate::rest::handle(
        cluster,
        node,
        method,
        path,
        headers,
        body.map(String::into_bytes),
    );
    if resp.status >= 400 {
        let name = cluster.node(node).map_or("", |n| n.name.as_str());
        return Err(sim_err(format!(
            "[{name}] answered {}: {}",
            resp.status,
            error_summary(&resp.body)
        )));
    }
    Ok(())
}

/// Writes a `service_tokens` file on each of `nodes`.
fn set_service_tokens_file(
    cluster: &mut Cluster,
    nodes: &[NodeIndex],
    content: &[u8],
) -> Result<(), EsError> {
    for &n in nodes {
        cluster.set_service_tokens_file(n, content.to_vec())?;
    }
    Ok(())
}

/// A clear-cache request (`ClearSecurityCacheRequest`) coordinated by `node`.
fn clear_cache(
    cluster: &mut Cluster,
    cache: &str,
    keys: &[String],
    node: NodeIndex,
) -> Result<(), EsError> {
    let resp = cluster.clear_security_cache(node, cache, keys);
    // A node that could not clear (unreachable, a dropped broadcast, an unknown cache
    // name) is a `_nodes.failures` entry in Elasticsearch's answer: record it.
    if let Some(f) = resp.failures.first() {
        let name = cluster
            .nodes()
            .iter()
            .find(|n| n.id == f.node_id)
            .map_or(f.node_id.as_str(), |n| n.name.as_str());
        return Err(sim_err(format!(
            "{} of {} nodes failed; first failure on [{name}]: {}",
            resp.failures.len(),
            resp.failures.len() + resp.successes.len(),
            f.cause.reason
        )));
    }
    Ok(())
}

/// An Elasticsearch error body in one line: `type: reason`; any other body as JSON.
fn error_summary(body: &serde_json::Value) -> String {
    let e = &body["error"];
    match (e["type"].as_str(), e["reason"].as_str()) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        _ => body.to_string(),
    }
}
