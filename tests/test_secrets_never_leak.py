"""Secrets stay secret (issue 8, point 3): no password, API key secret or service token secret appears in
any output escache produces, in any encoding, except the create response that hands it out.

The outputs checked: REST response bodies and headers, the simulation report (dict, JSON and the text
of ``format_report``), its timeline, the event trace (rows, JSON lines), the ``repr()`` and ``str()``
of every public object and its notebook HTML (``_repr_html_``), explanations, every exception message, log records, and ``escache run``'s stdout, stderr,
JSON report and trace. The encodings checked: the secret itself, ``id:secret`` / ``name:secret`` /
``user:password``, and the standard and URL-safe base64 of each, with and without padding.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escache
from escache.cli import main
from escache.simulation import format_report, load_scenario

FLEET = "elastic/fleet-server"
# Passwords: long, and never all digits (a run of zeros is in every timestamp), so that a chance match
# in an id, a number or a digest is out of the question.
PASSWORDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!", min_size=10, max_size=22
).map(lambda t: f"Pw{t}!")
TOKEN_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=2, max_size=12).map(lambda t: f"t{t}")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden_forms(secret: str, principals: list[str]) -> set[str]:
    """The secret, ``principal:secret``, and the standard and URL-safe base64 of each, padded or not."""
    plain = {secret, *(f"{p}:{secret}" for p in principals)}
    forms = set(plain)
    for text in plain:
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            e = encode(text.encode()).decode()
            forms |= {e, e.rstrip("=")}
    return forms


class Outputs:
    """Every text escache hands back, with where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, value: Any) -> None:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        elif not isinstance(value, str):
            value = json.dumps(value, default=repr, ensure_ascii=False)
        self.texts.append((where, value))

    def objects(self, where: str, *objs: Any) -> None:
        for o in objs:
            self.add(f"{where} repr", repr(o))
            self.add(f"{where} str", str(o))
            html = getattr(o, "_repr_html_", None)  # the notebook display
            if html is not None:
                self.add(f"{where} html", html())

    def response(self, where: str, resp: Any) -> None:
        self.add(f"{where} status", str(resp.status))
        self.add(f"{where} body", resp.raw)
        self.add(f"{where} headers", resp.headers)
        self.objects(where, resp)

    def call(self, where: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Calls ``fn``; an exception's message (and its notes and cause) becomes an output."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - every exception is an output to check
            self.add(f"{where} raised {type(e).__name__}", f"{e!r} {e} {getattr(e, '__notes__', '')} {e.__cause__!r}")
            return None

    def leaks(self, secrets: dict[str, set[str]]) -> list[str]:
        found = []
        for where, text in self.texts:
            for name, forms in secrets.items():
                for form in forms:
                    if form in text:
                        found.append(f"{name} (as {form!r}) in {where}: {text[:300]!r}")
        return found


def create_api_key(c: escache.Cluster, auth: str, name: str) -> dict[str, Any]:
    resp = c.perform_request("POST", "/_security/api_key", headers={"Authorization": auth}, body={"name": name})
    assert resp.status == 200, resp.body
    return resp.body


def create_index_token(c: escache.Cluster, auth: str, name: str) -> str:
    resp = c.perform_request(
        "POST", f"/_security/service/{FLEET}/credential/token/{name}", headers={"Authorization": auth}
    )
    assert resp.status == 200, resp.body
    return resp.body["token"]["value"]


def token_secret(bearer: str) -> str:
    """The secret in a service token's bearer string: base64 of 4 header bytes (version 0.1, type 0.1)
    then ``elastic/fleet-server/name:secret``."""
    padded = bearer + "=" * (-len(bearer) % 4)
    raw = base64.b64decode(padded, altchars=b"-_")
    return raw[4:].split(b":", 1)[1].decode()


@settings(
    max_examples=int(os.environ.get("ESCACHE_LEAK_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    password=PASSWORDS,
    user_password=PASSWORDS,
    token_name=TOKEN_NAMES,
    file_token_name=TOKEN_NAMES,
    traffic=st.lists(st.integers(0, 10_000), min_size=4, max_size=16),
)
def test_issue8_d03_no_secret_appears_in_any_output(
    tmp_path, caplog, seed, password, user_password, token_name, file_token_name, traffic
):
    caplog.set_level(logging.DEBUG)
    out = Outputs()
    c = escache.Cluster(nodes=2, seed=seed, password=password)
    admin = c.basic_auth_header()

    # Credentials handed out (their create responses are the one place a secret may appear).
    key = create_api_key(c, admin, "k")
    bearer = create_index_token(c, admin, token_name)
    file_bearer = c.node("node-0").service_tokens.create(FLEET, f"f{file_token_name}")
    resp = c.perform_request(
        "PUT",
        "/_security/user/bob",
        headers={"Authorization": admin},
        body={"password": user_password, "roles": ["superuser"]},
    )
    out.response("put user", resp)
    secrets = {
        "cluster password": forbidden_forms(password, ["elastic"]),
        "user password": forbidden_forms(user_password, ["bob"]),
        "API key secret": forbidden_forms(key["api_key"], [key["id"]]),
        "API key encoded": forbidden_forms(key["encoded"], []),
        "index token": forbidden_forms(token_secret(bearer), [f"{FLEET}/{token_name}"]) | forbidden_forms(bearer, []),
        "file token": forbidden_forms(token_secret(file_bearer), [f"{FLEET}/f{file_token_name}"])
        | forbidden_forms(file_bearer, []),
    }

    # REST traffic: right and wrong credentials, malformed headers, failing and succeeding calls.
    wrong = key["api_key"][::-1]
    headers = [
        admin,
        f"ApiKey {key['encoded']}",
        f"ApiKey {b64(key['id'] + ':' + wrong)}",
        f"ApiKey {key['id']}:{key['api_key']}",  # not base64
        f"Bearer {bearer}",
        f"Bearer {file_bearer}",
        f"Bearer {bearer[:-2]}xx",
        c.basic_auth_header("bob", user_password),
        c.basic_auth_header("elastic", password + "x"),
        c.basic_auth_header("bob", password),
        f"Basic {password}",
        f"basic   {b64('elastic:' + password)}",
        password,
        f"{key['id']}:{key['api_key']}",
    ]
    requests = [
        ("GET", "/_security/_authenticate", None),
        ("GET", "/_nope", None),
        ("POST", "/_security/api_key/_clear_cache", None),
        ("POST", f"/_security/api_key/{key['id']}/_clear_cache", None),
        ("GET", f"/_security/service/{FLEET}/credential", None),
        ("POST", f"/_security/service/{FLEET}/credential/token/{token_name}/_clear_cache", None),
        ("GET", "/_security/api_key", None),
        ("PUT", "/_security/user/bob", {"password": user_password, "bogus": 1}),
        ("POST", "/_security/user/bob/_password", {"password": user_password[:5]}),
        ("POST", "/_security/api_key", {"name": "other"}),  # a create that fails (bad auth) or hands out a new key
        ("DELETE", "/_security/api_key", {"ids": [key["id"]]}),
        ("POST", "/_security/api_key/grant", {"grant_type": "password", "username": "bob", "password": user_password}),
    ]
    for i, n in enumerate(traffic):
        method, path, body = requests[n % len(requests)]
        auth = headers[(n // len(requests)) % len(headers)]
        node = ("node-0", "node-1")[n % 2]
        resp = out.call(
            f"request {i}", c.perform_request, method, path, headers={"Authorization": auth}, body=body, node=node
        )
        if resp is None:
            continue
        if (method, path) == ("POST", "/_security/api_key") and resp.status == 200:
            out.add("create response html", resp._repr_html_())  # shown redacted in a notebook
            continue  # a create response: it hands out its own new secret
        out.response(f"{method} {path} with {auth[:6]}...", resp)

    # A simulation: its own credentials, REST actions carrying the secrets, failing actions.
    sim = escache.Simulation(c, seed=seed)
    sim.add_workload(name="keys", population=4, rate=20, wrong_secret_share=0.3)
    sim.add_workload(name="tokens", kind="service_token", population=2, rate=10, wrong_secret_share=0.3)
    for j, auth in enumerate(headers[:8]):
        sim.schedule(
            0.5 + j * 0.25, "rest", method="GET", path=("/_nope", "/_security/_authenticate")[j % 2], authorization=auth
        )
    sim.schedule(
        "1s", "rest", method="PUT", path="/_security/user/carol", body={"password": user_password, "bad": True}
    )
    sim.schedule("2s", "clear_cache", cache="api_key", node="node-1")
    sim.schedule("2s", "drop_clear_cache", nodes=["node-1"])
    sim.schedule("3s", "invalidate_api_keys", workload="keys", top=2, node="node-0")
    sim.schedule("3s", "set_service_tokens_file", nodes=["node-1"], content="not a token file")
    report = sim.run("5s")
    out.add("report", report)
    out.add("report json", report.to_json())
    out.add("format_report", format_report(report, title="t", description="d"))
    out.add("timeline", sim.timeline())
    out.objects("report object", report, report.timeline, report.plot, *report.nodes.values(), *report.explain_stale())
    out.add("trace rows", c.events.rows())
    jsonl = io.StringIO()
    c.events.to_jsonl(jsonl)
    out.add("trace jsonl", jsonl.getvalue())
    out.add("trace arrow", c.events.to_arrow().to_pylist())  # the core's columns, not the rows
    out.add("timeline table", list(report.timeline))
    out.objects(
        "object",
        c,
        sim,
        c.events,
        c.security_index,
        *c.nodes,
        *(n.caches for n in c.nodes),
        *(n.caches[name] for n in c.nodes for name in n.caches),
    )
    out.objects("service tokens tool", c.node("node-0").service_tokens)
    out.add("tool list", out.call("tool list", c.node("node-0").service_tokens.list))
    out.add("service_tokens_file", c.node("node-0").service_tokens_file)  # hashes, never secrets

    # Calls that raise: a secret in an argument must not come back in the message.
    out.call("schedule bad field", sim.schedule, "1s", "rest", path="/", authorization=admin, colour=password)
    out.call("schedule bad auth type", sim.schedule, "1s", "rest", path="/", authorization=[admin])
    out.call("tool create again", c.node("node-0").service_tokens.create, FLEET, f"f{file_token_name}")
    out.call("tool bad principal", c.node("node-0").service_tokens.create, "elastic/nobody", "x")
    out.call("load scenario", load_scenario, f"[cluster]\npassword = '{password}'\ncolour = 1\n")

    # `escache run` on a scenario whose REST actions carry the password, one of which fails.
    scenario = tmp_path / f"s{seed}.toml"
    scenario.write_text(
        f"""
[cluster]
nodes = 2
password = "{password}"
seed = {seed}
[simulation]
duration = "4s"
[[workloads]]
name = "w"
population = 3
rate = 10
[[actions]]
at = "1s"
action = "rest"
method = "GET"
path = "/_nope"
[[actions]]
at = "2s"
action = "rest"
method = "PUT"
path = "/_security/user/dave"
body = '{{"password": "{user_password}", "nope": 1}}'
authorization = "{c.basic_auth_header("elastic", password)}"
[[actions]]
at = "3s"
action = "rest"
method = "GET"
path = "/_security/_authenticate"
authorization = "Basic {b64("elastic:" + password + "x")}"
""",
        encoding="utf-8",
    )
    report_path, trace_path = tmp_path / f"r{seed}.json", tmp_path / f"t{seed}.jsonl"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", str(scenario), "--json", str(report_path), "--trace", str(trace_path), "--progress"])
    assert code == 0, stderr.getvalue()
    out.add("escache run stdout", stdout.getvalue())
    out.add("escache run stderr", stderr.getvalue())
    out.add("escache run report", report_path.read_text(encoding="utf-8"))
    out.add("escache run trace", trace_path.read_text(encoding="utf-8"))
    cluster2, sim2, _ = load_scenario(scenario)
    out.add("scenario sim report", sim2.run("4s"))
    out.objects("scenario objects", cluster2, sim2)

    out.add("log records", [f"{r.name} {r.getMessage()}" for r in caplog.records])
    caplog.clear()
    # The checks see real outputs (not an empty list that could not fail).
    assert any(w.startswith("report json") for w, _ in out.texts) and len(out.texts) > 40
    assert report["action_errors"], "the failing actions were recorded"
    leaks = out.leaks(secrets)
    assert not leaks, "\n".join(leaks[:10])


def test_issue8_d03_the_leak_check_finds_a_planted_secret():
    """The detector itself: each encoding of a planted secret is found."""
    out = Outputs()
    secret, principal = "pl4nted-s3cret", "elastic"
    forms = forbidden_forms(secret, [principal])
    for planted in (
        secret,
        b64(f"{principal}:{secret}"),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    ):
        out.texts = [("x", f"prefix {planted} suffix")]
        assert out.leaks({"s": forms})
    out.texts = [("x", "nothing here")]
    assert not out.leaks({"s": forms})


def test_issue8_d03_a_non_ascii_authorization_header_leaks_nothing(capfd):
    """A header that Rust could slice inside a character (issue 8, point 2) gets an answer, and neither
    the answer, an exception nor stderr carries the credentials that follow it."""
    password = "n0n-4sc11-pa55w0rd"
    c = escache.Cluster(nodes=1, seed=0, password=password)
    secrets = {"cluster password": forbidden_forms(password, ["elastic"])}
    out = Outputs()
    for header in ("abcdé " + c.basic_auth_header(), "Basié " + c.basic_auth_header(), "ApiKeyé " + password):
        resp = out.call(
            "non-ASCII header", c.perform_request, "GET", "/_security/_authenticate", headers={"Authorization": header}
        )
        if resp is not None:
            out.response("non-ASCII header", resp)
    captured = capfd.readouterr()
    out.add("stdout", captured.out)
    out.add("stderr", captured.err)
    leaks = out.leaks(secrets)
    assert not leaks, "\n".join(leaks[:5])
