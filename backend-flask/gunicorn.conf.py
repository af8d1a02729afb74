"""gunicorn sized from the CPU this container actually gets (a 0.25 vCPU task is not a 4-core laptop)."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # gunicorn_worker.py sits beside this file
from gunicorn_worker import TALLY, BufferingThreadWorker

# cgroup v2's CPU limit; the path is overridable so a test can feed a fake one.
CPU_MAX_PATH = os.environ.get("GUNICORN_CPU_MAX_PATH", "/sys/fs/cgroup/cpu.max")


def cpu_quota(path: str = CPU_MAX_PATH) -> float:
    """CPUs granted by the cgroup (ECS sets cpu.max from the task's cpu units), else the host's count."""
    try:
        quota, period = Path(path).read_text().split()
        if quota != "max":
            return max(int(quota) / int(period), 0.1)
    except (OSError, ValueError):
        pass
    return float(os.cpu_count() or 1)


_cpus = cpu_quota()
bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '4567')}")


# Threads overlap the I/O waits (PostgreSQL, DynamoDB); a process per granted core, at least one. The event
# loop reads each request whole before a thread runs it (gunicorn_worker.py): slow clients hold no thread.
worker_class = BufferingThreadWorker
BufferingThreadWorker.read_timeout = float(os.environ.get("GUNICORN_READ_TIMEOUT", 10))
workers = int(os.environ.get("GUNICORN_WORKERS", max(1, min(round(_cpus), 8))))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# ECS sends SIGTERM, then SIGKILL after stopTimeout (30 s): finish in-flight requests well before.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 20))
timeout = 30
keepalive = 75  # longer than the ALB's 60 s idle timeout, so the ALB closes first
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime admin socket (gunicorn >= 25): the container has no use for it, and two local servers
# (make up beside the tests) would otherwise contend for the same $HOME/.gunicorn/gunicorn.ctl.
control_socket_disable = True

# The app writes THE access log (one JSON line per request, cruddur/telemetry/logs.py); set
# GUNICORN_ACCESSLOG=- to get gunicorn's line as well.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# One JSON object per request; the query string is left out (search terms are user data).
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "type": "access",
        "method": "%(m)s",
        "path": "%(U)s",
        "status": "%(s)s",
        "bytes": "%(B)s",
        "duration_ms": "%(M)s",
        "remote": "%(h)s",
        "user_agent": "%(a)s",
        "trace_id": "%({x-amzn-trace-id}i)s",
    }
)


def on_starting(server):
    """Cruddur's settings, checked once before gunicorn listens: a missing one stops the server with one line
    and exit 1. Checked in a worker only, it fails every boot with exit 1, which gunicorn answers by booting
    another worker, forever: a container that never exits and never answers (ECS would only see failing checks)."""
    if getattr(server.app, "app_uri", None) != "wsgi:app":
        return  # another app (the conf tests' stand-in) has settings of its own
    from cruddur.config import ConfigError, Settings

    try:
        Settings.from_env()
    except ConfigError as e:
        print(f"backend-flask: {e}", file=sys.stderr, flush=True)
        sys.exit(1)


def pre_fork(server, worker):
    """In the master, one worker at a time: its slot in the connection tally (new connections go to the worker
    holding the fewest, gunicorn_worker.BalancingThreadWorker)."""
    TALLY.assign(worker, server.WORKERS.values())


def child_exit(server, worker):
    """In the master, once a worker has exited: its slot is free, and nobody waits for it to accept."""
    TALLY.release(worker)


def post_worker_init(worker):
    """Request threads queue their log lines; one thread per worker writes them (cruddur/telemetry/logs.py)."""
    from cruddur.telemetry import logs

    logs.LINES.start()


def worker_exit(server, worker):
    """Flush the worker's buffered OpenTelemetry spans and log lines before it goes (ECS stops give 30 s)."""
    from cruddur import telemetry

    telemetry.shutdown()
