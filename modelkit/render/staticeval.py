"""Evaluating simple template expressions without Jinja: ``{{ ref('x') }}``, ``source('a', 'b')``, literals.

Used at execution to render templates that only call functions with literal arguments
(:func:`static_render`), and by the parse-time fast paths to read such calls with Python's ``ast``.
Anything else raises :class:`NotStatic`, and the caller renders with Jinja.

>>> literal(parse_expression("['a', 1, none]"))
['a', 1, None]
>>> static_render("select * from {{ ref('orders') }}", {"ref": lambda name: f"main.{name}"})
'select * from main.orders'
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from modelkit.core.errors import ModelkitError
from modelkit.render.templating import RUN_ENV, MacroReturn, wrap_error

JINJA_CONSTANTS = {"true": True, "false": False, "none": None, "True": True, "False": False, "None": None}


class NotStatic(Exception):
    """The template needs rendering."""


def literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Name) and node.id in JINJA_CONSTANTS:
        return JINJA_CONSTANTS[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values) if k is not None}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value  # type: ignore[operator]
    raise NotStatic


def scan_tags(source: str) -> Iterable[tuple[int, int, str, int, bool, bool]]:
    """``{{ ... }}`` tags as (start, end, body, line, strip before, strip after); NotStatic on any statement."""
    pos = 0
    while True:
        start = source.find("{", pos)
        if start < 0 or start + 1 >= len(source):
            return
        marker = source[start + 1]
        if marker == "%":
            raise NotStatic
        if marker == "#":
            end = source.find("#}", start + 2)
            if end < 0 or source[start + 2 : start + 3] == "-" or source[end - 1 : end] == "-":
                raise NotStatic  # comments with whitespace control: let Jinja handle them
            yield start, end + 2, "", source.count("\n", 0, start) + 1, False, False
            pos = end + 2
            continue
        if marker != "{":
            pos = start + 1
            continue
        end = source.find("}}", start + 2)
        if end < 0:
            raise NotStatic
        raw = source[start + 2 : end]
        strip_before = raw.startswith("-")
        strip_after = raw.endswith("-")
        body = raw[1 if strip_before else 0 : len(raw) - 1 if strip_after else len(raw)].strip()
        if not body or "{" in body or "}" in body or "|" in body or "~" in body:
            raise NotStatic
        yield start, end + 2, body, source.count("\n", 0, start) + 1, strip_before, strip_after
        pos = end + 2


_STRING = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")"""


_SIMPLE_CALL = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*)\(\s*{_STRING}\s*(?:,\s*{_STRING}\s*)?\)")


_WRAPPED_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([A-Za-z_][^()]*\([^()]*\))\)")


@lru_cache(maxsize=65536)
def parse_expression(body: str) -> ast.expr:
    """``ast.parse(body, mode="eval").body``, built directly for calls like ``ref('x')`` or ``source('a', 'b')``."""
    match = _SIMPLE_CALL.fullmatch(body)
    if match is not None:
        return _call(match)
    match = _WRAPPED_CALL.fullmatch(body)  # e.g. get_where_subquery(ref('x'))
    if match is not None:
        inner = _SIMPLE_CALL.fullmatch(match.group(2))
        if inner is not None:
            return ast.Call(func=ast.Name(id=match.group(1), ctx=ast.Load()), args=[_call(inner)], keywords=[])
    return ast.parse(body, mode="eval").body


def _call(match: re.Match[str]) -> ast.Call:
    name, a1, a2, b1, b2 = match.groups()
    args: list[ast.expr] = [ast.Constant(a1 if a1 is not None else a2)]
    if b1 is not None or b2 is not None:
        args.append(ast.Constant(b1 if b1 is not None else b2))
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])


def _evaluate(tree: ast.expr, context: Any) -> Any:
    if isinstance(tree, ast.Name):
        return context[tree.id]
    if isinstance(tree, ast.Attribute):
        return RUN_ENV.getattr(_evaluate(tree.value, context), tree.attr)
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)) or tree.func.id not in context:
        raise NotStatic
    func = context[tree.func.id]
    args = [_argument(a, context) for a in tree.args]
    kwargs = {k.arg: _argument(k.value, context) for k in tree.keywords if k.arg is not None}
    return func(*args, **kwargs)


def _argument(node: ast.expr, context: Any) -> Any:
    """A literal, or a nested call such as ``ref('x')`` in ``get_where_subquery(ref('x'))``."""
    if isinstance(node, ast.Call):
        return _evaluate(node, context)
    return literal(node)


def static_render(source: str, context: Any, path: str = "") -> str | None:
    """Render a template that :func:`static_capture` accepts without compiling it; None otherwise.

    Each ``{{ call(...) }}`` is evaluated with the execution context and
    written out as Jinja would (``str()`` of the value, whitespace control
    honoured). Errors carry the line of the expression.
    """
    try:
        tags = list(scan_tags(source))
    except NotStatic:
        return None
    pieces: list[str] = []
    pos = 0
    strip_next = False
    for start, end, body, line, strip_before, strip_after in tags:
        text = source[pos:start]
        if strip_next:
            text = text.lstrip()
        if strip_before:
            text = text.rstrip()
        pieces.append(text)
        if body:
            try:
                value = _evaluate(parse_expression(body), context)
            except MacroReturn as ret:
                value = ret.value
            except ModelkitError as exc:
                if exc.line is None:
                    exc.line = line
                raise
            except Exception as exc:  # noqa: BLE001 - reported with the template location, as rendering does
                raise wrap_error(exc, path) from exc
            pieces.append(str(value))
        strip_next = strip_after
        pos = end
    tail = source[pos:]
    pieces.append(tail.lstrip() if strip_next else tail)
    return "".join(pieces)


def evaluate_simple_call(expression: str, context: Any) -> Any:
    """Evaluate ``name('literal', ...)`` (e.g. ``ref('orders')``) without compiling a template.

    Raises :class:`NotStatic` for anything else, so the caller renders it with Jinja.
    """
    try:
        tree = parse_expression(expression)
    except SyntaxError:
        raise NotStatic from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)) or tree.func.id not in context:
        raise NotStatic
    if any(isinstance(a, ast.Starred) for a in tree.args) or any(k.arg is None for k in tree.keywords):
        raise NotStatic
    return _evaluate(tree, context)
