"""The local AWS emulator (moto server) as a real HTTP server on loopback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..envfile import DUMMY_CREDENTIALS  # noqa: F401 (part of this module's interface)
from ..errors import KitError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(endpoint: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class MotoServer:
    port: int
    host: str = "127.0.0.1"
    env: dict = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> "MotoServer":
        binary = Path(sys.executable).with_name("moto_server")
        argv = [str(binary) if binary.exists() else "moto_server", "-H", self.host, "-p", str(self.port)]
        env = {**os.environ, **DUMMY_CREDENTIALS, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", **self.env}
        env.pop("AWS_ENDPOINT_URL", None)
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        finally:
            if self.log_path:
                out.close()  # the child keeps its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KitError(f"moto_server exited with {self.process.returncode} (port {self.port} taken?)")
            if answers(self.endpoint, timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise KitError(f"moto_server did not answer on {self.endpoint} within {timeout:g}s")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
