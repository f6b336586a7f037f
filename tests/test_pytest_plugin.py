"""The pytest plugin (escache.pytest_plugin), run the way users run it: pytester starts pytest on a
test file of its own, with the plugin loaded through the ``pytest11`` entry point (no conftest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def literal(pattern: str) -> str:
    """An fnmatch pattern whose ``[`` are literal (``*`` stays a wildcard)."""
    return pattern.replace("[", "[[]")


def test_entry_point_loads_the_plugin_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import escache

        def test_fixtures(escache_cluster, escache_client):
            assert isinstance(escache_cluster, escache.Cluster)
            assert [n.name for n in escache_cluster.nodes] == ["node-0", "node-1", "node-2"]
            assert escache_client.security.authenticate()["username"] == "elastic"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.glob("conftest.py"))


def test_marker_is_registered_and_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.escache(**kwargs): configure the escache_cluster fixture*"])
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--escache-nodes*", "*--escache-setting=NAME=VALUE*", "*escache_settings*"])


def test_marker_takes_cluster_kwargs_and_service_tokens(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import escache

        # A service_tokens file as elasticsearch-service-tokens writes it (with the token's value).
        scratch = escache.Cluster(nodes=1)
        VALUE = scratch.node("node-0").service_tokens.create("elastic/fleet-server", "ci")
        TOKENS = scratch.node("node-0").service_tokens_file

        @pytest.mark.escache(nodes=["es01", "es02"], seed=7, password="s3cret-pw", cluster_name="ci",
                             settings={"xpack.security.authc.api_key.cache.ttl": "1m"},
                             service_tokens={"es02": TOKENS})
        def test_configured(escache_cluster):
            c = escache_cluster
            assert [n.name for n in c.nodes] == ["es01", "es02"]
            assert (c.seed, c.name) == (7, "ci")
            assert c.settings["xpack.security.authc.api_key.cache.ttl"] == "1m"
            assert c.client().security.authenticate()["username"] == "elastic"
            # The file is in force from the start, on es02 only.
            h = {"Authorization": f"Bearer {VALUE}"}
            ok = c.perform_request("GET", "/_security/_authenticate", headers=h, node="es02")
            assert ok.status == 200 and ok.body["username"] == "elastic/fleet-server"
            assert c.perform_request("GET", "/_security/_authenticate", headers=h, node="es01").status == 401
            assert c.now == 0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


PRECEDENCE = """
    import pytest

    def test_default(escache_cluster):
        print("NODES", len(escache_cluster.nodes), "SEED", escache_cluster.seed,
              "TTL", escache_cluster.settings.get("xpack.security.authc.api_key.cache.ttl"),
              "MAX", escache_cluster.settings.get("xpack.security.authc.api_key.cache.max_keys"))

    @pytest.mark.escache(nodes=5, settings={"xpack.security.authc.api_key.cache.ttl": "3m"})
    def test_marker(escache_cluster):
        print("NODES", len(escache_cluster.nodes), "SEED", escache_cluster.seed,
              "TTL", escache_cluster.settings.get("xpack.security.authc.api_key.cache.ttl"),
              "MAX", escache_cluster.settings.get("xpack.security.authc.api_key.cache.max_keys"))
"""


def test_precedence_marker_over_option_over_ini_over_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PRECEDENCE)
    out = pytester.runpytest("-s", "-p", "no:cacheprovider")
    out.assert_outcomes(passed=2)
    out.stdout.fnmatch_lines(["*NODES 3 SEED 0 TTL None MAX None*", "*NODES 5 SEED 0 TTL 3m MAX None*"])

    pytester.makeini(
        """
        [pytest]
        escache_nodes = 2
        escache_seed = 11
        escache_settings =
            xpack.security.authc.api_key.cache.ttl=1m
            xpack.security.authc.api_key.cache.max_keys=100
        """
    )
    out = pytester.runpytest("-s", "-p", "no:cacheprovider")
    out.stdout.fnmatch_lines(["*NODES 2 SEED 11 TTL 1m MAX 100*", "*NODES 5 SEED 11 TTL 3m MAX 100*"])

    out = pytester.runpytest(
        "-s",
        "-p",
        "no:cacheprovider",
        "--escache-nodes=4",
        "--escache-seed=12",
        "--escache-setting",
        "xpack.security.authc.api_key.cache.ttl=2m",
    )
    # Options beat ini keys; the marker beats both; settings merge name by name.
    out.stdout.fnmatch_lines(["*NODES 4 SEED 12 TTL 2m MAX 100*", "*NODES 5 SEED 12 TTL 3m MAX 100*"])


def test_closest_marker_wins_and_markers_merge(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.escache(nodes=2, seed=3)

        @pytest.mark.escache(nodes=4)
        class TestClass:
            @pytest.mark.escache(seed=9)
            def test_it(self, escache_cluster):
                assert (len(escache_cluster.nodes), escache_cluster.seed) == (4, 9)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_bad_marker_and_bad_option_fail_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.escache(nodez=3)
        def test_typo(escache_cluster):
            pass
        """
    )
    out = pytester.runpytest("-p", "no:cacheprovider")
    out.assert_outcomes(errors=1)
    out.stdout.fnmatch_lines([literal(x) for x in ["*@pytest.mark.escache: unknown argument(s) ['nodez']*"]])
    out = pytester.runpytest("-p", "no:cacheprovider", "--escache-setting", "no-equals-sign")
    out.stderr.fnmatch_lines([literal(x) for x in ["*--escache-setting takes NAME=VALUE, got [no-equals-sign]*"]])
    assert out.ret == pytest.ExitCode.USAGE_ERROR
    out = pytester.runpytest("-p", "no:cacheprovider", "--escache-seed=abc")
    out.stderr.fnmatch_lines([literal(x) for x in ["*--escache-seed must be an integer, got [abc]*"]])


def test_each_test_gets_a_fresh_cluster_and_the_shared_one_is_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        SEEN = []

        def test_first(escache_cluster, escache_shared_cluster, escache_session_cluster):
            assert escache_shared_cluster is escache_session_cluster
            for c in (escache_cluster, escache_shared_cluster):
                c.client().security.create_api_key(name="k")
                c.advance("1h")
            SEEN.extend([escache_cluster, escache_shared_cluster])

        def test_second(escache_cluster, escache_shared_cluster):
            assert escache_cluster is not SEEN[0]
            assert escache_shared_cluster is SEEN[1]
            # Reset: no keys, no requests, time 0.
            assert escache_shared_cluster.now == 0
            assert len(escache_shared_cluster.requests) == 0
            assert not escache_shared_cluster.security_index.exists

        def test_session_cluster_is_not_reset(escache_session_cluster):
            assert escache_session_cluster.now == 0  # reset by test_second, untouched since
            escache_session_cluster.advance("1s")

        def test_session_cluster_keeps_state(escache_session_cluster):
            assert escache_session_cluster.now == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_shared_server_keeps_serving_across_resets(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        URLS = []

        def test_one(escache_shared_server, escache_shared_cluster):
            es = escache_shared_server.client()
            es.security.create_api_key(name="k")
            URLS.append(escache_shared_server.urls)

        def test_two(escache_shared_server, escache_shared_cluster):
            assert escache_shared_server.urls == URLS[0]
            es = escache_shared_server.client()
            assert es.security.get_api_key()["api_keys"] == []
            assert escache_shared_cluster.requests[0].api == "security.get_api_key"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_shared_cluster_refuses_a_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.escache(nodes=1)
        def test_it(escache_shared_cluster):
            pass
        """
    )
    out = pytester.runpytest("-p", "no:cacheprovider")
    out.assert_outcomes(errors=1)
    out.stdout.fnmatch_lines(["*escache_shared_cluster is configured once per session*"])


def test_server_and_factory(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_server(escache_server, escache_cluster):
            assert len(escache_server.urls) == 3 and escache_server.ca_certs is None
            escache_server.client().security.authenticate()
            assert escache_cluster.requests[0].api == "security.authenticate"

        @pytest.mark.escache(tls=True, nodes=1)
        def test_tls_server(escache_server):
            assert escache_server.urls[0].startswith("https://")
            assert escache_server.client().info()["cluster_name"] == "escache"

        def test_factory(escache_factory):
            a = escache_factory(nodes=1)
            b = escache_factory(nodes=["x", "y"], seed=2)
            assert [n.name for n in a.nodes] == ["node-0"] and b.seed == 2
            srv = escache_factory.serve(b)
            assert srv.client().security.authenticate()["username"] == "elastic"
            with pytest.raises(TypeError, match="nodez"):
                escache_factory(nodez=1)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--escache-seed=5").assert_outcomes(passed=3)


def test_async_client_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import elasticsearch

        def test_async(escache_async_client, escache_cluster):
            async def main():
                assert isinstance(escache_async_client, elasticsearch.AsyncElasticsearch)
                key = await escache_async_client.security.create_api_key(name="async")
                await escache_async_client.security.clear_api_key_cache(ids=key["id"])
                await escache_async_client.close()
                return key["id"]

            key_id = asyncio.run(main())
            assert [r.api for r in escache_cluster.requests] == [
                "security.create_api_key", "security.clear_api_key_cache"]
            assert escache_cluster.requests[1].params == {"ids": key_id}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_assertion_failures_list_the_requests_made(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import escache

        def test_wrong_ids(escache_cluster, escache_client):
            key = escache_client.security.create_api_key(name="ci")
            escache_client.security.clear_api_key_cache(ids=key["id"])
            escache.assert_called(escache_cluster, "security.clear_api_key_cache", ids=["another-id"])
        """
    )
    out = pytester.runpytest("-p", "no:cacheprovider")
    out.assert_outcomes(failed=1)
    out.stdout.fnmatch_lines(
        [
            literal(line)
            for line in [
                "*EscacheAssertionError: expected a call to security.clear_api_key_cache(ids=['another-id']), found 0",
                "*2 requests made:",
                "*1. PUT /_security/api_key -> 200  [security.create_api_key]  name='ci'  on node-0 as elastic (reserved)",
                "*2. POST /_security/api_key/*/_clear_cache -> 200  [security.clear_api_key_cache]  ids=*",
            ]
        ]
    )


def test_the_readme_example_passes_as_written(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your tooling", 1)[1]
    (example,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    pytester.makepyfile(test_rotate=example)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
