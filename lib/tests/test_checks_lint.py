"""bin/ecs/lint over the real aws/json (zero NG, zero WARN) and over the fault catalogue's mutations of it:
each fault is an RFC 6902 patch of one good spec (lib/tests/faults/lint/*.json) and lint must name it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonpatch
import pytest

from cruddur_kit import AWS_JSON, REPO_ROOT
from cruddur_kit.checks.lint import lint
from cruddur_kit.checks.model import Status

FAULTS = sorted((Path(__file__).parent / "faults" / "lint").glob("*.json"))
LINT = REPO_ROOT / "bin" / "ecs" / "lint"


def _faulted_tree(tmp_path: Path, fault: dict) -> Path:
    root = tmp_path / "json"
    shutil.copytree(AWS_JSON, root)
    target = root / fault["file"]
    doc = json.loads(target.read_text())
    target.write_text(json.dumps(jsonpatch.apply_patch(doc, fault["patch"]), indent=2))
    return root


def test_good_specs_have_no_ng_and_no_warn():
    result = subprocess.run([str(LINT), "--json"], capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout)
    problems = [f for f in report["findings"] if f["status"] in ("NG", "WARN")]
    assert problems == [] and result.returncode == 0, problems
    assert report["summary"]["OK"] >= 60  # every file was checked, not skipped


def test_catalogue_is_large_and_distinct():
    faults = [json.loads(p.read_text()) for p in FAULTS]
    assert len(faults) >= 25
    assert len({json.dumps(f["patch"], sort_keys=True) for f in faults}) == len(faults)


@pytest.mark.parametrize("fault_path", FAULTS, ids=[p.stem for p in FAULTS])
def test_lint_names_each_fault(fault_path, tmp_path):
    fault = json.loads(fault_path.read_text())
    report = lint(_faulted_tree(tmp_path, fault))
    expect = fault["expect"]
    hits = [
        f
        for f in report.findings
        if f.check == expect["check"]
        and f.status == Status[expect["status"]]
        and f.path.startswith(expect.get("path", ""))
    ]
    assert hits, f"{fault['id']}: expected {expect}, got {[f.to_dict() for f in report.problems]}"
    assert all(f.fix for f in report.problems), "every problem names its fix"
    if "fix_contains" in expect:  # the fix points the right way (e.g. the port the image listens on)
        assert any(expect["fix_contains"] in f.fix for f in hits), [f.fix for f in hits]
    # a fault is one mutation: nothing else in the tree turns red
    assert report.count(Status.NG) + report.count(Status.WARN) <= 6, [f.to_dict() for f in report.problems]


def test_door_exits_1_and_prints_file_path_and_fix(tmp_path):
    fault = json.loads((Path(__file__).parent / "faults" / "lint" / "cpu-memory-pair.json").read_text())
    root = _faulted_tree(tmp_path, fault)
    result = subprocess.run([str(LINT), "--dir", str(root)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "NG   aws/json/task-definitions/backend-flask.json" in result.stdout
    assert "fargate.cpu-memory  $.memory" in result.stdout
    assert "fix: set memory to one of 512, 1024, 2048" in result.stdout


def test_broken_json_is_a_finding_not_a_crash(tmp_path):
    root = tmp_path / "json"
    shutil.copytree(AWS_JSON, root)
    (root / "services" / "backend-flask.json").write_text('{"serviceName": ')
    report = lint(root)
    assert any(f.check == "file.parse" and f.status == Status.NG for f in report.findings)


SPECS = sorted(p.relative_to(AWS_JSON).as_posix() for p in AWS_JSON.rglob("*.json"))


@pytest.mark.parametrize("rel", SPECS)
def test_a_syntax_error_is_one_ng_and_nothing_else_turns_red(rel, tmp_path):
    """Other files' rules that would read the broken one say SKIP, not "missing" (it is there, unparsed)."""
    root = tmp_path / "json"
    shutil.copytree(AWS_JSON, root)
    (root / rel).write_text('{"family": ')
    report = lint(root)
    assert [(f.check, f.subject) for f in report.problems] == [("file.parse", f"aws/json/{rel}")]


def test_quiet_prints_only_warn_and_ng_lines_and_the_summary(tmp_path):
    fault = json.loads((Path(__file__).parent / "faults" / "lint" / "cpu-memory-pair.json").read_text())
    result = subprocess.run(
        [str(LINT), "-q", "--dir", str(_faulted_tree(tmp_path, fault))], capture_output=True, text=True, timeout=60
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0] == "  NG   aws/json/task-definitions/backend-flask.json"
    assert re.fullmatch(r"\d+ OK, \d+ WARN, [1-9]\d* NG, \d+ SKIP", lines[-1]), lines[-1]
    body = [line.split()[0] for line in lines[:-1] if not line.strip().startswith("fix:")]
    assert set(body) <= {"NG", "WARN"}, lines  # no OK or SKIP line, no title
    clean = subprocess.run([str(LINT), "-q"], capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0 and clean.stdout.splitlines() == [clean.stdout.strip()]  # the summary alone
