//! The aggregations of an API key query (`SEC/support/ApiKeyAggregationsBuilder.java` allows
//! `terms`, `composite` of terms sources, `cardinality`, `value_count`, `missing`, `filter`,
//! `filters`, `range` and `date_range` on the allowed fields). escache computes all but the two
//! range types, which get the refusal text ES gives an unsupported type. Rule API-Q5.

use super::sort::cmp_json;
use super::{parse_err, parse_query, translate, values, Field, Query};
use crate::error::EsError;
use crate::security::api_key::ApiKeyDoc;
use serde_json::{json, Map, Value};

/// One aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Agg {
    Terms {
        field: Field,
        size: usize,
    },
    Composite {
        sources: Vec<(String, Field)>,
        size: usize,
    },
    Cardinality(Field),
    ValueCount(Field),
    Missing(Field),
    Filter(Query),
    Filters(Vec<(String, Query)>),
}

fn unsupported(name: &str, kind: &str) -> EsError {
    EsError::illegal_argument(format!(
        "Unsupported API Keys agg [{name}] of type [{kind}]"
    ))
}

fn field_of(spec: &Value) -> Result<Field, EsError> {
    let name = spec.get("field").and_then(Value::as_str).ok_or_else(|| {
        parse_err("Required one of fields [field, script], but none were specified. ")
    })?;
    translate(name)
}

fn size_of(spec: &Value) -> usize {
    spec.get("size")
        .and_then(Value::as_u64)
        .map_or(10, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn parse_one(name: &str, body: &Value) -> Result<Agg, EsError> {
    let (kind, spec) = body
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() != "meta"))
        .ok_or_else(|| parse_err(format!("Missing definition for aggregation [{name}]")))?;
    Ok(match kind.as_str() {
        "terms" => Agg::Terms {
            field: field_of(spec)?,
            size: size_of(spec),
        },
        "composite" => {
            let mut sources = Vec::new();
            for src in spec
                .get("sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some((src_name, def)) = src.as_object().and_then(|m| m.iter().next()) else {
                    continue;
                };
                match def.as_object().and_then(|m| m.iter().next()) {
                    Some((t, s)) if t == "terms" => sources.push((src_name.clone(), field_of(s)?)),
                    Some((t, _)) => return Err(unsupported(src_name, t)),
                    None => {
                        return Err(parse_err(format!(
                            "Missing definition for aggregation [{src_name}]"
                        )))
                    }
                }
            }
            Agg::Composite {
                sources,
                size: size_of(spec),
            }
        }
        "cardinality" => Agg::Cardinality(field_of(spec)?),
        "value_count" => Agg::ValueCount(field_of(spec)?),
        "missing" => Agg::Missing(field_of(spec)?),
        "filter" => Agg::Filter(parse_query(spec)?),
        "filters" => {
            let filters = spec
                .get("filters")
                .and_then(Value::as_object)
                .ok_or_else(|| parse_err("[filters] requires named filters"))?;
            Agg::Filters(
                filters
                    .iter()
                    .map(|(k, q)| parse_query(q).map(|q| (k.clone(), q)))
                    .collect::<Result<_, _>>()?,
            )
        }
        other => return Err(unsupported(name, other)),
    })
}

/// `aggs`/`aggregations` of the request body.
///
/// # Errors
/// A type escache does not compute, a field the query does not allow, a bad filter query.
pub(crate) fn parse_aggs(aggs: &Map<String, Value>) -> Result<Vec<(String, Agg)>, EsError> {
    aggs.iter()
        .map(|(name, body)| parse_one(name, body).map(|a| (name.clone(), a)))
        .collect()
}

fn distinct_counts(field: &Field, hits: &[(&str, &ApiKeyDoc)]) -> Vec<(Value, usize)> {
    let mut counts: Vec<(Value, usize)> = Vec::new();
    for (id, d) in hits {
        let mut vals = values(id, d, field);
        vals.dedup();
        for v in vals {
            match counts.iter_mut().find(|(k, _)| *k == v) {
                Some((_, c)) => *c += 1,
                None => counts.push((v, 1)),
            }
        }
    }
    counts
}

impl Agg {
    /// The `typed_keys` prefix (`InternalAggregation.getType`).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Agg::Terms { field, .. } if field.is_date() => "lterms",
            Agg::Terms { .. } => "sterms",
            Agg::Composite { .. } => "composite",
            Agg::Cardinality(_) => "cardinality",
            Agg::ValueCount(_) => "value_count",
            Agg::Missing(_) => "missing",
            Agg::Filter(_) => "filter",
            Agg::Filters(_) => "filters",
        }
    }

    /// The aggregation's result over the matching keys.
    pub(crate) fn compute(&self, hits: &[(&str, &ApiKeyDoc)], now_ms: i64) -> Value {
        match self {
            Agg::Terms { field, size } => {
                let mut counts = distinct_counts(field, hits);
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| cmp_json(&a.0, &b.0)));
                let other: usize = counts.iter().skip(*size).map(|(_, c)| c).sum();
                let buckets: Vec<Value> = counts
                    .iter()
                    .take(*size)
                    .map(|(k, c)| json!({"key": k, "doc_count": c}))
                    .collect();
                json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets})
            }
            Agg::Composite { sources, size } => {
                let mut rows: Vec<(Vec<Value>, usize)> = Vec::new();
                for (id, d) in hits {
                    // One value per source (the first): a key without a value is not in a bucket.
                    let key: Option<Vec<Value>> = sources
                        .iter()
                        .map(|(_, f)| {
                            let mut v = values(id, d, f);
                            v.sort_by(cmp_json);
                            v.into_iter().next()
                        })
                        .collect();
                    let Some(key) = key else { continue };
                    match rows.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, c)) => *c += 1,
                        None => rows.push((key, 1)),
                    }
                }
                rows.sort_by(|a, b| {
                    a.0.iter()
                        .zip(&b.0)
                        .map(|(x, y)| cmp_json(x, y))
                        .find(|o| o.is_ne())
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                rows.truncate(*size);
                let key_json = |k: &[Value]| -> Value {
                    Value::Object(
                        sources
                            .iter()
                            .zip(k)
                            .map(|((n, _), v)| (n.clone(), v.clone()))
                            .collect(),
                    )
                };
                let buckets: Vec<Value> = rows
                    .iter()
                    .map(|(k, c)| json!({"key": key_json(k), "doc_count": c}))
                    .collect();
                let mut out = json!({"buckets": buckets});
                if let Some((last, _)) = rows.last() {
                    out["after_key"] = key_json(last);
                }
                out
            }
            Agg::Cardinality(f) => json!({"value": distinct_counts(f, hits).len()}),
            Agg::ValueCount(f) => {
                let n: usize = hits.iter().map(|(id, d)| values(id, d, f).len()).sum();
                json!({"value": n})
            }
            Agg::Missing(f) => {
                let n = hits
                    .iter()
                    .filter(|(id, d)| values(id, d, f).is_empty())
                    .count();
                json!({"doc_count": n})
            }
            Agg::Filter(q) => {
                let n = hits
                    .iter()
                    .filter(|(id, d)| q.matches(id, d, now_ms))
                    .count();
                json!({"doc_count": n})
            }
            Agg::Filters(list) => {
                let buckets: Map<String, Value> = list
                    .iter()
                    .map(|(name, q)| {
                        let n = hits
                            .iter()
                            .filter(|(id, d)| q.matches(id, d, now_ms))
                            .count();
                        (name.clone(), json!({"doc_count": n}))
                    })
                    .collect();
                json!({"buckets": buckets})
            }
        }
    }
}
