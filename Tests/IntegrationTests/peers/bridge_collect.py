#!/usr/bin/env python3
"""Drains the bridge's merged queue and reports what arrived.

    bridge_collect.py URL ADDRESS EXPECTED [--idle SECONDS] [--timeout SECONDS]

Accepts every message. Stops when EXPECTED distinct messageIds arrived and nothing more came for --idle seconds
(default 2), or after --timeout (default 120). Checks every message for the pass-through contract of
bridge_publish.py: the body, subject, content-type, and message-annotations unchanged, the application
properties with their AMQP types (int32, ulong, symbol, binary) and the added ``iotInstanceId``. Prints
``{"event":"collected","received":N,"distinct":D,"duplicates":X,"missing":M,"badSections":B,"instances":{...},
"firstBad":"..."}``.
"""

import argparse
import time

from proton import Terminus, symbol, ulong, int32
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption

from peerlib import emit, parse_amqp_url


def check(msg):
    props = msg.properties or {}
    mid = props.get("messageId")
    n = int(str(mid).lstrip("abcdefghijklmnopqrstuvwxyz"))
    expected_body = ('{"seq":%d,"t":%.1f}' % (n, 20 + (n % 100) / 10.0)).encode()
    problems = []
    if bytes(msg.body) != expected_body:
        problems.append("body")
    if msg.subject != "device-%d" % (n % 17):
        problems.append("subject")
    if msg.content_type != "application/json":
        problems.append("content-type")
    if not msg.durable:
        problems.append("durable")
    if type(props.get("seq32")) is not int32 or props.get("seq32") != n:
        problems.append("seq32 type %s" % type(props.get("seq32")).__name__)
    if type(props.get("seqU")) is not ulong or props.get("seqU") != n:
        problems.append("seqU type %s" % type(props.get("seqU")).__name__)
    if type(props.get("kind")) is not symbol:
        problems.append("kind type %s" % type(props.get("kind")).__name__)
    if props.get("raw") != b"\x00\x01\xff":
        problems.append("raw")
    if props.get("generateTime") != 1700000000000 + n:
        problems.append("generateTime")
    annotations = msg.annotations or {}
    if annotations.get(symbol("x-opt-origin")) != "publisher" or annotations.get(symbol("x-opt-seq")) != n:
        problems.append("annotations %r" % annotations)
    if not props.get("iotInstanceId"):
        problems.append("iotInstanceId missing")
    return mid, problems


class DurableSource(LinkOption):
    """A durable source terminus: RabbitMQ refuses a non-durable one on a durable queue."""

    def apply(self, link):
        link.source.durability = Terminus.DELIVERIES


class Collector(MessagingHandler):
    def __init__(self, args):
        super().__init__(prefetch=500)
        self.error = None
        self.args = args
        self.url = parse_amqp_url(args.url.rstrip("/") + "/x")
        self.seen = {}
        self.received = 0
        self.bad = 0
        self.first_bad = None
        self.instances = {}
        self.last = time.time()
        self.start = time.time()

    def on_start(self, event):
        conn = event.container.connect(
            self.url["server"], user=self.url["user"] or "guest", password=self.url["password"] or "guest",
            allowed_mechs="PLAIN"
        )
        event.container.create_receiver(conn, self.args.address, options=DurableSource())
        event.container.schedule(0.5, self)

    def on_message(self, event):
        self.received += 1
        self.last = time.time()
        mid, problems = check(event.message)
        self.seen[mid] = self.seen.get(mid, 0) + 1
        instance = (event.message.properties or {}).get("iotInstanceId")
        self.instances[instance] = self.instances.get(instance, 0) + 1
        if problems:
            self.bad += 1
            if self.first_bad is None:
                self.first_bad = "%s: %s" % (mid, ", ".join(problems))

    def on_link_error(self, event):
        self.error = str(event.link.remote_condition)
        emit(dict(event="error", message=self.error))
        event.container.stop()

    def on_timer_task(self, event):
        now = time.time()
        done = len(self.seen) >= self.args.expected and now - self.last >= self.args.idle
        if done or now - self.start > self.args.timeout:
            emit(dict(
                event="collected",
                received=self.received,
                distinct=len(self.seen),
                duplicates=self.received - len(self.seen),
                missing=max(0, self.args.expected - len(self.seen)),
                badSections=self.bad,
                firstBad=self.first_bad,
                instances=self.instances,
                seconds=round(now - self.start, 2),
            ))
            event.container.stop()
            return
        event.container.schedule(0.5, self)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("address")
    parser.add_argument("expected", type=int)
    parser.add_argument("--idle", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    Container(Collector(parser.parse_args())).run()


if __name__ == "__main__":
    main()
