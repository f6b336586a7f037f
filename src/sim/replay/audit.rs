//! Elasticsearch's JSON audit log (`<cluster>_audit.json`): one flat JSON object per line, the
//! fields of `LoggingAuditTrail` (CA-RP1). Only the authentication events are read; every other
//! event type is skipped and counted.
//!
//! Field names (`SEC/audit/logfile/LoggingAuditTrail.java`, the audit layout of
//! `x-pack/plugin/core/src/main/config/log4j2.properties`): `timestamp`
//! (`yyyy-MM-dd'T'HH:mm:ss,SSSZ`; `@timestamp` once shipped through Filebeat), `node.name` (only with
//! `xpack.security.audit.logfile.emit_node_name`; `node.id` otherwise), `event.action`,
//! `authentication.type` (`REALM`, `API_KEY`, `TOKEN`, `ANONYMOUS`, `INTERNAL`), `user.name`,
//! `user.realm`, `apikey.id`, `apikey.name`, and for service account tokens
//! `authentication.token.name` and `authentication.token.type` (`_service_account_index` or
//! `_service_account_file`).

use super::{Event, Presented, ReadLog};
use serde::Deserialize;
use serde_json::Value;

/// The fields of one audit event the replay reads (others are ignored).
#[derive(Debug, Default, Deserialize)]
struct AuditEvent {
    #[serde(rename = "timestamp", alias = "@timestamp")]
    timestamp: Option<String>,
    #[serde(rename = "node.name")]
    node_name: Option<String>,
    #[serde(rename = "node.id")]
    node_id: Option<String>,
    #[serde(rename = "event.action")]
    action: Option<String>,
    #[serde(rename = "authentication.type")]
    auth_type: Option<String>,
    #[serde(rename = "user.name")]
    user: Option<String>,
    #[serde(rename = "apikey.id", alias = "authentication.api_key.id")]
    api_key_id: Option<String>,
    #[serde(rename = "apikey.name", alias = "authentication.api_key.name")]
    api_key_name: Option<String>,
    #[serde(rename = "authentication.token.name")]
    token_name: Option<String>,
    #[serde(rename = "authentication.token.type")]
    token_type: Option<String>,
}

/// Reads one audit event (a line of the file, or an inline record) into `log`. `Err` is the reason
/// the event is malformed (the caller adds where).
pub(super) fn read_event(v: Value, log: &mut ReadLog) -> Result<(), String> {
    if !v.is_object() {
        return Err("an audit event is a JSON object".into());
    }
    let e: AuditEvent = serde_json::from_value(v).map_err(|e| e.to_string())?;
    let success = match e.action.as_deref() {
        Some("authentication_success") => true,
        Some("authentication_failed") => false,
        _ => {
            log.skipped += 1;
            return Ok(());
        }
    };
    let ts = e.timestamp.as_deref().ok_or("no [timestamp]")?;
    let at = super::timestamp::parse_iso8601(ts)
        .ok_or_else(|| format!("[timestamp] [{ts}] is not an ISO-8601 date-time"))?;
    let node = e.node_name.or(e.node_id).unwrap_or_default();
    let presented = if success {
        match e.auth_type.as_deref() {
            Some("API_KEY") => Presented::ApiKey {
                id: e
                    .api_key_id
                    .ok_or("an API_KEY authentication without [apikey.id]")?,
                name: e.api_key_name,
            },
            // Service account tokens; other TOKEN authentications (OAuth2 access tokens) carry no
            // token name and are not modelled.
            Some("TOKEN") if e.token_name.is_some() => Presented::Token {
                account: e
                    .user
                    .ok_or("a service token authentication without [user.name]")?,
                name: e.token_name.unwrap_or_default(),
                file: e.token_type.as_deref() == Some("_service_account_file"),
            },
            _ => {
                log.unmodelled += 1;
                return Ok(());
            }
        }
    } else {
        // `authenticationFailed(requestId, token, request)`: `user.name` is the token's principal
        // (an API key's id, a service account's principal beside `authentication.token.name`).
        match (e.user, e.token_name) {
            (Some(account), Some(name)) => Presented::Token {
                account,
                name,
                file: false,
            },
            (Some(principal), None) => Presented::Principal(principal),
            (None, _) => {
                log.unmodelled += 1;
                return Ok(());
            }
        }
    };
    log.events.push(Event {
        at,
        node,
        presented,
        success,
    });
    Ok(())
}

/// Reads the audit log `text` (from `file`, for errors) into `log`: one event per non-blank line.
pub(super) fn read_lines(text: &str, file: &str, log: &mut ReadLog) -> Result<(), String> {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("malformed audit event at {file}:{}: {e}", i + 1))?;
        read_event(v, log)
            .map_err(|e| format!("malformed audit event at {file}:{}: {e}", i + 1))?;
    }
    Ok(())
}
