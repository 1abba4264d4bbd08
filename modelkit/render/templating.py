"""The Jinja environment: one shared sandbox, compiled templates, errors with lines.

``{% test %}``, ``{% snapshot %}``, ``{% docs %}`` and ``{% materialization %}``
blocks are parsed as macros named ``test_<name>``, ``snapshot_<name>``,
``docs_<name>`` and ``materialization_<name>_<adapter>``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, MacroRef
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.runtime import Macro
from jinja2.sandbox import SandboxedEnvironment, is_internal_attribute

from modelkit.core.errors import CompilationError, ModelkitError


class MacroReturn(Exception):
    """Raised by ``return()`` to hand a value back from a macro."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class ParseUndefined(jinja2.Undefined):
    """At parse time anything unknown is allowed and renders as nothing."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> ParseUndefined:
        return self

    def __getitem__(self, key: Any) -> ParseUndefined:
        return self

    def __str__(self) -> str:
        return ""

    def __iter__(self):  # type: ignore[override]
        return iter(())

    def __bool__(self) -> bool:
        return False

    __hash__ = jinja2.Undefined.__hash__


class BlockExtension(Extension):
    tags = {"test", "data_test", "snapshot", "docs", "materialization"}

    def parse(self, parser: Any) -> nodes.Node:
        token = next(parser.stream)
        tag = token.value
        node = nodes.Macro(lineno=token.lineno)
        name = parser.parse_assign_target(name_only=True).name
        node.args, node.defaults = [], []
        if tag == "materialization":
            adapter = "default"
            while parser.stream.skip_if("comma"):
                key = parser.parse_assign_target(name_only=True).name
                if key == "default" and parser.stream.current.type != "assign":
                    continue  # {% materialization name, default %}: for every adapter
                parser.stream.expect("assign")
                value = parser.parse_expression()
                if key == "adapter" and isinstance(value, nodes.Const):
                    adapter = value.value
            node.name = f"materialization_{name}_{adapter}"
        else:
            prefix = "test" if tag == "data_test" else tag
            node.name = f"{prefix}_{name}"
            if parser.stream.current.type == "lparen":
                parser.parse_signature(node)
        node.body = parser.parse_statements((f"name:end{tag}",), drop_needle=True)
        return node


# Attributes that lead from an ordinary object to the interpreter's internals without an underscore.
_UNSAFE_NAMES = frozenset({"mro", "gi_frame", "gi_code", "cr_frame", "cr_code", "f_globals", "f_locals", "f_builtins"})


class MacroNamespace:
    """Base of the objects holding a package's macros: ``{{ package.macro() }}``.

    Every macro of a package is one of its attributes, those whose name starts with an
    underscore included (``dbt_utils._is_relation``), as dbt's namespaces are dicts.
    """


class ReturningMacro(Macro):
    """A Jinja macro whose call is where ``return()`` lands, as each dbt macro call is.

    Macros of one file call each other directly (not through :class:`~modelkit.render.macros.MacroProxy`);
    catching the return at every call keeps ``{{ return(x) }}`` in a called macro from ending its caller.
    """

    def _invoke(self, arguments: list[Any], autoescape: bool) -> Any:
        try:
            return super()._invoke(arguments, autoescape)
        except MacroReturn as ret:
            return ret.value


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, building macros as :class:`ReturningMacro`."""

    def macro_def(self, macro_ref: MacroRef, frame: Frame) -> None:
        arg_tuple = ", ".join(repr(x.name) for x in macro_ref.node.args)
        name = getattr(macro_ref.node, "name", None)
        if len(macro_ref.node.args) == 1:
            arg_tuple += ","
        self.write(
            f"environment.macro_class(environment, macro, {name!r}, ({arg_tuple}),"
            f" {macro_ref.accesses_kwargs!r}, {macro_ref.accesses_varargs!r},"
            f" {macro_ref.accesses_caller!r}, context.eval_ctx.autoescape)"
        )


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, opened for macro namespaces (private macros included) and stricter elsewhere: no
    step from a module to the modules it imported (``modules.re.enum.sys`` would reach ``os``), no ``mro``,
    and reaching for Python internals is an error at once rather than a silent blank."""

    code_generator_class = _CodeGenerator
    macro_class = ReturningMacro

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, MacroNamespace) and not attr.startswith("__"):
            return True
        if attr in _UNSAFE_NAMES or (isinstance(value, ModuleType) and isinstance(obj, ModuleType)):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        internal = attribute.startswith("__") or attribute in _UNSAFE_NAMES or is_internal_attribute(obj, attribute)
        if internal or (isinstance(obj, ModuleType) and isinstance(getattr(obj, attribute, None), ModuleType)):
            raise SecurityError(
                f"access to attribute '{attribute}' of '{type(obj).__name__}' object is unsafe: "
                "templates cannot reach Python internals"
            )
        return super().unsafe_undefined(obj, attribute)  # a private attribute: undefined, as in dbt


def _make_env(undefined: type[jinja2.Undefined]) -> SandboxedEnvironment:
    env = Sandbox(
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", BlockExtension],
        undefined=undefined,
        keep_trailing_newline=True,
        cache_size=0,
    )
    env.filters["is_list"] = is_list
    return env


def is_list(value: Any) -> bool:
    """dbt's ``is_list`` filter: a list or tuple (a string is not)."""
    return isinstance(value, (list, tuple))


RUN_ENV = _make_env(jinja2.Undefined)
PARSE_ENV = _make_env(ParseUndefined)

_cache: dict[tuple[int, str, str], jinja2.Template] = {}
_by_filename: dict[str, tuple[str, jinja2.Template]] = {}
_lock = threading.Lock()


def get_template(source: str, path: str, *, parse: bool = False, cache: bool = False) -> jinja2.Template:
    """Compile ``source``; ``path`` names it in errors.

    With ``cache`` (macros, which are rendered many times) the compiled
    template is kept and found again by its source.
    """
    env = PARSE_ENV if parse else RUN_ENV
    key = (id(env), path, source)
    if cache:
        template = _cache.get(key)
        if template is not None:
            return template
    try:
        code = env.compile(source, name=path, filename=path)
    except jinja2.TemplateSyntaxError as exc:
        raise CompilationError(
            f"Jinja syntax error: {exc.message}", path=path, line=exc.lineno, source=source
        ) from None
    template = env.template_class.from_code(env, code, env.make_globals(None))
    template.modelkit_source = source  # type: ignore[attr-defined]
    if cache:
        with _lock:
            _cache[key] = template
            _by_filename[path] = (source, template)
    return template


def parse_ast(source: str, path: str) -> nodes.Template:
    try:
        return PARSE_ENV.parse(source, name=path, filename=path)
    except jinja2.TemplateSyntaxError as exc:
        raise CompilationError(
            f"Jinja syntax error: {exc.message}", path=path, line=exc.lineno, source=source
        ) from None


def template_frames(tb: Any, current: jinja2.Template | None = None) -> list[tuple[str, int, str | None]]:
    """The template frames of a traceback, outermost first: (path, line, source)."""
    found: list[tuple[str, int, str | None]] = []
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        entry = _by_filename.get(filename)
        if entry is None and current is not None and filename == current.filename:
            entry = (getattr(current, "modelkit_source", None), current)
        if entry is not None:
            source, template = entry
            found.append((filename, template.get_corresponding_lineno(tb.tb_lineno), source))
        tb = tb.tb_next
    return found


def error_location(tb: Any, current: jinja2.Template | None = None) -> tuple[str | None, int | None, str | None]:
    """The innermost template frame in a traceback: (path, line, source)."""
    frames = template_frames(tb, current)
    return frames[-1] if frames else (None, None, None)


def wrap_error(
    exc: BaseException, path: str, node: str | None = None, template: jinja2.Template | None = None
) -> ModelkitError:
    """Turn an exception raised while rendering into a located modelkit error.

    The innermost template (a macro's file, say) gives the error's location; the templates that called
    it (the model's file) are listed in ``called_from``, so that the message names both.
    """
    frames = template_frames(exc.__traceback__, template)
    where, line, source = frames[-1] if frames else (None, None, None)
    if isinstance(exc, ModelkitError):
        if exc.path is None and where:
            exc.path, exc.line, exc.source = where, line, source
        if exc.node is None:
            exc.node = node
        _add_callers(exc, frames)
        return exc
    if isinstance(exc, jinja2.UndefinedError):
        message = str(exc.message or exc)
    elif isinstance(exc, jinja2.TemplateError):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc}"
    error = CompilationError(message, path=where or path, line=line, source=source, node=node)
    _add_callers(error, frames)
    return error


def _add_callers(exc: ModelkitError, frames: list[tuple[str, int, str | None]]) -> None:
    for caller_path, caller_line, _ in reversed(frames):
        caller = f"{caller_path}:{caller_line}"
        if caller != exc.location and caller not in exc.called_from:
            exc.called_from.append(caller)


def render(template: jinja2.Template, context: Mapping[str, Any], path: str, node: str | None = None) -> str:
    """Render with ``context`` as the (shared, not copied) global namespace."""
    ctx = template.new_context(context, shared=True)  # type: ignore[arg-type]
    try:
        return "".join(template.root_render_func(ctx))
    except MacroReturn as ret:  # a bare return() at top level
        return "" if ret.value is None else str(ret.value)
    except Exception as exc:  # noqa: BLE001 - re-raised with location
        raise wrap_error(exc, path, node, template) from exc


def make_module(template: jinja2.Template, context: Mapping[str, Any]) -> Any:
    """The template run as a module: its macros as attributes, those named ``_private`` included.

    Jinja does not export names starting with an underscore; dbt packages call such macros
    (``dbt_utils._is_relation``), so they are added from the module's variables.
    """
    ctx = template.new_context(context, shared=True)  # type: ignore[arg-type]
    module = TemplateModule(template, ctx)
    for name, value in ctx.vars.items():
        if name.startswith("_") and isinstance(value, Macro):
            setattr(module, name, value)
    return module
