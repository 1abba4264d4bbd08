"""Jinja in property files, rendered when they are read, as dbt's ``SchemaYamlRenderer`` does.

Each entry under ``models:``, ``seeds:``, ``snapshots:``, ``analyses:``, ``sources:``, ``unit_tests:``,
``data_tests:``, ``exposures:``, ``groups:`` and the semantic layer's keys is rendered natively (see
:mod:`modelkit.project.rendering`) with ``target``, ``var`` and ``env_var`` in context, except what
dbt renders later: descriptions (``doc()``, see
:mod:`modelkit.parse.descriptions`), data tests (their configs are rendered when the test is built,
their arguments at execution, see :mod:`modelkit.render.testargs`), hooks, ``loaded_at_query``, and
the filters of metrics and saved queries (MetricFlow's own templates).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import ModelkitError
from modelkit.project.rendering import Keypath, has_jinja, render_native, render_tree

if TYPE_CHECKING:
    from modelkit.render.context import Renderer

RENDERED_KEYS = (
    "models", "seeds", "snapshots", "analyses", "sources", "unit_tests", "data_tests", "macros",
    "exposures", "groups", "metrics", "semantic_models", "saved_queries",
)  # fmt: skip
_LATER = ("tests", "data_tests", "description", "loaded_at_query")
_HOOKS = ("pre_hook", "post_hook", "pre-hook", "post-hook", "loaded_at_query")
_LISTS = ("columns", "versions", "dimensions", "measures", "entities")


def _norender(keypath: Keypath) -> bool:
    """dbt's ``SchemaYamlRenderer._is_norender_key``, also keeping hyphenated hooks and versions' tests."""
    if not keypath:
        return False
    if keypath[0] in _LATER:
        return True
    if len(keypath) == 2 and keypath[1] in _LATER:
        return True
    if len(keypath) >= 2 and keypath[0] == "config" and keypath[1] in _HOOKS:
        return True
    if len(keypath) == 5 and keypath[4] == "description":  # versions[i].columns[j].description
        return True
    if keypath[0] == "versions" and ("data_tests" in keypath or "tests" in keypath):
        return True  # a version's tests, like the model's, render when the test is built
    return len(keypath) >= 3 and keypath[0] in _LISTS and keypath[2] in _LATER


def rendered_keypath(key: str, keypath: Keypath) -> bool:
    """Whether the value at ``keypath`` of an entry under ``key`` is rendered when the file is read."""
    if not keypath:
        return True
    if key == "sources":
        if keypath[0] in ("description", "loaded_at_query"):
            return False
        if len(keypath) >= 2 and keypath[0] == "config" and keypath[1] == "loaded_at_query":
            return False
        return not (keypath[0] == "tables" and _norender(keypath[2:]))
    if key == "macros" and keypath[0] == "arguments":
        return not _norender(keypath[1:])
    if key == "metrics" and (keypath[-1] == "filter" or (len(keypath) > 1 and keypath[-2] == "filter")):
        return False  # metric filters are MetricFlow's templates ({{ Dimension('...') }})
    if key == "saved_queries" and keypath[0] == "query_params" and len(keypath) > 1 and keypath[1] == "where":
        return False  # as are saved queries' `where`
    return not _norender(keypath)


class PropertyRenderer:
    """Renders property-file values with dbt's schema YAML context (``target``, ``var``, ``env_var``)."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self._context: dict[str, Any] | None = None

    @property
    def context(self) -> dict[str, Any]:
        if self._context is None:
            ctx = self.renderer.context(None, execute=False)
            self._context = dict(ctx)
        return self._context

    def render_document(self, data: Mapping[str, Any], text: str, path: str) -> Mapping[str, Any]:
        """``data`` (a property file) with its entries rendered; as is when ``text`` holds no Jinja."""
        if not has_jinja(text):
            return data
        rendered = dict(data)
        for key in RENDERED_KEYS:
            entries = data.get(key)
            if not isinstance(entries, list):
                continue
            rendered[key] = [self.render_entry(key, entry, path, text) for entry in entries]
        return rendered

    def render_entry(self, key: str, entry: Any, path: str, text: str | None = None) -> Any:
        if not isinstance(entry, Mapping):
            return entry
        try:
            return render_tree(entry, self.context, lambda keypath: rendered_keypath(key, keypath))
        except ModelkitError as exc:
            _locate(exc, path, text)
            raise

    def render_test_config(self, config: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A generic test's configs (``severity``, ``where``, ...): each text value rendered natively."""
        if not any(isinstance(v, str) and has_jinja(v) for v in config.values()):
            return dict(config)
        try:
            return {k: render_native(v, self.context) if isinstance(v, str) else v for k, v in config.items()}
        except ModelkitError as exc:
            _locate(exc, path, None)
            raise


def _locate(exc: ModelkitError, path: str, text: str | None) -> None:
    """Point a rendering error at its file and, when the failing value can be found, its line."""
    exc.path = exc.path or path
    if text is None or exc.line is not None:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split(":", 1)[-1].strip().strip("'\"")
        if value and has_jinja(value) and value in exc.message:
            exc.line = number
            exc.source = text
            return
