#!/usr/bin/env python3
"""The platform's official Python AMQP sample (reference §1.5), pointed at the bridge's listener.

    platform_sample_consumer.py HOST PORT CLIENT_ID ACCESS_KEY ACCESS_SECRET CONSUMER_GROUP [--ca FILE]
        [--sign-method hmacsha1] [--no-settle] [--password-override X] [--timeout SECONDS] [--address A] [--plain]
        [--max-message-size BYTES]

The connection code is the sample's, unchanged but for the host and the CA to trust: the aksign username
(``clientId|authMode=aksign,signMethod=…,timestamp=…,authId=…,iotInstanceId=…,consumerGroupId=…|``), the HMAC
password, ``heartbeat=60``, a receiver with no source address, and ``event.receiver.flow(1)`` per message with the
MessagingHandler defaults (prefetch 10, auto-accept after on_message). Prints one JSON line per message
(``{"event":"message","messageId":…,"topic":…,"iotInstanceId":…,"deliveryCount":…}``), ``{"event":"opened"}``
when the receiver attached, and ``{"event":"error",…}`` when the bridge refuses the login or the link.
``--no-settle`` never settles (auto_accept off): the bridge must move its messages after the ack timeout.
``--max-message-size`` attaches the receiver with that max-message-size (AMQP 1.0 §2.7.3) and adds each message's
size in bytes as received (``"size"``) to its line.
"""

import argparse
import base64
import hashlib
import hmac
import time

from proton import Condition, SSLDomain
from proton.handlers import MessagingHandler, Reject
from proton.reactor import Container, LinkOption

from peerlib import emit

DIGESTS = {"hmacsha1": hashlib.sha1, "hmacmd5": hashlib.md5, "hmacsha256": hashlib.sha256}


def current_time_millis():
    return str(int(round(time.time() * 1000)))


def do_sign(secret, sign_content, method):
    m = hmac.new(secret, sign_content, digestmod=DIGESTS[method])
    return base64.b64encode(m.digest())


class MaxMessageSize(LinkOption):
    """Announces the receiver's max-message-size in its Attach (only for the max-message-size test)."""

    def __init__(self, size):
        self.size = size

    def apply(self, link):
        link.max_message_size = self.size


class AmqpClient(MessagingHandler):
    def __init__(self, args):
        super(AmqpClient, self).__init__(auto_accept=not args.no_settle)
        self.args = args
        self.size = None

    def on_start(self, event):
        a = self.args
        url = ("amqps://" if a.ca and not a.plain else "amqp://") + a.host + ":" + a.port
        accessKey = a.access_key
        accessSecret = a.access_secret
        consumerGroupId = a.consumer_group
        clientId = a.client_id
        iotInstanceId = a.iot_instance_id
        signMethod = a.sign_method
        timestamp = current_time_millis()
        userName = clientId + "|authMode=aksign" + ",signMethod=" + signMethod \
                        + ",timestamp=" + timestamp + ",authId=" + accessKey \
                        + ",iotInstanceId=" + iotInstanceId + ",consumerGroupId=" + consumerGroupId + "|"
        signContent = "authId=" + accessKey + "&timestamp=" + timestamp
        passWord = do_sign(accessSecret.encode("utf-8"), signContent.encode("utf-8"), signMethod)
        if a.password_override is not None:
            passWord = a.password_override.encode("utf-8")
        if a.ca and not a.plain:
            # The one change besides the host: trust the bridge's CA.
            domain = SSLDomain(SSLDomain.MODE_CLIENT)
            domain.set_trusted_ca_db(a.ca)
            domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
            event.container.ssl.client = domain
        conn = event.container.connect(url, user=userName, password=passWord.decode("ascii"), heartbeat=60,
                                       allowed_mechs="PLAIN", allow_insecure_mechs=True)
        options = [MaxMessageSize(a.max_message_size)] if a.max_message_size else None
        if a.address is None:
            self.receiver = event.container.create_receiver(conn, options=options)
        else:
            # Only for the tests of reserved addresses; the sample attaches with none.
            self.receiver = event.container.create_receiver(conn, a.address, options=options)
        event.container.schedule(a.timeout, self)

    def on_timer_task(self, event):
        emit(dict(event="timeout"))
        event.container.stop()

    def on_link_opened(self, event):
        emit(dict(event="opened"))

    def on_delivery(self, event):
        # The whole message's size as it arrived. Proton dispatches the event here first, then to the handler's
        # own IncomingMessageHandler, which reads the message and calls on_message.
        delivery = event.delivery
        if delivery.readable and not delivery.partial:
            self.size = delivery.pending

    def on_message(self, event):
        message = event.message
        props = message.properties or {}
        line = dict(event="message", messageId=props.get("messageId"), topic=props.get("topic"),
                    iotInstanceId=props.get("iotInstanceId"), deliveryCount=message.delivery_count,
                    body=bytes(message.body).decode("utf-8", "replace") if message.body is not None else None)
        if self.args.max_message_size:
            line["size"] = self.size
        emit(line)
        event.receiver.flow(1)
        if props.get("messageId") in self.args.reject:
            # Only for the dead-letter test: reject with a condition, as a backend that cannot parse a message may.
            event.delivery.local.condition = Condition("amqp:precondition-failed", "bad payload for this backend")
            raise Reject()

    def on_link_error(self, event):
        cond = event.link.remote_condition
        emit(dict(event="error", where="link", name=cond.name if cond else None,
                  description=cond.description if cond else None))
        event.container.stop()

    def on_connection_error(self, event):
        cond = event.connection.remote_condition
        emit(dict(event="error", where="connection", name=cond.name if cond else None,
                  description=cond.description if cond else None))
        event.container.stop()

    def on_transport_error(self, event):
        cond = event.transport.condition
        # Reported only: Proton's default reconnect (the sample relies on it) tries again by itself.
        emit(dict(event="error", where="transport", name=cond.name if cond else None,
                  description=cond.description if cond else None))


def main():
    p = argparse.ArgumentParser()
    for name in ["host", "port", "client_id", "access_key", "access_secret", "consumer_group"]:
        p.add_argument(name)
    p.add_argument("--ca")
    p.add_argument("--iot-instance-id", default="")
    p.add_argument("--sign-method", default="hmacsha1")
    p.add_argument("--no-settle", action="store_true")
    p.add_argument("--address")
    p.add_argument("--reject", action="append", default=[], help="reject this messageId (repeatable)")
    p.add_argument("--plain", action="store_true", help="connect without TLS even with --ca")
    p.add_argument("--password-override")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--max-message-size", type=int, help="announce this max-message-size when attaching")
    args = p.parse_args()
    Container(AmqpClient(args)).run()


if __name__ == "__main__":
    main()
