"""`make lint` is ruff with the project's settings (pyproject.toml), and it can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cruddur_kit import REPO_ROOT

RUFF = Path(sys.executable).parent / "ruff"
PLANTED = {
    "F401": "import os\n",  # pyflakes: an unused import
    "E501": f'X = "{"x" * 120}"\n',  # 120 columns, as the code is written
    "B006": "def f(items=[]):\n    return items\n",  # bugbear: a mutable default
    "UP006": "from typing import List\n\n\ndef f(items: List[int]) -> None:\n    pass\n",  # pyupgrade for 3.11
}


def _ruff_check(source: str, name: str = "lib/cruddur_kit/planted.py") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "concise", "--stdin-filename", name, "-"],
        input=source,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("code", PLANTED)
def test_a_planted_violation_fails(code):
    result = _ruff_check(PLANTED[code])
    assert result.returncode == 1, result.stdout + result.stderr
    assert f" {code} " in result.stdout


def test_clean_code_passes():
    result = _ruff_check('"""A module."""\nfrom __future__ import annotations\n\nX = 1\n')
    assert result.returncode == 0 and result.stdout.strip() == "All checks passed!", result.stdout + result.stderr


def test_make_lint_runs_ruff_check_and_make_test_runs_lint():
    dry = subprocess.run(["make", "-n", "lint", "test"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    lint = next(i for i, line in enumerate(lines) if "ruff check ." in line)
    tests = next(i for i, line in enumerate(lines) if "bin/dev/test" in line)
    assert lint < tests


def test_make_lint_checks_the_format_too():
    dry = subprocess.run(["make", "-n", "lint"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert "ruff format --check ." in dry.stdout


def test_no_private_helper_is_used_across_modules():
    """A helper two modules need is public where it lives (checks/groups.py, shapes.validate_parts ...)."""
    import ast

    found = []
    for path in sorted((REPO_ROOT / "lib" / "cruddur_kit").rglob("*.py")):
        tree = ast.parse(path.read_text())
        local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"{path.name}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id not in ("self", "cls")
                and node.value.id in local
                and node.value.id.islower()
                and _is_module(tree, node.value.id)
            ):
                found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []


def _is_module(tree, name: str) -> bool:
    """True when `name` is bound by an import in this module (so `name._x` reaches into another module)."""
    import ast

    return any(
        isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == name for a in n.names)
        for n in ast.walk(tree)
    )
