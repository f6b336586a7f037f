//! Each key's indexed field values, date values, and whether a [`Query`] matches.

use super::{scalar_string, Field, Query};
use crate::security::api_key::ApiKeyDoc;
use crate::security::authz::wildcard_match;
use serde_json::Value;

/// A field's indexed values for one key.
pub(crate) fn values(id: &str, doc: &ApiKeyDoc, field: &Field) -> Vec<Value> {
    let _ = id;
    match field {
        Field::Username => vec![Value::String(doc.creator.principal.clone())],
        Field::RealmName => vec![Value::String(doc.creator.realm.clone())],
        Field::Name => doc.name.clone().map(Value::String).into_iter().collect(),
        Field::Type => vec![Value::String(doc.key_type.value().to_string())],
        Field::Creation => vec![Value::from(doc.creation_time)],
        Field::Expiration => (doc.expiration_time != -1)
            .then(|| Value::from(doc.expiration_time))
            .into_iter()
            .collect(),
        Field::Invalidated => vec![Value::Bool(doc.is_invalidated())],
        Field::Invalidation => doc.invalidation_time.map(Value::from).into_iter().collect(),
        Field::Metadata(path) => {
            let mut out = Vec::new();
            let root = doc.metadata_flattened.as_ref();
            match (root, path) {
                (Some(r), None) => leaves(r, &mut out),
                (Some(r), Some(p)) => {
                    if let Some(v) = lookup(r, p) {
                        match v {
                            Value::Array(a) => out.extend(a.iter().filter_map(scalar_string)),
                            v => out.extend(scalar_string(v)),
                        }
                    }
                }
                _ => {}
            }
            out.into_iter().map(Value::String).collect()
        }
    }
}

/// A flattened field's keyed value: `a.b` is the key `b` under `a` (or a literal dotted key).
fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = root.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(root.get(head)?, rest)
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Null => {}
        other => out.extend(scalar_string(other)),
    }
}

fn is_date(field: &Field) -> bool {
    field.is_date()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A date value in epoch millis: a number, digits, `now[+-]N<unit>`, `yyyy-MM-dd` or
/// `yyyy-MM-ddTHH:mm:ss[.SSS]Z`.
pub(crate) fn date_millis(value: &Value, now_ms: i64) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    let text = value.as_str()?.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    if let Some(rest) = text.strip_prefix("now") {
        if rest.is_empty() {
            return Some(now_ms);
        }
        let (sign, rest) = match rest.split_at(1) {
            ("+", r) => (1, r),
            ("-", r) => (-1, r),
            _ => return None,
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().ok()?;
        let unit = match &rest[digits.len()..] {
            "s" => 1_000,
            "m" => 60_000,
            "h" | "H" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "M" => 30 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        return Some(now_ms + sign * n * unit);
    }
    let (date, time) = text.split_once('T').unwrap_or((text, ""));
    let mut parts = date.split('-');
    let (year, month, day) = (
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let time = time.trim_end_matches('Z');
    if !time.is_empty() {
        let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
        let mut clock = hms.split(':').map(|p| p.parse::<i64>().ok());
        let hour = clock.next().flatten()?;
        let minute = clock.next().flatten().unwrap_or(0);
        let second = clock.next().flatten().unwrap_or(0);
        let frac_ms: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
        ms += ((hour * 60 + minute) * 60 + second) * 1000 + frac_ms;
    }
    Some(ms)
}

fn eq_value(field: &Field, have: &Value, want: &Value, ci: bool, now_ms: i64) -> bool {
    if is_date(field) {
        return date_millis(want, now_ms).is_some_and(|w| have.as_i64() == Some(w));
    }
    if matches!(field, Field::Invalidated) {
        let w = match want {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse::<bool>().ok(),
            _ => None,
        };
        return w.is_some_and(|w| have.as_bool() == Some(w));
    }
    match (scalar_string(have), scalar_string(want)) {
        (Some(h), Some(w)) if ci => h.to_lowercase() == w.to_lowercase(),
        (Some(h), Some(w)) => h == w,
        _ => false,
    }
}

fn cmp_bound(field: &Field, have: &Value, op: &str, bound: &Value, now_ms: i64) -> bool {
    use std::cmp::Ordering;
    let ord = if is_date(field) {
        match (have.as_i64(), date_millis(bound, now_ms)) {
            (Some(h), Some(b)) => h.cmp(&b),
            _ => return false,
        }
    } else {
        match (scalar_string(have), scalar_string(bound)) {
            (Some(h), Some(b)) => h.cmp(&b),
            _ => return false,
        }
    };
    match op {
        "gt" => ord == Ordering::Greater,
        "gte" => ord != Ordering::Less,
        "lt" => ord == Ordering::Less,
        _ => ord != Ordering::Greater,
    }
}

impl Query {
    /// Whether the key matches.
    pub(crate) fn matches(&self, id: &str, doc: &ApiKeyDoc, now_ms: i64) -> bool {
        let vals = |f: &Field| values(id, doc, f);
        match self {
            Query::MatchAll => true,
            Query::MatchNone => false,
            Query::Ids(ids) => ids.iter().any(|i| i == id),
            Query::Term {
                field,
                value,
                case_insensitive,
            } => vals(field)
                .iter()
                .any(|h| eq_value(field, h, value, *case_insensitive, now_ms)),
            Query::Terms { field, values } => vals(field)
                .iter()
                .any(|h| values.iter().any(|w| eq_value(field, h, w, false, now_ms))),
            Query::Prefix {
                field,
                value,
                case_insensitive,
            } => vals(field).iter().filter_map(scalar_string).any(|h| {
                if *case_insensitive {
                    h.to_lowercase().starts_with(&value.to_lowercase())
                } else {
                    h.starts_with(value.as_str())
                }
            }),
            Query::Wildcard {
                field,
                value,
                case_insensitive,
            } => vals(field).iter().filter_map(scalar_string).any(|h| {
                if *case_insensitive {
                    wildcard_match(&value.to_lowercase(), &h.to_lowercase())
                } else {
                    wildcard_match(value, &h)
                }
            }),
            Query::Exists(field) => !vals(field).is_empty(),
            Query::Range { field, bounds } => vals(field).iter().any(|h| {
                bounds
                    .iter()
                    .all(|(op, b)| cmp_bound(field, h, op, b, now_ms))
            }),
            Query::Bool {
                must,
                filter,
                should,
                must_not,
                minimum_should_match,
            } => {
                let all = |qs: &[Query]| qs.iter().all(|q| q.matches(id, doc, now_ms));
                let hits = should.iter().filter(|q| q.matches(id, doc, now_ms)).count();
                // Without must/filter, at least one should clause must match.
                let needed = minimum_should_match.unwrap_or(usize::from(
                    must.is_empty() && filter.is_empty() && !should.is_empty(),
                ));
                all(must)
                    && all(filter)
                    && !must_not.iter().any(|q| q.matches(id, doc, now_ms))
                    && hits >= needed
            }
            Query::Text { fields, terms, all } => {
                let term_hits = |t: &String| {
                    fields.iter().any(|f| {
                        let w = Value::String(t.clone());
                        vals(f).iter().any(|h| {
                            if let Some(prefix) = t.strip_suffix('*').filter(|_| !is_date(f)) {
                                scalar_string(h).is_some_and(|h| h.starts_with(prefix))
                            } else {
                                eq_value(f, h, &w, false, now_ms)
                            }
                        })
                    })
                };
                if *all {
                    terms.iter().all(term_hits)
                } else {
                    terms.iter().any(term_hits)
                }
            }
        }
    }
}
