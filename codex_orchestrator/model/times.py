"""Timestamps as the manifest writes them: ISO-8601 UTC with milliseconds and ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current time as ISO-8601 UTC with milliseconds and ``Z``."""
    return format_iso(datetime.now(UTC))


def format_iso(moment: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with milliseconds and ``Z``."""
    if moment.tzinfo is not UTC:  # another zone, or naive (local time, as astimezone reads it)
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime; "+00:00" becomes "Z".
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def parse_iso(text: str | None) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` or offset); None when absent or malformed."""
    if not text or not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
