"""Parse: project files become one Manifest.

Reading model, macro, seed, snapshot, test and property files; rendering each node once to record
its refs, sources and config; YAML properties, data and unit test specs, hooks, contracts checked
against declared columns; the per-file parse cache and the "nothing changed" state. Its output,
the Manifest, is plain data that no later stage mutates.
"""
