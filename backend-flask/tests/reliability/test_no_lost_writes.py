"""No lost writes: concurrent clients create activities and direct messages for a bounded time; every
write that got a 2xx is present afterwards exactly once, and nothing unacknowledged appears.

CRUDDUR_LOST_WRITES_SECONDS sets the duration (default 30 s, as the issue asks).
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter

import psycopg
import requests
from reliability_load import Load, request

SECONDS = float(os.environ.get("CRUDDUR_LOST_WRITES_SECONDS", "30"))
WRITERS = ["andrewbrown", "altbrown", "bayko", "londo"]


def test_every_acknowledged_write_is_stored_exactly_once(api, tokens, database_url):
    run = uuid.uuid4().hex[:8]
    headers = {h: {"Authorization": f"Bearer {tokens[h]}"} for h in WRITERS}
    # One conversation per writer pair, started before the load: messages are appended to it.
    groups = {}
    for sender, receiver in (("andrewbrown", "bayko"), ("londo", "altbrown")):
        r = requests.post(
            f"{api.url}/api/messages",
            json={"message": f"start {run}", "handle": receiver},
            headers=headers[sender],
            timeout=10,
        )
        assert r.status_code == 200, r.text
        groups[sender] = r.json()["message_group_uuid"]

    def activity(worker, n):
        handle = WRITERS[worker % len(WRITERS)]
        text = f"lw-{run}-a{worker}-{n}"
        o = request(api.port, "POST", "/api/activities", {"message": text, "ttl": "1-hour"}, headers[handle])
        o.kind, o.text = "activity", text
        return o

    def message(worker, n):
        sender = list(groups)[worker % len(groups)]
        text = f"lw-{run}-m{worker}-{n}"
        o = request(
            api.port, "POST", "/api/messages", {"message": text, "message_group_uuid": groups[sender]}, headers[sender]
        )
        o.kind, o.text, o.group = "message", text, groups[sender]
        return o

    activities = Load(activity, workers=6, seconds=SECONDS, max_requests=3000).start()
    messages = Load(message, workers=2, seconds=SECONDS, max_requests=1000).start()
    outcomes = activities.join(SECONDS + 60) + messages.join(SECONDS + 60)

    failed = [(o.kind, o.status, o.error, o.body[:200]) for o in outcomes if o.status != 200]
    assert not failed, failed[:10]
    acked = [o for o in outcomes if o.status == 200]
    assert sum(o.kind == "activity" for o in acked) > 50 and sum(o.kind == "message" for o in acked) > 10

    # Activities: in PostgreSQL, each acknowledged text once, with the uuid the client was given.
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT message, uuid::text FROM activities WHERE message LIKE %s", (f"lw-{run}-%",)
        ).fetchall()
    stored = Counter(m for m, _ in rows)
    by_text = dict(rows)
    acked_activities = {o.text: json.loads(o.body)["uuid"] for o in acked if o.kind == "activity"}
    assert {t for t, n in stored.items() if n > 1} == set(), "duplicated activities"
    assert set(acked_activities) - set(stored) == set(), "lost activities"
    assert set(stored) - set(acked_activities) == set(), "activities stored that no client was told about"
    assert all(by_text[t] == u for t, u in acked_activities.items())

    # Messages: read back through the API, following the Link header to the end of each conversation.
    for sender, group in groups.items():
        seen = Counter()
        url = f"{api.url}/api/messages/{group}?limit=100"
        while url:
            r = requests.get(url, headers=headers[sender], timeout=10)
            assert r.status_code == 200, r.text
            seen.update(m["uuid"] for m in r.json() if m["message"].startswith(f"lw-{run}-m"))
            url = r.links.get("next", {}).get("url")
            if url and url.startswith("/"):
                url = api.url + url
        acked_here = {json.loads(o.body)["uuid"] for o in acked if o.kind == "message" and o.group == group}
        assert {u for u, n in seen.items() if n > 1} == set(), "duplicated messages"
        assert acked_here - set(seen) == set(), "lost messages"
        assert set(seen) - acked_here == set(), "messages stored that no client was told about"
