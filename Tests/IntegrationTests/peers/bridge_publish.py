#!/usr/bin/env python3
"""Fills two queues the way two IoT platform instances deliver one consumer group's stream during a migration.

    bridge_publish.py URL SOURCE_ADDRESS TARGET_ADDRESS COUNT [--overlap 0.2] [--redeliver 0.01] [--prefix P]
                      [--rate N] [--declare ADDRESS]... [--large-every K --large-size B]

Messages 0..COUNT-1 get the string messageId PREFIX<n>. Message n goes to SOURCE when n % 2 == 0, to TARGET
otherwise; an ``--overlap`` share of them goes to BOTH queues (the same messageId, topic and body: data
synchronisation delivers the same message on both instances), and a ``--redeliver`` share is published twice to
its own queue (the platform re-sends until acked). Every message is durable and carries, besides the platform's
``topic``/``messageId``/``generateTime``, sections the bridge must pass through unchanged: message-annotations,
a subject, a content-type, typed application properties (int, ulong, symbol, timestamp-like long, binary). The queues (and every --declare ADDRESS) are declared durable. With ``--large-every K``, every K-th message
(n % K == K - 1) gets a body of ``--large-size`` bytes (the JSON padded with a ``pad`` field). Prints ``{"event":"published","messages":COUNT,"sent":N,"overlap":K}`` at the end.
"""

import argparse
import time

from proton import Message, Terminus, symbol, ulong, int32
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption

from peerlib import emit, fail, parse_amqp_url


def make_message(prefix, n, large_every=0, large_size=0):
    message_id = "%s%d" % (prefix, n)
    body = ('{"seq":%d,"t":%.1f}' % (n, 20 + (n % 100) / 10.0)).encode()
    if large_every and n % large_every == large_every - 1:
        head = body[:-1] + b',"pad":"'
        body = head + b"x" * max(0, large_size - len(head) - 2) + b'"}'
    msg = Message(
        body=body,
        durable=True,
        subject="device-%d" % (n % 17),
        content_type="application/json",
        properties={
            "topic": "/a1Prod/dev%d/user/update" % (n % 17),
            "messageId": message_id,
            "generateTime": 1700000000000 + n,
            "seq32": int32(n),
            "seqU": ulong(n),
            "kind": symbol("telemetry"),
            "raw": b"\x00\x01\xff",
        },
        annotations={symbol("x-opt-origin"): "publisher", symbol("x-opt-seq"): ulong(n)},
    )
    msg.inferred = True
    return msg


class DurableTarget(LinkOption):
    """A durable target terminus: RabbitMQ's AMQP 1.0 plugin then declares /queue/NAME as a durable queue (it
    declares a transient one otherwise, which a broker restart deletes with its messages)."""

    def apply(self, link):
        link.target.durability = Terminus.DELIVERIES


class Publisher(MessagingHandler):
    def __init__(self, args):
        super().__init__(auto_settle=True)
        self.args = args
        self.url = parse_amqp_url(args.url.rstrip("/") + "/x")
        plan = []
        overlap_every = int(round(1 / args.overlap)) if args.overlap > 0 else 0
        redeliver_every = int(round(1 / args.redeliver)) if args.redeliver > 0 else 0
        overlap = 0
        for n in range(args.count):
            home = 0 if n % 2 == 0 else 1
            plan.append((home, n))
            if overlap_every and n % overlap_every == 0:
                plan.append((1 - home, n))
                overlap += 1
            if redeliver_every and n % redeliver_every == 3:
                plan.append((home, n))
        self.plan = plan
        self.overlap = overlap
        self.next = 0
        self.accepted = set()
        self.senders = []
        self.timer_pending = False

    def on_start(self, event):
        conn = event.container.connect(
            self.url["server"], user=self.url["user"] or "guest", password=self.url["password"] or "guest",
            allowed_mechs="PLAIN"
        )
        self.senders = [
            event.container.create_sender(conn, self.args.source, options=DurableTarget()),
            event.container.create_sender(conn, self.args.target, options=DurableTarget()),
        ]
        for address in self.args.declare:
            event.container.create_sender(conn, address, options=DurableTarget())
        self.start = time.time()

    def on_sendable(self, event):
        self.send_more(event.container)

    def send_more(self, container):
        """Sends what credit and the rate allow; a timer resumes a rate-limited run."""
        while self.next < len(self.plan):
            which, n = self.plan[self.next]
            sender = self.senders[which]
            if sender.credit <= 0:
                return
            if self.args.rate and self.next >= (time.time() - self.start) * self.args.rate:
                if not self.timer_pending:
                    self.timer_pending = True
                    container.schedule(0.01, self)
                return
            sender.send(make_message(self.args.prefix, n, self.args.large_every, self.args.large_size), tag=str(self.next))
            self.next += 1

    def on_timer_task(self, event):
        self.timer_pending = False
        self.send_more(event.container)

    def on_accepted(self, event):
        # Counted by delivery tag: Proton may report an outcome more than once for one delivery.
        self.accepted.add(str(event.delivery.tag))
        if self.next == len(self.plan) and len(self.accepted) == len(self.plan):
            emit(dict(event="published", messages=self.args.count, sent=len(self.plan), overlap=self.overlap))
            event.connection.close()

    def on_rejected(self, event):
        fail("broker rejected a message")

    def on_transport_error(self, event):
        fail("transport error: %s" % event.transport.condition)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("count", type=int)
    parser.add_argument("--overlap", type=float, default=0.2)
    parser.add_argument("--redeliver", type=float, default=0.01)
    parser.add_argument("--prefix", default="m")
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--declare", action="append", default=[], help="another queue to declare durable")
    parser.add_argument("--large-every", type=int, default=0, help="every K-th message gets a large body")
    parser.add_argument("--large-size", type=int, default=0, help="the large bodies' size in bytes")
    Container(Publisher(parser.parse_args())).run()


if __name__ == "__main__":
    main()
