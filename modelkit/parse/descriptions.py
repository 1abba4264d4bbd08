"""Descriptions in YAML may use Jinja (``{{ doc('name') }}``); dbt renders them at parse time."""

from __future__ import annotations

import re
from typing import Any

from modelkit.core.errors import CompilationError
from modelkit.core.manifest import Manifest
from modelkit.core.text import did_you_mean

# The common case, resolved without a template: {{ doc('name') }} (optionally with a package).
_SIMPLE_DOC = re.compile(r"""\{\{\s*doc\(\s*(?:['"](\w+)['"]\s*,\s*)?['"](\w+)['"]\s*\)\s*\}\}""")


def render_descriptions(manifest: Manifest, renderer: Any) -> None:
    """Replace Jinja in every node, source and column description by its rendered text."""
    docs = {entry["name"]: entry["block_contents"] for entry in manifest.docs.values()}

    def render(text: str, path: str) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        replaced = _SIMPLE_DOC.sub(lambda m: _lookup(m.group(2), docs, path), text)
        if "{{" not in replaced and "{%" not in replaced and "{#" not in replaced:
            return replaced
        ctx = renderer.context(None, execute=False, path=path)
        ctx["doc"] = lambda *args: _lookup(args[-1], docs, path)
        return renderer.render(text, f"{path} (description)", ctx)

    for node in list(manifest.nodes.values()) + list(manifest.sources.values()):
        path = getattr(node, "patch_path", None) or node.original_file_path
        path = path.split("://", 1)[-1]
        node.description = render(node.description, path)
        if getattr(node, "source_description", None):
            node.source_description = render(node.source_description, path)  # type: ignore[union-attr]
        for column in node.columns.values():
            column.description = render(column.description, path)


def _lookup(name: str, docs: dict[str, str], path: str) -> str:
    if name not in docs:
        raise _missing(name, path, docs)
    return docs[name]


def _missing(name: str, path: str, docs: dict[str, str]) -> CompilationError:
    return CompilationError(f"Documentation for '{name}' not found." + did_you_mean(name, list(docs)), path=path)
