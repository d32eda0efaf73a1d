"""Sealing in a real process: killed with SIGKILL mid-way, retried, nothing lost."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_orchestrator.artifacts.recipients import load_identities
from codex_orchestrator.artifacts.seal import unseal

from .keys import KeyPair

SEAL_SCRIPT = """
import sys
from pathlib import Path
from codex_orchestrator.artifacts.recipients import load_recipients
from codex_orchestrator.artifacts.seal import seal_tree
recipients = load_recipients([sys.argv[2]], None, where="artifacts.seal")
report = seal_tree(Path(sys.argv[1]), recipients)
# VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
status = Path("/proc/self/status").read_text()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
print(len(report.sealed), len(report.failed), peak)
"""


def _seal(root: Path, recipient: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SEAL_SCRIPT, str(root), recipient],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _content(root: Path, relative: str, identity: Path) -> bytes:
    plain = root / relative
    if plain.exists():
        return plain.read_bytes()
    out = io.BytesIO()
    unseal(root / f"{relative}.age", load_identities(identity), out)
    return out.getvalue()


@pytest.mark.slow
def test_a_seal_killed_mid_way_and_retried_loses_nothing(tmp_path: Path, age_keys: KeyPair) -> None:
    digests = {}
    for number in range(60):
        data = os.urandom(2 * 1024 * 1024)
        (tmp_path / f"part-{number:02d}.bin").write_bytes(data)
        digests[f"part-{number:02d}.bin"] = hashlib.sha256(data).hexdigest()
    process = _seal(tmp_path, age_keys.recipient)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".age") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "sealing never started"
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    names = sorted(p.name for p in tmp_path.iterdir())
    plaintext_left = [name for name in names if name.endswith(".bin")]
    assert plaintext_left, "the seal finished before it could be interrupted"
    for relative, digest in digests.items():  # after the kill: every file still readable
        assert hashlib.sha256(_content(tmp_path, relative, age_keys.identity)).hexdigest() == (
            digest
        )

    retry = _seal(tmp_path, age_keys.recipient)
    out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0, err
    sealed_now, failed, _ = out.split()
    assert int(failed) == 0
    assert int(sealed_now) == len(plaintext_left)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{r}.age" for r in digests)
    for relative, digest in digests.items():
        assert hashlib.sha256(_content(tmp_path, relative, age_keys.identity)).hexdigest() == (
            digest
        )


@pytest.mark.slow
def test_sealing_a_large_file_streams_in_bounded_memory(tmp_path: Path, age_keys: KeyPair) -> None:
    big = tmp_path / "big.img"
    with big.open("wb") as sparse:
        sparse.truncate(256 * 1024 * 1024)  # sparse: read back as zeros, costs no disk
    process = _seal(tmp_path, age_keys.recipient)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    sealed, failed, peak_kib = out.split()
    assert (int(sealed), int(failed)) == (1, 0)
    assert int(peak_kib) < 80 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB for a 256 MiB file"
    assert not big.exists()
    assert (tmp_path / "big.img.age").stat().st_size > 256 * 1024 * 1024
