"""The streaming masker: values become *** whatever the chunking; nothing else changes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from codex_orchestrator.engine.masking import Masker, mask_text, secret_values

ALPHABET = b"abcXY\n "


def reference(data: bytes, values: list[bytes]) -> bytes:
    ordered = sorted(set(values), key=len, reverse=True)
    return re.sub(b"|".join(re.escape(v) for v in ordered), b"***", data)


def stream(data: bytes, values: list[bytes], cuts: list[int]) -> tuple[bytes, int]:
    masker = Masker(values)
    out = b""
    held_most = 0
    previous = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        chunk = data[previous:cut]
        previous = max(previous, cut)
        out += masker.feed(chunk)
        held_most = max(held_most, len(masker._held))
    return out + masker.close(), held_most


@settings(max_examples=400, deadline=None)
@given(
    values=st.lists(
        st.binary(min_size=1, max_size=8).map(lambda b: bytes(ALPHABET[x % 7] for x in b)),
        min_size=1,
        max_size=4,
    ),
    data=st.binary(max_size=200).map(lambda b: bytes(ALPHABET[x % 7] for x in b)),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_chunking_masks_as_masking_the_whole_stream_does(
    values: list[bytes], data: bytes, cuts: list[int]
) -> None:
    out, held_most = stream(data, values, cuts)
    assert out == reference(data, values)
    assert held_most <= max(map(len, values)) - 1


def test_a_value_split_across_reads_is_masked_and_held_bytes_flush_at_the_end() -> None:
    masker = Masker([b"s3cr3t-value"])
    first = masker.feed(b"token=s3cr3t-")
    assert first == b"token="
    assert masker.feed(b"value done\n") == b"*** done\n"
    assert masker.feed(b"ends with s3cr") == b"ends with "
    assert masker.close() == b"s3cr"


def test_no_values_passes_bytes_through_unchanged() -> None:
    masker = Masker([])
    data = bytes(range(256))
    assert masker.feed(data) == data
    assert masker.close() == b""


def test_secret_values_pick_names_by_pattern_and_length() -> None:
    env = {
        "GITHUB_TOKEN": "ghp_123456",
        "db_password": "hunter22",
        "AWS_SECRET_ACCESS_KEY": "abcdefgh",
        "SIGNING_KEY": "k3y-k3y",
        "SHORT_TOKEN": "12345",
        "KEYBOARD": "not-a-secret",
        "HOME": "/root",
    }
    values = secret_values(env, ("*TOKEN*", "*SECRET*", "*PASSWORD*", "*_KEY"))
    assert set(values) == {b"ghp_123456", b"hunter22", b"abcdefgh", b"k3y-k3y"}
    assert secret_values(env, ("HOME",)) == ()  # shorter than 6 characters
    assert mask_text("curl -H 'x: ghp_123456'", values) == "curl -H 'x: ***'"
