"""Every kit command, listed once. `bin/kit` (python -m cruddur_kit) prints this list with each command's
one-line help; `bin/GROUP/NAME` (`bin/ddb/patterns/get-conversation` for a nested name) runs one.

To add a command: write `command` (a cruddur_kit.cli.kit_command) in a module here, add its line below,
and a door `bin/GROUP/NAME` that execs `_kit GROUP NAME "$@"`.
"""

from __future__ import annotations

import importlib

import click

# command name -> its module under cruddur_kit.commands
COMMANDS: dict[str, str] = {
    "aws setup": "aws.setup",
    "aws teardown": "aws.teardown",
    "backend build": "backend.build",
    "backend push": "backend.push",
    "backend deploy": "backend.deploy",
    "cognito token": "cognito.token",
    "cognito list-users": "cognito.list_users",
    "cognito sync-users": "cognito.sync_users",
    "cognito build-lambda": "cognito.build_lambda",
    "db setup": "db.setup",
    "db create": "db.create",
    "db drop": "db.drop",
    "db migrate": "db.migrate",
    "db seed": "db.seed",
    "db connect": "db.connect",
    "db sessions": "db.sessions",
    "db kill-all": "db.kill_all",
    "db generate": "db.generate",
    "ddb schema-load": "ddb.schema_load",
    "ddb seed": "ddb.seed",
    "ddb list-tables": "ddb.list_tables",
    "ddb scan": "ddb.scan",
    "ddb drop": "ddb.drop",
    "ddb patterns get-conversation": "ddb.patterns.get_conversation",
    "ddb patterns list-conversations": "ddb.patterns.list_conversations",
    "dev up": "dev.up",
    "dev provision": "dev.provision",
    "dev bench": "dev.bench",
    "dev docs": "dev.docs",
    "dev image": "dev.image",
    "dev provision-docker": "dev.provision_docker",
    "ecr login": "ecr.login",
    "ecs status": "ecs.status",
    "ecs logs": "ecs.logs",
    "ecs run-task": "ecs.run_task",
    "ecs run-local": "ecs.run_local",
    "ecs connect": "ecs.connect",
    "ecs scale": "ecs.scale",
    "ecs rollback": "ecs.rollback",
    "ecs lint": "ecs.lint",
    "ecs verify": "ecs.verify",
    "ecs diff": "ecs.diff",
    "ecs doctor": "ecs.doctor",
    "ssm put-params": "ssm.put_params",
}
# Groups that work on the local stack too: they take `make up`'s .local/env as their lowest-precedence defaults.
LOCAL_GROUPS = ("cognito", "ddb")


def find(argv: list[str]) -> tuple[str, list[str]] | None:
    """(command name, its arguments) for the longest registered name that argv starts with."""
    for n in range(min(len(argv), 3), 0, -1):
        name = " ".join(argv[:n])
        if name in COMMANDS:
            return name, argv[n:]
    return None


def load(name: str) -> click.Command:
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}").command


def summary(name: str) -> str:
    """The command's one-line help: the first line of its module's docstring, after 'bin/GROUP/NAME: '."""
    doc = (importlib.import_module(f"{__name__}.{COMMANDS[name]}").__doc__ or "").strip().splitlines()
    line = doc[0] if doc else load(name).get_short_help_str()
    if line.startswith("bin/") and ": " in line:
        line = line.split(": ", 1)[1]
    return line


def door(name: str) -> str:
    """The bin/ script that runs it, which is also the name --help shows."""
    return "bin/" + name.replace(" ", "/")


def group(name: str) -> str:
    return name.split(" ", 1)[0]


def listing(names: list[str] | None = None) -> str:
    names = list(COMMANDS) if names is None else names
    width = max(len(n) for n in names)
    lines = ["usage: bin/kit GROUP COMMAND [ARGS]   (the same as the door bin/GROUP/COMMAND; --help on each)", ""]
    previous = None
    for name in names:
        if previous is not None and group(name) != previous:
            lines.append("")
        previous = group(name)
        lines.append(f"  {name:<{width}}  {summary(name)}")
    return "\n".join(lines)
