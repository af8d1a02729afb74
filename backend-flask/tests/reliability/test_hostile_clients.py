"""Hostile clients against the real server (gunicorn with gunicorn_worker.BufferingThreadWorker), bounded:

- 200 connections sending their headers a line a second, or their body a byte a second, do not starve
  anybody else: the health check and the home feed keep answering (every probe, p99 under 1 s; the figures
  measured are in journal/2026-11-29-hostile-clients.md). Before, 16 such clients held every thread;
- gunicorn's own answers to requests it cannot read (400, 414, 431, 408) are JSON, and neither they nor the
  log repeat what was sent (a malformed Authorization line's token);
- a body over the cap is a 413 JSON answer while the client is still sending it (never read whole), with a
  declared length or chunked; clients that never close their end do not stall the server.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from cruddur_kit.bench.hostile import SlowClients, percentile, probes, summary

PROBED = ("/api/health-check", "/api/activities/home")
SECRET = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def server(start_api, tmp_path_factory, module_database_url, aws_env, cognito_pool):
    log_dir = tmp_path_factory.mktemp("api")
    api = start_api(log_dir, module_database_url, aws_env, cognito_pool, GUNICORN_WORKERS="2")
    api.log_dir = log_dir
    yield api
    api.stop()


@pytest.fixture(scope="module")
def single(start_api, tmp_path_factory, module_database_url, aws_env, cognito_pool):
    """One worker (one event loop: what stalls it stalls the server), and a 1 s read timeout."""
    api = start_api(
        tmp_path_factory.mktemp("api"),
        module_database_url,
        aws_env,
        cognito_pool,
        GUNICORN_WORKERS="1",
        GUNICORN_READ_TIMEOUT="1",
    )
    yield api
    api.stop()


def exchange(port: int, data: bytes, timeout: float = 10.0, close_write: bool = False) -> bytes:
    """Send `data` on a fresh connection and read the answer until the server closes (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict, dict]:
    """(status, headers with lower-case names, JSON body) of one HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body[: int(headers.get("content-length", len(body)))])


def assert_others_are_served(server, attack: SlowClients, seconds: float = 6.0):
    during = probes(server.url, PROBED, seconds, timeout=5.0)
    answered = [p.seconds for p in during if p.status == 200]
    assert len(answered) == len(during) > 20, summary(during)
    # The bound is p99 <= 1 s; unloaded it is a few ms (the journal has the figures).
    assert percentile(answered, 99) < 1.0, summary(during)
    # The attack was there the whole time: its connections were held open, not cut short.
    assert attack.stats.opened >= attack.connections and attack.stats.closed_by_server < attack.connections, (
        attack.stats
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["headers", "body"])
def test_200_slow_clients_do_not_starve_anybody_else(server, mode):
    with SlowClients("127.0.0.1", server.port, connections=200, interval=1.0, mode=mode) as attack:
        assert_others_are_served(server, attack)


def test_clients_that_never_close_their_end_do_not_stall_the_server(single):
    """A `Connection: close` answer is followed by a lingering close; gthread's blocked its event loop up to
    2 s per client that kept its end open. 30 such clients, then the probes."""
    held = []
    try:
        for _ in range(30):
            sock = socket.create_connection(("127.0.0.1", single.port), timeout=5)
            sock.sendall(b"GET /api/health-check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            held.append(sock)
        during = probes(single.url, PROBED, 3.0, timeout=5.0)
        assert all(p.status == 200 for p in during) and percentile([p.seconds for p in during], 99) < 1.0, summary(
            during
        )
    finally:
        for sock in held:
            sock.close()


# --- gunicorn's own answers ---------------------------------------------------------------------------------

MALFORMED = {
    "request line": (b"GET /api/health-check HTTP/9.9x\r\nHost: t\r\n\r\n", 400, "request_line_invalid"),
    "request line too long": (
        b"GET /api/activities/search?term=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        414,
        "request_line_too_long",
    ),
    "a header too large": (
        b"GET /api/health-check HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
        "request_headers_too_large",
    ),
    "too many headers": (
        b"GET /api/health-check HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n",
        431,
        "request_headers_too_large",
    ),
    "a head over 64 KiB": (
        b"GET /api/health-check HTTP/1.1\r\nHost: t\r\n" + (b"X-Pad: " + b"p" * 8000 + b"\r\n") * 9 + b"\r\n",
        431,
        "request_headers_too_large",
    ),
    "a head over 64 KiB, still coming": (
        b"GET /api/health-check HTTP/1.1\r\nHost: t\r\n" + (b"X-Pad: " + b"p" * 8000 + b"\r\n") * 9,
        431,
        "request_headers_too_large",
    ),
    "a malformed Authorization line": (
        b"GET /api/activities/notifications HTTP/1.1\r\nHost: t\r\nAuthorization : Bearer "
        + SECRET.encode()
        + b"\r\n\r\n",
        400,
        "header_invalid",
    ),
    "a control character in Authorization": (
        b"GET /api/activities/notifications HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
        + SECRET.encode()
        + b"\x01\r\n\r\n",
        400,
        "header_invalid",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_the_server_s_own_answers_are_json_and_repeat_nothing(server, name):
    request, status, code = MALFORMED[name]
    answer = exchange(server.port, request)
    got_status, headers, body = parse(answer)
    assert (got_status, body) == (status, {"error": code}), answer[:300]
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    assert b"<html" not in answer.lower() and SECRET.encode() not in answer


def test_the_log_never_holds_a_malformed_header_line(server):
    for name in ("a malformed Authorization line", "a control character in Authorization"):
        exchange(server.port, MALFORMED[name][0])
    log = server.log_dir / "gunicorn.log"
    deadline = time.monotonic() + 10  # the lines reach the file through gunicorn's error log
    while "InvalidHeader" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text(errors="replace")
    assert "invalid request from ip=127.0.0.1: InvalidHeader" in text
    assert SECRET not in text and SECRET.split(".")[1] not in text


@pytest.mark.parametrize("framing", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"2;\x01\r\n{}\r\n0\r\n\r\n"])
def test_a_malformed_chunked_body_is_400_json_once(server, tokens, framing):
    head = (
        b"POST /api/activities HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
    )
    answer = exchange(server.port, head + f"Authorization: Bearer {tokens['bayko']}\r\n\r\n".encode() + framing)
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # one request, one answer
    status, headers, body = parse(answer)
    assert (status, body) == (400, {"error": "body_chunk_invalid"}) and headers["x-content-type-options"] == "nosniff"
    # without a token the app answers 401 without reading the body, and that is the only answer
    answer = exchange(server.port, head + b"\r\n" + framing)
    assert answer.count(b"HTTP/1.1 ") == 1 and parse(answer)[0] == 401, answer


# --- the body cap --------------------------------------------------------------------------------------------


def test_a_declared_body_over_the_cap_is_413_before_it_is_sent(server, tokens):
    head = (
        f"POST /api/activities HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {tokens['bayko']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, headers, body = parse(exchange(server.port, head + b'{"message": "'))  # 13 of 100 MiB sent
    assert (status, body["error"]) == (413, "body_too_large") and time.monotonic() - started < 5


def test_a_chunked_body_over_the_cap_is_413_while_it_is_still_coming(server, tokens):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /api/activities HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {tokens['bayko']}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = b"%x\r\n%s\r\n" % (16384, b" " * 16384)
        answer = b""
        for _ in range(200):  # up to 3.2 MiB, but the answer comes after the cap (64 KiB)
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.01)
            try:
                answer += sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                pass
            sock.settimeout(10)
            if answer:
                break
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < int(
            re.search(rb"(?i)content-length: *(\d+)", answer).group(1) if b"\r\n\r\n" in answer else 1
        ):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    status, _, body = parse(answer)
    assert (status, body["error"]) == (413, "body_too_large")


def test_a_body_within_the_cap_sent_slowly_is_served(server, tokens):
    body = json.dumps({"message": "slowly but surely", "ttl": "1-hour"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /api/activities HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {tokens['bayko']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        for i in range(0, len(body), 10):
            sock.sendall(body[i : i + 10])
            time.sleep(0.05)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, _, created = parse(answer)
    assert status == 200 and created["message"] == "slowly but surely"


def test_expect_100_continue_is_answered_once_and_the_body_read(server, tokens):
    body = json.dumps({"message": "after a 100", "ttl": "1-hour"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /api/activities HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {tokens['bayko']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"100 Continue") == 0
    status, _, created = parse(answer)
    assert status == 200 and created["message"] == "after a 100"


def test_pipelined_and_kept_alive_requests_are_all_answered(server):
    two = b"GET /api/health-check HTTP/1.1\r\nHost: t\r\n\r\nGET /api/health-check HTTP/1.1\r\nHost: t\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(two)
        answer = b""
        while answer.count(b'"success":true') < 2:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        sock.sendall(b"GET /api/health-check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")  # the same connection
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK") == 3


def test_a_request_that_does_not_arrive_in_time_is_408_json(single):
    started = time.monotonic()
    answer = exchange(single.port, b"GET /api/activities/home HTTP/1.1\r\nHost: t\r\nAuthorization: Bear")
    status, headers, body = parse(answer)
    assert (status, body) == (408, {"error": "request_timeout"}) and 1 <= time.monotonic() - started < 5
    assert b"Bear" not in answer.partition(b"\r\n\r\n")[2]
    # a connection that sends nothing is closed without an answer, and the server still serves
    assert exchange(single.port, b"", timeout=10) == b""
    answer = exchange(single.port, b"GET /api/health-check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"success": True, "ver": 1}
