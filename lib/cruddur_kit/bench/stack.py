"""The API under gunicorn as a real process on a loopback port, with the environment `make up` gives it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .. import cognito
from ..errors import KitError
from ..local import stack as local_stack
from ..local.moto import free_port


def app_env(
    *, database_url: str, endpoint: str, pool: cognito.Pool, table: str, port: int, **extra: str
) -> dict[str, str]:
    """The API's environment exactly as `make up` builds it (tracing off unless the env names a collector)."""
    provisioned = local_stack.Provisioned(database_url=database_url, pool=pool, table=table)
    env = local_stack.api_env(dict(os.environ), provisioned, endpoint, port)
    env.update(extra)
    return env


def get(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


@dataclass
class Gunicorn:
    """The same gunicorn command line `make up` runs, on 127.0.0.1:<port> (build `env` with app_env)."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    app: str | None = None  # another WSGI app (module:name) under the same config, e.g. the ceiling
    log_path: Path | None = None
    process: subprocess.Popen | None = None
    cold_start: float | None = None  # seconds from spawn to the first 200 from the health check

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, ready_path: str = "/api/health-check") -> Gunicorn:
        env = {**os.environ, **self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        argv = local_stack.gunicorn_argv()
        if self.app:
            argv[-1] = self.app
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        started = time.monotonic()
        try:
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log_path:
                out.close()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KitError(
                    f"gunicorn exited with {self.process.returncode} before answering"
                    f"{f' (see {self.log_path})' if self.log_path else ''}"
                )
            if get(self.url + ready_path, timeout=1.0) == 200:
                self.cold_start = time.monotonic() - started
                return self
            time.sleep(0.01)
        self.stop()
        raise KitError(f"gunicorn did not answer {ready_path} on {self.url} within {timeout:g}s")

    def terminate(self) -> None:
        """SIGTERM to the master: gunicorn's graceful stop (what ECS sends)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop gracefully, kill the group after `timeout`; the exit code."""
        if self.process is None:
            return None
        self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        code, self.process = self.process.returncode, None
        return code
