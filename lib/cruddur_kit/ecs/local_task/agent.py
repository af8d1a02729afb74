"""The task's pause container: it owns the task's network namespace (every container of the task joins it,
as the ECS agent's ~internal~ecs~pause container does for awsvpc), and serves two things inside it:

- loopback relays: 127.0.0.1:PORT in the task forwards to the host's relay on the bridge gateway, which
  forwards to the host's 127.0.0.1:PORT, so the settings of the local stack (127.0.0.1:5432, the emulator
  on 127.0.0.1:4566 ...) mean inside the task what they mean on the host;
- the task's credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI, with a token), as ECS serves the
  task role's credentials: the credentials never appear in a container's environment.

Standard library only. Its configuration arrives as one JSON line on stdin (never argv or env, which
`docker inspect` shows); it prints `task-agent: ready` when everything listens, and exits 0 on SIGTERM.
"""

from __future__ import annotations

import http.server
import json
import signal
import sys
import threading

try:
    from relay import Relay  # in the task-agent image: relay.py beside this file
except ImportError:
    from .relay import Relay


def credentials_server(port: int, token: str, document: dict) -> http.server.ThreadingHTTPServer:
    body = json.dumps(document).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == token
            payload = body if ok else b'{"message":"bad or missing authorization token"}'
            self.send_response(200 if ok else 403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    line = sys.stdin.readline()
    config = json.loads(line) if line.strip() else {}
    relays = []
    for r in config.get("relays", []):
        for host in ("127.0.0.1", "::1"):
            try:
                relays.append(Relay((host, r["port"]), (r["host"], r["host_port"])).start())
            except OSError as e:
                if host == "127.0.0.1":  # ::1 is optional: IPv6 may be off in the namespace
                    print(f"task-agent: cannot listen on 127.0.0.1:{r['port']}: {e}", flush=True)
                    return 1
    creds = config.get("credentials")
    if creds:
        credentials_server(creds["port"], creds["token"], creds["document"])
    ports = sorted({r["port"] for r in config.get("relays", [])})
    served = f"on 127.0.0.1:{creds['port']}" if creds else "none"
    print(f"task-agent: ready (relays {', '.join(map(str, ports)) or 'none'}; credentials {served})", flush=True)
    stop.wait()
    for relay in relays:
        relay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
