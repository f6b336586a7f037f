"""User and role management as a user-management tool calls it through the official client
(docs/rules.md CA-UM1 to CA-UM5, CA-RM1, CA-RM2): request shapes, Elasticsearch's validation errors and
403s, and the realm and role caches they clear on every node."""

from __future__ import annotations

import elasticsearch
import pytest
from conftest import admin

import escache

NATIVE = "native_realm_users"
NODES = ("node-0", "node-1", "node-2")


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=3, seed=11)
    es = c.client(node="node-0")
    es.security.put_role(name="ops", cluster=["manage_security"])
    es.security.put_user(username="bob", password="bob-password", roles=["ops"], full_name="Bob")
    es.security.put_user(username="amy", password="amy-password", roles=[])
    return c


def login(c: escache.Cluster, user: str, password: str, node: str = "node-0") -> int:
    h = {"Authorization": c.basic_auth_header(user, password)}
    return c.perform_request("GET", "/_security/_authenticate", headers=h, node=node).status


def warm(c: escache.Cluster, user: str, password: str) -> None:
    for node in NODES:
        assert login(c, user, password, node) == 200
        assert user in c.node(node).caches[NATIVE]


def test_ca_um1_user_writes_clear_every_nodes_realm_cache(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-1")
    warm(cluster, "amy", "amy-password")
    es.security.put_user(username="amy", roles=["ops"])  # no password: the stored one stays
    assert all("amy" not in cluster.node(n).caches[NATIVE] for n in NODES)
    assert login(cluster, "amy", "amy-password", "node-2") == 200
    warm(cluster, "amy", "amy-password")
    es.security.change_password(username="amy", password="new-password")
    assert all("amy" not in cluster.node(n).caches[NATIVE] for n in NODES)
    # Without the clear, node-2 would still accept the old password from its cache.
    assert login(cluster, "amy", "amy-password", "node-2") == 401
    assert login(cluster, "amy", "new-password", "node-2") == 200
    warm(cluster, "amy", "new-password")
    es.security.disable_user(username="amy")
    assert login(cluster, "amy", "new-password", "node-0") == 401
    es.security.enable_user(username="amy")
    warm(cluster, "amy", "new-password")
    es.security.delete_user(username="amy")
    assert login(cluster, "amy", "new-password", "node-0") == 401
    assert all(len(cluster.node(n).caches[NATIVE]) == 0 for n in NODES)


def test_ca_um2_get_user_with_the_official_client(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    bob = es.security.get_user(username="bob").body
    assert bob == {
        "bob": {
            "username": "bob",
            "roles": ["ops"],
            "full_name": "Bob",
            "email": None,
            "metadata": {},
            "enabled": True,
        }
    }
    both = es.security.get_user(username=["bob", "amy", "nobody"]).body
    assert list(both) == ["bob", "amy"]
    everyone = es.security.get_user().body
    assert everyone["elastic"] == {
        "username": "elastic",
        "roles": ["superuser"],
        "full_name": None,
        "email": None,
        "metadata": {"_reserved": True},
        "enabled": True,
    }
    assert {"kibana_system", "bob", "amy"} <= set(everyone)
    assert everyone["kibana"]["metadata"]["_deprecated"] is True
    with pytest.raises(elasticsearch.NotFoundError) as e:
        es.security.get_user(username="nobody")
    assert e.value.body == {}
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.get_user(username="_system")
    assert e.value.body["error"]["reason"] == "user [_system] is internal"
    # amy has no privileges: 403 naming read_security among the privileges that grant it.
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        cluster.client(basic_auth=("amy", "amy-password")).security.get_user()
    reason = e.value.body["error"]["reason"]
    assert reason.startswith("action [cluster:admin/xpack/security/user/get] is unauthorized for user [amy]")
    assert "read_security" in reason


def test_ca_um3_delete_user(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    assert es.security.delete_user(username="amy").body == {"found": True}
    with pytest.raises(elasticsearch.NotFoundError) as e:
        es.security.delete_user(username="amy")
    assert e.value.body == {"found": False}
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.delete_user(username="elastic")
    assert e.value.body["error"]["reason"] == "user [elastic] is reserved and cannot be deleted"
    r = cluster.perform_request("DELETE", "/_security/user/bob", headers=admin(cluster), body={"x": 1})
    assert r.status == 400 and "does not support having a body" in r.body["error"]["reason"]
    assert login(cluster, "bob", "bob-password") == 200


def test_ca_um4_disable_and_enable(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    assert es.security.disable_user(username="bob").body == {}
    assert es.security.get_user(username="bob").body["bob"]["enabled"] is False
    assert login(cluster, "bob", "bob-password") == 401
    assert es.security.enable_user(username="bob").body == {}
    assert login(cluster, "bob", "bob-password") == 200
    # Not one's own account.
    with pytest.raises(elasticsearch.BadRequestError) as e:
        cluster.client(basic_auth=("bob", "bob-password")).security.disable_user(username="bob")
    assert e.value.body["error"]["reason"] == "users may not update the enabled status of their own account"
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.disable_user(username="nobody")
    assert e.value.body["error"]["reason"] == "Validation Failed: 1: only existing users can be disabled;"
    # A reserved user can be disabled (and then cannot log in).
    es.security.change_password(username="kibana_system", password="kibana-password")
    assert login(cluster, "kibana_system", "kibana-password") == 200
    es.security.disable_user(username="kibana_system")
    assert login(cluster, "kibana_system", "kibana-password") == 401
    assert es.security.get_user(username="kibana_system").body["kibana_system"]["enabled"] is False
    # POST works as PUT does.
    r = cluster.perform_request("POST", "/_security/user/kibana_system/_enable", headers=admin(cluster))
    assert r.status == 200 and login(cluster, "kibana_system", "kibana-password") == 200


def test_ca_um5_change_password(cluster: escache.Cluster) -> None:
    # Anyone may change their own password, with or without naming themselves.
    amy = cluster.client(basic_auth=("amy", "amy-password"), node="node-0")
    assert amy.security.change_password(password="amy-password-2").body == {}
    assert login(cluster, "amy", "amy-password-2") == 200
    amy2 = cluster.client(basic_auth=("amy", "amy-password-2"), node="node-0")
    amy2.security.change_password(username="amy", password="amy-password-3")
    # ... but not someone else's.
    with pytest.raises(elasticsearch.AuthorizationException):
        cluster.client(basic_auth=("amy", "amy-password-3")).security.change_password(username="bob", password="x" * 8)
    es = cluster.client(node="node-0")
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.change_password(username="bob", password="short")
    assert e.value.body["error"]["type"] == "validation_exception"
    assert e.value.body["error"]["reason"] == "Validation Failed: 1: passwords must be at least [6] characters long;"
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.change_password(username="nobody", password="long-enough")
    assert e.value.body["error"]["reason"] == "Validation Failed: 1: user must exist in order to change password;"
    r = cluster.perform_request("PUT", "/_security/user/bob/_password", headers=admin(cluster), body={"roles": []})
    assert r.status == 400
    assert r.body["error"]["reason"] == "failed to parse change password request. unexpected field [roles]"
    r = cluster.perform_request("PUT", "/_security/user/bob/_password", headers=admin(cluster), body={})
    assert r.status == 400 and r.body["error"]["reason"] == "Validation Failed: 1: password is missing;"
    # The elastic user's password too; the bootstrap password then stops working.
    es.security.change_password(username="elastic", password="new-elastic")
    assert login(cluster, "elastic", "changeme", "node-2") == 401
    assert login(cluster, "elastic", "new-elastic", "node-2") == 200
    # The new password never appears in the trace.
    assert not any("new-elastic" in str(row) for row in cluster.events.rows())


def test_ca_rm1_get_role(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    ops = es.security.get_role(name="ops").body
    assert list(ops) == ["ops"] and ops["ops"]["cluster"] == ["manage_security"]
    everything = es.security.get_role().body
    assert {"superuser", "ops"} <= set(everything)
    assert everything["superuser"]["metadata"] == {"_reserved": True}
    with pytest.raises(elasticsearch.NotFoundError) as e:
        es.security.get_role(name="nope")
    assert e.value.body == {}


def test_ca_rm2_delete_role(cluster: escache.Cluster) -> None:
    bob = cluster.client(basic_auth=("bob", "bob-password"), node="node-2")
    assert bob.security.clear_cached_realms(realms="*").body["_nodes"]["successful"] == 3
    assert len(cluster.node("node-2").caches["roles"]) == 1
    es = cluster.client(node="node-0")
    assert es.security.delete_role(name="ops").body == {"found": True}
    # node-2 dropped bob's role at once: he has no privileges left there.
    assert len(cluster.node("node-2").caches["roles"]) == 0
    with pytest.raises(elasticsearch.AuthorizationException):
        bob.security.clear_cached_realms(realms="*")
    with pytest.raises(elasticsearch.NotFoundError) as e:
        es.security.delete_role(name="ops")
    assert e.value.body == {"found": False}
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.delete_role(name="superuser")
    assert e.value.body["error"]["reason"] == "role [superuser] is reserved and cannot be deleted"


def _user_management_tool(es: elasticsearch.Elasticsearch, team: dict[str, list[str]]) -> dict[str, str]:
    """A user-management tool as one is written against the official client, unchanged: sync a team's
    roles and users, rotate their passwords, offboard who left, and clear the caches it touched."""
    es.security.put_role(name="team", cluster=["monitor"], indices=[{"names": ["team-*"], "privileges": ["read"]}])
    existing = es.security.get_user()
    passwords = {}
    for user, roles in team.items():
        passwords[user] = f"{user}-initial-pw"
        if user in existing:
            es.security.change_password(username=user, password=passwords[user])
            es.security.put_user(username=user, roles=roles)
        else:
            es.security.put_user(username=user, password=passwords[user], roles=roles, enabled=True)
    for user, doc in existing.items():
        if user not in team and not doc["metadata"].get("_reserved"):
            es.security.disable_user(username=user)
            es.security.delete_user(username=user)
    es.security.clear_cached_realms(realms="default_native", usernames=",".join(team))
    es.security.clear_cached_roles(name="team")
    assert set(es.security.get_role(name="team")) == {"team"}
    return passwords


def test_ca_um1_a_user_management_tool_runs_unchanged(cluster: escache.Cluster) -> None:
    admin_es = cluster.client(node="node-0")
    first = _user_management_tool(admin_es, {"bob": ["team"], "cyd": ["team", "ops"]})
    for user, password in first.items():
        me = cluster.client(basic_auth=(user, password), node="node-2").security.authenticate()
        assert me["username"] == user and me["authentication_realm"] == {"name": "default_native", "type": "native"}
        assert me["authentication_type"] == "realm"
    # amy left: disabled, then deleted on every node.
    assert login(cluster, "amy", "amy-password", "node-1") == 401
    with pytest.raises(elasticsearch.NotFoundError):
        admin_es.security.get_user(username="amy")
    # The second run rotates bob's password: the old one is refused on every node at once.
    for node in NODES:
        assert login(cluster, "bob", "bob-initial-pw", node) == 200
    admin_es.security.change_password(username="bob", password="rotated-pw")
    for node in NODES:
        assert login(cluster, "bob", "bob-initial-pw", node) == 401
        assert login(cluster, "bob", "rotated-pw", node) == 200
    # cluster.requests saw which realm cache each clear emptied, on every node.
    clears = [r for r in cluster.requests if r.api == "security.clear_cached_realms"]
    assert clears and {c.node for c in clears[-1].cleared} == set(NODES)
    assert {c.cache for c in clears[-1].cleared} == {NATIVE}
    roles = [r for r in cluster.requests if r.api == "security.clear_cached_roles"][-1]
    assert {c.cache for c in roles.cleared} == {"roles", "roles_negative_lookup"}
