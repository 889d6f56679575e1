#!/usr/bin/python3
"""What a hostile or clumsy AMQP client does to a listener, one mode per run.

Used by the listener abuse suite (ListenerAbuseTests.swift) against `iotbridge amqp broker`.
Raw modes speak bytes over a plain socket (TLS with --tls); the others use Apache Qpid
Proton's Python API. Every mode prints JSON lines on stdout and ends with a "done" event;
exit status 0 unless the peer itself broke (bad arguments, a timeout of its own).

Modes:
  skip-sasl    --port P [--tls]       AMQP header + Open + Begin + Attach with no SASL at all;
                                      reports the performatives that came back
  garbage      --port P               1 KiB of noise; reports whether the listener closed
  huge-frame   --port P --mb N        SASL header, a frame header announcing ~4 GB, then N MB
  idle         --port P --count N --hold S [--source A]
                                      N connections that never send a byte, held S seconds
  slow         --port P --interval S  SASL header, then one byte every S seconds
  links        --url U --count N --wave K [--keep]
                                      attaches N consumer links K at a time and detaches each
                                      wave (--keep: never detaches, one wave of N)
  connect-loop --url U --count N      N logins, each opened and closed
  wrong-passwords --url U --count N   N logins with a wrong password, one after the other
  big-message  --url U --mb N         one N MB message
"""

import argparse
import os
import select
import socket
import ssl
import struct
import sys
import time

from proton import Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

import peerlib


def connect_raw(args, source=None):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=10, source_address=(source, 0) if source else None)
    if getattr(args, "tls", False):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock)
    return sock


def frame(code, fields, channel=0, frame_type=0):
    body = b"".join(fields)
    performative = b"\x00\x53" + bytes([code]) + b"\xd0" + struct.pack(">II", len(body) + 4, len(fields)) + body
    return struct.pack(">IBBH", 8 + len(performative), 2, frame_type, channel) + performative


def amqp_string(text):
    data = text.encode()
    return b"\xb1" + struct.pack(">I", len(data)) + data


def read_until_closed(sock, timeout):
    received = b""
    deadline = time.time() + timeout
    sock.settimeout(0.2)
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def performatives(data):
    codes = []
    offset = 0
    while offset + 8 <= len(data):
        if data[offset:offset + 4] == b"AMQP":
            offset += 8
            continue
        size, doff, ftype = struct.unpack(">IBB", data[offset:offset + 6])
        if size < 8 or offset + size > len(data):
            break
        start = offset + doff * 4
        if data[start:start + 2] == b"\x00\x53":
            codes.append(data[start + 2] + (0x40 if ftype == 1 else 0))
        offset += size
    return codes


def skip_sasl(args):
    sock = connect_raw(args)
    target = b"\x00\x53\x29\xd0" + struct.pack(">II", len(amqp_string("secrets")) + 4, 1) + amqp_string("secrets")
    source = b"\x00\x53\x28\xd0" + struct.pack(">II", len(amqp_string("secrets")) + 4, 1) + amqp_string("secrets")
    sock.sendall(
        b"AMQP\x00\x01\x00\x00"
        + frame(0x10, [amqp_string("skipper")])
        + frame(0x11, [b"\x40", b"\x43", b"\x70" + struct.pack(">I", 100), b"\x70" + struct.pack(">I", 100)])
        + frame(0x12, [amqp_string("in"), b"\x70\x00\x00\x00\x00", b"\x42", b"\x40", b"\x40", b"\x40", target])
        + frame(0x12, [amqp_string("out"), b"\x70\x00\x00\x00\x01", b"\x41", b"\x40", b"\x40", source, b"\x40"])
    )
    data, closed = read_until_closed(sock, 5)
    peerlib.emit(dict(
        event="done", closed=closed, performatives=performatives(data),
        unauthorized=b"amqp:unauthorized-access" in data, bytes=len(data),
    ))


def garbage(args):
    sock = connect_raw(args)
    noise = bytes((i * 131 + 7) & 0xFF for i in range(1024))
    try:
        sock.sendall(noise)
    except OSError:
        pass
    _, closed = read_until_closed(sock, 5)
    peerlib.emit(dict(event="done", closed=closed))


def huge_frame(args):
    sock = connect_raw(args)
    start = time.time()
    sent = 0
    closed = False
    try:
        sock.sendall(b"AMQP\x03\x01\x00\x00" + struct.pack(">IBBH", 0xFFFFFF00, 2, 1, 0))
        chunk = b"A" * 65536
        while sent < args.mb << 20:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        closed = True
    if not closed:
        _, closed = read_until_closed(sock, 5)
    peerlib.emit(dict(event="done", sent=sent, closed=closed, seconds=round(time.time() - start, 3)))


def idle(args):
    sockets = []
    failed = 0
    for _ in range(args.count):
        try:
            sockets.append(socket.create_connection(("127.0.0.1", args.port), timeout=5,
                                                    source_address=(args.source, 0) if args.source else None))
        except OSError:
            failed += 1
    peerlib.emit(dict(event="connected", open=len(sockets), failed=failed))
    deadline = time.time() + args.hold
    while time.time() < deadline:
        time.sleep(0.1)
    closed = 0
    for sock in sockets:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            try:
                if sock.recv(65536, socket.MSG_DONTWAIT) == b"":
                    closed += 1
            except OSError:
                closed += 1
        sock.close()
    peerlib.emit(dict(event="done", open=len(sockets), failed=failed, closedByServer=closed))


def slow(args):
    sock = connect_raw(args)
    start = time.time()
    sock.sendall(b"AMQP\x03\x01\x00\x00")
    closed = False
    sent = 0
    payload = frame(0x41, [b"\xa3\x05PLAIN"], frame_type=1)
    sock.setblocking(False)
    while time.time() - start < args.limit:
        try:
            sock.send(payload[sent % len(payload):sent % len(payload) + 1])
            sent += 1
        except BlockingIOError:
            pass
        except OSError:
            closed = True
            break
        readable, _, _ = select.select([sock], [], [], args.interval)
        if readable:
            try:
                if sock.recv(65536) == b"":
                    closed = True
                    break
            except OSError:
                closed = True
                break
    peerlib.emit(dict(event="done", closed=closed, bytesSent=sent, seconds=round(time.time() - start, 3)))


def login_options(target, password=None):
    return dict(
        sasl_enabled=True, allow_insecure_mechs=True, allowed_mechs="PLAIN",
        user=target["user"], password=password if password is not None else (target["password"] or ""),
        reconnect=False,
    )


class Links(MessagingHandler):
    """Attaches consumer links in waves and detaches each wave, counting refusals."""

    def __init__(self, args, target):
        super().__init__(prefetch=0, auto_accept=False)
        self.args, self.target = args, target
        self.attached = self.refused = self.requested = 0
        self.wave = []
        self.pending = 0
        self.connection = None
        self.error = None

    def on_start(self, event):
        self.connection = event.container.connect(self.target["server"], **login_options(self.target))
        self.container = event.container
        self.container.schedule(self.args.timeout, self)

    def on_connection_opened(self, event):
        self.next_wave()

    def next_wave(self):
        if self.requested >= self.args.count:
            return self.finish()
        size = min(self.args.wave, self.args.count - self.requested)
        self.wave = []
        self.pending = size
        for index in range(size):
            self.requested += 1
            self.wave.append(self.container.create_receiver(self.connection, "%s-%d" % (self.target["address"], self.requested)))

    def on_link_opened(self, event):
        if event.link.remote_condition is None and event.link.remote_source.type != 0:
            self.attached += 1
            self.wave_progress(event.link, opened=True)

    def on_link_error(self, event):
        self.refused += 1
        self.wave_progress(event.link, opened=False)

    def on_link_closed(self, event):
        if not self.args.keep and event.link in self.wave:
            self.wave.remove(event.link)
            if not self.wave:
                self.next_wave()

    def wave_progress(self, link, opened):
        self.pending -= 1
        if self.pending > 0:
            return
        if self.args.keep:
            return self.finish()
        for each in list(self.wave):
            if each.state & each.LOCAL_ACTIVE:
                each.close()
            else:
                self.wave.remove(each)
        if not self.wave:
            self.next_wave()

    def on_timer_task(self, event):
        self.error = "timed out"
        self.finish()

    def on_transport_error(self, event):
        self.error = peerlib.condition_text(event.transport.condition)

    def finish(self):
        peerlib.emit(dict(event="done", attached=self.attached, refused=self.refused, requested=self.requested, error=self.error))
        self.connection.close()
        self.container.stop()


class ConnectLoop(MessagingHandler):
    """Opens and closes one login after another; with a wrong password, times each refusal."""

    def __init__(self, args, target, password=None):
        super().__init__()
        self.args, self.target, self.password = args, target, password
        self.done = self.opened = self.failed = 0
        self.durations = []
        self.started = 0.0

    def on_start(self, event):
        self.container = event.container
        self.container.schedule(self.args.timeout, self)
        self.next()

    def next(self):
        if self.done >= self.args.count:
            peerlib.emit(dict(event="done", opened=self.opened, failed=self.failed,
                              seconds=round(sum(self.durations), 3),
                              durations=[round(d, 3) for d in self.durations[:50]]))
            self.container.stop()
            return
        self.started = time.time()
        self.container.connect(self.target["server"], **login_options(self.target, self.password))

    def on_connection_opened(self, event):
        self.opened += 1
        event.connection.close()

    def on_connection_closed(self, event):
        self.finished_one()

    def on_transport_error(self, event):
        self.failed += 1
        self.finished_one()

    def finished_one(self):
        self.durations.append(time.time() - self.started)
        self.done += 1
        self.next()

    def on_timer_task(self, event):
        peerlib.emit(dict(event="done", opened=self.opened, failed=self.failed, error="timed out",
                          durations=[round(d, 3) for d in self.durations]))
        self.container.stop()


class BigMessage(MessagingHandler):
    """Sends one large message and reports its outcome or the link's error."""

    def __init__(self, args, target):
        super().__init__()
        self.args, self.target = args, target
        self.result = None

    def on_start(self, event):
        self.container = event.container
        connection = event.container.connect(self.target["server"], **login_options(self.target))
        event.container.create_sender(connection, self.target["address"])
        self.container.schedule(self.args.timeout, self)

    def on_sendable(self, event):
        if self.result is None and not getattr(self, "sent", False):
            self.sent = True
            message = Message(body=os.urandom(16) * ((self.args.mb << 20) // 16))
            message.inferred = True
            event.sender.send(message)

    def report(self, result, event):
        if self.result is None:
            self.result = result
            peerlib.emit(dict(event="done", result=result))
            event.connection.close()
            self.container.stop()

    def on_accepted(self, event):
        self.report("accepted", event)

    def on_rejected(self, event):
        self.report("rejected: %s" % peerlib.condition_text(event.delivery.remote.condition), event)

    def on_link_error(self, event):
        self.report("detached: %s" % peerlib.condition_text(event.link.remote_condition), event)

    def on_transport_error(self, event):
        self.report("transport: %s" % peerlib.condition_text(event.transport.condition), event)

    def on_timer_task(self, event):
        peerlib.emit(dict(event="done", result="timed out"))
        self.container.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode")
    parser.add_argument("--port", type=int)
    parser.add_argument("--url")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--wave", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--hold", type=float, default=1)
    parser.add_argument("--source")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--limit", type=float, default=30)
    parser.add_argument("--mb", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    raw = dict(garbage=garbage, idle=idle, slow=slow)
    raw["skip-sasl"] = skip_sasl
    raw["huge-frame"] = huge_frame
    if args.mode in raw:
        return raw[args.mode](args)
    target = peerlib.parse_amqp_url(args.url)
    handlers = {
        "links": lambda: Links(args, target),
        "connect-loop": lambda: ConnectLoop(args, target),
        "wrong-passwords": lambda: ConnectLoop(args, target, password="wrong-" + (target["password"] or "")),
        "big-message": lambda: BigMessage(args, target),
    }
    if args.mode not in handlers:
        peerlib.fail("unknown mode %s" % args.mode)
    Container(handlers[args.mode]()).run()


if __name__ == "__main__":
    main()
