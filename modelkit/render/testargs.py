"""A generic data test's arguments, rendered at execution the way dbt renders them.

``ref('x')`` gives the relation itself, ``"{{ var('v') }}"`` the variable's value; the arguments
reach the test macro as ``_dbt_generic_test_kwargs``, rendered on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from modelkit.render import templating
from modelkit.render.macros import RenderContext
from modelkit.render.staticeval import NotStatic, evaluate_simple_call

if TYPE_CHECKING:
    from modelkit.core.manifest import TestNode


KWARGS_NAME = "_dbt_generic_test_kwargs"


_LOOKS_LIKE_FUNC = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.S)


_ONE_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)


def _evaluate(expression: str, ctx: RenderContext) -> Any:
    try:
        return evaluate_simple_call(expression, ctx)
    except NotStatic:
        pass
    template = templating.get_template(
        "{% set mk_value__ = (" + expression + ") %}", "<test arguments>", parse=not ctx.execute, cache=True
    )
    return getattr(templating.make_module(template, ctx), "mk_value__", None)


def render_argument(value: Any, ctx: RenderContext, top_key: str | None = None) -> Any:
    """dbt's native rendering of a test argument: ``ref('x')`` gives the relation itself."""
    if isinstance(value, Mapping):
        return {k: render_argument(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [render_argument(v, ctx) for v in value]
    if not isinstance(value, str) or top_key == "column_name":
        return value
    if _LOOKS_LIKE_FUNC.match(value):
        return _evaluate(value, ctx)
    single = _ONE_EXPRESSION.match(value)
    if single and "{{" not in single.group(1) and "}}" not in single.group(1):
        return _evaluate(single.group(1), ctx)
    if "{{" in value or "{%" in value:
        return templating.render(
            templating.get_template(value, "<test arguments>", parse=not ctx.execute, cache=True),
            ctx,
            "<test arguments>",
        )
    return value


class TestKwargs(Mapping):
    """``_dbt_generic_test_kwargs``: the test's arguments, rendered on first use."""

    __test__ = False

    def __init__(self, node: TestNode, ctx: RenderContext) -> None:
        self._node = node
        self._ctx = ctx
        self._values: dict[str, Any] | None = None

    def _rendered(self) -> dict[str, Any]:
        if self._values is None:
            raw = (self._node.test_metadata or {}).get("kwargs", {})
            try:
                self._values = {k: render_argument(v, self._ctx, k) for k, v in raw.items()}
            except Exception as exc:  # noqa: BLE001 - reported with the test's YAML file
                raise templating.wrap_error(exc, self._node.original_file_path, f"test {self._node.name}") from exc
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._rendered()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rendered())

    def __len__(self) -> int:
        return len(self._rendered())


def rendered_test_kwargs(node: Any, ctx: RenderContext) -> TestKwargs:
    return TestKwargs(node, ctx)
