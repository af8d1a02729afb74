"""The project is a package: pyproject.toml names the same pins as the requirement files, and `make venv`
installs it editable (no hand-written .pth), so backend-flask/ and lib/ import from this checkout."""

from __future__ import annotations

import importlib.metadata
import json
import re
import sysconfig
import tomllib
from pathlib import Path

from cruddur_kit import BACKEND, REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _pins(path: Path) -> list[str]:
    """The requirement lines of a file (no comments, no -r/-c options)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _constraint(name: str) -> str:
    found = [p for p in _pins(BACKEND / "constraints.txt") if p.lower().startswith(f"{name.lower()}==")]
    assert found, f"{name} is not pinned in backend-flask/constraints.txt"
    return found[0]


def test_dependencies_are_the_image_requirements_plus_the_kit_s_own():
    deps = PYPROJECT["project"]["dependencies"]
    assert deps == _pins(BACKEND / "requirements.txt") + [_constraint("click")]


def test_dev_extra_is_requirements_dev():
    assert PYPROJECT["project"]["optional-dependencies"]["dev"] == _pins(REPO_ROOT / "requirements-dev.txt")


def test_build_backend_is_the_pinned_one():
    hatchling = [p for p in _pins(REPO_ROOT / "requirements-dev.txt") if p.startswith("hatchling==")]
    assert PYPROJECT["build-system"]["requires"] == hatchling


def test_every_pin_is_exact():
    for pin in PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z,]+\])?==[\w.]+", pin), pin


def test_installed_editable_from_this_checkout():
    dist = importlib.metadata.distribution("cruddur")
    direct = json.loads(dist.read_text("direct_url.json"))
    assert direct["dir_info"] == {"editable": True}
    assert Path(direct["url"].removeprefix("file://")).resolve() == REPO_ROOT
    site = Path(sysconfig.get_paths()["purelib"])
    assert not (site / "cruddur-dev.pth").exists()  # what make venv hand-wrote before pyproject.toml
    import cruddur
    import cruddur_kit

    assert Path(cruddur.__file__).is_relative_to(BACKEND)
    assert Path(cruddur_kit.__file__).is_relative_to(REPO_ROOT / "lib")


def test_the_image_builds_from_backend_flask_alone():
    dockerfile = (BACKEND / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(.+?) \S+$", dockerfile, re.MULTILINE)
    sources = [s for line in copied for s in line.split()]
    assert sources and all((BACKEND / s.rstrip("/")).exists() for s in sources), sources
    assert "pyproject" not in dockerfile
