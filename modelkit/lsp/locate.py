"""What is under the cursor of a model's text, and where the project defines it.

>>> found = at("select * from {{ ref('orders') }}", 0, 22)
>>> found.kind, found.args
('ref', ('orders',))
>>> completion_context("from {{ source('shop', 'cu", 26)
('source_table', 'shop')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from modelkit.core.manifest import Manifest, Node, SourceDefinition
from modelkit.core.relation import Relation

_STR = r"""\s*(['"])([^'"]*)\{n}\s*"""
CALLS = {
    "ref": re.compile(r"\bref\(" + _STR.format(n=1) + r"(?:," + _STR.format(n=3) + r")?\)"),
    "source": re.compile(r"\bsource\(" + _STR.format(n=1) + r"," + _STR.format(n=3) + r"\)"),
    "doc": re.compile(r"\bdoc\(" + _STR.format(n=1) + r"\)"),
}
CALL = re.compile(r"\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*\(")
NOT_MACROS = frozenset({"ref", "source", "doc", "config", "var", "env_var", "is_incremental", "this", "return"})
RELATION_TYPES = ("model", "seed", "snapshot")
ALIAS = re.compile(r"""(?:from|join)\s+(\{\{.*?\}\}|[\w."]+)\s+(?:as\s+)?(\w+)""", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Found:
    kind: str  # ref | source | doc | macro
    args: tuple[str, ...]


def at(text: str, line: int, character: int) -> Found | None:
    """The ref(), source(), doc() call or macro name at a 0-based line and character."""
    lines = text.splitlines()
    if line >= len(lines):
        return None
    row = lines[line]
    for kind, pattern in CALLS.items():
        for m in pattern.finditer(row):
            if m.start() <= character <= m.end():
                args = tuple(g for i, g in enumerate(m.groups()) if i % 2 == 1 and g is not None)
                return Found(kind, args)
    for m in CALL.finditer(row):
        if m.start() <= character <= m.end(1) and m.group(1) not in NOT_MACROS:
            return Found("macro", (m.group(1),))
    return None


def completion_context(row: str, character: int) -> tuple[str, str] | None:
    """(what completes, of what) for the text before the cursor: ``("ref", "")``, ``("source", "")``,
    ``("source_table", source name)`` or ``("column", alias)``."""
    before = row[:character]
    if m := re.search(r"""\bsource\(\s*['"]([^'"]*)['"]\s*,\s*['"][^'"]*$""", before):
        return ("source_table", m.group(1))
    if re.search(r"""\bref\(\s*['"][^'"]*$""", before):
        return ("ref", "")
    if re.search(r"""\bsource\(\s*['"][^'"]*$""", before):
        return ("source", "")
    if m := re.search(r"""\b([A-Za-z_]\w*)\.\w*$""", before):
        return ("column", m.group(1))
    return None


def alias_target(text: str, alias: str) -> Found | None:
    """The ref() or source() an alias of the query stands for (``from {{ ref('x') }} as o``)."""
    for m in ALIAS.finditer(text):
        if m.group(2).lower() != alias.lower():
            continue
        for kind in ("ref", "source"):
            call = CALLS[kind].search(m.group(1))
            if call is not None:
                return Found(kind, tuple(g for i, g in enumerate(call.groups()) if i % 2 == 1 and g is not None))
    return None


def target_of(manifest: Manifest, found: Found) -> Node | SourceDefinition | None:
    """The node a ref() names (the root project's first) or the source table a source() names."""
    if found.kind == "ref":
        name = found.args[-1]
        package = found.args[0] if len(found.args) > 1 else None
        matches = [
            n
            for n in manifest.nodes.values()
            if n.resource_type in RELATION_TYPES and n.name == name and package in (None, n.package_name)
        ]
        matches.sort(key=lambda n: (n.package_name != manifest.project_name, str(n.version or "")))
        return matches[0] if matches else None
    if found.kind == "source" and len(found.args) == 2:
        for source in manifest.sources.values():
            if (source.source_name, source.name) == found.args:
                return source
    return None


def definition(manifest: Manifest, found: Found, root: Path) -> tuple[str, int] | None:
    """(project-relative file, 0-based line) where what ``found`` names is defined."""
    if found.kind in ("ref", "source"):
        target = target_of(manifest, found)
        if target is None:
            return None
        if isinstance(target, SourceDefinition):
            if target.yaml_line:
                return target.original_file_path, target.yaml_line - 1
            return target.original_file_path, source_entry_line(root / target.original_file_path, *found.args)
        return target.original_file_path, 0
    if found.kind == "macro":
        name = found.args[0]
        package, _, short = name.rpartition(".")
        macros = [m for m in manifest.macros.values() if m.name == short and (not package or m.package_name == package)]
        macros.sort(key=lambda m: (m.package_name != manifest.project_name, m.original_file_path.startswith("<")))
        for macro in macros:
            path = macro.file_key or macro.original_file_path
            if not path.startswith("<"):
                return path, max(macro.line - 1, 0)
        return None
    if found.kind == "doc":
        name = found.args[-1]
        for entry in manifest.docs.values():
            if entry.get("name") == name:
                path = str(entry.get("original_file_path", ""))
                return path, docs_block_line(root / path, name)
    return None


def source_entry_line(path: Path, source: str, table: str) -> int:
    """The 0-based line of a source table's ``- name:`` entry in a property file (its source's, or 0)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    entry = re.compile(r"""^\s*-\s*name:\s*['"]?([^'"#]*?)['"]?\s*(#.*)?$""")
    in_sources, source_line = False, None
    for i, row in enumerate(lines):
        if re.match(r"^sources\s*:", row):
            in_sources = True
        elif re.match(r"^\w", row):
            in_sources = False
        m = entry.match(row) if in_sources else None
        if m is None:
            continue
        if source_line is None and m.group(1) == source:
            source_line = i
        elif source_line is not None and m.group(1) == table:
            return i
    return source_line or 0


def docs_block_line(path: Path, name: str) -> int:
    """The 0-based line of ``{% docs name %}`` in a docs file (0 if it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return 0
    m = re.search(r"\{%-?\s*docs\s+" + re.escape(name) + r"\s*-?%\}", text)
    return text.count("\n", 0, m.start()) if m else 0


def relation_name(target: Node | SourceDefinition) -> str:
    if isinstance(target, SourceDefinition):
        return target.relation_name
    return Relation(target.database, target.schema, target.alias or target.name).render()
