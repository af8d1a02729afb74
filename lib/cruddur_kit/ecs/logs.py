"""The service's container logs from CloudWatch Logs (awslogs driver): recent lines, or followed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ..errors import KitError
from .clock import Deadline

STREAMS_PER_CALL = 100  # filter_log_events takes at most 100 stream names


def parse_since(text: str, now: float | None = None) -> int:
    """'10m', '2h', '30s', '1d' or an ISO time → epoch milliseconds."""
    now = time.time() if now is None else now
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text or "")
    if m:
        seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return int((now - seconds) * 1000)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise KitError(f"--since {text!r} is not a duration (30s, 10m, 2h, 1d) or an ISO time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def source(container: dict) -> tuple[str, str]:
    """(log group, stream prefix 'PREFIX/CONTAINER/') of a container using the awslogs driver."""
    lc = container.get("logConfiguration") or {}
    opts = lc.get("options") or {}
    if lc.get("logDriver") != "awslogs" or "awslogs-group" not in opts:
        raise KitError(f"container {container['name']} does not log with awslogs: its logs are not in CloudWatch")
    prefix = opts.get("awslogs-stream-prefix")
    if not prefix:
        raise KitError(f"container {container['name']} has no awslogs-stream-prefix: set one in its task definition")
    return opts["awslogs-group"], f"{prefix}/{container['name']}/"


def streams(logs, group: str, prefix: str, since_ms: int) -> list[str]:
    """Streams under prefix with events since `since_ms`, newest first (at most 100)."""
    found = []
    try:
        for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group, logStreamNamePrefix=prefix):
            for s in page["logStreams"]:
                last = s.get("lastEventTimestamp") or s.get("lastIngestionTime") or s.get("creationTime") or 0
                if last >= since_ms:
                    found.append((last, s["logStreamName"]))
    except logs.exceptions.ResourceNotFoundException:
        raise KitError(
            f"log group {group} does not exist: run bin/aws/setup (or the service has not logged yet)"
        ) from None
    return [name for _, name in sorted(found, reverse=True)[:STREAMS_PER_CALL]]


def events(logs, group: str, names: list[str], since_ms: int) -> list[dict]:
    if not names:
        return []
    out: list[dict] = []
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, logStreamNames=names, startTime=since_ms
    ):
        out += page.get("events", [])
    return sorted(out, key=lambda e: (e["timestamp"], e.get("eventId", "")))


def line(event: dict) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(timespec="milliseconds")
    task = event.get("logStreamName", "").rsplit("/", 1)[-1][:8]
    return f"{when.replace('+00:00', 'Z')} {task} {event.get('message', '').rstrip()}"


def tail(
    logs,
    group: str,
    prefix: str,
    since_ms: int,
    *,
    follow: bool,
    deadline: Deadline,
    interval: float,
    emit: Callable[[str], None],
) -> int:
    """Emit events since `since_ms`; with follow, keep polling until the deadline. The number emitted."""
    seen: set = set()
    count = 0
    while True:
        for ev in events(logs, group, streams(logs, group, prefix, since_ms), since_ms):
            key = ev.get("eventId") or (ev["logStreamName"], ev["timestamp"], ev.get("message"))
            if key in seen:
                continue
            seen.add(key)
            since_ms = max(since_ms, ev["timestamp"])
            emit(line(ev))
            count += 1
        if not follow or deadline.expired():
            return count
        deadline.sleep(interval)
