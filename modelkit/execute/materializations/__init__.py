"""Materializations: one function each, written only over adapter primitives.

``base`` holds views, tables and ephemeral models and the unit of work (one transaction with the
in-transaction hooks); ``seed``, ``incremental`` and ``snapshot`` hold the stateful ones.
"""
