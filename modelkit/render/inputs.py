"""What a render of a model reads (:class:`RenderInputs`), and what its SQL is made from (:class:`MadeFrom`).

A *pure* render reads nothing beyond its node, its parents' relations, the target, the project's
configuration, the macros it calls and the vars and environment variables it reads: another render
with all of them unchanged gives the same SQL. :meth:`MadeFrom.key` hashes them; ``run --skip-unchanged``
reuses a model's recorded SQL by it, and a model written in another dialect than the target's is
not rendered again to find its translation (see :mod:`modelkit.dialects.cache`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelkit import __version__
from modelkit.core import jsonio
from modelkit.core.manifest import Manifest, Node

if TYPE_CHECKING:
    from modelkit.render.context import Renderer

# Names whose values a render may read and still give SQL that depends only on what RenderInputs keeps
# (the node, its parents' relations, the target, the project, the macros it called, the vars and
# environment variables it read). The adapter's database access is noted apart (touched_database).
PURE_NAMES = frozenset(
    {
        "ref", "source", "config", "var", "env_var", "this", "execute", "builtins", "dbt", "return",
        "target", "env", "database", "schema", "project_name", "modelkit_version", "dbt_version", "api",
        "adapter", "run_query", "statement", "load_result", "store_result", "store_raw_result",
        "fromjson", "tojson", "fromyaml", "toyaml", "zip", "zip_strict", "set", "set_strict", "local_md5",
        "diff_of_two_dicts", "try_or_compiler_error", "validation", "range", "dict", "namespace", "cycler", "joiner",
    }
)  # fmt: skip
_ABSENT = "<absent>"


@dataclass(frozen=True)
class RenderInputs:
    """What one render of a model read beyond the node itself: the macros it called, the vars and
    environment variables it read; ``pure`` when nothing else (no database, no ``graph``, no time,
    no ephemeral model inlined) went into its SQL."""

    macros: tuple[str, ...]
    vars: tuple[str, ...]
    env: tuple[str, ...]
    pure: bool

    @classmethod
    def of(cls, ctx: Any, ctes: list[str]) -> RenderInputs:
        names = getattr(ctx, "names_read", None)
        pure = names is not None and not ctes and not ctx.touched_database
        if pure:
            pure = not (names - PURE_NAMES - ctx.macro_names())
        return cls(tuple(sorted(ctx.called_macros)), tuple(sorted(ctx.vars_read)), tuple(sorted(ctx.env_read)), pure)

    def read(self) -> dict[str, list[str]]:
        """What is recorded of it, for :meth:`recorded` to read back."""
        return {"macros": list(self.macros), "vars": list(self.vars), "env": list(self.env)}

    @classmethod
    def recorded(cls, read: dict[str, Any]) -> RenderInputs:
        """The inputs of a pure render as :meth:`read` recorded them."""
        return cls(tuple(read.get("macros", ())), tuple(read.get("vars", ())), tuple(read.get("env", ())), True)


class MadeFrom:
    """Hashes of what models' SQL is made from, under one renderer (its target, project and vars)."""

    def __init__(self, manifest: Manifest, renderer: Renderer) -> None:
        self.manifest = manifest
        self.renderer = renderer
        self._shared_key: str | None = None

    def key(self, node: Node, inputs: RenderInputs) -> str | None:
        """A hash of what ``node``'s SQL was made from, when its render read only that (``inputs``: what
        the render read beyond the node); None when its SQL may differ from one render to the next."""
        renderer = self.renderer
        if not inputs.pure or renderer.defer is not None:
            return None  # (--defer: a ref() may read the state's relation, which the parents below are not)
        manifest = self.manifest
        parents = []
        for uid in node.depends_on_nodes:
            parent = manifest.nodes.get(uid) or manifest.sources.get(uid)
            if parent is None or getattr(parent, "is_ephemeral", False):
                return None
            parents.append([uid, *_relation_parts(parent)])
        macros = manifest.macros
        if any(uid not in macros for uid in inputs.macros):
            return None
        scope = renderer.var_scope.values(node.package_name)
        payload = {
            "everything": self._shared(),
            "checksum": node.checksum,
            "raw": node.raw_code,
            "config": node.config,
            "this": [node.unique_id, *_relation_parts(node)],
            "parents": parents,
            "macros": [[uid, macros[uid].macro_sql] for uid in inputs.macros],
            "vars": [[n, renderer.cli_vars.get(n, _ABSENT), scope.get(n, _ABSENT)] for n in inputs.vars],
            "env": [[n, os.environ.get(n)] for n in inputs.env],
        }
        return hashlib.sha256(jsonio.dumps(payload)).hexdigest()

    def _shared(self) -> str:
        """What every model's SQL may depend on: modelkit, the target, the project's configuration (vars,
        dispatch, ...), which macros exist (what each name and dispatch resolves to)."""
        if self._shared_key is None:
            renderer = self.renderer
            payload = {
                "modelkit": __version__,
                "target": renderer.target.to_context(),
                "project": {k: v for k, v in vars(renderer.project).items() if k not in ("root", "cli_vars")},
                "macros": sorted(self.manifest.macros),
            }
            self._shared_key = hashlib.sha256(jsonio.dumps(payload)).hexdigest()
        return self._shared_key


def _relation_parts(node: Any) -> list[Any]:
    """(database, schema, identifier, type) of a node's or source's relation, as ``.relation`` gives them
    (a model's, seed's or snapshot's worked out without making the Relation: one per parent of every model).

    >>> from modelkit.core.manifest import ModelNode
    >>> node = ModelNode("model.p.m", "model", "p", "m", "m.sql", "models/m.sql", ["p", "m"], "", {}, database="d", schema="s")
    >>> _relation_parts(node) == [node.relation.database, node.relation.schema, node.relation.identifier, node.relation.type]
    True
    """
    if getattr(node, "resource_type", None) in ("model", "seed", "snapshot") and not node.is_ephemeral:
        return [node.database, node.schema, node.alias or node.name, "view" if node.materialized == "view" else "table"]
    rel = node.relation
    return [rel.database, rel.schema, rel.identifier, rel.type]
