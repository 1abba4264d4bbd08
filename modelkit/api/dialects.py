"""Before anything runs: the SQL of every selected node written in another dialect than the target's
is translated, and every construct that does not translate is reported at once (see
:mod:`modelkit.dialects`).
"""

from __future__ import annotations

from collections.abc import Iterable

from modelkit.api.session import Session
from modelkit.core.errors import DialectError, DialectErrors, ModelkitError
from modelkit.core.manifest import Node
from modelkit.dialects.types import dialect_label


def check_dialects(session: Session, selected: Iterable[str]) -> None:
    """Translate the selected nodes' SQL (and the models of selected unit tests), contract types and seed
    column types; a DialectErrors lists every node that does not translate (nothing is run). Other
    errors are left to the run itself."""
    manifest = session.manifest
    dialects = session.dialects
    chosen = [manifest.nodes[uid] for uid in selected if uid in manifest.nodes]
    tested = {getattr(n, "tested_node", None) for n in chosen if n.resource_type == "unit_test"}
    chosen += [manifest.nodes[uid] for uid in tested if uid in manifest.nodes]  # a unit test's model
    nodes = list({n.unique_id: n for n in chosen if n.resource_type != "unit_test"}.values())
    nodes = [n for n in nodes if dialects.of(n) != dialects.target]
    if not nodes:
        return
    levels = session.graph.levels
    compiler = session.compiler
    errors: list[DialectError] = []
    for node in sorted(nodes, key=lambda n: (levels.get(n.unique_id, 0), n.unique_id)):
        for text in declared_types(node):
            try:
                compiler.data_type(node, text)
            except DialectError as exc:
                errors.append(exc)
        if not dialects.translates(node):
            continue
        try:
            compiler.compile(node, keep=True)  # the static analysis before the run reads it (not rendered again)
        except DialectError as exc:
            errors.append(exc)
        except ModelkitError:
            pass  # not a matter of dialects: the node reports it when it runs
    dialects.save()  # failures too: the next command reports them without translating again
    if errors:
        raise DialectErrors(errors, dialect_label(dialects.target))


def declared_types(node: Node) -> list[str]:
    """The types a node declares in its dialect: an enforced contract's, a seed's column_types."""
    if node.resource_type == "seed":
        return [str(t) for t in (node.config.get("column_types") or {}).values()]
    contract = node.config.get("contract") or {}
    if isinstance(contract, dict) and contract.get("enforced"):
        return [str(c.data_type) for c in node.columns.values() if c.data_type]
    return []
