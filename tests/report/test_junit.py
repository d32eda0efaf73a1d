"""JUnit XML of real runs: valid against the common JUnit XSD, one suite per run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
import xmlschema

from .runs import HOSTILE_LINE, SampleRuns

XSD = Path(__file__).parent / "data" / "junit-4.xsd"


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def _junit(sample_runs: SampleRuns, run_id: str) -> ET.Element:
    data = sample_runs.report(run_id, "junit")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    _schema().validate(data.decode("utf-8"))
    return ET.fromstring(data)  # noqa: S314 - our own output


def _case(suite: ET.Element, name: str) -> ET.Element:
    found = suite.find(f"testcase[@name='{name}']")
    assert found is not None, ET.tostring(suite)
    return found


@pytest.mark.parametrize("which", ["ci", "slow", "flaky"])
def test_every_sample_run_is_valid_junit(sample_runs: SampleRuns, which: str) -> None:
    root = _junit(sample_runs, getattr(sample_runs, which))
    assert root.tag == "testsuites"


def test_a_failed_run_with_a_subpipeline(sample_runs: SampleRuns) -> None:
    root = _junit(sample_runs, sample_runs.ci)
    suites = root.findall("testsuite")
    # The run and its child run, each its own suite.
    assert [s.get("id") for s in suites] == [sample_runs.ci, sample_runs.child]
    parent, child = suites
    assert parent.get("tests") == "4"
    assert parent.get("failures") == "1"
    assert parent.get("skipped") == "1"
    assert root.get("tests") == "6"
    assert root.get("failures") == "1"
    assert [c.get("name") for c in parent.findall("testcase")] == [
        "build",
        "checks",
        "hostile",
        "after",
    ]
    failure = _case(parent, "hostile").find("failure")
    assert failure is not None
    assert failure.get("type") == "command-failed"
    assert "exit code 3" in (failure.get("message") or "")
    # The error tail, as text: the hostile line survives as characters, not markup.
    text = failure.text or ""
    assert HOSTILE_LINE in text
    assert "\\x1b[31mred" in text  # the terminal colour code, shown, not raw (XML forbids it)
    assert _case(parent, "after").find("skipped") is not None
    assert _case(parent, "build").find("failure") is None
    lint = _case(child, "lint")
    assert float(lint.get("time") or 0) >= 0.25  # it slept 0.3 s
    assert child.get("failures") == "0"
    properties = {p.get("name"): p.get("value") for p in parent.iter("property")}
    assert properties["status"] == "failed"
    assert properties["status_detail"] == "stage:hostile:failed"


def test_a_timed_out_stage_and_an_allowed_failure(sample_runs: SampleRuns) -> None:
    suite = _junit(sample_runs, sample_runs.slow).findall("testsuite")[0]
    failure = _case(suite, "hang").find("failure")
    assert failure is not None
    assert failure.get("type") == "command-timeout"
    assert "waiting" in (failure.text or "")
    skipped = _case(suite, "optional").find("skipped")
    assert skipped is not None
    out = _case(suite, "optional").find("system-out")
    assert out is not None
    assert "flaky" in (out.text or "")


def test_a_resumed_run_reads_as_passed(sample_runs: SampleRuns) -> None:
    suite = _junit(sample_runs, sample_runs.flaky).findall("testsuite")[0]
    assert suite.get("failures") == "0"
    assert suite.get("tests") == "2"
    assert all(case.find("failure") is None for case in suite.findall("testcase"))
