"""Rules about a SELECT's clauses: ``GROUP BY ALL``, ``ORDER BY ALL``, ``* EXCLUDE / REPLACE``,
``QUALIFY`` over ``*``, column aliases used in the same SELECT, subqueries without a name.

Several of them need the columns behind a ``*``: the typed copy expanded it where the columns of
every relation read are known (:func:`expand_stars`); otherwise they report.

Loaded only when a node is translated: it imports sqlglot.
"""

from __future__ import annotations

from sqlglot import exp

from modelkit.dialects.rules import Context


def is_star(node: exp.Expression) -> bool:
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star)


def star_of(node: exp.Expression) -> exp.Star | None:
    star = node if isinstance(node, exp.Star) else node.this if isinstance(node, exp.Column) else None
    return star if isinstance(star, exp.Star) else None


def sources(select: exp.Select) -> list[str]:
    """The names a column of this SELECT may be qualified with (its tables' aliases or names)."""
    found = []
    for source in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        if source is not None and source.this is not None:
            name = source.this.alias_or_name
            if name:
                found.append(name.lower())
    return found


def expand_stars(select: exp.Select, ctx: Context) -> bool:
    """Replace the ``*`` projections of ``select`` by the columns the typed copy expanded them into;
    False (and ``select`` unchanged) when they are not known."""
    stars = [p for p in select.expressions if is_star(p)]
    if not stars:
        return True
    twin = ctx.copy_of(select)
    if twin is None or not ctx.typed.qualified or not isinstance(twin, exp.Select):
        return False
    inside_stars = {id(n) for star in stars for n in star.walk()}
    written = {id(p): p for p in select.expressions if not is_star(p)}
    names = sources(select)
    result: list[exp.Expression] = []
    matched: list[int] = []
    for projection in twin.expressions:
        if is_star(projection):
            return False
        origin = ctx.typed.origin.get(id(projection))
        if origin is None and isinstance(projection, exp.Alias):
            origin = ctx.typed.origin.get(id(projection.this))
        if origin is not None and id(origin) in written:
            result.append(written[id(origin)])
            matched.append(id(origin))
            continue
        if origin is not None and id(origin) not in inside_stars:
            return False  # a written projection the copy rewrote: leave it all as written
        column = own_column(projection.copy(), names)
        if column is None:
            return False
        result.append(column)
    if matched != [id(p) for p in select.expressions if not is_star(p)]:
        return False
    select.set("expressions", result)
    return True


def own_column(node: exp.Expression, names: list[str]) -> exp.Expression | None:
    """A projection of the copy as the written SELECT can say it: ``t.a AS a`` is ``t.a``; qualifiers
    the written FROM does not have are dropped when it reads one relation (None otherwise)."""
    if isinstance(node, exp.Alias) and isinstance(node.this, exp.Column) and node.this.name == node.alias:
        node = node.this
    for column in list(node.find_all(exp.Column)):
        table = column.table.lower()
        if table and table not in names:
            if len(names) != 1:
                return None
            column.set("table", None)
    return node


def group_by_all(node: exp.Expression, ctx: Context) -> None:
    """``GROUP BY ALL`` groups by every projection without an aggregate: their positions."""
    select = node.parent
    if not node.args.get("all") or not isinstance(select, exp.Select):
        return
    if not expand_stars(select, ctx):
        ctx.report(
            "GROUP BY ALL",
            node,
            f"{ctx.label} needs the grouped columns listed, and the columns of * are not known here.",
        )
        return
    projections = select.expressions
    if any(p.find(exp.Window) for p in projections):
        ctx.report("GROUP BY ALL", node, "GROUP BY ALL next to a window function: list the grouped columns.")
        return
    positions = [i for i, p in enumerate(projections, 1) if not aggregates(p)]
    if not positions:
        select.set("group", None)
        return
    node.set("all", None)
    node.set("expressions", [exp.Literal.number(i) for i in positions])


def aggregates(node: exp.Expression) -> bool:
    """Whether a projection holds an aggregate of its own (not one in a window or a subquery)."""
    for found in node.find_all(exp.AggFunc):
        if found is node:
            return True
        up = found.parent
        while up is not None and up is not node and not isinstance(up, (exp.Window, exp.Query)):
            up = up.parent
        if up is node or up is None:
            return True
    return False


def order_by_all(node: exp.Expression, ctx: Context) -> None:
    """``ORDER BY ALL`` sorts by every projection, left to right: their positions."""
    items = node.expressions
    if len(items) != 1 or not isinstance(items[0].this, exp.Var) or items[0].this.name.upper() != "ALL":
        return
    query = node.parent
    if isinstance(query, exp.Select) and not expand_stars(query, ctx):
        ctx.report(
            "ORDER BY ALL",
            node,
            f"{ctx.label} needs the sorted columns listed, and the columns of * are not known here.",
        )
        return
    if not isinstance(query, exp.Query) or any(is_star(p) for p in query.selects):
        ctx.report("ORDER BY ALL", node, f"{ctx.label} needs the sorted columns listed.")
        return
    template = items[0]
    node.set(
        "expressions",
        [
            exp.Ordered(
                this=exp.Literal.number(i), desc=template.args.get("desc"), nulls_first=template.args.get("nulls_first")
            )
            for i in range(1, len(query.selects) + 1)
        ],
    )


def star_modifiers(node: exp.Expression, ctx: Context) -> None:
    """``* EXCLUDE (...)``, ``* REPLACE (...)``, ``* RENAME (...)``: the columns they leave, listed."""
    if isinstance(node, exp.Star) and isinstance(node.parent, exp.Column):
        return  # t.* EXCLUDE (...): seen as the column
    star = star_of(node)
    if star is None or not any(star.args.get(k) for k in ("except_", "except", "replace", "rename")):
        return
    select = node.parent
    if isinstance(select, exp.Select) and node in select.expressions and expand_stars(select, ctx):
        return
    ctx.report(
        "SELECT * EXCLUDE / REPLACE",
        node,
        f"{ctx.label} has no * EXCLUDE or * REPLACE, and the columns of * are not known here to list them.",
    )


def columns_expression(node: exp.Expression, ctx: Context) -> None:
    ctx.report("COLUMNS(...)", node, f"{ctx.label} has no COLUMNS() expression.")


def qualify_star(node: exp.Expression, ctx: Context) -> None:
    """``QUALIFY`` becomes a filter over a subquery (sqlglot); ``SELECT *`` would then return the
    window's column too, so ``*`` must be listed."""
    if node.args.get("qualify") is None or not any(is_star(p) for p in node.expressions):
        return
    if not expand_stars(node, ctx):
        ctx.report(
            "QUALIFY",
            node.args["qualify"],
            f"{ctx.label} has no QUALIFY; over SELECT * it needs the columns of *, which are not known here.",
        )


def lateral_aliases(node: exp.Expression, ctx: Context) -> None:
    """A column alias used later in the same SELECT (or in its WHERE / HAVING) is the aliased
    expression: PostgreSQL sees only the relations' columns there."""
    if not isinstance(node, exp.Select):
        return
    defined: dict[str, exp.Expression] = {}
    for projection in node.expressions:
        _resolve(projection, node, defined, ctx)
        if isinstance(projection, exp.Alias):
            defined.setdefault(projection.alias.lower(), projection.this)
    every = {p.alias.lower(): p.this for p in node.expressions if isinstance(p, exp.Alias)}
    for key in ("where", "having"):
        clause = node.args.get(key)
        if clause is not None:
            _resolve(clause, node, every, ctx)


def _resolve(part: exp.Expression, select: exp.Select, aliases: dict[str, exp.Expression], ctx: Context) -> None:
    for column in list(part.find_all(exp.Column)):
        name = column.name.lower()
        if column.table or name not in aliases or column.find_ancestor(exp.Select) is not select:
            continue
        if aliases[name] is column or column in aliases[name].find_all(exp.Column):
            continue
        if not ctx.typed.qualified:
            ctx.report(
                "column alias used in the same SELECT",
                column,
                f"'{column.name}' may be the alias defined earlier in this SELECT, which {ctx.label} cannot "
                "refer to, and the columns of the relations read are not known here to tell. Repeat the expression.",
            )
            continue
        if ctx.copy_of(column) is not None:
            continue  # the copy kept it: a column of a relation read
        column.replace(exp.Paren(this=aliases[name].copy()))


def derived_table_names(node: exp.Expression, ctx: Context) -> None:
    """A subquery in FROM needs a name in PostgreSQL before 16."""
    if node.alias or not isinstance(node.parent, (exp.From, exp.Join)):
        return
    twin = ctx.copy_of(node)
    name = twin.alias if twin is not None and twin.alias else f"_q_{ctx.named}"
    ctx.named += 1
    node.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
