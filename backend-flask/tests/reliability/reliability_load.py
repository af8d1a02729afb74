"""Bounded load from threads, for the reliability tests: fresh loopback connections, every outcome kept."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Outcome:
    started: float
    seconds: float
    status: int | None  # None: no HTTP response
    body: bytes = b""
    error: str | None = None
    sent: bool = True  # False when the connection was refused: the request never reached the server
    connected: float | None = None  # when the TCP connection was established (monotonic)


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None, timeout: float = 10.0
) -> Outcome:
    """One request on its own connection to 127.0.0.1:<port>."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.connect()
        except OSError as e:
            return Outcome(started, time.monotonic() - started, None, error=type(e).__name__, sent=False)
        connected = time.monotonic()
        payload = json.dumps(body).encode() if body is not None else None
        hdrs = {"Connection": "close", **(headers or {})}
        if payload is not None:
            hdrs["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
        except OSError as e:
            return Outcome(started, time.monotonic() - started, None, error=type(e).__name__, connected=connected)
        except http.client.HTTPException as e:
            return Outcome(started, time.monotonic() - started, None, error=type(e).__name__, connected=connected)
        return Outcome(started, time.monotonic() - started, response.status, data, connected=connected)
    finally:
        conn.close()


@dataclass
class Load:
    """`workers` threads each calling `make_request(worker_index, n)` until stopped, a deadline or `max_requests`."""

    make_request: callable
    workers: int = 4
    seconds: float = 10.0
    max_requests: int = 2000  # per worker: the load is bounded in count as well as time
    outcomes: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, index: int, deadline: float) -> None:
        for n in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            outcome = self.make_request(index, n)
            with self._lock:
                self.outcomes.append(outcome)

    def start(self) -> Load:
        deadline = time.monotonic() + self.seconds
        self._threads = [
            threading.Thread(target=self._run, args=(i, deadline), daemon=True) for i in range(self.workers)
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout: float = 30.0) -> list:
        self._stop.set()
        return self.join(timeout)

    def join(self, timeout: float = 60.0) -> list:
        for t in self._threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self._threads), "load threads did not finish"
        return self.outcomes
