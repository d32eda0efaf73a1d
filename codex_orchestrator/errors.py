"""The error hierarchy and the exit codes every command maps to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented process exit codes."""

    OK = 0
    RUN_FAILED = 1
    USAGE = 2
    INTERNAL = 3
    CANCELLED = 130


class OrchestratorError(Exception):
    """Base of every error we report as one line; carries its exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(OrchestratorError):
    """The configuration file is missing, malformed or inconsistent."""


class InvalidInput(OrchestratorError):
    """A command-line value (task id, run id, option) is not acceptable."""


class RunNotFound(OrchestratorError):
    """No run matches the id (or there is no latest run)."""


class ManifestUnreadable(OrchestratorError):
    """A manifest exists but is not a readable JSON object."""


class RunsPathError(OrchestratorError):
    """A path under ``.runs`` cannot be read or made (permissions, a file in the way)."""


class ResumeBlocked(OrchestratorError):
    """A resume was refused (token, live runner, terminal status)."""


class LockTimeout(OrchestratorError):
    """Another process holds the run's lock."""


class StoreError(OrchestratorError):
    """Writing run evidence failed (disk full, read-only, permissions)."""

    exit_code = ExitCode.INTERNAL


class RunSetupError(OrchestratorError):
    """The run directory or its compat pointer cannot be written; nothing was started."""


class InternalError(OrchestratorError):
    """A bug: an unexpected exception, reported in one line (traceback in crash.log)."""

    exit_code = ExitCode.INTERNAL
