"""Shared helpers for the iotbridge integration-test peers (stdlib + qpid-proton only).

The peers print machine-readable JSON lines on stdout, one object per line, each with
an ``event`` key. Messages follow the IoT platform's envelope (reference
alibaba-iot-platform.md section 2.1): the payload in an AMQP data section and the
application properties ``topic``, ``messageId`` and ``generateTime`` (epoch ms, long).
"""

import base64
import json
import sys
import time
import uuid
from urllib.parse import unquote, urlsplit

from proton import Message

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_TIMEOUT = 2


def emit(obj):
    """Prints one JSON object as a line on stdout and flushes."""
    sys.stdout.write(json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(message, code=EXIT_ERROR, **extra):
    """Prints an ``error`` event and exits with ``code``."""
    emit(dict(event="error", message=message, **extra))
    sys.exit(code)


def parse_amqp_url(url):
    """Splits ``amqp://[user:pass@]host:port/ADDRESS`` into its parts.

    The address is the URL path without the one slash that separates it from the
    authority: ``amqp://h:5672/examples`` -> ``examples`` and
    ``amqp://h:5672//queue/q1`` -> ``/queue/q1`` (RabbitMQ's AMQP 1.0 plugin wants the
    leading slash). Returns a dict with scheme, host, port, user, password, address,
    and ``server`` (``host:port`` for Container.connect).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError("URL scheme must be amqp or amqps: %s" % url)
    if not parts.hostname:
        raise ValueError("URL has no host: %s" % url)
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    address = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not address:
        raise ValueError("URL has no address (path): %s" % url)
    return dict(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        address=address,
        server="%s://%s:%d" % (parts.scheme, parts.hostname, port),
    )


def platform_message(sequence, body, topic, message_id_prefix):
    """Builds a message like the IoT platform sends: data-section body and the
    application properties topic, messageId, generateTime (epoch ms)."""
    message_id = "%s%d" % (message_id_prefix, sequence)
    msg = Message(
        id=message_id,
        body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
        properties={
            "topic": topic,
            "messageId": message_id,
            "generateTime": int(time.time() * 1000),
        },
    )
    msg.inferred = True  # bytes body -> data section, not amqp-value binary
    return msg


def default_message_id_prefix():
    """A messageId prefix unique to this run, so runs never collide in a queue."""
    return "peer-%s-" % uuid.uuid4().hex[:12]


def _jsonable(value):
    """Turns an AMQP-decoded value into something json.dumps accepts."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _body_text(bytes(value))[0]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _body_text(raw):
    """Returns (text, encoding): UTF-8 text when it decodes, else base64."""
    try:
        return raw.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def message_event(msg, **extra):
    """The JSON-line form of a received message: topic, messageId, generateTime, the
    other application properties, the body as text (or base64) and its section kind."""
    props = dict(msg.properties or {})
    body = msg.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        text, encoding = _body_text(bytes(body))
        section = "data" if msg.inferred else "amqp-value-binary"
    elif isinstance(body, str):
        text, encoding, section = body, "utf8", "amqp-value-string"
    else:
        text, encoding, section = json.dumps(_jsonable(body)), "json", "amqp-value"
    event = dict(
        event="message",
        topic=_jsonable(props.pop("topic", None)),
        messageId=_jsonable(props.pop("messageId", None)),
        generateTime=_jsonable(props.pop("generateTime", None)),
        properties=_jsonable(props),
        body=text,
        bodyEncoding=encoding,
        bodySection=section,
    )
    if msg.id is not None:
        event["amqpMessageId"] = _jsonable(msg.id)
    event.update(extra)
    return event


def condition_text(condition):
    """A readable ``name: description`` for a proton Condition (or None)."""
    if condition is None:
        return None
    if condition.description:
        return "%s: %s" % (condition.name, condition.description)
    return str(condition.name)
