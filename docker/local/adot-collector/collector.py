"""A stand-in for the AWS Distro for OpenTelemetry collector where its image cannot be pulled: the port contract
of aws/otel/adot-collector.yaml, nothing sent anywhere.

- awsxray receiver: X-Ray SDK segments on 2000/udp (the `{"format":"json","version":1}` header line, then the
  segment), one line printed per segment (trace id, id, name), the last 1,000 kept; on 2000/tcp the receiver's
  sampling proxy (`POST /GetSamplingRules`, `POST /SamplingTargets`, empty answers) and `GET /segments`.
- otlp receiver: OTLP/HTTP on 4318 (`POST /v1/traces|metrics|logs` answered 200, one line each; `GET /received`
  counts them); 4317 accepts TCP and closes (no gRPC).
- health_check extension: `GET /` on 13133 answers 200 once every receiver listens (the image's /healthcheck
  asks there).

Its configuration comes as the ADOT image takes it: AOT_CONFIG_CONTENT, else --config=FILE; with neither it stops
(the real image would run its built-in ECS configuration, which this stand-in does not have). The configuration is
read, not interpreted: it prints the exporters it names and whether each ${env:NAME} it reads is set (never a
value). Exits 0 on SIGTERM.
"""

from __future__ import annotations

import argparse
import collections
import http.server
import json
import os
import re
import signal
import socket
import sys
import threading

SEGMENTS: collections.deque = collections.deque(maxlen=1000)
OTLP: collections.Counter = collections.Counter()
READY = threading.Event()


def say(line: str) -> None:
    print(f"adot-collector stand-in: {line}", flush=True)


def receive_segments(sock: socket.socket) -> None:
    while True:
        data, _ = sock.recvfrom(65535)
        _, _, body = data.partition(b"\n")
        try:
            segment = json.loads(body)
        except ValueError:
            say(f"dropped a datagram that is not a segment ({len(data)} bytes)")
            continue
        record = {
            k: segment.get(k)
            for k in ("trace_id", "id", "name", "parent_id", "error", "fault")
            if segment.get(k) is not None
        }
        SEGMENTS.append(record)
        say(f"segment trace_id={record.get('trace_id')} id={record.get('id')} name={record.get('name')}")


class JsonHandler(http.server.BaseHTTPRequestHandler):
    def answer(self, status: int, document=None, body: bytes | None = None, kind="application/json") -> None:
        body = json.dumps(document).encode() if body is None else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class XRayProxy(JsonHandler):
    """2000/tcp: the awsxray receiver's sampling proxy, and the stand-in's own GET /segments."""

    def do_GET(self):
        if self.path.split("?")[0] == "/segments":
            self.answer(200, list(SEGMENTS))
        else:
            self.answer(404, {"message": "GET /segments lists the segments received"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/GetSamplingRules":
            self.answer(200, {"SamplingRuleRecords": []})
        elif self.path == "/SamplingTargets":
            self.answer(200, {"SamplingTargetDocuments": [], "LastRuleModification": 0, "UnprocessedStatistics": []})
        else:
            self.answer(404, {"message": "not a sampling call"})


class OtlpHttp(JsonHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path not in ("/v1/traces", "/v1/metrics", "/v1/logs"):
            self.answer(404, body=b"")
            return
        OTLP[self.path.rsplit("/", 1)[-1]] += 1
        say(
            f"otlp {self.path} {len(body)} bytes ({self.headers.get('Content-Type')}, "
            f"{self.headers.get('Content-Encoding') or 'identity'})"
        )
        self.answer(200, body=b"", kind="application/x-protobuf")

    def do_GET(self):
        self.answer(200 if self.path == "/received" else 404, dict(OTLP))


class HealthCheck(JsonHandler):
    def do_GET(self):
        if READY.is_set():
            self.answer(200, {"status": "Server available"})
        else:
            self.answer(503, {"status": "Server not available"})


def accept_and_close(server: socket.socket) -> None:
    while True:
        conn, _ = server.accept()
        conn.close()


def configuration(argv: list[str]) -> tuple[str, str]:
    parser = argparse.ArgumentParser(prog="adot-collector stand-in")
    parser.add_argument("--config", default=None)
    args, _ = parser.parse_known_args(argv)
    if os.environ.get("AOT_CONFIG_CONTENT"):
        return os.environ["AOT_CONFIG_CONTENT"], "AOT_CONFIG_CONTENT"
    if args.config:
        with open(args.config) as f:  # the real collector fails on a missing config file; so does this one
            return f.read(), args.config
    raise SystemExit(
        "adot-collector stand-in: no configuration: set AOT_CONFIG_CONTENT or pass --config=FILE "
        "(the real image's built-in ECS configuration is not part of this stand-in)"
    )


def main(argv: list[str]) -> int:
    text, source = configuration(argv)
    exporters = sorted(
        set(re.findall(r"^\s{2}([A-Za-z0-9_/]+):", text.split("exporters:", 1)[-1].split("\nservice:", 1)[0], re.M))
    )
    say(
        f"configuration from {source} ({len(text)} bytes); exporters named: {', '.join(exporters) or 'none'} "
        "(nothing is exported here)"
    )
    for name in sorted(set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", text))):
        say(f"${{env:{name}}} is {'set (value not printed)' if os.environ.get(name) else 'NOT set'}")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", 2000))
    servers = [
        http.server.ThreadingHTTPServer(("0.0.0.0", 2000), XRayProxy),
        http.server.ThreadingHTTPServer(("0.0.0.0", 4318), OtlpHttp),
        http.server.ThreadingHTTPServer(("127.0.0.1", 13133), HealthCheck),
    ]
    grpc = socket.create_server(("0.0.0.0", 4317))
    threading.Thread(target=receive_segments, args=(udp,), daemon=True).start()
    threading.Thread(target=accept_and_close, args=(grpc,), daemon=True).start()
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    READY.set()
    say(
        "awsxray on 0.0.0.0:2000/udp (sampling proxy and GET /segments on 2000/tcp), OTLP/HTTP on 0.0.0.0:4318, "
        "TCP (no gRPC) on 0.0.0.0:4317, health_check on 127.0.0.1:13133; not the ADOT collector: nothing goes to "
        "AWS or Honeycomb"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
