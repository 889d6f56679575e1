#!/usr/bin/python3
"""Receive N messages from an AMQP 1.0 address, accept each, print each as JSON.

An independent AMQP client (Apache Qpid Proton's Python API) for the iotbridge
integration tests: it connects with SASL PLAIN when the URL carries user:password
(ANONYMOUS otherwise), attaches one receiver link with a credit window (--credit)
and accepts every message after printing it.

Output (JSON lines on stdout):
  {"event":"connected", ...}            once the link is attached
  {"event":"message","topic":...,"messageId":...,"generateTime":...,"body":...,
   "bodyEncoding":"utf8"|"base64"|"json","bodySection":"data"|..., "properties":{...}}
  {"event":"done","received":N}
  {"event":"error","message":...}       on failure (exit 1) or timeout (exit 2)
Exits 0 when --count messages arrived.

Example:
  /usr/bin/python3 peer_client_receive.py --url amqp://guest:guest@127.0.0.1:5672//queue/q1 --count 10
"""

import argparse
import sys

from proton.handlers import MessagingHandler
from proton.reactor import Container, DurableSubscription

import peerlib


class Receiver(MessagingHandler):
    """Keeps --credit outstanding (never more than still wanted), accepts each message."""

    def __init__(self, args, target):
        # prefetch=0: we grant credit ourselves so we never take more than --count
        super().__init__(prefetch=0, auto_accept=False)
        self.args = args
        self.target = target
        self.received = 0
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
        # --durable: a durable source terminus, as RabbitMQ wants for a queue a durable sender declared.
        link_options = [DurableSubscription()] if self.args.durable else None
        receiver = event.container.create_receiver(self.connection, self.target["address"], options=link_options)
        self._top_up(receiver)
        self.timer = event.container.schedule(self.args.timeout, self)

    def _top_up(self, receiver):
        wanted = min(self.args.credit, self.args.count - self.received)
        if receiver.credit < wanted // 2 or receiver.credit == 0:
            receiver.flow(wanted - receiver.credit)

    def on_timer_task(self, event):
        self.timed_out = True
        self.error = "timeout after %ss: received %d of %d" % (
            self.args.timeout, self.received, self.args.count)
        self._close()

    def on_link_opened(self, event):
        peerlib.emit(dict(event="connected", address=self.target["address"]))

    def on_message(self, event):
        if self.received >= self.args.count:
            self.release(event.delivery, delivered=False)
            return
        self.received += 1
        peerlib.emit(peerlib.message_event(event.message, sequence=self.received))
        self.accept(event.delivery)
        if self.received >= self.args.count:
            self._close()
        else:
            self._top_up(event.receiver)

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
        description="Receive N messages, accept each and print each as a JSON line "
                    "(topic, messageId, generateTime, other properties, body). Exit 0 when "
                    "N arrived, 1 on error, 2 on timeout.")
    parser.add_argument("--url", required=True,
                        help="amqp://[user:password@]host:port/ADDRESS; the address is the "
                             "path after the first slash, so RabbitMQ's /queue/NAME is "
                             "amqp://guest:guest@127.0.0.1:PORT//queue/NAME. With user:password "
                             "SASL PLAIN is used (also over plain TCP), else ANONYMOUS")
    parser.add_argument("--count", type=int, default=1, help="messages to receive (default 1)")
    parser.add_argument("--durable", action="store_true",
                        help="attach with a durable source (RabbitMQ refuses a non-durable attach to a durable queue)")
    parser.add_argument("--credit", type=int, default=100,
                        help="credit window (link credit kept outstanding), default 100")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds until giving up (exit 2); default 30")
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="AMQP idle-time-out to announce, seconds (default 60)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.credit < 1:
        parser.error("--count and --credit must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        target = peerlib.parse_amqp_url(args.url)
    except ValueError as error:
        peerlib.fail(str(error))
    handler = Receiver(args, target)
    Container(handler).run()
    summary = dict(event="done", received=handler.received)
    if handler.error is not None:
        summary["error"] = handler.error
    peerlib.emit(summary)
    if handler.timed_out:
        return peerlib.EXIT_TIMEOUT
    if handler.error is not None or handler.received < args.count:
        return peerlib.EXIT_ERROR
    return peerlib.EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
