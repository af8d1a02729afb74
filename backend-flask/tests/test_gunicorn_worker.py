"""gunicorn_worker's reading of requests on the event loop, piece by piece (the real server's behaviour is in
reliability/test_hostile_clients.py): when a head ends, what it says about its body, when a chunked body is
whole, looking at each byte once however the request trickles in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gunicorn_worker import _head_end, chunked_progress, framing

CHUNKED = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"


def test_a_chunked_body_is_whole_only_at_its_end_however_it_arrives():
    data, pos, seen = bytearray(), 0, []
    for byte in CHUNKED:
        data.append(byte)
        done, pos = chunked_progress(data, pos)
        seen.append(done)
    assert seen[-1] is True and not any(seen[:-1])


@pytest.mark.parametrize("body", [b"zz\r\n", b"-1\r\n", b"\r\n"])
def test_a_malformed_chunk_size_is_said_at_once(body):
    assert chunked_progress(bytearray(body), 0)[0] is None


def test_the_head_ends_at_the_first_blank_line_searched_from_where_the_last_search_stopped():
    data = bytearray(b"GET / HTTP/1.1\r\nHost: t\r\n")
    assert _head_end(data) == (-1, -1)
    scanned = len(data)
    data += b"\r\nbody"
    assert _head_end(data, scanned - 3) == (
        len(b"GET / HTTP/1.1\r\nHost: t"),
        len(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    )
    assert _head_end(bytearray(b"GET / HTTP/1.1\nHost: t\n\nrest"))[0] == len(b"GET / HTTP/1.1\nHost: t")


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"POST / HTTP/1.1\r\nContent-Length: 12", (12, False, False, False)),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked", (None, True, False, False)),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue", (5, False, True, False)),
        (b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue", (5, False, False, False)),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6", (None, False, False, True)),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", (None, True, False, True)),
        (b"POST / HTTP/1.1\r\nContent-Length: -5", (None, False, False, True)),
        (b"GET / HTTP/1.1\r\nHost: t", (None, False, False, False)),
    ],
)
def test_what_a_head_says_about_its_body(head, expected):
    assert framing(head) == expected
