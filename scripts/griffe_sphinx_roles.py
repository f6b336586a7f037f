"""A griffe extension for the documentation site (mkdocs.yml): escache's docstrings use Sphinx roles
(``:class:`escache.Cluster```, ``:meth:`to_arrow```), which mkdocstrings does not read; each becomes
inline code (``~`` keeps the last name only, as in Sphinx)."""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):`(~?)([^`]+)`")


def _code(m: re.Match[str]) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"


class SphinxRoles(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)
