#!/usr/bin/env python3
"""Publishes given messages the way the platform delivers them, for the migration-event tests.

    events_publish.py URL FILE

FILE holds one JSON object a line: {"address": "/queue/NAME", "topic": T, "messageId": ID, "payload": TEXT}. Each is
published durable, in file order, with the platform's application properties ``topic``/``messageId``/
``generateTime`` and the payload as a data section. Prints ``{"event":"published","sent":N}`` once every message
was accepted.
"""

import argparse
import json
import time

from proton import Message, Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption

from peerlib import emit, parse_amqp_url


class DurableTarget(LinkOption):
    def apply(self, link):
        link.target.durability = Terminus.DELIVERIES


class Publisher(MessagingHandler):
    def __init__(self, url, messages):
        super().__init__(auto_settle=True)
        self.url = parse_amqp_url(url.rstrip("/") + "/x")
        self.messages = messages
        self.senders = {}
        self.sent = 0
        self.accepted = set()

    def on_start(self, event):
        conn = event.container.connect(
            self.url["server"], user=self.url["user"] or "guest", password=self.url["password"] or "guest",
            allowed_mechs="PLAIN",
        )
        for item in self.messages:
            if item["address"] not in self.senders:
                self.senders[item["address"]] = event.container.create_sender(
                    conn, item["address"], options=DurableTarget()
                )

    def on_sendable(self, event):
        # One sender at a time, in file order: the order within each queue is the file's.
        while self.sent < len(self.messages):
            item = self.messages[self.sent]
            sender = self.senders[item["address"]]
            if sender.credit <= 0:
                return
            msg = Message(
                body=item["payload"].encode(),
                durable=True,
                properties={
                    "topic": item["topic"],
                    "messageId": item["messageId"],
                    "generateTime": int(time.time() * 1000),
                },
            )
            msg.inferred = True
            sender.send(msg, tag=str(self.sent))
            self.sent += 1

    def on_accepted(self, event):
        self.accepted.add(str(event.delivery.tag))
        if len(self.accepted) == len(self.messages):
            emit(dict(event="published", sent=len(self.messages)))
            event.connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("file")
    args = parser.parse_args()
    with open(args.file) as handle:
        messages = [json.loads(line) for line in handle if line.strip()]
    Container(Publisher(args.url, messages)).run()


if __name__ == "__main__":
    main()
