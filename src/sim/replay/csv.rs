//! A plain CSV of authentications (CA-RP1): a header naming the columns `time`, `node`,
//! `credential` and optionally `kind` (`api_key` or `service_token`; default: `service_token` when
//! the credential is written `namespace/service/token`, else `api_key`) and `outcome` (`success`,
//! the default, or `failure`). `time` is ISO-8601 or a number of seconds. Fields may be quoted
//! (RFC 4180: `"a,b"`, `""` for a quote). Inline records are the same rows as tables.

use super::{Event, Presented, ReadLog};
use serde::Deserialize;
use serde_json::Value;

/// One row, by column name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Row {
    time: Value,
    node: String,
    credential: String,
    kind: Option<String>,
    outcome: Option<String>,
}

/// Splits one CSV line into fields.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(std::mem::take(&mut field).trim().to_string());
                was_quoted = false;
            }
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    out.push(field.trim().to_string());
    Ok(out)
}

pub(super) fn read_row(row: Row, log: &mut ReadLog) -> Result<(), String> {
    let at = match &row.time {
        Value::String(s) => super::timestamp::parse_instant(s),
        Value::Number(n) => n.as_f64().and_then(super::timestamp::from_seconds),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "[time] [{}] is neither an ISO-8601 date-time nor a number of seconds",
            row.time
                .as_str()
                .map_or_else(|| row.time.to_string(), str::to_string)
        )
    })?;
    let success = match row.outcome.as_deref().map(str::trim) {
        None | Some("" | "success" | "authentication_success") => true,
        Some("failure" | "authentication_failed") => false,
        Some(o) => return Err(format!("[outcome] must be success or failure, got [{o}]")),
    };
    let cred = row.credential.trim().to_string();
    if cred.is_empty() {
        return Err("[credential] is empty".into());
    }
    let token_shape = cred.matches('/').count() == 2;
    let presented = match row.kind.as_deref().map(str::trim) {
        None | Some("" | "service_token") if token_shape => token(&cred),
        None | Some("" | "api_key") if success => Presented::ApiKey {
            id: cred,
            name: None,
        },
        None | Some("" | "api_key") => Presented::Principal(cred),
        Some("service_token") => {
            return Err(format!(
            "[credential] [{cred}] of kind service_token must be written namespace/service/token"
        ))
        }
        Some(k) => {
            return Err(format!(
                "[kind] must be api_key or service_token, got [{k}]"
            ))
        }
    };
    log.events.push(Event {
        at,
        node: row.node.trim().to_string(),
        presented,
        success,
    });
    Ok(())
}

fn token(qualified: &str) -> Presented {
    let (account, name) = qualified.rsplit_once('/').unwrap_or((qualified, ""));
    Presented::Token {
        account: account.to_string(),
        name: name.to_string(),
        file: false,
    }
}

/// Reads the CSV `text` (from `file`, for errors) into `log`.
pub(super) fn read_lines(text: &str, file: &str, log: &mut ReadLog) -> Result<(), String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((h, header)) = lines.next() else {
        return Ok(());
    };
    let at = |i: usize| format!("{file}:{}", i + 1);
    let columns = split(header.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("malformed CSV header at {}: {e}", at(h)))?;
    for need in ["time", "node", "credential"] {
        if !columns.iter().any(|c| c == need) {
            return Err(format!("malformed CSV header at {}: no [{need}] column (the header is time,node,credential[,kind][,outcome])", at(h)));
        }
    }
    for (i, line) in lines {
        let fields = split(line).map_err(|e| format!("malformed CSV row at {}: {e}", at(i)))?;
        if fields.len() != columns.len() {
            return Err(format!(
                "malformed CSV row at {}: {} fields, the header has {}",
                at(i),
                fields.len(),
                columns.len()
            ));
        }
        let obj: serde_json::Map<String, Value> = columns
            .iter()
            .cloned()
            .zip(fields.into_iter().map(Value::String))
            .collect();
        let row: Row = serde_json::from_value(Value::Object(obj))
            .map_err(|e| format!("malformed CSV row at {}: {e}", at(i)))?;
        read_row(row, log).map_err(|e| format!("malformed CSV row at {}: {e}", at(i)))?;
    }
    Ok(())
}
