//! Clearing, invalidating and updating API keys: scenarios AK-S9 to AK-S15.

use super::*;

/// S9: clear one key on every node, then everything.
#[test]
fn s9_clear_one_key_then_all() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
        assert_eq!(counts(&c, n), (2, 2, 2));
    }
    let resp = c.clear_security_cache(1, "api_key", &strings(&[&k1.id]));
    assert!(resp.failures.is_empty());
    assert_eq!(resp.successes.len(), 3);
    for n in 0..3 {
        let s = svc(&c, n);
        assert!(!s.contains(CacheId::ApiKeyAuth, &k1.id));
        assert!(!s.contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(s.contains(CacheId::ApiKeyAuth, &k2.id));
        assert!(s.contains(CacheId::ApiKeyDoc, &k2.id));
        assert_eq!(
            counts(&c, n),
            (1, 1, 2),
            "node {n}: the role-descriptor cache is untouched"
        );
    }
    let resp = c.clear_security_cache(2, "api_key", &[]);
    assert!(resp.failures.is_empty());
    assert_eq!(resp.to_json()["_nodes"]["failed"], json!(0));
    for n in 0..3 {
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    // And everything still works afterwards, from the index.
    assert_accepted(&mut c, 2, &k1);
}

/// S10 (cluster level): clearing one id and clearing all both answer with every node successful and
/// no `failures` field (R5.5).
#[test]
fn s10_clear_cache_response_has_no_failures() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    assert_accepted(&mut c, 1, &k);
    for keys in [ids_param(&k.id), ids_param("*")] {
        let body = c.clear_security_cache(0, "api_key", &keys).to_json();
        assert_eq!(
            body["_nodes"],
            json!({"total": 3, "successful": 3, "failed": 0})
        );
        assert_eq!(body["cluster_name"], json!("escache"));
        let nodes = body["nodes"].as_object().unwrap();
        assert_eq!(nodes.len(), 3);
        for n in c.nodes() {
            assert_eq!(nodes[&n.id], json!({"name": n.name}));
        }
    }
    assert_eq!(counts(&c, 1), (0, 0, 0));
}

/// S11 (cluster level, with the ids parsed as R5.6 parses them): `*` and `_all` clear everything,
/// `abc*` is a literal no-op, `K1,K2` clears exactly two keys.
#[test]
fn s11_ids_parsing() {
    assert_eq!(ids_param("*"), Vec::<String>::new());
    assert_eq!(ids_param("_all"), Vec::<String>::new());
    assert_eq!(ids_param("abc*"), strings(&["abc*"]));
    assert_eq!(ids_param("a,*"), strings(&["a", "*"]));
    assert_eq!(ids_param("a,,b,,"), strings(&["a", "", "b"]));

    let mut c = cluster(2);
    let keys: Vec<CreatedApiKey> = (0..3)
        .map(|i| create(&mut c, 0, &format!("k{i}")))
        .collect();
    let populate = |c: &mut Cluster| {
        for n in 0..2 {
            for k in &keys {
                assert_accepted(c, n, k);
            }
            assert_eq!(counts(c, n), (3, 3, 2));
        }
    };
    for all in ["*", "_all"] {
        populate(&mut c);
        let resp = c.clear_security_cache(0, "api_key", &ids_param(all));
        assert!(resp.failures.is_empty());
        for n in 0..2 {
            assert_eq!(counts(&c, n), (0, 0, 0), "{all}");
        }
    }
    populate(&mut c);
    let resp = c.clear_security_cache(0, "api_key", &ids_param("abc*"));
    assert!(resp.failures.is_empty());
    assert_eq!(resp.successes.len(), 2);
    for n in 0..2 {
        assert_eq!(
            counts(&c, n),
            (3, 3, 2),
            "abc* is a literal key: nothing cleared"
        );
    }
    let two = format!("{},{}", keys[0].id, keys[1].id);
    c.clear_security_cache(1, "api_key", &ids_param(&two));
    for n in 0..2 {
        assert_eq!(counts(&c, n), (1, 1, 2));
        assert!(svc(&c, n).contains(CacheId::ApiKeyAuth, &keys[2].id));
        assert!(svc(&c, n).contains(CacheId::ApiKeyDoc, &keys[2].id));
    }
}

/// S12: closing `.security-7` clears all three caches on every node (R4.1 (b)).
#[test]
fn s12_closing_security_index_clears_caches() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k);
        assert_eq!(counts(&c, n), (1, 1, 2));
    }
    let mark = c.events.len();
    c.close_security_index();
    for n in 0..3 {
        assert_eq!(counts(&c, n), (0, 0, 0));
    }
    let change = events_since(&c, mark)
        .into_iter()
        .find(|e| e.1 == EventKind::SecurityIndexChange)
        .unwrap();
    assert_eq!(change.4, "green -> closed (caches cleared)");
    assert_rejected(
        &mut c,
        0,
        &k,
        &format!(
            "apikey authentication for id {} encountered a failure",
            k.id
        ),
    );
}

/// S13: the registry resolves names to invalidators, refuses unknown names, and an
/// UNRECOVERED -> GREEN transition clears only the invalidators registered with shouldClear=true.
#[test]
fn s13_registry() {
    let mut r = CacheInvalidatorRegistry::new();
    r.register("service1", Invalidator::ApiKey, true).unwrap();
    r.register("service2", Invalidator::ApiKeyDoc, true)
        .unwrap();
    r.register("service3", Invalidator::FileServiceAccountToken, false)
        .unwrap();
    assert_eq!(r.resolve("service2").unwrap(), vec![Invalidator::ApiKeyDoc]);
    assert_eq!(
        r.resolve("non-exist").unwrap_err().reason,
        "No cache named [non-exist] is found"
    );
    assert_eq!(
        r.resolve("non-exist").unwrap_err().kind,
        "illegal_argument_exception"
    );
    assert_eq!(
        r.cleared_on_security_index_change(),
        vec![Invalidator::ApiKey, Invalidator::ApiKeyDoc]
    );
    assert!(should_clear_caches(
        &IndexState::absent(),
        &green("my_uuid")
    ));

    // On a cluster: entries put while the index has never been recovered are cleared when it turns
    // GREEN with uuid `my_uuid`.
    let mut c = cluster(2);
    for n in 0..2 {
        with_ctx(&mut c, n, |s, ctx| {
            s.on_created("some-key", &Secret::new("some-secret"), ctx);
        });
        assert_eq!(count(&c, n, CacheId::ApiKeyAuth), 1);
    }
    let mark = c.events.len();
    c.set_security_index_state(green("my_uuid"));
    for n in 0..2 {
        assert_eq!(counts(&c, n), (0, 0, 0));
        assert!(!c.nodes()[n as usize]
            .registry
            .cleared_on_security_index_change()
            .contains(&Invalidator::FileServiceAccountToken));
    }
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::SecurityIndexChange
            && e.4 == "absent -> green (caches cleared)"),
        1
    );
}

/// S14: an update clears the updated key's doc entry only (every node); an identical repeat is a
/// noop that clears nothing.
#[test]
#[allow(clippy::many_single_char_names)] // (a, d, r): the auth, doc and role-descriptor counts
fn s14_update_clears_only_that_doc() {
    let mut c = cluster(3);
    let k1 = create(&mut c, 0, "k1");
    let k2 = create(&mut c, 0, "k2");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k1);
        assert_accepted(&mut c, n, &k2);
    }
    let before: Vec<_> = (0..3).map(|n| counts(&c, n)).collect();
    let auth_stats: Vec<_> = (0..3).map(|n| stats(&c, n, CacheId::ApiKeyAuth)).collect();
    let elastic = elastic(&mut c);
    let mut metadata = Map::new();
    metadata.insert("tag".into(), json!("v2"));
    let req = || UpdateApiKeyRequest {
        metadata: Some(metadata.clone()),
        ..Default::default()
    };
    assert!(c.update_api_key(1, &elastic, &k1.id, req()).unwrap());
    for n in 0..3 {
        let s = svc(&c, n);
        assert!(!s.contains(CacheId::ApiKeyDoc, &k1.id));
        assert!(s.contains(CacheId::ApiKeyDoc, &k2.id));
        assert!(s.contains(CacheId::ApiKeyAuth, &k1.id));
        let (a, d, r) = before[n as usize];
        assert_eq!(counts(&c, n), (a, d - 1, r));
        assert_eq!(stats(&c, n, CacheId::ApiKeyAuth), auth_stats[n as usize]);
    }
    let mark = c.events.len();
    assert!(
        !c.update_api_key(1, &elastic, &k1.id, req()).unwrap(),
        "an identical update is a noop"
    );
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);
    for n in 0..3 {
        let (a, d, r) = before[n as usize];
        assert_eq!(counts(&c, n), (a, d - 1, r));
    }
    for n in 0..3 {
        assert_eq!(
            assert_accepted(&mut c, n, &k1).metadata_flattened.clone(),
            Some(json!({"tag": "v2"}))
        );
    }
}

/// S15: invalidation broadcasts `api_key` [K]; the next authentication says the key is invalidated,
/// and a node that missed the broadcast drops its auth entry on that authentication (R3.3).
#[test]
fn s15_invalidate_then_authenticate() {
    let mut c = cluster(3);
    let k = create(&mut c, 0, "k");
    for n in 0..3 {
        assert_accepted(&mut c, n, &k);
    }
    let mark = c.events.len();
    let result = invalidate(&mut c, 1, &[&k.id]);
    assert_eq!(
        result.to_json(),
        json!({"invalidated_api_keys": [k.id], "previously_invalidated_api_keys": [], "error_count": 0})
    );
    let clears: Vec<_> = events_since(&c, mark)
        .into_iter()
        .filter(|e| e.1 == EventKind::ClearCache)
        .map(|e| (e.0, e.3, e.4))
        .collect();
    assert_eq!(
        clears,
        (0..3)
            .map(|n| (n, "api_key".to_string(), k.id.clone()))
            .collect::<Vec<_>>()
    );
    let invalidated = format!("api key [{}] has been invalidated", k.id);
    for n in 0..3 {
        assert!(!svc(&c, n).contains(CacheId::ApiKeyAuth, &k.id));
        assert_rejected(&mut c, n, &k, &invalidated);
        assert!(!svc(&c, n).contains(CacheId::ApiKeyAuth, &k.id));
    }
    // Invalidating again finds nothing (already invalidated keys are excluded): no broadcast.
    let mark = c.events.len();
    assert_eq!(
        invalidate(&mut c, 1, &[&k.id]),
        escache::cluster::InvalidateApiKeyResult::default()
    );
    assert_eq!(count_events(&c, mark, |e| e.1 == EventKind::ClearCache), 0);

    // The creating node holds a pre-warmed hash and no doc; partitioned, it misses the broadcast, and
    // its next authentication reads the invalidated doc and removes the auth entry.
    let k2 = create(&mut c, 0, "k2");
    c.set_partitioned(0, true).unwrap();
    let result = invalidate(&mut c, 1, &[&k2.id]);
    assert_eq!(result.invalidated, vec![k2.id.clone()]);
    assert!(svc(&c, 0).contains(CacheId::ApiKeyAuth, &k2.id));
    let mark = c.events.len();
    assert_rejected(
        &mut c,
        0,
        &k2,
        &format!("api key [{}] has been invalidated", k2.id),
    );
    assert!(!svc(&c, 0).contains(CacheId::ApiKeyAuth, &k2.id));
    assert_eq!(
        count_events(&c, mark, |e| e.1 == EventKind::CacheInvalidated
            && e.2 == CacheId::ApiKeyAuth
            && e.3 == k2.id),
        1
    );
}
