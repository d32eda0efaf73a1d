#!/usr/bin/env python3
"""Bring runs of older .runs layouts into the current one.

A thin wrapper over ``codex-orchestrator migrate`` (same options), for callers of the
TypeScript tool's ``scripts/mcp-runner-migrate.js``. Needs the project installed.
"""

from codex_orchestrator.cli.migrate import script_main

if __name__ == "__main__":
    script_main()
