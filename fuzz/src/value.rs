//! Structured JSON for `arbitrary`: values whose keys and strings come mostly from the words escache's
//! REST handlers and scenario parser read, so that the fuzzer gets past "unknown field" quickly.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{Map, Number, Value};

/// Field names and string values escache reads (REST bodies, workloads, actions, cost models).
pub const WORDS: &[&str] = &[
    "name",
    "role_descriptors",
    "expiration",
    "metadata",
    "ids",
    "id",
    "owner",
    "username",
    "realm_name",
    "password",
    "password_hash",
    "roles",
    "cluster",
    "indices",
    "names",
    "privileges",
    "all",
    "manage_security",
    "manage_api_key",
    "manage_own_api_key",
    "superuser",
    "run_as",
    "applications",
    "full_name",
    "email",
    "enabled",
    "kind",
    "population",
    "keys",
    "tokens",
    "rate",
    "popularity",
    "node_choice",
    "wrong_secret_share",
    "create_over",
    "start",
    "stop",
    "creator_node",
    "account",
    "source",
    "nodes",
    "node",
    "action",
    "workload",
    "top",
    "random",
    "method",
    "path",
    "body",
    "authorization",
    "content",
    "cache",
    "health",
    "value",
    "zipf",
    "hotspot",
    "fraction",
    "probability",
    "uniform",
    "round_robin",
    "sticky",
    "api_key",
    "service_token",
    "index",
    "file",
    "elastic/fleet-server",
    "elastic/kibana",
    "node-0",
    "node-1",
    "node-2",
    "rest",
    "invalidate_api_keys",
    "delete_service_tokens",
    "remove_file_tokens",
    "set_service_tokens_file",
    "clear_cache",
    "stop_node",
    "start_node",
    "partition",
    "heal",
    "drop_clear_cache",
    "index_health",
    "index_delete",
    "index_close",
    "index_open",
    "index_recreate",
    "index_up_to_date",
    "green",
    "yellow",
    "red",
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "/",
    "/_security/api_key",
    "/_security/_authenticate",
    "pbkdf2_per_1000_iterations",
    "bcrypt_cost_10",
    "ssha256",
    "digest",
    "1s",
    "5m",
    "-1",
    "0",
    "1d",
    "24h",
    "100ms",
    "1nanos",
    "10micros",
    "api_key_id",
    "api_key_name",
    "realm",
    "service_token_name",
    "refresh",
    "true",
    "false",
    "$basic",
];

/// A JSON value built by `arbitrary`; `depth` bounds nesting.
pub fn arbitrary_value(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let choice = if depth == 0 {
        u.int_in_range(0..=5)?
    } else {
        u.int_in_range(0..=7)?
    };
    Ok(match choice {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Number(Number::from(u.arbitrary::<i64>()?)),
        3 => Number::from_f64(u.arbitrary()?)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        4 => Value::Number(Number::from(u.int_in_range(0u64..=20)?)),
        5 => Value::String(arbitrary_word(u)?),
        6 => {
            let n = u.int_in_range(0..=4)?;
            let mut a = Vec::with_capacity(n);
            for _ in 0..n {
                a.push(arbitrary_value(u, depth - 1)?);
            }
            Value::Array(a)
        }
        _ => Value::Object(arbitrary_object(u, depth - 1)?),
    })
}

/// An object of up to six fields.
pub fn arbitrary_object(u: &mut Unstructured, depth: usize) -> Result<Map<String, Value>> {
    let n = u.int_in_range(0..=6)?;
    let mut m = Map::new();
    for _ in 0..n {
        let k = arbitrary_word(u)?;
        let v = arbitrary_value(u, depth)?;
        m.insert(k, v);
    }
    Ok(m)
}

/// A known word most of the time, else any string.
pub fn arbitrary_word(u: &mut Unstructured) -> Result<String> {
    if u.ratio(7, 8)? {
        Ok((*u.choose(WORDS)?).to_owned())
    } else {
        u.arbitrary()
    }
}

/// A JSON object for `arbitrary` derives.
#[derive(Debug, Clone)]
pub struct ArbObject(pub Map<String, Value>);

impl<'a> Arbitrary<'a> for ArbObject {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        arbitrary_object(u, 4).map(ArbObject)
    }
}
