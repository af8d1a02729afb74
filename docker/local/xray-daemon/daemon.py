"""A stand-in for the AWS X-Ray daemon where its image cannot be pulled: the same port contract, nothing sent
to AWS. It receives segments on UDP (the SDKs' `{"format":"json","version":1}` header line, then the
segment), prints one line per segment (trace id, id, name), keeps the last 1,000, and answers on TCP at the
same address: `GET /segments` lists what it received; the daemon's sampling proxy calls
(`POST /GetSamplingRules`, `POST /SamplingTargets`) get empty answers. It accepts the daemon's flags
(-b/--bind, -t/--bind-tcp, -o, -n, -l, -r, -c, -f, -a); it exits 0 on SIGTERM.
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

RECEIVED: collections.deque = collections.deque(maxlen=1000)


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


def receive(sock: socket.socket) -> None:
    while True:
        data, _ = sock.recvfrom(65535)
        header, _, body = data.partition(b"\n")
        try:
            segment = json.loads(body)
        except ValueError:
            print(f"xray-daemon stand-in: dropped a datagram that is not a segment ({len(data)} bytes)", flush=True)
            continue
        record = {
            k: segment.get(k)
            for k in ("trace_id", "id", "name", "parent_id", "error", "fault")
            if segment.get(k) is not None
        }
        RECEIVED.append(record)
        print(
            f"xray-daemon stand-in: segment trace_id={record.get('trace_id')} id={record.get('id')} "
            f"name={record.get('name')}",
            flush=True,
        )


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, status: int, document) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/segments":
            self._answer(200, list(RECEIVED))
        else:
            self._answer(404, {"message": "GET /segments lists the segments received"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/GetSamplingRules":
            self._answer(200, {"SamplingRuleRecords": []})
        elif self.path == "/SamplingTargets":
            self._answer(200, {"SamplingTargetDocuments": [], "LastRuleModification": 0, "UnprocessedStatistics": []})
        else:
            self._answer(404, {"message": "not a sampling call"})

    def log_message(self, *args):
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xray-daemon stand-in", add_help=True)
    parser.add_argument("-b", "--bind", default="0.0.0.0:2000")
    parser.add_argument("-t", "--bind-tcp", default=None)
    for flag in (
        "-n",
        "-l",
        "-r",
        "-c",
        "-f",
        "-a",
        "--region",
        "--log-level",
        "--role-arn",
        "--config",
        "--log-file",
        "--resource-arn",
    ):
        parser.add_argument(flag, default=None)
    parser.add_argument("-o", "--local-mode", action="store_true")
    args, _ = parser.parse_known_args(argv)
    udp_address = address(args.bind)
    tcp_address = address(args.bind_tcp) if args.bind_tcp else udp_address
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(udp_address)
    server = http.server.ThreadingHTTPServer(tcp_address, Handler)
    threading.Thread(target=receive, args=(udp,), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(
        f"xray-daemon stand-in: receiving segments on {udp_address[0]}:{udp_address[1]}/udp, answering on "
        f"{tcp_address[0]}:{tcp_address[1]}/tcp (GET /segments); not the AWS X-Ray daemon: nothing goes to AWS",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
