"""Finding and reading a project's files: SQL, macros (the project's and installed packages'), property
files and docs blocks; each function reads one project or package. The parser builds nodes from what
these return."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.core import fsio, yamlio
from modelkit.parse.macroindex import MacroIndex
from modelkit.parse.packages import Package
from modelkit.parse.schema_yaml import SchemaFiles
from modelkit.parse.yamlrender import PropertyRenderer
from modelkit.render import templating

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest
    from modelkit.parse.cache import ParseCache
    from modelkit.project.project import ProjectConfig
    from modelkit.render.context import Renderer
    from modelkit.render.macros import MacroRegistry


def walk(root: Path, folders: tuple[str, ...], suffixes: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    """Yield (folder, path relative to the folder, path relative to root), sorted."""
    root_text = str(root)
    for folder in folders:
        base = os.path.join(root_text, folder)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            inner_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
            prefix = "" if inner_dir == "." else inner_dir + "/"
            for filename in sorted(filenames):
                if filename.endswith(suffixes) and not filename.startswith("."):
                    inner = prefix + filename
                    yield folder, inner, f"{folder}/{inner}"


def read(root: Path, rel: str) -> str:
    """A project file as text (UTF-8, a byte-order mark dropped, ``\\r\\n`` read as ``\\n``); errors name it."""
    return fsio.read_text(os.path.join(root, rel), rel)  # a str: no Path built for each of many files


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAXIMUM_SEED_SIZE = 1024 * 1024  # dbt's limit: a larger seed's checksum is its path


def seed_checksum(path: Path, rel: str) -> tuple[str, str]:
    """A seed's (checksum, checksum name) as dbt computes them: sha256 of the file's text, stripped, or,
    over 1 MiB, its path (name ``path``), so that a large seed counts as changed only when it moves."""
    if path.stat().st_size > MAXIMUM_SEED_SIZE:
        return rel, "path"
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", "surrogateescape").strip()
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest(), "sha256"


def load_macros(renderer: Renderer, packages: Iterable[Package] = ()) -> MacroRegistry:
    """The macros of the root project and of each installed package (``tests/generic/`` included)."""
    registry = renderer.registry
    packages = list(packages)
    root = renderer.project
    index = MacroIndex(root.root / root.packages_install_path)
    for package in [Package(root), *packages]:
        project = package.config
        for _folder, _inner, rel in [
            *walk(project.root, project.macro_paths, (".sql", ".jinja")),
            *(f for f in walk(project.root, project.test_paths, (".sql",)) if f[1].startswith("generic/")),
        ]:  # a package's macros are known by their path in the package, as in dbt
            text, path = read(project.root, rel), package.prefix + rel
            if package.is_root:
                registry.add_file(text, path, project.name)
            else:
                registry.add_discovered(text, path, project.name, index.macros(text, path, project.name, rel))
    if packages:
        index.save()
    return registry


def read_schema_files(project: ProjectConfig) -> list[tuple[str, str, str]]:
    """(path, text, checksum) of every property file, in walk order."""
    folders = (
        project.model_paths
        + project.seed_paths
        + project.snapshot_paths
        + project.analysis_paths
        + project.macro_paths
        + project.test_paths
    )
    found = []
    for _, _, rel in walk(project.root, tuple(dict.fromkeys(folders)), (".yml", ".yaml")):
        text = read(project.root, rel)
        found.append((rel, text, checksum(text)))
    return found


def load_schema_files(
    project: ProjectConfig,
    cache: ParseCache | None = None,
    files: list[tuple[str, str, str]] | None = None,
    parsed: dict[str, Any] | None = None,
    prefix: str = "",
    renderer: Renderer | None = None,
) -> SchemaFiles:
    """The property files (``files`` as read by :func:`read_schema_files`; ``parsed``: data parsed already).

    ``prefix`` (a package's folder) keys the files in ``parsed`` and in the cache; ``renderer`` renders the
    Jinja in their entries (with ``target``, ``var``, ``env_var``) as each file is added.
    """
    schema = SchemaFiles(renderer=PropertyRenderer(renderer) if renderer is not None else None)
    parsed = parsed or {}
    for rel, text, sha in read_schema_files(project) if files is None else files:
        key = prefix + rel
        if cache is None:
            schema.add_data(parsed[key] if key in parsed else yamlio.loads(text, rel), text, rel)
            continue
        hit, data = cache.get_yaml(key, sha)
        if not hit:
            data = parsed[key] if key in parsed else yamlio.loads(text, rel)
            cache.put_yaml(key, sha, data)
        cache.seen.add(key)
        schema.add_data(data, text, rel)
    return schema


def load_docs(renderer: Renderer, manifest: Manifest, project: ProjectConfig | None = None) -> None:
    """The ``{% docs %}`` blocks of the root project (or of ``project``, an installed package)."""
    project = project or renderer.project
    for _, _, rel in walk(project.root, project.all_doc_paths, (".md",)):
        text = read(project.root, rel)
        if "{% docs" not in text and "{%docs" not in text and "{%- docs" not in text:
            continue
        template = templating.get_template(text, rel, parse=True)
        ctx = renderer.context(None, execute=False, path=rel)
        module = templating.make_module(template, ctx)
        for name in dir(module):
            if name.startswith("docs_"):
                doc_name = name[len("docs_") :]
                manifest.docs[f"doc.{project.name}.{doc_name}"] = {
                    "name": doc_name,
                    "package_name": project.name,
                    "original_file_path": rel,
                    "unique_id": f"doc.{project.name}.{doc_name}",
                    "block_contents": str(getattr(module, name)()).strip(),
                }
