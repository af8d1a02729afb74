"""The log line writer: whole lines, in order, nothing lost on a graceful stop, backpressure when full."""

from __future__ import annotations

import json
import threading

from cruddur.telemetry.logs import LineWriter

THREADS, LINES_EACH = 8, 500


def test_background_lines_are_whole_in_order_and_flushed_on_stop(capfd):
    writer = LineWriter()
    writer.start()

    def write(worker: int) -> None:
        for n in range(LINES_EACH):
            writer.write(json.dumps({"worker": worker, "n": n, "pad": "x" * 200}) + "\n")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    out, _ = capfd.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]  # a torn line would not parse
    assert len(lines) == THREADS * LINES_EACH
    for worker in range(THREADS):
        assert [x["n"] for x in lines if x["worker"] == worker] == list(range(LINES_EACH))


def test_after_stop_lines_are_written_at_once(capfd):
    writer = LineWriter()
    writer.start()
    writer.stop()
    writer.write("after\n")
    assert capfd.readouterr().out == "after\n"


def test_a_full_queue_makes_the_caller_write_itself(capfd):
    writer = LineWriter()
    writer.MAX_QUEUED = 0  # stdout "not keeping up": every line is over the limit
    writer.start()
    try:
        writer.write("now\n")
        assert capfd.readouterr().out == "now\n"  # written before any batch could have been
    finally:
        writer.stop()
