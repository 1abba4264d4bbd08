"""The SQL of the built-in generic tests, written out without Jinja when that cannot change it.

``not_null``, ``unique``, ``accepted_values`` and ``relationships`` are macros in
``include/test_*.sql``. Rendering one through Jinja costs a render context and
three macro modules per test; a project with thousands of tests spends most of
its ``compile`` and ``test`` time there. When the project (or an installed
package) overrides none of the macros involved, and the test's arguments are
plain values and ``ref``/``source`` calls, :func:`static_test_sql` builds the
exact text the macros would render. Tests check it against Jinja, character
for character. Anything else returns None and is rendered by Jinja as before.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelkit.render.staticeval import NotStatic, literal
from modelkit.render.teststatic import Dynamic, argument_expression, parse_argument

if TYPE_CHECKING:
    from modelkit.core.manifest import Node
    from modelkit.render.context import Renderer

BUILTIN = ("not_null", "unique", "accepted_values", "relationships")
_WRAPPER = "\n    \n    {}\n"  # the {% test %} block around the dispatched macro


def _not_null(model: str, column_name: str, **_: Any) -> str:
    return f"\n\nselect {column_name}\nfrom {model}\nwhere {column_name} is null\n\n"


def _unique(model: str, column_name: str, **_: Any) -> str:
    return (
        f"\n\nselect\n    {column_name} as unique_field,\n    count(*) as n_records\n\n"
        f"from {model}\nwhere {column_name} is not null\ngroup by {column_name}\nhaving count(*) > 1\n\n"
    )


def _accepted_values(model: str, column_name: str, values: list[Any], quote: Any = True, **_: Any) -> str:
    if quote:
        listed = ",".join("'" + str(v).replace("'", "''") + "'" for v in values)
    else:
        listed = ",".join(str(v) for v in values)
    return (
        f"\n\nwith all_values as (\n\n    select\n        {column_name} as value_field,\n        count(*) as n_records\n\n"
        f"    from {model}\n    group by {column_name}\n\n)\n\nselect *\nfrom all_values\nwhere value_field not in (\n"
        f"    {listed}\n)\n\n"
    )


def _relationships(model: str, column_name: str, to: str, field: str, **_: Any) -> str:
    return (
        f"\n\nwith child as (\n    select {column_name} as from_field\n    from {model}\n"
        f"    where {column_name} is not null\n),\n\nparent as (\n    select {field} as to_field\n    from {to}\n)\n\n"
        "select\n    from_field\n\nfrom child\nleft join parent\n    on child.from_field = parent.to_field\n\n"
        "where parent.to_field is null\n\n"
    )


_BODIES: dict[str, Callable[..., str]] = {
    "not_null": _not_null,
    "unique": _unique,
    "accepted_values": _accepted_values,
    "relationships": _relationships,
}
_ARGUMENTS = {
    "not_null": {"model", "column_name"},
    "unique": {"model", "column_name"},
    "accepted_values": {"model", "column_name", "values", "quote"},
    "relationships": {"model", "column_name", "to", "field"},
}


def overridable_names(name: str, adapter_type: str) -> set[str]:
    base = {f"test_{name}", "get_where_subquery"}
    return {f"{prefix}{b}" for b in base for prefix in ("", "default__", f"{adapter_type}__")}


def builtin_is_used(renderer: Renderer, name: str) -> bool:
    """Whether test ``name`` renders with modelkit's own macros only (no project or package override)."""
    if name not in _BODIES:
        return False
    project = renderer.project
    if any(str(d.get("macro_namespace")) == "dbt" for d in project.dispatch if isinstance(d, Mapping)):
        return False
    registry = renderer.registry
    for macro_name in overridable_names(name, renderer.target.type):
        for package, macros in registry.by_package.items():
            if package != "dbt" and macro_name in macros:
                return False
    return registry.find(f"test_{name}", "dbt") is not None


def _relation(value: Any, node: Node, renderer: Renderer, allow_where: bool) -> str:
    """``ref('x')`` / ``source('a', 'b')`` (in ``{{ }}`` or bare; ``get_where_subquery`` around it for
    the ``model`` argument) as the relation's name."""
    if not isinstance(value, str):
        raise Dynamic
    expression = argument_expression(value)
    tree = parse_argument(expression) if expression is not None else None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
        raise Dynamic
    wrapped = tree.func.id == "get_where_subquery"
    if wrapped:
        if not allow_where or len(tree.args) != 1 or tree.keywords:
            raise Dynamic
        tree = tree.args[0]
        if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
            raise Dynamic
    if tree.func.id not in ("ref", "source"):
        raise Dynamic
    try:
        args = tuple(literal(a) for a in tree.args)
        kwargs = {k.arg: literal(k.value) for k in tree.keywords}
    except NotStatic:
        raise Dynamic from None
    if None in kwargs or not all(isinstance(a, str) for a in args):
        raise Dynamic
    resolver = renderer.resolver
    if resolver is None:
        raise Dynamic
    if tree.func.id == "ref":
        relation = resolver.ref(node, args, kwargs)  # type: ignore[arg-type]
    else:
        if len(args) != 2 or kwargs:
            raise Dynamic
        relation = resolver.source(node, args[0], args[1])
    if relation.is_cte:
        raise Dynamic  # an ephemeral model: Jinja's path collects its CTE
    text = str(relation.quoted_with(renderer.quote_char))
    where = node.config.get("where") if wrapped else None
    if where:
        if not isinstance(where, str) or "{{" in where or "{%" in where:
            raise Dynamic
        return f"(select * from {text} where {where}) dbt_subquery"
    return text


def _plain(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value and "{#" not in value and argument_expression(value) is None
    return value is None or isinstance(value, (bool, int, float))


def static_test_sql(node: Node, renderer: Renderer, usable: dict[str, bool]) -> str | None:
    """The compiled SQL of a built-in generic test, or None when Jinja must render it.

    ``usable`` memoises :func:`builtin_is_used` per test name for one compile.
    """
    metadata = getattr(node, "test_metadata", None)
    if not metadata or metadata.get("namespace"):
        return None
    name = str(metadata.get("name"))
    if name not in _BODIES:
        return None
    if name not in usable:
        usable[name] = builtin_is_used(renderer, name)
    if not usable[name]:
        return None
    kwargs = metadata.get("kwargs") or {}
    if not set(kwargs) <= _ARGUMENTS[name] or "column_name" not in kwargs or "model" not in kwargs:
        return None
    try:
        args: dict[str, Any] = {"column_name": kwargs["column_name"]}
        if not isinstance(args["column_name"], str):
            return None
        args["model"] = _relation(kwargs["model"], node, renderer, allow_where=True)
        if name == "relationships":
            if set(kwargs) != _ARGUMENTS[name] or not isinstance(kwargs["field"], str) or not _plain(kwargs["field"]):
                return None
            args["to"] = _relation(kwargs["to"], node, renderer, allow_where=False)
            args["field"] = kwargs["field"]
        elif name == "accepted_values":
            values = kwargs.get("values")
            if not isinstance(values, list) or not all(_plain(v) for v in values):
                return None
            quote = kwargs.get("quote", True)
            if not isinstance(quote, bool):
                return None
            args["values"] = values
            args["quote"] = quote
    except Dynamic:
        return None
    return _WRAPPER.format(_BODIES[name](**args))
