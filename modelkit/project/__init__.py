"""Project: the files that say what a project is and where it builds.

``modelkit.yml`` / ``dbt_project.yml`` become a frozen :class:`ProjectConfig`, ``profiles.yml`` a
frozen :class:`Target`; ``init`` scaffolding lives here too. Imports only :mod:`modelkit.core`.
"""
