"""Every name from a user goes through one check: no escape from the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_orchestrator.artifacts.pathsafe import check_name, resolve_inside
from codex_orchestrator.errors import ExitCode, InvalidInput

SEGMENTS = st.one_of(
    st.sampled_from(["..", ".", "", "a", "b", "link-out", "link-in", "dir", "~", "..."]),
    st.text(min_size=1, max_size=6),
)
NAMES = st.lists(SEGMENTS, min_size=1, max_size=6).map("/".join)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace with links leading inside and outside, and a secret beside it."""
    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    workspace = base / "workspace"
    (workspace / "dir").mkdir(parents=True)
    (workspace / "a").write_text("a")
    (workspace / "dir" / "b").write_text("b")
    (workspace / "link-out").symlink_to(outside)
    (workspace / "dir" / "link-up").symlink_to("../../outside/secret")
    (workspace / "link-in").symlink_to("dir")
    (workspace / "loop").symlink_to("loop")
    return workspace, outside


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES | st.text(max_size=20))
def test_no_name_resolves_outside_the_workspace(tree: tuple[Path, Path], name: str) -> None:
    workspace, _ = tree
    refusal: InvalidInput | None = None
    try:
        resolved = resolve_inside(workspace, name)
    except InvalidInput as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.exit_code == ExitCode.USAGE
        assert "\n" not in str(refusal)
        return
    root = Path(os.path.realpath(workspace))
    assert resolved.is_relative_to(root)
    assert resolved != root
    assert ".." not in name.split("/")
    assert "\x00" not in name
    assert not name.startswith("/")


@given(name=NAMES)
def test_dot_dot_segments_are_always_refused(name: str) -> None:
    hostile = f"{name}/../x" if name else "../x"
    with pytest.raises(InvalidInput, match=r"'\.\.' is not allowed|NUL|absolute"):
        check_name(hostile)


@given(name=st.text(max_size=10))
def test_nul_and_absolute_are_always_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_name(name + "\x00")
    with pytest.raises(InvalidInput):
        check_name("/" + name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "it is empty"),
        ("..", "'..' is not allowed"),
        ("a/../../etc/passwd", "'..' is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("//etc/passwd", "absolute paths are not allowed"),
        ("a\x00b", "contains a NUL byte"),
        ("./.", "names no file"),
        ("link-out/secret", "leads outside the workspace"),
        ("dir/link-up", "leads outside the workspace"),
        ("d/" + "a" * 256, "a part is longer than 255 bytes"),
        ("é" * 128, "a part is longer than 255 bytes"),  # 256 bytes in UTF-8
        ("/".join(["a" * 200] * 21), "longer than 4096 bytes"),
    ],
)
def test_hostile_names_are_refused_in_one_line(
    tree: tuple[Path, Path], name: str, reason: str
) -> None:
    workspace, _ = tree
    with pytest.raises(InvalidInput) as caught:
        resolve_inside(workspace, name)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_links_staying_inside_and_plain_names_are_allowed(tree: tuple[Path, Path]) -> None:
    workspace, _ = tree
    root = Path(os.path.realpath(workspace))
    assert resolve_inside(workspace, "a") == root / "a"
    assert resolve_inside(workspace, "./dir//b") == root / "dir" / "b"
    assert resolve_inside(workspace, "link-in/b") == root / "dir" / "b"
    assert resolve_inside(workspace, "not-yet-written.txt") == root / "not-yet-written.txt"
    assert check_name("dir/./b").as_posix() == "dir/b"


def test_get_refuses_an_instance_linked_out_of_the_run_and_overlong_names(
    tmp_path: Path,
) -> None:
    """The CLI reader (as the server) never follows an instance directory that a link
    planted in the run leads elsewhere, and refuses a name no file system holds."""
    from helpers import command, pipeline, start_json, write_config

    from .kept import get_bytes, instance_dir

    project = tmp_path / "project"
    project.mkdir()
    write_config(
        project, pipeline("p", command("s", 'echo ok > "$CODEX_ORCHESTRATOR_WORKSPACE/f"'))
    )
    run = start_json(project)[2]
    assert get_bytes(project, run.run_id, "01-s/f").stdout == b"ok\n"
    outside = tmp_path / "outside"
    (outside / "workspace").mkdir(parents=True)
    (outside / "workspace" / "f").write_bytes(b"SECRET")
    kept = instance_dir(run, "01-s")
    os.rename(kept, tmp_path / "moved-away")
    kept.symlink_to(outside)
    refused = get_bytes(project, run.run_id, "01-s/f")
    assert refused.returncode == ExitCode.USAGE
    assert b"SECRET" not in refused.stdout
    assert b"leads out of the run's artifacts" in refused.stderr
    long = get_bytes(project, run.run_id, "01-s/" + "x" * 300)
    assert long.returncode == ExitCode.USAGE
    assert long.stderr.count(b"\n") == 1
