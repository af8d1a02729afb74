"""A local task's logs: every container's lines on the terminal, prefixed by its name, and, for containers
logging with awslogs, in the CloudWatch Logs group and stream the options name (PREFIX/CONTAINER/TASK_ID,
the awslogs driver's stream name on Fargate), so bin/ecs/logs and bin/ecs/doctor read them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from ...errors import KitError
from .plan import AwsLogs, TaskPlan

FLUSH_SECONDS = 1.0
MAX_BATCH = 1000


def _group_exists(logs, group: str) -> bool:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=group):
        if any(g["logGroupName"] == group for g in page["logGroups"]):
            return True
    return False


def check_groups(plan: TaskPlan, client: Callable[[str, str | None], object], say: Callable[[str], None]) -> None:
    """Every awslogs group must exist, as the driver requires (or be created with awslogs-create-group)."""
    for c in plan.containers:
        if c.logs is None:
            continue
        logs = client("logs", c.logs.region)
        if _group_exists(logs, c.logs.group):
            continue
        if c.logs.create_group:
            logs.create_log_group(logGroupName=c.logs.group)
            say(f"logs       created log group {c.logs.group} (awslogs-create-group)")
            continue
        raise KitError(
            f"container {c.name}: log group {c.logs.group} does not exist (ECS would stop the task: "
            "ResourceInitializationError: failed to validate logger args): run bin/aws/setup "
            "(for the local stack, make up creates it)"
        )


class CloudWatchSink:
    """Lines queued by the containers' readers, sent in batches by one thread (put_log_events per stream)."""

    def __init__(self, client: Callable[[str, str | None], object], say: Callable[[str], None]):
        self.client = client
        self.say = say
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.failed = False
        self.thread = threading.Thread(target=self._run, name="cloudwatch-logs", daemon=True)
        self.thread.start()

    def open(self, logs: AwsLogs, stream: str) -> None:
        try:
            self.client("logs", logs.region).create_log_stream(logGroupName=logs.group, logStreamName=stream)
        except ClientError as e:
            if e.response["Error"].get("Code") != "ResourceAlreadyExistsException":
                self._warn(e)

    def put(self, logs: AwsLogs, stream: str, timestamp_ms: int, message: str) -> None:
        self.queue.put((logs.region, logs.group, stream, timestamp_ms, message))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

    def _warn(self, e: Exception) -> None:
        if not self.failed:
            self.failed = True
            self.say(
                f"logs       warning: CloudWatch Logs refused the task's lines ({str(e).splitlines()[0][:200]}); "
                "they still show here"
            )

    def _run(self) -> None:
        pending: list = []
        done = False
        while not done:
            try:
                item = self.queue.get(timeout=FLUSH_SECONDS)
                if item is None:
                    done = True
                else:
                    pending.append(item)
                    if len(pending) < MAX_BATCH:
                        continue
            except queue.Empty:
                pass
            if pending:
                self._send(pending)
                pending = []

    def _send(self, items: list) -> None:
        streams: dict[tuple, list] = {}
        for region, group, stream, ts, message in items:
            streams.setdefault((region, group, stream), []).append({"timestamp": ts, "message": message})
        for (region, group, stream), events in streams.items():
            events.sort(key=lambda e: e["timestamp"])
            try:
                self.client("logs", region).put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
            except (ClientError, BotoCoreError) as e:
                self._warn(e)


def split_timestamp(line: str) -> tuple[int, str]:
    """Docker's `timestamps=True` prefix (RFC 3339, nanoseconds) -> (epoch ms, the line itself)."""
    stamp, _, text = line.partition(" ")
    try:
        when = datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00")
        return int(when.timestamp() * 1000), text
    except ValueError:
        return int(datetime.now().timestamp() * 1000), line


def follow(
    container,
    name: str,
    emit: Callable[[str, str], None],
    sink: CloudWatchSink | None,
    logs: AwsLogs | None,
    stream: str | None,
) -> threading.Thread:
    """A reader of one container's stdout and stderr, from its start until it stops."""

    def run() -> None:
        buffer = b""
        try:
            for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True, timestamps=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    ts, text = split_timestamp(raw.decode("utf-8", "replace").rstrip("\r"))
                    emit(name, text)
                    if sink is not None and logs is not None:
                        sink.put(logs, stream, ts, text)
        except Exception:  # the container was removed under us: the stream simply ends
            pass

    thread = threading.Thread(target=run, name=f"logs-{name}", daemon=True)
    thread.start()
    return thread
