'use strict';
// Validates proto/asyncapi.yaml with @asyncapi/parser (the AsyncAPI 3.0
// schema and its rules, every $ref to proto/*.schema.json resolved), then
// checks it against proto/warren/proto.h: the queue, exchange and header
// names, the delivery limit and the dead queue's cap are the C constants'.
//   node tests/asyncapi/validate.js PROTO_DIR   (NODE_PATH: the parser's node_modules)
const fs = require('node:fs');
const path = require('node:path');
const { Parser, fromFile } = require('@asyncapi/parser');

const protoDir = path.resolve(process.argv[2] || path.join(__dirname, '../../proto'));
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

// Every #define NAME "text" or NAME number of proto.h.
function protoConstants() {
  const text = fs.readFileSync(path.join(protoDir, 'warren/proto.h'), 'utf8');
  const out = {};
  for (const m of text.matchAll(/^#define (WR_[A-Z0-9_]+) ("([^"]*)"|(\d+))/gm)) {
    out[m[1]] = m[3] !== undefined ? m[3] : Number(m[4]);
  }
  return out;
}

async function main() {
  const parser = new Parser();
  const file = path.join(protoDir, 'asyncapi.yaml');
  const { document, diagnostics } = await fromFile(parser, file).parse();
  // severity: 0 error, 1 warning, 2 information, 3 hint
  for (const d of diagnostics) {
    const where = d.path && d.path.length ? d.path.join('.') : '(document)';
    console.log(`${['error', 'warning', 'info', 'hint'][d.severity]}: ${where}: ${d.message} [${d.code}]`);
  }
  check(document !== undefined, 'the document does not parse');
  check(diagnostics.every((d) => d.severity > 1), 'the parser reports errors or warnings (above)');
  if (document === undefined) return;

  const c = protoConstants();
  const channels = new Map(document.channels().all().map((ch) => [ch.id(), ch]));
  const address = (id) => channels.get(id) && channels.get(id).address();
  const svc = `${c.WR_QUEUE_PREFIX}{service}`;
  check(address('serviceRequests') === svc, `serviceRequests is not ${svc}`);
  check(address('serviceWrites') === `${svc}${c.WR_QUEUE_WRITE_SUFFIX}`, 'serviceWrites: not WR_QUEUE_WRITE_SUFFIX');
  check(address('audit') === c.WR_AUDIT_QUEUE, 'audit: not WR_AUDIT_QUEUE');
  check(address('dead') === c.WR_DEAD_QUEUE, 'dead: not WR_DEAD_QUEUE');
  check(address('deadLetterExchange') === c.WR_DLX_EXCHANGE, 'deadLetterExchange: not WR_DLX_EXCHANGE');
  check(address('replies') === c.WR_REPLY_TO, 'replies: not WR_REPLY_TO');
  check(address('events') === c.WR_EVENTS_EXCHANGE, 'events: not WR_EVENTS_EXCHANGE');
  check(address('eventStream') === `${svc}${c.WR_EVENTS_SUFFIX}`, 'eventStream: not WR_EVENTS_SUFFIX');

  const json = document.json();
  for (const id of ['serviceRequests', 'serviceWrites', 'audit']) {
    const args = json.channels[id]['x-queue-arguments'] || {};
    check(args['x-delivery-limit'] === c.WR_DELIVERY_LIMIT, `${id}: x-delivery-limit is not WR_DELIVERY_LIMIT`);
    check(args['x-dead-letter-exchange'] === c.WR_DLX_EXCHANGE, `${id}: x-dead-letter-exchange`);
    check(args['x-queue-type'] === 'quorum', `${id}: not a quorum queue`);
  }
  check(json.channels.serviceWrites['x-queue-arguments']['x-single-active-consumer'] === true,
    'serviceWrites: no single active consumer');
  check(json.channels.dead['x-queue-arguments']['x-max-length'] === c.WR_DEAD_MAX_LENGTH,
    'dead: x-max-length is not WR_DEAD_MAX_LENGTH');

  const schemas = json.components.schemas;
  const req = Object.keys(schemas.requestHeaders.properties).sort();
  const rep = Object.keys(schemas.replyHeaders.properties);
  check(JSON.stringify(req) === JSON.stringify([c.WR_HDR_BASE_URL, c.WR_HDR_DEADLINE, c.WR_HDR_PRINCIPAL,
    c.WR_HDR_TRACEPARENT, c.WR_HDR_TRACESTATE, c.WR_HDR_MIN_POSITION].sort()),
    `request headers ${req} are not proto.h's`);
  for (const h of [c.WR_HDR_STATUS, c.WR_HDR_LINK, c.WR_HDR_CACHE, c.WR_HDR_REPLY_POSITION]) {
    check(rep.includes(h), `reply header ${h} is missing`);
  }
  check(json.components.messages.auditDocument.description.includes(`\`${c.WR_MSG_TYPE_AUDIT}\``),
    'auditDocument does not name WR_MSG_TYPE_AUDIT');
  for (const m of ['batchRequest', 'batchReply']) {
    check(json.components.messages[m].description.includes(`\`${c.WR_MSG_TYPE_RPC_BATCH}\``),
      `${m} does not name WR_MSG_TYPE_RPC_BATCH`);
  }
  const ev = json.components.messages.changeEvent;
  check(ev.description.includes(`\`${c.WR_MSG_TYPE_EVENT}\``), 'changeEvent does not name WR_MSG_TYPE_EVENT');
  for (const h of [c.WR_HDR_POSITION, c.WR_HDR_EVENT_INDEX, c.WR_HDR_EVENT_COUNT, c.WR_HDR_SERVICE]) {
    check(Object.keys(ev.headers.properties).includes(h), `changeEvent header ${h} is missing`);
  }

  // The payloads are the proto/ schemas, resolved, not copies.
  // (a multi-format payload: {schemaFormat, schema})
  const payload = (m) => document.components().messages().get(m).payload().json();
  const title = (m) => (payload(m).schema || payload(m)).title;
  for (const [m, file] of [['catalogRequest', 'request'], ['serviceRequest', 'service-request'],
    ['replyPage', 'reply-list'], ['replyError', 'error'], ['batchRequest', 'batch'],
    ['batchReply', 'batch-reply'], ['changeEvent', 'event']]) {
    const want = JSON.parse(fs.readFileSync(path.join(protoDir, `${file}.schema.json`), 'utf8')).title;
    check(title(m) === want, `${m}'s payload is not ${file}.schema.json (${title(m)})`);
  }
  const yaml = fs.readFileSync(file, 'utf8');
  check(!/"\$schema"|^\s+\$id:/m.test(yaml), 'a proto/ schema is copied into the document');
  console.log(`asyncapi: ${document.version()}, ${channels.size} channels, ` +
    `${document.operations().all().length} operations, ${document.components().messages().all().length} messages`);
}

main().then(() => {
  for (const p of problems) console.log(`problem: ${p}`);
  console.log(problems.length === 0 ? 'asyncapi: valid, in step with proto.h' : `asyncapi: ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}, (e) => {
  console.error(e);
  process.exitCode = 1;
});
