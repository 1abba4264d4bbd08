"""Core: the plain data every stage shares, and nothing else.

Errors (with file, line and the domain objects they concern), relations, the Manifest's node and
source dataclasses, run results, dbt's config-merge rules and small text, JSON and YAML helpers.
Nothing here imports any other part of modelkit.
"""
