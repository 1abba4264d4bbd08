"""``modelkit lsp``: a Language Server over stdio (pygls) for a project's SQL, YAML and docs files.

Diagnostics follow every edit (debounced): the project's parse and compilation errors and the static
analysis of the open models (see :mod:`modelkit.analysis.static`), computed from the editor's text of
the open documents over the files on disk (:class:`modelkit.lsp.workspace.Workspace`). Definitions,
hovers and completions read the last check's Manifest and column shapes.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from modelkit.lsp import locate
from modelkit.lsp.workspace import Check, Problem, Workspace

DEBOUNCE_SECONDS = 0.3
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warn": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


class ModelkitServer(LanguageServer):
    def __init__(self, root: Path | None, profiles_dir: str | None) -> None:
        super().__init__("modelkit", "0.1.0")
        self.root = root
        self.profiles_dir = profiles_dir
        self.project: Workspace | None = None
        self.generation = 0
        self.lock = threading.Lock()
        self.published: set[str] = set()

    def start_project(self, root: Path) -> None:
        self.project = Workspace(root, self.profiles_dir)

    def path_of(self, uri: str) -> str | None:
        path = to_fs_path(uri) if self.project is not None else None
        return self.project.relative(path) if self.project is not None and path else None

    def uri_of(self, rel: str) -> str:
        assert self.project is not None
        return (self.project.root / rel).as_uri()

    def schedule(self, delay: float = DEBOUNCE_SECONDS) -> None:
        """Check the project once the edits pause for ``delay`` seconds."""
        self.generation += 1
        asyncio.ensure_future(self._check_later(self.generation, delay))

    async def _check_later(self, generation: int, delay: float) -> None:
        await asyncio.sleep(delay)
        if generation != self.generation or self.project is None:
            return  # a later edit will check
        try:
            check = await asyncio.to_thread(self._check)
        except Exception as exc:  # noqa: BLE001 - the editor's server outlives a failure of one check
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=repr(exc)))
            return
        if generation == self.generation:
            self.publish(check)

    def _check(self) -> Check:
        assert self.project is not None
        with self.lock:
            return self.project.check()

    def publish(self, check: Check) -> None:
        assert self.project is not None
        by_file: dict[str, list[types.Diagnostic]] = {rel: [] for rel in self.project.open}
        for problem in check.problems:
            by_file.setdefault(problem.path, []).append(diagnostic(problem))
        uris = {self.uri_of(rel): diags for rel, diags in by_file.items()}
        for uri in self.published - set(uris):
            uris[uri] = []  # fixed since: cleared
        for uri, diags in uris.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))
        self.published = {uri for uri, diags in uris.items() if diags}


def diagnostic(problem: Problem) -> types.Diagnostic:
    line = max((problem.line or 1) - 1, 0)
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line + 1, character=0)),
        message=problem.message,
        severity=SEVERITIES.get(problem.severity, types.DiagnosticSeverity.Error),
        source="modelkit",
        code=problem.code or None,
    )


def build_server(root: Path | None = None, profiles_dir: str | None = None) -> ModelkitServer:
    server = ModelkitServer(root, profiles_dir)

    @server.feature(types.INITIALIZE)
    def initialize(ls: ModelkitServer, params: types.InitializeParams) -> None:
        root = ls.root
        if root is None:
            uri = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
            path = to_fs_path(uri) if uri else None
            root = Path(path) if path else Path.cwd()
        ls.start_project(root)

    @server.feature(types.INITIALIZED)
    def initialized(ls: ModelkitServer, params: types.InitializedParams) -> None:
        ls.schedule(0)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ModelkitServer, params: types.DidOpenTextDocumentParams) -> None:
        remember(ls, params.text_document.uri)
        ls.schedule(0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ModelkitServer, params: types.DidChangeTextDocumentParams) -> None:
        remember(ls, params.text_document.uri)
        ls.schedule()

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ModelkitServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ModelkitServer, params: types.DidCloseTextDocumentParams) -> None:
        rel = ls.path_of(params.text_document.uri)
        if ls.project is not None and rel is not None:
            ls.project.open.pop(rel, None)
        ls.schedule()

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: ModelkitServer, params: types.DefinitionParams) -> types.Location | None:
        found, manifest = lookup(ls, params.text_document.uri, params.position)
        if found is None or manifest is None or ls.project is None:
            return None
        place = locate.definition(manifest, found, ls.project.root)
        if place is None:
            return None
        pos = types.Position(line=place[1], character=0)
        return types.Location(uri=ls.uri_of(place[0]), range=types.Range(start=pos, end=pos))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ModelkitServer, params: types.HoverParams) -> types.Hover | None:
        found, manifest = lookup(ls, params.text_document.uri, params.position)
        if found is None or manifest is None or found.kind not in ("ref", "source"):
            return None
        target = locate.target_of(manifest, found)
        if target is None:
            return None
        text = hover_text(ls.project.last if ls.project else Check(), target)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["'", '"', "."]))
    def completion(ls: ModelkitServer, params: types.CompletionParams) -> types.CompletionList:
        return types.CompletionList(is_incomplete=False, items=completions(ls, params))

    return server


def remember(ls: ModelkitServer, uri: str) -> None:
    """The editor's text of a document, for the next check."""
    rel = ls.path_of(uri)
    if ls.project is not None and rel is not None:
        ls.project.open[rel] = ls.workspace.get_text_document(uri).source


def lookup(ls: ModelkitServer, uri: str, position: types.Position) -> tuple[locate.Found | None, object]:
    if ls.project is None or ls.project.last.manifest is None:
        return None, None
    text = ls.workspace.get_text_document(uri).source
    return locate.at(text, position.line, position.character), ls.project.last.manifest


def columns_of(check: Check, target: object) -> list[tuple[str, str]]:
    """A relation's columns with their types: its YAML columns, then the static shape, then the catalog."""
    uid = getattr(target, "unique_id", "")
    found: dict[str, str] = {}
    for name, col in getattr(target, "columns", {}).items():
        found[name] = col.data_type or ""
    shape = check.shapes.get(uid)
    if shape is not None:
        for name, kind in zip(shape.names, shape.types):
            if not found.get(name):
                found[name] = kind or ""
    for name, kind in check.catalog.get(uid, {}).items():
        if not found.get(name):
            found[name] = kind
    return list(found.items())


def hover_text(check: Check, target: object) -> str:
    lines = [f"**{getattr(target, 'unique_id', '')}**", "", f"`{locate.relation_name(target)}`"]  # type: ignore[arg-type]
    description = getattr(target, "description", "")
    if description:
        lines += ["", description]
    cols = columns_of(check, target)
    if cols:
        lines += ["", "| column | type |", "| --- | --- |"]
        lines += [f"| {name} | {kind} |" for name, kind in cols]
    return "\n".join(lines)


def completions(ls: ModelkitServer, params: types.CompletionParams) -> list[types.CompletionItem]:
    if ls.project is None or ls.project.last.manifest is None:
        return []
    manifest = ls.project.last.manifest
    text = ls.workspace.get_text_document(params.text_document.uri).source
    rows = text.splitlines()
    row = rows[params.position.line] if params.position.line < len(rows) else ""
    context = locate.completion_context(row, params.position.character)
    if context is None:
        return []
    kind, of = context
    names: list[tuple[str, str]] = []
    if kind == "ref":
        names = sorted(
            {(n.name, n.resource_type) for n in manifest.nodes.values() if n.resource_type in locate.RELATION_TYPES}
        )
    elif kind == "source":
        names = sorted({(s.source_name, "source") for s in manifest.sources.values()})
    elif kind == "source_table":
        names = sorted({(s.name, "source table") for s in manifest.sources.values() if s.source_name == of})
    elif kind == "column":
        found = locate.alias_target(text, of)
        target = locate.target_of(manifest, found) if found is not None else None
        if target is not None:
            names = [(name, kind or "column") for name, kind in columns_of(ls.project.last, target)]
    item_kind = types.CompletionItemKind.Field if kind == "column" else types.CompletionItemKind.Reference
    return [types.CompletionItem(label=name, detail=detail, kind=item_kind) for name, detail in names]


def serve(project_dir: str | None = None, profiles_dir: str | None = None) -> None:
    """Serve the Language Server Protocol on stdin and stdout until the editor exits."""
    server = build_server(Path(project_dir).resolve() if project_dir else None, profiles_dir)
    try:
        server.start_io()
    finally:
        if server.project is not None:
            server.project.close()
