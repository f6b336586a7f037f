//! Cluster-level rule tests: AK-R2.4, AK-R3.3, AK-R3.4, AK-R3.5, AK-R3.7, AK-R4.1, AK-R4.3, AK-R5.9
//! and node restarts.

use super::*;

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// R3.5: expiry is checked against the clock on every request, even when the doc comes from the doc
/// cache and the hash from the auth cache.
#[test]
fn r3_5_expiry_checked_on_every_request_with_cached_doc() {
    let mut c = cluster(2);
    let elastic = elastic(&mut c);
    let k = c
        .create_api_key(
            0,
            &elastic,
            CreateApiKeyRequest {
                name: "short".into(),
                expiration: Some(TimeValue::new(1, TimeUnit::Minutes)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(k.expiration, Some(escache::time::epoch_millis(0) + 60_000));
    assert_accepted(&mut c, 1, &k);
    assert!(svc(&c, 1).contains(CacheId::ApiKeyDoc, &k.id));
    c.advance(60 * NANOS_PER_SECOND - 1);
    assert_accepted(&mut c, 1, &k);
    assert_accepted(&mut c, 0, &k);
    c.advance(1);
    let doc_hits = stats(&c, 1, CacheId::ApiKeyDoc).hits;
    let auth_hits = stats(&c, 1, CacheId::ApiKeyAuth).hits;
    assert_rejected(&mut c, 1, &k, "api key is expired");
    assert_eq!(
        stats(&c, 1, CacheId::ApiKeyDoc).hits,
        doc_hits + 1,
        "served from the doc cache"
    );
    assert_eq!(
        stats(&c, 1, CacheId::ApiKeyAuth).hits,
        auth_hits + 1,
        "and the auth cache"
    );
    assert_rejected(&mut c, 0, &k, "api key is expired");
}

/// R3.5: expiration is whole seconds (`now.plusSeconds(expiration.getSeconds())`).
#[test]
fn r3_5_expiration_is_whole_seconds() {
    let mut c = cluster(1);
    let elastic = elastic(&mut c);
    let k = c
        .create_api_key(
            0,
            &elastic,
            CreateApiKeyRequest {
                name: "k".into(),
                expiration: Some(TimeValue::new(1999, TimeUnit::Millis)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(k.expiration, Some(escache::time::epoch_millis(0) + 1000));
    c.advance(NANOS_PER_SECOND - 1);
    assert_accepted(&mut c, 0, &k);
    c.advance(1);
    assert_rejected(&mut c, 0, &k, "api key is expired");
}

/// R3.7: a partitioned node keeps accepting an invalidated key from its doc cache until
/// `doc_cache.ttl` (5m) has strictly elapsed since the doc was cached; a node that got the broadcast
/// rejects at once.
#[test]
fn r3_7_partitioned_node_serves_stale_doc_until_doc_ttl() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    // Node 2 caches the doc at t=0; node 1 too.
    assert_accepted(&mut c, 2, &k);
    assert_accepted(&mut c, 1, &k);
    c.advance(NANOS_PER_SECOND);
    c.set_partitioned(2, true).unwrap();
    let mark = c.events.len();
    let result = invalidate(&mut c, 0, &[&k.id]);
    assert_eq!(result.invalidated, vec![k.id.clone()]);
    assert!(
        result.errors.is_empty(),
        "per-node broadcast failures are ignored (R4.4)"
    );
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::NodeUnreachable && e.0 == 2),
        1
    );
    let invalidated = format!("api key [{}] has been invalidated", k.id);
    // Healthy nodes reject immediately.
    assert_rejected(&mut c, 1, &k, &invalidated);
    assert_rejected(&mut c, 0, &k, &invalidated);
    // The partitioned node still accepts, up to and including exactly doc_cache.ttl after the put.
    assert_accepted(&mut c, 2, &k);
    c.advance(DOC_TTL - NANOS_PER_SECOND);
    assert_eq!(c.now(), DOC_TTL);
    assert_accepted(&mut c, 2, &k);
    // Healing alone does not help: the broadcast was lost.
    c.set_partitioned(2, false).unwrap();
    assert_accepted(&mut c, 2, &k);
    c.advance(1);
    assert_rejected(&mut c, 2, &k, &invalidated);
    assert!(!svc(&c, 2).contains(CacheId::ApiKeyAuth, &k.id));
    // The re-fetched (invalidated) doc is what the doc cache holds now.
    assert_rejected(&mut c, 2, &k, &invalidated);
}

/// R3.7: a stale partitioned node stops accepting as soon as a later clear reaches it.
#[test]
fn r3_7_later_clear_ends_staleness() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 2, &k);
    c.set_partitioned(2, true).unwrap();
    invalidate(&mut c, 0, &[&k.id]);
    assert_accepted(&mut c, 2, &k);
    c.set_partitioned(2, false).unwrap();
    let resp = c.clear_security_cache(0, "api_key", std::slice::from_ref(&k.id));
    assert!(resp.failures.is_empty());
    assert_rejected(
        &mut c,
        2,
        &k,
        &format!("api key [{}] has been invalidated", k.id),
    );
}

/// R4.1: which security-index transitions clear the caches.
#[test]
fn r4_1_security_index_transitions() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let populate = |c: &mut Cluster| {
        for n in 0..2 {
            assert_accepted(c, n, &k);
            assert_eq!(counts(c, n), (1, 1, 2));
        }
    };
    let cleared = |c: &Cluster| (0..2).all(|n| counts(c, n) == (0, 0, 0));
    let kept = |c: &Cluster| (0..2).all(|n| counts(c, n) == (1, 1, 2));

    populate(&mut c);
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert!(kept(&c), "GREEN -> YELLOW does not clear");
    c.set_security_index_health(IndexHealth::Green).unwrap();
    assert!(kept(&c), "YELLOW -> GREEN does not clear");
    c.set_security_index_health(IndexHealth::Red).unwrap();
    assert!(kept(&c), "GREEN -> RED does not clear");
    c.set_security_index_health(IndexHealth::Green).unwrap();
    assert!(cleared(&c), "RED -> GREEN clears");

    populate(&mut c);
    c.set_security_index_health(IndexHealth::Red).unwrap();
    c.set_security_index_health(IndexHealth::Yellow).unwrap();
    assert!(cleared(&c), "RED -> YELLOW clears");

    populate(&mut c);
    let mut s = c.security_index.state().clone();
    s.uuid = Some("another-uuid".into());
    c.set_security_index_state(s);
    assert!(cleared(&c), "a UUID change clears");

    populate(&mut c);
    let same = c.security_index.state().clone();
    c.set_security_index_state(same);
    assert!(kept(&c), "no change, no clear");

    c.set_security_index_up_to_date(false);
    assert!(cleared(&c), "up-to-date true -> false clears");
    // Reads still work (authentication GETs do not check the format).
    populate(&mut c);
    c.set_security_index_up_to_date(true);
    assert!(cleared(&c), "up-to-date false -> true clears");

    populate(&mut c);
    c.close_security_index();
    assert!(cleared(&c), "closing clears");
    c.open_security_index();
    populate(&mut c);
    c.recreate_security_index();
    assert!(cleared(&c), "recreating clears");
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("unable to find apikey with id {}", k.id),
    );
}

/// R4.3: an update re-reads on every node (doc cache entry of that key dropped), leaves every auth
/// cache untouched, and a noop update sends nothing.
#[test]
fn r4_3_update_clears_only_that_doc_on_every_node() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
    }
    let serials: Vec<u64> = (0..3).map(|n| serial(&c, n, &k1.id)).collect();
    let elastic = elastic(&mut c);
    let roles = json!({"narrow": {"cluster": ["monitor"]}});
    let req = UpdateApiKeyRequest {
        role_descriptors: Some(roles.as_object().unwrap().clone()),
        ..Default::default()
    };
    let mark = c.events.len();
    assert!(c.update_api_key(2, &elastic, &k1.id, req.clone()).unwrap());
    let clears: Vec<_> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::ClearCache)
        .map(|e| (e.0, e.3, e.4))
        .collect();
    assert_eq!(
        clears,
        (0..3)
            .map(|n| (n, "api_key_doc".to_string(), k1.id.clone()))
            .collect::<Vec<_>>()
    );
    for n in 0..3 {
        assert!(!svc(&c, n).contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &k2.id));
        assert_eq!(
            serial(&c, n, &k1.id),
            serials[n as usize],
            "the auth cache is untouched"
        );
        let a = assert_accepted(&mut c, n, &k1);
        assert_eq!(
            serde_json::from_str::<Value>(&a.role_descriptors).unwrap(),
            roles
        );
        assert_eq!(count(&c, n, CacheId::ApiKeyRoleDescriptors), 3);
    }
    let mark = c.events.len();
    assert!(!c.update_api_key(2, &elastic, &k1.id, req).unwrap());
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    for n in 0..3 {
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &k1.id));
    }
}

/// R2.4: every doc-cache invalidation, by key or all, bumps the node's invalidation counter. The race
/// the counter guards (an invalidation between reading the count and the put) cannot be produced
/// through the public API, where a GET and its put run in one step.
#[test]
fn r2_4_invalidation_counter() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    let counter = |c: &Cluster, n: NodeIndex| svc(c, n).doc_cache().unwrap().invalidation_count();
    let start = [counter(&c, 0), counter(&c, 1)];
    // A cache miss with its put changes nothing.
    assert_accepted(&mut c, 1, &k);
    assert_eq!(counter(&c, 1), start[1]);
    // By key (even a key that is not cached), `api_key` and `api_key_doc`.
    c.clear_security_cache(0, "api_key", &strings(&["not-cached"]));
    c.clear_security_cache(0, "api_key_doc", &strings(&[&k.id]));
    // All.
    c.clear_security_cache(0, "api_key", &[]);
    for n in 0..2 {
        assert_eq!(counter(&c, n), start[n as usize] + 3);
    }
    // A clearing index change runs both `api_key` and `api_key_doc` invalidateAll: +2.
    c.set_security_index_up_to_date(false);
    for n in 0..2 {
        assert_eq!(counter(&c, n), start[n as usize] + 5);
    }
    // A partitioned node does not see the broadcast.
    c.set_partitioned(1, true).unwrap();
    c.clear_security_cache(0, "api_key", &[]);
    assert_eq!(counter(&c, 0), start[0] + 6);
    assert_eq!(counter(&c, 1), start[1] + 5);
}

/// R5.9: with `cache.ttl=0` no `api_key` invalidator is registered: the clear answers with every
/// node failed (`No cache named [api_key] is found`), and invalidation still succeeds.
#[test]
fn r5_9_ttl_zero_clear_fails_on_every_node_and_invalidate_succeeds() {
    let mut c = cluster_with(3, &[("xpack.security.authc.api_key.cache.ttl", "0s")]);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    let resp = c.clear_security_cache(0, "api_key", &[]);
    assert!(resp.successes.is_empty());
    assert_eq!(resp.failures.len(), 3);
    let body = resp.to_json();
    assert_eq!(body["_nodes"]["total"], json!(3));
    assert_eq!(body["_nodes"]["successful"], json!(0));
    assert_eq!(body["_nodes"]["failed"], json!(3));
    assert_eq!(body["nodes"], json!({}));
    let failures = body["_nodes"]["failures"].as_array().unwrap();
    for (f, n) in failures.iter().zip(c.nodes()) {
        let fields: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["type", "reason", "node_id", "caused_by"]);
        assert_eq!(f["type"], json!("failed_node_exception"));
        assert_eq!(f["reason"], json!(format!("Failed node [{}]", n.id)));
        assert_eq!(f["node_id"], json!(n.id));
        assert_eq!(f["caused_by"]["type"], json!("illegal_argument_exception"));
        assert_eq!(
            f["caused_by"]["reason"],
            json!("No cache named [api_key] is found")
        );
    }
    let result = invalidate(&mut c, 0, &[&k.id]);
    assert_eq!(result.invalidated, vec![k.id.clone()]);
    assert!(result.errors.is_empty());
    for n in 0..3 {
        assert_rejected(
            &mut c,
            n,
            &k,
            &format!("api key [{}] has been invalidated", k.id),
        );
    }
}

/// A stopped node leaves the cluster (not counted by fan-outs) and comes back with empty caches.
#[test]
fn stopped_node_loses_caches() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    assert_eq!(counts(&c, 1), (1, 1, 2));
    c.stop_node(1).unwrap();
    let resp = c.clear_security_cache(0, "api_key", &strings(&["x"]));
    assert_eq!(
        resp.to_json()["_nodes"],
        json!({"total": 2, "successful": 2, "failed": 0})
    );
    c.start_node(1).unwrap();
    assert_eq!(counts(&c, 1), (0, 0, 0));
    assert_eq!(svc(&c, 1).verifications, 0);
    assert_accepted(&mut c, 1, &k);
    assert_eq!(svc(&c, 1).verifications, 1);
    // The creating node loses its pre-warmed entry too.
    c.stop_node(0).unwrap();
    c.start_node(0).unwrap();
    assert_eq!(counts(&c, 0), (0, 0, 0));
    let kinds: Vec<EventKind> = c
        .events
        .iter()
        .filter(|e| e.cache == CacheId::None && e.node == 0)
        .map(|e| e.kind)
        .collect();
    assert!(kinds.ends_with(&[EventKind::NodeStopped, EventKind::NodeStarted]));
}

/// R3.4: a request that joined a pending verification with a *different* secret than the one being
/// verified finds a failed result, drops that entry and starts over with its own verification.
#[test]
fn r3_4_joined_request_with_other_secret_starts_over() {
    let mut c = cluster(2);
    let k = create(&mut c, 0, "k");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let wrong = match auth_secret(&mut c, 1, &k.id, "wrong-secret-wrong-secret") {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let right = match auth_key(&mut c, 1, &k) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let first = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 1);
    let step =
        |done: &[(u64, AuthStep)], r: u64| done.iter().find(|(q, _)| *q == r).unwrap().1.clone();
    assert_eq!(
        step(&first, wrong),
        AuthStep::Done(AuthOutcome::Unsuccessful {
            message: format!("invalid credentials for API key [{}]", k.id)
        })
    );
    assert_eq!(step(&first, right), AuthStep::Pending { request: right });
    assert_eq!(svc(&c, 1).cached_result(&k.id), Some(&FutureState::Pending));
    let second = c.drain_crypto_pool(1);
    assert_eq!(svc(&c, 1).verifications, 2);
    assert!(
        matches!(step(&second, right), AuthStep::Done(AuthOutcome::Success(a)) if *a.id == *k.id)
    );
    assert_eq!(cached_success(&c, 1, &k.id), Some(true));
}

/// R3.4 (PR #111369) with a held pool whose threads and queue are full: the rejected verification's
/// entry is removed (conditionally, its own future only), and the request gets 429; the key that is
/// already pending is unaffected.
#[test]
fn r3_4_rejection_when_held_pool_is_full() {
    let mut c = cluster_with(
        2,
        &[
            ("xpack.security.crypto.thread_pool.size", "1"),
            ("xpack.security.crypto.thread_pool.queue_size", "0"),
        ],
    );
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    c.node_mut(1).unwrap().crypto_pool.mode = CryptoPoolMode::Held;
    let r1 = match auth_key(&mut c, 1, &k1) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.kind, "es_rejected_execution_exception");
            assert_eq!(e.status, 429);
        }
        other => panic!("{other:?}"),
    }
    assert!(!svc(&c, 1).contains(CacheId::ApiKeyAuth, &k2.id));
    assert_eq!(
        svc(&c, 1).cached_result(&k1.id),
        Some(&FutureState::Pending)
    );
    let done = c.drain_crypto_pool(1);
    assert!(matches!(&done[..], [(r, AuthStep::Done(AuthOutcome::Success(_)))] if *r == r1));
    let r2 = match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Pending { request } => request,
        other => panic!("{other:?}"),
    };
    let done = c.drain_crypto_pool(1);
    assert!(matches!(&done[..], [(r, AuthStep::Done(AuthOutcome::Success(_)))] if *r == r2));
}

/// R5.9 / R1.1 with updates: `api_key_doc` is not registered either, so the update's clear fails on
/// every node, and the update still succeeds.
#[test]
fn r5_9_ttl_zero_update_still_succeeds() {
    let mut c = cluster_with(2, &[("xpack.security.authc.api_key.cache.ttl", "-1")]);
    let k = create(&mut c, 0, "k");
    let elastic = elastic(&mut c);
    let mut metadata = Map::new();
    metadata.insert("v".into(), json!(2));
    let mark = c.events.len();
    assert!(c
        .update_api_key(
            0,
            &elastic,
            &k.id,
            UpdateApiKeyRequest {
                metadata: Some(metadata),
                ..Default::default()
            }
        )
        .unwrap());
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    let resp = c.clear_security_cache(1, "api_key_doc", &[]);
    assert_eq!(resp.failures.len(), 2);
    assert_eq!(
        resp.failures[0].cause.reason,
        "No cache named [api_key_doc] is found"
    );
    assert_eq!(
        assert_accepted(&mut c, 1, &k).metadata_flattened.clone(),
        Some(json!({"v": 2}))
    );
}

/// R3.3: validation order on malformed documents (edited in the index), each read fresh on a node
/// that has no doc cached.
#[test]
fn r3_3_validation_order() {
    let mut c = cluster(4);
    let k = create(&mut c, 0, "k");
    // Wrong doc type (checked before the invalidated flag).
    {
        let d = c.security_index.api_keys_mut().get_mut(&k.id).unwrap();
        d.doc_type = "token".into();
        d.invalidated = None;
    }
    assert_rejected(
        &mut c,
        1,
        &k,
        &format!("document [{}] is [token] not an api key", k.id),
    );
    // Missing invalidated flag.
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .doc_type = "api_key".into();
    assert_rejected(
        &mut c,
        2,
        &k,
        "api key document is missing invalidated field",
    );
    // Missing hash: an exception, wrapped by the authentication failure handler.
    {
        let d = c.security_index.api_keys_mut().get_mut(&k.id).unwrap();
        d.invalidated = Some(false);
        d.hash = None;
    }
    match auth_key(&mut c, 3, &k) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.reason, "error attempting to authenticate request");
            assert_eq!(
                e.caused_by.as_ref().unwrap().reason,
                "api key hash is missing"
            );
        }
        other => panic!("{other:?}"),
    }
    // R3.5: a type mismatch terminates (401, the message as the reason), checked after the hash.
    let k2 = create(&mut c, 0, "k2");
    c.security_index
        .api_keys_mut()
        .get_mut(&k2.id)
        .unwrap()
        .key_type = escache::security::api_key::ApiKeyType::CrossCluster;
    match auth_key(&mut c, 1, &k2) {
        AuthenticationOutcome::Failed(e) => {
            assert_eq!(e.status, 401);
            assert_eq!(
                e.reason,
                format!(
                    "authentication expected API key type of [rest], but API key [{}] has type [cross_cluster]",
                    k2.id
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // Invalidated is checked before the hash, and drops the pre-warmed auth entry on node 0.
    c.security_index
        .api_keys_mut()
        .get_mut(&k.id)
        .unwrap()
        .invalidated = Some(true);
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!("api key [{}] has been invalidated", k.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k.id));
}
