"""Paths under ``.runs`` and the identifiers that become path segments."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import RUN_ID_RE
from hypothesis import given
from hypothesis import strategies as st

from codex_orchestrator.errors import InvalidInput
from codex_orchestrator.store.layout import (
    DEFAULT_TASK_ID,
    RunsLayout,
    command_file_stem,
    looks_like_run_id,
    new_run_id,
    resolve_task_id,
    slugify,
    validate_run_id,
    validate_task_id,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# ---------------------------------------------------------------------------
# Slugs
# ---------------------------------------------------------------------------


@given(st.text())
def test_slug_is_lowercase_alphanumeric_runs_joined_by_single_dashes(text: str) -> None:
    """Any text slugs to ``[a-z0-9]`` runs joined by one dash, at most 80 chars, or 'command'."""
    slug = slugify(text)
    assert SLUG_RE.match(slug), slug
    assert len(slug) <= 80


@given(st.text())
def test_slugify_is_idempotent(text: str) -> None:
    """A slug slugs to itself."""
    assert slugify(slugify(text)) == slugify(text)


@given(st.from_regex(r"[a-z0-9]{1,80}", fullmatch=True))
def test_a_slug_shaped_id_is_kept(text: str) -> None:
    """Lowercase alphanumeric ids up to 80 chars are their own slug."""
    assert slugify(text) == text


@given(st.text(alphabet=st.characters(categories=["P", "Z", "S"]).filter(str.isascii)))
def test_text_without_letters_or_digits_slugs_to_command(text: str) -> None:
    """Nothing usable left: the slug is ``command``."""
    assert slugify(text) == "command"


@given(st.text())
def test_slug_keeps_the_ascii_letters_and_digits_in_order(text: str) -> None:
    """The slug is the input's lowercased alphanumerics (cut at 80) with dashes between."""
    lowered = re.sub(r"[^a-z0-9]+", "", text.lower())
    slug = slugify(text)
    kept = slug.replace("-", "")
    assert lowered.startswith(kept) or slug == "command"


@pytest.mark.parametrize(
    ("stage_id", "slug"),
    [
        ("Hello World!", "hello-world"),
        ("spec-guard", "spec-guard"),
        ("  --Build & Test--  ", "build-test"),
        ("a__b..c", "a-b-c"),
        ("ünïcode", "n-code"),
        ("", "command"),
        ("!!!", "command"),
        ("x" * 100, "x" * 80),
        ("a" * 79 + "-b", "a" * 79),
    ],
)
def test_slug_examples(stage_id: str, slug: str) -> None:
    """The examples a reader of DESIGN.md would check by hand."""
    assert slugify(stage_id) == slug


@pytest.mark.parametrize(
    ("index", "stage_id", "stem"),
    [
        (1, "Build", "01-build"),
        (9, "lint", "09-lint"),
        (12, "!!", "12-command"),
        (100, "x", "100-x"),
    ],
)
def test_command_file_stem_is_two_digit_index_and_slug(
    index: int, stage_id: str, stem: str
) -> None:
    """``NN-slug``: 1-based index, at least two digits."""
    assert command_file_stem(index, stage_id) == stem


# ---------------------------------------------------------------------------
# Task and run ids
# ---------------------------------------------------------------------------

# Characters a valid id may hold: anything printable except the separators.
_SAFE_CHARS = st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters=["/", "\\"])
valid_ids = st.text(_SAFE_CHARS, min_size=1, max_size=40).filter(
    lambda text: text not in (".", "..") and not text.startswith(".")
)


@given(valid_ids)
def test_valid_ids_are_accepted_unchanged(value: str) -> None:
    """A name with no separator, control character or leading dot is one path segment."""
    assert validate_task_id(value) == value
    assert validate_run_id(value) == value
    base = Path("/base")
    assert (base / value).parent == base


@given(
    st.tuples(valid_ids, st.sampled_from(["/", "\\"]), st.text(max_size=5)).map("".join)
    | st.tuples(st.text(max_size=5), st.characters(categories=["Cc"]), st.text(max_size=5)).map(
        "".join
    )
    | st.text(max_size=10).map(lambda text: "." + text)
    | st.sampled_from(["", ".", ".."])
)
def test_unsafe_ids_are_rejected(value: str) -> None:
    """Empty, ``.``/``..``, separators, control characters and a leading dot are refused."""
    with pytest.raises(InvalidInput, match="invalid task id"):
        validate_task_id(value)
    with pytest.raises(InvalidInput, match="invalid run id"):
        validate_run_id(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "it is empty"),
        (".", "not a name"),
        ("..", "not a name"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("a\nb", "control character"),
        ("a\x7fb", "control character"),
        ("a\x85b", "control character"),
        (".hidden", "starts with a dot"),
    ],
)
def test_rejection_says_why(value: str, reason: str) -> None:
    """The one-line error names the problem."""
    with pytest.raises(InvalidInput, match=reason):
        validate_task_id(value)


def test_every_unicode_control_character_is_rejected() -> None:
    """C0, DEL and C1 controls (NEL U+0085 breaks lines) all count as control characters."""
    controls = [chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Cc"]
    assert len(controls) == 65
    for char in controls:
        with pytest.raises(InvalidInput):
            validate_task_id(f"task{char}x")


def test_task_id_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--task``, then MCP_RUNNER_TASK_ID, then CODEX_ORCHESTRATOR_TASK_ID, then 0101."""
    assert resolve_task_id(None) == DEFAULT_TASK_ID == "0101"
    monkeypatch.setenv("CODEX_ORCHESTRATOR_TASK_ID", "from-codex")
    assert resolve_task_id(None) == "from-codex"
    monkeypatch.setenv("MCP_RUNNER_TASK_ID", "from-mcp")
    assert resolve_task_id(None) == "from-mcp"
    assert resolve_task_id("explicit") == "explicit"


def test_task_id_from_the_environment_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unsafe id in a variable is refused like one given with ``--task``."""
    monkeypatch.setenv("MCP_RUNNER_TASK_ID", "../escape")
    with pytest.raises(InvalidInput, match="path separator"):
        resolve_task_id(None)


def test_run_id_is_utc_start_time_and_eight_hex_chars() -> None:
    """``2025-10-31T22-56-34-431Z-9574035c``: ``:`` and ``.`` replaced by ``-``."""
    moment = datetime(2025, 10, 31, 22, 56, 34, 431999, tzinfo=UTC)
    run_id = new_run_id(moment)
    assert RUN_ID_RE.match(run_id), run_id
    assert run_id.startswith("2025-10-31T22-56-34-431Z-")
    assert looks_like_run_id(run_id)
    assert validate_run_id(run_id) == run_id


def test_run_ids_are_unique_and_sort_by_time() -> None:
    """Two ids of one moment differ; a later moment sorts after."""
    early = datetime(2025, 1, 1, tzinfo=UTC)
    late = datetime(2025, 1, 2, tzinfo=UTC)
    assert new_run_id(early) != new_run_id(early)
    assert new_run_id(early) < new_run_id(late)
    assert RUN_ID_RE.match(new_run_id())


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


def test_paths_follow_the_documented_layout(tmp_path: Path) -> None:
    """Every path DESIGN.md names, built from the repo root."""
    layout = RunsLayout.for_root(tmp_path)
    run_id = "2025-10-31T22-56-34-431Z-9574035c"
    paths = layout.run("0101", run_id)
    base = tmp_path / ".runs" / "0101"
    assert paths.run_dir == base / "cli" / run_id
    assert paths.manifest == base / "cli" / run_id / "manifest.json"
    assert paths.runner_log == base / "cli" / run_id / "runner.ndjson"
    assert paths.heartbeat == base / "cli" / run_id / ".heartbeat"
    assert paths.resume_token == base / "cli" / run_id / ".resume-token"
    assert paths.command_log(3, "Unit Tests") == paths.run_dir / "commands" / "03-unit-tests.ndjson"
    assert paths.error_file(3, "Unit Tests") == paths.run_dir / "errors" / "03-unit-tests.json"
    assert layout.compat_pointer("0101", run_id) == base / "mcp" / run_id
    assert layout.compat_target(run_id) == f"../cli/{run_id}"
    assert layout.metrics_file("0101") == base / "metrics.json"
    assert layout.legacy_dir() == tmp_path / ".runs" / "local-mcp"
    assert paths.relative(paths.manifest) == f".runs/0101/cli/{run_id}/manifest.json"


def test_runs_dir_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CODEX_ORCHESTRATOR_RUNS_DIR puts the tree elsewhere; paths inside stay relative."""
    monkeypatch.setenv("CODEX_ORCHESTRATOR_RUNS_DIR", str(tmp_path / "evidence"))
    layout = RunsLayout.for_root(tmp_path)
    assert layout.task_dir("t") == tmp_path / "evidence" / "t"
    assert layout.relative(layout.metrics_file("t")) == "evidence/t/metrics.json"


def test_layout_refuses_unsafe_ids(tmp_path: Path) -> None:
    """No path is ever built from an id that would leave its directory."""
    layout = RunsLayout.for_root(tmp_path)
    with pytest.raises(InvalidInput):
        layout.task_dir("..")
    with pytest.raises(InvalidInput):
        layout.run("0101", "../../etc")
    with pytest.raises(InvalidInput):
        layout.compat_pointer("0101", "a/b")


def test_task_ids_lists_task_directories_with_runs(tmp_path: Path) -> None:
    """Only task directories holding ``cli`` or ``mcp`` count; legacy and hidden ones do not."""
    runs = tmp_path / ".runs"
    for name in ("b", "a"):
        (runs / name / "cli").mkdir(parents=True)
    (runs / "c" / "mcp").mkdir(parents=True)
    (runs / "empty").mkdir()
    (runs / "local-mcp" / "cli").mkdir(parents=True)
    (runs / ".hidden" / "cli").mkdir(parents=True)
    assert RunsLayout.for_root(tmp_path).task_ids() == ["a", "b", "c"]


def test_an_id_longer_than_a_file_name_is_refused() -> None:
    """One line naming the limit, instead of the filesystem's 'file name too long'."""
    from codex_orchestrator.errors import InvalidInput
    from codex_orchestrator.store.layout import validate_run_id

    validate_run_id("a" * 255)
    with pytest.raises(InvalidInput, match="longer than 255 bytes"):
        validate_run_id("a" * 256)
    with pytest.raises(InvalidInput, match="longer than 255 bytes"):
        validate_run_id("\u00e9" * 128)  # 256 bytes in UTF-8
