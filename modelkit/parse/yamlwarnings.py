"""The warnings dbt gives while parsing property files, in dbt's words.

- a ``models:`` / ``seeds:`` / ``analyses:`` entry naming no such node (``NoNodeForYamlKey``), or a
  node of another kind (``WrongResourceSchemaFile``): the entry is ignored, its tests are kept;
- a data test whose ``ref()`` or ``source()`` names nothing (``NodeNotFoundOrDisabled``): the test
  is disabled rather than failing the parse, as are tests of disabled nodes (quietly);
- a model past its ``deprecation_date`` (``DeprecatedModel``), and models referring to a deprecated
  or soon deprecated one (``DeprecatedReference``, ``UpcomingReferenceDeprecation``).
"""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Callable

from modelkit.core.manifest import Manifest, Node
from modelkit.graph.resolve import REFABLE, Resolver
from modelkit.parse.schema_yaml import SchemaFiles

Log = Callable[[str], None]
PRINTER_WIDTH = 80
_PLURALS = {"model": "models", "seed": "seeds", "snapshot": "snapshots", "analysis": "analyses"}


def warning(message: str) -> str:
    return f"[WARNING]: {message}"


def wrapped(message: str) -> str:
    """dbt's ``line_wrap_message``: dedented, paragraphs filled to 80 columns."""
    text = textwrap.dedent(message)
    return "\n".join(textwrap.fill(chunk, width=PRINTER_WIDTH, break_on_hyphens=False) for chunk in text.split("\n\n"))


def no_node_for_yaml_key(name: str, yaml_key: str, path: str) -> str:
    return warning(
        f"Did not find matching node for patch with name '{name}' in the '{yaml_key}' section of file '{path}'"
    )


def wrong_resource_schema_file(name: str, resource_type: str, yaml_key: str, path: str) -> str:
    plural = _PLURALS.get(resource_type, resource_type + "s")
    return warning(
        wrapped(
            f"""\
            '{name}' is a {resource_type} node, but it is
            specified in the {yaml_key} section of
            {path}.
            To fix this error, place the `{name}`
            specification under the {plural} key instead.
            """
        )
    )


def check_patches(manifest: Manifest, schema: SchemaFiles, log: Log) -> None:
    """Warn about entries of ``models:``, ``seeds:`` and ``analyses:`` that describe no such node."""
    enabled: dict[str, Node] = {}
    for node in manifest.nodes.values():
        if node.resource_type in REFABLE:
            enabled.setdefault(node.name, node)
    for key, kind in (("models", "model"), ("seeds", "seed"), ("analyses", "analysis")):
        known = {n.name for n in manifest.nodes.values() if n.resource_type == kind}
        known |= {n.name for ns in manifest.disabled.values() for n in ns if n.resource_type == kind}
        for name, patch in schema.patches[key].items():
            if name in known or (key == "models" and patch.entry.get("versions")):
                continue
            other = enabled.get(name) if key != "analyses" else None
            if other is not None:
                log(wrong_resource_schema_file(name, other.resource_type, key, patch.path))
            else:
                log(no_node_for_yaml_key(name, key, patch.path))


def _not_found(test: Node, kind: str, name: str, package: str | None) -> str:
    return warning(
        f"Test '{test.unique_id}' ({test.original_file_path}) depends on a {kind} named '{name}' "
        f"in package '{package or ''}' which was not found"
    )


def disable_orphan_tests(manifest: Manifest, log: Log) -> None:
    """Move data tests whose ref() or source() names nothing enabled to ``disabled``, as dbt does."""
    resolver = Resolver(manifest)
    for unique_id, node in list(manifest.nodes.items()):
        if node.resource_type != "test":
            continue
        orphan, message = False, None
        for ref in node.refs:
            if resolver.find_node(ref["name"], ref.get("package"), ref.get("version")) is None:
                orphan = True  # a test of a disabled node is disabled quietly
                if not resolver.is_disabled(ref["name"]):
                    message = _not_found(node, "node", ref["name"], ref.get("package"))
                break
        else:
            for source_name, table_name in node.sources:
                if resolver.find_source(source_name, table_name) is None:
                    orphan = True
                    message = _not_found(node, "source", f"{source_name}.{table_name}", None)
                    break
        if not orphan:
            continue
        if message is not None:
            log(message)
        node.config["enabled"] = False
        del manifest.nodes[unique_id]
        manifest.disabled.setdefault(unique_id, []).append(node)


def _version_text(node: Node) -> str:
    return f".v{node.version}" if node.version is not None else ""


def model_deprecations(manifest: Manifest, log: Log, now: datetime.datetime | None = None) -> None:
    """dbt's warnings for models with a ``deprecation_date`` and the models that refer to them."""
    moment = now or datetime.datetime.now().astimezone()
    children: dict[str, list[Node]] = {}
    for node in manifest.nodes.values():
        for parent in node.depends_on_nodes:
            children.setdefault(parent, []).append(node)
    for node in manifest.nodes.values():
        deprecation = getattr(node, "deprecation_date", None)
        if node.resource_type != "model" or not deprecation:
            continue
        past = datetime.datetime.fromisoformat(deprecation) < moment
        if past:
            log(
                warning(
                    f"Model {node.name}{_version_text(node)} has passed its deprecation date of {deprecation}. "
                    "This model should be disabled or removed."
                )
            )
        for child in sorted(children.get(node.unique_id, []), key=lambda n: n.unique_id):
            if child.resource_type != "model":
                continue
            what = "which was deprecated on" if past else "which is slated for deprecation on"
            message = (
                f"While compiling '{child.name}': Found a reference to {node.name}{_version_text(node)}, "
                f"{what} '{deprecation}'. "
            )
            if node.version is not None and str(node.version) != str(node.latest_version):
                action = "Migrate now" if past else "Try it out"
                message += (
                    f"A new version of '{node.name}' is available. {action}: "
                    f"{{{{ ref('{node.package_name}', '{node.name}', v='{node.latest_version}') }}}}."
                )
            log(warning(message))
