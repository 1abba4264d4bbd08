"""The documentation site: ``modelkit docs generate`` and ``modelkit docs serve``."""

from __future__ import annotations

from modelkit.docs.build import GenerateOptions, GenerateResult, generate, generate_docs

__all__ = ["GenerateOptions", "GenerateResult", "generate", "generate_docs"]
