//! `escache::security::service_account` against the rules of docs/rules.md (T, V, A, S, C, I,
//! F, M rules and the scenarios ST-SC1 to ST-SC20).
//!
//! `tests/data/service_tokens` is Elasticsearch's own test resource (see `tests/data/README.md`).

mod caches;
mod stores;
mod tokens;

use crate::common::{SERVICE_TOKENS, SERVICE_TOKEN_SECRETS as SECRETS};
use escache::error::{EsError, ExceptionType};
use escache::events::{CacheId, EventKind, EventLog};
use escache::security::hashing::{Hasher, Secret};
use escache::security::index::{IndexHealth, IndexState, SecurityIndex};
use escache::security::service_account::tool::{self, EXIT_CODE_ERROR, EXIT_NO_USER};
use escache::security::service_account::*;
use escache::security::settings::ServiceTokenSettings;
use escache::security::{CacheSize, Ctx};
use escache::time::{Nanos, TimeUnit, TimeValue, NANOS_PER_SECOND};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::cell::Cell;

const IT_TOKEN: &str = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpyNXdkYmRib1FTZTl2R09Ld2FKR0F3";

fn settings(ttl: TimeValue) -> ServiceTokenSettings {
    ServiceTokenSettings {
        cache_ttl: ttl,
        max_tokens: 100_000,
        cache_hash_algo: Hasher::Ssha256,
        hashing_algorithm: Hasher::resolve("bcrypt4").unwrap(),
    }
}

fn default_settings() -> ServiceTokenSettings {
    settings(TimeValue::new(20, TimeUnit::Minutes))
}

fn fleet() -> ServiceAccountId {
    ServiceAccountId::new("elastic", "fleet-server").unwrap()
}

fn token(account: &ServiceAccountId, name: &str, secret: &str) -> ServiceAccountToken {
    ServiceAccountToken::new(account.clone(), name, Secret::new(secret)).unwrap()
}

fn ctx(log: &mut EventLog, now: Nanos) -> Ctx<'_> {
    Ctx { log, node: 0, now }
}

fn open_index() -> SecurityIndex {
    let mut idx = SecurityIndex::new();
    idx.set_state(IndexState {
        exists: true,
        open: true,
        health_when_open: IndexHealth::Green,
        uuid: Some("idx-uuid".into()),
        format_up_to_date: true,
    });
    idx
}

fn events(log: &EventLog, kind: EventKind, cache: CacheId) -> Vec<String> {
    log.iter()
        .filter(|e| e.kind == kind && e.cache == cache)
        .map(|e| e.key.to_string())
        .collect()
}

fn source(o: &ServiceAccountAuthOutcome) -> Option<TokenSource> {
    match o {
        ServiceAccountAuthOutcome::Success(a) => Some(a.source),
        _ => None,
    }
}
