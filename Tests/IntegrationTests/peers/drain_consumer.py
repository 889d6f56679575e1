#!/usr/bin/env python3
"""A consumer that grants no credit until told, then drains: for the listener's drain test.

    drain_consumer.py HOST PORT USER PASSWORD TRIGGER_FILE CREDIT [--ca FILE]

Logs in as a plain user, attaches a receiver with no source address and no credit (prefetch 0), prints
``{"event":"opened"}``. Once TRIGGER_FILE exists it calls ``receiver.drain(CREDIT)`` (credit with the drain flag,
AMQP 1.0 §2.6.7), prints each message (``{"event":"message","messageId":…}``, accepted), and prints
``{"event":"drained","received":N,"credit":C}`` when the sender's flow brings the credit back to 0 with nothing
in flight. It grants no further credit, so whatever it receives later was sent without credit.
"""

import argparse
import os

from proton import SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container

from peerlib import emit


class Drainer(MessagingHandler):
    def __init__(self, args):
        super(Drainer, self).__init__(prefetch=0, auto_accept=True)
        self.args = args
        self.draining = False
        self.received = 0
        self.reported = False

    def on_start(self, event):
        a = self.args
        if a.ca:
            domain = SSLDomain(SSLDomain.MODE_CLIENT)
            domain.set_trusted_ca_db(a.ca)
            domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
            event.container.ssl.client = domain
        url = ("amqps://" if a.ca else "amqp://") + a.host + ":" + a.port
        conn = event.container.connect(url, user=a.user, password=a.password, allowed_mechs="PLAIN",
                                       allow_insecure_mechs=True, reconnect=False)
        self.receiver = event.container.create_receiver(conn)
        event.container.schedule(0.2, self)

    def on_link_opened(self, event):
        emit(dict(event="opened"))

    def on_timer_task(self, event):
        if not self.draining and os.path.exists(self.args.trigger):
            self.draining = True
            self.receiver.drain(self.args.credit)
        event.container.schedule(0.2, self)

    def on_message(self, event):
        self.received += 1
        emit(dict(event="message", messageId=(event.message.properties or {}).get("messageId")))

    def on_link_flow(self, event):
        if self.draining and not self.reported and event.link.credit == 0:
            self.reported = True
            emit(dict(event="drained", received=self.received, credit=event.link.credit))

    def on_transport_error(self, event):
        cond = event.transport.condition
        emit(dict(event="error", name=cond.name if cond else None, description=cond.description if cond else None))


def main():
    p = argparse.ArgumentParser()
    for name in ["host", "port", "user", "password", "trigger"]:
        p.add_argument(name)
    p.add_argument("credit", type=int)
    p.add_argument("--ca")
    Container(Drainer(p.parse_args())).run()


if __name__ == "__main__":
    main()
