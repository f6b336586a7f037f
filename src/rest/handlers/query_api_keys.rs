//! `GET|POST /_security/_query/api_key` (`RestQueryApiKeyAction`, `TransportQueryApiKeyAction`,
//! `ApiKeyBoolQueryBuilder`, `QueryApiKeyResponse`). Rules API-Q1 to API-Q6; the query language is
//! `security::api_key::query`.

use crate::cluster::{api_key_info, Authentication, Cluster};
use crate::error::EsError;
use crate::rest::body::{parse_optional_json_body, x_content_parse_error, ParsedBody};
use crate::rest::{check_unconsumed_params, Request, Response, RouteId};
use crate::security::api_key::query::{
    cmp_rows, date_millis, parse_aggs, parse_query, parse_sort, sort_values, Query, SortKey,
};
use crate::security::authz::{self, token_name, ApiKeyRequest, RequestContext, Subject};
use crate::time::epoch_millis;
use serde_json::{json, Map, Value};

const PARSER: &str = "query_api_key_request_payload";

/// ES's `from`/`size` int fields: a number or a string holding one.
fn int_field(body: &ParsedBody, name: &str, v: &Value) -> Result<i64, EsError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| {
        x_content_parse_error(
            body.value_location(&format!("/{name}")),
            &format!(
                "[{PARSER}] failed to parse field [{name}]: {name} doesn't support values of type: {}",
                token_name(v)
            ),
        )
    })
}

struct Payload {
    query: Query,
    from: i64,
    size: i64,
    sort: Vec<SortKey>,
    search_after: Option<Vec<Value>>,
    aggs: Option<Map<String, Value>>,
}

fn parse_payload(req: &Request) -> Result<Payload, EsError> {
    let mut p = Payload {
        query: Query::MatchAll,
        from: 0,
        size: 10,
        sort: Vec::new(),
        search_after: None,
        aggs: None,
    };
    let Some(body) = parse_optional_json_body(req, PARSER)? else {
        return Ok(p);
    };
    // ok: `parse_optional_json_body` only returns an object.
    let obj = body.value.as_object().cloned().unwrap_or_default();
    for (k, v) in &obj {
        match k.as_str() {
            "query" => p.query = parse_query(v)?,
            "from" => p.from = int_field(&body, k, v)?,
            "size" => p.size = int_field(&body, k, v)?,
            "sort" => p.sort = parse_sort(v)?,
            "search_after" => {
                p.search_after = Some(v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]));
            }
            "aggs" | "aggregations" => match v {
                Value::Object(m) => p.aggs = Some(m.clone()),
                other => {
                    return Err(x_content_parse_error(
                        body.value_location(&format!("/{k}")),
                        &format!(
                            "[{PARSER}] {k} doesn't support values of type: {}",
                            token_name(other)
                        ),
                    ))
                }
            },
            other => {
                return Err(x_content_parse_error(
                    body.key_location(&format!("/{other}")),
                    &format!("[{PARSER}] unknown field [{other}]"),
                ))
            }
        }
    }
    let mut errors = Vec::new();
    if p.from < 0 {
        errors.push(format!(
            "[from] parameter cannot be negative but was [{}]",
            p.from
        ));
    }
    if p.size < 0 {
        errors.push(format!(
            "[size] parameter cannot be negative but was [{}]",
            p.size
        ));
    }
    if !errors.is_empty() {
        return Err(EsError::validation(&errors));
    }
    Ok(p)
}

pub(super) fn handle(
    cluster: &mut Cluster,
    req: &Request,
    auth: &Authentication,
    subject: &Subject,
) -> Result<Response, EsError> {
    let _ = auth;
    check_unconsumed_params(req, &["with_limited_by", "with_profile_uid", "typed_keys"])?;
    let with_limited_by = req.param_as_boolean("with_limited_by", false)?;
    req.param_as_boolean("with_profile_uid", false)?;
    let typed_keys = req.param_as_boolean("typed_keys", false)?;
    let payload = parse_payload(req)?;
    let aggs = match &payload.aggs {
        Some(m) => parse_aggs(m)?,
        None => Vec::new(),
    };
    let authorized = authz::authorize_with_outcome(
        subject,
        RouteId::QueryApiKey.action(),
        &RequestContext::new(ApiKeyRequest::Query {
            filter_for_current_user: false,
            with_limited_by,
        }),
    )?;
    let empty = || {
        let mut b = json!({"total": 0, "count": 0, "api_keys": []});
        if !aggs.is_empty() {
            b["aggregations"] = json!({});
        }
        Response::ok(b)
    };
    if !cluster.check_search()? {
        return Ok(empty());
    }
    let now_ms = epoch_millis(cluster.now());
    let caller = subject.caller();
    // `ApiKeyBoolQueryBuilder.build`: an owner-only query is narrowed to the caller's keys; for an
    // API key, to itself.
    let owned = |id: &str, d: &crate::security::api_key::ApiKeyDoc| match &caller.api_key_id {
        Some(kid) => kid == id,
        None => d.creator.principal == caller.principal && d.creator.realm == caller.realm,
    };
    let mut hits: Vec<(
        usize,
        &String,
        &crate::security::api_key::ApiKeyDoc,
        Vec<Value>,
    )> = cluster
        .security_index
        .api_keys()
        .iter()
        .enumerate()
        .filter(|(_, (id, d))| !authorized.query_filtered_to_owner || owned(id, d))
        .filter(|(_, (id, d))| payload.query.matches(id, d, now_ms))
        .map(|(pos, (id, d))| (pos, id, d, sort_values(&payload.sort, id, d, pos)))
        .collect();
    hits.sort_by(|a, b| cmp_rows(&payload.sort, &a.3, &b.3).then(a.0.cmp(&b.0)));
    let total = hits.len();
    let matched: Vec<(&str, &crate::security::api_key::ApiKeyDoc)> =
        hits.iter().map(|(_, id, d, _)| (id.as_str(), *d)).collect();
    let mut aggregations = Map::new();
    for (name, agg) in &aggs {
        let key = if typed_keys {
            format!("{}#{name}", agg.type_name())
        } else {
            name.clone()
        };
        aggregations.insert(key, agg.compute(&matched, now_ms));
    }
    if let Some(after) = &payload.search_after {
        if payload.sort.is_empty() {
            return Err(EsError::illegal_argument(
                "Sort must contain at least one field.",
            ));
        }
        if after.len() != payload.sort.len() {
            return Err(EsError::illegal_argument(format!(
                "search_after has {} value(s) but sort has {}.",
                after.len(),
                payload.sort.len()
            )));
        }
        // A date given as text (the YAML tests pass stashed values) compares as its millis.
        let after: Vec<Value> = after
            .iter()
            .zip(&payload.sort)
            .map(|(v, k)| match (&k.field, v) {
                (Some(f), Value::String(_)) if f.is_date() => {
                    date_millis(v, now_ms).map_or_else(|| v.clone(), Value::from)
                }
                _ => v.clone(),
            })
            .collect();
        hits.retain(|h| cmp_rows(&payload.sort, &h.3, &after) == std::cmp::Ordering::Greater);
    }
    let from = usize::try_from(payload.from).unwrap_or(0);
    let size = usize::try_from(payload.size).unwrap_or(0);
    let mut api_keys = Vec::new();
    for (_, id, d, sort) in hits.iter().skip(from).take(size) {
        let mut item = api_key_info(id, d, with_limited_by)?;
        if !payload.sort.is_empty() {
            item["_sort"] = Value::Array(sort.clone());
        }
        api_keys.push(item);
    }
    let mut body = json!({"total": total, "count": api_keys.len(), "api_keys": api_keys});
    if !aggs.is_empty() {
        body["aggregations"] = Value::Object(aggregations);
    }
    Ok(Response::ok(body))
}
