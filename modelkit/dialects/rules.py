"""What sqlglot alone would translate wrongly, rewritten or reported: one :class:`Rule` per construct.

Each rule looks at one kind of node of the query as written (its types carried over from the typed
copy, see :mod:`modelkit.dialects.translate`) for some pairs of dialects, and either rewrites it so
that the target computes what the source would, or reports it as a :class:`Finding`. :data:`RULES`
is the table; the README's section on dialects lists it.

Loaded only when a node is translated: it imports sqlglot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from modelkit.dialects.duckdb_only import DUCKDB_ONLY
from modelkit.dialects.results import Finding
from modelkit.dialects.types import dialect_label, problem

if TYPE_CHECKING:
    from modelkit.dialects.typed import Typed

FLOATS = frozenset({"DOUBLE", "FLOAT"})
INTEGERS = frozenset({"TINYINT", "SMALLINT", "INT", "BIGINT", "INT128", "UTINYINT", "USMALLINT", "UINT", "UBIGINT"})
DECIMALS = frozenset({"DECIMAL", "DECIMAL32", "DECIMAL64", "DECIMAL128", "DECIMAL256", "BIGDECIMAL", "MONEY"})
NUMERIC = FLOATS | INTEGERS | DECIMALS
SNIPPET = 80  # characters of a construct shown in a message


@dataclass
class Context:
    """One statement being translated: its typed copy, the dialects, and what was found."""

    typed: Typed
    source: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    named: int = 0  # subqueries given a name so far

    def __post_init__(self) -> None:
        self.reads = Dialect.get_or_raise(self.source)
        self.writes = Dialect.get_or_raise(self.target)
        self.copies = {id(o): c for c, o in ((c, self.typed.origin.get(id(c))) for c in self.typed.copy.walk()) if o}
        self.alive = {id(n) for n in self.typed.copy.walk()}

    @property
    def label(self) -> str:
        return dialect_label(self.target)

    def kind(self, node: exp.Expression | None) -> str | None:
        """The type kind of a node (``INT``, ``DOUBLE``...), None when not known."""
        found = node.type if node is not None else None
        if found is None or found.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
            return None
        return found.this.name

    def copy_of(self, node: exp.Expression) -> exp.Expression | None:
        """The node's counterpart in the typed copy, if the copy still holds it."""
        found = self.copies.get(id(node))
        return found if found is not None and id(found) in self.alive else None

    def report(self, construct: str, node: exp.Expression, message: str) -> None:
        self.findings.append(Finding(construct, snippet(node, self.source), message, line_of(node)))


def snippet(node: exp.Expression, dialect: str) -> str:
    try:
        text = " ".join(node.sql(dialect=dialect).split())
    except SqlglotError:
        text = type(node).__name__
    return text if len(text) <= SNIPPET else text[: SNIPPET - 3] + "..."


def line_of(node: exp.Expression) -> int | None:
    for inner in node.walk():
        line = inner.meta.get("line") if inner.meta else None
        if line:
            return int(line)
    return None


def typed_node(node: exp.Expression, kind: str) -> exp.Expression:
    node.type = exp.DataType.build(kind)
    return node


def cast(node: exp.Expression, kind: str) -> exp.Expression:
    return typed_node(exp.Cast(this=node, to=exp.DataType.build(kind)), kind)


@dataclass(frozen=True)
class Rule:
    """A construct, the nodes that hold it, the dialects it concerns (None: any) and what is done."""

    construct: str
    nodes: tuple[type[exp.Expression], ...]  # none: checked over the whole query (the check is elsewhere)
    check: Callable[[exp.Expression, Context], None] | None
    targets: frozenset[str] | None = None
    sources: frozenset[str] | None = frozenset({"duckdb"})
    does: str = ""  # what the README says of it


# -- arithmetic ---------------------------------------------------------------------------------
def division(node: exp.Expression, ctx: Context) -> None:
    """``/``: DuckDB and Spark divide integers as floats, PostgreSQL truncates to an integer."""
    source_truncates, target_truncates = ctx.reads.TYPED_DIVISION, ctx.writes.TYPED_DIVISION
    if source_truncates == target_truncates:
        return
    left, right = node.args["this"], node.args["expression"]
    kinds = {ctx.kind(left), ctx.kind(right)}
    if not source_truncates:
        if node.args.get("typed"):
            return
        if not any(k is not None and k not in NUMERIC for k in kinds):  # numbers: the quotient is a double
            if not kinds & FLOATS:
                left.replace(cast(left.copy(), "DOUBLE"))
            typed_node(node, "DOUBLE")
        node.set("typed", True)
        return
    if not node.args.get("typed"):
        return
    if kinds <= INTEGERS:
        node.replace(typed_node(exp.IntDiv(this=left.copy(), expression=right.copy()), "BIGINT"))
    elif not kinds & (FLOATS | DECIMALS):
        ctx.report(
            "division of values of unknown types",
            node,
            f"{dialect_label(ctx.source)} divides two integers as integers (7 / 2 is 3) and {ctx.label} as "
            "floats (3.5), and the types of these operands are not known here. Cast an operand so the "
            "translation knows which division is meant.",
        )


def integer_division(node: exp.Expression, ctx: Context) -> None:
    """``//``: PostgreSQL's DIV() returns a numeric; two integers divide as integers with ``/`` there."""
    left, right = node.args["this"], node.args["expression"]
    if ctx.kind(left) in INTEGERS and ctx.kind(right) in INTEGERS:
        node.replace(typed_node(exp.Div(this=left.copy(), expression=right.copy(), typed=True), "BIGINT"))


def rounding(node: exp.Expression, ctx: Context) -> None:
    """``round(x[, n])`` of a double: PostgreSQL has no round(double precision, int), and its
    round(double precision) rounds half to even where DuckDB rounds half away from zero."""
    value = node.this
    kind = ctx.kind(value)
    if kind in FLOATS:
        rounded = exp.Round(this=cast(value.copy(), "DECIMAL"), decimals=node.args.get("decimals"))
        node.replace(cast(typed_node(rounded, "DECIMAL"), "DOUBLE"))
    elif kind is None:
        ctx.report(
            "round() of a value of unknown type",
            node,
            f"{ctx.label} rounds a numeric value but not a double precision one to a number of places, "
            "and this value's type is not known here. Cast it (to double or to decimal) so the "
            "translation knows how to round it.",
        )


def average(node: exp.Expression, ctx: Context) -> None:
    """``avg()`` of integers or decimals is a DOUBLE in DuckDB, a numeric in PostgreSQL."""
    if ctx.kind(node.this) in INTEGERS | DECIMALS:
        node.replace(cast(node.copy(), "DOUBLE"))


def any_value(node: exp.Expression, ctx: Context) -> None:
    """``any_value(x)``: PostgreSQL 15 has none; min(x) is one of the values, as dbt-postgres picks."""
    outer = node.parent if isinstance(node.parent, exp.IgnoreNulls) else node
    outer.replace(exp.Min(this=node.this.copy()))


def mean(node: exp.Expression, ctx: Context) -> None:
    """``mean(x)`` is DuckDB's other name for avg(x)."""
    if node.name.lower() == "mean" and len(node.expressions) == 1:
        node.replace(exp.Avg(this=node.expressions[0].copy()))


def interval(node: exp.Expression, ctx: Context) -> None:
    """``interval (n) day``: an interval of a computed length is ``n * interval '1 day'`` elsewhere."""
    value, unit = node.this, node.args.get("unit")
    if isinstance(value, exp.Literal) or value is None or unit is None:
        return
    one = exp.Interval(this=exp.Literal.string("1"), unit=unit.copy())
    inner = value.this if isinstance(value, exp.Paren) else value
    node.replace(exp.Paren(this=exp.Mul(this=exp.Paren(this=inner.copy()), expression=one)))


# -- types ----------------------------------------------------------------------------------------
def data_type(node: exp.Expression, ctx: Context) -> None:
    if not isinstance(node.parent, (exp.Cast, exp.TryCast)) or node.find_ancestor(exp.DataType):
        return
    why = problem(node, ctx.target)
    if why is not None:
        ctx.report("type", node, f"{why}.")


def epoch_of_time(node: exp.Expression, ctx: Context) -> None:
    """``epoch_ms(timestamp)`` is the milliseconds of a timestamp in DuckDB; sqlglot reads every
    ``epoch_ms`` as the timestamp of a number of milliseconds."""
    kind = ctx.kind(node.this)
    if kind is not None and kind.startswith(("TIMESTAMP", "DATE", "TIME")):
        ctx.report(
            "epoch_ms(timestamp)",
            node,
            f"sqlglot would translate it as the timestamp of a number of milliseconds; write "
            f"epoch(x) * 1000 (or the {ctx.label} expression, in a model written for it).",
        )


def try_cast(node: exp.Expression, ctx: Context) -> None:
    ctx.report(
        "TRY_CAST",
        node,
        f"{ctx.label} has no TRY_CAST: a value that does not convert would stop the query instead of becoming NULL.",
    )


# -- lists, structs and maps ----------------------------------------------------------------------
def array_length(node: exp.Expression, ctx: Context) -> None:
    """``len(list)``/``array_length(list)``: PostgreSQL's cardinality() (array_length is NULL for an empty
    array, DuckDB's is 0); Spark's size()."""
    if isinstance(node, exp.Length) and ctx.kind(node.this) not in ("ARRAY", "LIST"):
        return
    if ctx.target == "postgres":
        node.replace(exp.Anonymous(this="CARDINALITY", expressions=[node.this.copy()]))
    elif isinstance(node, exp.Length):
        node.replace(exp.ArraySize(this=node.this.copy()))


def empty_array(node: exp.Expression, ctx: Context) -> None:
    if not node.expressions and not isinstance(node.parent, (exp.Cast, exp.TryCast)):
        ctx.report("empty list []", node, f"{ctx.label} cannot tell the type of an empty array; cast it.")


def struct_literal(node: exp.Expression, ctx: Context) -> None:
    ctx.report("struct or map value", node, f"{ctx.label} has no STRUCT or MAP values.")


def bracket(node: exp.Expression, ctx: Context) -> None:
    """``x[i]``: a list element translates (sqlglot shifts Spark's index); a string, struct or map, or a
    value of unknown type, does not (to PostgreSQL)."""
    kind = ctx.kind(node.this)
    allowed = {"ARRAY", "LIST"} | ({"MAP", "STRUCT"} if ctx.target == "spark" else set())
    if kind in allowed:
        return
    what = f"a {kind} value" if kind else "a value of unknown type"
    ctx.report("subscript [...]", node, f"subscript of {what}: {ctx.label} subscripts arrays only.")


def field_access(ctx: Context) -> None:
    """``s.field``: sqlglot reads a struct's field only through the typed copy (``s`` is a column)."""
    for dot in ctx.typed.copy.find_all(exp.Dot):
        if ctx.typed.qualified and dot.this.is_type(exp.DataType.Type.STRUCT):
            ctx.report("struct field access", dot, f"{ctx.label} has no STRUCT columns to read fields of.")


# -- functions and table modifiers -----------------------------------------------------------------
def sample(node: exp.Expression, ctx: Context) -> None:
    ctx.report("USING SAMPLE / TABLESAMPLE", node, f"{ctx.label} samples rows differently (other methods).")


def join_method(node: exp.Expression, ctx: Context) -> None:
    method = str(node.args.get("method") or "").upper()
    if method in ("ASOF", "POSITIONAL"):
        ctx.report(f"{method} JOIN", node, f"{ctx.label} has no {method} JOIN.")


def time_format(node: exp.Expression, ctx: Context) -> None:
    """strftime/strptime: a format sqlglot cannot map, or literal letters the target would read as a
    pattern (PostgreSQL's to_char reads the W of 'week'), are reported or quoted."""
    fmt = node.args.get("format")
    if fmt is None:
        return
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        ctx.report("time format", node, "a format that is not a string literal cannot be translated.")
        return
    mapping = ctx.writes.INVERSE_TIME_MAPPING
    parts = split_format(fmt.this)
    missing = [p for p in parts if p.startswith("%") and p != "%%" and p not in mapping]
    if missing:
        ctx.report("time format", node, f"{ctx.label} has no equivalent of {', '.join(missing)} in a time format.")
        return
    if any(not p.startswith("%") and any(c.isalpha() for c in p) for p in parts):
        if ctx.target != "postgres":
            ctx.report("time format", node, f"{ctx.label} would read the letters of this format as a pattern.")
            return
        fmt.set(
            "this", "".join(f'"{p}"' if not p.startswith("%") and any(c.isalpha() for c in p) else p for p in parts)
        )


def split_format(text: str) -> list[str]:
    """A strftime format's directives (``%Y``, ``%-d``) and the text between them."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            end = i + 3 if text[i + 1] == "-" and i + 2 < len(text) else i + 2
            parts.append(text[i:end])
            i = end
            continue
        if parts and not parts[-1].startswith("%"):
            parts[-1] += text[i]
        else:
            parts.append(text[i])
        i += 1
    return parts


def functions(text: str, source: str, target: str) -> list[Finding]:
    """Functions of DuckDB that the written SQL still calls and the target does not have."""
    names = DUCKDB_ONLY.get(target)
    if source != "duckdb" or not names:
        return []
    try:
        tokens = Dialect.get_or_raise(target).tokenize(text)
    except SqlglotError:
        return []
    found: list[Finding] = []
    for token, following in zip(tokens, tokens[1:]):
        if following.text == "(" and token.text.lower() in names and token.token_type.name != "IDENTIFIER":
            found.append(
                Finding(
                    f"{token.text.lower()}()",
                    f"{token.text}(...)",
                    f"{dialect_label(target)} has no function {token.text.lower()}() (a DuckDB function).",
                    token.line,
                )
            )
    return found


def unsupported(node: exp.Expression, source: str, error: Exception) -> Finding:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Finding("unsupported construct", snippet(node, source), f"sqlglot: {message}", None)


def unreadable(source: str, error: Exception) -> Finding:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    line = None
    errors = getattr(error, "errors", None) or []
    if errors and isinstance(errors[0], dict):
        line = errors[0].get("line")
    return Finding(
        f"SQL that is not {dialect_label(source)}",
        "",
        f"sqlglot cannot read it as {dialect_label(source)} SQL ({first}). Fix it, or set +dialect to the "
        "dialect it is written in.",
        line,
    )


def concerns(rule: Rule, source: str, target: str) -> bool:
    return (rule.targets is None or target in rule.targets) and (rule.sources is None or source in rule.sources)


def run(ctx: Context, rules: Iterable[Rule]) -> None:
    """Run the rules that concern this pair of dialects over the statement, inner nodes first."""
    by_kind: dict[type[exp.Expression], list[Rule]] = {}
    for rule in rules:
        if rule.check is not None and concerns(rule, ctx.source, ctx.target):
            for kind in rule.nodes:
                by_kind.setdefault(kind, []).append(rule)
    for node in reversed(list(ctx.typed.statement.walk(bfs=False))):
        for rule in by_kind.get(type(node), ()):
            rule.check(node, ctx)  # type: ignore[misc]
