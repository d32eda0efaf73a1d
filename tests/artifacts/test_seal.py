"""Sealing kept files with age: round trips, verification, failures and retries."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_orchestrator.artifacts.agefile import (
    AgeFormatError,
    check_structure,
    payload_size,
    plaintext_size,
    read_header,
)
from codex_orchestrator.artifacts.recipients import (
    Recipients,
    load_identities,
    load_recipients,
)
from codex_orchestrator.artifacts.seal import SealError, seal_file, seal_tree, unseal
from codex_orchestrator.errors import ExitCode, InvalidInput

from .keys import KeyPair, age_decrypt

SIZES = {"empty": 0, "one": 1, "chunk": 65536, "chunk-plus-one": 65537, "big.bin": 300_001}


def _write_tree(root: Path) -> dict[str, bytes]:
    contents = {name: os.urandom(size) for name, size in SIZES.items()}
    contents["nested/deeper/report.md"] = b"# report\n" * 100
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "link-to-report").symlink_to("nested/deeper/report.md")
    return contents


def _recipients(*keys: KeyPair) -> Recipients:
    found = load_recipients([key.recipient for key in keys], None, where="artifacts.seal")
    assert found is not None
    return found


def test_sealed_tree_opens_with_the_age_cli_and_with_pyrage(
    tmp_path: Path, age_keys: KeyPair, ssh_keys: KeyPair
) -> None:
    contents = _write_tree(tmp_path)
    report = seal_tree(tmp_path, _recipients(age_keys, ssh_keys))
    assert report.ok, report.failed
    assert sorted(s.path for s in report.sealed) == sorted(contents)
    for name, data in contents.items():
        sealed = tmp_path / f"{name}.age"
        assert not (tmp_path / name).exists(), f"plaintext {name} left behind"
        assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
        assert len(data) < 16 or data[:16] not in sealed.read_bytes()
        assert age_decrypt(sealed, age_keys.identity) == data
        assert age_decrypt(sealed, ssh_keys.identity) == data
        out = io.BytesIO()
        assert unseal(sealed, load_identities(ssh_keys.identity), out) == len(data)
        assert out.getvalue() == data
    by_path = {s.path: s for s in report.sealed}
    assert by_path["big.bin"].sha256 == hashlib.sha256(contents["big.bin"]).hexdigest()
    assert by_path["big.bin"].size == SIZES["big.bin"]
    assert os.readlink(tmp_path / "link-to-report") == "nested/deeper/report.md"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".sealing")) == []


def test_sealing_again_changes_nothing(tmp_path: Path, age_keys: KeyPair) -> None:
    (tmp_path / "a.txt").write_text("alpha")
    first = seal_tree(tmp_path, _recipients(age_keys))
    before = (tmp_path / "a.txt.age").read_bytes()
    second = seal_tree(tmp_path, _recipients(age_keys))
    assert [s.path for s in first.sealed] == ["a.txt"]
    assert second.sealed == []
    assert second.already_sealed == ["a.txt.age"]
    assert (tmp_path / "a.txt.age").read_bytes() == before


def test_a_stage_file_named_like_a_sealed_one_is_sealed_too_not_overwritten(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    (tmp_path / "notes").write_text("notes")
    (tmp_path / "notes.age").write_text("the stage's own file called notes.age")
    assert seal_tree(tmp_path, _recipients(age_keys)).ok
    assert age_decrypt(tmp_path / "notes.age", age_keys.identity) == b"notes"
    assert age_decrypt(tmp_path / "notes.age.age", age_keys.identity) == (
        b"the stage's own file called notes.age"
    )


def test_a_failure_keeps_the_plaintext_private_and_a_retry_finishes(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "sub" / "data.csv").write_text("a,b\n1,2\n")
    (workspace / "ok.txt").write_text("fine")
    (workspace / "sub" / "data.csv.age").mkdir()  # in the way of the sealed copy
    report = seal_tree(workspace, _recipients(age_keys))
    assert not report.ok
    assert report.failed == [
        ("sub/data.csv", "data.csv.age already exists and is not a sealed copy of data.csv")
    ]
    assert (workspace / "sub" / "data.csv").read_text() == "a,b\n1,2\n"
    assert stat.S_IMODE((workspace / "sub").stat().st_mode) == 0o700
    assert stat.S_IMODE(workspace.stat().st_mode) == 0o700
    assert age_decrypt(workspace / "ok.txt.age", age_keys.identity) == b"fine"
    (workspace / "sub" / "data.csv.age").rmdir()
    retry = seal_tree(workspace, _recipients(age_keys))
    assert retry.ok
    assert [s.path for s in retry.sealed] == ["sub/data.csv"]
    assert age_decrypt(workspace / "sub" / "data.csv.age", age_keys.identity) == b"a,b\n1,2\n"


def test_a_seal_interrupted_after_its_rename_is_finished_by_the_retry(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    source = tmp_path / "out.json"
    source.write_text('{"a": 1}')
    recipients = _recipients(age_keys)
    seal_file(source, recipients)
    source.write_text('{"a": 1}')  # as if the process died before removing the plaintext
    report = seal_tree(tmp_path, recipients)
    assert [s.path for s in report.sealed] == ["out.json"]
    assert not source.exists()
    assert age_decrypt(tmp_path / "out.json.age", age_keys.identity) == b'{"a": 1}'


def test_the_structural_check_catches_a_truncated_or_foreign_file(
    tmp_path: Path, age_keys: KeyPair
) -> None:
    sealed = tmp_path / "x.age"
    sealed.write_bytes(pyrage.encrypt(b"x" * 70_000, _recipients(age_keys).to_pyrage()))
    assert check_structure(sealed, plaintext=70_000, recipients=1).recipient_count == 1
    with pytest.raises(AgeFormatError, match="recipient stanzas"):
        check_structure(sealed, plaintext=70_000, recipients=2)
    sealed.write_bytes(sealed.read_bytes()[:-1])
    with pytest.raises(AgeFormatError, match="payload bytes"):
        check_structure(sealed, plaintext=70_000, recipients=1)
    sealed.write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n")
    with pytest.raises(AgeFormatError, match="cut short"):
        check_structure(sealed, plaintext=0, recipients=1)
    sealed.write_bytes(b"plain text")
    with pytest.raises(AgeFormatError, match="not an age file"):
        check_structure(sealed, plaintext=0, recipients=1)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=0, max_value=4 * 65536 + 17))
def test_payload_length_follows_the_stream_chunking(size: int) -> None:
    identity = pyrage.x25519.Identity.generate()
    sealed = pyrage.encrypt(b"\0" * size, [identity.to_public()])
    header = read_header(io.BytesIO(sealed))
    assert len(sealed) - header.header_size == payload_size(size)
    assert plaintext_size(payload_size(size)) == size


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("age1notakey", "invalid age recipient 'age1notakey'"),
        ("ssh-ed25519 AAAAnotbase64", "invalid age recipient"),
        ("AGE-SECRET-KEY-1XYZ", "is not an age recipient"),
        ("", "is not an age recipient"),
    ],
)
def test_invalid_recipients_are_refused_naming_the_key_path(
    age_keys: KeyPair, key: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_recipients([age_keys.recipient, key], None, where="artifacts.seal")
    assert caught.value.exit_code == ExitCode.USAGE
    assert str(caught.value).startswith("artifacts.seal.recipients[1]: ")
    assert message in str(caught.value)


def test_a_recipients_file_is_read_like_age_reads_one(
    tmp_path: Path, age_keys: KeyPair, ssh_keys: KeyPair
) -> None:
    listed = tmp_path / "recipients.txt"
    listed.write_text(f"# the team\n\n{age_keys.recipient}\n{ssh_keys.recipient}\n")
    found = load_recipients([], listed, where="artifacts.seal")
    assert found is not None
    assert found.keys == (age_keys.recipient, " ".join(ssh_keys.recipient.split()[:2]))
    listed.write_text("# nobody\n")
    with pytest.raises(InvalidInput, match="names no recipient"):
        load_recipients([], listed, where="artifacts.seal")
    assert load_recipients([], None, where="artifacts.seal") is None


def test_a_wrong_identity_is_a_one_line_error(
    tmp_path: Path, age_keys: KeyPair, ssh_keys: KeyPair
) -> None:
    (tmp_path / "f").write_text("secret")
    seal_tree(tmp_path, _recipients(age_keys))
    with pytest.raises(InvalidInput, match=r"cannot decrypt f\.age with that identity"):
        unseal(tmp_path / "f.age", load_identities(ssh_keys.identity), io.BytesIO())
    (tmp_path / "not-a-key").write_text("hello")
    with pytest.raises(InvalidInput, match="holds no age identity"):
        load_identities(tmp_path / "not-a-key")


def test_seal_file_refuses_a_foreign_sealed_name(tmp_path: Path, age_keys: KeyPair) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "a.age").symlink_to("a")
    with pytest.raises(SealError, match="already exists"):
        seal_file(tmp_path / "a", _recipients(age_keys))
    assert (tmp_path / "a").read_text() == "a"
