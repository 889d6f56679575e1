#!/usr/bin/env python3
"""A platform-style AMQP client for the simulator's connection rules (reference §1.1, §1.8).

    sim_login_peer.py HOST PORT CLIENT_ID ACCESS_KEY ACCESS_SECRET CONSUMER_GROUP --ca FILE
        [--receivers N] [--sender] [--heartbeat SECONDS] [--timeout SECONDS]

Logs in exactly as the official Python sample does (aksign username, HMAC-SHA1 password; see
platform_sample_consumer.py), then attaches ``--receivers`` receiver links on the one connection (0: none, to
test the attach deadline; 2: to test the one-link rule) with the sample's heartbeat unless ``--heartbeat``
says otherwise (0 announces no idle-time-out); ``--sender`` attaches a sender link instead (the platform only
pushes). Prints JSON lines: ``{"event":"opened","link":…}`` per link the
server attached, ``{"event":"error","where":"link"|"connection"|"transport","name":…,"description":…,
"elapsed":…}`` when the server refuses or closes something; stops after a connection error or the timeout.
"""

import argparse
import base64
import hashlib
import hmac
import time

from proton import SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container

from peerlib import emit


class Peer(MessagingHandler):
    def __init__(self, args):
        super(Peer, self).__init__(prefetch=10)
        self.args = args
        self.started = time.time()

    def elapsed(self):
        return round(time.time() - self.started, 2)

    def on_start(self, event):
        a = self.args
        timestamp = str(int(round(time.time() * 1000)))
        user = a.client_id + "|authMode=aksign,signMethod=hmacsha1,timestamp=" + timestamp + ",authId=" + a.access_key \
            + ",iotInstanceId=,consumerGroupId=" + a.consumer_group + "|"
        digest = hmac.new(a.access_secret.encode("utf-8"), ("authId=" + a.access_key + "&timestamp=" + timestamp).encode("utf-8"),
                          digestmod=hashlib.sha1).digest()
        password = base64.b64encode(digest).decode("ascii")
        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_trusted_ca_db(a.ca)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
        event.container.ssl.client = domain
        conn = event.container.connect("amqps://" + a.host + ":" + a.port, user=user, password=password,
                                       heartbeat=a.heartbeat if a.heartbeat > 0 else None,
                                       allowed_mechs="PLAIN", reconnect=False)
        if a.sender:
            event.container.create_sender(conn, "devices", name="sender-1")
        for index in range(0 if a.sender else a.receivers):
            event.container.create_receiver(conn, name="receiver-%d" % (index + 1))
        event.container.schedule(a.timeout, self)

    def on_timer_task(self, event):
        emit(dict(event="timeout", elapsed=self.elapsed()))
        event.container.stop()

    def on_link_opened(self, event):
        emit(dict(event="opened", link=event.link.name, elapsed=self.elapsed()))

    def on_link_error(self, event):
        cond = event.link.remote_condition
        emit(dict(event="error", where="link", link=event.link.name, name=cond.name if cond else None,
                  description=cond.description if cond else None, elapsed=self.elapsed()))

    def on_connection_error(self, event):
        cond = event.connection.remote_condition
        emit(dict(event="error", where="connection", name=cond.name if cond else None,
                  description=cond.description if cond else None, elapsed=self.elapsed()))
        event.container.stop()

    def on_transport_error(self, event):
        cond = event.transport.condition
        emit(dict(event="error", where="transport", name=cond.name if cond else None,
                  description=cond.description if cond else None, elapsed=self.elapsed()))
        event.container.stop()


def main():
    p = argparse.ArgumentParser()
    for name in ["host", "port", "client_id", "access_key", "access_secret", "consumer_group"]:
        p.add_argument(name)
    p.add_argument("--ca", required=True)
    p.add_argument("--receivers", type=int, default=1)
    p.add_argument("--sender", action="store_true")
    p.add_argument("--heartbeat", type=float, default=60)
    p.add_argument("--timeout", type=float, default=30)
    Container(Peer(p.parse_args())).run()


if __name__ == "__main__":
    main()
