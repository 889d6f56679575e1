#!/usr/bin/env python3
"""Keeps a table of device -> IotInstanceId from iotbridge's migration-status events (AMQP 1.0, qpid-proton).

    migration_subscriber.py URL ADDRESS DATABASE [--count N] [--idle SECONDS]

Receives CloudEvents (structured JSON) from ADDRESS, e.g. amqp://guest:guest@127.0.0.1:5672 /queue/migration-events,
and keeps the SQLite table ``device_instance`` in DATABASE current. Each event is applied and committed before it
is accepted, so a crash re-delivers rather than loses it; the ``seen_event`` table drops repeats (iotbridge delivers
at least once, and an event keeps its id on every delivery), and within a migration a lower ``sequence`` never
overwrites a higher one. Stops after N events or SECONDS without one, and prints a JSON summary.

Requires: apt install python3-qpid-proton (or pip install python-qpid-proton).
"""

import argparse
import json
import sqlite3
import time
from urllib.parse import urlparse

from proton import Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption

SCHEMA = """
CREATE TABLE IF NOT EXISTS device_instance (
    product_key TEXT NOT NULL, device_name TEXT NOT NULL, iot_instance_id TEXT NOT NULL,
    migration_id TEXT NOT NULL, sequence INTEGER NOT NULL, PRIMARY KEY (product_key, device_name));
CREATE TABLE IF NOT EXISTS seen_event (id TEXT PRIMARY KEY);
"""


def apply(db, event):
    """Applies one event in one transaction; returns False for a repeat."""
    with db:
        if db.execute("SELECT 1 FROM seen_event WHERE id = ?", (event["id"],)).fetchone():
            return False
        db.execute("INSERT INTO seen_event (id) VALUES (?)", (event["id"],))
        kind = event["type"].rsplit(".", 2)[-2:]
        data = event["data"]
        if kind in (["device", "migrated"], ["device", "rolled-back"]):
            row = db.execute(
                "SELECT migration_id, sequence FROM device_instance WHERE product_key = ? AND device_name = ?",
                (data["productKey"], data["deviceName"]),
            ).fetchone()
            if row is None or row[0] != data["migrationId"] or row[1] < data["sequence"]:
                db.execute(
                    "INSERT OR REPLACE INTO device_instance VALUES (?, ?, ?, ?, ?)",
                    (data["productKey"], data["deviceName"], data["toInstanceId"], data["migrationId"],
                     data["sequence"]),
                )
    return True


class DurableSource(LinkOption):
    """A durable source terminus: RabbitMQ refuses a non-durable link to the durable queue iotbridge declares."""

    def apply(self, link):
        link.source.durability = Terminus.DELIVERIES


class Subscriber(MessagingHandler):
    def __init__(self, args, db):
        super().__init__(auto_accept=False)
        self.args = args
        self.db = db
        self.received = 0
        self.applied = 0
        self.last = time.time()
        self.order_errors = 0
        self.last_sequence = {}

    def on_start(self, event):
        url = urlparse(self.args.url)
        self.conn = event.container.connect(
            "%s:%d" % (url.hostname, url.port or 5672), user=url.username, password=url.password,
            allowed_mechs="PLAIN" if url.username else "ANONYMOUS",
        )
        self.receiver = event.container.create_receiver(self.conn, self.args.address, options=DurableSource())
        self.finished = False
        event.container.schedule(0.5, self)

    def on_message(self, event):
        if self.finished:
            return
        body = event.message.body
        if isinstance(body, memoryview):
            body = body.tobytes()
        cloud_event = json.loads(body.decode() if isinstance(body, bytes) else body)
        data = cloud_event["data"]
        # In order per migration: each sequence follows the one before (repeats of a redelivery aside).
        previous = self.last_sequence.get(data["migrationId"], 0)
        if data["sequence"] > previous + 1:
            self.order_errors += 1
        self.last_sequence[data["migrationId"]] = max(previous, data["sequence"])
        if apply(self.db, cloud_event):
            self.applied += 1
        self.accept(event.delivery)
        self.received += 1
        self.last = time.time()
        if self.args.count and self.applied >= self.args.count:
            self.finish(event.container)

    def on_link_error(self, event):
        condition = event.link.remote_condition
        print(json.dumps(dict(event="error", error=str(condition and condition.description))), flush=True)
        raise SystemExit(1)

    def on_timer_task(self, event):
        if self.finished:
            return
        if time.time() - self.last > self.args.idle:
            self.finish(event.container)
        else:
            event.container.schedule(0.5, self)

    def finish(self, container):
        if self.finished:
            return
        self.finished = True
        rows = self.db.execute("SELECT COUNT(*) FROM device_instance").fetchone()[0]
        print(json.dumps(dict(event="subscriber", received=self.received, applied=self.applied, devices=rows,
                              orderErrors=self.order_errors)), flush=True)
        # Close rather than stop the container: the accepts already given go out before the close, so the broker
        # does not put accepted events back (deliveries received and not accepted are released to the next reader).
        self.receiver.close()
        self.conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("address")
    parser.add_argument("database")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    db = sqlite3.connect(args.database)
    db.executescript(SCHEMA)
    Container(Subscriber(args, db)).run()


if __name__ == "__main__":
    main()
