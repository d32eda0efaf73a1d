"""`python -m codex_orchestrator`."""

from codex_orchestrator.cli.app import main

if __name__ == "__main__":
    main()
