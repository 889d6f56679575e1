#!/usr/bin/env python3
"""A loopback HTTP relay in front of the bridge's HTTP port, for the dashboard test.

    dashboard_proxy.py TARGET_PORT

Listens on a free loopback port (prints {"event":"listening","port":N}) and relays every GET to
127.0.0.1:TARGET_PORT unchanged (status, headers, body). It changes nothing; it only reports each relayed
request ({"event":"relayed","path":P,"status":S}), so the test knows the page in headless Chromium has polled
/status before it stops the bridge. Once the bridge does not answer, the relay closes the browser's connection
without a response ({"event":"refused","path":P}), which is what the browser sees from a stopped bridge.
"""

import http.client
import http.server
import sys

from peerlib import emit

TARGET_PORT = int(sys.argv[1])


class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
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
