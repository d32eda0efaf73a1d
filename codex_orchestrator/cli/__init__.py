"""The command line: thin Typer commands that build a request and call one core function."""
