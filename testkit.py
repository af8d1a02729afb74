"""Helpers for tests (imported by test modules; fixtures live in conftest.py)."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import boto3
from botocore.config import Config

REGION = "us-east-1"


def aws_client(service: str):
    """A boto3 client for the emulator that fails fast (no retries) — AWS_ENDPOINT_URL comes from aws_env."""
    return boto3.client(service, region_name=REGION, config=Config(retries={"max_attempts": 1}))


class Request(NamedTuple):
    method: str
    path: str
    headers: dict
    body: bytes


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering GET and POST with `respond(Request)` ->
    (status, body bytes[, content type]); `with` gives its base URL and stops it after."""

    def __init__(self, respond: Callable[[Request], tuple]):
        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b""
                )
                status, body, *rest = respond(request)
                self.send_response(status)
                self.send_header("Content-Type", rest[0] if rest else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc) -> None:
        self.close()


def serve(respond: Callable[[Request], tuple]) -> LocalServer:
    """Start a LocalServer; use it as `with serve(fn) as url:` or keep it and call .close()."""
    return LocalServer(respond)


@contextmanager
def own_moto(log_dir: Path, **env):
    """A moto server of our own on a free loopback port (MOTO_* settings as keywords), stopped after."""
    from cruddur_kit.local import moto as motolib

    server = motolib.MotoServer(
        port=motolib.free_port(), env={k: str(v) for k, v in env.items()}, log_path=log_dir / "moto.log"
    ).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def stubbed_client(service: str):
    """A boto3 client that never reaches the network: every answer comes from `client.stub` (botocore's
    Stubber), for what the emulator cannot produce; fails if a stubbed answer goes unused."""
    from botocore.stub import Stubber

    client = boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9"
    )  # never reached
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


def next_url(response):
    """The path of a Flask test response's `Link: <…>; rel="next"`, or None on the last page."""
    link = response.headers.get("Link")
    if not link:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return re.sub(r"^https?://[^/]+", "", match.group(1))  # the path: the test client has no host of its own


class Clock:
    """A monotonic clock a test moves by hand (the caches' `clock`)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now
