"""Jinja in YAML values, rendered as dbt renders ``dbt_project.yml`` and property files.

dbt renders these values with a *native* Jinja environment: a value that is one single expression
(``"{{ target.type != 'bigquery' }}"``) becomes that expression's Python value (``True``), anything
else (``"main_{{ target.name }}"``, plain text) a string. The ``as_bool``, ``as_number``,
``as_native`` and ``as_text`` filters convert explicitly. Some keys are never rendered when the file
is read (hooks, descriptions, test arguments): each file kind says which through a keypath predicate.
"""

from __future__ import annotations

import ast
import datetime
import re
from collections.abc import Callable, Mapping
from itertools import chain, islice
from typing import Any

from modelkit.core.errors import CompilationError, ProjectError

Keypath = tuple[Any, ...]
_JINJA = re.compile(r"{[{%#]")


def has_jinja(text: str) -> bool:
    """Whether ``text`` holds anything Jinja would act on (``{{``, ``{%`` or ``{#``)."""
    return _JINJA.search(text) is not None


class _Text(str):
    """``as_text``: the value stays text."""


class _Native(str):
    """``as_native``: the value is read as a Python literal."""


class _Bool(_Native):
    pass


class _Number(_Native):
    pass


def _native_concat(values: Any) -> Any:
    """dbt's ``quoted_native_concat``: one output keeps its type; several are joined as text."""
    head = list(islice(values, 2))
    if not head:
        return ""
    if len(head) > 1:
        return "".join(str(v) for v in chain(head, values))
    raw = head[0]
    if isinstance(raw, _Text):
        return str(raw)
    if not isinstance(raw, _Native):
        return raw
    try:
        result = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError):
        result = raw
    if isinstance(raw, _Bool) and not isinstance(result, bool):
        raise ProjectError(f"Could not convert value '{raw!s}' into type 'bool'")
    if isinstance(raw, _Number) and (not isinstance(result, (int, float)) or isinstance(result, bool)):
        raise ProjectError(f"Could not convert value '{raw!s}' into type 'number'")
    return result


_ENVS: tuple[Any, Any, type[Exception]] | None = None


def _environments() -> tuple[Any, Any, type[Exception]]:
    """(native sandbox, text sandbox, Jinja's base error), built on first use."""
    global _ENVS
    if _ENVS is None:
        # jinja2 loads only for values that hold Jinja: keeps start-up light
        from jinja2 import TemplateError  # lazy: see above
        from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate  # lazy: see above
        from jinja2.sandbox import SandboxedEnvironment  # lazy: see above

        class NativeSandbox(SandboxedEnvironment):
            code_generator_class = NativeCodeGenerator
            concat = staticmethod(_native_concat)  # type: ignore[assignment]

        class Template(NativeTemplate):
            environment_class = NativeSandbox  # type: ignore[assignment]

        NativeSandbox.template_class = Template  # type: ignore[assignment]
        extensions = ["jinja2.ext.do", "jinja2.ext.loopcontrols"]
        native = NativeSandbox(extensions=extensions)
        native.filters.update(as_text=_Text, as_native=_Native, as_bool=_Bool, as_number=_Number)
        text = SandboxedEnvironment(extensions=extensions)
        text.filters.update(as_text=str, as_native=str, as_bool=str, as_number=str)
        _ENVS = (native, text, TemplateError)
    return _ENVS


def _render(text: str, context: Mapping[str, Any], native: bool) -> Any:
    if not has_jinja(text):
        return text
    native_env, text_env, template_error = _environments()
    env = native_env if native else text_env
    try:
        return env.from_string(text).render(dict(context))
    except template_error as exc:
        raise CompilationError(f"Could not render {text}: {getattr(exc, 'message', None) or exc}") from None


def render_native(text: str, context: Mapping[str, Any]) -> Any:
    """``text`` rendered natively (see the module docstring); text without Jinja is returned as is."""
    return _render(text, context, native=True)


def render_text(text: str, context: Mapping[str, Any]) -> str:
    """``text`` rendered as text (dbt's non-native rendering, e.g. of project vars)."""
    return str(_render(text, context, native=False))


def render_tree(
    value: Any,
    context: Mapping[str, Any],
    rendered: Callable[[Keypath], bool],
    keypath: Keypath = (),
) -> Any:
    """dbt's ``deep_map_render``: every string whose keypath ``rendered`` accepts, rendered natively.

    Dates become ISO text, as dbt's renderer turns them. Containers are copied; keys are kept.
    """
    if isinstance(value, Mapping):
        return {k: render_tree(v, context, rendered, (*keypath, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, context, rendered, (*keypath, i)) for i, v in enumerate(value)]
    if isinstance(value, str) and "{" not in value:
        return value  # nothing to render (checked before the keypath: most values are plain text)
    if not rendered(keypath):
        return value
    if isinstance(value, str):
        return render_native(value, context)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# -- dbt_project.yml ---------------------------------------------------------------------------
# Keys rendered only once the target is known (dbt renders the whole file with `target` in context;
# modelkit renders the paths and names first, to find the profile, and these afterwards).
TARGET_KEYS = (
    "models", "seeds", "snapshots", "data_tests", "tests", "sources", "unit_tests", "vars",
    "metrics", "semantic-models", "semantic_models", "saved-queries", "saved_queries",
)  # fmt: skip
_HOOKS = frozenset({"pre-hook", "post-hook", "pre_hook", "post_hook"})


def project_key_rendered(keypath: Keypath) -> bool:
    """dbt's ``DbtProjectYamlRenderer.should_render_keypath``: hooks, query-comment and vars stay raw."""
    if not keypath:
        return True
    first = keypath[0]
    if first in ("on-run-start", "on-run-end", "on_run_start", "on_run_end", "query-comment", "vars"):
        return False
    if first in ("seeds", "models", "snapshots", "tests", "data_tests"):
        parts = {k.lstrip("+ ") if isinstance(k, str) else k for k in keypath}
        if parts & _HOOKS:
            return False
    return True
