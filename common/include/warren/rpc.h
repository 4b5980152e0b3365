/* The RPC envelope (proto v1) and the client API other C services use to call
 * warren without the HTTP edge.
 * A request is a JSON object (proto/request.schema.json); a reply is the
 * HTTP-ready body with its status and headers (proto/README.md).
 * Threads: the envelope functions are pure and thread-safe. A wr_rpc is one
 * AMQP connection and is NOT thread-safe: give each thread its own, or
 * serialise the calls on one; any number of wr_rpc may live in a process.
 * wr_rpc_new, wr_rpc_call and wr_rpc_call_many block the calling thread,
 * bounded by connect_timeout_ms and timeout_ms. */
#ifndef WARREN_RPC_H
#define WARREN_RPC_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/amqp.h"
#include "warren/buf.h"
#include "warren/clock.h"
#include "warren/err.h"
#include "warren/proto.h"

/* One request. Strings are borrowed (or, after wr_request_decode, owned by
 * the request until wr_request_release). */
struct wr_request {
    char id[WR_REQUEST_ID_LEN + 1]; /* the request id; "" lets the sender pick one */
    const char *op;                 /* a WR_OP_* */
    const char *collection;         /* NULL only for WR_OP_COLLECTIONS and WR_OP_OPENAPI */
    const char *key;        /* the primary key as text (composite keys joined by ','), or NULL */
    const char *relation;   /* for WR_OP_RELATED, and WR_OP_DELETE with related_id */
    const char *related_id; /* one related object's key: op related reads it, op delete
                               takes it out of the relation */
    long page;              /* 0: not given (1) */
    long results_per_page;  /* 0: not given (the worker's default) */
    const char *body;       /* create: the JSON object, or array of objects, to write, as
                               text; update: the object; batch: the array of operations */
    const char *q;          /* the search (Flask-Restless `q`) as JSON text, or NULL; op list */
    bool depth_given;       /* depth: 0 (objects without relations) to WR_DEPTH_MAX; else the
                               collection's */
    int depth;
    const char *after;  /* op list: a keyset cursor from a Link, "" to start a walk, or NULL */
    const char *before; /* op list: a keyset cursor from a Link rel="prev", or NULL (never
                           with after) */
    const char *count;  /* "exact", "none" (no COUNT(*)), "estimated" or NULL: the
                           collection's COUNT */
    const char *fields; /* list, get, related: "title,Artists.name", the fields shown
                           (narrowing what config shows), or NULL: all */
    const char *prefer_return; /* create: "minimal" (a count, no objects) or
                                  "representation" (the objects, the default), or NULL */
    const char *resolution;    /* create: "merge-duplicates" (an upsert by primary key),
                                  or NULL */
    const char *format;        /* list: "csv" or "ndjson" (WR_FORMAT_*): one chunk of an export,
                                  rendered so, from after ("" or NULL: the first) of at most
                                  results_per_page rows; NULL: a page of JSON */
    /* The client API's W3C Trace Context (the envelope never holds it):
     * the caller's span as a traceparent, sent on as the request's parent
     * (with tracestate when that is valid too); NULL, or one that is not
     * valid, starts a new trace. wr_reply.trace_id tells which. */
    const char *traceparent;
    const char *tracestate;
    /* Who asked, set by the worker from its call (the edge's x-principal),
     * for what binds it (the write ledger); never encoded nor decoded. */
    const char *principal;
    void *owner__; /* decoded requests: what owns the strings */
    /* Read your writes (client API only; not in the envelope: it travels
     * as the header x-min-position): > 0 asks for an answer from data at
     * or past this position (a write's wr_reply.position), or a 504
     * "stale" at the deadline. 0: any data. */
    long long min_position;
};

/* Writes req as the envelope body. 0 or the buffer's error. For another
 * service's op set only op and key (the envelope's "id"). */
int wr_request_encode(const struct wr_request *req, struct wr_buf *out);
/* Parses and checks an envelope body: the version, the op, the types and
 * ranges of every field. 0, WR_EPROTO for another envelope version, or
 * WR_EINVAL; either with a message fit for a 400. On
 * success release req with wr_request_release. */
int wr_request_decode(struct wr_request *req, const char *body, size_t len, struct wr_err *err);
void wr_request_release(struct wr_request *req);

/* Parses and checks the envelope of another service's op (proto/README.md
 * section 4, "Other services"): {"v":1,"op":"<op>"} plus "id" (1 to 1024
 * bytes, no NUL) when the op names one thing, and no other member. The op
 * must be a word (wr_op_name_valid) and, when op is not NULL, equal op (the
 * message's AMQP type, by which the worker dispatched it). req gets op and
 * key (NULL when absent); the catalog's members stay NULL. 0, WR_EPROTO
 * for another envelope version, or WR_EINVAL, with a message fit for a 400
 * (`envelope: ...`). On success release req with wr_request_release; on
 * error req is empty. */
int wr_request_decode_service(struct wr_request *req, const char *op, const char *body, size_t len,
                              struct wr_err *err);
/* True when s is an op name of the contract: [a-z][a-z0-9_]{0,31}. */
bool wr_op_name_valid(const char *s);

/* True for the ops that write (create, update, delete, batch): they travel
 * on the service's write queue and are never cached. */
bool wr_op_is_write(const char *op);

/* Fills id with a new random request id (32 lowercase hex + NUL). */
void wr_request_id_new(char id[WR_REQUEST_ID_LEN + 1]);
/* True when s is a well-formed request id. */
bool wr_request_id_valid(const char *s);

/* wr_now_ms and wr_steady_ms: warren/clock.h (included above). */

/* A reply as the client API hands it over. Every call fills every reply it
 * was given (a made-up 503/504 included), so the caller releases each one
 * with wr_reply_release, whatever the call returned. */
struct wr_reply {
    int status; /* the HTTP status; 503/504 made up by the client on failure */
    char *body; /* NUL-terminated; len excludes the NUL */
    size_t len;
    char *link;         /* the Link header, or NULL */
    char cache[8];      /* the x-cache header (local, hit, miss, bypass, skip, behind), or "" */
    char trace_id[33];  /* the trace the request went out in (32 hex), or "" */
    long long position; /* a write's: the position its transaction committed at
                           (x-warren-position), for min_position; 0 when none */
    char *next;         /* an export chunk's: the next chunk's cursor (x-warren-next),
                           to send as after; NULL on the last chunk */
    long long rows;     /* an export chunk's rows (x-warren-rows); -1 when absent */
};
/* Frees r's body, link and next and clears it. NULL-safe; safe twice. */
void wr_reply_release(struct wr_reply *r);

typedef struct wr_rpc wr_rpc;

struct wr_rpc_opts {
    const char *amqp_url; /* one node or a comma-separated list (struct wr_amqp_opts) */
    const char *service;  /* "catalog": requests go to warren.catalog */
    long timeout_ms;      /* each request's deadline */
    long connect_timeout_ms;
    long heartbeat_s;
    struct wr_amqp_tls tls; /* for amqps:// nodes; from a config: wr_amqp_tls_from_cfg */
};

/* Connects, declares the service's topology and starts consuming direct
 * replies. opts is copied (its strings too). NULL on failure, with err
 * (WR_EINVAL for a bad URL, WR_EIO/WR_ETIMEDOUT when the broker cannot be
 * reached, WR_ENOMEM). */
wr_rpc *wr_rpc_new(const struct wr_rpc_opts *opts, struct wr_err *err);
/* Closes the connection and frees rpc; replies already returned stay the
 * caller's. NULL-safe. */
void wr_rpc_free(wr_rpc *rpc);

/* Sends one request and waits for its reply. Returns 0 with *reply filled
 * (any HTTP status), or WR_ETIMEDOUT (reply->status 504) / WR_ECLOSED
 * (reply->status 503; the connection is reopened on the next call). */
int wr_rpc_call(wr_rpc *rpc, const struct wr_request *req, struct wr_reply *reply,
                struct wr_err *err);

/* Publishes all n requests at once, then collects the replies in any order
 * into replies[i] (for reqs[i]). Returns 0 when every request got a reply,
 * else the first failure; requests without a reply get 504 or 503. */
int wr_rpc_call_many(wr_rpc *rpc, const struct wr_request *reqs, size_t n, struct wr_reply *replies,
                     struct wr_err *err);

#endif
