"""Execute: compiled nodes become relations in the database.

The scheduler (dependency order on a thread pool), the runner that carries one node through
compile, hooks and materialization, the materializations themselves (a subpackage: view and
table, seed, incremental, snapshot) written over the adapter's primitives, contract enforcement
and source freshness at run time. It never imports the parse stage or the public API.
"""
