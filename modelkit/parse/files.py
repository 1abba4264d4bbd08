"""Finding and reading a project's files: SQL, macros (the project's and installed packages'), property
files and docs blocks. The parser builds nodes from what these return."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.core import fsio, yamlio
from modelkit.core.errors import ProjectError
from modelkit.parse.schema_yaml import SchemaFiles
from modelkit.parse.yamlrender import PropertyRenderer
from modelkit.project.project import load_project
from modelkit.render import templating

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest
    from modelkit.parse.cache import ParseCache
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
    return fsio.read_text(Path(os.path.join(root, rel)), rel)


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_macros(renderer: Renderer) -> MacroRegistry:
    project = renderer.project
    registry = renderer.registry
    for _folder, _, rel in walk(project.root, project.macro_paths, (".sql", ".jinja")):
        registry.add_file(read(project.root, rel), rel, project.name)
    for _folder, inner, rel in walk(project.root, project.test_paths, (".sql",)):
        if inner.startswith("generic/"):
            registry.add_file(read(project.root, rel), rel, project.name)
    load_package_macros(renderer)
    return registry


def load_package_macros(renderer: Renderer) -> None:
    """Macros of the packages installed under ``packages-install-path`` (``dbt_packages/``).

    Each package's macros are registered under its own name, so ``{{ dbt_utils.star(...) }}`` and
    ``adapter.dispatch('x', 'dbt_utils')`` find them; the root project's macros still win. Only
    macros are loaded: models, seeds and tests of packages are not part of the project.
    """

    project = renderer.project
    base = project.root / project.packages_install_path
    if not base.is_dir():
        return
    for child in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            package = load_project(child, renderer.cli_vars)
        except ProjectError:
            continue  # not a package folder
        if package.name == project.name:
            continue
        prefix = child.relative_to(project.root).as_posix()
        for _folder, _, rel in walk(child, package.macro_paths, (".sql",)):
            renderer.registry.add_file(read(child, rel), f"{prefix}/{rel}", package.name)


def read_schema_files(renderer: Renderer) -> list[tuple[str, str, str]]:
    """(path, text, checksum) of every property file, in walk order."""
    project = renderer.project
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
    renderer: Renderer,
    cache: ParseCache | None = None,
    files: list[tuple[str, str, str]] | None = None,
    parsed: dict[str, Any] | None = None,
) -> SchemaFiles:
    """The property files (``files`` as read by :func:`read_schema_files`; ``parsed``: data parsed already)."""
    schema = SchemaFiles(renderer=PropertyRenderer(renderer))
    parsed = parsed or {}
    for rel, text, sha in read_schema_files(renderer) if files is None else files:
        if cache is None:
            schema.add_data(parsed[rel] if rel in parsed else yamlio.loads(text, rel), text, rel)
            continue
        hit, data = cache.get_yaml(rel, sha)
        if not hit:
            data = parsed[rel] if rel in parsed else yamlio.loads(text, rel)
            cache.put_yaml(rel, sha, data)
        cache.seen.add(rel)
        schema.add_data(data, text, rel)
    return schema


def load_docs(renderer: Renderer, manifest: Manifest) -> None:
    project = renderer.project
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
