"""`docs/rules.md` is the project's rule book. Every rule id that code, tests, the README and the
examples cite must name exactly one entry there, every entry must name its Elasticsearch source and
the tests that check it, and every test it names must exist (issue 8, point 28)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
SCANNED = [ROOT / "src", ROOT / "tests", ROOT / "python", ROOT / "examples", ROOT / "README.md", ROOT / "benches"]
SUFFIXES = {".rs", ".py", ".pyi", ".toml", ".md"}
SELF = Path(__file__).resolve()

# A citation: an optional book prefix, then a rule id. Not part of a longer word, a percent-escape
# (`%C3`), a `\u{A0}` escape or a hyphenated word (`a_b-C9`); `R6.1-R6.9` counts its first id.
CITATION = re.compile(
    r"(?<![\w%{\\.-])(?:(AK|ST)-)?(SC\d{1,2}|R\d{1,2}(?:\.\d{1,2})?|S\d{1,2}|[TVACIMF]\d{1,2})(?!\w)(?!\.\d)"
)
ENTRY = re.compile(r"^### ((?:AK|ST|CA|API)-[A-Z]+\d+(?:\.\d+)?): ", re.M)
# The books of issue 15 (`CA-`, `API-`): always cited qualified, `CA-RC2`, `API-HP2`.
QUALIFIED_CITATION = re.compile(r"(?<![\w-])(?:CA|API)-[A-Z]{1,3}\d{1,2}(?!\w)")
TEST_REF = re.compile(r"`([\w/.]+\.(?:rs|py))::(\w+)`")


def entries() -> dict[str, str]:
    text = RULES.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    heads = list(ENTRY.finditer(text))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.end() : end].split("\n## ", 1)[0]
        assert m.group(1) not in found, f"{m.group(1)} has two entries"
        found[m.group(1)] = body
    return found


def resolve(book: str | None, rid: str) -> str | None:
    """The qualified id a citation stands for, by the convention of docs/rules.md ("How ids are
    cited"); None when a bare id is ambiguous."""
    if book:
        return f"{book}-{rid}"
    if rid.startswith("SC") or re.fullmatch(r"R\d+", rid) or re.fullmatch(r"S[1-4]", rid):
        return None
    return f"AK-{rid}" if rid[0] in "RS" else f"ST-{rid}"


def citations():
    for base in SCANNED:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.suffix in SUFFIXES)
        for path in files:
            if path.resolve() == SELF or "target" in path.parts or ".venv" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                for m in CITATION.finditer(line):
                    yield path.relative_to(ROOT), n, m.group(0), resolve(m.group(1), m.group(2))
                for m in QUALIFIED_CITATION.finditer(line):
                    yield path.relative_to(ROOT), n, m.group(0), m.group(0)


def test_issue8_d28_every_cited_rule_id_resolves_in_docs_rules():
    known = entries()
    cited = list(citations())
    bad = [
        f"{p}:{n}: {tok}" + (" (ambiguous: qualify it, see docs/rules.md)" if q is None else " (no entry)")
        for p, n, tok, q in cited
        if q not in known
    ]
    assert not bad, "rule ids without a single entry in docs/rules.md:\n" + "\n".join(bad)
    # The scan is not vacuous: the code cites rules of every book.
    books = {q.split("-")[0] for *_, q in cited if q}
    assert books == {"AK", "ST", "CA", "API"} and len(cited) > 200


def test_issue8_d28_every_entry_names_its_source_and_existing_tests():
    missing = []
    for rid, body in entries().items():
        if "- Source: " not in body:
            missing.append(f"{rid}: no Elasticsearch source")
        refs = TEST_REF.findall(body.split("- Tests: ", 1)[1]) if "- Tests: " in body else []
        if not refs:
            missing.append(f"{rid}: no test")
        for path, name in refs:
            source = ROOT / path
            pattern = rf"^\s*(?:async )?fn {name}\b|^\s*def {name}\b"
            if not source.is_file() or not re.search(pattern, source.read_text(encoding="utf-8"), re.M):
                missing.append(f"{rid}: {path}::{name} does not exist")
    assert not missing, "\n".join(missing)


def test_issue8_d28_both_books_are_complete():
    known = set(entries())
    ak = {f"AK-R{s}.{r}" for s, n in ((2, 7), (3, 8), (4, 5), (5, 9), (6, 9)) for r in range(1, n + 1)}
    ak |= {"AK-R1.1"} | {f"AK-R{s}" for s in range(1, 7)} | {f"AK-S{i}" for i in range(1, 21)}
    st = {
        f"ST-{p}{i}"
        for p, n in (
            ("T", 4),
            ("V", 1),
            ("A", 3),
            ("S", 4),
            ("C", 4),
            ("I", 4),
            ("R", 5),
            ("M", 5),
            ("F", 4),
            ("SC", 20),
        )
        for i in range(1, n + 1)
    }
    assert ak | st <= known, sorted((ak | st) - known)


def test_issue8_d28_nothing_points_at_material_users_do_not_have():
    pattern = re.compile(r"shared/spec|research notes|DESIGN\.md", re.I)  # all outside the repository
    offenders = []
    for base in [*SCANNED, ROOT / "docs"]:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.suffix in SUFFIXES)
        for path in files:
            if path.resolve() == SELF or "target" in path.parts or ".venv" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders, "cite docs/rules.md instead:\n" + "\n".join(offenders)


def test_resolve_follows_the_documented_convention():
    assert resolve(None, "R2.7") == "AK-R2.7" and resolve(None, "S16") == "AK-S16"
    assert resolve(None, "C3") == "ST-C3" and resolve(None, "V1") == "ST-V1"
    assert resolve(None, "S2") is None and resolve(None, "R2") is None and resolve(None, "SC9") is None
    assert resolve("ST", "R2") == "ST-R2" and resolve("AK", "S4") == "AK-S4"
    found = [m.group(0) for m in CITATION.finditer("R6.1-R6.9, %C3%A9, \\u{A0}, a_b-C9, ST-S2, (C3), A002")]
    assert found == ["R6.1", "ST-S2", "C3"]
