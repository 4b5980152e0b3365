'use strict';
// Tests of the Node example against a live catalog worker (no edge):
// tests/examples/node.sh starts one and sets WARREN_EXAMPLE_URL (the test
// broker), WARREN_EXAMPLE_SERVICE (its queue) and WARREN_EXAMPLE_SPOOL (its
// audit spool). Run with node --test.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, it } = require('node:test');
const amqp = require('amqplib');
const wc = require('./warren_client');

const URL_ = process.env.WARREN_EXAMPLE_URL;
const SERVICE = process.env.WARREN_EXAMPLE_SERVICE;
const SPOOL = process.env.WARREN_EXAMPLE_SPOOL;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('calls', () => {
  let client;
  before(async () => {
    client = await wc.Client.connect(URL_, { service: SERVICE, timeoutMs: 10000 });
  });
  after(async () => client.close());

  it('gets one object', async () => {
    const r = await client.call(wc.get('Albums', 1));
    assert.equal(r.status, 200);
    assert.equal(r.body.subarray(-2).toString(), '}\n');
    assert.deepEqual(r.json().Artists, { artist_id: 1, name: 'AC/DC' });
    const missing = await client.call(wc.get('Albums', 100000));
    assert.equal(missing.status, 404);
    assert.equal(missing.json().code, 'not_found');
  });

  it('lists with q', async () => {
    const q = {
      filters: [{ name: 'title', op: 'like', val: '%Rock%' }],
      order_by: [{ field: 'title', direction: 'desc' }],
    };
    const r = await client.call(wc.search('Albums', q, { page: 1, perPage: 5 }));
    assert.equal(r.status, 200);
    const page = r.json();
    assert.equal(page.num_results, 7);
    assert.equal(page.objects.length, 5);
    assert.equal(page.objects[0].title, 'Rock In Rio [CD2]');
    assert.match(r.headers.link, /rel="next"/);
    const bad = await client.call(wc.search('Albums', {
      filters: [{ name: 'no_such_field', op: '==', val: 1 }],
    }));
    assert.equal(bad.status, 400);
    assert.equal(bad.json().code, 'bad_parameter');
  });

  it('pipelines a batch, each reply matched to its request', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => (i % 347) + 1);
    const t0 = Date.now();
    const replies = await client.callMany(keys.map((k) => wc.get('Albums', k)));
    console.log(`200 pipelined calls in ${Date.now() - t0} ms`);
    assert.deepEqual(replies.map((r) => r.status), keys.map(() => 200));
    assert.deepEqual(replies.map((r) => r.json().album_id), keys);
  });

  it('gets a 400 for an envelope the worker refuses', async () => {
    const r = await client.call({ op: 'get', collection: 'Albums' }); // no id
    assert.equal(r.status, 400);
    assert.equal(r.json().code, 'bad_request');
  });
});

describe('failures', () => {
  it('answers 504 at the deadline when no worker serves the queue', async () => {
    const c = await wc.Client.connect(URL_, { service: `${SERVICE}_nobody`, timeoutMs: 500 });
    const t0 = Date.now();
    const r = await c.call(wc.get('Albums', 1));
    const elapsed = Date.now() - t0;
    await c.close();
    assert.equal(r.status, 504);
    assert.equal(r.json().code, 'timeout');
    assert.ok(elapsed >= 450 && elapsed < 5000, `${elapsed} ms`);
  });

  it('says clearly that the broker is down', async () => {
    const t0 = Date.now();
    await assert.rejects(wc.Client.connect('amqp://guest:guest@127.0.0.1:1/%2f'),
      (e) => e instanceof wc.Unavailable &&
        /cannot reach the broker at 127\.0\.0\.1:1: ECONNREFUSED/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);
  });

  it('is refused by the broker when user_id names another user', async () => {
    // The principal is the broker's word: no caller can pose as another.
    const conn = await amqp.connect(URL_);
    const ch = await conn.createChannel();
    const closed = new Promise((resolve) => ch.on('error', resolve));
    ch.publish('', `warren.${SERVICE}`, Buffer.from('{}'), { userId: 'someone-else' });
    const err = await closed;
    assert.equal(err.code, 406);
    await conn.close();
  });
});

describe('principal', () => {
  it('is the broker user in the audit record', async () => {
    const id = crypto.randomBytes(16).toString('hex');
    const c = await wc.Client.connect(URL_, { service: SERVICE });
    const r = await c.call(wc.get('Artists', 3), id);
    await c.close();
    assert.equal(r.status, 200);
    let mine = [];
    for (let i = 0; i < 50 && mine.length === 0; i++) {
      for (const f of fs.readdirSync(SPOOL).filter((n) => n.endsWith('.spool'))) {
        const lines = fs.readFileSync(path.join(SPOOL, f), 'utf8').split('\n');
        mine = mine.concat(lines.filter((l) => l.includes(id)).map((l) => JSON.parse(l)));
      }
      if (mine.length === 0) await sleep(100);
    }
    assert.equal(mine.length, 1, `the audit record of ${id} in ${SPOOL}`);
    assert.equal(mine[0].request_id, id); // _id is the record's own
    assert.equal(mine[0].principal, 'guest');
  });
});
