"""A bin/ script run as a process whose output the test reads as it comes, line by line: waits are on the
lines themselves (bounded), never on the clock."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import threading
import time

from cruddur_kit import REPO_ROOT


class Process:
    started: list[Process] = []  # every process a test started, for the teardown to kill if still running

    def __init__(self, argv: list[str], env: dict):
        Process.started.append(self)
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        self.lines: queue.Queue = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out, "out"), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err, "err"), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list, which: str) -> None:
        for line in stream:
            line = line.rstrip("\n")
            into.append(line)
            self.lines.put((which, line))
        self.lines.put((which, None))

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match:
        """The first output line (either stream) matching `pattern` from now on; fails with the output so far."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        closed = 0
        while closed < 2:
            try:
                which, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                closed += 1
                continue
            found = regex.search(line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} (exit {self.proc.poll()}):\n{self.text()}")

    def signal(self, sig: int = signal.SIGINT) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

    def kill(self) -> None:
        """For `finally:` blocks: kill it if it still runs (a failed test), and release its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stdout.closed:
            self._close()

    def text(self) -> str:
        return "--- stdout\n" + "\n".join(self.out) + "\n--- stderr\n" + "\n".join(self.err)

    @property
    def stdout(self) -> str:
        return "\n".join(self.out)

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)


def run_local(*args: str, env: dict) -> Process:
    return Process([str(REPO_ROOT / "bin" / "ecs" / "run-local"), *args], env)


def task_containers(client, **labels) -> list:
    """Containers (running or not) that bin/ecs/run-local created, optionally of one task."""
    wanted = [f"cruddur.run-local.{k}={v}" for k, v in labels.items()] or ["cruddur.run-local.task"]
    return client.containers.list(all=True, filters={"label": wanted})
