//! Role descriptors: what roles and API keys carry, parsed and validated as Elasticsearch does
//! (all in `elastic/elasticsearch`, `CORE` = `x-pack/plugin/core/.../xpack/core/security`,
//! `SEC` = `x-pack/plugin/security/.../xpack/security`): `CORE/authz/RoleDescriptor.java`
//! (`parse`, `toXContent`), `CORE/action/role/RoleDescriptorRequestValidator.java`,
//! `SEC/action/role/TransportPutRoleAction.java`.

use super::index_privileges::validate_index_privileges;
use super::validation::MAX_DESCRIPTION_LENGTH;
use super::xcontent::{read_string_array, role_string_array, token_name, validation_exception};
use super::{grants, is_reserved_role, validate_role_name, ClusterPrivilege, RequestContext};
use crate::error::{EsError, ExceptionType};
use serde_json::{json, Map, Value};

/// One entry of a role's `indices`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndicesPrivileges {
    pub(crate) names: Vec<String>,
    pub(crate) privileges: Vec<String>,
    /// `field_security.grant`.
    pub(crate) grant_fields: Option<Vec<String>>,
    /// `field_security.except`.
    pub(crate) except_fields: Option<Vec<String>>,
    /// The document-level-security query, as a JSON string (an object query is kept compact).
    pub(crate) query: Option<String>,
    pub(crate) allow_restricted_indices: bool,
}

impl IndicesPrivileges {
    pub(crate) fn new(names: &[&str], privileges: &[&str]) -> Self {
        IndicesPrivileges {
            names: names.iter().map(std::string::ToString::to_string).collect(),
            privileges: privileges
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            grant_fields: None,
            except_fields: None,
            query: None,
            allow_restricted_indices: false,
        }
    }

    /// `IndicesPrivileges.toXContent`: `names`, `privileges`, `field_security`?, `query`?,
    /// `allow_restricted_indices`.
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("names".into(), json!(self.names));
        m.insert("privileges".into(), json!(self.privileges));
        if self.grant_fields.is_some() || self.except_fields.is_some() {
            let mut fs = Map::new();
            if let Some(g) = &self.grant_fields {
                fs.insert("grant".into(), json!(g));
            }
            if let Some(e) = &self.except_fields {
                fs.insert("except".into(), json!(e));
            }
            m.insert("field_security".into(), Value::Object(fs));
        }
        if let Some(q) = &self.query {
            m.insert("query".into(), Value::String(q.clone()));
        }
        m.insert(
            "allow_restricted_indices".into(),
            Value::Bool(self.allow_restricted_indices),
        );
        Value::Object(m)
    }
}

/// One entry of a role's `applications`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplicationPrivileges {
    pub(crate) application: String,
    pub(crate) privileges: Vec<String>,
    pub(crate) resources: Vec<String>,
}

impl ApplicationPrivileges {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "application": self.application,
            "privileges": self.privileges,
            "resources": self.resources,
        })
    }
}

/// A role: what `PUT /_security/role/{name}` stores and what roles and API keys carry.
///
/// Equality compares every field (metadata maps compare without regard to key order).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDescriptor {
    pub name: String,
    pub cluster: Vec<String>,
    /// Configurable cluster privileges (`global`), kept as given.
    pub(crate) global: Option<Map<String, Value>>,
    pub(crate) indices: Vec<IndicesPrivileges>,
    pub(crate) applications: Vec<ApplicationPrivileges>,
    pub run_as: Vec<String>,
    pub(crate) metadata: Map<String, Value>,
    /// `remote_indices`, kept as given (objects).
    pub(crate) remote_indices: Vec<Value>,
    /// `remote_cluster`, kept as given.
    pub(crate) remote_cluster: Option<Value>,
    pub(crate) description: Option<String>,
}

impl RoleDescriptor {
    /// A role with only cluster privileges.
    pub fn with_cluster(name: impl Into<String>, cluster: &[&str]) -> Self {
        RoleDescriptor {
            name: name.into(),
            cluster: cluster
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            global: None,
            indices: Vec::new(),
            applications: Vec::new(),
            run_as: Vec::new(),
            metadata: Map::new(),
            remote_indices: Vec::new(),
            remote_cluster: None,
            description: None,
        }
    }

    /// `RoleDescriptor.parse(name, body, allow2xFormat=false)`: the structural parse of a role body.
    ///
    /// # Errors
    /// - an invalid role name: `validation_exception` with the `Role names must be ...` text;
    /// - a body that is not an object: `failed to parse role [<n>]. expected an object but found [<T>] instead`;
    /// - an unknown top-level field: `failed to parse role [<n>]. unexpected field [<f>]`;
    /// - a wrongly typed `cluster`/`run_as`: `failed to parse role [<n>]` caused by
    ///   `could not parse [<f>] field. expected a string array but found [<T>] value instead`;
    /// - `metadata` not an object: `expected field [metadata] to be of type object, but found [<T>] instead`;
    /// - the `indices` and `applications` messages of `parseIndices`/`parseApplicationPrivileges`.
    pub fn parse(name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
        if let Some(err) = validate_role_name(name, true) {
            return Err(validation_exception(&[err]));
        }
        let obj = match body {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "failed to parse role [{name}]. expected an object but found [{}] instead",
                    token_name(other)
                )))
            }
        };
        let mut rd = RoleDescriptor::with_cluster(name, &[]);
        for (field, value) in obj {
            match field.as_str() {
                "index" | "indices" => rd.indices = parse_indices(name, field, value)?,
                "run_as" => {
                    rd.run_as = role_string_array(name, field, value, true)?.unwrap_or_default();
                }
                "cluster" => {
                    rd.cluster = role_string_array(name, field, value, true)?.unwrap_or_default();
                }
                "applications" | "application" => {
                    rd.applications = parse_applications(name, field, value)?;
                }
                "global" => match value {
                    Value::Object(o) => rd.global = Some(o.clone()),
                    Value::Null => rd.global = None,
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse role [{name}]. expected field [global] to be of type object, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "metadata" => match value {
                    Value::Object(o) => rd.metadata.clone_from(o),
                    other => {
                        return Err(EsError::parse(format!(
                            "expected field [metadata] to be of type object, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "transient_metadata" => {
                    if !value.is_object() {
                        return Err(unexpected_role_field(name, field));
                    }
                    // Consumed and dropped.
                }
                "remote_indices" => match value {
                    Value::Array(items) => {
                        for item in items {
                            if !item.is_object() {
                                return Err(EsError::parse(format!(
                                    "failed to parse remote indices privileges for role [{name}]. expected field [null] value \
                                     to be an array of objects, but found an array element of type [{}]",
                                    token_name(item)
                                )));
                            }
                        }
                        rd.remote_indices.clone_from(items);
                    }
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse remote indices privileges for role [{name}]. expected field [{field}] value \
                             to be an array, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "remote_cluster" => rd.remote_cluster = Some(value.clone()),
                "description" => match value {
                    Value::String(s) => rd.description = Some(s.clone()),
                    Value::Null => rd.description = None,
                    other => {
                        return Err(EsError::parse(format!(
                            "failed to parse role [{name}]. expected field [description] to be of type string, but found [{}] instead",
                            token_name(other)
                        )))
                    }
                },
                "type" => {}
                _ => return Err(unexpected_role_field(name, field)),
            }
        }
        Ok(rd)
    }

    /// `RoleDescriptorRequestValidator.validate`: every problem, one line each.
    ///
    /// # Errors
    /// `action_request_validation_exception` listing unknown cluster privileges, unknown index
    /// privileges, `role descriptor metadata keys may not start with [_]` and
    /// `Role description must be less than 1000 characters.`.
    pub fn validate(&self) -> Result<(), EsError> {
        let errors = self.validation_errors();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&errors))
        }
    }

    fn validation_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for p in &self.cluster {
            if let Err(e) = ClusterPrivilege::resolve(p) {
                errors.push(e);
            }
        }
        for ip in &self.indices {
            if let Err(e) = validate_index_privileges(&ip.privileges) {
                errors.push(e);
            }
        }
        if self.metadata.keys().any(|k| k.starts_with('_')) {
            errors.push("role descriptor metadata keys may not start with [_]".into());
        }
        if let Some(d) = &self.description {
            if d.encode_utf16().count() > MAX_DESCRIPTION_LENGTH {
                errors.push(format!(
                    "Role description must be less than {MAX_DESCRIPTION_LENGTH} characters."
                ));
            }
        }
        errors
    }

    /// `RoleDescriptor.toXContent` (display form): `cluster`, `global`?, `indices`,
    /// `applications`, `run_as`, `metadata`, `transient_metadata`, `remote_indices`?,
    /// `remote_cluster`?, `description`?.
    pub fn to_json(&self) -> Value {
        self.to_xcontent(false)
    }

    /// The security-index document form: `"type":"role"` in place of `transient_metadata`.
    pub fn to_doc_json(&self) -> Value {
        self.to_xcontent(true)
    }

    fn to_xcontent(&self, doc: bool) -> Value {
        let mut m = Map::new();
        m.insert("cluster".into(), json!(self.cluster));
        if let Some(g) = self.global.as_ref().filter(|g| !g.is_empty()) {
            m.insert("global".into(), Value::Object(g.clone()));
        }
        m.insert(
            "indices".into(),
            Value::Array(
                self.indices
                    .iter()
                    .map(IndicesPrivileges::to_json)
                    .collect(),
            ),
        );
        m.insert(
            "applications".into(),
            Value::Array(
                self.applications
                    .iter()
                    .map(ApplicationPrivileges::to_json)
                    .collect(),
            ),
        );
        m.insert("run_as".into(), json!(self.run_as));
        m.insert("metadata".into(), Value::Object(self.metadata.clone()));
        if doc {
            m.insert("type".into(), Value::String("role".into()));
        } else {
            m.insert("transient_metadata".into(), json!({"enabled": true}));
        }
        if !self.remote_indices.is_empty() {
            m.insert(
                "remote_indices".into(),
                Value::Array(self.remote_indices.clone()),
            );
        }
        if let Some(rc) = &self.remote_cluster {
            m.insert("remote_cluster".into(), rc.clone());
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::String(d.clone()));
        }
        Value::Object(m)
    }

    /// Whether any of this role's cluster privileges grants `action`.
    pub(crate) fn grants_cluster_action(&self, action: &str, ctx: &RequestContext) -> bool {
        self.cluster.iter().any(|p| grants(p, action, ctx))
    }
}

fn unexpected_role_field(role: &str, field: &str) -> EsError {
    EsError::parse(format!(
        "failed to parse role [{role}]. unexpected field [{field}]"
    ))
}

pub(crate) fn parse_indices(
    role: &str,
    field: &str,
    v: &Value,
) -> Result<Vec<IndicesPrivileges>, EsError> {
    let items = match v {
        Value::Array(items) => items,
        other => {
            return Err(EsError::parse(format!(
                "failed to parse indices privileges for role [{role}]. expected field [{field}] value to be an array, \
                 but found [{}] instead",
                token_name(other)
            )))
        }
    };
    items.iter().map(|i| parse_index(role, i)).collect()
}

fn parse_index(role: &str, v: &Value) -> Result<IndicesPrivileges, EsError> {
    let prefix = format!("failed to parse indices privileges for role [{role}].");
    let obj = match v {
        Value::Object(o) => o,
        other => {
            return Err(EsError::parse(format!(
                "{prefix} expected field [null] value to be an array of objects, but found an array element of type [{}]",
                token_name(other)
            )))
        }
    };
    let mut names: Option<Vec<String>> = None;
    let mut privileges: Option<Vec<String>> = None;
    let mut grant: Option<Vec<String>> = None;
    let mut except: Option<Vec<String>> = None;
    let mut query: Option<String> = None;
    let mut allow_restricted = false;
    for (f, value) in obj {
        match f.as_str() {
            "names" => match value {
                Value::String(s) => names = Some(vec![s.clone()]),
                Value::Array(_) => {
                    let n = role_string_array(role, f, value, false)?.unwrap_or_default();
                    if n.is_empty() {
                        return Err(EsError::parse(format!(
                            "{prefix} [{f}] cannot be an empty array"
                        )));
                    }
                    names = Some(n);
                }
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be a string or an array of strings, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "allow_restricted_indices" => match value {
                Value::Bool(b) => allow_restricted = *b,
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be a boolean, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "query" => match value {
                Value::Object(_) => query = Some(value.to_string()),
                Value::String(s) => {
                    if !s.is_empty() {
                        query = Some(s.clone());
                    }
                }
                Value::Null => {}
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected field [{f}] value to be null, a string, an array, or an object, but found [{}] instead",
                        token_name(other)
                    )))
                }
            },
            "field_security" => match value {
                Value::Object(fs) => {
                    if fs.is_empty() {
                        return Err(EsError::parse(format!(
                            "{prefix} \"field_security\" must not be empty."
                        )));
                    }
                    for (k, kv) in fs {
                        match k.as_str() {
                            "grant" | "except" => {
                                let arr = role_string_array(role, k, kv, true)?;
                                let Some(arr) = arr else {
                                    return Err(EsError::parse(format!(
                                        "{prefix} {k} must not be null."
                                    )));
                                };
                                if k == "grant" {
                                    grant = Some(arr);
                                } else {
                                    except = Some(arr);
                                }
                            }
                            other => {
                                return Err(EsError::parse(format!(
                                    "{prefix} \"field_security\" only accepts options grant and except, but got: {other}"
                                )))
                            }
                        }
                    }
                }
                other => {
                    return Err(EsError::parse(format!(
                        "{prefix} expected START_OBJECT but got {} in \"field_security\".",
                        token_name(other)
                    )))
                }
            },
            "privileges" => privileges = role_string_array(role, f, value, true)?,
            "fields" => {
                return Err(EsError::parse(format!(
                    "[\"fields\": [...]] format has changed for field permissions in role [{role}], use \
                     [\"field_security\": {{\"grant\":[...],\"except\":[...]}}] instead"
                )))
            }
            "transient_metadata" => {
                if !value.is_object() {
                    return Err(EsError::parse(format!(
                        "failed to parse transient metadata for role [{role}]. expected START_OBJECT but got {} in \"transient_metadata\".",
                        token_name(value)
                    )));
                }
            }
            other => {
                return Err(EsError::parse(format!(
                    "{prefix} unexpected field [{other}]"
                )))
            }
        }
    }
    let Some(names) = names else {
        return Err(EsError::parse(format!(
            "{prefix} missing required [names] field"
        )));
    };
    let Some(privileges) = privileges else {
        return Err(EsError::parse(format!(
            "{prefix} missing required [privileges] field"
        )));
    };
    if except.is_some() && grant.is_none() {
        return Err(EsError::parse(format!(
            "{prefix} field_security requires grant if except is given"
        )));
    }
    if privileges.is_empty() {
        return Err(EsError::illegal_argument(
            "indices privileges must define at least one privilege",
        ));
    }
    Ok(IndicesPrivileges {
        names,
        privileges,
        grant_fields: grant,
        except_fields: except,
        query,
        allow_restricted_indices: allow_restricted,
    })
}

pub(crate) fn parse_applications(
    role: &str,
    field: &str,
    v: &Value,
) -> Result<Vec<ApplicationPrivileges>, EsError> {
    let prefix = format!("failed to parse application privileges for role [{role}].");
    let items = match v {
        Value::Array(items) => items,
        other => {
            return Err(EsError::parse(format!(
                "{prefix} expected field [{field}] value to be an array, but found [{}] instead",
                token_name(other)
            )))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let obj = match item {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "{prefix} expected field [null] value to be an array of objects, but found an array element of type [{}]",
                    token_name(other)
                )))
            }
        };
        let mut application = None;
        let mut privileges = None;
        let mut resources = None;
        for (f, fv) in obj {
            match f.as_str() {
                "application" => match fv {
                    Value::String(s) => application = Some(s.clone()),
                    other => return Err(object_parser_type_error(f, other)),
                },
                "privileges" | "resources" => {
                    let arr = match read_string_array(f, fv, false) {
                        Ok(a) => a.unwrap_or_default(),
                        Err(_) => return Err(object_parser_type_error(f, fv)),
                    };
                    if f == "privileges" {
                        privileges = Some(arr);
                    } else {
                        resources = Some(arr);
                    }
                }
                other => {
                    return Err(EsError::new(
                        ExceptionType::XContentParse,
                        format!("[application] unknown field [{other}]"),
                        400,
                    ))
                }
            }
        }
        let Some(resources) = resources else {
            return Err(EsError::parse(format!(
                "{prefix} missing required [resources] field"
            )));
        };
        let Some(privileges) = privileges else {
            return Err(EsError::parse(format!(
                "{prefix} missing required [privileges] field"
            )));
        };
        let application = application.unwrap_or_default();
        if application.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must have an application name",
            ));
        }
        if privileges.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must define at least one privilege",
            ));
        }
        if resources.is_empty() {
            return Err(EsError::illegal_argument(
                "application privileges must refer to at least one resource",
            ));
        }
        out.push(ApplicationPrivileges {
            application,
            privileges,
            resources,
        });
    }
    Ok(out)
}

/// `ObjectParser`'s wrong-type error (without the `[line:col]` location, which a parsed JSON value
/// no longer has).
fn object_parser_type_error(field: &str, v: &Value) -> EsError {
    EsError::new(
        ExceptionType::XContentParse,
        format!(
            "[application] {field} doesn't support values of type: {}",
            token_name(v)
        ),
        400,
    )
}

/// `PUT /_security/role/{name}` up to the store: parse the body, validate it, then refuse a
/// reserved name (`TransportPutRoleAction`: the reserved-name check runs only when the request
/// validated).
///
/// # Errors
/// Those of [`RoleDescriptor::parse`] and [`RoleDescriptor::validate`], then
/// `action_request_validation_exception` `Validation Failed: 1: Role [<n>] is reserved and may not be used.;`.
pub fn parse_put_role(name: &str, body: &Value) -> Result<RoleDescriptor, EsError> {
    let rd = RoleDescriptor::parse(name, body)?;
    rd.validate()?;
    if is_reserved_role(name) {
        return Err(EsError::validation(&[format!(
            "Role [{name}] is reserved and may not be used."
        )]));
    }
    Ok(rd)
}
