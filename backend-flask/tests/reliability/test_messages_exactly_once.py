"""Direct messages exactly once, with answers lost on the way back: concurrent senders for a bounded time
(CRUDDUR_DM_SECONDS, default 30 s) through a proxy in front of the emulator that lets every transaction
through to DynamoDB and then, for some, drops the answer (as a network timeout does after the write).
Every message a client was told was sent is stored once, with the uuid it was given; none is stored twice;
none is stored when its client got an error.

The proxy loses the answers of one transaction in four three times in a row (all of boto3's attempts),
and of one in seven once: the first is only survived by the app sending the same request, with the same
ClientRequestToken, again; both only by the emulator honouring the token (cruddur_kit.local.emulator).
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import threading
import uuid
from collections import Counter
from urllib.parse import urlsplit

import boto3
import pytest
from reliability_load import Load, request

SECONDS = float(os.environ.get("CRUDDUR_DM_SECONDS", "30"))
PAIRS = [("andrewbrown", "bayko"), ("bayko", "andrewbrown"), ("londo", "altbrown"), ("altbrown", "londo")]
TRANSACT = "DynamoDB_20120810.TransactWriteItems"


class LossyProxy:
    """HTTP proxy to the emulator; drops some TransactWriteItems answers after the emulator applied them."""

    def __init__(self, upstream: str, lose_all: bool = False):
        up = urlsplit(upstream)
        self.lose_all = lose_all
        self.seen: Counter = Counter()  # token -> times sent
        self.order: dict[str, int] = {}  # token -> its rank among distinct tokens
        self.dropped = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream_conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
                upstream_conn.request(self.command, self.path, body=body, headers=headers)
                answer = upstream_conn.getresponse()
                data = answer.read()
                upstream_conn.close()
                if self.headers.get("X-Amz-Target") == TRANSACT and proxy.drop(json.loads(body)):
                    self.close_connection = True  # the write happened; its answer never arrives
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_DELETE = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def drop(self, request: dict) -> bool:
        token = request.get("ClientRequestToken")
        if not token:
            return False
        with self.lock:
            rank = self.order.setdefault(token, len(self.order))
            self.seen[token] += 1
            lost = (
                self.lose_all or (rank % 4 == 0 and self.seen[token] <= 3) or (rank % 7 == 3 and self.seen[token] == 1)
            )
            self.dropped += lost
            return lost

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lossy(aws_env):
    proxy = LossyProxy(aws_env["AWS_ENDPOINT_URL"])
    yield proxy
    proxy.close()


@pytest.mark.slow
def test_concurrent_senders_with_lost_answers_store_each_message_exactly_once(
    start_api, tmp_path, database_url, aws_env, cognito_pool, tokens, lossy
):
    jwks = f"{aws_env['AWS_ENDPOINT_URL']}/{cognito_pool.pool_id}/.well-known/jwks.json"
    api = start_api(tmp_path, database_url, aws_env, cognito_pool, endpoint=lossy.url, AWS_COGNITO_JWKS_URL=jwks)
    run = uuid.uuid4().hex[:8]
    groups: dict[tuple, str] = {}
    try:

        def send(worker, n):
            sender, receiver = PAIRS[worker % len(PAIRS)]
            pair = tuple(sorted((sender, receiver)))
            text = f"once-{run}-{worker}-{n}"
            # start (or reuse) the conversation by handle, or append to it by uuid once it is known
            body = {
                "message": text,
                **({"message_group_uuid": groups[pair]} if n % 2 and pair in groups else {"handle": receiver}),
            }
            o = request(
                api.port, "POST", "/api/messages", body, {"Authorization": f"Bearer {tokens[sender]}"}, timeout=60
            )
            if o.status == 200:
                answer = json.loads(o.body)
                if "message_group_uuid" in answer and "uuid" not in answer:
                    groups.setdefault(pair, answer["message_group_uuid"])
            o.text, o.pair = text, pair
            return o

        outcomes = Load(send, workers=8, seconds=SECONDS, max_requests=2000).start().join(SECONDS + 120)
    finally:
        api.stop()

    statuses = Counter(o.status for o in outcomes)
    ok = [o for o in outcomes if o.status == 200]

    # What DynamoDB holds, read past the proxy: every message of this run, in every conversation.
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name=aws_env["AWS_DEFAULT_REGION"]
    )
    table = api.env["DDB_MESSAGE_TABLE"]
    stored: Counter = Counter()
    stored_uuid: dict[str, str] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("MSG#") and item["message"]["S"].startswith(f"once-{run}-"):
                stored[item["message"]["S"]] += 1
                stored_uuid[item["message"]["S"]] = item["message_uuid"]["S"]

    duplicated = {t for t, n in stored.items() if n > 1}
    failed = {o.text for o in outcomes if o.status != 200}
    acked = {o.text: json.loads(o.body) for o in ok}
    assert duplicated == set(), f"{len(duplicated)} messages stored twice"
    assert failed & set(stored) == set(), f"{len(failed & set(stored))} messages stored though the client got an error"
    assert set(acked) - set(stored) == set(), "messages acknowledged but not stored"
    assert all(stored_uuid[t] == a["uuid"] for t, a in acked.items() if "uuid" in a), (
        "a message stored under another uuid"
    )
    assert set(statuses) <= {200, 409}, statuses  # 409: a busy conversation (nothing written)
    # The injection happened, and beyond what boto3's own retries survive:
    assert len(ok) > 40 and lossy.dropped > 10, (statuses, lossy.dropped)
    assert any(n > 3 for n in lossy.seen.values()), "no transaction outlived boto3's own retries: proved nothing"


def test_when_every_answer_is_lost_the_client_is_told_the_message_may_have_been_sent(
    start_api, tmp_path, database_url, aws_env, cognito_pool, tokens
):
    """The one case no retry resolves: DynamoDB applied the send, and no answer comes back at all. The client
    gets a 503 that says so (not a bare failure), within a bound."""
    proxy = LossyProxy(aws_env["AWS_ENDPOINT_URL"], lose_all=True)
    jwks = f"{aws_env['AWS_ENDPOINT_URL']}/{cognito_pool.pool_id}/.well-known/jwks.json"
    api = start_api(tmp_path, database_url, aws_env, cognito_pool, endpoint=proxy.url, AWS_COGNITO_JWKS_URL=jwks)
    try:
        o = request(
            api.port,
            "POST",
            "/api/messages",
            {"message": "into the void", "handle": "bayko"},
            {"Authorization": f"Bearer {tokens['andrewbrown']}"},
            timeout=60,
        )
        assert o.status == 503 and json.loads(o.body) == {
            "error": "dynamodb_unavailable",
            "message": "the message may have been sent: look at the conversation before sending it again",
        }
        assert o.seconds < 10
        assert max(proxy.seen.values()) == 3 + 3  # boto3's three tries, then three resends of the same request
    finally:
        api.stop()
        proxy.close()
