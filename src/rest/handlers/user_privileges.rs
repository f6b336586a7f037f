//! `GET /_security/user/_privileges` (`RestGetUserPrivilegesAction`,
//! `TransportGetUserPrivilegesAction`, `RBACEngine.getUserPrivileges`,
//! `GetUserPrivilegesResponse.toXContent`). Rule API-UP1.

use super::has_privileges::target_username;
use crate::cluster::Authentication;
use crate::error::EsError;
use crate::rest::{check_unconsumed_params, reject_unconsumed_body, Request, Response, RouteId};
use crate::security::authz::{self, RequestContext, RoleDescriptor, Subject};
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// One merged `indices` entry: the same names, privileges and restricted-indices flag.
#[derive(Default)]
struct IndexEntry {
    field_security: Vec<Value>,
    query: Vec<String>,
}

fn privileges_json(roles: &[RoleDescriptor]) -> Value {
    let mut cluster = BTreeSet::new();
    let mut run_as = BTreeSet::new();
    let mut global: Vec<Value> = Vec::new();
    let mut indices: IndexMap<(Vec<String>, Vec<String>, bool), IndexEntry> = IndexMap::new();
    let mut apps_by_resources: IndexMap<(String, Vec<String>), BTreeSet<String>> = IndexMap::new();
    for r in roles {
        cluster.extend(r.cluster.iter().cloned());
        run_as.extend(r.run_as.iter().cloned());
        if let Some(g) = &r.global {
            let g = Value::Object(g.clone());
            if !global.contains(&g) {
                global.push(g);
            }
        }
        for i in &r.indices {
            let names: BTreeSet<String> = i.names.iter().cloned().collect();
            let privileges: BTreeSet<String> = i.privileges.iter().cloned().collect();
            let key = (
                names.into_iter().collect(),
                privileges.into_iter().collect(),
                i.allow_restricted_indices,
            );
            let entry = indices.entry(key).or_default();
            if i.grant_fields.is_some() || i.except_fields.is_some() {
                let mut fs = Map::new();
                if let Some(g) = &i.grant_fields {
                    fs.insert("grant".into(), json!(g));
                }
                if let Some(e) = &i.except_fields {
                    fs.insert("except".into(), json!(e));
                }
                entry.field_security.push(Value::Object(fs));
            }
            if let Some(q) = &i.query {
                entry.query.push(q.clone());
            }
        }
        for a in &r.applications {
            let resources: BTreeSet<String> = a.resources.iter().cloned().collect();
            apps_by_resources
                .entry((a.application.clone(), resources.into_iter().collect()))
                .or_default()
                .extend(a.privileges.iter().cloned());
        }
    }
    // Entries with the same application and privileges then merge their resources.
    let mut apps: IndexMap<(String, Vec<String>), BTreeSet<String>> = IndexMap::new();
    for ((app, resources), privileges) in apps_by_resources {
        apps.entry((app, privileges.into_iter().collect()))
            .or_default()
            .extend(resources);
    }
    let indices: Vec<Value> = indices
        .into_iter()
        .map(|((names, privileges, restricted), e)| {
            let mut m = Map::new();
            m.insert("names".into(), json!(names));
            m.insert("privileges".into(), json!(privileges));
            if !e.field_security.is_empty() {
                m.insert("field_security".into(), Value::Array(e.field_security));
            }
            if !e.query.is_empty() {
                m.insert("query".into(), json!(e.query));
            }
            m.insert("allow_restricted_indices".into(), json!(restricted));
            Value::Object(m)
        })
        .collect();
    let applications: Vec<Value> = apps
        .into_iter()
        .map(|((application, privileges), resources)| {
            json!({"application": application, "privileges": privileges, "resources": resources})
        })
        .collect();
    json!({
        "cluster": cluster,
        "global": global,
        "indices": indices,
        "applications": applications,
        "run_as": run_as,
    })
}

pub(super) fn handle(
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    check_unconsumed_params(req, &[])?;
    reject_unconsumed_body(req)?;
    let username = target_username(req, subject);
    authz::authorize(
        subject,
        RouteId::GetUserPrivileges.action(),
        &RequestContext::none().with_target_username(&username),
    )?;
    if username != auth.principal() {
        return Err(EsError::illegal_argument(
            "users may only list the privileges of their own account",
        ));
    }
    let roles: &[RoleDescriptor] = match subject {
        Subject::User(u) => &u.descriptors,
        Subject::ServiceAccount(s) => std::slice::from_ref(&s.role),
        Subject::ApiKey(k) if k.role_descriptors.is_empty() => &k.limited_by,
        Subject::ApiKey(_) => {
            return Err(EsError::illegal_argument(
                "Cannot retrieve privileges for API keys with assigned role descriptors. \
                 Please use the Get API key information API https://ela.st/es-api-get-api-key",
            ))
        }
    };
    Ok(Response::ok(privileges_json(roles)))
}
