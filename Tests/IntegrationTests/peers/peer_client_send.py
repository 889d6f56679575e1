#!/usr/bin/python3
"""Send N platform-style messages to an AMQP 1.0 address, then report the outcomes.

An independent AMQP client (Apache Qpid Proton's Python API) for the iotbridge
integration tests: it connects with SASL PLAIN when the URL carries user:password
(ANONYMOUS otherwise), attaches one sender link and sends --count messages, each with
a data-section body and the application properties topic, messageId, generateTime.

Output (JSON lines on stdout):
  {"event":"connected", ...}            once the link is attached
  {"event":"done","sent":N,"accepted":A,"rejected":R,"released":L,"modified":M}
  {"event":"error","message":...}       on failure (exit 1) or timeout (exit 2)
Exits 0 only when every message was accepted.

Example:
  /usr/bin/python3 peer_client_send.py --url amqp://guest:guest@127.0.0.1:5672//queue/q1 --count 10
"""

import argparse
import sys

from proton.handlers import MessagingHandler
from proton.reactor import Container

import peerlib


class Sender(MessagingHandler):
    """Sends the messages as credit allows and counts the remote outcomes."""

    def __init__(self, args, target):
        super().__init__(auto_settle=True)
        self.args = args
        self.target = target
        self.sent = 0
        self.outcomes = dict(accepted=0, rejected=0, released=0, modified=0)
        self.error = None
        self.timed_out = False
        self.connection = None
        self.timer = None

    def on_start(self, event):
        options = dict(
            sasl_enabled=True,
            allow_insecure_mechs=True,
            idle_timeout=self.args.idle_timeout,
        )
        if self.target["user"] is not None:
            options.update(
                allowed_mechs="PLAIN",
                user=self.target["user"],
                password=self.target["password"] or "",
            )
        else:
            options.update(allowed_mechs="ANONYMOUS")
        self.connection = event.container.connect(self.target["server"], **options)
        event.container.create_sender(self.connection, self.target["address"])
        self.timer = event.container.schedule(self.args.timeout, self)

    def on_timer_task(self, event):
        self.timed_out = True
        self.error = "timeout after %ss: sent %d, settled %d" % (
            self.args.timeout, self.sent, self.settled())
        self._close()

    def on_link_opened(self, event):
        peerlib.emit(dict(event="connected", address=self.target["address"]))

    def on_sendable(self, event):
        sender = event.sender
        while sender.credit > 0 and self.sent < self.args.count:
            self.sent += 1
            sender.send(peerlib.platform_message(
                self.sent, self.args.body, self.args.topic, self.args.message_id_prefix))

    def settled(self):
        return sum(self.outcomes.values())

    def _count(self, outcome):
        self.outcomes[outcome] += 1
        if self.settled() >= self.args.count:
            self._close()

    def on_accepted(self, event):
        self._count("accepted")

    def on_rejected(self, event):
        self._count("rejected")

    def on_released(self, event):
        # proton reports both released and modified through on_released
        remote = event.delivery.remote_state
        self._count("modified" if remote == event.delivery.MODIFIED else "released")

    def _close(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def on_transport_error(self, event):
        self.error = "transport error: %s" % peerlib.condition_text(event.transport.condition)
        self._close()

    def on_connection_error(self, event):
        self.error = "connection closed by peer: %s" % peerlib.condition_text(
            event.connection.remote_condition)
        self._close()

    def on_link_error(self, event):
        self.error = "link closed by peer: %s" % peerlib.condition_text(event.link.remote_condition)
        self._close()

    def on_session_error(self, event):
        self.error = "session closed by peer: %s" % peerlib.condition_text(
            event.session.remote_condition)
        self._close()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Send N platform-style messages (data-section body; application "
                    "properties topic, messageId, generateTime) and report the outcomes "
                    "as JSON. Exit 0 when all were accepted, 1 on error, 2 on timeout.")
    parser.add_argument("--url", required=True,
                        help="amqp://[user:password@]host:port/ADDRESS; the address is the "
                             "path after the first slash, so RabbitMQ's /queue/NAME is "
                             "amqp://guest:guest@127.0.0.1:PORT//queue/NAME. With user:password "
                             "SASL PLAIN is used (also over plain TCP), else ANONYMOUS")
    parser.add_argument("--count", type=int, default=1, help="messages to send (default 1)")
    parser.add_argument("--body", default="hello from peer_client_send",
                        help="message body text, sent as UTF-8 bytes in a data section")
    parser.add_argument("--topic", default="/a1TestProduct/device1/user/update",
                        help="the topic application property")
    parser.add_argument("--message-id-prefix", default=None,
                        help="messageId = PREFIX + sequence (1..N); default: unique per run")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds until giving up (exit 2); default 30")
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="AMQP idle-time-out to announce, seconds (default 60)")
    args = parser.parse_args(argv)
    if args.message_id_prefix is None:
        args.message_id_prefix = peerlib.default_message_id_prefix()
    return args


def main(argv):
    args = parse_args(argv)
    try:
        target = peerlib.parse_amqp_url(args.url)
    except ValueError as error:
        peerlib.fail(str(error))
    handler = Sender(args, target)
    Container(handler).run()
    summary = dict(event="done", sent=handler.sent, **handler.outcomes)
    if handler.error is not None:
        summary["error"] = handler.error
    peerlib.emit(summary)
    if handler.timed_out:
        return peerlib.EXIT_TIMEOUT
    if handler.error is not None or handler.outcomes["accepted"] != args.count:
        return peerlib.EXIT_ERROR
    return peerlib.EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
