"""Formatting figures and tails the same way in every report."""

from __future__ import annotations

import re

from codex_orchestrator.model import CommandRecord

NEST = " \u203a "  # a right-pointing angle quotation mark between nested stage ids

# Characters XML 1.0 cannot carry, even escaped (C0 controls but tab/newline/CR,
# lone surrogates, U+FFFE/U+FFFF); terminals' colour codes (ESC) are among them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def visible_controls(text: str) -> str:
    """``text`` with characters XML and HTML cannot show written as ``\\xNN`` escapes."""
    return _NOT_XML.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def duration_text(seconds: float | None) -> str:
    """``0.42 s``, ``12.3 s``, ``2 min 05 s``, ``1 h 02 min``; an em dash when unknown."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def bytes_text(count: int | None) -> str:
    """``512 B``, ``3.4 MB`` (powers of 1000, as ``ps`` and dashboards show memory)."""
    if count is None:
        return "—"
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover - the loop returns at GB


def cpu_text(record: CommandRecord) -> str:
    """The stage's CPU seconds, or an em dash."""
    if record.resources is None:
        return "—"
    return f"{record.resources.cpu_seconds:.2f} s"


def rss_text(record: CommandRecord) -> str:
    """The stage's peak RSS, or an em dash."""
    if record.resources is None:
        return "—"
    return bytes_text(record.resources.peak_rss_bytes)


def exit_text(record: CommandRecord) -> str:
    """The exit code, the signal that ended the stage, or an em dash."""
    if record.exit_code is not None:
        return str(record.exit_code)
    if record.signal:
        return record.signal
    return "—"


def last_lines(text: str, max_lines: int, max_chars: int) -> tuple[str, bool]:
    """The last ``max_lines`` lines of ``text``, at most ``max_chars`` characters.

    Returns the kept text and whether anything was cut.
    """
    stripped = text.rstrip("\n")
    lines = stripped.splitlines()
    kept = "\n".join(lines[-max_lines:])
    cut = len(lines) > max_lines
    if len(kept) > max_chars:
        kept = kept[-max_chars:]
        cut = True
    return kept, cut


def one_line(text: str | None, max_chars: int = 300) -> str:
    """A summary on one line, shortened with an ellipsis."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1] + "…"
