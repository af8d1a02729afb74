"""TCP relays: a listener that forwards every connection it accepts to one address. Standard library only:
the same file runs in the kit (the host side) and in the task's agent container (the task side).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

CHUNK = 65536


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction until EOF, then pass the EOF on (half-close) so the other side can finish."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Relay:
    """Listen on `listen`; connect each accepted client to `target` and copy bytes both ways.

    `allow(peer_ip)` decides who may connect (refused clients are closed at once)."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int], allow: Callable[[str], bool] | None = None):
        family = socket.AF_INET6 if ":" in listen[0] else socket.AF_INET
        self.listener = socket.create_server(listen, family=family)
        self.address = self.listener.getsockname()[:2]
        self.target = target
        self.allow = allow
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def port(self) -> int:
        return self.address[1]

    def start(self) -> Relay:
        threading.Thread(target=self._accept, name=f"relay-{self.port}", daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, peer = self.listener.accept()
            except OSError:
                return  # closed
            if self.allow is not None and not self.allow(peer[0]):
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()  # nothing listens there: the client sees the connection end
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        for s in (client, upstream):
            s.close()
        with self._lock:
            self._open.difference_update((client, upstream))

    def close(self) -> None:
        """Stop listening and cut the connections still open."""
        self._closed = True
        for s in [self.listener, *self._open]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
