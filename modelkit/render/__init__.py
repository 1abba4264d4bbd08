"""Render: Jinja in, SQL out.

The sandboxed Jinja environments, the dbt template context (``ref``, ``source``, ``config``,
``adapter``, ...), macros and their registry, the static fast paths that skip Jinja where the
result is known, and the compiler that writes ``target/compiled/``. It reads the Manifest and
never changes it; the database is reached only through the adapter protocol.
"""
