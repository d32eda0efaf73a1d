"""The seed's secret patterns, the configured extra ones, and what counts as a placeholder.

Each pattern has one capture group: the value. Keyword patterns (``password = "..."``)
fire on a quoted value, or on an unquoted one that mixes letters and digits as a
generated credential does; ``self.token`` or ``${TOKEN}`` are references, not secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_ASSIGN = r"""["']?\s*(?::=|=>|=|:)\s*"""
_QUOTED = r"""(?:"([^"\s]{4,})"|'([^'\s]{4,})'|([A-Za-z0-9_\-+/=]{8,})(?![^\s,;]))"""


def _hint(words: str) -> re.Pattern[str]:
    return re.compile(words, re.IGNORECASE)


def _keyword(names: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?i)(?<![A-Za-z0-9])[A-Za-z0-9_.-]*?(?:{names})[A-Za-z0-9_-]*{_ASSIGN}{_QUOTED}"
    )


@dataclass(frozen=True, slots=True)
class SecretPattern:
    """A named regular expression; its groups hold the value (the first that matched)."""

    kind: str
    regex: re.Pattern[str]
    keyword: bool = False
    # A file without a match of ``hint`` cannot match ``regex``: a quick test per file.
    hint: re.Pattern[str] | None = None


SEED_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "aws_secret_access_key",
        re.compile(
            r"(?i)aws[_-]?secret[_-]?(?:access[_-]?)?key[\"']?\s*(?::=|=>|=|:)\s*[\"']?"
            r"([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        hint=_hint("aws"),
    ),
    SecretPattern(
        "aws_access_key_id",
        re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
        hint=re.compile("AKIA|ASIA"),
    ),
    SecretPattern(
        "stripe_live_key",
        re.compile(r"\b((?:sk|rk)_live_[0-9A-Za-z]{16,})"),
        hint=re.compile("k_live_"),
    ),
    SecretPattern(
        "stripe_test_key",
        re.compile(r"\b((?:sk|rk)_test_[0-9A-Za-z]{16,})"),
        hint=re.compile("k_test_"),
    ),
    SecretPattern(
        "api_key", _keyword(r"api[_-]?key|apikey"), keyword=True, hint=_hint("api[_-]?key")
    ),
    SecretPattern(
        "secret_key",
        _keyword(r"secret[_-]?key|client[_-]?secret"),
        keyword=True,
        hint=_hint("secret"),
    ),
    SecretPattern(
        "password", _keyword(r"password|passwd|pwd"), keyword=True, hint=_hint("passw|pwd")
    ),
    SecretPattern("token", _keyword(r"token"), keyword=True, hint=_hint("token")),
)

_PLACEHOLDER = re.compile(
    r"""^(?:
        \$\{[^}]*\}? | \$[A-Za-z_][A-Za-z0-9_]* | \{\{.*\}\}? | <[^>]*>? | %\([^)]*\)s?
      | .*(?:changeme|change_me|example|placeholder|redacted|your[_-]|xxxx|\*\*\*).*
    )$""",
    re.VERBOSE | re.IGNORECASE,
)


def is_placeholder(value: str) -> bool:
    """A value that stands for a secret rather than being one (``*****``, ``${TOKEN}``)."""
    if not any(ch.isalnum() for ch in value):
        return True
    if len(set(value.lower())) <= 2:
        return True
    return bool(_PLACEHOLDER.match(value))


def custom_patterns(patterns: Sequence[str]) -> tuple[SecretPattern, ...]:
    """``store.secretPatterns``: the value is group 1 when there is one, else the match."""
    return tuple(
        SecretPattern(f"custom[{index}]", re.compile(p)) for index, p in enumerate(patterns)
    )


def matches(pattern: SecretPattern, line: str) -> Iterator[str]:
    """The values ``pattern`` finds in ``line``, placeholders left out for keyword patterns."""
    for match in pattern.regex.finditer(line):
        groups = [group for group in match.groups() if group]
        value = groups[0] if groups else match.group(0)
        if not value:
            continue
        if pattern.keyword:
            if is_placeholder(value):
                continue
            unquoted = match.lastindex == 3
            if unquoted and not (_has_digit(value) and _has_letter(value)):
                continue
        yield value


def _has_digit(value: str) -> bool:
    return any(ch.isdigit() for ch in value)


def _has_letter(value: str) -> bool:
    return any(ch.isalpha() for ch in value)
