'use strict';
// A warren caller in Node.js, written from proto/README.md alone.
//
// It speaks the message contract directly over AMQP with amqplib: one
// connection, requests published to the service's queue through the
// default exchange, replies taken from RabbitMQ's direct reply-to and
// matched by correlation id. Run it as a script for a demonstration:
//
//   node warren_client.js amqp://guest:guest@127.0.0.1:5672/%2f [service]

const crypto = require('node:crypto');
const { once } = require('node:events');
const amqp = require('amqplib');

// proto/README.md section 2: every caller declares the same topology, so a
// request sent while no worker runs waits in its queue (and times out with
// 504) instead of coming back unroutable. The arguments can never change.
const DLX = 'warren.dlx';
const DEAD = 'warren.dead';
const AUDIT = 'warren.audit';
const REPLY_TO = 'amq.rabbitmq.reply-to';
const QUEUE_ARGS = {
  'x-queue-type': 'quorum',
  'x-delivery-limit': 5,
  'x-dead-letter-exchange': DLX,
};
const WRITE_OPS = new Set(['create', 'update', 'delete']); // to warren.<service>.write

/** The broker is down, unreachable or dropped us: the contract's 503. */
class Unavailable extends Error {}

/** One reply: the HTTP status (x-status), the headers the worker set
 * (link, x-cache, location...) and the exact body bytes. */
class Reply {
  constructor(status, headers, body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  json() {
    return this.body.length > 0 ? JSON.parse(this.body.toString('utf8')) : null;
  }
}

/** A reply the caller makes itself (504 at the deadline, 503 when a publish
 * comes back unroutable), shaped like the worker's errors. */
function madeUp(status, code, message) {
  return new Reply(status, {}, Buffer.from(`${JSON.stringify({ code, message })}\n`));
}

class Client {
  /** Connects, declares the topology and starts consuming direct replies.
   * Rejects with Unavailable when the broker cannot be reached. */
  static async connect(url, { service = 'catalog', timeoutMs = 5000, connectTimeoutMs = 2000 } = {}) {
    const c = new Client(url, service, timeoutMs);
    try {
      c.conn = await amqp.connect(url, { timeout: connectTimeoutMs });
    } catch (e) {
      const u = new URL(url);
      throw new Unavailable(`cannot reach the broker at ${u.hostname}:${u.port || 5672}: ${e.code || e.message}`);
    }
    c.conn.on('error', (e) => c.failAll(e));
    c.conn.on('close', () => c.failAll(new Error('connection closed')));
    c.ch = await c.conn.createChannel();
    c.ch.on('error', (e) => c.failAll(e));
    await c.declare();
    c.ch.on('return', (msg) => c.settle(msg.properties.correlationId,
      madeUp(503, 'unavailable', 'no queue for the service')));
    // Direct reply-to: consumed with no-ack on the publishing channel,
    // before the first publish.
    await c.ch.consume(REPLY_TO, (msg) => c.onReply(msg), { noAck: true });
    return c;
  }

  constructor(url, service, timeoutMs) {
    // proto/README.md section 3: user_id is the broker user that publishes;
    // RabbitMQ checks it, and the audit trail records it.
    this.user = decodeURIComponent(new URL(url).username) || 'guest';
    this.queue = `warren.${service}`;
    this.timeoutMs = timeoutMs;
    this.pending = new Map(); // request id -> settle(reply)
  }

  async declare() {
    const ch = this.ch;
    await ch.assertExchange(DLX, 'fanout', { durable: true });
    await ch.assertQueue(DEAD, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-max-length': 100000 },
    });
    await ch.bindQueue(DEAD, DLX, '');
    await ch.assertQueue(this.queue, { durable: true, arguments: QUEUE_ARGS });
    await ch.assertQueue(AUDIT, { durable: true, arguments: QUEUE_ARGS });
    await ch.assertQueue(`${this.queue}.write`, {
      durable: true,
      arguments: { ...QUEUE_ARGS, 'x-single-active-consumer': true },
    });
  }

  onReply(msg) {
    const headers = { ...(msg.properties.headers || {}) };
    const status = headers['x-status'] ?? 502; // no x-status: a bad gateway
    delete headers['x-status'];
    this.settle(msg.properties.correlationId, new Reply(Number(status), headers, msg.content));
  }

  settle(id, reply) {
    const done = this.pending.get(id);
    if (done) { // a late reply to a request already answered 504 is dropped
      this.pending.delete(id);
      done(reply);
    }
  }

  failAll(err) {
    this.closed = err;
    for (const [id, done] of this.pending) {
      this.pending.delete(id);
      done(err);
    }
  }

  async publish(envelope, id, deadlineMs) {
    const body = Buffer.from(JSON.stringify({ ...envelope, v: 1 }));
    const queue = WRITE_OPS.has(envelope.op) ? `${this.queue}.write` : this.queue;
    const ok = this.ch.publish('', queue, body, {
      mandatory: true,
      messageId: id,
      correlationId: id,
      replyTo: REPLY_TO,
      contentType: 'application/json',
      type: envelope.op,
      expiration: String(this.timeoutMs),
      timestamp: Math.floor(Date.now() / 1000),
      userId: this.user,
      headers: { 'x-deadline-ms': deadlineMs },
    });
    if (!ok) {
      await once(this.ch, 'drain'); // the socket's buffer is full: wait for it
    }
  }

  /** Publishes every envelope at once, then collects the replies in any
   * order: the Reply of each, in the envelopes' order. ids are the request
   * ids (32 lowercase hex; new ones when absent): a write sent again with
   * its id is applied once. A request with no reply by the deadline gets a
   * 504; one that came back unroutable a 503. Rejects with Unavailable
   * when the broker connection fails. */
  async callMany(envelopes, ids) {
    if (this.closed) {
      throw new Unavailable(`the broker connection failed: ${this.closed.message}`);
    }
    const deadlineMs = Date.now() + this.timeoutMs;
    const requestIds = ids || envelopes.map(() => crypto.randomBytes(16).toString('hex'));
    const answers = requestIds.map((id) => new Promise((resolve) => this.pending.set(id, resolve)));
    const timer = setTimeout(() => {
      for (const id of requestIds) {
        this.settle(id, madeUp(504, 'timeout', 'the service did not answer in time'));
      }
    }, this.timeoutMs);
    try {
      for (let i = 0; i < envelopes.length; i++) {
        await this.publish(envelopes[i], requestIds[i], deadlineMs);
      }
      const replies = await Promise.all(answers);
      const failed = replies.find((r) => r instanceof Error);
      if (failed) {
        throw new Unavailable(`the broker connection failed: ${failed.message}`);
      }
      return replies;
    } finally {
      clearTimeout(timer);
      for (const id of requestIds) {
        this.pending.delete(id);
      }
    }
  }

  async call(envelope, requestId) {
    const [reply] = await this.callMany([envelope], requestId ? [requestId] : undefined);
    return reply;
  }

  async close() {
    if (!this.closed) {
      this.closed = new Error('closed');
      await this.conn.close();
    }
  }
}

const get = (collection, key) => ({ op: 'get', collection, id: String(key) });

function search(collection, q, { page, perPage } = {}) {
  const envelope = { op: 'list', collection, q: JSON.stringify(q) };
  if (page !== undefined) envelope.page = page;
  if (perPage !== undefined) envelope.results_per_page = perPage;
  return envelope;
}

async function main(argv) {
  const url = argv[2] || 'amqp://guest:guest@127.0.0.1:5672/%2f';
  let client;
  try {
    client = await Client.connect(url, { service: argv[3] || 'catalog' });
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    console.error(`unavailable: ${e.message}`);
    return 5;
  }
  try {
    const album = await client.call(get('Albums', 1));
    console.log(album.status, album.json().title);
    const rock = await client.call(search('Albums', {
      filters: [{ name: 'title', op: 'like', val: '%Rock%' }],
    }));
    console.log(rock.status, rock.json().num_results, 'albums like %Rock%');
    const batch = await client.callMany([1, 2, 3, 4, 5].map((i) => get('Artists', i)));
    console.log(batch.map((r) => r.json().name));
  } finally {
    await client.close();
  }
  return 0;
}

module.exports = { Client, Reply, Unavailable, get, search };

if (require.main === module) {
  main(process.argv).then((code) => { process.exitCode = code; });
}
