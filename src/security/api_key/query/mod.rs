//! The query language of `GET|POST /_security/_query/api_key`: the subset of the query DSL
//! Elasticsearch allows there, over the query-level field names it exposes
//! (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/support/ApiKeyBoolQueryBuilder.java`,
//! `.../support/FieldNameTranslators.java` `API_KEY_FIELD_NAME_TRANSLATORS`). Rules API-Q1 to API-Q6.
//!
//! Matching follows the index mapping: `username`, `realm_name`, `name`, `type` and the
//! `metadata` leaves are keywords (exact, `case_insensitive` on request); `creation`,
//! `expiration`, `invalidation` are dates (epoch millis, date strings, `now` math);
//! `invalidated` is a boolean. Scoring is not modelled: hits come in index order unless sorted.
//!
//! - this file: field names and parsing;
//! - `eval.rs`: each key's field values and matching;
//! - `sort.rs`: sorting and `search_after`;
//! - `aggs.rs`: the aggregations.

mod aggs;
mod eval;
mod sort;

pub(crate) use aggs::parse_aggs;

pub(crate) use eval::{date_millis, values};
pub(crate) use sort::{cmp_rows, parse_sort, sort_values, SortKey};

use crate::error::{EsError, ExceptionType};
use crate::security::authz::{token_name, wildcard_match};
use serde_json::Value;

/// A query-level field, translated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Username,
    RealmName,
    Name,
    Type,
    Creation,
    Expiration,
    Invalidated,
    Invalidation,
    /// `metadata` (every leaf) or `metadata.<path>`.
    Metadata(Option<String>),
}

const SIMPLE_FIELDS: &[(&str, Field)] = &[
    ("username", Field::Username),
    ("realm_name", Field::RealmName),
    ("name", Field::Name),
    ("type", Field::Type),
    ("creation", Field::Creation),
    ("expiration", Field::Expiration),
    ("invalidated", Field::Invalidated),
    ("invalidation", Field::Invalidation),
];

fn is_pattern(s: &str) -> bool {
    s.contains('*')
}

impl Field {
    /// Whether the field is a date (epoch millis).
    pub(crate) fn is_date(&self) -> bool {
        matches!(
            self,
            Field::Creation | Field::Expiration | Field::Invalidation
        )
    }
}

/// `FieldNameTranslators.translate`.
///
/// # Errors
/// `Field name pattern [..] is not allowed for querying or aggregation` or `Field [..] is not
/// allowed for querying or aggregation`.
pub(crate) fn translate(name: &str) -> Result<Field, EsError> {
    if is_pattern(name) {
        return Err(EsError::illegal_argument(format!(
            "Field name pattern [{name}] is not allowed for querying or aggregation"
        )));
    }
    if let Some((_, f)) = SIMPLE_FIELDS.iter().find(|(n, _)| *n == name) {
        return Ok(f.clone());
    }
    if name == "metadata" {
        return Ok(Field::Metadata(None));
    }
    if let Some(path) = name.strip_prefix("metadata.") {
        return Ok(Field::Metadata(Some(path.to_string())));
    }
    Err(EsError::illegal_argument(format!(
        "Field [{name}] is not allowed for querying or aggregation"
    )))
}

/// `translatePattern`: the fields a `simple_query_string` field name or pattern names.
fn translate_pattern(name: &str) -> Vec<Field> {
    if is_pattern(name) {
        let mut out: Vec<Field> = SIMPLE_FIELDS
            .iter()
            .filter(|(n, _)| wildcard_match(name, n))
            .map(|(_, f)| f.clone())
            .collect();
        if wildcard_match(name, "metadata") {
            out.push(Field::Metadata(None));
        }
        out
    } else {
        translate(name).map(|f| vec![f]).unwrap_or_default()
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query {
    MatchAll,
    MatchNone,
    Ids(Vec<String>),
    Term {
        field: Field,
        value: Value,
        case_insensitive: bool,
    },
    Terms {
        field: Field,
        values: Vec<Value>,
    },
    Prefix {
        field: Field,
        value: String,
        case_insensitive: bool,
    },
    Wildcard {
        field: Field,
        value: String,
        case_insensitive: bool,
    },
    Exists(Field),
    Range {
        field: Field,
        bounds: Vec<(&'static str, Value)>,
    },
    Bool {
        must: Vec<Query>,
        filter: Vec<Query>,
        should: Vec<Query>,
        must_not: Vec<Query>,
        minimum_should_match: Option<usize>,
    },
    /// `match` and `simple_query_string` on keywords: any field equal to any (AND: every) term.
    Text {
        fields: Vec<Field>,
        terms: Vec<String>,
        all: bool,
    },
}

fn parse_err(msg: impl Into<String>) -> EsError {
    EsError::new(ExceptionType::XContentParse, msg, 400)
}

/// Query types Elasticsearch knows that the API key query refuses.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "match_phrase",
    "match_phrase_prefix",
    "multi_match",
    "query_string",
    "regexp",
    "fuzzy",
    "nested",
    "has_child",
    "has_parent",
    "script",
    "script_score",
    "function_score",
    "boosting",
    "constant_score",
    "dis_max",
    "match_none",
    "geo_shape",
    "more_like_this",
    "knn",
    "combined_fields",
    "intervals",
    "span_term",
    "distance_feature",
    "rank_feature",
    "pinned",
    "terms_set",
    "wrapper",
];

/// The single `{field: value}` pair of a leaf query.
fn single_field<'a>(kind: &str, body: &'a Value) -> Result<(&'a String, &'a Value), EsError> {
    let Value::Object(m) = body else {
        return Err(parse_err(format!(
            "[{kind}] query malformed, no start_object after query name"
        )));
    };
    let mut it = m.iter();
    match (it.next(), it.next()) {
        (Some(pair), None) => Ok(pair),
        (Some((a, _)), Some((b, _))) => Err(parse_err(format!(
            "[{kind}] query doesn't support multiple fields, found [{a}] and [{b}]"
        ))),
        _ => Err(parse_err(format!("[{kind}] query malformed, no field"))),
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `{field: value}` or `{field: {<value_key>: value, case_insensitive, boost, _name, ...}}`.
fn leaf(kind: &str, body: &Value, value_keys: &[&str]) -> Result<(Field, Value, bool), EsError> {
    let (name, v) = single_field(kind, body)?;
    let field = translate(name)?;
    match v {
        Value::Object(o) => {
            let mut value = None;
            let mut ci = false;
            for (k, x) in o {
                match k.as_str() {
                    k if value_keys.contains(&k) => value = Some(x.clone()),
                    "case_insensitive" => ci = x.as_bool().unwrap_or(false),
                    "boost" | "_name" | "rewrite" => {}
                    other => {
                        return Err(parse_err(format!(
                            "[{kind}] query does not support [{other}]"
                        )))
                    }
                }
            }
            let value = value.ok_or_else(|| {
                parse_err(format!(
                    "[{kind}] query requires a value for field [{name}]"
                ))
            })?;
            Ok((field, value, ci))
        }
        other => Ok((field, other.clone(), false)),
    }
}

fn query_list(v: &Value) -> Result<Vec<Query>, EsError> {
    match v {
        Value::Array(items) => items.iter().map(parse_query).collect(),
        Value::Object(_) => Ok(vec![parse_query(v)?]),
        other => Err(parse_err(format!(
            "[bool] query does not support [{}]",
            token_name(other)
        ))),
    }
}

fn parse_bool(body: &Value) -> Result<Query, EsError> {
    let Value::Object(m) = body else {
        return Err(parse_err(
            "[bool] query malformed, no start_object after query name",
        ));
    };
    let (mut must, mut filter, mut should, mut must_not, mut msm) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), None);
    for (k, v) in m {
        match k.as_str() {
            "must" => must = query_list(v)?,
            "filter" => filter = query_list(v)?,
            "should" => should = query_list(v)?,
            "must_not" | "mustNot" => must_not = query_list(v)?,
            "minimum_should_match" => {
                msm = scalar_string(v).and_then(|s| s.parse::<usize>().ok());
            }
            "boost" | "_name" | "adjust_pure_negative" => {}
            other => {
                return Err(parse_err(format!(
                    "[bool] query does not support [{other}]"
                )))
            }
        }
    }
    Ok(Query::Bool {
        must,
        filter,
        should,
        must_not,
        minimum_should_match: msm,
    })
}

fn parse_simple_query_string(body: &Value) -> Result<Query, EsError> {
    let Value::Object(m) = body else {
        return Err(parse_err(
            "[simple_query_string] query malformed, no start_object after query name",
        ));
    };
    let query = m
        .get("query")
        .and_then(scalar_string)
        .ok_or_else(|| parse_err("[simple_query_string] query text missing"))?;
    let names: Vec<String> = match m.get("fields") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            // `name^2`: the boost is irrelevant without scoring.
            .map(|s| s.split('^').next().unwrap_or(s).to_string())
            .collect(),
        _ => vec!["*".into()],
    };
    let mut fields = Vec::new();
    for n in &names {
        for f in translate_pattern(n) {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    if fields.is_empty() {
        // Only disallowed fields: matches nothing (never the disallowed fields).
        return Ok(Query::MatchNone);
    }
    let all = m
        .get("default_operator")
        .and_then(Value::as_str)
        .is_some_and(|o| o.eq_ignore_ascii_case("and"));
    Ok(Query::Text {
        fields,
        terms: query.split_whitespace().map(str::to_string).collect(),
        all,
    })
}

/// Parses one query object (`{"<type>": {...}}`).
///
/// # Errors
/// ES's texts for a type it refuses here, a field it does not allow, or a malformed query.
pub(crate) fn parse_query(v: &Value) -> Result<Query, EsError> {
    let Value::Object(m) = v else {
        return Err(parse_err(format!(
            "query malformed, must start with start_object, found [{}]",
            token_name(v)
        )));
    };
    let mut it = m.iter();
    let Some((kind, body)) = it.next() else {
        return Err(parse_err("query malformed, empty clause found"));
    };
    if let Some((next, _)) = it.next() {
        return Err(parse_err(format!(
            "[{kind}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ({next})"
        )));
    }
    Ok(match kind.as_str() {
        "match_all" => Query::MatchAll,
        "bool" => parse_bool(body)?,
        "ids" => {
            let values = body
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(scalar_string).collect())
                .unwrap_or_default();
            Query::Ids(values)
        }
        "term" => {
            let (field, value, case_insensitive) = leaf("term", body, &["value"])?;
            Query::Term {
                field,
                value,
                case_insensitive,
            }
        }
        "terms" => {
            let Value::Object(o) = body else {
                return Err(parse_err("[terms] query malformed"));
            };
            let (name, values) = o
                .iter()
                .find(|(k, _)| !matches!(k.as_str(), "boost" | "_name"))
                .ok_or_else(|| parse_err("[terms] query requires a field"))?;
            if values.is_object() {
                return Err(EsError::illegal_argument(
                    "terms query with terms lookup is not currently supported in this context",
                ));
            }
            Query::Terms {
                field: translate(name)?,
                values: values
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![values.clone()]),
            }
        }
        "prefix" | "wildcard" => {
            let (field, value, case_insensitive) = leaf(kind, body, &["value", "wildcard"])?;
            let value = scalar_string(&value).unwrap_or_default();
            if kind == "prefix" {
                Query::Prefix {
                    field,
                    value,
                    case_insensitive,
                }
            } else {
                Query::Wildcard {
                    field,
                    value,
                    case_insensitive,
                }
            }
        }
        "exists" => {
            let name = body
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| parse_err("[exists] must be provided with a [field]"))?;
            Query::Exists(translate(name)?)
        }
        "range" => {
            let (name, spec) = single_field("range", body)?;
            let field = translate(name)?;
            let Value::Object(o) = spec else {
                return Err(parse_err(
                    "[range] query malformed, after field missing start object",
                ));
            };
            if o.contains_key("relation") {
                return Err(EsError::illegal_argument(
                    "range query with relation is not currently supported in this context",
                ));
            }
            let mut bounds = Vec::new();
            for (k, x) in o {
                match k.as_str() {
                    "gt" => bounds.push(("gt", x.clone())),
                    "gte" | "from" => bounds.push(("gte", x.clone())),
                    "lt" => bounds.push(("lt", x.clone())),
                    "lte" | "to" => bounds.push(("lte", x.clone())),
                    "format" | "time_zone" | "boost" | "_name" | "include_lower"
                    | "include_upper" => {}
                    other => {
                        return Err(parse_err(format!(
                            "[range] query does not support [{other}]"
                        )))
                    }
                }
            }
            Query::Range { field, bounds }
        }
        "match" => {
            let (field, value, _) = leaf("match", body, &["query"])?;
            let all = body
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|v| v.get("operator"))
                .and_then(Value::as_str)
                .is_some_and(|o| o.eq_ignore_ascii_case("and"));
            Query::Text {
                fields: vec![field],
                terms: vec![scalar_string(&value).unwrap_or_default()],
                all,
            }
        }
        "simple_query_string" => parse_simple_query_string(body)?,
        k if KNOWN_UNSUPPORTED.contains(&k) => {
            return Err(EsError::illegal_argument(format!(
                "Query type [{k}] is not currently supported in this context"
            )))
        }
        other => return Err(parse_err(format!("unknown query [{other}]"))),
    })
}
