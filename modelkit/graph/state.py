"""State comparison: the nodes of this project against a previous manifest (dbt's ``state:`` and ``result:``).

The previous state is plain data read from ``manifest.json`` (and ``run_results.json``): a dbt- or
modelkit-written one, or the project as parsed at a git revision. Current nodes are compared in the same
shape (:func:`modelkit.artifacts.writer.node_dict`), so both sides are read the same way.

"modified" means what dbt means: the raw file contents (not the compiled SQL), the configs as written
(``unrendered_config``: project-level values stay unrendered, so ``env_var()`` there causes no change),
the relation as configured (``database``/``schema``/``alias`` as written, not as generated), descriptions
that are persisted, the contract, and the macros a node calls, followed transitively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from modelkit.artifacts.writer import node_dict, source_dict
from modelkit.core.errors import SelectionError, StateError
from modelkit.core.manifest import Manifest
from modelkit.core.text import did_you_mean
from modelkit.graph.contractdiff import breaking_changes, unversioned_warning, versioned_error
from modelkit.graph.statecompare import (
    same_body,
    same_config,
    same_contents,
    same_contract,
    same_persisted_description,
    same_relation,
)

STATE_METHODS = (
    "new", "old", "modified", "unmodified", "modified.body", "modified.configs",
    "modified.persisted_descriptions", "modified.relation", "modified.macros", "modified.contract",
    "breaking",
)  # fmt: skip
RESULT_STATUSES = ("error", "fail", "warn", "skipped", "success", "pass", "runtime error", "no-op", "partial success")
BUILTIN_PACKAGES = ("dbt",)  # the built-in macros belong to the tool's version, not to the project
NODE_KINDS = ("model", "seed", "snapshot", "test", "analysis", "operation", "sql_operation")


@dataclass(frozen=True)
class PreviousState:
    """A comparison manifest (and the run results next to it), as JSON-shaped dicts."""

    origin: str  # what it was read from, for messages: a folder, or "git revision REV"
    nodes: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # nodes and unit tests
    sources: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    macros: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    results: Mapping[str, str] | None = None  # unique_id -> status of run_results.json, when there is one
    has_manifest: bool = True  # False: a folder with run_results.json only (enough for ``result:``)
    warned: set[str] = field(default_factory=set, compare=False)  # contract warnings given (each once)

    @classmethod
    def from_manifest(
        cls, data: Mapping[str, Any], origin: str, results: Mapping[str, str] | None = None
    ) -> PreviousState:
        """From manifest.json's content (``nodes``, ``unit_tests``, ``sources``, ``macros``)."""
        nodes = {**(data.get("nodes") or {}), **(data.get("unit_tests") or {})}
        return cls(origin, nodes, dict(data.get("sources") or {}), dict(data.get("macros") or {}), results)

    def get(self, unique_id: str) -> dict[str, Any] | None:
        return self.nodes.get(unique_id) or self.sources.get(unique_id)

    def relation_name(self, unique_id: str) -> str | None:
        node = self.nodes.get(unique_id)
        return node.get("relation_name") if node else None


def check_state_method(value: str) -> None:
    """A ``state:`` method name dbt knows; otherwise dbt's error, with a suggestion."""
    if value not in STATE_METHODS:
        raise SelectionError(
            f'Got an invalid selector "{value}", expected one of "{list(STATE_METHODS)}".'
            + did_you_mean(value, list(STATE_METHODS))
        )


def check_result_status(value: str) -> None:
    if value not in RESULT_STATUSES:
        raise SelectionError(
            f"Invalid result status '{value}': expected one of {', '.join(RESULT_STATUSES)}."
            + did_you_mean(value, list(RESULT_STATUSES))
        )


Checker = Callable[[dict[str, Any] | None, dict[str, Any]], bool]


class StateComparison:
    """Answers ``state:<method>`` for the nodes of ``manifest`` against ``previous``."""

    def __init__(self, manifest: Manifest, previous: PreviousState, warn: Callable[[str], None] | None = None) -> None:
        self.manifest = manifest
        self.previous = previous
        self.warn = warn or (lambda message: None)
        self._dicts: dict[str, dict[str, Any]] = {}
        self._removed_checked = False

    def _contract_changed(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
        """Whether a model's contract changed; a breaking change warns (unversioned) or fails (versioned)."""
        if old is None or old.get("resource_type") != "model":
            return old is None and new is not None
        if new is not None and same_contract(new, old):
            return False
        changes = breaking_changes(new, old)
        if new is None and old["unique_id"] in self.manifest.disabled:
            changes = [f"Contracted model '{old['unique_id']}' was disabled."] if changes else []
        if changes:
            if (new or old).get("version") is not None:
                raise versioned_error(new or old, changes)
            if old["unique_id"] not in self.previous.warned:
                self.previous.warned.add(old["unique_id"])
                self.warn(unversioned_warning(new or old, changes))
        return True

    def _check_removed(self) -> None:
        """As dbt, once: a contracted model that was deleted, renamed or disabled is a breaking change."""
        if self._removed_checked:
            return
        self._removed_checked = True
        for uid, old in self.previous.nodes.items():
            if uid not in self.manifest.nodes and old.get("resource_type") == "model":
                self._contract_changed(old, None)

    def current(self, unique_id: str) -> dict[str, Any]:
        found = self._dicts.get(unique_id)
        if found is None:
            node = self.manifest.nodes.get(unique_id)
            found = node_dict(node) if node is not None else source_dict(self.manifest.sources[unique_id])
            self._dicts[unique_id] = found
        return found

    @cached_property
    def modified_macros(self) -> set[str]:
        """Macros added, removed or changed (their text), the built-in ones left aside."""
        old = self.previous.macros
        new = self.manifest.macros
        changed = {uid for uid, m in new.items() if uid not in old or m.macro_sql != old[uid].get("macro_sql")}
        changed |= {uid for uid in old if uid not in new}
        return {uid for uid in changed if uid.split(".")[1] not in BUILTIN_PACKAGES}

    @cached_property
    def _macro_calls(self) -> dict[str, set[str]]:
        """Each macro's callees among the manifest's macros: by name, in its own package, then the root."""
        by_name: dict[tuple[str, str], str] = {(m.package_name, m.name): uid for uid, m in self.manifest.macros.items()}
        calls: dict[str, set[str]] = {}
        for uid, macro in self.manifest.macros.items():
            found = set()
            for name in macro.references:
                for package in (macro.package_name, self.manifest.project_name):
                    if (package, name) in by_name:
                        found.add(by_name[(package, name)])
                        break
            calls[uid] = found
        return calls

    def macros_modified(self, unique_id: str) -> bool:
        """Whether a macro the node calls, directly or through other macros, changed."""
        if not self.modified_macros:
            return False
        node = self.manifest.nodes.get(unique_id)
        stack = list(node.depends_on_macros) if node is not None else []
        seen: set[str] = set()
        while stack:
            uid = stack.pop()
            if uid in seen:
                continue
            seen.add(uid)
            if uid in self.modified_macros:
                return True
            stack.extend(self._macro_calls.get(uid, ()))
        return False

    def _modified(self, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        self._check_removed()
        if old is None:
            different = new.get("resource_type") != "source"  # as dbt: a new source is not "modified"
        else:
            different = not same_contents(new, old)
        contract = old is not None and self._contract_changed(old, new)
        return different or self.macros_modified(new["unique_id"]) or contract

    def _modified_contract(self, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        self._check_removed()
        if new.get("resource_type") not in NODE_KINDS:
            return False
        return old is None or self._contract_changed(old, new)

    def _factory(self, same: Callable[[dict[str, Any], dict[str, Any]], bool], kinds: tuple[str, ...]) -> Checker:
        def check(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
            if new.get("resource_type") not in kinds:
                return False
            return old is None or not same(new, old)

        return check

    @cached_property
    def checkers(self) -> dict[str, Checker]:
        nodes = NODE_KINDS
        return {
            "new": lambda old, new: old is None,
            "old": lambda old, new: old is not None,
            "modified": self._modified,
            "unmodified": lambda old, new: not self._modified(old, new),
            "modified.body": self._factory(same_body, nodes),
            "modified.configs": self._factory(same_config, (*nodes, "source", "unit_test")),
            "modified.persisted_descriptions": self._factory(same_persisted_description, nodes),
            "modified.relation": self._factory(same_relation, (*nodes, "source")),
            "modified.macros": lambda old, new: self.macros_modified(new["unique_id"]),
            "modified.contract": self._modified_contract,
        }

    def matches(self, method: str, unique_id: str) -> bool:
        check_state_method(method)
        old, new = self.previous.get(unique_id), self.current(unique_id)
        if old is not None and method in ("modified", "unmodified", "modified.body"):
            self._large_seed_warning(old, new)
        return self.checkers[method](old, new)

    def _large_seed_warning(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """dbt's warnings for a seed over 1 MiB, whose checksum is its path (once per seed)."""
        if new.get("resource_type") != "seed" or (new.get("checksum") or {}).get("name") != "path":
            return
        key = f"seed size {new['unique_id']}"
        if key in self.previous.warned:
            return
        self.previous.warned.add(key)
        name = f"{new.get('package_name')}.{new.get('name')}"
        if (old.get("checksum") or {}).get("name") != "path":
            text = "The previous file was <=1MB, so it has changed"
        elif old.get("checksum") == new.get("checksum"):
            text = None
        else:
            text = "The previous file was in a different location, assuming it has changed"
        if text is None:
            self.warn(f"Found a seed ({name}) >1MB in size at the same path, dbt cannot tell if it has "
                      "changed: assuming they are the same")  # fmt: skip
        else:
            self.warn(f"Found a seed ({name}) >1MB in size. {text}")


def no_state_error(method: str, state: PreviousState | None = None) -> StateError:
    if state is not None and method != "result":
        return StateError(
            f"Got a state selector method, but no comparison manifest: the --state folder '{state.origin}' "
            "has no manifest.json"
        )
    if method == "result":
        return StateError(
            "No comparison run_results: 'result:' selection reads run_results.json from the --state folder "
            "(pass --state DIR)"
        )
    return StateError(
        "Got a state selector method, but no comparison manifest: pass --state DIR (a folder holding "
        "a manifest.json) or --state-git REV"
    )
