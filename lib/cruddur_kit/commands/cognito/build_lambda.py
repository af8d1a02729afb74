"""bin/cognito/build-lambda: the Cognito post-confirmation Lambda as a deployable zip."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import click

from ... import BACKEND, REPO_ROOT, cognito
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log

SOURCE = REPO_ROOT / "aws" / "lambdas" / "cruddur-post-confirmation"
SHARED = BACKEND / "cruddur" / "stores" / "cognito_users.py"  # the one upsert, same file as the API's
EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same zip (and CodeSha256)


def psycopg_requirement() -> str:
    """The API's own psycopg pin, so the Lambda and the service run the same driver."""
    text = (BACKEND / "requirements.txt").read_text()
    match = re.search(r"^psycopg\[binary\]==\S+", text, re.M)
    if not match:
        raise KitError("backend-flask/requirements.txt has no psycopg[binary]== pin")
    return match.group(0)


def _add_tree(zf: zipfile.ZipFile, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        info = zipfile.ZipInfo(str(path.relative_to(root)), EPOCH)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, path.read_bytes())


@kit_command(endpoint=False)  # no AWS calls
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=cognito.LAMBDA_ZIP, show_default=True
)
@click.option("--python-version", default="3.11", show_default=True, help="the Lambda runtime's Python")
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True)
@click.option("--no-deps", is_flag=True, help="leave psycopg out (when a Lambda layer provides it)")
def command(kit: Kit, output: Path, python_version: str, arch: str, no_deps: bool) -> None:
    """Build the post-confirmation Lambda zip: handler + the shared upsert + psycopg (binary wheels for
    the Lambda runtime, fetched by pip from PyPI). Prints the zip's path on stdout.

    Deploy it with `aws lambda create-function --runtime python3.11 --handler lambda_function.handler
    --zip-file fileb://ZIP ...` (see journal/2026-11-24-database-and-cognito.md).
    """
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        shutil.copy2(SOURCE / "lambda_function.py", stage / "lambda_function.py")
        # No __init__.py files: `cruddur` and `cruddur.stores` are namespace packages holding only this
        # module, so the Lambda imports the shared upsert without Flask or the rest of the API.
        (stage / "cruddur" / "stores").mkdir(parents=True)
        shutil.copy2(SHARED, stage / "cruddur" / "stores" / SHARED.name)
        if not no_deps:
            platform = "manylinux2014_x86_64" if arch == "x86_64" else "manylinux2014_aarch64"
            log(f"fetching {psycopg_requirement()} for python{python_version} {platform} ...")
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(stage),
                    "--platform",
                    platform,
                    "--implementation",
                    "cp",
                    "--python-version",
                    python_version,
                    "--only-binary=:all:",
                    psycopg_requirement(),
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if result.returncode != 0:
                reason = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
                raise KitError(
                    f"could not fetch psycopg for the Lambda runtime: {reason} "
                    "(PyPI unreachable? build where it is, or use --no-deps with a layer)"
                )
            for junk in stage.glob("bin"):
                shutil.rmtree(junk)
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w") as zf:
            _add_tree(zf, stage)
        partial.replace(output)
    log(f"built {output} ({output.stat().st_size / 1024:.0f} KiB)")
    print(output)
