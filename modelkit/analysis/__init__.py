"""Understanding compiled SQL without running it: static checks and column lineage (sqlglot).

Works from the Manifest and compiled SQL only; no engine. ``docs`` and the command line use the same
column lineage (:mod:`modelkit.analysis.lineage`); ``compile``, ``run`` and ``build`` check every
model's SQL against the columns known before it runs (:mod:`modelkit.analysis.static`).
"""
