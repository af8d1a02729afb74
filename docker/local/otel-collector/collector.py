"""A stand-in for the OpenTelemetry Collector where its image cannot be pulled: the same port contract as
docker/otel-collector/config.yaml's receivers, nothing exported. OTLP/HTTP on 4318 (`POST /v1/traces`,
`/v1/metrics`, `/v1/logs` answered 200 with an empty protobuf body, one line printed per request with its
size) and a TCP listener on 4317 that accepts and closes (no gRPC). Accepts --config=FILE (read, not
interpreted). `GET /received` answers how many requests of each kind arrived. Exits 0 on SIGTERM.
"""

from __future__ import annotations

import argparse
import collections
import http.server
import json
import signal
import socket
import sys
import threading

COUNTS: collections.Counter = collections.Counter()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.path.rsplit("/", 1)[-1]
        if self.path not in ("/v1/traces", "/v1/metrics", "/v1/logs"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        COUNTS[kind] += 1
        print(
            f"otel-collector stand-in: {self.path} {len(body)} bytes "
            f"({self.headers.get('Content-Type')}, {self.headers.get('Content-Encoding') or 'identity'})",
            flush=True,
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        body = json.dumps(dict(COUNTS)).encode()
        self.send_response(200 if self.path == "/received" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def accept_and_close(port: int) -> None:
    server = socket.create_server(("0.0.0.0", port))
    while True:
        conn, _ = server.accept()
        conn.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="otel-collector stand-in")
    parser.add_argument("--config", default=None)
    args, _ = parser.parse_known_args(argv)
    if args.config:
        open(args.config).close()  # the real collector fails on a missing config file; so does this one
    http_server = http.server.ThreadingHTTPServer(("0.0.0.0", 4318), Handler)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    threading.Thread(target=accept_and_close, args=(4317,), daemon=True).start()
    print(
        "otel-collector stand-in: OTLP/HTTP on 0.0.0.0:4318, TCP (no gRPC) on 0.0.0.0:4317; exports nothing", flush=True
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
