"""The README's cluster snippets run, and where a line's comment shows a value (`# 401`, `# (401, 200)`,
`# {'name': 'ci', ...}` written out in full), that is the value the line really gives (issue 8,
point 27: a line marked `# 401` that sent no request)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def comments(source: str) -> dict[int, str]:
    return {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }


def shown_value(comment: str) -> tuple[bool, Any]:
    """The literal a comment starts with (`401: why` shows 401), if it is one."""
    for text in (comment, comment.split(": ", 1)[0]):
        try:
            return True, ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue
    return False, None


def run_checking(source: str) -> list[tuple[int, Any, Any]]:
    """Runs the snippet statement by statement; returns (line, shown, actual) for every expression
    statement whose comment shows a literal."""
    notes = comments(source)
    scope: dict[str, Any] = {}
    checked = []
    body = ast.parse(source).body
    for i, stmt in enumerate(body):
        code = ast.Module(body=[stmt], type_ignores=[])
        last_on_line = i + 1 == len(body) or body[i + 1].lineno != stmt.end_lineno  # `a(); b()  # shows b()`
        if isinstance(stmt, ast.Expr) and last_on_line:
            value = eval(compile(ast.Expression(stmt.value), "README.md", "eval"), scope)  # noqa: S307 - the README's own code
            ok, shown = shown_value(notes.get(stmt.end_lineno, ""))
            if ok:
                checked.append((stmt.end_lineno, shown, value))
        elif isinstance(stmt, ast.Expr):
            eval(compile(ast.Expression(stmt.value), "README.md", "eval"), scope)  # noqa: S307
        else:
            exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own code
    return checked


def test_issue8_d27_readme_cluster_snippets_show_what_they_run():
    blocks = [b for b in python_blocks() if "escache.Cluster(" in b and "Simulation" not in b]
    # The API key session, the service token session, the realm caches session and the version profile.
    assert len(blocks) == 4
    all_checked = []
    for block in blocks:
        checked = run_checking(block)
        wrong = [(line, shown, actual) for line, shown, actual in checked if shown != actual]
        assert not wrong, wrong
        all_checked += checked
    # The service token session's 401 line sends its request; the API key session's status lines too.
    assert [shown for _, shown, _ in all_checked].count(401) >= 2
    assert (401, 200) in [shown for _, shown, _ in all_checked]
