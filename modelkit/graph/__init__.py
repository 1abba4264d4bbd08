"""Graph: how nodes depend on each other, and which ones a command works on.

Name resolution for ``ref()``/``source()`` with "did you mean" suggestions, the dependency graph
(edges, cycles, ancestors, descendants), dbt's selector grammar and the ``build`` DAG.
"""
