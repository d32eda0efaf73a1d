"""Required literals: every text a regex matches contains one of them (so skipping is safe)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_orchestrator.artifacts.regex_literals import required_literals

PATTERNS = [
    r"AKIA[0-9A-Z]{16}",
    r"(?:foo|bar)baz?",
    r"api_?key|secret",
    r"a(?:b|)c+d",
    r"(?:x|y)+z{2,3}",
    r"sk_(?:live|test)_[0-9a-z]{4}",
    r"(?:\s|=)tok-[0-9]+(?:\s|$)",
]


def test_literals_of_simple_patterns() -> None:
    assert required_literals(r"AKIA[0-9A-Z]{16}") == frozenset({"akia"})
    assert required_literals(r"(?:foo|bar)baz?") == frozenset({"foo", "bar"})
    assert required_literals(r"x*") is None
    assert required_literals(r"[a-z]+") is None
    assert required_literals(r"(?i)Pass(?:word)?") == frozenset({"pass"})


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_match_contains_a_required_literal(pattern: str, data: st.DataObject) -> None:
    literals = required_literals(pattern)
    assert literals
    text = data.draw(st.from_regex(re.compile(pattern)))
    assert re.search(pattern, text)
    assert any(literal in text.lower() for literal in literals)
