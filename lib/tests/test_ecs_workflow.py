""".github/workflows/, validated offline: both workflows parse; the test workflow runs `make test` (lint, then
the suite) through .ci/run on push and pull request with a PostgreSQL service; the deploy workflow runs that
test workflow first and needs it, then lint, build, push by sha, verify (that image included), deploy; and
every step calls an existing, executable script with options and arguments its command accepts (parsed by
the command's own click parser, nothing invoked)."""

from __future__ import annotations

import os
import re
import shlex

import pytest
import yaml

from cruddur_kit import REPO_ROOT, commands

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
DOOR = re.compile(r'^exec "\$\(dirname "\$0"\)/(?:\.\./)+_kit" (.+) "\$@"$', re.MULTILINE)
SHA = "0123456789ab"
CHANGES = ("bin/ecr/login", "bin/backend/build", "bin/backend/push", "bin/backend/deploy")


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


@pytest.fixture(scope="module")
def deploy():
    return _load("deploy.yml")


@pytest.fixture(scope="module")
def test_workflow():
    return _load("test.yml")


def _triggers(workflow) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def _expr(match: re.Match) -> str:
    """A GitHub expression's stand-in: its `|| 'default'`, or a sha for the tag output."""
    body = match.group(1)
    default = re.search(r"\|\|\s*'([^']*)'", body)
    if default:
        return default.group(1)
    return SHA if "steps.tag.outputs.sha" in body else "X"


def _commands(workflow, job_name: str) -> list[tuple[str, list[str]]]:
    """(step name, argv) for every command line of every run step of a job, expressions and $VARS filled."""
    job = workflow["jobs"][job_name]
    env = {k: re.sub(r"\$\{\{(.*?)\}\}", _expr, str(v)) for k, v in job.get("env", {}).items()}
    out = []
    for step in job.get("steps", []):
        if "run" not in step:
            continue
        text = re.sub(r"\$\{\{(.*?)\}\}", _expr, step["run"])
        for line in text.splitlines():
            if line.strip():
                argv = shlex.split(re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), "$" + m.group(1)), line))
                out.append((step.get("name", argv[0]), argv))
    return out


def _all_commands():
    for name in ("test.yml", "deploy.yml"):
        workflow = _load(name)
        for job in workflow["jobs"]:
            for step, argv in _commands(workflow, job):
                yield f"{name} {job}: {step}", argv


def test_the_tests_run_on_push_and_pull_request_and_for_the_deploy(test_workflow):
    triggers = _triggers(test_workflow)
    assert "push" in triggers and "pull_request" in triggers and "workflow_call" in triggers
    assert triggers["push"] is None or not triggers["push"].get("branches")  # every branch
    job = test_workflow["jobs"]["test"]
    assert [argv for _, argv in _commands(test_workflow, "test")] == [[".ci/run"]]
    postgres = job["services"]["postgres"]
    assert postgres["image"].startswith("postgres:") and "5432:5432" in postgres["ports"]
    assert job["env"]["CRUDDUR_TEST_PG_URL"].startswith("postgresql://postgres@127.0.0.1:5432/")
    assert job["env"]["CI"] == "true"  # a missing engine or browser is then a failure, not a skip


def test_ci_run_is_make_test_and_make_test_lints_first():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^test: venv lint ", makefile, re.MULTILINE)


def test_deploy_is_triggered_by_main_and_by_hand(deploy):
    triggers = _triggers(deploy)
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    assert "aws-access-key-id" not in (WORKFLOWS / "deploy.yml").read_text()  # OIDC role, never long-lived keys


def test_deploy_needs_the_test_workflow_to_pass_on_the_same_commit(deploy, test_workflow):
    assert deploy["jobs"]["test"] == {"uses": "./.github/workflows/test.yml"}
    for name, job in deploy["jobs"].items():
        if name != "test":
            needs = job.get("needs")
            assert "test" in ([needs] if isinstance(needs, str) else needs or []), f"job {name} does not need test"


def test_lint_and_verify_pass_before_anything_changes(deploy):
    scripts = [argv for _, argv in _commands(deploy, "deploy") if argv[0].startswith("bin/")]
    names = [argv[0] for argv in scripts]
    first_change = min(names.index(s) for s in CHANGES)
    assert names.index("bin/ecs/lint") < first_change
    # verify checks the image deploy will run (the tag defaults to HEAD's sha, one rule for every command),
    # so it comes once that image is in ECR, and before the service changes
    assert names.index("bin/backend/push") < names.index("bin/ecs/verify") < names.index("bin/backend/deploy")
    verify = scripts[names.index("bin/ecs/verify")]
    assert (
        verify[verify.index("--tag") + 1]
        == scripts[names.index("bin/backend/deploy")][scripts[names.index("bin/backend/deploy")].index("--tag") + 1]
    )
    steps = deploy["jobs"]["deploy"]["steps"]
    for step in steps[: next(i for i, s in enumerate(steps) if "bin/backend/deploy" in s.get("run", ""))]:
        assert "continue-on-error" not in step and "if" not in step, step  # a failed gate stops the job


def test_it_builds_then_pushes_by_sha_then_deploys_that_sha(deploy):
    scripts = [(argv[0], argv) for _, argv in _commands(deploy, "deploy") if argv[0].startswith("bin/")]
    names = [s for s, _ in scripts]
    assert (
        names.index("bin/backend/build")
        < names.index("bin/ecs/run-local")
        < names.index("bin/backend/push")
        < names.index("bin/backend/deploy")
    )  # the image is smoke-tested as a task before it is pushed
    assert "--smoke" in dict(scripts)["bin/ecs/run-local"]
    for script in ("bin/backend/build", "bin/ecs/run-local", "bin/backend/push", "bin/backend/deploy"):
        argv = dict(scripts)[script]
        assert argv[argv.index("--tag") + 1] == SHA, script
    argv = dict(scripts)["bin/backend/deploy"]
    job_minutes = deploy["jobs"]["deploy"]["timeout-minutes"]
    assert float(argv[argv.index("--timeout") + 1]) < job_minutes * 60  # our bound ends first, with a reason


def test_every_step_calls_an_existing_script_with_options_it_accepts():
    checked = 0
    for name, argv in _all_commands():
        if argv[0] == "make":
            assert re.search(rf"^{argv[1]}:", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE), name
            continue
        if argv[0] == "echo":
            continue
        path = REPO_ROOT / argv[0]
        assert path.is_file() and os.access(path, os.X_OK), f"{name}: {argv[0]} is missing or not executable"
        if argv[0] == ".ci/run":
            assert argv == [".ci/run"], name
            continue
        assert argv[0].startswith("bin/"), f"step {name!r} runs {argv[0]}, not a bin/ script"
        door = DOOR.search(path.read_text())
        assert door, f"{argv[0]} is not a door to the kit"
        command = door.group(1)
        assert command in commands.COMMANDS and commands.door(command) == argv[0], f"{argv[0]} runs {command}"
        commands.load(command).make_context(argv[0], argv[1:])  # raises click.UsageError on a bad option
        checked += 1
    assert checked >= 7


def test_the_check_catches_an_option_a_script_does_not_take():
    from click.exceptions import UsageError

    with pytest.raises(UsageError):
        commands.load("backend deploy").make_context("bin/backend/deploy", ["--tags", SHA])
    with pytest.raises(UsageError):
        commands.load("ecs verify").make_context("bin/ecs/verify", ["--services", "x"])


@pytest.mark.parametrize("name", ["test.yml", "deploy.yml"])
def test_actions_are_pinned_to_a_version(name):
    for job in _load(name)["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
