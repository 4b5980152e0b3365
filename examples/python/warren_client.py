"""A warren caller in Python, written from proto/README.md alone.

It speaks the message contract directly over AMQP with pika (Debian's
python3-pika): one connection, requests published to the service's queue
through the default exchange, replies taken from RabbitMQ's direct reply-to
and matched by correlation id. Run it as a script for a demonstration:

    /usr/bin/python3 warren_client.py amqp://guest:guest@127.0.0.1:5672/%2f
"""

import json
import sys
import time
import uuid

import pika
import pika.exceptions

# proto/README.md section 2: every caller declares the same topology, so a
# request sent while no worker runs waits in its queue (and times out with
# 504) instead of coming back unroutable. The arguments can never change.
DLX = "warren.dlx"
DEAD = "warren.dead"
AUDIT = "warren.audit"
REPLY_TO = "amq.rabbitmq.reply-to"
QUEUE_ARGS = {
    "x-queue-type": "quorum",
    "x-delivery-limit": 5,
    "x-dead-letter-exchange": DLX,
}
WRITE_OPS = {"create", "update", "delete"}  # they go to warren.<service>.write


class Unavailable(Exception):
    """The broker is down, unreachable or refused us: the contract's 503."""


class Reply:
    """One reply: the HTTP status (x-status), the headers the worker set
    (link, x-cache, location...) and the exact body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:80])


def made_up(status, code, message):
    """A reply the caller makes itself (504 at the deadline, 503 when a
    publish comes back unroutable), shaped like the worker's errors."""
    body = json.dumps({"code": code, "message": message}, separators=(",", ":")) + "\n"
    return Reply(status, {}, body.encode())


class Client:
    """One connection to the broker, for one service (the catalog unless
    told otherwise). Not thread-safe, as pika's BlockingConnection."""

    def __init__(self, url, service="catalog", timeout_ms=5000, connect_timeout_s=2):
        params = pika.URLParameters(url)
        params.socket_timeout = connect_timeout_s
        params.blocked_connection_timeout = connect_timeout_s
        params.connection_attempts = 1
        # proto/README.md section 3: user_id is the broker user that
        # publishes; RabbitMQ checks it, and the audit trail records it.
        self.user = params.credentials.username
        self.queue = "warren." + service
        self.timeout_ms = timeout_ms
        try:
            self.conn = pika.BlockingConnection(params)
        except pika.exceptions.AMQPError as e:
            host = "%s:%d" % (params.host, params.port)
            raise Unavailable("cannot reach the broker at %s: %s" % (host, type(e).__name__)) from e
        self.ch = self.conn.channel()
        self._declare()
        self.replies = {}
        self.returned = set()
        self.ch.add_on_return_callback(self._on_return)
        # Direct reply-to: consumed with no-ack on the publishing channel,
        # before the first publish.
        self.ch.basic_consume(REPLY_TO, self._on_reply, auto_ack=True)

    def _declare(self):
        ch = self.ch
        ch.exchange_declare(DLX, exchange_type="fanout", durable=True)
        ch.queue_declare(DEAD, durable=True,
                         arguments={"x-queue-type": "quorum", "x-max-length": 100000})
        ch.queue_bind(DEAD, DLX, routing_key="")
        ch.queue_declare(self.queue, durable=True, arguments=QUEUE_ARGS)
        ch.queue_declare(AUDIT, durable=True, arguments=QUEUE_ARGS)
        ch.queue_declare(self.queue + ".write", durable=True,
                         arguments=dict(QUEUE_ARGS, **{"x-single-active-consumer": True}))

    def _on_reply(self, ch, method, props, body):
        headers = dict(props.headers or {})
        status = headers.pop("x-status", 502)  # no x-status: a bad gateway
        self.replies[props.correlation_id] = Reply(int(status), headers, body)

    def _on_return(self, ch, method, props, body):
        self.returned.add(props.correlation_id)

    def close(self):
        if self.conn.is_open:
            self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _publish(self, envelope, request_id, deadline_ms):
        op = envelope["op"]
        props = pika.BasicProperties(
            message_id=request_id,
            correlation_id=request_id,
            reply_to=REPLY_TO,
            content_type="application/json",
            type=op,
            expiration=str(self.timeout_ms),
            timestamp=int(time.time()),
            user_id=self.user,
            headers={"x-deadline-ms": deadline_ms},
        )
        body = json.dumps(dict(envelope, v=1), separators=(",", ":"), sort_keys=True)
        queue = self.queue + ".write" if op in WRITE_OPS else self.queue
        self.ch.basic_publish("", queue, body.encode(), props, mandatory=True)

    def call_many(self, envelopes, ids=None):
        """Publishes every envelope at once, then collects the replies in
        any order: a list of Reply in the envelopes' order. ids are the
        request ids (32 lowercase hex; new ones when None): a write sent
        again with its id is applied once. A request with no reply by the
        deadline gets a 504; one that came back unroutable a 503. Raises
        Unavailable when the broker connection fails."""
        deadline_ms = int(time.time() * 1000) + self.timeout_ms
        ids = ids or [uuid.uuid4().hex for _ in envelopes]
        try:
            for envelope, request_id in zip(envelopes, ids):
                self._publish(envelope, request_id, deadline_ms)
            waiting = set(ids)
            while waiting:
                left = deadline_ms - int(time.time() * 1000)
                if left <= 0:
                    break
                self.conn.process_data_events(time_limit=min(left / 1000.0, 0.1))
                waiting -= set(self.replies) | self.returned
        except pika.exceptions.AMQPError as e:
            raise Unavailable("the broker connection failed: %s" % type(e).__name__) from e
        out = []
        for request_id in ids:
            if request_id in self.replies:
                out.append(self.replies.pop(request_id))
            elif request_id in self.returned:
                self.returned.discard(request_id)
                out.append(made_up(503, "unavailable", "no queue for the service"))
            else:  # a late reply is dropped: nobody asks for its id again
                out.append(made_up(504, "timeout", "the service did not answer in time"))
        return out

    def call(self, envelope, request_id=None):
        return self.call_many([envelope], [request_id] if request_id else None)[0]


def get(collection, key):
    return {"op": "get", "collection": collection, "id": str(key)}


def search(collection, q, page=None, per_page=None):
    envelope = {"op": "list", "collection": collection, "q": json.dumps(q)}
    if page is not None:
        envelope["page"] = page
    if per_page is not None:
        envelope["results_per_page"] = per_page
    return envelope


def main(argv):
    url = argv[1] if len(argv) > 1 else "amqp://guest:guest@127.0.0.1:5672/%2f"
    try:
        client = Client(url, service=argv[2] if len(argv) > 2 else "catalog")
    except Unavailable as e:
        print("unavailable: %s" % e, file=sys.stderr)
        return 5
    with client:
        album = client.call(get("Albums", 1))
        print(album.status, album.json()["title"])
        rock = client.call(search("Albums", {"filters": [
            {"name": "title", "op": "like", "val": "%Rock%"}]}))
        print(rock.status, rock.json()["num_results"], "albums like %Rock%")
        batch = client.call_many([get("Artists", i) for i in range(1, 6)])
        print([r.json()["name"] for r in batch])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
