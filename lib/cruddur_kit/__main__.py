"""`python -m cruddur_kit` (bin/kit): with no arguments, every command and its one-line help; with
`GROUP COMMAND [ARGS]` (`ddb patterns get-conversation UUID`), that command. The bin/GROUP/COMMAND doors
come through here, and --help shows the door's name. One `main` turns errors into one line and an exit code.
"""

from __future__ import annotations

import sys

import click

from . import commands
from .errors import KitError


def _describe_aws_error(e) -> str:
    err = e.response.get("Error", {})
    op = getattr(e, "operation_name", "call")
    return f"AWS refused {op}: {err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ")


def _option_value(argv: list[str], flag: str) -> str | None:
    """The value of `--flag VALUE` / `--flag=VALUE` before any `--`, read before click parses."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(commands.listing())
        return 0
    found = commands.find(argv)
    if found is None:
        in_group = [n for n in commands.COMMANDS if commands.group(n) == argv[0]]
        if in_group and len(argv) == 1:
            print(commands.listing(in_group))
            return 0
        print(f"error: unknown command {' '.join(argv[:3])}: bin/kit lists them", file=sys.stderr)
        return 2
    name, rest = found
    if commands.group(name) in commands.LOCAL_GROUPS:
        from .envfile import apply_local

        apply_local(given=_option_value(rest, "--endpoint-url"), warn=lambda m: print(f"warning: {m}", file=sys.stderr))
    try:
        return commands.load(name).main(rest, prog_name=commands.door(name), standalone_mode=False) or 0
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
