"""Semantic versions and the range specifiers of hub packages (``">=1.0.0"``, ``"<2.0.0"``, ``"1.1.1"``).

The grammar is dbt's: an optional matcher (``>=``, ``>``, ``<=``, ``<``, ``=``), then
``MAJOR.MINOR.PATCH`` with an optional prerelease (``-b1`` or ``b1``) and build (``+x``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_NUM = r"(0|[1-9]\d*)"
_PRE_PART = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_PATTERN = re.compile(
    rf"^(?P<matcher>>=|>|<=|<|=)?"
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-?(?P<prerelease>{_PRE_PART}(?:\.{_PRE_PART})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]*(?:\.[0-9A-Za-z-]*)*))?$"
)


class SemverError(ValueError):
    """A version or range specifier that is not valid."""


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str | None = None
    build: str | None = None

    @property
    def key(self) -> tuple:
        """Sort key: releases after their prereleases; numeric prerelease parts before words."""
        if self.prerelease is None:
            pre: tuple = (1,)
        else:
            parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease.split("."))
            pre = (0, parts)
        return (self.major, self.minor, self.patch, pre)

    @property
    def base(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


@dataclass(frozen=True)
class Specifier:
    """One constraint: ``matcher`` applied to ``version`` (``=`` for an exact version)."""

    matcher: str
    version: Version

    def __str__(self) -> str:
        return f"{'' if self.matcher == '=' else self.matcher}{self.version}"

    def allows(self, candidate: Version) -> bool:
        a, b = candidate.key, self.version.key
        if self.matcher == "=":
            return a == b
        if self.matcher == ">=":
            return a >= b
        if self.matcher == ">":
            return a > b
        if self.matcher == "<=":
            return a <= b
        # As dbt: ``<2.0.0`` also keeps out the prereleases of 2.0.0.
        if self.version.prerelease is None and candidate.prerelease is not None:
            return candidate.base < self.version.base
        return a < b


def parse_version(text: str) -> Version:
    match = _PATTERN.match(str(text).strip())
    if not match or match.group("matcher"):
        raise SemverError(f'"{text}" is not a valid semantic version.')
    return _version(match)


def parse_specifier(text: str) -> Specifier:
    match = _PATTERN.match(str(text).strip())
    if not match:
        raise SemverError(f'"{text}" is not a valid semantic version.')
    return Specifier(match.group("matcher") or "=", _version(match))


def _version(match: re.Match[str]) -> Version:
    return Version(
        int(match.group("major")),
        int(match.group("minor")),
        int(match.group("patch")),
        match.group("prerelease"),
        match.group("build"),
    )


def allows_all(candidate: Version, specifiers: Iterable[Specifier]) -> bool:
    return all(spec.allows(candidate) for spec in specifiers)


def can_intersect(specifiers: Sequence[Specifier]) -> bool:
    """Whether some version (available or not) could satisfy every specifier."""
    exact = [s.version for s in specifiers if s.matcher == "="]
    if exact:
        return allows_all(exact[0], specifiers)
    lower = [s for s in specifiers if s.matcher in (">=", ">")]
    upper = [s for s in specifiers if s.matcher in ("<=", "<")]
    if not lower or not upper:
        return True
    low = max(lower, key=lambda s: (s.version.key, s.matcher == ">"))
    high = min(upper, key=lambda s: (s.version.key, s.matcher == "<="))
    if low.version.key < high.version.key:
        return True
    return low.version.key == high.version.key and low.matcher == ">=" and high.matcher == "<="


def describe(specifiers: Sequence[Specifier]) -> str:
    """The range the specifiers leave, as dbt prints it (``>=1.0.0, <2.0.0``; ``ANY`` without any)."""
    exact = [s for s in specifiers if s.matcher == "="]
    if exact:
        return str(exact[0].version)
    lower = [s for s in specifiers if s.matcher in (">=", ">")]
    upper = [s for s in specifiers if s.matcher in ("<=", "<")]
    parts = []
    if lower:
        parts.append(str(max(lower, key=lambda s: (s.version.key, s.matcher == ">"))))
    if upper:
        parts.append(str(min(upper, key=lambda s: (s.version.key, s.matcher == "<="))))
    return ", ".join(parts) or "ANY"


def installable(available: Iterable[str], allow_prerelease: bool) -> list[str]:
    """The valid versions among ``available``, lowest first, prereleases only when allowed."""
    found = []
    for text in available:
        try:
            version = parse_version(text)
        except SemverError:
            continue
        if allow_prerelease or version.prerelease is None:
            found.append((version.key, text))
    return [text for _, text in sorted(found)]


def highest_match(available: Iterable[str], specifiers: Sequence[Specifier]) -> str | None:
    """The highest of ``available`` (already filtered) allowed by every specifier."""
    best: tuple | None = None
    best_text = None
    for text in available:
        version = parse_version(text)
        if allows_all(version, specifiers) and (best is None or version.key > best):
            best, best_text = version.key, text
    return best_text
