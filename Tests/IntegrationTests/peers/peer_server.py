#!/usr/bin/python3
"""A peer AMQP 1.0 server (Apache Qpid Proton's Python API) for iotbridge's client tests.

It listens on 127.0.0.1:PORT and accepts SASL ANONYMOUS (Debian's proton 0.37 is built
without Cyrus SASL, so a Python server cannot check PLAIN; clients that offer PLAIN
fail authentication).
  - A client that attaches a RECEIVER link is sent --send N platform-style messages on
    it (data-section body --body; application properties topic, messageId,
    generateTime; messageIds PREFIX1..PREFIXN, the same on every link, like a
    redelivery). Each remote outcome is printed. With --presettle they are sent
    pre-settled (at-most-once): no outcome comes back, and the goal counts them sent.
    With --null-source the attach answering such a link carries a null source terminus
    (some servers do that and then simply send); --refuse-receivers CONDITION answers
    with a null source and at once detaches with CONDITION, as a refusing peer does.
  - A client that attaches a SENDER link gets credit; each message it sends is printed
    as a JSON line and settled with --disposition (accept by default; --reject-at N rejects the
    Nth one, as a broker refusing one message in a stream does).

Output (JSON lines on stdout):
  {"event":"listening","port":P}                                 once ready
  {"event":"connection-opened"|"connection-closed","connection":K}
  {"event":"link-opened","role":"sender"|"receiver","address":...}  (our role)
  {"event":"message", "topic":..., "messageId":..., "generateTime":..., "body":...}
  {"event":"outcome","messageId":...,"outcome":"accepted"|"rejected"|"released"|"modified"}
  {"event":"done","received":R,"sent":S,"accepted":A,...}        at exit
  {"event":"error","message":...}                                on error (exit 1)
Goals: --count N (messages received) and --send N (that many of our messages settled
by clients). When all given goals are met it waits up to 2 s for clients to close and
exits 0. Without goals it serves until SIGTERM/SIGINT (exit 0) or --timeout (exit 0).
With goals, --timeout exits 2.

Examples:
  /usr/bin/python3 peer_server.py --port 5673 --count 10
  /usr/bin/python3 peer_server.py --port 5673 --send 100 --body '{"temp":21.5}' --timeout 30
"""

import argparse
import signal
import sys

from proton import Condition, Delivery, Link, Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container

import peerlib

GRACE_SECONDS = 2.0


class Server(MessagingHandler):
    """Serves both link directions and tracks the goals."""

    def __init__(self, args):
        super().__init__(prefetch=args.credit, auto_accept=False, auto_settle=True)
        self.args = args
        self.received = 0
        self.sent = 0
        self.outcomes = dict(accepted=0, rejected=0, released=0, modified=0)
        self.sent_on_link = {}
        self.connections = set()
        self.next_connection_id = 0
        self.container = None
        self.acceptor = None
        self.timer = None
        self.done = False
        self.timed_out = False
        self.error = None

    # --- lifecycle ------------------------------------------------------------
    def on_start(self, event):
        self.container = event.container
        try:
            self.acceptor = event.container.listen("%s:%d" % (self.args.host, self.args.port))
        except OSError as error:
            self.error = "cannot listen on %s:%d: %s" % (self.args.host, self.args.port, error)
            event.container.stop()
            return
        peerlib.emit(dict(event="listening", host=self.args.host, port=self._bound_port()))
        if self.args.timeout is not None:
            self.timer = event.container.schedule(self.args.timeout, self)
        self._check_goals()

    def _bound_port(self):
        try:
            return self.acceptor._selectable._delegate.getsockname()[1]
        except (AttributeError, OSError):
            return self.args.port

    def on_timer_task(self, event):
        if self.done:  # grace period over
            self._stop()
            return
        if self._has_goals():
            self.timed_out = True
            self.error = "timeout after %ss" % self.args.timeout
        self._stop()

    def _has_goals(self):
        return self.args.count is not None or self.args.send is not None

    def _goals_met(self):
        if not self._has_goals():
            return False
        received_ok = self.args.count is None or self.received >= self.args.count
        if self.args.presettle:
            settled_ok = self.args.send is None or self.sent >= self.args.send
        else:
            settled_ok = self.args.send is None or sum(self.outcomes.values()) >= self.args.send
        return received_ok and settled_ok

    def _check_goals(self):
        if self.done or not self._goals_met():
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        if not self.connections:
            self._stop()
        else:
            self.timer = self.container.schedule(GRACE_SECONDS, self)

    def _stop(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.acceptor is not None:
            self.acceptor.close()
            self.acceptor = None
        if self.container is not None:
            self.container.stop()

    def stop_on_signal(self):
        """Called from the signal handler: ends the event loop."""
        self._stop()

    # --- connections ----------------------------------------------------------
    def on_connection_bound(self, event):
        sasl = event.transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")
        if self.args.idle_timeout:
            event.transport.idle_timeout = self.args.idle_timeout

    def on_connection_opening(self, event):
        self.next_connection_id += 1
        event.connection.peer_id = self.next_connection_id
        self.connections.add(event.connection)
        peerlib.emit(dict(event="connection-opened", connection=self._cid(event.connection),
                          container=event.connection.remote_container))

    def _cid(self, connection):
        return getattr(connection, "peer_id", None)

    def on_connection_closed(self, event):
        self._forget(event.connection, "connection-closed")

    def on_transport_closed(self, event):
        if event.connection is not None:
            self._forget(event.connection, "connection-closed")

    def _forget(self, connection, what):
        if connection in self.connections:
            self.connections.discard(connection)
            peerlib.emit(dict(event=what, connection=self._cid(connection)))
        if self.done and not self.connections:
            self._stop()

    def on_transport_error(self, event):
        condition = event.transport.condition
        peerlib.emit(dict(event="transport-error", message=peerlib.condition_text(condition)))

    # --- links ----------------------------------------------------------------
    def on_link_opening(self, event):
        link = event.link
        if link.is_sender:
            address = link.remote_source.address
            if self.args.null_source or self.args.refuse_receivers:
                link.source.type = Terminus.UNSPECIFIED  # encoded as a null source in our attach
            else:
                link.source.copy(link.remote_source)
            if self.args.presettle:
                link.snd_settle_mode = Link.SND_SETTLED  # Message.send then settles before the transfer goes out
        else:
            link.target.copy(link.remote_target)
            address = link.remote_target.address
        link.open()
        if link.is_sender and self.args.refuse_receivers:
            # Closed from a timer, not here: Proton writes an attach and a close made in the same pass as the
            # attach alone (the detach would wait for the next change to the link, i.e. the client's own detach).
            self.container.schedule(0, _Refusal(link, self.args.refuse_receivers))
            peerlib.emit(dict(event="link-refused", address=address, link=link.name,
                              condition=self.args.refuse_receivers))
            return
        peerlib.emit(dict(event="link-opened", role="sender" if link.is_sender else "receiver",
                          address=address, link=link.name, connection=self._cid(link.connection),
                          nullSource=bool(link.is_sender and self.args.null_source)))

    def on_link_closed(self, event):
        peerlib.emit(dict(event="link-closed", link=event.link.name,
                          condition=peerlib.condition_text(event.link.remote_condition)))

    def on_sendable(self, event):
        if self.args.send is None:
            return
        sender = event.sender
        sent = self.sent_on_link.get(sender, 0)
        while sender.credit > 0 and sent < self.args.send:
            sent += 1
            self.sent += 1
            delivery = sender.send(peerlib.platform_message(
                sent, self.args.body, self.args.topic, self.args.message_id_prefix))
            delivery.peer_message_id = "%s%d" % (self.args.message_id_prefix, sent)
        self.sent_on_link[sender] = sent
        self._check_goals()

    def _outcome(self, event, outcome):
        self.outcomes[outcome] += 1
        peerlib.emit(dict(event="outcome", outcome=outcome,
                          messageId=getattr(event.delivery, "peer_message_id", None)))
        self._check_goals()

    def on_accepted(self, event):
        self._outcome(event, "accepted")

    def on_rejected(self, event):
        self._outcome(event, "rejected")

    def on_released(self, event):
        modified = event.delivery.remote_state == Delivery.MODIFIED
        self._outcome(event, "modified" if modified else "released")

    def on_message(self, event):
        self.received += 1
        peerlib.emit(peerlib.message_event(event.message, sequence=self.received,
                                           connection=self._cid(event.connection)))
        disposition = self.args.disposition
        if self.received in self.args.reject_at:
            disposition = "reject"
        if disposition == "accept":
            self.accept(event.delivery)
        elif disposition == "reject":
            self.reject(event.delivery)
        elif disposition == "release":
            self.release(event.delivery, delivered=False)
        else:
            self.release(event.delivery, delivered=True)  # modified, delivery-failed
        self._check_goals()


class _Refusal:
    """Detaches a link with a condition, as a peer that refuses an attach does right after answering it."""

    def __init__(self, link, condition):
        self.link = link
        self.condition = condition

    def on_timer_task(self, event):
        self.link.condition = Condition(self.condition, "refused by peer_server.py")
        self.link.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Peer AMQP 1.0 server (SASL ANONYMOUS). Sends --send N platform-style "
                    "messages on every receiver link a client attaches; prints every "
                    "message clients send as a JSON line and settles it with "
                    "--disposition. Exit 0 when the goals (--count, --send) are met, 1 on "
                    "error, 2 on --timeout with goals unmet.")
    parser.add_argument("--port", type=int, required=True,
                        help="TCP port to listen on (0: any free port; the listening event "
                             "says which)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--count", type=int, default=None,
                        help="goal: exit after receiving N messages from clients")
    parser.add_argument("--send", type=int, default=None,
                        help="send N messages on each receiver link a client attaches; goal: "
                             "N outcomes (settlements) from clients")
    parser.add_argument("--presettle", action="store_true",
                        help="send our messages pre-settled (at-most-once); the --send goal then "
                             "counts messages sent, since no outcome comes back")
    parser.add_argument("--null-source", action="store_true",
                        help="answer a client's receiver attach with a null source terminus "
                             "(and serve the link as usual)")
    parser.add_argument("--refuse-receivers", default=None, metavar="CONDITION",
                        help="answer a client's receiver attach with a null source, then "
                             "detach it at once with CONDITION (e.g. amqp:unauthorized-access)")
    parser.add_argument("--body", default="hello from peer_server",
                        help="body text of the messages we send (UTF-8, data section)")
    parser.add_argument("--topic", default="/a1TestProduct/device1/user/update",
                        help="the topic application property of the messages we send")
    parser.add_argument("--message-id-prefix", default=None,
                        help="messageId = PREFIX + sequence (1..N); default: unique per run")
    parser.add_argument("--credit", type=int, default=100,
                        help="credit window we grant on links clients send on (default 100)")
    parser.add_argument("--disposition", default="accept",
                        choices=["accept", "reject", "release", "modify"],
                        help="how to settle messages clients send (default accept)")
    parser.add_argument("--reject-at", type=int, action="append", default=[], metavar="N",
                        help="reject the Nth message clients send (counted from 1 across links), whatever "
                             "--disposition says; repeatable")
    parser.add_argument("--idle-timeout", type=float, default=None,
                        help="AMQP idle-time-out to announce, seconds (default: none)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to run at most; with goals unmet exit 2")
    args = parser.parse_args(argv)
    if args.message_id_prefix is None:
        args.message_id_prefix = peerlib.default_message_id_prefix()
    return args


def main(argv):
    args = parse_args(argv)
    server = Server(args)
    container = Container(server)
    container.container_id = "iotbridge-peer-server"

    def on_signal(signum, frame):
        server.stop_on_signal()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    container.run()
    summary = dict(event="done", received=server.received, sent=server.sent, **server.outcomes)
    if server.error is not None:
        summary["error"] = server.error
    peerlib.emit(summary)
    if server.timed_out:
        return peerlib.EXIT_TIMEOUT
    if server.error is not None:
        return peerlib.EXIT_ERROR
    return peerlib.EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
