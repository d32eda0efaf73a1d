"""Builders of ``.runs`` trees in every older shape, and tree snapshots for comparisons.

The shapes follow real run directories of the TypeScript tool's MCP runner (October 2025):
flat ``runner: "agents-sdk"`` manifests with ``response_file`` commands, bare early
``mode: "mcp"`` manifests, ``local-mcp`` pointers (a real symlink, or the text file a
checkout without links leaves), real runs left in ``local-mcp``, and an unrelated format.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def dump(data: Any) -> bytes:
    """JSON as the TypeScript tool wrote it: two-space indent and a newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def write(path: Path, data: bytes | str, mode: int | None = None) -> Path:
    """Write a file, making its parents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def snapshot(root: Path, exclude: Iterable[str] = ()) -> dict[str, tuple[Any, ...]]:
    """Every entry below ``root``: files by sha256 and mode, links by target, dirs by name."""
    skipped = set(exclude)
    result: dict[str, tuple[Any, ...]] = {}
    for current, dirs, files in os.walk(root):
        base = Path(current)
        dirs[:] = [d for d in dirs if d not in skipped]
        for name in [*dirs, *files]:
            path = base / name
            key = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                result[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                result[key] = ("dir",)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                result[key] = ("file", digest, stat.S_IMODE(info.st_mode))
        # symlinked directories are listed as links above and not descended into
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
    return result


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every regular file below ``root`` (symlinks not followed)."""
    return {key: value[1] for key, value in snapshot(root).items() if value[0] == "file"}


class LegacyTree:
    """Builds run directories of the older layouts under ``<root>/.runs``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / ".runs"

    def agents_sdk_run(
        self,
        task: str,
        run_id: str,
        *,
        status: str = "succeeded",
        where: Path | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        """A flat agents-sdk run in ``.runs/<task>/mcp/<run-id>`` (or ``where``)."""
        run_dir = where or self.runs / task / "mcp" / run_id
        rel = run_dir.relative_to(self.root).as_posix()
        commands = []
        for index, command in enumerate(["npm run build", "npm run lint"], start=1):
            slug = command.replace(" ", "-")
            response = [{"type": "text", "text": json.dumps({"exit_code": 0, "summary": "ok"})}]
            write(run_dir / f"{index:02d}-{slug}.json", dump(response))
            failed = status == "failed" and index == 2
            commands.append(
                {
                    "index": index,
                    "command": command,
                    "status": "failed" if failed else "succeeded",
                    "started_at": "2025-10-18T18:26:16.821Z",
                    "completed_at": "2025-10-18T18:26:28.265Z",
                    "exit_code": 1 if failed else 0,
                    "manifest_path": None,
                    "response_file": f"{rel}/{index:02d}-{slug}.json",
                    "summary": "Sommaire — ok ✓",
                    "error_file": f"{rel}/errors/{index:02d}-{slug}.json" if failed else None,
                }
            )
            if failed:
                write(run_dir / "errors" / f"{index:02d}-{slug}.json", dump({"reason": "x"}))
        manifest = {
            "runner": "agents-sdk",
            "script": "scripts/agents_mcp_runner.mjs",
            "status": status,
            "status_detail": None,
            "commands": commands,
            "started_at": "2025-10-18T18:26:16.689Z",
            "updated_at": "2025-10-18T18:40:18.881Z",
            "completed_at": "2025-10-18T18:27:10.396Z",
            "run_id": run_id,
            "repo_root": "/Users/someone/Code/CO",
            "approval_policy": "never",
            "timeout_seconds": 120,
            "runner_pid": 39465,
            "runner_log": f"{rel}/runner.log",
            "task_id": task,
            "artifact_root": rel,
            "compat_path": f".runs/local-mcp/{run_id}",
            "heartbeat_at": "2025-10-18T18:27:06.832Z",
            "heartbeat_interval_seconds": 10,
            "heartbeat_stale_after_seconds": 30,
            "resume_token": "639bc8240fa1bd76fb4d67f7ce89507c252188138a0f9da8477e7600a6d6d522",
            "resume_events": [],
            "metrics_recorded": True,
            **(extra or {}),
        }
        write(run_dir / "manifest.json", dump(manifest))
        write(run_dir / "runner.log", b"")
        write(run_dir / "poll.json", dump({"run_id": run_id, "manifest": f"{rel}/manifest.json"}))
        write(run_dir / ".heartbeat", "2025-10-18T18:27:06.832Z\n")
        write(run_dir / ".resume-token", "639bc8240fa1bd76\n", mode=0o600)
        return run_dir

    def early_mcp_run(self, task: str, run_id: str) -> Path:
        """A bare early run (``mode: "mcp"``) in ``.runs/<task>/mcp/<run-id>``."""
        run_dir = self.runs / task / "mcp" / run_id
        manifest = {
            "mode": "mcp",
            "started_at": run_id,
            "repo": "/Users/someone/Code/CO",
            "command": "codex mcp-server",
            "task_id": task,
            "artifact_root": f".runs/{task}/mcp/{run_id}",
            "compat_path": f".runs/local-mcp/{run_id}",
            "metrics_recorded": True,
            "resume_token": None,
            "resume_events": [],
            "updated_at": "2025-10-19T07:25:00.037Z",
        }
        write(run_dir / "manifest.json", dump(manifest))
        write(run_dir / "mcp-server.log", b'{"id":0,"jsonrpc":"2.0"}\n\xff\xfe raw bytes\n')
        return run_dir

    def local_pointer(self, run_id: str, task: str, *, as_text: bool = False) -> Path:
        """``local-mcp/<run-id>``: compat.json + manifest.json symlink (or its text form)."""
        entry = self.runs / "local-mcp" / run_id
        compat = {
            "artifact_root": f".runs/{task}/mcp/{run_id}",
            "manifest": f".runs/{task}/mcp/{run_id}/manifest.json",
            "pointer": "symlink",
            "created_at": "2025-10-19T07:25:00.038Z",
        }
        write(entry / "compat.json", dump(compat))
        target = f"../../{task}/mcp/{run_id}/manifest.json"
        if as_text:
            write(entry / "manifest.json", target)
        else:
            (entry / "manifest.json").symlink_to(target)
        return entry

    def local_real_run(self, run_id: str, task: str | None = None) -> Path:
        """A real run left in ``local-mcp`` by the earliest runner (no task id by default)."""
        entry = self.runs / "local-mcp" / run_id
        extra = {"task_id": task} if task else {}
        self.agents_sdk_run(task or "0001", run_id, where=entry, extra=extra)
        data = json.loads((entry / "manifest.json").read_text())
        if task is None:
            del data["task_id"]
        del data["compat_path"]
        write(entry / "manifest.json", dump(data))
        return entry

    def other_format(self, task: str = "3", name: str = "2025-10-16T01-21-30Z") -> Path:
        """A run of an unrelated, even older format: ``.runs/<task>/<timestamp>/``."""
        run_dir = self.runs / task / name
        manifest = {"task": {"id": "0001"}, "run": {"id": "TASK3-1", "mode": {"selected": "mcp"}}}
        write(run_dir / "manifest.json", dump(manifest))
        write(run_dir / "lint.log", "lint ok\n")
        write(run_dir / "diff.patch", b"")
        return run_dir

    def cli_run(self, task: str, run_id: str, *, stub: bool = False) -> Path:
        """A run in the current layout, with its compat pointer (symlink or stub)."""
        run_dir = self.runs / task / "cli" / run_id
        manifest = {
            "version": 1,
            "task_id": task,
            "run_id": run_id,
            "pipeline_id": "diagnostics",
            "runner": "codex-cli",
            "status": "succeeded",
            "started_at": "2025-11-01T10:00:00.000Z",
            "completed_at": "2025-11-01T10:00:05.000Z",
            "commands": [],
        }
        write(run_dir / "manifest.json", dump(manifest))
        pointer = self.runs / task / "mcp" / run_id
        pointer.parent.mkdir(parents=True, exist_ok=True)
        if stub:
            stub_data = {
                "redirect_to": f"../cli/{run_id}",
                "manifest": f"../cli/{run_id}/manifest.json",
                "created_at": "2025-11-01T10:00:00.000Z",
            }
            write(pointer / "manifest.json", dump(stub_data))
        else:
            pointer.symlink_to(f"../cli/{run_id}", target_is_directory=True)
        return run_dir

    def metrics(self, task: str, lines: Iterable[bytes | str | dict[str, Any]]) -> Path:
        """``.runs/<task>/metrics.json`` from raw lines or objects."""
        chunks = []
        for line in lines:
            if isinstance(line, dict):
                chunks.append(json.dumps(line).encode() + b"\n")
            else:
                chunks.append(line.encode() if isinstance(line, str) else line)
        return write(self.runs / task / "metrics.json", b"".join(chunks))


AGENTS = "2025-10-18T18-26-16-688Z-39463"
AGENTS_FAILED = "2025-10-19T07-29-43-359Z-61854"
EARLY = "2025-10-18T13-37-27Z"
LOCAL_REAL = "2025-10-17T09-00-00-000Z-11111"
OTHER = "2025-10-16T01-21-30Z"
