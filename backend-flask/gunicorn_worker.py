"""gunicorn's gthread worker, made safe from slow and malformed clients (gunicorn.conf.py names the class).

gthread hands a connection to a thread as soon as its first byte arrives; the thread then blocks reading
the rest of the request. 16 clients sending their headers a line a second held every thread of 2 workers
× 8 and nobody else was answered. Here the worker's event loop reads each request itself, without
blocking: the head, and a body up to the app's cap (MAX_CONTENT_LENGTH). Only a request that is all
there reaches a thread, so a thread never waits on a client. A request not all there within
`read_timeout` seconds is answered 408 and closed. Other hardening:

- gunicorn's own answers to malformed requests (400, 414, 431, ...) are JSON like the app's, and neither
  the answer nor the log line repeats what the client sent (an Authorization header line, say);
- the lingering close after a `Connection: close` answer waits on the event loop instead of blocking it
  (gthread blocked its loop up to 2 s per client that did not close its end);
- a body the app did not read is not drained from a slow client: the connection closes instead.

Connections still waiting in the accept queue at a graceful stop are served (DrainingThreadWorker), and
new connections go to the worker holding the fewest (BalancingThreadWorker).
"""

from __future__ import annotations

import errno
import json
import mmap
import re
import selectors
import socket
import time
from functools import partial

from gunicorn import http, util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker
from werkzeug.exceptions import BadRequest

READ_SIZE = 65536
HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
LINGER_SECONDS = 2.0  # after a Connection: close answer, as gunicorn's close_graceful
LINGER_DRAIN = 65536


class DrainingThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, but a graceful stop first serves the connections already in the accept queue.

    A client whose connect() has returned is in the kernel's queue until a worker accepts it; stock gthread stops
    accepting at SIGTERM, so those connections are reset when the listener closes. We accept them (at most one
    backlog's worth, so a steady stream of new clients cannot keep the worker alive) and answer them as usual.
    """

    def set_accept_enabled(self, enabled):
        if not enabled and not self.alive:
            self.drain_accept_queue()
        super().set_accept_enabled(enabled)

    def drain_accept_queue(self):
        for listener in self.sockets:
            listener.setblocking(False)
            for _ in range(self.cfg.backlog):
                accepted = self.nr_conns
                self.accept(listener)  # gunicorn's own accept: EAGAIN means the queue is empty
                if self.nr_conns == accepted:
                    break


class ConnectionTally:
    """How many connections each live worker holds, in memory every worker shares.

    The mapping is anonymous and shared, made at import in the arbiter (gunicorn.conf.py imports this
    module), so every forked worker sees the same slots. The arbiter hands out the slots (`assign`, from
    gunicorn.conf.py's pre_fork hook, which runs for one worker at a time) and takes them back when a worker
    exits (`release`, from child_exit); each worker writes its own count only. Reads need no lock: a count a
    moment old only makes an accept a little less fair."""

    SLOTS = 64  # workers at once; more than any CPU count gunicorn.conf.py sizes for (at most 8)

    def __init__(self):
        self._memory = mmap.mmap(-1, 2 * 8 * self.SLOTS)
        view = memoryview(self._memory).cast("q")
        self.live, self.conns = view[: self.SLOTS], view[self.SLOTS :]

    def assign(self, worker, others) -> None:
        """In the arbiter, before the fork: the first slot no other live worker holds."""
        taken = {getattr(w, "tally_slot", None) for w in others}
        slot = next((i for i in range(self.SLOTS) if i not in taken), None)
        if slot is not None:
            self.conns[slot], self.live[slot] = 0, 1
        worker.tally_slot = slot

    def release(self, worker) -> None:
        slot = getattr(worker, "tally_slot", None)
        if slot is not None:
            self.live[slot] = 0

    def fewest_elsewhere(self, slot: int | None) -> int | None:
        """The fewest connections any other live worker holds; None when there is no other."""
        others = [self.conns[i] for i in range(self.SLOTS) if self.live[i] and i != slot]
        return min(others) if others else None


TALLY = ConnectionTally()


class BalancingThreadWorker(DrainingThreadWorker):
    """A new connection goes to the worker holding the fewest.

    Every worker waits on the same listener and the kernel wakes them all; whichever gets there first takes
    the connection. With keep-alive clients (an ALB's connections, wrk's) that decides the split for good:
    32 connections opened at once were split 32/0, 24/8 and 23/9 across 2 workers as often as evenly,
    leaving a core idle or one worker's queue three times the other's (journal/2026-11-30-balanced-accept.md).
    Here a worker holding more than another live worker lets the connection wait HOLD_SECONDS for that
    one, then takes it anyway (the other may be busy), so no connection waits longer than that."""

    HOLD_SECONDS = 0.01
    tally_slot: int | None = None  # set by TALLY.assign in the arbiter; None: not counted (a single worker)
    _nr_conns = 0
    _hold_until = 0.0
    _accept_anyway = False

    @property
    def nr_conns(self) -> int:
        return self._nr_conns

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:  # gthread counts in many places; every change is published here
        self._nr_conns = value
        if self.tally_slot is not None:
            TALLY.conns[self.tally_slot] = value

    def accept(self, listener):
        if self.alive and not self._accept_anyway:
            fewest = TALLY.fewest_elsewhere(self.tally_slot)
            if fewest is not None and self.nr_conns > fewest:
                self._hold_until = time.monotonic() + self.HOLD_SECONDS
                self.set_accept_enabled(False)
                return
        self._accept_anyway = False
        self.accept_connection(listener)

    def accept_connection(self, listener):
        super().accept(listener)

    def set_accept_enabled(self, enabled):
        if enabled and self._hold_until:
            if time.monotonic() < self._hold_until:
                return  # gthread's loop asks every turn; the hold ends in wait_for_and_dispatch_events
            self._hold_until, self._accept_anyway = 0.0, True
        if not enabled and not self.alive:
            TALLY.release(self)  # a stopping worker takes no new connections: others stop waiting for it
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        if self._hold_until:
            timeout = max(0.0, min(timeout, self._hold_until - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        if self._hold_until and time.monotonic() >= self._hold_until and self.alive:
            self.set_accept_enabled(True)


# What gunicorn's parser raises for a malformed request, and what the client is told: (status, reason, code).
CLIENT_ERRORS = [
    ((http_errors.LimitRequestLine,), 414, "URI Too Long", "request_line_too_long"),
    ((http_errors.LimitRequestHeaders,), 431, "Request Header Fields Too Large", "request_headers_too_large"),
    (
        (http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod, http_errors.InvalidHTTPVersion),
        400,
        "Bad Request",
        "request_line_invalid",
    ),
    (
        (
            http_errors.InvalidHeader,
            http_errors.InvalidHeaderName,
            http_errors.ObsoleteFolding,
            http_errors.InvalidSchemeHeaders,
        ),
        400,
        "Bad Request",
        "header_invalid",
    ),
    (
        (http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension),
        400,
        "Bad Request",
        "body_chunk_invalid",
    ),
    ((http_errors.UnsupportedTransferCoding,), 501, "Not Implemented", "transfer_coding_unsupported"),
    ((http_errors.ExpectationFailed,), 417, "Expectation Failed", "expectation_failed"),
    ((http_errors.ForbiddenProxyRequest,), 403, "Forbidden", "forbidden"),
    (
        (http_errors.InvalidProxyLine, http_errors.InvalidProxyHeader, http_errors.InvalidH2CPreface),
        400,
        "Bad Request",
        "bad_request",
    ),
]
APP_FAULTS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName)


def client_error(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, reason, code) for a malformed request; None when the fault is ours (a 500)."""
    if isinstance(exc, APP_FAULTS):
        return None
    for kinds, status, reason, code in CLIENT_ERRORS:
        if isinstance(exc, kinds):
            return status, reason, code
    return None


def json_error(status: int, reason: str, code: str) -> bytes:
    """A whole HTTP/1.1 answer: the error as the app writes it, and the headers every answer carries."""
    body = json.dumps({"error": code}).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n"
    ).encode() + body


def _head_end(data: bytearray, start: int = 0) -> tuple[int, int]:
    """(where the head ends, where the body starts), or (-1, -1) while the blank line has not arrived. The
    search begins at `start` (a little before where the last one stopped: each byte is looked at once)."""
    crlf, lf = data.find(b"\r\n\r\n", start), data.find(b"\n\n", start)
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, crlf + 4
    if lf >= 0:
        return lf, lf + 2
    return -1, -1


def framing(head: bytes) -> tuple[int | None, bool, bool, bool]:
    """(content length, chunked, expects 100-continue, ambiguous) as the head declares them.

    Only to know how much to read before a thread takes the request: gunicorn's parser still checks the
    head (an ambiguous one is read no further, and the parser rejects it)."""
    lengths, codings, expect = [], [], False
    for line in head.split(b"\n")[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.append(value)
        elif name == b"expect":
            expect = value == b"100-continue"
    ambiguous = len(lengths) > 1 or bool(lengths and codings) or any(not v.isdigit() for v in lengths)
    chunked = bool(codings) and codings[-1].rsplit(b",", 1)[-1].strip() == b"chunked"
    length = int(lengths[0]) if lengths and not ambiguous else None
    return length, chunked, expect and head.split(b"\n", 1)[0].rstrip().endswith(b"HTTP/1.1"), ambiguous


def chunked_progress(data: bytearray, pos: int) -> tuple[bool | None, int]:
    """(whether a chunked body has arrived whole: last chunk and trailers, None when malformed; where the
    chunk-size line to look at next starts), reading on from the chunk-size line at `pos`."""
    while True:
        line_end = data.find(b"\n", pos)
        if line_end < 0:
            return False, pos
        size_text = bytes(data[pos:line_end]).split(b";", 1)[0].strip()
        if not HEX.fullmatch(size_text):  # int(, 16) would also take "-1", "+1" and "1_0"
            return None, pos
        size = int(size_text, 16)
        if size == 0:  # the last chunk: then trailer lines, if any, and a blank line
            rest = data[line_end + 1 :]
            return rest.startswith((b"\r\n", b"\n")) or _head_end(rest)[0] >= 0, pos
        if line_end + 1 + size + 2 > len(data):  # the chunk's data and its CRLF are not all here
            return False, pos
        pos = line_end + 1 + size + 2


class BodyChunkInvalid(BadRequest):
    """A chunked body gunicorn could not read, as the app sees it: a 400 {"error": "body_chunk_invalid"}."""

    name = "Body Chunk Invalid"


class CheckedInput:
    """wsgi.input whose malformed chunked framing is a 400 for the app (gunicorn's parse errors are not
    exceptions a WSGI app knows: Flask made them 500s)."""

    def __init__(self, body):
        self._body = body

    def _guarded(self, method, *args):
        try:
            return method(*args)
        except (http_errors.ParseException, http_errors.NoMoreData):
            raise BodyChunkInvalid() from None

    def read(self, *args):
        return self._guarded(self._body.read, *args)

    def readline(self, *args):
        return self._guarded(self._body.readline, *args)

    def readlines(self, *args):
        return self._guarded(self._body.readlines, *args)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def checked_input(app):
    """The WSGI app, given wsgi.input as a CheckedInput."""

    def wrapped(environ, start_response):
        environ["wsgi.input"] = CheckedInput(environ["wsgi.input"])
        return app(environ, start_response)

    return wrapped


class BufferingThreadWorker(BalancingThreadWorker):
    """Reads each request on the event loop; threads only run whole requests (see the module docstring)."""

    read_timeout = 10.0  # seconds for a request's head and body to arrive (gunicorn.conf.py sets it)
    max_head = 65536  # bytes of request line and headers (the ALB's limit is 64 KiB too)

    def run(self):
        # The app's own body cap (Flask's MAX_CONTENT_LENGTH): bodies up to it are read here, before a thread
        # takes the request; a larger one is not waited for (the app answers 413 from its Content-Length).
        config = getattr(self.wsgi, "config", None) or {}
        self.max_body = config.get("MAX_CONTENT_LENGTH") or 0
        self.reading: dict[TConn, float] = {}  # connection -> read deadline
        self.lingering: dict[TConn, float] = {}  # connection -> close deadline
        self.buffering = not self.cfg.is_ssl  # TLS ends at the ALB; a TLS socket's raw bytes are not HTTP
        self.wsgi = checked_input(self.wsgi)
        super().run()

    # -- connections ----------------------------------------------------------------------------------------

    def accept_connection(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.close = partial(self._close, conn)  # a graceful close lingers on the event loop, never blocking it
        self.enqueue_req(conn)

    def enqueue_req(self, conn):
        """Every way to a thread passes here (a new connection, a kept-alive one that became readable, the
        bytes left after a request): the thread gets the request once it is all there."""
        if getattr(conn, "request_ready", False) or not self.buffering:
            conn.request_ready = False
            super().enqueue_req(conn)
            return
        conn.pending = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        conn.sent_continue = False
        # How far _verdict has looked, and what the head said: it looks at each byte once, however it trickles in.
        conn.scanned, conn.chunk_at, conn.framing = 0, None, None
        conn.sock.setblocking(False)
        deadline = time.monotonic() + self.read_timeout
        if self._read(conn):
            return
        self.reading[conn] = deadline
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, _sock):
        if self._read(conn):
            self._stop_reading(conn)

    def _stop_reading(self, conn):
        if self.reading.pop(conn, None) is not None:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _read(self, conn) -> bool:
        """Take what the socket has; True when the connection is no longer waiting for its request."""
        verdict = self._verdict(conn)
        if verdict == "wait":
            try:
                data = conn.sock.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                data = b""
            if not data:  # the client went away mid-request
                self._stop_reading(conn)
                self._drop(conn)
                return True
            conn.pending += data
            verdict = self._verdict(conn)
        if verdict == "wait":
            return False
        self._stop_reading(conn)
        if verdict == "run":
            data, conn.pending = bytes(conn.pending), None
            if conn.parser is None:
                conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.parser.unreader.unread(data)
            conn.data_ready = True  # gthread would otherwise wait for data in the thread
            conn.request_ready = True
            self.enqueue_req(conn)
        else:
            self._answer_and_drop(conn, json_error(*verdict))
        return True

    def _verdict(self, conn):
        """ "wait" for more, "run" the request, or (status, reason, code) to answer without running it."""
        data = conn.pending
        head_end, body_start = _head_end(data, max(0, conn.scanned - 3))
        if head_end < 0:
            conn.scanned = len(data)
            first_line = data.find(b"\n")
            if first_line < 0 and len(data) > self.cfg.limit_request_line + 2:
                return "run"  # gunicorn's parser answers 414 from what is here
            if len(data) > self.max_head:
                return 431, "Request Header Fields Too Large", "request_headers_too_large"
            return "wait"
        if head_end > self.max_head:
            return 431, "Request Header Fields Too Large", "request_headers_too_large"
        if conn.framing is None:
            conn.framing = framing(bytes(data[:head_end]))
        length, chunked, expect, ambiguous = conn.framing
        if ambiguous or not self.max_body:
            return "run"
        if chunked:
            done, conn.chunk_at = chunked_progress(data, conn.chunk_at or body_start)
            if done is None or done or len(data) - body_start > self.max_body:
                return "run"  # whole, malformed (the parser says 400), or over the cap (the app says 413)
        elif length is None or length > self.max_body or len(data) - body_start >= length:
            return "run"
        if expect and not conn.sent_continue:  # the client waits for this before it sends the body
            conn.sent_continue = True
            try:
                conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError:
                pass
        return "wait"

    def handle_request(self, req, conn):
        if getattr(conn, "sent_continue", False):
            req._expected_100_continue = False  # the event loop already said 100 Continue
        return super().handle_request(req, conn)

    def _keepalive_after(self, conn, keepalive):
        # gthread drains a body the app did not read for up to 5 s in the thread, however slowly the client
        # sends it. What the event loop read is drained at once; anything more closes the connection.
        if not keepalive:
            return False
        try:
            return bool(conn.parser.finish_body(deadline=time.monotonic() + 0.05))
        except (http_errors.ParseException, http_errors.NoMoreData, OSError):
            return False  # a malformed body nobody read: close, never a second answer to one request

    # -- timeouts and closing ---------------------------------------------------------------------------------

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:  # stopping: an idle new connection gets what a kept-alive one gets
            for conn, deadline in self.reading.items():
                if not conn.pending:
                    self.reading[conn] = min(deadline, now + STOP_KEEPALIVE_LINGER)
        for conn in [c for c, deadline in self.reading.items() if deadline <= now]:
            self._stop_reading(conn)
            if conn.pending:
                self._answer_and_drop(conn, json_error(408, "Request Timeout", "request_timeout"))
            else:
                self._drop(conn)
        for conn in [c for c, deadline in self.lingering.items() if deadline <= now]:
            self._end_linger(conn)

    def _answer_and_drop(self, conn, answer: bytes):
        try:
            conn.sock.send(answer)  # small: it fits the socket buffer; a client that is not reading loses it
        except OSError:
            pass
        self.nr_conns -= 1
        self._close(conn, graceful=True)

    def _drop(self, conn):
        self.nr_conns -= 1
        util.close(conn.sock)

    def _close(self, conn, graceful=False):
        """TConn.close: a graceful close sends FIN now and reads what the client still sends on the event loop
        (so the kernel does not reset the last answer), until it closes too or LINGER_SECONDS pass."""
        if not graceful:
            util.close(conn.sock)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            conn.drained = 0
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger_readable, conn))
        except (OSError, ValueError, KeyError):
            util.close(conn.sock)
            return
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS

    def _on_linger_readable(self, conn, _sock):
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained >= LINGER_DRAIN:
            self._end_linger(conn)

    def _end_linger(self, conn):
        if self.lingering.pop(conn, None) is not None:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        util.close(conn.sock)

    # -- malformed requests ---------------------------------------------------------------------------------

    def handle_error(self, req, client, addr, exc):
        """gunicorn's answer to a request it could not parse, as JSON; the log names the kind of fault only
        (gunicorn's own line quoted the offending header line, an Authorization header's token included)."""
        addr = addr or ("", -1)
        known = client_error(exc)
        if known is None:
            self.log.error("error handling request: %s", type(exc).__name__)
            known = (500, "Internal Server Error", "internal_error")
        else:
            self.log.warning("invalid request from ip=%s: %s", addr[0], type(exc).__name__)
        try:
            util.write_nonblock(client, json_error(*known))
        except Exception:
            self.log.debug("failed to send the error answer")
