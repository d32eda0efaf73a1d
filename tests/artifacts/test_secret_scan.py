"""The secret scanner: seed patterns, detect-secrets, config patterns, allowlists, binaries."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from codex_orchestrator.artifacts.secrets import (
    Baseline,
    Finding,
    ScanTarget,
    SecretScanner,
    SecretsFound,
)

# Built from pieces so that this file itself holds no scannable secret.
AWS_ID = "AKIA" + "Z7Q3XK2LMN4PR8TW"
AWS_SECRET = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCYzq7Kd93Lqx"
STRIPE_LIVE = "sk_" + "live_4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_TEST = "sk_" + "test_51HaB2cD3eF4gH5iJ6kL7mN8"

SEED_CASES = [
    ("api_key", 'api_key = "q8Zt2vLw9Xk"', "q8Zt2vLw9Xk"),
    ("secret_key", "SECRET_KEY: 'dj4ngo-s3cr3t-k3y'", "dj4ngo-s3cr3t-k3y"),
    ("password", '"db_password": "Hunter2-Orbit"', "Hunter2-Orbit"),
    ("token", "GITLAB_TOKEN=glx9k2Lm4Qw8Rt6Y", "glx9k2Lm4Qw8Rt6Y"),
    ("stripe_live_key", f"stripe = '{STRIPE_LIVE}'", STRIPE_LIVE),
    ("stripe_test_key", f"key: {STRIPE_TEST}", STRIPE_TEST),
    ("aws_access_key_id", f"id {AWS_ID} here", AWS_ID),
    ("aws_secret_access_key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
]


def scan(tmp_path: Path, files: dict[str, bytes], patterns: tuple[str, ...] = ()) -> list[Finding]:
    targets = []
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        targets.append(ScanTarget(path=name, source=path))
    return SecretScanner(patterns, Baseline.load(tmp_path)).scan(targets)


@pytest.mark.parametrize(("kind", "line", "value"), SEED_CASES, ids=[c[0] for c in SEED_CASES])
def test_each_seed_pattern_names_file_line_and_kind_never_the_value(
    tmp_path: Path, kind: str, line: str, value: str
) -> None:
    findings = scan(tmp_path, {"conf/app.txt": f"first line\n{line}\n".encode()})
    assert [(f.path, f.line) for f in findings] == [("conf/app.txt", 2)]
    assert findings[0].kind == kind
    shown = SecretsFound(findings).message + orjson.dumps([f.to_dict() for f in findings]).decode()
    assert value not in shown
    assert findings[0].value_hash.startswith("sha256:")


@pytest.mark.parametrize(
    "line",
    [
        "password: '*****'",
        "token: ${TOKEN}",
        'api_key = "<your api key>"',
        "password = os.environ['DB_PASSWORD']",
        "token = self.token",
        "secret_key: {{ .Values.secretKey }}",
        "password=changeme",
    ],
)
def test_placeholders_and_references_do_not_fire(tmp_path: Path, line: str) -> None:
    assert scan(tmp_path, {"settings.yml": f"{line}\n".encode()}) == []


def test_allowlist_pragma_lines_pass(tmp_path: Path) -> None:
    text = (
        f'api_key = "q8Zt2vLw9Xk"  # pragma: allowlist secret\n'
        f"# pragma: allowlist nextline secret\n"
        f"key = '{AWS_ID}'\n"
        f'password = "Hunter2-Orbit"\n'
    )
    findings = scan(tmp_path, {"a.py": text.encode()})
    assert [(f.line, f.kind) for f in findings] == [(4, "password")]


def test_baseline_entries_pass_unless_audited_as_real(tmp_path: Path) -> None:
    def sha1(value: str) -> str:
        return hashlib.sha1(value.encode()).hexdigest()  # noqa: S324 - detect-secrets' own hash

    baseline = {
        "results": {
            "a.py": [
                {"type": "Secret Keyword", "hashed_secret": sha1("q8Zt2vLw9Xk"), "line_number": 1},
                {"type": "AWS", "hashed_secret": sha1(AWS_ID), "is_secret": True},
            ]
        }
    }
    (tmp_path / ".secrets.baseline").write_bytes(orjson.dumps(baseline))
    text = f'api_key = "q8Zt2vLw9Xk"\nkey = "{AWS_ID}"\n'
    findings = scan(tmp_path, {"a.py": text.encode()})
    assert [(f.line, f.kind) for f in findings] == [(2, "aws_access_key_id")]


def test_binary_files_are_scanned_byte_for_byte_without_failing(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00" * 50
    with_key = png + b"\n\x00embedded " + AWS_ID.encode() + b" \xff\n"
    findings = scan(tmp_path, {"clean.png": png, "dirty.bin": with_key})
    assert [(f.path, f.kind) for f in findings] == [("dirty.bin", "aws_access_key_id")]


def test_detect_secrets_detectors_and_entropy_run(tmp_path: Path) -> None:
    header = "-----BEGIN RSA " + "PRIVATE KEY-----"
    blob = "c2VjcmV0IHZhbHVlIHRoYXQgaXMgbG9uZyBhbmQgcmFuZG9tIDEyMzQ1Njc4OTA="
    files = {"key.pem": f"{header}\nMIIEow\n".encode(), "cfg.yml": f'blob: "{blob}"\n'.encode()}
    kinds = {(f.path, f.kind) for f in scan(tmp_path, files)}
    assert ("key.pem", "detect-secrets:Private Key") in kinds
    assert ("cfg.yml", "detect-secrets:Base64 High Entropy String") in kinds


def test_configured_patterns_fire(tmp_path: Path) -> None:
    findings = scan(
        tmp_path, {"n.txt": b"ok\ninternal ACME-7781-QQ\n"}, patterns=(r"ACME-\d{4}-[A-Z]{2}",)
    )
    assert [(f.line, f.kind) for f in findings] == [(2, "custom[0]")]


def test_a_file_too_large_to_read_whole_is_scanned_line_by_line(tmp_path: Path) -> None:
    filler = b"x = 1  # filler line of a large generated log\n" * 200_000  # ~9.4 MB
    long_line = b"y" * 300_000 + b"\n"  # one line longer than a read piece
    data = b"first\n" + filler + long_line + f'password = "{"Hunter2-Orbit"}"\n'.encode()
    findings = scan(tmp_path, {"big.log": data})
    assert len(data) > 8 * 1024 * 1024
    assert [(f.line, f.kind) for f in findings] == [(200_003, "password")]
