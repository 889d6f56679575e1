#!/usr/bin/env python3
"""A loopback webhook that receives migration-status events (CloudEvents HTTP binding, structured mode).

    events_webhook.py PORT LOG_FILE

Listens on 127.0.0.1:PORT (0 = a free port) and prints ``{"event":"listening","port":P}``. A POST must carry
``Content-Type: application/cloudevents+json`` and an ``Idempotency-Key`` equal to the event's ``id`` (else 400);
its body is appended as one line to LOG_FILE (flushed) and the answer is 204.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerlib import emit

LOCK = threading.Lock()


def make_handler(log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not (self.headers.get("Content-Type") or "").startswith("application/cloudevents+json"):
                self.answer(400)
                return
            try:
                event = json.loads(body)
            except ValueError:
                self.answer(400)
                return
            if self.headers.get("Idempotency-Key") != event.get("id"):
                self.answer(400)
                return
            with LOCK:
                log.write(json.dumps(event, separators=(",", ":")) + "\n")
                log.flush()
            self.answer(204)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("log")
    args = parser.parse_args()
    log = open(args.log, "a")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(log))
    emit(dict(event="listening", port=server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
