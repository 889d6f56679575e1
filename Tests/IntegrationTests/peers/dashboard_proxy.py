#!/usr/bin/env python3
"""A loopback HTTP relay in front of the bridge's HTTP port, for the dashboard test.

    dashboard_proxy.py TARGET_PORT [--delay SECONDS]

Listens on a free loopback port (prints {"event":"listening","port":N}) and relays every GET to
127.0.0.1:TARGET_PORT unchanged (status, headers, body). It changes nothing; it reports each relayed
request ({"event":"relayed","path":P,"status":S}), so the test knows the page in headless Chromium has polled
/status before it stops the bridge. Once the bridge does not answer, the relay closes the browser's connection
without a response ({"event":"refused","path":P}), which is what the browser sees from a stopped bridge.

--delay holds each request for SECONDS of real time before relaying it. Headless Chromium's --virtual-time-budget skips the page's
one-second waits between polls but not a pending request, so the delay spaces the polls out in real time and
the bridge's counters move between them, as they do between a real browser's polls.
"""

import argparse
import http.client
import http.server
import time

from peerlib import emit

parser = argparse.ArgumentParser()
parser.add_argument("target_port", type=int)
parser.add_argument("--delay", type=float, default=0.0)
ARGS = parser.parse_args()
TARGET_PORT = ARGS.target_port


class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        # Before asking the bridge, so the answer is as fresh as the bridge's.
        if ARGS.delay > 0:
            time.sleep(ARGS.delay)
        try:
            upstream = http.client.HTTPConnection("127.0.0.1", TARGET_PORT, timeout=10)
            upstream.request("GET", self.path)
            response = upstream.getresponse()
            body = response.read()
            headers = response.getheaders()
            upstream.close()
        except OSError:
            emit({"event": "refused", "path": self.path})
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        emit({"event": "relayed", "path": self.path, "status": response.status})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
emit({"event": "listening", "port": server.server_address[1]})
server.serve_forever()
