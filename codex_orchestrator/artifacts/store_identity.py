"""The bot identity store commits are made with (``store.author``)."""

from __future__ import annotations

import re

DEFAULT_EMAIL_DOMAIN = "users.noreply.codex-orchestrator.invalid"
_WITH_EMAIL = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")


def parse_author(author: str) -> tuple[str, str]:
    """``Name <email>`` or a bare name (the e-mail then names it on a reserved domain)."""
    match = _WITH_EMAIL.match(author)
    if match and match.group("name"):
        return match.group("name"), match.group("email")
    name = author.strip()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "bot"
    return name, f"{slug}@{DEFAULT_EMAIL_DOMAIN}"


def author_environment(author: str) -> dict[str, str]:
    """Author and committer for git: the bot, so its commits are told apart from people's."""
    name, email = parse_author(author)
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
