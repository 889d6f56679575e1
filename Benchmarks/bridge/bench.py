#!/usr/bin/python3
"""The Python peers of Benchmarks/bridge/run.sh (Debian's /usr/bin/python3: python3-qpid-proton, python3-pika).

    bench.py fill URL ADDR_A ADDR_B COUNT [--overlap 0.1] [--body-size 200] [--prefix P] [--only 0|1]
        AMQP 1.0 (Proton): COUNT distinct messages, message n into ADDR_A when n is even, ADDR_B when odd; every
        round(1/overlap)-th one (n % k == 0) into both (same messageId, topic and body). Durable, 200-byte data
        section, application properties topic, messageId, generateTime -- the platform's envelope. Waits for
        every `accepted`. Prints {"event":"filled","distinct":COUNT,"sent":S,"seconds":T}. --only 0 (1) sends just
        the part of that plan for ADDR_A (ADDR_B): two processes fill the two queues in parallel.
    bench.py fill091 HOST PORT QUEUE_A QUEUE_B COUNT [--overlap 0.1] [--body-size 200] [--prefix P]
        The same messages over AMQP 0-9-1 (pika, persistent, messageId/topic/generateTime as headers) into two
        durable queues it declares; then waits until both queues hold what was sent (no publisher confirms: the
        queue depth is the check). For the Shovel baseline.
    bench.py publish-rate URL ADDR_A ADDR_B --rate R --seconds S [--overlap 0.1] [--body-size 200] [--prefix P]
        AMQP 1.0 at a steady R messages/s (all sends, overlap copies included) for S seconds; every message carries
        the application property sentAt (long, ns since the epoch, stamped right before the send).
    bench.py consume URL ADDR [ADDR...] --expected N [--idle 3] [--timeout 300] [--skip-first 1] [--out FILE]
        AMQP 1.0 consumer (credit 1000, accepts each). Stops when N distinct messageIds arrived and nothing came for
        --idle s, or after --timeout. For each message with sentAt: latency = receive time - sentAt; messages sent
        in the first --skip-first s are left out (warm-up). Prints {"event":"consumed","received":..,"distinct":..,
        "duplicates":..,"missing":..,"latencyMs":{"n":..,"p50":..,"p90":..,"p99":..,"p999":..,"max":..}}.
    bench.py wait-count HOST PORT QUEUE COUNT [--timeout 900] [--interval 0.05] [--progress FILE]
        Polls the queue's depth over AMQP 0-9-1 (a passive queue.declare: no consumer, nothing taken) until it holds
        COUNT messages. Prints {"event":"reached","at":EPOCH_S,"first":EPOCH_S,"depth":D} ("first": the first poll
        that saw a message; "event":"timeout" when it gave up); --progress gets one
        "EPOCH_S DEPTH" line a second.
    bench.py depth HOST PORT QUEUE [QUEUE...]
        Prints {"QUEUE": depth, ...} (ready messages; -1 for a queue that does not exist).
    bench.py declare HOST PORT QUEUE... [--delete]
        Declares durable queues (RabbitMQ's AMQP 1.0 address /queue/NAME would declare them NOT durable; the
        benchmark uses /amq/queue/NAME on queues declared here), or deletes them.
    bench.py plan-size SENDS [--overlap 0.1]
        Prints {"sends":S,"distinct":D}: how many distinct messageIds the first S sends of the plan carry.
    bench.py wait-status URL --settled N [--timeout 300]
        Polls the bridge's /status until it reports N settled upstream deliveries; prints {"event":"settled",
        "at":EPOCH_S,"status":{...}}.
    bench.py sample-status URL FILE [--interval 0.2] [--pid PID] [--broker-pid PID]
        Appends "epoch_s received settled sink_in_flight flights" from the bridge's /status to FILE every
        interval, until the bridge is gone: where messages wait (in the sink's window, or before it).
    bench.py histogram METRICS_FILE NAME
        Prints {"count":..,"p50":..,"p90":..,"p99":..}: percentiles of a Prometheus histogram as upper bucket bounds.
    bench.py window STATE_FILE
        Prints {"entries":..,"done":..,"bytes":..}: the claim window in the bridge's SQLite state file (read-only).
"""

import argparse
import json
import sys
import time
from urllib.parse import urlsplit


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def plan(count, overlap):
    """(queue index, n) pairs in publish order: n to queue n % 2, every k-th one to both."""
    every = int(round(1 / overlap)) if overlap > 0 else 0
    for n in range(count):
        home = n % 2
        yield home, n
        if every and n % every == 0:
            yield 1 - home, n


def body_for(n, size):
    head = b'{"seq":%d,"t":%.1f,"pad":"' % (n, 20 + (n % 100) / 10.0)
    tail = b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def topic_for(n):
    return "/a1Bench/dev%02d/user/update" % (n % 97)


def id_for(prefix, n):
    return "%s%010d" % (prefix, n)


class Template:
    """One encoded AMQP message with placeholders, patched per message: encoding a proton Message per send costs
    ~100 us of Python, slicing bytes a few, so the peers keep up at benchmark rates on a loaded machine.

    The message: header (durable); application properties topic (fixed width), messageId (PREFIX + 10 digits),
    generateTime (long, ms), and sentAt (long, ns since the epoch) when `stamped`; a data section of `size` bytes
    (body_for). The same bytes a proton Message with those values encodes to."""

    TOPIC = b"/a1Bench/devQQ/user/update"   # QQ: n % 97, two digits
    GEN = 0x1C1C1C1C1C1C1C1C
    SENT = 0x2D2D2D2D2D2D2D2D

    def __init__(self, prefix, size, stamped):
        from proton import Message
        self.prefix = prefix.encode()
        self.size = size
        mid = self.prefix + b"Z" * 10
        properties = {"topic": self.TOPIC.decode(), "messageId": mid.decode(), "generateTime": self.GEN}
        if stamped:
            properties["sentAt"] = self.SENT
        placeholder_body = b"\xfe" * size
        message = Message(durable=True, body=placeholder_body, properties=properties)
        message.inferred = True
        encoded = message.encode()
        marks = [("topic", self.TOPIC), ("mid", mid), ("gen", self.GEN.to_bytes(8, "big")), ("body", placeholder_body)]
        if stamped:
            marks.append(("sent", self.SENT.to_bytes(8, "big")))
        regions = []
        for name, mark in marks:
            at = encoded.find(mark)
            if at < 0 or encoded.find(mark, at + len(mark)) >= 0:
                raise RuntimeError("template: placeholder %s not found exactly once" % name)
            regions.append((at, len(mark), name))
        regions.sort()
        self.pieces = []  # the constant bytes around the regions
        self.names = []
        last = 0
        for at, length, name in regions:
            self.pieces.append(encoded[last:at])
            self.names.append(name)
            last = at + length
        self.pieces.append(encoded[last:])

    def encode(self, n, sent_ns=0):
        values = dict(topic=b"/a1Bench/dev%02d/user/update" % (n % 97), mid=b"%s%010d" % (self.prefix, n),
                      gen=int(time.time() * 1000).to_bytes(8, "big"), sent=sent_ns.to_bytes(8, "big"),
                      body=body_for(n, self.size))
        out = [self.pieces[0]]
        for name, piece in zip(self.names, self.pieces[1:]):
            out.append(values[name])
            out.append(piece)
        return b"".join(out)


def parse_raw(data):
    """(messageId, sentAt or None) from an encoded message, without decoding it (see Template)."""
    sent = None
    at = data.find(b"\xa1\x06sentAt")
    if at >= 0:
        code = data[at + 8]
        if code in (0x81, 0x80):
            sent = int.from_bytes(data[at + 9:at + 17], "big", signed=(code == 0x81))
        elif code in (0x55, 0x53):
            sent = data[at + 9]
    mid = None
    at = data.find(b"\xa1\x09messageId")
    if at >= 0:
        code = data[at + 11]
        if code == 0xA1:
            mid = data[at + 13:at + 13 + data[at + 12]]
        elif code == 0xB1:
            length = int.from_bytes(data[at + 12:at + 16], "big")
            mid = data[at + 16:at + 16 + length]
    return mid, sent


def server_of(url):
    parts = urlsplit(url)
    if parts.username is None:
        # No login in the URL: SASL ANONYMOUS (Proton's C example broker offers nothing else).
        return "amqp://%s:%d" % (parts.hostname, parts.port or 5672), None, None
    return "amqp://%s:%d" % (parts.hostname, parts.port or 5672), parts.username or "guest", parts.password or "guest"


def connect(container, url):
    """Connects with the URL's login over SASL PLAIN, or ANONYMOUS when it has none."""
    server, user, password = server_of(url)
    if user is None:
        return container.connect(server, allowed_mechs="ANONYMOUS")
    return container.connect(server, user=user, password=password, allowed_mechs="PLAIN")


# ---------------------------------------------------------------------------------------------------------- AMQP 1.0

def proton_publisher(args, rate=0.0, seconds=0.0):
    from proton.handlers import MessagingHandler
    from proton.reactor import Container

    class Publisher(MessagingHandler):
        def __init__(self):
            super().__init__(auto_settle=True)
            if rate:
                # Enough planned sends for `seconds` at `rate` (the plan is cut there).
                self.limit = int(rate * seconds)
                self.items = plan(10**9, args.overlap)
            else:
                self.limit = None
                self.items = plan(args.count, args.overlap)
            if args.only is not None:
                self.items = (item for item in self.items if item[0] == args.only)
            self.pending = next(self.items, None)
            self.sent = 0
            self.accepted = 0
            self.distinct = set() if rate else None
            self.done_sending = False
            self.finished = False
            self.timer = False
            self.template = Template(args.prefix, args.body_size, stamped=bool(rate))

        def on_start(self, event):
            conn = connect(event.container, args.url)
            self.senders = [event.container.create_sender(conn, address) if args.only in (None, which) else None
                            for which, address in enumerate([args.a, args.b])]
            self.start = time.time()

        def on_sendable(self, event):
            self.send_more(event.container)

        def send_more(self, container):
            while self.pending is not None:
                if self.limit is not None and self.sent >= self.limit:
                    self.pending = None
                    break
                which, n = self.pending
                sender = self.senders[which]
                if sender.credit <= 0:
                    return
                if rate and self.sent >= (time.time() - self.start) * rate:
                    if not self.timer:
                        self.timer = True
                        container.schedule(0.002, self)
                    return
                if rate:
                    self.distinct.add(n)
                    encoded = self.template.encode(n, time.time_ns())
                else:
                    encoded = self.template.encode(n)
                sender.delivery(sender.delivery_tag())
                sender.stream(encoded)
                sender.advance()
                self.sent += 1
                self.pending = next(self.items, None)
            self.done_sending = True
            self.maybe_finish()

        def on_timer_task(self, event):
            self.timer = False
            self.send_more(event.container)

        def on_accepted(self, event):
            self.accepted += 1
            self.maybe_finish(event.connection)

        def maybe_finish(self, connection=None):
            if self.done_sending and self.accepted >= self.sent and connection is not None and not self.finished:
                self.finished = True
                seconds_taken = time.time() - self.start
                distinct = len(self.distinct) if rate else (args.count if args.only is None else None)
                emit(dict(event="filled", distinct=distinct, sent=self.sent, seconds=round(seconds_taken, 3),
                          rate=round(self.sent / seconds_taken, 1)))
                connection.close()

        def on_rejected(self, event):
            emit(dict(event="error", message="broker rejected a message"))
            sys.exit(1)

        def on_transport_error(self, event):
            emit(dict(event="error", message="transport error: %s" % event.transport.condition))
            sys.exit(1)

        def on_link_error(self, event):
            emit(dict(event="error", message="link error: %s" % event.link.remote_condition))
            sys.exit(1)

        def on_session_error(self, event):
            emit(dict(event="error", message="session error: %s" % event.session.remote_condition))
            sys.exit(1)

        def on_connection_error(self, event):
            emit(dict(event="error", message="connection error: %s" % event.connection.remote_condition))
            sys.exit(1)

    publisher = Publisher()
    Container(publisher).run()
    if not publisher.finished:
        emit(dict(event="error", message="the connection ended after %d of the sends were accepted" % publisher.accepted))
        sys.exit(1)


def cmd_fill(args):
    proton_publisher(args)


def cmd_publish_rate(args):
    proton_publisher(args, rate=args.rate, seconds=args.seconds)


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def cmd_consume(args):
    from proton import Delivery
    from proton.handlers import MessagingHandler
    from proton.reactor import Container

    class RawIncoming:
        """Takes the place of MessagingHandler's IncomingMessageHandler: reads each delivery's bytes and accepts
        it, without building a proton Message (see parse_raw)."""

        def __init__(self, owner):
            self.owner = owner

        def on_delivery(self, event):
            delivery = event.delivery
            link = delivery.link
            if not link.is_receiver or not delivery.readable or delivery.partial:
                return
            data = link.recv(delivery.pending)
            link.advance()
            self.owner.received_bytes(data)
            delivery.update(Delivery.ACCEPTED)
            delivery.settle()

    class Consumer(MessagingHandler):
        def __init__(self):
            super().__init__(prefetch=1000)
            self.handlers = [RawIncoming(self) if type(h).__name__ == "IncomingMessageHandler" else h
                             for h in self.handlers]
            self.seen = set()
            self.received = 0
            self.latencies = []
            self.first_sent = None
            self.start = time.time()
            self.last = self.start

        def on_start(self, event):
            conn = connect(event.container, args.url)
            for address in args.addresses:
                event.container.create_receiver(conn, address)
            event.container.schedule(0.25, self)

        def on_link_error(self, event):
            emit(dict(event="error", message="link error: %s" % event.link.remote_condition))
            sys.exit(1)

        def received_bytes(self, data):
            now = time.time_ns()
            self.received += 1
            self.last = now / 1e9
            mid, sent = parse_raw(data)
            self.seen.add(mid)
            if sent is not None:
                if self.first_sent is None or sent < self.first_sent:
                    self.first_sent = sent
                self.latencies.append((sent, now - sent))

        def on_timer_task(self, event):
            now = time.time()
            done = len(self.seen) >= args.expected and now - self.last >= args.idle
            if done or now - self.start > args.timeout:
                self.finish()
                event.container.stop()
                return
            event.container.schedule(0.25, self)

        def finish(self):
            report = dict(event="consumed", received=self.received, distinct=len(self.seen),
                          duplicates=self.received - len(self.seen), missing=max(0, args.expected - len(self.seen)),
                          seconds=round(self.last - self.start, 3))
            if self.latencies:
                cutoff = self.first_sent + int(args.skip_first * 1e9)
                values = sorted(lat for sent, lat in self.latencies if sent >= cutoff)
                ms = lambda v: None if v is None else round(v / 1e6, 3)
                report["latencyMs"] = dict(
                    n=len(values), p50=ms(percentile(values, 50)), p90=ms(percentile(values, 90)),
                    p99=ms(percentile(values, 99)), p999=ms(percentile(values, 99.9)), max=ms(values[-1] if values else None),
                    mean=ms(sum(values) / len(values) if values else None))
                if args.out:
                    with open(args.out, "w") as f:
                        for sent, lat in self.latencies:
                            f.write("%d %d\n" % (sent, lat))
            emit(report)

    Container(Consumer()).run()


# ------------------------------------------------------------------------------------------------------ AMQP 0-9-1

def pika_connection(host, port):
    import pika
    params = pika.ConnectionParameters(host=host, port=int(port), credentials=pika.PlainCredentials("guest", "guest"),
                                       heartbeat=0, blocked_connection_timeout=300)
    return pika.BlockingConnection(params)


def queue_depth(connection, channel, queue):
    """Returns (channel, depth); depth -1 when the queue does not exist (a 404 closes the channel: a new one)."""
    import pika
    try:
        return channel, channel.queue_declare(queue=queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return connection.channel(), -1


def cmd_fill091(args):
    import pika
    connection = pika_connection(args.host, args.port)
    channel = connection.channel()
    queues = [args.a, args.b]
    for queue in queues:
        channel.queue_declare(queue=queue, durable=True)
    start = time.time()
    sent = [0, 0]
    for which, n in plan(args.count, args.overlap):
        mid = id_for(args.prefix, n)
        properties = pika.BasicProperties(
            delivery_mode=2, content_type="application/octet-stream", message_id=mid,
            headers={"topic": topic_for(n), "messageId": mid, "generateTime": int(time.time() * 1000)})
        channel.basic_publish(exchange="", routing_key=queues[which], body=body_for(n, args.body_size),
                              properties=properties)
        sent[which] += 1
    # No publisher confirms (one round trip a message with a blocking pika channel): wait for the depths.
    deadline = time.time() + 300
    while True:
        depths = []
        for queue in queues:
            channel, depth = queue_depth(connection, channel, queue)
            depths.append(depth)
        if depths == sent or time.time() > deadline:
            break
        time.sleep(0.05)
    seconds_taken = time.time() - start
    connection.close()
    emit(dict(event="filled", distinct=args.count, sent=sum(sent), depths=depths, seconds=round(seconds_taken, 3),
              rate=round(sum(sent) / seconds_taken, 1)))
    if depths != sent:
        sys.exit(1)


def cmd_wait_count(args):
    connection = pika_connection(args.host, args.port)
    channel = connection.channel()
    deadline = time.time() + args.timeout
    progress = open(args.progress, "a") if args.progress else None
    next_progress = 0.0
    depth = -1
    first = None
    while True:
        channel, depth = queue_depth(connection, channel, args.queue)
        now = time.time()
        if first is None and depth > 0:
            first = now
        if progress and now >= next_progress:
            progress.write("%.3f %d\n" % (now, depth))
            progress.flush()
            next_progress = now + 1.0
        if depth >= args.count:
            emit(dict(event="reached", at=now, first=first, depth=depth))
            break
        if now > deadline:
            emit(dict(event="timeout", at=now, first=first, depth=depth))
            connection.close()
            sys.exit(2)
        time.sleep(args.interval)
    if progress:
        progress.write("%.3f %d\n" % (now, depth))
    connection.close()


def cmd_depth(args):
    connection = pika_connection(args.host, args.port)
    channel = connection.channel()
    result = {}
    for queue in args.queues:
        channel, result[queue] = queue_depth(connection, channel, queue)
    connection.close()
    emit(result)


def cmd_declare(args):
    connection = pika_connection(args.host, args.port)
    channel = connection.channel()
    for queue in args.queues:
        if args.delete:
            channel.queue_delete(queue=queue)
        else:
            channel.queue_declare(queue=queue, durable=True)
    connection.close()


def cmd_plan_size(args):
    distinct = set()
    for index, (_, n) in enumerate(plan(10**9, args.overlap)):
        if index >= args.sends:
            break
        distinct.add(n)
    emit(dict(sends=args.sends, distinct=len(distinct)))


def fetch_status(url):
    from urllib.request import urlopen
    with urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def cmd_wait_status(args):
    deadline = time.time() + args.timeout
    status = None
    while True:
        try:
            status = fetch_status(args.url)
        except Exception as error:  # not up yet, or going down
            status = dict(error=str(error))
        now = time.time()
        if status.get("settled", -1) >= args.settled:
            emit(dict(event="settled", at=now, status=status))
            return
        if now > deadline:
            emit(dict(event="timeout", at=now, status=status))
            sys.exit(2)
        time.sleep(args.interval)


def cpu_ticks(pid, threads=False):
    """CPU ticks (user + system) of a process, or {thread name: ticks} over its threads."""
    import glob
    def ticks(path):
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    if not threads:
        return ticks("/proc/%d/stat" % pid)
    result = {}
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/comm") as f:
                name = f.read().strip()
            result[name] = result.get(name, 0) + ticks(task + "/stat")
        except OSError:
            pass
    return result


def cmd_sample_status(args):
    """Appends one line per poll: time, the bridge's received/settled counts, the AMQP sink's messages awaiting
    the broker's outcome, flights in the table (refreshed by the bridge once a second); with --pid/--broker-pid,
    about once a second the CPU share (% of one core) of the broker and of each thread (by name) of the bridge.
    Ends with the bridge."""
    import os
    hz = os.sysconf("SC_CLK_TCK")
    last_cpu = None
    with open(args.out, "a") as out:
        out.write("# epoch_s received settled sink_in_flight flights [rss_mb] [cpu: broker% thread%...]\n")
        failures = 0
        while failures < 5:
            try:
                d = fetch_status(args.url)
                failures = 0
                line = "%.3f %d %d %d %d" % (time.time(), sum(u["received"] for u in d["upstreams"]), d["settled"],
                                             d["sinks"][0]["inFlight"], d["inFlight"])
                if args.pid:
                    with open("/proc/%d/status" % args.pid) as f:
                        rss = [l for l in f if l.startswith("VmRSS:")][0].split()[1]
                    line += " %.1f" % (int(rss) / 1024.0)
                    now = time.time()
                    cpu = (now, cpu_ticks(args.pid, threads=True), cpu_ticks(args.broker_pid) if args.broker_pid else 0)
                    if last_cpu is None or now - last_cpu[0] >= 1.0:
                        if last_cpu is not None:
                            span = (now - last_cpu[0]) * hz / 100.0
                            shares = {name: (ticks - last_cpu[1].get(name, 0)) / span for name, ticks in cpu[1].items()}
                            busy = " ".join("%s:%.0f" % (name, share) for name, share in sorted(shares.items()) if share >= 1)
                            line += " cpu: broker:%.0f %s" % ((cpu[2] - last_cpu[2]) / span, busy)
                        last_cpu = cpu
                out.write(line + "\n")
                out.flush()
            except Exception:
                failures += 1
            time.sleep(args.interval)


def cmd_histogram(args):
    """p50/p90/p99 (upper bucket bounds, seconds) of a Prometheus histogram in a /metrics text file."""
    buckets = []
    for line in open(args.file):
        if line.startswith(args.metric + "_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    result = dict(count=int(total))
    for p in (50, 90, 99):
        result["p%d" % p] = next((bound for bound, count in buckets if count >= total * p / 100.0), None) if total else None
    emit(result)


def cmd_window(args):
    import os
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % args.state, uri=True)
    rows, done = db.execute("SELECT COUNT(*), COALESCE(SUM(done), 0) FROM claim").fetchone()
    db.close()
    size = sum(os.path.getsize(args.state + suffix) for suffix in ("", "-wal", "-shm")
               if os.path.exists(args.state + suffix))
    emit(dict(entries=rows, done=done, bytes=size))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)

    def message_options(p):
        p.add_argument("--overlap", type=float, default=0.1)
        p.add_argument("--body-size", type=int, default=200)
        p.add_argument("--prefix", default="m")

    p = sub.add_parser("fill")
    p.add_argument("url"); p.add_argument("a"); p.add_argument("b"); p.add_argument("count", type=int)
    p.add_argument("--only", type=int, choices=[0, 1], help="send only what goes to queue A (0) or B (1)")
    message_options(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("fill091")
    p.add_argument("host"); p.add_argument("port"); p.add_argument("a"); p.add_argument("b")
    p.add_argument("count", type=int)
    message_options(p)
    p.set_defaults(func=cmd_fill091)

    p = sub.add_parser("publish-rate")
    p.add_argument("url"); p.add_argument("a"); p.add_argument("b")
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--seconds", type=float, required=True)
    message_options(p)
    p.set_defaults(func=cmd_publish_rate, count=0, only=None)

    p = sub.add_parser("consume")
    p.add_argument("url"); p.add_argument("addresses", nargs="+")
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--idle", type=float, default=3.0)
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--skip-first", type=float, default=1.0)
    p.add_argument("--out")
    p.set_defaults(func=cmd_consume)

    p = sub.add_parser("wait-count")
    p.add_argument("host"); p.add_argument("port"); p.add_argument("queue"); p.add_argument("count", type=int)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--progress")
    p.set_defaults(func=cmd_wait_count)

    p = sub.add_parser("depth")
    p.add_argument("host"); p.add_argument("port"); p.add_argument("queues", nargs="+")
    p.set_defaults(func=cmd_depth)

    p = sub.add_parser("declare")
    p.add_argument("host"); p.add_argument("port"); p.add_argument("queues", nargs="+")
    p.add_argument("--delete", action="store_true")
    p.set_defaults(func=cmd_declare)

    p = sub.add_parser("plan-size")
    p.add_argument("sends", type=int)
    p.add_argument("--overlap", type=float, default=0.1)
    p.set_defaults(func=cmd_plan_size)

    p = sub.add_parser("wait-status")
    p.add_argument("url"); p.add_argument("--settled", type=int, required=True)
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--interval", type=float, default=0.2)
    p.set_defaults(func=cmd_wait_status)

    p = sub.add_parser("sample-status")
    p.add_argument("url"); p.add_argument("out")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--pid", type=int, help="the bridge's pid: per-thread CPU")
    p.add_argument("--broker-pid", type=int, help="the broker's pid: its CPU")
    p.set_defaults(func=cmd_sample_status)

    p = sub.add_parser("histogram")
    p.add_argument("file"); p.add_argument("metric")
    p.set_defaults(func=cmd_histogram)

    p = sub.add_parser("window")
    p.add_argument("state")
    p.set_defaults(func=cmd_window)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
