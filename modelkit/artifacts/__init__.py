"""Artifacts: ``manifest.json``, ``run_results.json`` and the other files under ``target/`` in dbt's shapes."""
