"""`python -m codex_orchestrator`."""

from codex_orchestrator.cli.entry import main

if __name__ == "__main__":
    main()
