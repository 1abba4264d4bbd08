"""``modelkit lsp``: a Language Server for editors, over the library (see :mod:`modelkit.lsp.server`)."""
