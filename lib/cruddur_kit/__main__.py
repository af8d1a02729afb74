"""`python -m cruddur_kit GROUP COMMAND [ARGS]`: runs cruddur_kit.commands.GROUP.COMMAND's click `command`.

bin/GROUP/COMMAND scripts are doors to this; KIT_PROG carries the door's name into --help.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from .errors import KitError

# Groups that work on the local stack too: they take `make up`'s .local/env as their lowest-precedence defaults.
LOCAL_GROUPS = ("cognito", "ddb")


def _describe_aws_error(e) -> str:
    err = e.response.get("Error", {})
    op = getattr(e, "operation_name", "call")
    return f"AWS refused {op}: {err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2:
        print("usage: python -m cruddur_kit GROUP COMMAND [ARGS]", file=sys.stderr)
        return 2
    group, name, rest = argv[0], argv[1], argv[2:]
    module_name = f"cruddur_kit.commands.{group.replace('-', '_')}.{name.replace('-', '_').replace('/', '.')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            print(f"error: unknown command {group} {name}", file=sys.stderr)
            return 2
        raise
    prog = os.environ.get("KIT_PROG") or f"bin/{group}/{name}"
    if group in LOCAL_GROUPS:
        from .envfile import apply_local

        apply_local(warn=lambda m: print(f"warning: {m}", file=sys.stderr))
    try:
        return module.command.main(rest, prog_name=prog, standalone_mode=False) or 0
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # AWS and network errors reach the user as one line with the reason
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(e, ClientError):
            print(f"error: {_describe_aws_error(e)}", file=sys.stderr)
            return 1
        if isinstance(e, BotoCoreError):
            print(f"error: {e}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
