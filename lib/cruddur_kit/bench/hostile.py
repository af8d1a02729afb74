"""Hostile clients against the API on loopback, bounded: slow senders, and probes that time the others.

`SlowClients` holds N connections that each send a request a line at a time (a header line per interval,
"slowloris"), or a whole head and then a body a byte at a time: it reconnects whatever the server closes,
so the pressure lasts as long as the attack. `probe` is the client everybody else is: one GET at a time on
a fresh connection, timed. `python -m cruddur_kit.bench.hostile URL` runs both and prints the figures.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class AttackStats:
    opened: int = 0  # connections made (the first N, then one for each the server closed)
    closed_by_server: int = 0
    answers: dict = field(default_factory=dict)  # status line -> count, of what the server sent back


class SlowClients:
    """`connections` sockets to host:port, each sending one more piece of a request every `interval` s.

    mode "headers": the request line, then a header line at a time, never the blank line that ends the head.
    mode "body": a whole POST head (Content-Length: 1000), then the body a byte at a time.
    """

    def __init__(
        self,
        host: str,
        port: int,
        connections: int = 200,
        interval: float = 1.0,
        mode: str = "headers",
        path: str = "/api/activities/home",
    ):
        if mode not in ("headers", "body"):
            raise ValueError(mode)
        self.host, self.port, self.connections, self.interval, self.mode, self.path = (
            host,
            port,
            connections,
            interval,
            mode,
            path,
        )
        self.stats = AttackStats()
        self.connected = threading.Event()  # set once all `connections` are open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lines = 0

    def _first_piece(self) -> bytes:
        if self.mode == "headers":
            return f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n".encode()
        return (
            f"POST /api/activities HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\nAuthorization: Bearer null\r\n\r\n{{"
        ).encode()

    def _next_piece(self) -> bytes:
        self._lines += 1
        return f"X-Slow-{self._lines}: {self._lines}\r\n".encode() if self.mode == "headers" else b" "

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
            sock.sendall(self._first_piece())
            sock.setblocking(False)
        except OSError:
            return None
        self.stats.opened += 1
        return sock

    def _closed(self, sock: socket.socket) -> bool:
        """Whether the server closed it (recording what it answered first, if anything)."""
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        if data:
            status = data.split(b"\r\n", 1)[0].decode("latin-1")
            self.stats.answers[status] = self.stats.answers.get(status, 0) + 1
        return True  # an answer ends our slow request too: the server is done with it

    def _run(self) -> None:
        socks: list[socket.socket | None] = []
        while len(socks) < self.connections and not self._stop.is_set():
            socks.append(self._open())
        self.connected.set()
        while not self._stop.wait(self.interval):
            for i, sock in enumerate(socks):
                if sock is not None and not self._closed(sock):
                    try:
                        sock.send(self._next_piece())
                        continue
                    except OSError:
                        pass
                if sock is not None:
                    sock.close()
                    self.stats.closed_by_server += 1
                socks[i] = self._open()
        for sock in socks:
            if sock is not None:
                sock.close()

    def __enter__(self) -> SlowClients:
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._thread.start()
        if not self.connected.wait(30):
            raise TimeoutError("could not open the slow connections within 30 s")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)


@dataclass
class Probe:
    path: str
    seconds: float
    status: int | None  # None: no answer within the timeout (or the connection failed)


def probe(url: str, path: str, timeout: float = 5.0) -> Probe:
    """One GET on a fresh connection, timed from connect to the last byte."""
    parts = urlsplit(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return Probe(path, time.monotonic() - started, response.status)
    except (OSError, http.client.HTTPException):
        return Probe(path, time.monotonic() - started, None)
    finally:
        conn.close()


def probes(url: str, paths: tuple[str, ...], seconds: float, every: float = 0.05, timeout: float = 5.0) -> list[Probe]:
    """Probe each path in turn, one after another, for `seconds` (each probe bounded by `timeout`)."""
    results: list[Probe] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in paths:
            results.append(probe(url, path, timeout))
        time.sleep(every)
    return results


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def summary(results: list[Probe]) -> str:
    answered = [p.seconds for p in results if p.status == 200]
    line = f"{len(answered)}/{len(results)} probes answered 200"
    if answered:
        line += (
            f"; p50 {percentile(answered, 50) * 1000:.1f} ms, p99 {percentile(answered, 99) * 1000:.1f} ms, "
            f"max {max(answered) * 1000:.1f} ms"
        )
    return line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cruddur_kit.bench.hostile", description=__doc__.split("\n")[0])
    parser.add_argument("url", help="the API, e.g. http://127.0.0.1:4567")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two pieces of a slow request")
    parser.add_argument("--mode", choices=("headers", "body"), default="headers")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to probe during the attack")
    args = parser.parse_args(argv)
    paths = ("/api/health-check", "/api/activities/home")
    print("before the attack:", summary(probes(args.url, paths, 2.0)))
    host, port = urlsplit(args.url).hostname, urlsplit(args.url).port
    with SlowClients(host, port, args.connections, args.interval, args.mode) as attack:
        during = probes(args.url, paths, args.seconds)
    print(f"during {args.connections} slow {args.mode} connections ({args.interval:g} s a piece):", summary(during))
    for path in paths:
        print(f"  {path}: {summary([p for p in during if p.path == path])}")
    print(
        f"  attack: {attack.stats.opened} connections opened, {attack.stats.closed_by_server} closed by the server, "
        f"answers {attack.stats.answers or 'none'}"
    )


if __name__ == "__main__":
    main()
