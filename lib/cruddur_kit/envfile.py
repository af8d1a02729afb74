"""KEY=VALUE files: read (bin/ssm/put-params --env-file), and `.local/env`, the non-secret settings of the
running `make up` stack that the kit's local commands (bin/cognito/*, bin/ddb/*) take as defaults.

`.local/env` holds only the emulator's endpoint, the region, the Cognito pool and client ids and the
table name (never a password or the database URL). It is the lowest-precedence source: a variable set
in the environment wins, and the file is used only while AWS_ENDPOINT_URL is unset or names the same
emulator. A file whose endpoint is not a loopback address is ignored, so a stale or edited file can
never point a command at anything but a local emulator; when the endpoint comes from the file the
emulator's dummy credentials are used too, so real keys are never sent to it.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from . import LOCAL_DIR
from .aws import is_loopback
from .errors import KitError

LOCAL_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_COGNITO_USER_POOL_ID",
    "AWS_COGNITO_USER_POOL_CLIENT_ID",
    "DDB_MESSAGE_TABLE",
)
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def read(path: str | Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, comments and `export ` prefixes allowed; quotes stripped."""
    values = {}
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            line = line.removeprefix("export ").strip()
            if "=" not in line:
                raise KitError(f"{path} line {n} is not KEY=VALUE: fix or remove it")
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def local_path(environ: MutableMapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("CRUDDUR_LOCAL_DIR") or LOCAL_DIR) / "env"


def write_local(path: Path, values: dict[str, str]) -> None:
    """Write the LOCAL_KEYS of `values` (refusing anything but a loopback endpoint)."""
    if not is_loopback(values.get("AWS_ENDPOINT_URL")):
        raise KitError(f"{path} is for a local emulator only: AWS_ENDPOINT_URL must be a loopback URL")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# written by make up for bin/cognito/* and bin/ddb/*; no secrets\n"
        + "".join(f"{k}={values[k]}\n" for k in LOCAL_KEYS if values.get(k))
    )


def apply_local(environ: MutableMapping[str, str] | None = None, warn=None, given: str | None = None) -> dict[str, str]:
    """Fill unset variables from .local/env (see the module docstring); returns what was filled in.
    `given`: an --endpoint-url from the command line, which names the target as AWS_ENDPOINT_URL would."""
    environ = os.environ if environ is None else environ
    path = local_path(environ)
    if not path.is_file():
        return {}
    try:
        values = read(path)
    except (OSError, KitError):
        return {}
    endpoint = values.get("AWS_ENDPOINT_URL")
    if not is_loopback(endpoint):
        if warn:
            warn(f"ignoring {path}: its AWS_ENDPOINT_URL is not a loopback address")
        return {}
    current = given or environ.get("AWS_ENDPOINT_URL")
    if current and current.rstrip("/") != endpoint.rstrip("/"):
        return {}  # the environment names another target: the file describes a different stack
    filled = {k: values[k] for k in LOCAL_KEYS if values.get(k) and not environ.get(k)}
    if not current:
        filled.update(DUMMY_CREDENTIALS)
        environ.pop("AWS_PROFILE", None)
    environ.update(filled)
    return filled
