"""SQL dialects: models written in one dialect, run by an engine that speaks another.

A project says which dialect its SQL is written in (``dialect:`` in its project file, ``+dialect`` on
a model or a folder); by default, the target's own. A node written in the target's dialect is left
exactly as rendered. Any other is translated when it is compiled (:mod:`modelkit.dialects.translate`,
with sqlglot): its query is typed with what is known of the relations it reads (seeds, sources,
contracts, upstream models: :mod:`modelkit.dialects.shapes`), the constructs whose meaning would change
are rewritten or reported (:mod:`modelkit.dialects.rules`), and the rest is left to sqlglot. A
construct that does not translate is a compile-time error naming the node, its file and the
construct; nothing half-translated reaches the engine. Contract ``data_type``s and seed
``column_types`` are translated as types (:mod:`modelkit.dialects.types`). Translations are kept
between commands (:mod:`modelkit.dialects.cache`): a command with nothing changed translates nothing.

This package imports only :mod:`modelkit.core`; sqlglot is imported only when some node needs it.
"""
