//! Native users and `PUT /_security/user` (all in `elastic/elasticsearch`, `CORE` =
//! `x-pack/plugin/core/.../xpack/core/security`, `SEC` = `x-pack/plugin/security/.../xpack/security`):
//! `CORE/user/User.java`, `CORE/action/user/PutUserRequestBuilder.java`,
//! `SEC/action/user/TransportPutUserAction.java`.

use super::xcontent::{read_string_array, token_name, validation_exception};
use super::{is_reserved_user, validate_role_name, validate_username, INTERNAL_USERNAMES};
use crate::error::EsError;
use crate::security::hashing::{Hasher, Secret};
use serde_json::{json, Map, Value};

/// A native (or reserved) user as `GET /_security/user` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) enabled: bool,
}

impl User {
    pub fn new(username: impl Into<String>, roles: &[&str]) -> Self {
        User {
            username: username.into(),
            roles: roles.iter().map(std::string::ToString::to_string).collect(),
            full_name: None,
            email: None,
            metadata: Map::new(),
            enabled: true,
        }
    }

    /// `User.toXContent`: `username`, `roles`, `full_name`, `email`, `metadata`, `enabled`
    /// (absent names and emails are `null`).
    pub fn to_json(&self) -> Value {
        json!({
            "username": self.username,
            "roles": self.roles,
            "full_name": self.full_name,
            "email": self.email,
            "metadata": Value::Object(self.metadata.clone()),
            "enabled": self.enabled,
        })
    }
}

/// A parsed `PUT /_security/user/{username}` request. The password is only ever held as a
/// [`Secret`] (its `Debug` prints `Secret(**redacted**)`).
#[derive(Debug, Clone, PartialEq)]
pub struct PutUserRequest {
    pub(crate) username: String,
    /// The clear-text `password`, already checked for length; the store hashes it.
    pub password: Option<Secret>,
    /// A `password_hash` given instead of a password.
    pub(crate) password_hash: Option<Secret>,
    pub roles: Option<Vec<String>>,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub enabled: bool,
}

/// `password must be specified unless you are updating an existing user` (`validation_exception`,
/// from `NativeUsersStore` when a user without a password does not exist yet).
pub(crate) fn new_user_without_password_error() -> EsError {
    validation_exception(&["password must be specified unless you are updating an existing user"])
}

impl PutUserRequest {
    /// `PutUserRequestBuilder.source`: parses the body field by field, failing on the first bad
    /// field. `configured_hasher` is `xpack.security.authc.password_hashing.algorithm`, which a
    /// `password_hash` must use.
    ///
    /// # Errors
    /// - `parse_exception` `expected an object, but found token [<T>]` for a non-object body;
    /// - `parse_exception` `failed to parse add user request. unexpected field [<f>]`;
    /// - `parse_exception` `expected field [<f>] to be of type string|object|boolean, but found [<T>] instead`;
    /// - `validation_exception` `Validation Failed: 1: passwords must be at least [6] characters long;`;
    /// - `validation_exception` `Validation Failed: 1: password_hash has already been set;`;
    /// - `illegal_argument_exception` `Provided password hash uses [<X>] but the configured hashing algorithm is [<Y>]`;
    /// - `illegal_argument_exception` `[username] in source does not match the username provided [<u>]`.
    pub fn parse(
        username: &str,
        body: &Value,
        configured_hasher: &Hasher,
    ) -> Result<PutUserRequest, EsError> {
        let obj = match body {
            Value::Object(o) => o,
            other => {
                return Err(EsError::parse(format!(
                    "expected an object, but found token [{}]",
                    token_name(other)
                )))
            }
        };
        let mut req = PutUserRequest {
            username: username.to_string(),
            password: None,
            password_hash: None,
            roles: None,
            full_name: None,
            email: None,
            metadata: None,
            enabled: true,
        };
        let type_error = |f: &str, kind: &str, v: &Value| {
            EsError::parse(format!(
                "expected field [{f}] to be of type {kind}, but found [{}] instead",
                token_name(v)
            ))
        };
        for (f, v) in obj {
            match f.as_str() {
                "password" => match v {
                    Value::String(p) => {
                        if p.encode_utf16().count() < MIN_PASSWORD_LENGTH {
                            return Err(validation_exception(&[format!(
                                "passwords must be at least [{MIN_PASSWORD_LENGTH}] characters long"
                            )]));
                        }
                        if req.password_hash.is_some() {
                            return Err(validation_exception(&[
                                "password_hash has already been set",
                            ]));
                        }
                        req.password = Some(Secret::new(p.as_str()));
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                "password_hash" => match v {
                    Value::String(h) => {
                        let resolved = Hasher::resolve_from_hash(h)
                            .map_err(|e| EsError::illegal_argument(e.to_string()))?;
                        if resolved != *configured_hasher {
                            return Err(EsError::illegal_argument(format!(
                                "Provided password hash uses [{}] but the configured hashing algorithm is [{}]",
                                resolved.name().to_uppercase(),
                                configured_hasher.name().to_uppercase()
                            )));
                        }
                        if req.password_hash.is_some() || req.password.is_some() {
                            return Err(validation_exception(&[
                                "password_hash has already been set",
                            ]));
                        }
                        req.password_hash = Some(Secret::new(h.as_str()));
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                "roles" => match v {
                    Value::String(s) => req.roles = Some(comma_delimited(s)),
                    other => req.roles = read_string_array(f, other, false)?,
                },
                "full_name" => match v {
                    Value::String(s) => req.full_name = Some(s.clone()),
                    Value::Null => {}
                    other => return Err(type_error(f, "string", other)),
                },
                "email" => match v {
                    Value::String(s) => req.email = Some(s.clone()),
                    Value::Null => {}
                    other => return Err(type_error(f, "string", other)),
                },
                "metadata" => match v {
                    Value::Object(m) => req.metadata = Some(m.clone()),
                    other => return Err(type_error(f, "object", other)),
                },
                "enabled" => match v {
                    Value::Bool(b) => req.enabled = *b,
                    other => return Err(type_error(f, "boolean", other)),
                },
                "username" => match v {
                    Value::String(s) => {
                        if s != username {
                            return Err(EsError::illegal_argument(format!(
                                "[username] in source does not match the username provided [{username}]"
                            )));
                        }
                    }
                    other => return Err(type_error(f, "string", other)),
                },
                other => {
                    return Err(EsError::parse(format!(
                        "failed to parse add user request. unexpected field [{other}]"
                    )))
                }
            }
        }
        Ok(req)
    }

    /// `PutUserRequest.validate()` (`roles are missing`, `metadata keys may not start with [_]`),
    /// then, if that passed, `TransportPutUserAction`'s checks (reserved, anonymous or internal
    /// user; user name shape; role name shapes). `anonymous_username` is the anonymous user's name
    /// when anonymous access is enabled.
    ///
    /// # Errors
    /// `action_request_validation_exception` with every message of the failing stage.
    pub fn validate(&self, anonymous_username: Option<&str>) -> Result<(), EsError> {
        let mut errors: Vec<String> = Vec::new();
        if self.roles.is_none() {
            errors.push("roles are missing".into());
        }
        if self
            .metadata
            .as_ref()
            .is_some_and(|m| m.keys().any(|k| k.starts_with('_')))
        {
            errors.push("metadata keys may not start with [_]".into());
        }
        if !errors.is_empty() {
            return Err(EsError::validation(&errors));
        }
        let u = self.username.as_str();
        if is_reserved_user(u) {
            errors.push(format!(
                "user [{u}] is reserved and only the password can be changed"
            ));
        } else if anonymous_username == Some(u) {
            errors.push(format!(
                "user [{u}] is anonymous and cannot be modified via the API"
            ));
        } else if INTERNAL_USERNAMES.contains(&u) {
            errors.push(format!("user [{u}] is internal"));
        } else if let Some(e) = validate_username(u) {
            errors.push(e);
        }
        for r in self.roles.iter().flatten() {
            if let Some(e) = validate_role_name(r, true) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EsError::validation(&errors))
        }
    }

    /// Whether the request carries a password or a password hash.
    pub fn has_password(&self) -> bool {
        self.password.is_some() || self.password_hash.is_some()
    }

    /// The check `NativeUsersStore` makes once it knows whether the user exists: a new user needs
    /// a password.
    pub fn check_create(&self, user_exists: bool) -> Result<(), EsError> {
        if !user_exists && !self.has_password() {
            return Err(new_user_without_password_error());
        }
        Ok(())
    }

    /// The user this request writes (all fields are replaced; missing metadata becomes `{}`).
    pub fn to_user(&self) -> User {
        User {
            username: self.username.clone(),
            roles: self.roles.clone().unwrap_or_default(),
            full_name: self.full_name.clone(),
            email: self.email.clone(),
            metadata: self.metadata.clone().unwrap_or_default(),
            enabled: self.enabled,
        }
    }
}

const MIN_PASSWORD_LENGTH: usize = 6;

/// `Strings.commaDelimitedListToStringArray`: no trimming; `""` gives nothing; a trailing comma
/// gives a trailing empty string.
fn comma_delimited(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(str::to_string).collect()
}

/// `PUT /_security/user/{username}` up to the store: [`PutUserRequest::parse`] then
/// [`PutUserRequest::validate`] (no anonymous user).
pub fn parse_put_user(
    username: &str,
    body: &Value,
    configured_hasher: &Hasher,
) -> Result<PutUserRequest, EsError> {
    let req = PutUserRequest::parse(username, body, configured_hasher)?;
    req.validate(None)?;
    Ok(req)
}
