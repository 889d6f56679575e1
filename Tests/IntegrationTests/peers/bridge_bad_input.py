#!/usr/bin/env python3
"""Puts good and bad platform messages into one queue, for the bridge's bad-input test.

    bridge_bad_input.py URL ADDRESS GOOD

GOOD good messages (messageId g<n>, topic /a1Prod/dev<n>/user/update, JSON body {"seq":n}), interleaved with four
bad ones, each with its own messageId:
  bad-json     a body that is not JSON on a topic whose rule reads JSON
  bad-big      a 10 MB body (above the bridge's default limits.maxMessageSize of 1 MiB)
  bad-notopic  no topic property (no rule can match it)
  bad-utf8     a topic whose bytes are not valid UTF-8 (sent as raw encoded bytes: no library writes such a string)
The queue is declared durable. Prints {"event":"published","good":GOOD,"bad":4} when the broker accepted everything.
"""

import sys

from proton import Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

from bridge_publish import DurableTarget

from peerlib import emit, fail, parse_amqp_url


def message(message_id, body, topic="/a1Prod/dev1/user/update"):
    properties = {"messageId": message_id, "generateTime": 1700000000000}
    if topic is not None:
        properties["topic"] = topic
    msg = Message(body=body, durable=True, properties=properties)
    msg.inferred = True
    return msg


def invalid_utf8_topic():
    """A message whose topic string holds bytes that are not UTF-8: encode a placeholder, then patch its bytes."""
    placeholder = "/a1Prod/devX/user/ZZZZ"
    encoded = message("bad-utf8", b'{"seq":-1}', topic=placeholder).encode()
    return encoded.replace(b"ZZZZ", b"\xff\xfe\xc3\x28")


class Publisher(MessagingHandler):
    def __init__(self, url, address, good):
        super().__init__(auto_settle=True)
        self.url = parse_amqp_url(url.rstrip("/") + "/x")
        self.address = address
        self.items = []
        for n in range(good):
            self.items.append(message("g%d" % n, ('{"seq":%d}' % n).encode(), "/a1Prod/dev%d/user/update" % (n % 5)))
            if n == good // 5:
                self.items.append(message("bad-json", b"this is not JSON"))
            if n == 2 * good // 5:
                self.items.append(message("bad-big", b"x" * (10 * 1024 * 1024)))
            if n == 3 * good // 5:
                self.items.append(message("bad-notopic", b'{"seq":-1}', topic=None))
            if n == 4 * good // 5:
                self.items.append(invalid_utf8_topic())
        self.good = good
        self.next = 0
        self.accepted = set()

    def on_start(self, event):
        conn = event.container.connect(
            self.url["server"], user=self.url["user"] or "guest", password=self.url["password"] or "guest",
            allowed_mechs="PLAIN", max_frame_size=65536
        )
        event.container.create_sender(conn, self.address, options=DurableTarget())

    def on_sendable(self, event):
        while event.sender.credit > 0 and self.next < len(self.items):
            item = self.items[self.next]
            tag = str(self.next)
            if isinstance(item, bytes):
                delivery = event.sender.delivery(tag)
                event.sender.stream(item)
                event.sender.advance()
            else:
                event.sender.send(item, tag=tag)
            self.next += 1

    def on_accepted(self, event):
        self.accepted.add(str(event.delivery.tag))
        if len(self.accepted) == len(self.items):
            emit(dict(event="published", good=self.good, bad=4))
            event.connection.close()

    def on_rejected(self, event):
        fail("the broker rejected message %s" % event.delivery.tag)


def main():
    if len(sys.argv) != 4:
        fail("usage: bridge_bad_input.py URL ADDRESS GOOD")
    Container(Publisher(sys.argv[1], sys.argv[2], int(sys.argv[3]))).run()


if __name__ == "__main__":
    main()
