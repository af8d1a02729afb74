"""Graceful stop: SIGTERM to gunicorn under steady load (what ECS sends on every deploy and scale-in).
Every request in flight at the signal completes; the process exits well inside ECS's 30 s stop timeout.

"In flight" means its connection was established before the signal. A connection made after it can be
refused, or (in the few milliseconds before the listening socket closes) reset from the accept queue:
behind the ALB that cannot happen, because ECS drains the target (DEACTIVATING) before it sends SIGTERM.
Such late connections are counted, and any answer they did get must still be a 200.
"""

from __future__ import annotations

import time

from reliability_load import Load, request

ECS_STOP_TIMEOUT = 30


def test_sigterm_under_load_fails_no_request_in_flight(api, auth):
    headers = auth("bayko")

    def traffic(worker, n):
        if worker % 2:
            return request(
                api.port, "POST", "/api/activities", {"message": f"graceful {worker}-{n}", "ttl": "1-hour"}, headers
            )
        return request(api.port, "GET", "/api/activities/home?limit=50")

    load = Load(traffic, workers=8, seconds=20, max_requests=2000).start()
    time.sleep(2.0)  # steady state
    assert any(o.status == 200 for o in load.outcomes)
    stopped_at = time.monotonic()
    api.terminate()
    api.process.wait(timeout=ECS_STOP_TIMEOUT)
    exit_seconds = time.monotonic() - stopped_at
    outcomes = load.stop()

    in_flight = [o for o in outcomes if o.connected is not None and o.connected < stopped_at]
    failed = [(o.status, o.error, o.body[:120]) for o in in_flight if o.status != 200]
    assert not failed, f"{len(failed)} requests in flight at SIGTERM failed: {failed[:10]}"
    finished_after = [o for o in in_flight if o.started + o.seconds > stopped_at]
    assert finished_after, "no request was in flight at SIGTERM: the test proved nothing"
    late_answers = [o.status for o in outcomes if o.connected and o.connected >= stopped_at and o.status]
    assert all(s == 200 for s in late_answers), late_answers
    assert api.process.returncode == 0
    assert exit_seconds < ECS_STOP_TIMEOUT


def test_every_request_line_is_in_the_log_once_the_workers_exit(api, tmp_path):
    """Request lines are written in batches by a thread per worker; a graceful stop flushes them all."""
    import json

    for _ in range(40):
        assert request(api.port, "GET", "/api/activities/home?limit=5").status == 200
    assert api.stop() == 0
    lines = [
        json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines() if line.startswith('{"time"')
    ]
    assert sum(x["route"] == "/api/activities/home" for x in lines) == 40
