"""dbt's ``unrendered_config``: a node's configs as written, what ``state:modified.configs`` compares.

Project-level configs are kept as written (their Jinja unrendered), then the YAML entry's ``config:``,
then ``{{ config() }}``'s values. As in dbt 1.11, the ``config()`` values are the rendered ones unless
the project sets ``flags: {state_modified_compare_more_unrendered_values: true}``: then each keyword's
expression as written is kept (dbt's string of the Jinja node), so an ``env_var()`` there is no change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import nodes

from modelkit.core.config import merge_into, resolve
from modelkit.core.errors import ModelkitError
from modelkit.render.templating import parse_ast

FLAG = "state_modified_compare_more_unrendered_values"
TREES = {"model": "models", "seed": "seeds", "snapshot": "snapshots"}


def static_config_call(text: str, path: str) -> dict[str, str] | None:
    """The keywords of the first ``config(...)`` call as written (None when there is none)."""
    if "config(" not in text:
        return None
    try:
        tree = parse_ast(text, path)
    except ModelkitError:
        return None
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "config":
            return {kwarg.key: str(kwarg) for kwarg in call.kwargs}
    return None


def unrendered_config(
    raw_trees: Mapping[str, Any],
    flags: Mapping[str, Any],
    patch_config: Any,
    cache: dict[tuple[str, ...], dict[str, Any]],
    kind: str,
    fqn: list[str],
    call: Mapping[str, Any],
    text: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The unrendered config of a node of ``kind`` at ``fqn``; ``text`` is its (source, path), if any."""
    tree = raw_trees.get(TREES[kind]) if kind in TREES else None
    config = resolve(tree, fqn, {}, cache) if tree else {}
    if isinstance(patch_config, Mapping):
        merge_into(config, patch_config)
    if text is not None and str(flags.get(FLAG, "")).lower() in ("true", "1"):
        written = static_config_call(*text)
        if written:
            call = written
    merge_into(config, call)
    return config
