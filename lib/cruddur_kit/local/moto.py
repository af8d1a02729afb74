"""The local AWS emulator (moto server) as a real HTTP server on loopback.

`python -m cruddur_kit.local.moto -H HOST -p PORT` is moto's own server with DynamoDB requests served one at a
time. moto applies a transaction by deep-copying the table, writing, and restoring the
copy when a condition fails; two at once corrupt each other (a rollback erases the other's commit, or the
copy fails with "dictionary changed size during iteration" and a 500). DynamoDB itself isolates
transactions, so the emulator must too, or no concurrency test of the messages routes means anything.

What else AWS does and moto does not lives in cruddur_kit.local.emulator, a module per extension, hooked
in main(): ECS deployments and the default VPC as AWS has them, Cognito's SRP password check, DynamoDB's
idempotent transactions (ClientRequestToken).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..envfile import DUMMY_CREDENTIALS
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

    def start(self, timeout: float = 15.0) -> MotoServer:
        argv = [sys.executable, "-m", "cruddur_kit.local.moto", "-H", self.host, "-p", str(self.port)]
        env = {**os.environ, **DUMMY_CREDENTIALS, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", **self.env}
        env.pop("AWS_ENDPOINT_URL", None)
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
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


class SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time (see the module docstring); other services stay concurrent."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]  # the whole answer is produced under the lock
            finally:
                if hasattr(result, "close"):
                    result.close()


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m cruddur_kit.local.moto", description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs (queues, presigned) from it
    # AWS's managed policies exist in every account (setup attaches AWSLambdaVPCAccessExecutionRole), as
    # MotoServer already says for the servers the tests start
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a stop is a clean exit
    from .emulator import cognito_srp, control, dynamodb_idempotency, ecr_digests  # AWS where moto is not

    ecr_digests.install()  # digests are the manifest's sha256; a re-pushed tag leaves the old image untagged

    app = control.install(DomainDispatcherApplication(create_backend_app))  # ECS deployments, the default VPC
    from .emulator import logs_filter

    logs_filter.install()  # FilterLogEvents honours logStreamNamePrefix
    app = SerializedDynamoDB(dynamodb_idempotency.wrap(app))  # ClientRequestToken, inside the one-at-a-time lock
    app = cognito_srp.wrap(app)  # SRP sign-in checks the password
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
