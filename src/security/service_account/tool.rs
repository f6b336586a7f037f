//! `elasticsearch-service-tokens` (F4; `SEC/authc/service/FileTokensTool.java`) as pure functions
//! over the file's bytes.
//!
//! Each command parses the file strictly (a malformed file fails the command), then rewrites it from
//! the parsed map: one sorted `key:hash` line per token. Comments, blank lines and plaintext lines
//! are therefore dropped by `create` and `delete`, as the real tool drops them.
//!
//! Checks come in the tool's order: the principal must be a known account (exit 67), then the token
//! name must pass V1 (exit 1), then the file is read, then the existence check (exit 1).

use super::accounts::{is_service_account_principal, service_account_principals};
use super::file::parse_service_tokens_file;
use super::token::{
    invalid_token_name_message, is_valid_token_name, ServiceAccountId, ServiceAccountToken,
};
use crate::security::hashing::Hasher;
use rand::RngCore;

/// `ExitCodes.CODE_ERROR`.
pub const EXIT_CODE_ERROR: i32 = 1;
/// `ExitCodes.NO_USER`.
pub const EXIT_NO_USER: i32 = 67;

/// A `UserException`: the exit code and the message the CLI prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    pub exit_code: i32,
    pub message: String,
}

impl ToolError {
    fn new(exit_code: i32, message: impl Into<String>) -> Self {
        ToolError {
            exit_code,
            message: message.into(),
        }
    }
}

/// `FileTokensTool`: an unknown principal is `NO_USER`; the valid ones are listed as
/// `Strings.collectionToDelimitedString(getServiceAccountPrincipals(), ",")`, in map order.
fn check_principal(principal: &str) -> Result<ServiceAccountId, ToolError> {
    if !is_service_account_principal(principal) {
        return Err(ToolError::new(
            EXIT_NO_USER,
            format!(
                "Unknown service account principal: [{principal}]. Must be one of [{}]",
                service_account_principals().join(",")
            ),
        ));
    }
    ServiceAccountId::from_principal(principal)
        .map_err(|e| ToolError::new(EXIT_CODE_ERROR, e.into_reason()))
}

/// `parsePrincipalAndTokenName`: the principal, then V1.
fn check_principal_and_name(principal: &str, name: &str) -> Result<ServiceAccountId, ToolError> {
    let account = check_principal(principal)?;
    if !is_valid_token_name(name) {
        return Err(ToolError::new(
            EXIT_CODE_ERROR,
            invalid_token_name_message(name),
        ));
    }
    Ok(account)
}

fn parse(file: &[u8]) -> Result<super::file::ParsedTokens, ToolError> {
    // An uncaught exception ends the CLI with CODE_ERROR.
    parse_service_tokens_file(file).map_err(|e| ToolError::new(EXIT_CODE_ERROR, e.to_string()))
}

/// The line `create` prints: `SERVICE_TOKEN <ns/svc/name> = <bearer>`.
pub fn service_token_line(token: &ServiceAccountToken) -> String {
    format!(
        "SERVICE_TOKEN {} = {}",
        token.qualified_name(),
        token.as_bearer_string()
    )
}

/// `create <principal> <name>`: a new token hashed with `hasher`
/// (`xpack.security.authc.service_token_hashing.algorithm`). Returns the new file and the token.
///
/// # Errors
/// Unknown principal (67), bad name (1), malformed file (1), `Service token [q] already exists` (1).
pub fn create(
    file: &[u8],
    principal: &str,
    name: &str,
    hasher: Hasher,
    rng: &mut impl RngCore,
) -> Result<(Vec<u8>, ServiceAccountToken), ToolError> {
    let account = check_principal_and_name(principal, name)?;
    let mut tokens = parse(file)?;
    let token = ServiceAccountToken::new_token(account, name, rng)
        .map_err(|e| ToolError::new(EXIT_CODE_ERROR, e.into_reason()))?;
    let qualified = token.qualified_name();
    if tokens.contains(&qualified) {
        return Err(ToolError::new(
            EXIT_CODE_ERROR,
            format!("Service token [{qualified}] already exists"),
        ));
    }
    tokens.insert(qualified, hasher.hash(token.secret.expose(), rng));
    Ok((tokens.to_file_bytes(), token))
}

/// `delete <principal> <name>`.
///
/// # Errors
/// Unknown principal (67), bad name (1), malformed file (1), `Service token [q] does not exist` (1).
pub fn delete(file: &[u8], principal: &str, name: &str) -> Result<Vec<u8>, ToolError> {
    check_principal_and_name(principal, name)?;
    let mut tokens = parse(file)?;
    let qualified = format!("{principal}/{name}");
    if tokens.remove(&qualified).is_none() {
        return Err(ToolError::new(
            EXIT_CODE_ERROR,
            format!("Service token [{qualified}] does not exist"),
        ));
    }
    Ok(tokens.to_file_bytes())
}

/// `list [<principal>]`: the qualified names, sorted, optionally only those of one account.
///
/// # Errors
/// Unknown principal (67), malformed file (1).
pub fn list(file: &[u8], principal: Option<&str>) -> Result<Vec<String>, ToolError> {
    if let Some(p) = principal {
        check_principal(p)?;
    }
    let tokens = parse(file)?;
    let prefix = principal.map(|p| format!("{p}/"));
    Ok(tokens
        .sorted_keys()
        .into_iter()
        .filter(|k| prefix.as_ref().is_none_or(|p| k.starts_with(p.as_str())))
        .map(str::to_string)
        .collect())
}
