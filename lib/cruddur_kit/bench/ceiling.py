"""The ceiling: a WSGI app answering a constant JSON list of 20 activity-shaped objects (~5 KB), served
by the same gunicorn config as the API. No framework, no I/O: what the server and machine can do at best."""

import json
import uuid

_ACTIVITY = {
    "handle": "andrewbrown",
    "display_name": "Andrew Brown",
    "replies_count": 0,
    "reposts_count": 0,
    "likes_count": 0,
    "reply_to_activity_uuid": None,
    "expires_at": "2026-12-24T00:00:00+00:00",
}
BODY = json.dumps(
    [
        {
            "uuid": str(uuid.UUID(int=i)),
            **_ACTIVITY,
            "message": f"cruddur bench message {i} about containers, postgres and dynamodb on fargate",
            "created_at": f"2026-11-24T00:00:{i:02d}+00:00",
        }
        for i in range(20)
    ]
).encode()
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
