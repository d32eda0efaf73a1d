"""detect-secrets' detectors, in process, with a fast pass that skips files they cannot fire on.

detect-secrets runs every plugin on every line through a dependency-injection layer,
about 18 ms for a 1 KiB file; a commit of a thousand generated files would take
seconds. Before calling it on a file, one pass over the whole text with the plugins'
own trigger conditions (each regex detector's patterns, the keyword detector's
keywords, and, for the entropy detectors, a run of their charset long enough to pass
their entropy limit at all) decides whether it could report anything; only such
files are scanned by detect-secrets itself, with its default settings and filters.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from codex_orchestrator.artifacts.regex_literals import required_literals
from codex_orchestrator.artifacts.secret_patterns import is_placeholder

if TYPE_CHECKING:
    from codex_orchestrator.artifacts.secrets import ScanTarget


def detect_secrets_hits(
    targets: Sequence[ScanTarget],
) -> Iterator[tuple[ScanTarget, int, str, str]]:
    """``(target, line, value, kind)`` for what detect-secrets finds in ``targets``."""
    if not targets:
        return
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings, get_plugins

    # Its logger would print skipped values at debug level; keep it quiet.
    logging.getLogger("detect-secrets").setLevel(logging.CRITICAL)
    with default_settings():
        triggers = _triggers(get_plugins())
        by_source = {
            str(target.source.resolve()): target
            for target in targets
            if _may_fire(triggers, target.source.read_bytes().decode("utf-8", "replace"))
        }
        collection = SecretsCollection(root="")
        for source in by_source:
            collection.scan_file(source)
    for filename, secret in collection:
        target = by_source.get(str(filename))
        if target is None or secret.secret_value is None:
            continue
        if secret.type == "Secret Keyword" and is_placeholder(secret.secret_value):
            continue  # the same placeholders pass as with the seed's keyword patterns
        kind = "detect-secrets:" + str(secret.type)
        yield target, int(secret.line_number), str(secret.secret_value), kind


Trigger = tuple[frozenset[str] | None, re.Pattern[str]]


def _trigger(pattern: str, flags: int) -> Trigger:
    """A regex, with the literals it needs (tested first, as plain substrings)."""
    return required_literals(pattern, flags), re.compile(pattern, flags)


def _triggers(plugins: Sequence[Any]) -> list[Trigger] | None:
    """What a text must contain for any plugin to fire; None: scan every file."""
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    triggers: list[Trigger] = []
    for plugin in plugins:
        if isinstance(plugin, RegexBasedDetector):
            # Anchors meant for one line must hold at every line of the whole text.
            triggers += [_trigger(p.pattern, p.flags | re.MULTILINE) for p in plugin.denylist]
        elif isinstance(plugin, KeywordDetector):
            triggers.append(_trigger("|".join(DENYLIST), re.IGNORECASE))
        elif isinstance(plugin, HighEntropyStringsPlugin):
            # n distinct characters have at most log2(n) bits of entropy: shorter runs
            # of the charset cannot pass the limit.
            shortest = max(1, math.floor(2**plugin.entropy_limit))
            triggers.append(_trigger(f"[{re.escape(plugin.charset)}]{{{shortest},}}", 0))
        else:
            return None
    return triggers


def _may_fire(triggers: list[Trigger] | None, text: str) -> bool:
    if triggers is None:
        return True
    lower = text.lower()
    for literals, regex in triggers:
        if literals is not None and not any(literal in lower for literal in literals):
            continue
        if regex.search(text):
            return True
    return False
