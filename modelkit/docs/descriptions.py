"""Descriptions as readers see them: ``{{ doc('name') }}`` replaced by its ``{% docs %}`` block."""

from __future__ import annotations

from typing import Any

from modelkit.core.errors import ModelkitError


class DescriptionRenderer:
    """Renders YAML descriptions with the project's Jinja context; each distinct text is rendered once."""

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self._done: dict[str, str] = {}

    def render(self, text: str, path: str | None, owner: str) -> str:
        """``text`` with its Jinja rendered; ``path`` (the YAML file) and ``owner`` name it in errors."""
        if not text or ("{{" not in text and "{%" not in text):
            return text
        cached = self._done.get(text)
        if cached is not None:
            return cached
        where = path or "<description>"
        try:
            ctx = self.renderer.context(None, execute=False, path=where)
            rendered = self.renderer.render(text, where, ctx, node_label=owner)
        except ModelkitError as exc:
            exc.node = exc.node or owner
            if exc.path is None or exc.path == where:
                exc.path = path
                exc.line = exc.line if exc.source == text else None
                exc.source = None
            raise
        self._done[text] = rendered.strip()
        return self._done[text]


def yaml_path(node: Any) -> str | None:
    """The YAML file that describes a node (``patch_path`` without the package prefix)."""
    patch = getattr(node, "patch_path", None)
    if patch:
        return str(patch).split("://", 1)[-1]
    if getattr(node, "resource_type", None) == "source":
        return str(node.original_file_path)
    return None


def resolve_manifest_descriptions(data: dict[str, Any], rendered: dict[str, dict[str, Any]]) -> None:
    """Put rendered descriptions into a ``manifest.json`` dict (nodes and sources), as dbt writes them."""
    for section in ("nodes", "sources"):
        for uid, entry in data.get(section, {}).items():
            found = rendered.get(uid)
            if found is None:
                continue
            entry["description"] = found["description"]
            for name, column in entry.get("columns", {}).items():
                if name in found["columns"]:
                    column["description"] = found["columns"][name]
