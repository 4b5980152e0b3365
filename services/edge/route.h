/* URL -> what to do: the path
 * (`/api/<collection>[/<id>[/<relation>[/<related id>]]]`,
 * `/api/eval/<collection>`, `/api`, `/api/openapi.json`, `/api/_batch`,
 * `/healthz`, `/readyz`, `/metrics`, `/svc/<service>/<op>[/<id>]`) and the
 * query parameters of a read; and the `Prefer` header of a write. Pure: no
 * I/O, so unit tests and the fuzzer call it directly. Which services exist
 * is the config's (SERVICES), not the route's. */
#ifndef EDGE_ROUTE_H
#define EDGE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/err.h"

/* ROUTE_API: /api/ (the catalog, SERVICE); ROUTE_SVC: /svc/ (another
 * service); ROUTE_HEALTH and ROUTE_READY: the probes; ROUTE_METRICS:
 * Prometheus's /metrics. */
enum route_kind { ROUTE_API, ROUTE_HEALTH, ROUTE_READY, ROUTE_SVC, ROUTE_METRICS };

#define ROUTE_NAME_MAX 128
#define ROUTE_KEY_MAX 1024
#define ROUTE_AFTER_MAX 2048
#define ROUTE_FIELDS_MAX 4096
#define ROUTE_SERVICE_MAX 32 /* [a-z][a-z0-9-]{0,31} */
#define ROUTE_OP_MAX 32      /* a service's op: [a-z][a-z0-9_]{0,31} */

struct route {
    enum route_kind kind;
    const char *op; /* WR_OP_* for ROUTE_API; /api/eval/<c> is WR_OP_FUNCTIONS, /api
                     * WR_OP_COLLECTIONS, /api/openapi.json WR_OP_OPENAPI and
                     * /api/_batch WR_OP_BATCH; for ROUTE_SVC the service's op
                     * (pointing into svc_op) */
    char collection[ROUTE_NAME_MAX + 1]; /* "" for /api, /api/openapi.json, /api/_batch and
                                            /svc/ */
    char key[ROUTE_KEY_MAX + 1];         /* "" when absent; /svc/'s <id> */
    char relation[ROUTE_NAME_MAX + 1];   /* "" when absent */
    char related_key[ROUTE_KEY_MAX + 1]; /* /api/<c>/<id>/<relation>/<this>, or "" */
    long page;                           /* 0 when absent */
    long per_page;                       /* 0 when absent */
    char *q;           /* the search's JSON text (checked: an object), malloc'd, or NULL */
    int depth;         /* -1 when absent, else 0 to WR_DEPTH_MAX */
    const char *count; /* "exact", "none", "estimated", or NULL when absent */
    bool has_fields;   /* fields= was given (a read of objects only) */
    char fields[ROUTE_FIELDS_MAX + 1];   /* its value, decoded: UTF-8 text without NUL */
    bool has_after;                      /* after= was given (a list only) */
    char after[ROUTE_AFTER_MAX + 1];     /* its value: base64url characters, "" to start */
    bool has_before;                     /* before= was given (a list only) */
    char before[ROUTE_AFTER_MAX + 1];    /* its value: base64url characters, not empty */
    char service[ROUTE_SERVICE_MAX + 1]; /* ROUTE_SVC: the service, else "" */
    char svc_op[ROUTE_OP_MAX + 1];       /* ROUTE_SVC: the op, else "" */
};

#define ROUTE_Q_MAX ((size_t)65536)

/* What a search may hold: arrays and objects nested at most max_depth deep
 * (the outer object is depth 1), at most max_in values in one in / not_in
 * list. Zero fields mean the defaults. */
struct route_limits {
    int max_depth;
    size_t max_in;
};
#define ROUTE_DEFAULT_MAX_DEPTH 16
#define ROUTE_DEFAULT_MAX_IN 500

/* Parses a request's path and query (query may be NULL; limits NULL for the
 * defaults). Returns 0, WR_ENOTFOUND (a 404: no such route, including a
 * segment that is not valid UTF-8 or has a NUL, and a /svc/ route whose
 * service or op is not a name of its form) or WR_EINVAL (a 400: a
 * malformed parameter, any parameter's name or value that is not valid
 * UTF-8 or has a NUL, a q over its limits, any parameter at all on a
 * /svc/ route; err says which, naming the parameter). With WR_EINVAL the
 * path's members (kind, op, collection, key, relation, related_key,
 * service, svc_op) are set as with 0. */
int route_parse(const char *path, const char *query, const struct route_limits *limits,
                struct route *r, struct wr_err *err);
/* The deepest nesting of arrays and objects in n bytes of JSON text
 * (strings skipped); 0 for a scalar. */
int route_json_depth(const char *s, size_t n);
/* Makes r the empty route route_parse starts from: every text "", depth -1,
 * the rest 0 or NULL. A route holds ~10 KB of buffers: zeroing them all
 * twice per request was a fifth of the edge's instructions. */
void route_init(struct route *r);
/* Frees what route_parse allocated (r->q); safe on any route, twice too. */
void route_release(struct route *r);

/* What a `Prefer` header (RFC 7240) asks of a POST to a collection:
 * `return=minimal` or `return=representation`, and
 * `resolution=merge-duplicates` (PostgREST's words). */
struct route_prefer {
    const char *ret;        /* "minimal", "representation", or NULL */
    const char *resolution; /* "merge-duplicates", or NULL */
};
/* Reads one Prefer header's value into p (call it for each Prefer header,
 * in order: a later preference of the same name wins). Preferences are
 * separated by ',', parameters after ';' are ignored, names and values
 * compare case-insensitively; preferences it does not know are ignored, as
 * RFC 7240 asks. value may be NULL. */
void route_prefer_parse(const char *value, struct route_prefer *p);

#endif
