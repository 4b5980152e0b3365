"""Tests of the Python example against a live catalog worker (no edge):
tests/examples/run.sh starts one and sets WARREN_EXAMPLE_URL (the test
broker), WARREN_EXAMPLE_SERVICE (its queue) and WARREN_EXAMPLE_SPOOL (its
audit spool). Run with Debian's /usr/bin/python3 -m unittest."""

import glob
import json
import os
import time
import unittest
import uuid

import pika
import pika.exceptions

import warren_client as wc

URL = os.environ["WARREN_EXAMPLE_URL"]
SERVICE = os.environ["WARREN_EXAMPLE_SERVICE"]
SPOOL = os.environ["WARREN_EXAMPLE_SPOOL"]


class Calls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = wc.Client(URL, service=SERVICE, timeout_ms=10000)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def test_get(self):
        r = self.client.call(wc.get("Albums", 1))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.endswith(b"}\n"))
        self.assertEqual(r.json()["Artists"], {"artist_id": 1, "name": "AC/DC"})
        missing = self.client.call(wc.get("Albums", 100000))
        self.assertEqual(missing.status, 404)
        self.assertEqual(missing.json()["code"], "not_found")

    def test_list_with_q(self):
        q = {"filters": [{"name": "title", "op": "like", "val": "%Rock%"}],
             "order_by": [{"field": "title", "direction": "desc"}]}
        r = self.client.call(wc.search("Albums", q, page=1, per_page=5))
        self.assertEqual(r.status, 200)
        page = r.json()
        self.assertEqual(page["num_results"], 7)
        self.assertEqual(len(page["objects"]), 5)
        self.assertEqual(page["objects"][0]["title"], "Rock In Rio [CD2]")
        self.assertIn('rel="next"', r.headers["link"])
        bad = self.client.call(wc.search("Albums", {"filters": [
            {"name": "no_such_field", "op": "==", "val": 1}]}))
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json()["code"], "bad_parameter")

    def test_pipelined_batch(self):
        keys = [i % 347 + 1 for i in range(200)]
        t0 = time.monotonic()
        replies = self.client.call_many([wc.get("Albums", k) for k in keys])
        elapsed = time.monotonic() - t0
        self.assertEqual([r.status for r in replies], [200] * len(keys))
        self.assertEqual([r.json()["album_id"] for r in replies], keys)
        print("\n200 pipelined calls in %.0f ms" % (elapsed * 1000))

    def test_bad_envelope_is_400(self):
        r = self.client.call({"op": "get", "collection": "Albums"})  # no id
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["code"], "bad_request")


class Failures(unittest.TestCase):
    def test_no_worker_is_504_at_the_deadline(self):
        with wc.Client(URL, service=SERVICE + "_nobody", timeout_ms=500) as c:
            t0 = time.monotonic()
            r = c.call(wc.get("Albums", 1))
            elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 504)
        self.assertEqual(r.json()["code"], "timeout")
        self.assertGreaterEqual(elapsed, 0.45)
        self.assertLess(elapsed, 5)

    def test_broker_down_is_a_clear_error(self):
        t0 = time.monotonic()
        with self.assertRaises(wc.Unavailable) as e:
            wc.Client("amqp://guest:guest@127.0.0.1:1/%2f", service=SERVICE)
        self.assertIn("cannot reach the broker at 127.0.0.1:1", str(e.exception))
        self.assertLess(time.monotonic() - t0, 5)

    def test_broker_refuses_another_user_id(self):
        """The principal is the broker's word: a user_id that is not the
        connection's user is refused (406), so no caller can pose as
        another."""
        conn = pika.BlockingConnection(pika.URLParameters(URL))
        ch = conn.channel()
        props = pika.BasicProperties(user_id="someone-else", message_id="0" * 32)
        with self.assertRaises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.basic_publish("", "warren." + SERVICE, b"{}", props)
            ch.queue_declare("warren." + SERVICE, passive=True)  # a round trip: the close
        self.assertEqual(e.exception.reply_code, 406)
        conn.close()


class Principal(unittest.TestCase):
    def test_audit_principal_is_the_broker_user(self):
        request_id = uuid.uuid4().hex
        with wc.Client(URL, service=SERVICE) as c:
            r = c.call(wc.get("Artists", 2), request_id)
        self.assertEqual(r.status, 200)
        # The worker spools the record before it acknowledges the request.
        mine = []
        for _ in range(50):
            for path in glob.glob(os.path.join(SPOOL, "*.spool")):
                with open(path, encoding="utf-8") as f:
                    mine += [json.loads(line) for line in f if request_id in line]
            if mine:
                break
            time.sleep(0.1)
        self.assertEqual(len(mine), 1, "the audit record of %s in %s" % (request_id, SPOOL))
        self.assertEqual(mine[0]["request_id"], request_id)  # _id is the record's own
        self.assertEqual(mine[0]["principal"], "guest")


if __name__ == "__main__":
    unittest.main()
