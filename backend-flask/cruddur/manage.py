"""Database administration, shipped inside the image: `python -m cruddur.manage migrate|seed|generate`.

The bin/db scripts call these same functions, and `bin/ecs/run-task` runs them in the service's network.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click
import psycopg
from yoyo import get_backend, read_migrations

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "db" / "migrations"
SEED = ROOT / "db" / "seed"


def _yoyo_url(url: str) -> str:
    # yoyo picks its driver from the scheme; psycopg 3 is "postgresql+psycopg".
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


@contextmanager
def _backend(url: str):
    backend = get_backend(_yoyo_url(url))
    try:
        yield backend
    finally:
        backend.connection.close()


def migrate(url: str) -> list[str]:
    """Apply every pending migration under a lock; returns the ids applied (empty when up to date)."""
    with _backend(url) as backend, backend.lock():
        todo = backend.to_apply(read_migrations(str(MIGRATIONS)))
        backend.apply_migrations(todo)
        return [m.id for m in todo]


def rollback(url: str, count: int = 1) -> list[str]:
    with _backend(url) as backend, backend.lock():
        todo = backend.to_rollback(read_migrations(str(MIGRATIONS)))[:count]
        backend.rollback_migrations(todo)
        return [m.id for m in todo]


def seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((SEED / "demo.sql").read_text())


def generate(url: str, activities: int, users: int) -> float:
    """Bulk-load benchmark data; returns the seconds it took."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn, psycopg.ClientCursor(conn) as cur:
        # Client-side binding: the script is several statements, which server-side parameters refuse.
        cur.execute((SEED / "generate.sql").read_text(), {"activities": activities, "users": users})
    return time.monotonic() - started


def _url(ctx_url: str | None) -> str:
    url = ctx_url or os.environ.get("CONNECTION_URL")
    if not url:
        raise click.UsageError("CONNECTION_URL is not set: export it or pass --url")
    return url


url_option = click.option("--url", envvar="CONNECTION_URL", help="database URL (default: $CONNECTION_URL)")


@click.group()
def cli() -> None:
    """Manage the Cruddur database."""


@cli.command("migrate")
@url_option
def migrate_cmd(url):
    """Apply pending migrations (idempotent)."""
    applied = migrate(_url(url))
    click.echo(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "migrations: unchanged (up to date)"
    )


@cli.command("rollback")
@url_option
@click.option("--count", default=1, show_default=True)
def rollback_cmd(url, count):
    """Roll back the newest COUNT migrations."""
    undone = rollback(_url(url), count)
    click.echo(f"rolled back: {', '.join(undone)}" if undone else "nothing to roll back")


@cli.command("seed")
@url_option
def seed_cmd(url):
    """Load the demo users and activities (idempotent)."""
    seed(_url(url))
    click.echo("seed: demo users and activities present")


@cli.command("generate")
@url_option
@click.option("--activities", default=1_000_000, show_default=True)
@click.option("--users", default=1_000, show_default=True)
def generate_cmd(url, activities, users):
    """Bulk-generate benchmark data."""
    seconds = generate(_url(url), activities, users)
    click.echo(f"generated {activities} activities for {users} users in {seconds:.1f}s")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except psycopg.OperationalError as e:
        click.echo(f"error: cannot reach the database: {str(e).splitlines()[0]}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
