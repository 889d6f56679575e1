#!/usr/bin/env python3
"""A loopback webhook for the bridge tests (stdlib only).

    webhook_server.py PORT LOG_FILE [--fail-file PATH]

Listens on 127.0.0.1:PORT (0 = a free port) and prints ``{"event":"listening","port":P}``. Each POST is parsed
as the bridge's JSON envelope; its messageId is appended as one line to LOG_FILE (flushed) and the answer is 204.
While PATH (``--fail-file``) exists, every POST is answered 500 and nothing is logged, so a test switches the
failure on and off by creating and removing a file. The ``Idempotency-Key`` header must equal the messageId,
else the answer is 400.
"""

import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerlib import emit

LOCK = threading.Lock()


def make_handler(log, fail_file):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if fail_file and os.path.exists(fail_file):
                self.answer(500)
                return
            try:
                envelope = json.loads(body)
            except ValueError:
                self.answer(400)
                return
            message_id = envelope.get("messageId")
            if message_id is None or self.headers.get("Idempotency-Key") != message_id:
                self.answer(400)
                return
            with LOCK:
                log.write(message_id + "\n")
                log.flush()
            self.answer(204)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("log")
    parser.add_argument("--fail-file")
    args = parser.parse_args()
    log = open(args.log, "a")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(log, args.fail_file))
    emit(dict(event="listening", port=server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
