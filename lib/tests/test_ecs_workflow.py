""".github/workflows/deploy.yml, validated offline: it parses, it builds -> pushes by sha -> deploys, and
every step calls an existing, executable bin/ door with options and arguments its command accepts
(parsed by the command's own click parser, nothing invoked)."""
from __future__ import annotations

import importlib
import os
import re
import shlex

import pytest
import yaml

from cruddur_kit import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploy.yml"
DOOR = re.compile(r'^exec "\$\(dirname "\$0"\)/\.\./_kit" (\S+) (\S+) "\$@"$', re.MULTILINE)
SHA = "0123456789ab"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def _expr(match: re.Match) -> str:
    """A GitHub expression's stand-in: its `|| 'default'`, or a sha for the tag output."""
    body = match.group(1)
    default = re.search(r"\|\|\s*'([^']*)'", body)
    if default:
        return default.group(1)
    return SHA if "steps.tag.outputs.sha" in body else "X"


def _commands(workflow) -> list[tuple[str, list[str]]]:
    """(step name, argv) for every command line of every run step, expressions and $VARS filled."""
    job = workflow["jobs"]["deploy"]
    env = {k: re.sub(r"\$\{\{(.*?)\}\}", _expr, str(v)) for k, v in job.get("env", {}).items()}
    out = []
    for step in job["steps"]:
        if "run" not in step:
            continue
        text = re.sub(r"\$\{\{(.*?)\}\}", _expr, step["run"])
        for line in text.splitlines():
            if line.strip():
                argv = shlex.split(re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), "$" + m.group(1)), line))
                out.append((step.get("name", argv[0]), argv))
    return out


def test_it_parses_and_is_triggered_by_main_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    assert "aws-access-key-id" not in WORKFLOW.read_text()  # OIDC role, never long-lived keys


def test_it_builds_then_pushes_by_sha_then_deploys_that_sha(workflow):
    scripts = [(argv[0], argv) for _, argv in _commands(workflow) if argv[0].startswith("bin/")]
    names = [s for s, _ in scripts]
    assert names.index("bin/backend/build") < names.index("bin/ecs/run-local") < names.index("bin/backend/push") \
        < names.index("bin/backend/deploy")  # the image is smoke-tested as a task before it is pushed
    assert "--smoke" in dict(scripts)["bin/ecs/run-local"]
    for script in ("bin/backend/build", "bin/ecs/run-local", "bin/backend/push", "bin/backend/deploy"):
        argv = dict(scripts)[script]
        assert argv[argv.index("--tag") + 1] == SHA, script
    deploy = dict(scripts)["bin/backend/deploy"]
    job_minutes = workflow["jobs"]["deploy"]["timeout-minutes"]
    assert float(deploy[deploy.index("--timeout") + 1]) < job_minutes * 60  # our bound ends first, with a reason


def test_every_step_calls_an_existing_script_with_options_it_accepts(workflow):
    checked = 0
    for name, argv in _commands(workflow):
        if argv[0] == "make":
            assert re.search(rf"^{argv[1]}:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE), name
            continue
        if argv[0] == "echo":
            continue
        assert argv[0].startswith("bin/"), f"step {name!r} runs {argv[0]}, not a bin/ script"
        path = REPO_ROOT / argv[0]
        assert path.is_file() and os.access(path, os.X_OK), f"{argv[0]} is missing or not executable"
        door = DOOR.search(path.read_text())
        assert door, f"{argv[0]} is not a door to the kit"
        group, cmd = door.groups()
        module = importlib.import_module(f"cruddur_kit.commands.{group.replace('-', '_')}.{cmd.replace('-', '_')}")
        module.command.make_context(argv[0], argv[1:])  # raises click.UsageError on a bad option or argument
        checked += 1
    assert checked >= 5


def test_the_check_catches_an_option_a_script_does_not_take(workflow):
    from click.exceptions import UsageError

    module = importlib.import_module("cruddur_kit.commands.backend.deploy")
    with pytest.raises(UsageError):
        module.command.make_context("bin/backend/deploy", ["--tags", SHA])


def test_actions_are_pinned_to_a_version(workflow):
    for step in workflow["jobs"]["deploy"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
