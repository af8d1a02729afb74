"""bin/dev/provision-docker, which CI runs before the container tests: an engine that answers is used as it is;
one that cannot be started here is one line naming the fix."""

from __future__ import annotations

import os

import pytest

from cruddur_kit import REPO_ROOT
from processes import Process

DOOR = str(REPO_ROOT / "bin" / "dev" / "provision-docker")


@pytest.mark.container
def test_an_engine_that_answers_is_used_as_it_is(docker_engine):
    run = Process([DOOR], dict(os.environ))
    assert run.finish(timeout=60) == 0, run.text()
    assert run.out[0].startswith("docker engine running (")


def test_an_engine_named_by_docker_host_that_does_not_answer_is_one_line():
    run = Process([DOOR], {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert run.finish(timeout=60) == 1
    assert run.err[-1].startswith("error: no Docker engine answers at")
    assert "unix:///nonexistent/docker.sock" in run.err[-1] and len([line for line in run.err if line]) == 1
