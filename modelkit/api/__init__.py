"""API: modelkit as a library.

:class:`Project` is the public entry point: every command as a method returning data, never
printing. A ``Session`` assembles one project, target and invocation from the stages below, and
hands each stage only the services it uses.
"""
