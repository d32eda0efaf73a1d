#!/usr/bin/env python3
"""Summarise .runs/<task>/metrics.json into metrics-summary.json.

A thin wrapper over ``codex-orchestrator metrics summary`` (same options), for callers of
the TypeScript tool's ``scripts/mcp-runner-metrics.js``. Needs the project installed.
"""

from codex_orchestrator.cli.metrics import script_main

if __name__ == "__main__":
    script_main()
