"""The alert sink: Alertmanager's webhook receiver. Each notification becomes one JSON line in a
log file, and GET /alerts lists what arrived (newest last), so a person or a test can see it."""

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(log_file: Path):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - the http.server API
            if self.path != "/alerts":
                return self._reply(404, b'{"error":"not found"}')
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with log_file.open("a") as out:
                out.write(json.dumps({"received": time.time(), **payload}) + "\n")
            return self._reply(200, b'{"ok":true}')

        def do_GET(self):  # noqa: N802
            if self.path == "/healthz":
                return self._reply(200, b'{"status":"ok"}')
            if self.path == "/alerts":
                lines = log_file.read_text().splitlines() if log_file.exists() else []
                return self._reply(200, json.dumps([json.loads(line) for line in lines]).encode())
            return self._reply(404, b'{"error":"not found"}')

        def log_message(self, *args):  # quiet: the JSON lines are the log
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9095)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    ThreadingHTTPServer((args.host, args.port), make_handler(args.log)).serve_forever()


if __name__ == "__main__":
    main()
