"""A PostgreSQL to work against: the one CONNECTION_URL names when it answers, else a local server
started on embedded defaults as an unprivileged user, with its data under .local/ (kept across runs)."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from .. import LOCAL_DIR
from ..errors import KitError

DEFAULT_PORT = 5433  # beside, not on, a system server's 5432
DEFAULT_DB = "cruddur"


def answers(url: str, timeout: int = 2) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def ensure_database(server_url: str, dbname: str) -> bool:
    """Create `dbname` on the server if it is missing; True when it was created."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
        return True


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if not candidates:
        raise KitError(
            "PostgreSQL server binaries not found: install them (apt-get install postgresql) "
            "or set CONNECTION_URL to a database that answers"
        )
    return Path(candidates[-1]).parent


def reachable_data_dir(data_dir: Path) -> Path:
    """`data_dir` itself, unless we run as root and the `postgres` user cannot reach it (a clone under a
    0700 directory such as /root or `mktemp -d`): then a stable per-path folder under /var/tmp, so the
    server still starts and still finds its data on the next run."""
    if os.geteuid() != 0:
        return data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    reach = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(data_dir.parent)], capture_output=True, timeout=10
    )
    if reach.returncode == 0:
        return data_dir
    home = Path("/var/tmp") / f"cruddur-{hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:12]}"
    home.mkdir(mode=0o755, exist_ok=True)
    os.chmod(home, 0o755)
    return home / data_dir.name


@dataclass
class LocalServer:
    """A PostgreSQL cluster under .local/, run as an unprivileged user."""

    data_dir: Path = LOCAL_DIR / "postgres"
    port: int = DEFAULT_PORT

    def __post_init__(self):
        self.data_dir = reachable_data_dir(Path(self.data_dir))

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        # PostgreSQL refuses to run as root.
        return ["runuser", "-u", "postgres", "--", *argv]

    def _run(self, argv: list[str], timeout: int = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self._as_owner(argv), capture_output=True, text=True, timeout=timeout)

    def running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._run([str(_bindir() / "pg_ctl"), "-D", str(self.data_dir), "status"]).returncode == 0

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        os.chmod(self.data_dir, 0o700)
        result = self._run(
            [
                str(_bindir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
            timeout=120,
        )
        if result.returncode != 0:
            raise KitError(f"initdb failed in {self.data_dir}: {result.stderr.strip().splitlines()[-1:]}")

    def start(self) -> bool:
        """Start the cluster (initialising it first); False when it was already running."""
        if self.running():
            return False
        if not (self.data_dir / "PG_VERSION").exists():
            self.init()
        sock = self.data_dir / "socket"
        if not sock.exists():
            sock.mkdir()
            if os.geteuid() == 0:
                shutil.chown(sock, "postgres", "postgres")
        log = self.data_dir / "server.log"
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock}"
        result = self._run(
            [
                str(_bindir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            ],
            timeout=60,
        )
        if result.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            reason = " | ".join(tail) or result.stderr.strip()
            raise KitError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port}: {reason} (is the port taken? set CRUDDUR_PG_PORT)"
            )
        return True

    def stop(self) -> None:
        self._run([str(_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])


@dataclass
class Postgres:
    """The server URL to use and whether we started it (so only we stop it)."""

    server_url: str
    started: LocalServer | None = None

    def stop(self) -> None:
        if self.started is not None:
            self.started.stop()
            self.started = None


def ensure(url: str | None, data_dir: Path | None = None, port: int | None = None) -> Postgres:
    """Use `url` when it answers; otherwise run the embedded local server."""
    if url and answers(url):
        return Postgres(server_url=url)
    server = LocalServer(
        data_dir=data_dir or LOCAL_DIR / "postgres", port=port or int(os.environ.get("CRUDDUR_PG_PORT", DEFAULT_PORT))
    )
    started = server.start()
    if not answers(server.url, timeout=5):
        raise KitError(f"the local PostgreSQL in {server.data_dir} does not answer on 127.0.0.1:{server.port}")
    return Postgres(server_url=server.url, started=server if started else None)
