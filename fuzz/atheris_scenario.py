"""Fuzz target (atheris): scenario files, as TOML text, through ``escache.load_scenario``.

Oracle: whatever the text, ``load_scenario`` either builds a cluster and a simulation or raises an
``escache.EscacheError`` (a typed error naming the bad table or field); any other exception
(``TypeError``, ``KeyError``, ``RecursionError``, a Rust ``PanicException``, ...) is a finding and
stops the fuzzer with the input saved.

Inputs are half raw text and half scenarios generated from the fuzzer's bytes with the tables and
fields escache reads, so that most of them get past the TOML parser. A trailing newline keeps every
input TOML text (a one-line string ending in ``.toml`` would be read as a path).

Run it through ``fuzz/run.sh`` (which installs atheris and escache into ``fuzz/.venv``), or by hand:
``python fuzz/atheris_scenario.py fuzz/work/atheris_scenario fuzz/corpus/atheris_scenario -max_total_time=60``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["escache"]):
    import escache

# fmt: off
WORDS = [
    "name", "kind", "population", "keys", "tokens", "rate", "popularity", "node_choice",
    "wrong_secret_share", "create_over", "start", "stop", "creator_node", "expiration", "account",
    "source", "nodes", "node", "action", "workload", "top", "random", "indices", "all", "method",
    "path", "body", "authorization", "content", "cache", "health", "value", "zipf", "hotspot",
    "fraction", "probability", "uniform", "round_robin", "sticky", "api_key", "service_token", "index",
    "file", "elastic/fleet-server", "node-0", "node-1", "node-2", "rest", "invalidate_api_keys",
    "delete_service_tokens", "remove_file_tokens", "set_service_tokens_file", "clear_cache",
    "stop_node", "start_node", "partition", "heal", "drop_clear_cache", "index_health",
    "index_delete", "index_close", "index_open", "index_recreate", "index_up_to_date", "green", "red",
    "GET", "POST", "/_security/api_key", "1s", "5m", "-1", "0", "10m", "100ms", "at", "every",
]
SETTINGS = [
    "xpack.security.authc.api_key.enabled", "xpack.security.authc.api_key.cache.ttl",
    "xpack.security.authc.api_key.cache.max_keys", "xpack.security.authc.api_key.cache.hash_algo",
    "xpack.security.authc.api_key.doc_cache.ttl", "xpack.security.authc.api_key.hashing.algorithm",
    "xpack.security.authc.service_token.cache.ttl", "xpack.security.authc.service_token.cache.max_tokens",
    "xpack.security.authc.service_token.cache.hash_algo",
    "xpack.security.authc.service_token_hashing.algorithm", "node.processors",
]
# fmt: on
TABLES = {
    "cluster": ["nodes", "name", "seed", "password", "trace"],
    "simulation": ["seed", "duration", "sample_interval", "cost_model"],
}


def word(fdp: atheris.FuzzedDataProvider) -> str:
    if fdp.ConsumeProbability() < 0.85:
        i: int = fdp.ConsumeIntInRange(0, len(WORDS) - 1)
        return WORDS[i]
    text: str = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12))
    return text


def value(fdp: atheris.FuzzedDataProvider, depth: int = 2) -> object:
    choice = fdp.ConsumeIntInRange(0, 8 if depth > 0 else 6)
    if choice == 0:
        return fdp.ConsumeBool()
    if choice == 1:
        return fdp.ConsumeIntInRange(0, 50)
    if choice == 2:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 10))
    if choice == 3:
        return fdp.ConsumeRegularFloat() if fdp.ConsumeBool() else fdp.ConsumeFloat()
    if choice in (4, 5, 6):
        return word(fdp)
    if choice == 7:
        return [value(fdp, depth - 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {word(fdp): value(fdp, depth - 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def table(fdp: atheris.FuzzedDataProvider, fields: list[str]) -> str:
    lines = []
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        key = fields[fdp.ConsumeIntInRange(0, len(fields) - 1)] if fdp.ConsumeBool() else word(fdp)
        lines.append(f"{json.dumps(key)} = {toml_value(value(fdp))}")
    return "\n".join(lines)


def scenario(fdp: atheris.FuzzedDataProvider) -> str:
    """A scenario with the tables escache reads (keys unique per table, so mostly valid TOML)."""
    parts = []
    if fdp.ConsumeBool():
        parts.append(f"name = {toml_value(value(fdp, 0))}")
    for name, fields in TABLES.items():
        if fdp.ConsumeBool():
            parts.append(f"[{name}]\n{table(fdp, fields)}")
    if fdp.ConsumeBool():
        parts.append("[settings]\n" + table(fdp, SETTINGS))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        parts.append("[[workloads]]\n" + table(fdp, WORDS))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        parts.append("[[actions]]\n" + table(fdp, WORDS))
    return "\n".join(parts)


# Exception class names to tolerate while a finding is being fixed (fuzz/README.md); none by default.
SKIP = {name.strip() for name in os.environ.get("ESCACHE_FUZZ_SKIP", "").split(",") if name.strip()}


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicodeNoSurrogates(len(data)) if fdp.ConsumeBool() else scenario(fdp)
    try:
        escache.load_scenario(text + "\n", seed=None)
    except escache.EscacheError:
        pass
    except Exception as e:  # the oracle: anything else is a finding
        if type(e).__name__ not in SKIP:
            raise


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
