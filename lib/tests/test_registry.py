"""The command registry (cruddur_kit.commands): one list, every door in bin/ runs a registered command, and
`bin/kit` (python -m cruddur_kit) prints them all with their one-line help."""

from __future__ import annotations

import os
import re
import subprocess

import click
import pytest

from cruddur_kit import REPO_ROOT, commands

BIN = REPO_ROOT / "bin"
NOT_KIT_DOORS = {"bin/_kit", "bin/kit", "bin/dev/test"}  # the door itself, the list, and pytest
DOOR = re.compile(r'^exec "\$\(dirname "\$0"\)/(?:\.\./)+_kit" (.+) "\$@"$', re.MULTILINE)


def _doors() -> dict[str, str]:
    """bin/ script -> the command name it passes to _kit."""
    doors = {}
    for path in sorted(p for p in BIN.rglob("*") if p.is_file()):
        rel = str(path.relative_to(REPO_ROOT))
        if rel in NOT_KIT_DOORS:
            continue
        match = DOOR.search(path.read_text())
        assert match, f"{rel} is not a door to the kit"
        assert os.access(path, os.X_OK), f"{rel} is not executable"
        doors[rel] = match.group(1)
    return doors


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_every_door_runs_the_registered_command_of_its_own_name():
    doors = _doors()
    assert {commands.door(name): name for name in commands.COMMANDS} == doors


def test_every_registered_command_loads_and_has_a_one_line_help():
    for name in commands.COMMANDS:
        assert isinstance(commands.load(name), click.Command), name
        summary = commands.summary(name)
        assert summary and "\n" not in summary and not summary.startswith("bin/"), name


def test_the_longest_registered_name_wins():
    assert commands.find(["ddb", "patterns", "get-conversation", "x"]) == ("ddb patterns get-conversation", ["x"])
    assert commands.find(["ecs", "status", "--json"]) == ("ecs status", ["--json"])
    assert commands.find(["ecs", "nope"]) is None


def test_bin_kit_lists_every_command_with_its_help():
    result = _run("bin/kit")
    assert result.returncode == 0, result.stderr
    for name in commands.COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\s+{re.escape(commands.summary(name))}$", result.stdout, re.M), name
    assert _run(".venv/bin/python", "-m", "cruddur_kit").stdout == result.stdout


def test_a_group_lists_its_commands_and_an_unknown_command_says_where_to_look():
    ddb = _run("bin/kit", "ddb")
    assert ddb.returncode == 0 and "ddb patterns list-conversations" in ddb.stdout and "ecs status" not in ddb.stdout
    unknown = _run("bin/kit", "ecs", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr == "error: unknown command ecs nope: bin/kit lists them\n"


@pytest.mark.parametrize("door", ["bin/ecs/status", "bin/ddb/patterns/get-conversation"])
def test_help_names_the_door_through_bin_kit_and_the_door(door):
    name = _doors()[door]
    via_door, via_kit = _run(door, "--help"), _run("bin/kit", *name.split(), "--help")
    assert via_door.returncode == 0 and via_door.stdout.startswith(f"Usage: {door} [OPTIONS]")
    assert via_kit.stdout == via_door.stdout
