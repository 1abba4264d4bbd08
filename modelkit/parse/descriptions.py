"""Descriptions in YAML may use Jinja (``{{ doc('name') }}``); dbt renders them at parse time."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from modelkit.core.errors import CompilationError
from modelkit.core.manifest import Manifest
from modelkit.core.text import did_you_mean

# The common case, resolved without a template: {{ doc('name') }} (optionally with a package).
_SIMPLE_DOC = re.compile(r"""\{\{\s*doc\(\s*(?:['"](\w+)['"]\s*,\s*)?['"](\w+)['"]\s*\)\s*\}\}""")


def render_descriptions(manifest: Manifest, renderer: Any) -> None:
    """Replace Jinja in every node, source and column description by its rendered text.

    ``doc('name')`` is looked for as dbt does: in the root project, the node's package, then any package.
    """
    render = _description_renderer(manifest, renderer)
    for node in list(manifest.nodes.values()) + list(manifest.sources.values()):
        path = getattr(node, "patch_path", None) or node.original_file_path
        path = path.split("://", 1)[-1]
        package = node.package_name
        node.description = render(node.description, path, package)
        if getattr(node, "source_description", None):
            node.source_description = render(node.source_description, path, package)  # type: ignore[union-attr]
        for column in node.columns.values():
            column.description = render(column.description, path, package)


def render_resource_descriptions(manifest: Manifest, renderer: Any) -> None:
    """As :func:`render_descriptions`, for exposures, metrics, semantic models (and their entities,
    measures and dimensions) and saved queries."""
    render = _description_renderer(manifest, renderer)
    for resource in manifest.resources():
        path, package = resource["original_file_path"], resource["package_name"]
        parts = [resource, *(e for key in ("entities", "measures", "dimensions") for e in resource.get(key) or [])]
        for part in parts:
            if isinstance(part.get("description"), str):
                part["description"] = render(part["description"], path, package)


def _description_renderer(manifest: Manifest, renderer: Any) -> Callable[[str, str, str], str]:
    """``render(text, path, package)``: a description with its Jinja rendered (``doc()`` resolved)."""
    docs: dict[str, list[tuple[str, str]]] = {}
    for entry in manifest.docs.values():
        docs.setdefault(entry["name"], []).append((entry["package_name"], entry["block_contents"]))
    root = manifest.project_name

    def lookup(args: tuple[str, ...], package: str, path: str) -> str:
        name = args[-1]
        searched = [args[0]] if len(args) > 1 and args[0] else [root, package, None]
        for wanted in searched:
            for owner, text in docs.get(name, ()):
                if wanted is None or owner == wanted:
                    return text
        raise _missing(name, path, list(docs))

    def render(text: str, path: str, package: str) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        replaced = _SIMPLE_DOC.sub(lambda m: lookup((m.group(1), m.group(2)), package, path), text)
        if "{{" not in replaced and "{%" not in replaced and "{#" not in replaced:
            return replaced
        ctx = renderer.context(None, execute=False, path=path)
        ctx["doc"] = lambda *args: lookup(args, package, path)
        return renderer.render(text, f"{path} (description)", ctx)

    return render


def _missing(name: str, path: str, docs: list[str]) -> CompilationError:
    return CompilationError(f"Documentation for '{name}' not found." + did_you_mean(name, docs), path=path)
