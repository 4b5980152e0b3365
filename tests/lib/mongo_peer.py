#!/usr/bin/python3
"""A MongoDB wire-protocol test peer for warren's integration tests.

Run with Debian's interpreter (/usr/bin/python3): it needs python3-mockupdb
(request parsing, reply framing) and python3-pymongo (bson, json_util).

    /usr/bin/python3 mongo_peer.py --port P --data FILE [--slow-ms N]
                                   [--reject-inserts] [--verbose]

Listens on 127.0.0.1:P and plays a standalone MongoDB 6.0 server
(maxWireVersion 17, minWireVersion 0), enough for libmongoc 1.23 and
pymongo. One thread per connection; nothing a client sends can stop it.

Commands:
  handshake   isMaster/ismaster (OP_QUERY or OP_MSG), hello (OP_MSG)
  ping, buildInfo, endSessions, killCursors (every cursor is already closed)
  insert      documents as an OP_MSG document sequence or an inline array;
              ordered (default true): stop at the first duplicate _id;
              ordered=false: insert every new _id; each duplicate is a
              writeError {index, code: 11000, errmsg: "E11000 duplicate key
              error ..."}; reply {n, writeErrors (only when any), ok: 1}
  find        filter (see below), sort, skip, limit, projection (top-level
              fields); every match in firstBatch, cursor id 0
  count       query (see below), skip, limit
  aggregate   pipelines of $match, $skip, $limit, $sort, $count, and
              $group with _id a constant or "$field" and $sum accumulators
              (what count_documents sends); cursor id 0
  getMore     always CursorNotFound (43): no cursor outlives its first batch
  listCollections, listDatabases (minimal), drop (code 26 "ns not found"
              when the collection does not exist, as MongoDB 6.0)
  anything else: {ok: 0, code: 115, errmsg: "unsupported by the test peer:
              <name>"}, also for unsupported operators or stages.

Filters: equality on top-level fields ({a: v} or {a: {$eq: v}}); {} is all.
As in MongoDB, {a: null} also matches a missing field, an array field
matches when it contains the value, and numbers compare by value.

Persistence: FILE holds the documents, one JSON line each, in canonical
extended JSON (bson.json_util): {"db": .., "coll": .., "doc": {..}}. Inserts
are appended; a drop rewrites the file (temp file + rename). The file is
loaded at start (a torn last line is skipped), so a stopped and restarted
peer keeps what it stored, as a real server does across an outage.

Debug switches: --slow-ms N delays every reply by N ms (the handshake's too,
so N above the client's connectTimeoutMS makes the server unselectable);
--slow-only insert,find limits the delay to those commands (to make a write
time out on a server the driver can still reach); --reject-inserts closes
the connection instead of answering an insert; --verbose logs every command
document in full.

Logs one line per request to stderr.
"""

import argparse
import datetime
import decimal
import itertools
import logging
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections import OrderedDict

import bson
import mockupdb
from bson import json_util
from bson.binary import Binary, UuidRepresentation
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp

# UNSPECIFIED keeps every binary subtype as it came (the default would turn
# a subtype 4 UUID into subtype 3 on the way back). mockupdb's parsers read
# the module-level CODEC_OPTIONS at call time.
CODEC = CodecOptions(document_class=OrderedDict,
                     uuid_representation=UuidRepresentation.UNSPECIFIED)
mockupdb.CODEC_OPTIONS = CODEC
JSON_OPTS = json_util.JSONOptions(
    json_mode=json_util.JSONMode.CANONICAL, document_class=OrderedDict,
    uuid_representation=UuidRepresentation.UNSPECIFIED, tz_aware=False)

MAX_WIRE_VERSION = 17  # MongoDB 6.0
MIN_WIRE_VERSION = 0
MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48000000
MAX_WRITE_BATCH = 100000
OP_COMPRESSED = 2012

log = logging.getLogger('mongo_peer')


class CommandError(Exception):
    def __init__(self, code, code_name, errmsg):
        Exception.__init__(self, errmsg)
        self.code = code
        self.code_name = code_name
        self.errmsg = errmsg


def unsupported(what):
    return CommandError(115, 'CommandNotSupported',
                        'unsupported by the test peer: %s' % what)


def bad_value(msg):
    return CommandError(2, 'BadValue', msg)


def type_mismatch(msg):
    return CommandError(14, 'TypeMismatch', msg)


# --- BSON values: equality and order ----------------------------------------

def _is_number(v):
    return (isinstance(v, (int, float, Decimal128))
            and not isinstance(v, bool))


def _num(v):
    if isinstance(v, Decimal128):
        return v.to_decimal()
    if isinstance(v, float):
        return decimal.Decimal(v) if v == v and abs(v) != float('inf') else v
    return v


def _type_rank(v):
    """MongoDB's comparison order of BSON types."""
    if isinstance(v, MinKey):
        return 0
    if v is None:
        return 1
    if _is_number(v):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, dict):
        return 4
    if isinstance(v, list):
        return 5
    if isinstance(v, (Binary, bytes)):
        return 6
    if isinstance(v, ObjectId):
        return 7
    if isinstance(v, bool):
        return 8
    if isinstance(v, datetime.datetime):
        return 9
    if isinstance(v, Timestamp):
        return 10
    if isinstance(v, (Regex, re.Pattern)):
        return 11
    if isinstance(v, MaxKey):
        return 13
    return 12


def bson_cmp(a, b):
    """-1, 0 or 1, in MongoDB's order (an approximation for odd types)."""
    ra, rb = _type_rank(a), _type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 2:
        x, y = _num(a), _num(b)
        try:
            return (x > y) - (x < y)
        except (TypeError, ArithmeticError):  # NaN and the like
            x, y = float(x), float(y)
            if x != x or y != y:  # NaN sorts first among numbers
                return (y != y) - (x != x)
            return (x > y) - (x < y)
    if ra == 4:
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            c = bson_cmp(va, vb)
            if c:
                return c
            if ka != kb:
                return -1 if ka < kb else 1
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 5:
        for va, vb in zip(a, b):
            c = bson_cmp(va, vb)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 6:
        ka = (len(a), getattr(a, 'subtype', 0), bytes(a))
        kb = (len(b), getattr(b, 'subtype', 0), bytes(b))
        return (ka > kb) - (ka < kb)
    if ra == 7:
        return (a.binary > b.binary) - (a.binary < b.binary)
    if ra == 10:
        ka, kb = (a.time, a.inc), (b.time, b.inc)
        return (ka > kb) - (ka < kb)
    if ra in (3, 8, 9):
        return (a > b) - (a < b)
    if ra in (0, 1, 13):
        return 0
    sa, sb = repr(a), repr(b)
    return (sa > sb) - (sa < sb)


def bson_eq(a, b):
    return _type_rank(a) == _type_rank(b) and bson_cmp(a, b) == 0


class _SortKey(object):
    __slots__ = ('values', 'dirs')

    def __init__(self, values, dirs):
        self.values = values
        self.dirs = dirs

    def __lt__(self, other):
        for a, b, d in zip(self.values, other.values, self.dirs):
            c = bson_cmp(a, b)
            if c:
                return c * d < 0
        return False


def id_key(v):
    """Hashable identity of an _id, equal where MongoDB finds a duplicate."""
    if _is_number(v):
        n = _num(v)
        return ('n', n if not isinstance(n, decimal.Decimal) or n.is_nan()
                else n.normalize())
    return ('b', bson.encode({'': v}, codec_options=CODEC))


# --- queries -------------------------------------------------------------------

def compile_filter(flt, what):
    """Turn a filter document into a list of (field, value) equalities."""
    if flt is None:
        return []
    if not isinstance(flt, dict):
        raise type_mismatch('%s must be an object' % what)
    terms = []
    for field, value in flt.items():
        if field.startswith('$'):
            raise unsupported('%s operator %s' % (what, field))
        if '.' in field:
            raise unsupported('%s on a dotted field (%s)' % (what, field))
        if isinstance(value, dict) and value and \
                next(iter(value)).startswith('$'):
            ops = list(value)
            if ops != ['$eq']:
                bad = [o for o in ops if o != '$eq'] or ops
                raise unsupported('%s operator %s' % (what, bad[0]))
            value = value['$eq']
        elif isinstance(value, (Regex, re.Pattern)):
            raise unsupported('%s with a regular expression' % what)
        terms.append((field, value))
    return terms


_MISSING = object()


def matches(doc, terms):
    for field, want in terms:
        have = doc.get(field, _MISSING)
        if have is _MISSING:
            if want is None:
                continue
            return False
        if bson_eq(have, want):
            continue
        if isinstance(have, list) and any(bson_eq(x, want) for x in have):
            continue
        return False
    return True


def compile_sort(spec, what):
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise type_mismatch('%s must be an object' % what)
    keys = []
    for field, d in spec.items():
        if '.' in field or field.startswith('$'):
            raise unsupported('%s on %s' % (what, field))
        if isinstance(d, dict):
            raise unsupported('%s by %s' % (what, d))
        if not _is_number(d) or _num(d) not in (1, -1):
            raise bad_value('$sort key ordering must be 1 (for ascending) '
                            'or -1 (for descending)')
        keys.append((field, 1 if _num(d) == 1 else -1))
    return keys or None


def apply_sort(docs, keys):
    if not keys:
        return docs
    dirs = [d for _, d in keys]

    def key(doc):
        return _SortKey([doc.get(f) for f, _ in keys], dirs)
    return sorted(docs, key=key)


def apply_projection(docs, proj):
    if not proj:
        return docs
    if not isinstance(proj, dict):
        raise type_mismatch('projection must be an object')
    include, exclude = [], []
    keep_id = True
    for field, v in proj.items():
        if '.' in field or field.startswith('$') or isinstance(v, dict):
            raise unsupported('projection of %s' % field)
        on = bool(v)
        if field == '_id':
            keep_id = on
        elif on:
            include.append(field)
        else:
            exclude.append(field)
    if include and exclude:
        raise CommandError(31254, 'Location31254',
                           'Cannot do exclusion on field %s in inclusion '
                           'projection' % exclude[0])
    out = []
    for doc in docs:
        if include:
            d = OrderedDict((k, v) for k, v in doc.items()
                            if k in include or (k == '_id' and keep_id))
        else:
            d = OrderedDict((k, v) for k, v in doc.items()
                            if k not in exclude and (k != '_id' or keep_id))
        out.append(d)
    return out


def get_int(cmd, name, default=0):
    v = cmd.get(name, default)
    if v is None:
        return default
    if not _is_number(v):
        raise type_mismatch('%s must be a number' % name)
    return int(_num(v))


# --- store ---------------------------------------------------------------------

class Store(object):
    """Documents per (db, collection), kept in FILE as JSON lines."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.colls = OrderedDict()  # (db, coll) -> OrderedDict(id_key -> doc)
        self._fd = None
        self._load()

    def _load(self):
        n = bad = 0
        try:
            f = open(self.path, 'r', encoding='utf-8')
        except FileNotFoundError:
            f = None
        if f is not None:
            with f:
                lines = f.read().split('\n')
            for i, line in enumerate(lines):
                if not line.strip():
                    continue
                try:
                    rec = json_util.loads(line, json_options=JSON_OPTS)
                    db, coll, doc = rec['db'], rec['coll'], rec['doc']
                    if not isinstance(doc, dict) or '_id' not in doc:
                        raise ValueError('no document with an _id')
                except Exception as e:
                    bad += 1
                    log.warning('%s:%d: skipped unreadable line (%s)',
                                self.path, i + 1, e)
                    continue
                self.colls.setdefault((db, coll), OrderedDict())[
                    id_key(doc['_id'])] = doc
                n += 1
        log.info('loaded %d document(s) in %d collection(s) from %s%s', n,
                 len(self.colls), self.path,
                 ' (%d line(s) skipped)' % bad if bad else '')
        # Start from a clean file (drops a torn last line for good).
        self._rewrite()

    @staticmethod
    def _line(db, coll, doc):
        rec = OrderedDict([('db', db), ('coll', coll), ('doc', doc)])
        return json_util.dumps(rec, json_options=JSON_OPTS) + '\n'

    def _open_append(self):
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                           0o644)

    def _rewrite(self):
        tmp = '%s.tmp.%d' % (self.path, os.getpid())
        with open(tmp, 'w', encoding='utf-8') as f:
            for (db, coll), docs in self.colls.items():
                for doc in docs.values():
                    f.write(self._line(db, coll, doc))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._open_append()

    def _append(self, db, coll, docs):
        data = ''.join(self._line(db, coll, d) for d in docs).encode('utf-8')
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]

    def insert(self, db, coll, docs, ordered):
        """Returns (inserted count, [(index, doc, existing _id)] errors)."""
        with self.lock:
            c = self.colls.setdefault((db, coll), OrderedDict())
            added, errors = [], []
            for i, doc in enumerate(docs):
                k = id_key(doc['_id'])
                if k in c:
                    errors.append((i, doc))
                    if ordered:
                        break
                    continue
                c[k] = doc
                added.append(doc)
            if added:
                self._append(db, coll, added)
            return len(added), errors

    def docs(self, db, coll):
        with self.lock:
            c = self.colls.get((db, coll))
            return list(c.values()) if c else []

    def exists(self, db, coll):
        with self.lock:
            return (db, coll) in self.colls

    def drop(self, db, coll):
        with self.lock:
            c = self.colls.pop((db, coll), None)
            if c is None:
                return None
            self._rewrite()
            return len(c)

    def collections(self, db):
        with self.lock:
            return [(c, len(d)) for (d0, c), d in self.colls.items()
                    if d0 == db]

    def databases(self):
        with self.lock:
            out = OrderedDict()
            for (db, _), d in self.colls.items():
                out[db] = out.get(db, 0) + len(d)
            return list(out.items())


# --- commands ------------------------------------------------------------------

def cursor_reply(db, coll, batch):
    return {'cursor': OrderedDict([('firstBatch', batch),
                                   ('id', Int64(0)),
                                   ('ns', '%s.%s' % (db, coll))]),
            'ok': 1.0}


def coll_name(cmd, name):
    v = cmd[name]
    if not isinstance(v, str) or not v:
        raise CommandError(73, 'InvalidNamespace',
                           'collection name must be a non-empty string, '
                           'not %r' % (v,))
    return v


def dup_errmsg(db, coll, _id):
    shown = json_util.dumps(
        _id, json_options=json_util.RELAXED_JSON_OPTIONS)
    return ('E11000 duplicate key error collection: %s.%s index: _id_ '
            'dup key: { _id: %s }' % (db, coll, shown))


class Peer(object):
    def __init__(self, store, slow_ms=0, reject_inserts=False,
                 slow_only=None):
        self.store = store
        self.slow_ms = slow_ms
        self.slow_only = slow_only  # None: every reply
        self.reject_inserts = reject_inserts
        self.commands = {
            'ismaster': self.cmd_hello, 'isMaster': self.cmd_hello,
            'hello': self.cmd_hello,
            'ping': self.cmd_ok, 'endSessions': self.cmd_ok,
            'buildInfo': self.cmd_build_info,
            'buildinfo': self.cmd_build_info,
            'insert': self.cmd_insert, 'find': self.cmd_find,
            'count': self.cmd_count, 'aggregate': self.cmd_aggregate,
            'getMore': self.cmd_get_more, 'killCursors': self.cmd_kill_cursors,
            'listCollections': self.cmd_list_collections,
            'listDatabases': self.cmd_list_databases,
            'drop': self.cmd_drop,
        }

    # handshake and trivia

    def cmd_hello(self, db, cmd, conn):
        name = next(iter(cmd))
        reply = OrderedDict()
        if name == 'hello':
            reply['isWritablePrimary'] = True
        else:
            reply['ismaster'] = True
        reply.update([
            ('helloOk', True),
            ('maxBsonObjectSize', MAX_BSON_SIZE),
            ('maxMessageSizeBytes', MAX_MESSAGE_SIZE),
            ('maxWriteBatchSize', MAX_WRITE_BATCH),
            ('localTime', datetime.datetime.utcnow()),
            ('logicalSessionTimeoutMinutes', 30),
            ('connectionId', conn.id),
            ('minWireVersion', MIN_WIRE_VERSION),
            ('maxWireVersion', MAX_WIRE_VERSION),
            ('readOnly', False),
            ('ok', 1.0),
        ])
        return reply

    def cmd_ok(self, db, cmd, conn):
        return {'ok': 1.0}

    def cmd_build_info(self, db, cmd, conn):
        return OrderedDict([
            ('version', '6.0.0'), ('gitVersion', 'warren-mongo-peer'),
            ('versionArray', [6, 0, 0, 0]), ('bits', 64), ('debug', False),
            ('maxBsonObjectSize', MAX_BSON_SIZE),
            ('storageEngines', ['warren-mongo-peer']),
            ('modules', []), ('ok', 1.0)])

    # writes

    def cmd_insert(self, db, cmd, conn):
        coll = coll_name(cmd, 'insert')
        docs = cmd.get('documents')
        if not isinstance(docs, list) or not docs:
            raise CommandError(9, 'FailedToParse',
                               'insert needs a non-empty documents array')
        if len(docs) > MAX_WRITE_BATCH:
            raise CommandError(10, 'InvalidLength',
                               'Write batch sizes must be between 1 and %d. '
                               'Got %d operations.' % (MAX_WRITE_BATCH,
                                                       len(docs)))
        ready = []
        for d in docs:
            if not isinstance(d, dict):
                raise type_mismatch('documents must be objects')
            if '_id' not in d:
                d2 = OrderedDict([('_id', ObjectId())])
                d2.update(d)
                d = d2
            elif isinstance(d['_id'], (list, Regex, re.Pattern)):
                raise CommandError(
                    2, 'BadValue', "can't use a %s for _id"
                    % type(d['_id']).__name__)
            ready.append(d)
        ordered = cmd.get('ordered', True)
        ordered = True if ordered is None else bool(ordered)
        n, errors = self.store.insert(db, coll, ready, ordered)
        reply = OrderedDict([('n', n)])
        if errors:
            reply['writeErrors'] = [OrderedDict([
                ('index', i), ('code', 11000),
                ('keyPattern', {'_id': 1}),
                ('keyValue', {'_id': d['_id']}),
                ('errmsg', dup_errmsg(db, coll, d['_id']))])
                for i, d in errors]
        reply['ok'] = 1.0
        return reply

    def cmd_drop(self, db, cmd, conn):
        coll = coll_name(cmd, 'drop')
        n = self.store.drop(db, coll)
        if n is None:
            raise CommandError(26, 'NamespaceNotFound', 'ns not found')
        return OrderedDict([('nIndexesWas', 1),
                            ('ns', '%s.%s' % (db, coll)), ('ok', 1.0)])

    # reads

    def _select(self, db, coll, flt, what):
        terms = compile_filter(flt, what)
        return [d for d in self.store.docs(db, coll) if matches(d, terms)]

    @staticmethod
    def _skip_limit(docs, skip, limit):
        if skip < 0:
            raise bad_value('skip value must be non-negative')
        docs = docs[skip:]
        limit = abs(limit)
        return docs[:limit] if limit else docs

    def cmd_find(self, db, cmd, conn):
        coll = coll_name(cmd, 'find')
        for opt in ('min', 'max', 'hint', 'collation', 'let'):
            if cmd.get(opt):
                raise unsupported('find option %s' % opt)
        docs = self._select(db, coll, cmd.get('filter'), 'find filter')
        docs = apply_sort(docs, compile_sort(cmd.get('sort'), 'find sort'))
        docs = self._skip_limit(docs, get_int(cmd, 'skip'),
                                get_int(cmd, 'limit'))
        docs = apply_projection(docs, cmd.get('projection'))
        return cursor_reply(db, coll, docs)

    def cmd_count(self, db, cmd, conn):
        coll = coll_name(cmd, 'count')
        docs = self._select(db, coll, cmd.get('query'), 'count query')
        docs = self._skip_limit(docs, get_int(cmd, 'skip'),
                                get_int(cmd, 'limit'))
        return OrderedDict([('n', len(docs)), ('ok', 1.0)])

    def cmd_aggregate(self, db, cmd, conn):
        coll = cmd['aggregate']
        if not isinstance(coll, str):
            raise unsupported('aggregate on a database')
        coll = coll_name(cmd, 'aggregate')
        if cmd.get('explain'):
            raise unsupported('aggregate explain')
        pipeline = cmd.get('pipeline')
        if not isinstance(pipeline, list):
            raise type_mismatch("'pipeline' option must be specified as an "
                                "array")
        docs = self.store.docs(db, coll)
        for stage in pipeline:
            if not isinstance(stage, dict) or len(stage) != 1:
                raise CommandError(40323, 'Location40323',
                                   'A pipeline stage specification object '
                                   'must contain exactly one field.')
            (op, arg), = stage.items()
            if op == '$match':
                terms = compile_filter(arg, '$match')
                docs = [d for d in docs if matches(d, terms)]
            elif op == '$skip':
                docs = self._skip_limit(docs, get_int(stage, '$skip'), 0)
            elif op == '$limit':
                n = get_int(stage, '$limit')
                if n <= 0:
                    raise bad_value('the limit must be positive')
                docs = docs[:n]
            elif op == '$sort':
                docs = apply_sort(docs, compile_sort(arg, '$sort'))
            elif op == '$count':
                if not isinstance(arg, str) or not arg or \
                        arg.startswith('$') or '.' in arg:
                    raise bad_value('the count field must be a non-empty '
                                    'string without $ or .')
                docs = [OrderedDict([(arg, len(docs))])] if docs else []
            elif op == '$group':
                docs = self._group(docs, arg)
            else:
                raise unsupported('aggregate stage %s' % op)
        return cursor_reply(db, coll, docs)

    @staticmethod
    def _group(docs, spec):
        if not isinstance(spec, dict) or '_id' not in spec:
            raise CommandError(15955, 'Location15955',
                               "a group specification must include an _id")

        def value_of(expr, doc):
            if isinstance(expr, str) and expr.startswith('$'):
                f = expr[1:]
                if not f or '.' in f or f.startswith('$'):
                    raise unsupported('$group expression %s' % expr)
                return doc.get(f)
            if isinstance(expr, (dict, list)):
                raise unsupported('$group expression %r' % (expr,))
            return expr

        accs = []
        for field, acc in spec.items():
            if field == '_id':
                continue
            if not isinstance(acc, dict) or list(acc) != ['$sum']:
                raise unsupported('$group accumulator %r' % (acc,))
            accs.append((field, acc['$sum']))
        groups = OrderedDict()
        for doc in docs:
            gid = value_of(spec['_id'], doc)
            k = id_key(gid)
            g = groups.get(k)
            if g is None:
                g = groups[k] = OrderedDict([('_id', gid)])
                for field, _ in accs:
                    g[field] = 0
            for field, expr in accs:
                v = value_of(expr, doc)
                if _is_number(v):
                    g[field] = g[field] + (v.to_decimal() if isinstance(
                        v, Decimal128) else v)
        for g in groups.values():
            for field, _ in accs:
                if isinstance(g[field], decimal.Decimal):
                    g[field] = Decimal128(g[field])
                elif isinstance(g[field], int) and \
                        not -2**31 <= g[field] < 2**31:
                    g[field] = Int64(g[field])
        return list(groups.values())

    def cmd_get_more(self, db, cmd, conn):
        raise CommandError(43, 'CursorNotFound',
                           'cursor id %s not found' % (cmd.get('getMore'),))

    def cmd_kill_cursors(self, db, cmd, conn):
        ids = cmd.get('cursors') or []
        return OrderedDict([('cursorsKilled', []), ('cursorsNotFound', ids),
                            ('cursorsAlive', []), ('cursorsUnknown', []),
                            ('ok', 1.0)])

    def cmd_list_collections(self, db, cmd, conn):
        terms = compile_filter(cmd.get('filter'), 'listCollections filter')
        out = []
        for name, _ in self.store.collections(db):
            info = OrderedDict([
                ('name', name), ('type', 'collection'), ('options', {}),
                ('info', {'readOnly': False}),
                ('idIndex', OrderedDict([('v', 2), ('key', {'_id': 1}),
                                         ('name', '_id_')]))])
            if matches(info, terms):
                out.append(info)
        return cursor_reply(db, '$cmd.listCollections', out)

    def cmd_list_databases(self, db, cmd, conn):
        if db != 'admin':
            raise CommandError(13, 'Unauthorized',
                               'listDatabases may only be run against the '
                               'admin database.')
        terms = compile_filter(cmd.get('filter'), 'listDatabases filter')
        dbs = []
        for name, n in self.store.databases():
            entry = OrderedDict([('name', name),
                                 ('sizeOnDisk', Int64(4096 * (1 + n))),
                                 ('empty', n == 0)])
            if matches(entry, terms):
                dbs.append(entry if not cmd.get('nameOnly')
                           else OrderedDict([('name', name)]))
        reply = OrderedDict([('databases', dbs)])
        if not cmd.get('nameOnly'):
            reply['totalSize'] = Int64(sum(d.get('sizeOnDisk', 0)
                                           for d in dbs))
        reply['ok'] = 1.0
        return reply

    def run_command(self, db, cmd, conn):
        """The reply document to one command (never raises)."""
        name = next(iter(cmd), None)
        handler = self.commands.get(name)
        try:
            if handler is None:
                raise unsupported(name if name is not None else '(empty command)')
            return handler(db, cmd, conn)
        except CommandError as e:
            return OrderedDict([('ok', 0.0), ('errmsg', e.errmsg),
                                ('code', e.code), ('codeName', e.code_name)])
        except Exception as e:
            log.exception('conn %d: %s failed', conn.id, name)
            return OrderedDict([('ok', 0.0),
                                ('errmsg', 'test peer error in %s: %s: %s'
                                 % (name, type(e).__name__, e)),
                                ('code', 1), ('codeName', 'InternalError')])


# --- connections ---------------------------------------------------------------

def _json(v, limit=240):
    try:
        s = json_util.dumps(v, json_options=json_util.RELAXED_JSON_OPTIONS)
    except Exception:
        s = repr(v)
    return s if len(s) <= limit else s[:limit - 3] + '...'


def _describe(cmd, verbose):
    """The command for the log: every field, the bulky ones abridged."""
    if verbose:
        return _json(cmd, 1 << 20)
    parts = []
    for k, v in cmd.items():
        if k == 'documents' and isinstance(v, list):
            parts.append('documents: [%d docs]' % len(v))
        elif k in ('lsid', 'client'):
            parts.append(k)  # session id / driver metadata: noise
        else:
            parts.append('%s: %s' % (k, _json(v)))
    return '{%s}' % ', '.join(parts)


class Conn(object):
    _ids = itertools.count(1)

    def __init__(self, peer, sock, addr, verbose):
        self.peer = peer
        self.sock = sock
        self.addr = addr
        self.verbose = verbose
        self.id = next(Conn._ids)

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def _send(self, reply_obj, request, name=None):
        peer = self.peer
        if peer.slow_ms and (peer.slow_only is None or name in peer.slow_only):
            time.sleep(peer.slow_ms / 1000.0)
        self.sock.sendall(reply_obj.reply_bytes(request))

    def _error_doc(self, code, code_name, msg):
        return OrderedDict([('ok', 0.0), ('errmsg', msg), ('code', code),
                            ('codeName', code_name)])

    def serve(self):
        log.info('conn %d: open from %s:%d', self.id, *self.addr[:2])
        why = 'closed by the client'
        try:
            while True:
                if not self._one():
                    why = 'closed by the peer'
                    break
        except EOFError:
            pass
        except (ConnectionError, OSError) as e:
            why = 'network error: %s' % e
        except Exception:
            log.exception('conn %d: unexpected failure', self.id)
            why = 'closed after an internal error'
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
        log.info('conn %d: %s', self.id, why)

    def _one(self):
        """Read one message and answer it; False to close the connection."""
        header = self._recv(16)
        length, request_id, _, opcode = struct.unpack('<iiii', header)
        if length < 16 or length > MAX_MESSAGE_SIZE + 16 * 1024:
            log.warning('conn %d: bad message length %d, closing', self.id,
                        length)
            return False
        body = self._recv(length - 16)
        cls = mockupdb.OPCODES.get(opcode)
        if cls is None:
            log.warning('conn %d: opcode %d not understood (%s), closing',
                        self.id, opcode,
                        'OP_COMPRESSED' if opcode == OP_COMPRESSED else
                        'unknown')
            return False
        try:
            req = cls.unpack(body, self.sock, None, request_id)
        except Exception as e:
            log.warning('conn %d: cannot parse %s message: %s: %s', self.id,
                        cls.__name__, type(e).__name__, e)
            err = self._error_doc(9, 'FailedToParse',
                                  'test peer cannot parse the message: %s'
                                  % e)
            if opcode == mockupdb.OP_MSG:
                flags = struct.unpack('<I', body[:4])[0] if len(body) >= 4 \
                    else 0
                if flags & mockupdb.OP_MSG_FLAGS['moreToCome']:
                    return True
                self._send(mockupdb.OpMsgReply(err), _ReqId(request_id))
                return True
            if opcode == mockupdb.OP_QUERY:
                self._send(mockupdb.OpReply(err), _ReqId(request_id))
                return True
            return True  # legacy writes and kill cursors get no reply
        return self._dispatch(req, opcode)

    def _dispatch(self, req, opcode):
        peer = self.peer
        if opcode == mockupdb.OP_MSG:
            cmd = OrderedDict(req.doc)
            db = cmd.pop('$db', None)
            no_reply = bool(req.flags & mockupdb.OP_MSG_FLAGS['moreToCome'])
            name = next(iter(cmd), None)
            log.info('conn %d: OP_MSG %s %s%s', self.id, db,
                     _describe(cmd, self.verbose),
                     ' (moreToCome: no reply)' if no_reply else '')
            if name == 'insert' and peer.reject_inserts:
                log.info('conn %d: --reject-inserts: closing', self.id)
                self.sock.shutdown(socket.SHUT_RDWR)
                return False
            reply = peer.run_command(db, cmd, self)
            self._log_reply(name, reply)
            if not no_reply:
                self._send(mockupdb.OpMsgReply(reply), req, name)
            return True
        if opcode == mockupdb.OP_QUERY:
            if not req.is_command:
                log.info('conn %d: OP_QUERY %s %s: legacy query refused',
                         self.id, req.namespace, _describe(req.doc, False))
                self._send(mockupdb.OpReply(
                    {'$err': 'unsupported by the test peer: legacy OP_QUERY '
                             'find', 'code': 115},
                    flags=mockupdb.REPLY_FLAGS['QueryFailure']), req)
                return True
            cmd = OrderedDict(req.doc)
            if '$query' in cmd:  # wrapped for $readPreference
                cmd = OrderedDict(cmd['$query'])
            db = req.namespace
            name = next(iter(cmd), None)
            log.info('conn %d: OP_QUERY %s %s', self.id, db,
                     _describe(cmd, self.verbose))
            if name == 'insert' and peer.reject_inserts:
                log.info('conn %d: --reject-inserts: closing', self.id)
                self.sock.shutdown(socket.SHUT_RDWR)
                return False
            reply = peer.run_command(db, cmd, self)
            self._log_reply(name, reply)
            self._send(mockupdb.OpReply(reply), req, name)
            return True
        if opcode == mockupdb.OP_GET_MORE:
            log.info('conn %d: OP_GET_MORE %s cursor %s: not found', self.id,
                     req.namespace, req.cursor_id)
            self._send(mockupdb.OpReply(
                [], flags=mockupdb.REPLY_FLAGS['CursorNotFound']), req)
            return True
        # OP_INSERT, OP_UPDATE, OP_DELETE, OP_KILL_CURSORS: no reply exists.
        log.info('conn %d: %s ignored (legacy, unsupported)', self.id,
                 type(req).__name__)
        return True

    def _log_reply(self, name, reply):
        if reply.get('ok'):
            extra = ''
            if 'n' in reply:
                extra = ' n=%s' % reply['n']
            if 'writeErrors' in reply:
                extra += ' writeErrors=%d' % len(reply['writeErrors'])
            if 'cursor' in reply:
                extra += ' firstBatch=%d' % len(reply['cursor']['firstBatch'])
            if self.verbose or extra:
                log.info('conn %d:   -> ok%s', self.id, extra)
        else:
            log.info('conn %d:   -> error %s (%s): %s', self.id,
                     reply.get('code'), reply.get('codeName'),
                     reply.get('errmsg'))


class _ReqId(object):
    """Stands for a request that could not be parsed, for reply framing."""

    def __init__(self, request_id):
        self.request_id = request_id


# --- main ----------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description='MongoDB wire-protocol test peer (see the module doc).')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--data', required=True,
                    help='JSON lines file holding the documents')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--slow-ms', type=int, default=0,
                    help='delay every reply by this many milliseconds')
    ap.add_argument('--slow-only', metavar='CMDS',
                    help='comma-separated command names: --slow-ms delays '
                         'only their replies')
    ap.add_argument('--reject-inserts', action='store_true',
                    help='close the connection instead of answering inserts')
    ap.add_argument('--verbose', action='store_true',
                    help='log every command document in full')
    args = ap.parse_args(argv)
    if not 0 < args.port < 65536:
        ap.error('bad port %d' % args.port)
    if args.slow_ms < 0:
        ap.error('--slow-ms must be >= 0')

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format='%(asctime)s.%(msecs)03d mongo_peer[%(process)d] '
               '%(message)s', datefmt='%Y-%m-%d %H:%M:%S')
    slow_only = None
    if args.slow_only is not None:
        slow_only = frozenset(c for c in args.slow_only.split(',') if c)
    log.info('=== starting on %s:%d, data %s%s%s', args.host, args.port,
             args.data,
             ', slow %d ms%s' % (args.slow_ms, ' for %s' % ','.join(
                 sorted(slow_only)) if slow_only is not None else '')
             if args.slow_ms else '',
             ', rejecting inserts' if args.reject_inserts else '')

    store = Store(args.data)
    peer = Peer(store, args.slow_ms, args.reject_inserts, slow_only)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(128)

    def stop(signum, _frame):
        # Never exit in the middle of a write to the data file.
        with store.lock:
            log.info('signal %d: exiting', signum)
            logging.shutdown()
            os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    log.info('ready')

    while True:
        try:
            sock, addr = lsock.accept()
        except OSError as e:
            log.warning('accept failed: %s', e)
            time.sleep(0.05)
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(peer, sock, addr, args.verbose)
            t = threading.Thread(target=conn.serve,
                                 name='conn-%d' % conn.id, daemon=True)
            t.start()
        except Exception:
            log.exception('cannot serve a new connection')
            sock.close()


if __name__ == '__main__':
    main()
