"""Reading ``30d`` and ``10GB`` as the prune options and the config write them."""

from __future__ import annotations

import re

from codex_orchestrator.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_SECONDS = {"": 86400.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_days(text: str, what: str = "--older-than") -> float:
    """``30d``, ``12h``, ``2w`` or a bare number of days, as days."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidInput(f"{what} {text!r}: expected a duration such as 30d, 12h or 2w")
    return float(match.group(1)) * _SECONDS[match.group(2).lower()] / 86400.0


def parse_size(text: str, what: str = "--max-size") -> int:
    """``10GB``, ``500MB``, ``100KB`` (binary: 1 KB = 1024 bytes) or a byte count."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"{what} {text!r}: expected a size such as 10GB, 500MB or 100KB")
    unit = match.group(2).lower().rstrip("b").rstrip("i")
    return int(float(match.group(1)) * 1024 ** _POWERS[unit])
