"""Generic tests without rendering at parse time, when that cannot change the result.

At parse time a generic test is rendered only to learn what its arguments
``ref()`` or ``source()``. For the built-in tests (not overridden by the
project) whose arguments are plain values or calls of ``ref``, ``source`` and
``get_where_subquery`` with literal arguments, the same facts are read with
Python's ``ast``. Verified against rendering in the tests.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from modelkit.render.context import Capture
from modelkit.render.macros import MacroRegistry
from modelkit.render.staticeval import literal, parse_expression

_CALLS = frozenset({"ref", "source", "get_where_subquery"})


class Dynamic(Exception):
    """The argument needs rendering."""


def argument_expression(value: str) -> str | None:
    text = value.strip()
    if text.startswith("{{") and text.endswith("}}"):
        inner = text[2:-2].strip()
        return None if ("{{" in inner or "}}" in inner or "{%" in inner) else inner
    if "{{" in text or "{%" in text or "{#" in text:
        raise Dynamic
    if "(" in text and text.split("(", 1)[0].strip() in ("env_var", "ref", "var", "source", "doc"):
        return text  # dbt evaluates bare function calls in test arguments
    return None


def _walk(tree: ast.AST, capture: Capture) -> None:
    if isinstance(tree, ast.Call):
        if not isinstance(tree.func, ast.Name) or tree.func.id not in _CALLS or tree.keywords and tree.func.id != "ref":
            raise Dynamic
        if tree.func.id == "get_where_subquery":
            if len(tree.args) != 1:
                raise Dynamic
            _walk(tree.args[0], capture)
            return
        args = [literal(a) for a in tree.args]
        if not all(isinstance(a, str) for a in args):
            raise Dynamic
        if tree.func.id == "ref":
            kwargs = {k.arg: literal(k.value) for k in tree.keywords if k.arg is not None}
            if len(kwargs) != len(tree.keywords) or not 1 <= len(args) <= 2:
                raise Dynamic
            version = kwargs.get("version", kwargs.get("v"))
            capture.refs.append({"name": args[-1], "package": args[0] if len(args) == 2 else None, "version": version})
            capture.ref_lines.append(None)
        else:
            if len(args) != 2:
                raise Dynamic
            capture.sources.append(args)
            capture.source_lines.append(None)
        return
    raise Dynamic


def _scan(value: Any, capture: Capture, top_key: str | None) -> None:
    if isinstance(value, Mapping):
        for item in value.values():
            _scan(item, capture, None)
        return
    if isinstance(value, list):
        for item in value:
            _scan(item, capture, None)
        return
    if not isinstance(value, str) or top_key == "column_name":
        return
    expression = argument_expression(value)
    if expression is None:
        return
    tree = parse_argument(expression)
    if tree is None:
        raise Dynamic
    _walk(tree, capture)


@lru_cache(maxsize=65536)
def parse_argument(expression: str) -> ast.expr | None:
    try:
        return parse_expression(expression)
    except SyntaxError:
        return None


def builtin_test_macros(registry: MacroRegistry, name: str, adapter_type: str) -> set[str] | None:
    """unique_ids of the macros rendering built-in test ``name``; None if the project overrides any."""
    own = registry.root_names()
    names = {f"test_{name}", f"default__test_{name}", f"{adapter_type}__test_{name}", "get_where_subquery"}
    names |= {"default__get_where_subquery", f"{adapter_type}__get_where_subquery"}
    if own & names or registry.find(f"test_{name}", "dbt") is None:
        return None
    found = {f"macro.dbt.test_{name}", "macro.dbt.get_where_subquery"}
    for prefix in (f"{adapter_type}__", "default__"):
        for base in (f"test_{name}", "get_where_subquery"):
            macro = registry.find(prefix + base, "dbt")
            if macro is not None and not any(
                m.startswith(f"macro.dbt.{p}{base}") for m in found for p in (f"{adapter_type}__", "default__")
            ):
                found.add(macro.unique_id)
    if name == "not_null":  # its SQL depends on should_store_failures() (every column, when failures are kept)
        if "should_store_failures" in own:
            return None
        helper = registry.find("should_store_failures", "dbt")
        if helper is not None:
            found.add(helper.unique_id)
    return found


def static_test_capture(
    registry: MacroRegistry, metadata: Mapping[str, Any], adapter_type: str, memo: dict[str, Any] | None = None
) -> tuple[Capture, set[str]] | None:
    """What rendering the built-in test at parse time would record, or None if it must be rendered.

    ``memo`` keeps the macros of each built-in test for one parse.
    """
    if metadata.get("namespace"):
        return None
    name = str(metadata["name"])
    if memo is not None and name in memo:
        macros = memo[name]
    else:
        macros = builtin_test_macros(registry, name, adapter_type)
        if memo is not None:
            memo[name] = macros
    if macros is None:
        return None
    capture = Capture()
    try:
        for key, value in metadata.get("kwargs", {}).items():
            _scan(value, capture, key)
    except Dynamic:
        return None
    return capture, set(macros)
