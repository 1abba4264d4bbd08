"""YAML selectors: ``selectors.yml`` at the project root, in dbt's grammar.

selectors:
  - name: nightly
    description: ...
    default: true                       # used when no --select / --selector is given
    definition:                         # one of:
      "tag:nightly +orders"             #   a string in the --select syntax
      {method: tag, value: nightly, parents: true, parents_depth: 1, children: true,
       children_depth: 2, childrens_parents: true, indirect_selection: cautious}
      {union: [definition, ..., {exclude: [definition, ...]}]}
      {intersection: [definition, ...]}
      {method: selector, value: other_selector}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelkit.core import yamlio
from modelkit.core.errors import ProjectError, SelectionError
from modelkit.graph.selector import METHODS, Atom, Selector, parse

SELECTORS_FILE = "selectors.yml"
_CRITERIA_KEYS = {"method", "value", "parents", "parents_depth", "children", "children_depth",
                  "childrens_parents", "indirect_selection", "description"}  # fmt: skip
_INDIRECT = ("eager", "cautious", "buildable", "empty")


def _fail(message: str) -> ProjectError:
    return ProjectError(message, path=SELECTORS_FILE)


def load_selectors(root: Path) -> dict[str, dict[str, Any]]:
    """The selectors of ``root/selectors.yml`` by name ({} without the file); a malformed file is an error."""
    path = root / SELECTORS_FILE
    if not path.is_file():
        return {}
    data = yamlio.load(path, display=SELECTORS_FILE)
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not isinstance(data.get("selectors"), list):
        raise _fail("selectors.yml must hold a mapping with a `selectors:` list")
    found: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(data["selectors"]):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or "definition" not in entry:
            raise _fail(f"selector #{i + 1} must be a mapping with `name` and `definition`")
        if entry["name"] in found:
            raise _fail(f"selector '{entry['name']}' is defined twice")
        _check(entry["definition"], entry["name"])
        found[entry["name"]] = dict(entry)
    defaults = [name for name, entry in found.items() if entry.get("default") is True]
    if len(defaults) > 1:
        raise _fail(f"only one selector may set `default: true` (found {', '.join(defaults)})")
    return found


def _check(definition: Any, name: str) -> None:
    """Reject what dbt rejects, naming the selector."""
    if isinstance(definition, str):
        try:
            parse([definition])
        except SelectionError as exc:
            raise _fail(f"selector '{name}': {exc.message}") from None
        return
    if not isinstance(definition, Mapping):
        raise _fail(f"selector '{name}': a definition is a string or a mapping, not {type(definition).__name__}")
    keys = set(definition)
    if keys & {"union", "intersection"}:
        if len(keys) != 1:
            raise _fail(f"selector '{name}': `union` / `intersection` must stand alone (found {sorted(keys)})")
        items = definition.get("union", definition.get("intersection"))
        if not isinstance(items, list) or not items:
            raise _fail(f"selector '{name}': `{next(iter(keys))}` takes a non-empty list")
        for item in items:
            if isinstance(item, Mapping) and set(item) == {"exclude"}:
                if not isinstance(item["exclude"], list):
                    raise _fail(f"selector '{name}': `exclude` takes a list")
                for sub in item["exclude"]:
                    _check(sub, name)
            else:
                _check(item, name)
        return
    unknown = keys - _CRITERIA_KEYS
    if unknown or "method" not in keys or "value" not in keys:
        detail = f"unknown keys {sorted(unknown)}" if unknown else "`method` and `value` are required"
        raise _fail(f"selector '{name}': {detail}")
    method = str(definition["method"])
    if method != "selector" and method.split(".", 1)[0] not in METHODS:
        raise _fail(f"selector '{name}': unknown method '{method}'")
    mode = definition.get("indirect_selection")
    if mode is not None and mode not in _INDIRECT:
        raise _fail(f"selector '{name}': indirect_selection must be one of {', '.join(_INDIRECT)}")


def default_selector(selectors: Mapping[str, Mapping[str, Any]]) -> str | None:
    return next((name for name, entry in selectors.items() if entry.get("default") is True), None)


def evaluate(
    selector: Selector, selectors: Mapping[str, Mapping[str, Any]], name: str, indirect: str = "eager"
) -> set[str]:
    """The unique_ids the named selector selects (tests added as ``indirect`` says)."""
    if name not in selectors:
        known = ", ".join(sorted(selectors)) or "none: there is no selectors.yml"
        raise SelectionError(f"Could not find selector named '{name}' in {SELECTORS_FILE} (known: {known})")
    return _definition(selector, selectors, selectors[name]["definition"], indirect, (name,))


def _definition(
    selector: Selector, selectors: Mapping[str, Any], definition: Any, indirect: str, seen: tuple[str, ...]
) -> set[str]:
    if isinstance(definition, str):
        return selector.select([definition], None, indirect=indirect)
    if "union" in definition or "intersection" in definition:
        union = "union" in definition
        found: set[str] | None = None
        excluded: set[str] = set()
        for item in definition["union" if union else "intersection"]:
            if isinstance(item, Mapping) and set(item) == {"exclude"}:
                for sub in item["exclude"]:
                    excluded |= _definition(selector, selectors, sub, indirect, seen)
                continue
            part = _definition(selector, selectors, item, indirect, seen)
            found = part if found is None else (found | part if union else found & part)
        return (found or set()) - excluded
    method, value = str(definition["method"]), str(definition["value"])
    if method == "selector":
        if value in seen:
            raise _fail(f"selector '{seen[0]}' refers to itself through '{value}'")
        if value not in selectors:
            raise _fail(f"selector '{seen[-1]}' refers to an unknown selector '{value}'")
        return _definition(selector, selectors, selectors[value]["definition"], indirect, (*seen, value))
    atom = Atom(
        method,
        value,
        parents=bool(definition.get("parents")),
        parents_depth=definition.get("parents_depth"),
        children=bool(definition.get("children")),
        children_depth=definition.get("children_depth"),
        at=bool(definition.get("childrens_parents")),
        text=f"{method}:{value}",
    )
    return selector.select_atoms([[atom]], definition.get("indirect_selection") or indirect)
