"""The parse cache: per-file parse results, keyed so that it cannot be stale.

Stored as JSON in ``target/modelkit_parse_cache.json``. An entry is used only
when the file's content hash matches and, for templates, every environment
variable the template read still has the value it had. The whole cache is
dropped when anything global changes: modelkit's version, the project file,
``--vars``, the target, or any macro file (macros can change what a template
records). The graph is rebuilt from the cached pieces on every run, never
patched.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.core import jsonio
from modelkit.render.context import MODELKIT_VERSION, Capture

CACHE_FILE = "modelkit_parse_cache.json"
FORMAT = 3  # 2: duplicate YAML keys are refused; 3: the vars a template read are kept


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def global_key(
    project_text: str, cli_vars: dict[str, Any], target: dict[str, Any], macro_sources: dict[str, str]
) -> str:
    payload = {
        "format": FORMAT,
        "modelkit": MODELKIT_VERSION,
        "project": project_text,
        "vars": cli_vars,
        "target": {k: target.get(k) for k in ("name", "type", "schema", "database", "profile_name")},
        "macros": {path: digest(text) for path, text in sorted(macro_sources.items())},
    }
    return digest(json.dumps(payload, sort_keys=True, default=str))


@dataclass
class ParseCache:
    path: Path
    key: str
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    yaml: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # files met in this parse (others are pruned)
    hits: int = 0
    misses: int = 0
    dirty: bool = False

    @classmethod
    def load(cls, target_dir: Path, key: str) -> ParseCache:
        path = target_dir / CACHE_FILE
        cache = cls(path, key)
        try:
            data = jsonio.read(path)
        except (OSError, ValueError):
            return cache
        if data.get("key") == key and data.get("format") == FORMAT:
            cache.templates = data.get("templates", {})
            cache.yaml = data.get("yaml", {})
        else:
            cache.dirty = True
        return cache

    # -- templates -----------------------------------------------------------
    def vars_read(self, rel: str) -> list[str]:
        """The names of the vars the template of ``rel`` read when it was rendered (none when read statically)."""
        entry = self.templates.get(rel)
        return list(entry.get("vars", [])) if entry is not None else []

    def get_capture(self, rel: str, sha: str) -> tuple[Capture, set[str]] | None:
        entry = self.templates.get(rel)
        if entry is None or entry.get("sha") != sha:
            self.misses += 1
            return None
        for name, value in entry.get("env", {}).items():
            if os.environ.get(name) != value:
                self.misses += 1
                return None
        self.hits += 1
        capture = Capture(
            refs=entry["refs"],
            sources=entry["sources"],
            config=entry["config"],
            env_vars=dict(entry.get("env", {})),
            ref_lines=entry["ref_lines"],
            source_lines=entry["source_lines"],
        )
        return capture, set(entry["macros"])

    def put_capture(
        self, rel: str, sha: str, capture: Capture, macros: set[str], var_names: set[str] | None = None
    ) -> None:
        entry = {
            "sha": sha,
            "refs": capture.refs,
            "sources": capture.sources,
            "config": capture.config,
            "env": capture.env_vars,
            "ref_lines": capture.ref_lines,
            "source_lines": capture.source_lines,
            "macros": sorted(macros),
            "vars": sorted(var_names or ()),
        }
        if capture.config and not jsonio.is_plain(capture.config):
            return  # not plain data (e.g. a date in config): parse it again next time
        self.templates[rel] = entry
        self.dirty = True

    # -- YAML ----------------------------------------------------------------
    def has_yaml(self, rel: str, sha: str) -> bool:
        """Whether :meth:`get_yaml` would hit (without counting a hit or a miss)."""
        entry = self.yaml.get(rel)
        return entry is not None and entry.get("sha") == sha

    def get_yaml(self, rel: str, sha: str) -> tuple[bool, Any]:
        entry = self.yaml.get(rel)
        if entry is None or entry.get("sha") != sha:
            self.misses += 1
            return False, None
        self.hits += 1
        return True, entry["data"]

    def put_yaml(self, rel: str, sha: str, data: Any) -> None:
        if not jsonio.is_plain(data):
            return  # dates and other non-JSON values: not cached
        self.yaml[rel] = {"sha": sha, "data": data}
        self.dirty = True

    def prune(self, seen: set[str]) -> None:
        for store in (self.templates, self.yaml):
            for rel in [r for r in store if r not in seen]:
                del store[rel]
                self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        data = {
            "format": FORMAT,
            "key": self.key,
            "templates": self.templates,
            "yaml": self.yaml,
        }
        jsonio.write(self.path, data, spare=True)
        self.dirty = False
