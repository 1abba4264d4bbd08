"""Node selection: dbt's selector grammar, tokenized and parsed by hand.

selection := term (" " term)*           union
term      := atom ("," atom)*           intersection
atom      := ["@"] [N] ["+"] [method ":"] value ["+" [N]]
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modelkit.core.errors import SelectionError
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest
from modelkit.graph.graph import Graph
from modelkit.graph.resolve import version_less
from modelkit.graph.state import PreviousState, StateComparison, check_result_status, check_state_method, no_state_error

METHODS = (
    "fqn", "tag", "path", "file", "config", "resource_type", "source", "test_type", "test_name",
    "package", "unique_id", "access", "group", "version", "exposure", "metric", "semantic_model", "saved_query",
    "state", "result",
)  # fmt: skip
# the methods that select exposures, metrics, semantic models and saved queries too (as dbt's do)
RESOURCE_METHODS = frozenset({"fqn", "tag", "path", "file", "package", "resource_type", "unique_id", "result"})
_KIND_WORDS = {
    "exposure": ("exposure", "Exposures", "exposure"),
    "metric": ("metric", "Metrics", "metric"),
    "semantic_model": ("semantic model", "Semantic models", "semantic_model"),
    "saved_query": ("saved query", "Saved queries", "saved_query"),
}


class ResourceView:
    """An exposure, metric, semantic model or saved query (a manifest dict), read as the selector reads nodes."""

    __slots__ = ("config", "fqn", "name", "original_file_path", "package_name", "resource_type", "tags", "unique_id")

    def __init__(self, data: dict[str, Any]) -> None:
        self.unique_id: str = data["unique_id"]
        self.resource_type: str = data["resource_type"]
        self.package_name: str = data["package_name"]
        self.name: str = data["name"]
        self.fqn: list[str] = list(data["fqn"])
        self.original_file_path: str = data["original_file_path"]
        tags = data.get("tags") or []
        self.tags: list[str] = [tags] if isinstance(tags, str) else list(tags)
        self.config: dict[str, Any] = dict(data.get("config") or {})


@dataclass(frozen=True)
class Atom:
    method: str
    value: str
    parents: bool = False
    parents_depth: int | None = None
    children: bool = False
    children_depth: int | None = None
    at: bool = False
    text: str = ""


def parse_atom(text: str) -> Atom:
    if not text:
        raise SelectionError("Empty selector")
    pos, end = 0, len(text)
    at = text.startswith("@")
    if at:
        pos = 1
    digits_start = pos
    while pos < end and text[pos].isdigit():
        pos += 1
    parents = False
    parents_depth = None
    if pos < end and text[pos] == "+":
        parents = True
        parents_depth = int(text[digits_start:pos]) if pos > digits_start else None
        pos += 1
    elif pos > digits_start:
        pos = digits_start  # digits belong to the value
    stop = end
    children = False
    children_depth = None
    tail = stop
    while tail > pos and text[tail - 1].isdigit():
        tail -= 1
    if tail > pos and text[tail - 1] == "+":
        children = True
        children_depth = int(text[tail:stop]) if tail < stop else None
        stop = tail - 1
    body = text[pos:stop]
    if not body:
        raise SelectionError(f"Invalid selector '{text}': nothing to select")
    if at and (parents or children):
        raise SelectionError(f"Invalid selector '{text}': '@' cannot be combined with '+'")
    method, sep, value = body.partition(":")
    if not sep:
        method, value = "fqn", body
    base = method.split(".", 1)[0]
    if base not in METHODS:
        raise SelectionError(f"Unknown selection method '{method}' in '{text}' (known: {', '.join(METHODS)})")
    if not value:
        raise SelectionError(f"Invalid selector '{text}': '{method}:' needs a value")
    if method == "state":
        check_state_method(value)
    elif method == "result":
        check_result_status(value)
    return Atom(method, value, parents, parents_depth, children, children_depth, at, text)


def parse(selection: Sequence[str]) -> list[list[Atom]]:
    """Each string may hold several space-separated terms; the result is a union of intersections."""
    terms: list[list[Atom]] = []
    for chunk in selection:
        for term in chunk.split():
            terms.append([parse_atom(part) for part in term.split(",") if part])
    return terms


def _glob(value: str, candidate: Any) -> bool:
    if candidate is None:
        return False
    if not _GLOB_CHARS.intersection(value):
        return str(candidate) == value  # what fnmatch answers for a pattern without wildcards
    return fnmatch.fnmatchcase(str(candidate), value)


_GLOB_CHARS = frozenset("*?[")


def _fqn_matches(value: str, name: str, fqn: list[str], path: str, version: Any) -> bool:
    """dbt's ``fqn:`` method (the default one): a path, a name, or a prefix of the fully qualified name."""
    if "/" in value or value.endswith(".sql") or value.endswith(".csv"):
        trimmed = value.rstrip("/")
        return path == trimmed or path.startswith(trimmed + "/") or path.endswith("/" + trimmed)
    if _glob(value, name):
        return True
    parts = value.split(".")
    if version is not None and "_".join(fqn[-2:]) == "_".join(parts[-2:]):
        return True  # a versioned model: `dim.v1` or `dim_v1`
    if len(parts) > len(fqn):
        return False
    return all(_glob(p, f) for p, f in zip(parts, fqn))


class Selector:
    def __init__(
        self,
        manifest: Manifest,
        graph: Graph,
        state: PreviousState | None = None,
        warn: Callable[[str], None] | None = None,
        breaking: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.manifest = manifest
        self.graph = graph
        self.state = state
        self.warn = warn  # warnings of state comparison (breaking contract changes)
        self._comparison: StateComparison | None = None
        self._breaking = breaking  # ``state:breaking``: the nodes breaking column changes reach, computed once
        self._broken: Collection[str] | None = None

    def _state_matches(self, method: str, value: str, unique_id: str) -> bool:
        """``state:<value>`` against the comparison manifest, ``result:<status>`` against its run results."""
        state = self.state
        if method == "result":
            if state is None or state.results is None:
                raise no_state_error("result")
            return state.results.get(unique_id) == value
        if state is None or not state.has_manifest:
            raise no_state_error("state", state)
        if value == "breaking":
            if self._breaking is None:
                raise SelectionError("state:breaking needs the column analysis of `modelkit diff`, not run here")
            if self._broken is None:
                self._broken = set(self._breaking())
            return unique_id in self._broken
        if self._comparison is None:
            self._comparison = StateComparison(self.manifest, state, self.warn)
        return self._comparison.matches(value, unique_id)

    def _items(self) -> Iterable[tuple[str, Any]]:
        yield from self.manifest.nodes.items()
        yield from self.manifest.sources.items()
        yield from self._resources

    @cached_property
    def _resources(self) -> list[tuple[str, ResourceView]]:
        return [(r["unique_id"], ResourceView(r)) for r in self.manifest.resources()]

    def _matches(self, atom: Atom, node: Any) -> bool:
        method, value = atom.method, atom.value
        if method in _KIND_WORDS:
            return _match_resource(method, value, node)
        if isinstance(node, ResourceView):
            if method == "group":  # dbt's groupable: nodes and metrics
                return node.resource_type == "metric" and _glob(value, node.config.get("group"))
            if method not in RESOURCE_METHODS:
                return False
        if method == "fqn":
            return self._match_fqn(value, node)
        if method == "tag":
            tags = node.tags if hasattr(node, "tags") else []
            return any(_glob(value, t) for t in tags)
        if method in ("path", "file"):
            path = node.original_file_path
            if method == "file":
                return _glob(value, path.rsplit("/", 1)[-1]) or _glob(value, path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            value = value.rstrip("/")
            return path == value or path.startswith(value + "/") or _glob(value, path)
        if method.startswith("config."):
            key = method[len("config.") :]
            current = node.config.get(key) if hasattr(node, "config") else None
            if isinstance(current, (list, tuple)):
                return any(_glob(value, c) for c in current)
            if isinstance(current, bool):
                return str(current).lower() == value.lower()
            return _glob(value, current)
        if method == "resource_type":
            return node.resource_type == value
        if method == "source":
            if node.resource_type != "source":
                return False
            parts = value.split(".")
            names = [node.source_name, node.name]
            if len(parts) == 3 and parts[0] == node.package_name:
                parts = parts[1:]
            return all(_glob(p, n) for p, n in zip(parts, names))
        if method == "package":
            return _glob(value, node.package_name)
        if method == "unique_id":
            return _glob(value, node.unique_id)
        if method == "test_type":
            return self._match_test_type(value, node)
        if method == "test_name":  # a generic test by its test's name; a unit test by its own name
            if node.resource_type == "unit_test":
                return _glob(value, node.name)
            meta = getattr(node, "test_metadata", None)
            return bool(meta) and _glob(value, meta.get("name"))
        if method in ("access", "group"):
            return _glob(value, node.config.get(method)) if hasattr(node, "config") else False
        if method == "version":
            return _match_version(value, node)
        if method in ("state", "result"):
            return self._state_matches(method, value, node.unique_id)
        return False

    @staticmethod
    def _match_test_type(value: str, node: Any) -> bool:
        kind = node.resource_type
        if value == "unit":
            return kind == "unit_test"
        if kind != "test":
            return False
        generic = bool(getattr(node, "test_metadata", None))
        if value == "data":
            return True
        return (value == "generic") == generic

    @staticmethod
    def _match_fqn(value: str, node: Any) -> bool:
        fqn = list(node.fqn)
        if node.resource_type == "source":
            fqn = [node.package_name, node.source_name, node.name]
        return _fqn_matches(value, node.name, fqn, node.original_file_path, getattr(node, "version", None))

    def _fqn_atom(self, value: str) -> set[str]:
        """The nodes, sources and resources ``fqn:value`` matches (nodes' from the manifest's ``fqn`` field)."""
        items = field_map(self.manifest.nodes, "fqn").items()
        if _GLOB_CHARS.isdisjoint(value) and "/" not in value and "." not in value:  # a plain name
            found = {
                uid
                for uid, (name, fqn, _path, version) in items
                if name == value or fqn[:1] == [value] or (version is not None and "_".join(fqn[-2:]) == value)
            }
        else:
            found = {uid for uid, (name, fqn, path, version) in items if _fqn_matches(value, name, fqn, path, version)}
        found.update(uid for uid, source in self.manifest.sources.items() if self._match_fqn(value, source))
        found.update(uid for uid, resource in self._resources if self._match_fqn(value, resource))
        return found

    def _atom(self, atom: Atom) -> set[str]:
        if atom.method == "fqn":
            base = self._fqn_atom(atom.value)
        else:
            base = {uid for uid, node in self._items() if self._matches(atom, node)}
        result = set(base)
        for uid in base:
            if atom.parents:
                result |= self.graph.ancestors(uid, atom.parents_depth)
            if atom.children or atom.at:
                children = self.graph.descendants(uid, atom.children_depth)
                result |= children
                if atom.at:
                    for child in children | {uid}:
                        result |= self.graph.ancestors(child)
        return result

    def evaluate(self, terms: list[list[Atom]], indirect: str = "eager") -> set[str]:
        """Union of intersections. With ``eager`` each atom brings its nodes' tests (so
        ``test_type:data,orders`` means the data tests of orders); other modes add tests afterwards."""
        selected: set[str] = set()
        for term in terms:
            found: set[str] | None = None
            for atom in term:
                matched = self._atom(atom)
                if indirect == "eager":
                    matched = self.with_tests(matched)
                found = matched if found is None else found & matched
            selected |= found or set()
        return selected if indirect == "eager" else self.with_tests(selected, indirect)

    def select_atoms(self, terms: list[list[Atom]], indirect: str = "eager") -> set[str]:
        return self.evaluate(terms, indirect)

    def select(
        self, include: Sequence[str] | None, exclude: Sequence[str] | None = None, *, indirect: str = "eager"
    ) -> set[str]:
        if include:
            selected = self.evaluate(parse(include), indirect)
        else:
            selected = set(self.manifest.nodes) | set(self.manifest.sources) | {uid for uid, _ in self._resources}
        if exclude:
            selected -= self.evaluate(parse(exclude))
        return selected

    def with_tests(self, selected: set[str], indirect: str = "eager") -> set[str]:
        """dbt's indirect selection: the tests (and unit tests) of selected nodes.

        ``eager``: any parent selected; ``cautious``: every parent selected; ``buildable``: every parent
        selected or an ancestor of a selected node; ``empty``: none.
        """
        if indirect == "empty":
            return set(selected)
        found = set(selected)
        allowed = set(selected)
        if indirect == "buildable":  # as dbt: parents of the selection, and every source
            allowed |= set(self.manifest.sources)
            for uid in selected:
                allowed |= self.graph.ancestors(uid)
        parents_of = field_map(self.manifest.nodes, "parents")
        kinds = field_map(self.manifest.nodes, "kind")
        children = self.graph.children
        # as dbt, only tests downstream of the selection are candidates: children of a selected node
        for uid in {child for node in selected for child in children.get(node, ())} - found:
            if kinds.get(uid) not in ("test", "unit_test"):
                continue
            if indirect == "eager" or all(parent in allowed for parent in parents_of.get(uid, ())):
                found.add(uid)
        return found

    def unmatched(self, include: Sequence[str] | None) -> list[str]:
        """Selector terms that match nothing (for dbt's warning)."""
        missing = []
        for term in parse(include or []):
            if not self.evaluate([term]):
                missing.append(",".join(a.text for a in term))
        return missing


def _match_resource(method: str, value: str, node: Any) -> bool:
    """dbt's ``exposure:``, ``metric:``, ``semantic_model:`` and ``saved_query:`` methods: ``name`` or
    ``package.name``, each part a glob."""
    if node.resource_type != method:
        return False
    parts = value.split(".")
    if len(parts) > 2:
        word, plural, key = _KIND_WORDS[method]
        raise SelectionError(
            f'Invalid {word} selector value "{value}". {plural} must be of the form ${{{key}_name}} or '
            f"${{{key}_package.{key}_name}}"
        )
    package, name = parts if len(parts) == 2 else ("*", parts[0])
    return _glob(package, node.package_name) and _glob(name, node.name)


def _match_version(value: str, node: Any) -> bool:
    """dbt's ``version:`` method: ``latest``, ``prerelease``, ``old`` or ``none``."""
    if value not in ("latest", "prerelease", "old", "none"):
        raise SelectionError(
            f'Invalid version type selector {value}: expected one of: "latest", "prerelease", "old", or "none"'
        )
    version = getattr(node, "version", None)
    if value == "none":
        return node.resource_type == "model" and version is None
    latest = getattr(node, "latest_version", None)
    if version is None or latest is None:
        return False
    if value == "latest":
        return str(version) == str(latest)
    if value == "prerelease":
        return version_less(latest, version)
    return version_less(version, latest)
