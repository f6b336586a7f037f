//! Sorting: `_sort` values and `search_after`.

use super::{parse_err, scalar_string, translate, values, Field};
use crate::error::EsError;
use crate::security::api_key::ApiKeyDoc;
use crate::security::authz::token_name;
use serde_json::Value;

/// One sort key: a field (or `_doc`) and its direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortKey {
    pub(crate) field: Option<Field>,
    pub(crate) name: String,
    pub(crate) desc: bool,
}

fn sort_key(name: &str, order: Option<&Value>) -> Result<SortKey, EsError> {
    let desc = match order.and_then(Value::as_str) {
        None => false,
        Some(o) if o.eq_ignore_ascii_case("asc") => false,
        Some(o) if o.eq_ignore_ascii_case("desc") => true,
        Some(o) => {
            return Err(EsError::illegal_argument(format!(
                "Unknown SortOrder [{o}]"
            )))
        }
    };
    let field = if name == "_doc" {
        None
    } else {
        Some(translate(name)?)
    };
    Ok(SortKey {
        field,
        name: name.to_string(),
        desc,
    })
}

/// `SortBuilder.fromXContent`: `"f"`, `{"f": "desc"}`, `{"f": {"order": "desc"}}`, or a list.
///
/// # Errors
/// A field the API key query does not allow, or a bad order.
pub(crate) fn parse_sort(v: &Value) -> Result<Vec<SortKey>, EsError> {
    let items = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let mut out = Vec::new();
    for item in &items {
        match item {
            Value::String(s) => out.push(sort_key(s, None)?),
            Value::Object(m) => {
                for (k, spec) in m {
                    let order = match spec {
                        Value::Object(o) => o.get("order"),
                        other => Some(other),
                    };
                    out.push(sort_key(k, order)?);
                }
            }
            other => {
                return Err(parse_err(format!(
                    "[sort] does not support values of type [{}]",
                    token_name(other)
                )))
            }
        }
    }
    Ok(out)
}

/// The `_sort` values of a key (`null` where the field has no value; `_doc` is the index order).
pub(crate) fn sort_values(
    keys: &[SortKey],
    id: &str,
    doc: &ApiKeyDoc,
    position: usize,
) -> Vec<Value> {
    keys.iter()
        .map(|k| match &k.field {
            None => Value::from(position),
            Some(f) => {
                let vals = values(id, doc, f);
                let v = if k.desc {
                    vals.iter().max_by(|a, b| cmp_json(a, b))
                } else {
                    vals.iter().min_by(|a, b| cmp_json(a, b))
                };
                v.cloned().unwrap_or(Value::Null)
            }
        })
        .collect()
}

/// Orders sort values: numbers, then strings, then booleans; `null` (missing) is handled by the
/// caller (always last, as `missing: _last`).
pub(crate) fn cmp_json(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => scalar_string(a).cmp(&scalar_string(b)),
    }
}

/// Compares two rows' sort values under `keys` (missing values last in either direction).
pub(crate) fn cmp_rows(keys: &[SortKey], left: &[Value], right: &[Value]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for (i, k) in keys.iter().enumerate() {
        let (lv, rv) = (
            left.get(i).unwrap_or(&Value::Null),
            right.get(i).unwrap_or(&Value::Null),
        );
        let ord = match (lv.is_null(), rv.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if k.desc => cmp_json(rv, lv),
            _ => cmp_json(lv, rv),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
