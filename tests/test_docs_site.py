"""The documentation site (``mkdocs.yml``, ``docs/``): the trace page documents the schemas the code
produces, every page is in the navigation and every navigation entry has its page, the guides' code
runs as written, and the README says where the docs are and how to build them. The strict build
itself is the ``docs`` gate of ``scripts/check``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import escache
from escache.simulation import TRACE_SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TRACE_PAGE = DOCS / "trace.md"
CACHES = (
    "api_key_auth",
    "api_key_doc",
    "api_key_role_descriptors",
    "file_service_account_token",
    "index_service_account_token",
    "reserved_realm_users",
    "native_realm_users",
    "file_realm_users",
    "roles",
    "roles_negative_lookup",
    "application_privileges",
    "application_names",
)


def documented_types(page: str) -> dict[str, str]:
    """``| `column` | `type` ... |`` rows of a page: column name to the type cell."""
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `([\w{}]+)` \| ([^|]+) \|", page, re.M)}


def arrow_type(field) -> str:
    """A field's type as the page writes it (``dictionary<int32, string>``; ``, null`` when nullable)."""
    pa = pytest.importorskip("pyarrow")
    t = field.type
    text = f"`dictionary<{t.index_type}, {t.value_type}>`" if pa.types.is_dictionary(t) else f"`{t}`"
    return text + (", null" if field.nullable else "")


def page_section(page: str, heading: str) -> str:
    return page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_trace_page_documents_every_trace_column_with_its_arrow_type_and_the_version():
    pa = pytest.importorskip("pyarrow")
    page = TRACE_PAGE.read_text(encoding="utf-8")
    c = escache.Cluster(nodes=1, seed=0)
    c.perform_request("GET", "/")
    schema = pa.table(c.events).schema
    documented = documented_types(page_section(page, "The event trace"))
    assert list(documented) == schema.names == list(escache.EventTrace.SCHEMA)
    for field in schema:
        assert documented[field.name] == arrow_type(field), field.name
    assert f"The trace schema version is **{TRACE_SCHEMA_VERSION}**" in page
    assert schema.metadata == {b"escache.trace_schema_version": str(TRACE_SCHEMA_VERSION).encode()}
    # Every kind and cache the code names is on the page.
    for column in ("kind", "cache"):
        for value in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", escache.EventTrace.SCHEMA[column]):
            assert f"`{value}`" in page, value


def test_the_trace_page_documents_every_timeline_column_with_its_arrow_type():
    pa = pytest.importorskip("pyarrow")
    page = TRACE_PAGE.read_text(encoding="utf-8")
    sim = escache.Simulation(escache.Cluster(nodes=1, seed=0), seed=0)
    sim.add_workload(name="keys", population=2, rate=2)
    schema = pa.table(sim.run("20s").timeline).schema
    documented = documented_types(page_section(page, "The timeline"))
    seen = set()
    for field in schema:
        name = field.name
        # The longest cache name first: `roles_negative_lookup_hits` is not a `roles` column.
        for cache in sorted(CACHES, key=len, reverse=True):
            if name.startswith(cache + "_"):
                name = "{cache}" + name[len(cache) :]
                break
        assert documented.get(name) == arrow_type(field), field.name
        seen.add(name)
    assert seen == set(documented)
    assert all(f"`{cache}`" in page for cache in CACHES)


def nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_nav_entry_has_its_page_and_every_page_is_in_the_nav():
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with the docs extra (mkdocs)")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = nav_pages(config["nav"])
    assert len(pages) == len(set(pages))
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml's nav names pages that docs/ does not have: {missing}"
    on_disk = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    omitted = [p for p in on_disk if p not in pages]
    assert not omitted, f"pages missing from mkdocs.yml's nav (add each where it belongs): {omitted}"
    # The pages other work writes keep their exact names.
    for page in ("scenarios.md", "rules.md", "apis.md", "guides/notebooks.md", "guides/pytest.md", "trace.md"):
        assert page in pages


@pytest.mark.parametrize("page", ["getting-started.md", "guides/scripts.md"])
def test_the_guides_python_runs_as_written(page, tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    monkeypatch.chdir(tmp_path)  # a guide may write files (trace.jsonl)
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    assert blocks
    ns: dict = {}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), ns)  # noqa: S102 - the docs' own examples
    if page == "getting-started.md":
        assert ns["resp"].status == 200  # the revoked key, served from node-2's doc cache
        assert ns["report"].timeline.to_pandas().shape[0] == len(ns["report"].timeline) > 0
    else:
        assert ns["report"].stale_acceptances > 0  # node-2 missed the broadcast
        assert (tmp_path / "trace.jsonl").stat().st_size > 0


def test_the_readme_links_the_docs_and_says_how_to_build_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    for needed in ("pip install '.[docs]'", "mkdocs serve", "mkdocs build --strict", "(docs/trace.md)"):
        assert needed in section, needed
    # The README keeps its two commands.
    two = readme.split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    assert "pip install . && escache demo" in two and "bash scripts/check" in two


def test_the_docs_gate_builds_the_site_strictly():
    listed = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check"), "--list"], capture_output=True, text=True, check=True
    ).stdout
    gates = dict(line.split(None, 1) for line in listed.splitlines())
    assert "mkdocs build --strict" in gates["docs"]
