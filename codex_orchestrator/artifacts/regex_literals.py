"""Literals a regular expression cannot match without: a cheap test before running it.

``required_literals(pattern)`` returns a set of lowercase strings such that every match
of the pattern contains at least one of them (or None when no such set is known). A
text whose lowercased form contains none of them cannot match, so a plain substring
test can stand in front of a slow regex (Python's engine is slow on case-insensitive
alternations). Derived from the parsed pattern (``re._parser``), as RE2's prefilter
does: literals and concatenations give strings, alternations give unions, optional or
repeated-zero parts and character classes give nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

MAX_LITERALS = 64

try:
    _parser: Any = importlib.import_module("re._parser")
    _constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - a Python without the module: no shortcuts
    _parser = None
    _constants = None


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lowercase strings one of which every match contains; None when unknown."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(pattern, flags)
    except Exception:  # any parse trouble just means "no shortcut"
        return None
    found = _sequence(list(parsed))
    if not found or any(not literal for literal in found) or len(found) > MAX_LITERALS:
        return None
    return frozenset(found)


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    """A concatenation: the most selective of its runs of literals and its parts."""
    best: set[str] | None = None
    run = ""
    candidates: list[set[str]] = []
    for op, arg in items:
        if op is _constants.LITERAL:
            run += chr(arg).lower()
            continue
        if run:
            candidates.append({run})
            run = ""
        part = _item(op, arg)
        if part is not None:
            candidates.append(part)
    if run:
        candidates.append({run})
    for candidate in candidates:
        if best is None or _score(candidate) > _score(best):
            best = candidate
    return best


def _item(op: Any, arg: Any) -> set[str] | None:
    c = _constants
    if op is c.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is c.BRANCH:
        union: set[str] = set()
        for alternative in arg[1]:
            part = _sequence(list(alternative))
            if part is None:
                return None
            union |= part
        return union
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, _, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _sequence(list(arg))
    return None  # classes, any character, anchors, lookarounds, back-references


def _score(literals: set[str]) -> int:
    """Prefer sets whose shortest string is longest (fewer chance hits)."""
    return min(len(literal) for literal in literals) if literals else 0
