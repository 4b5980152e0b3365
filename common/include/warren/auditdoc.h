/* The audit document: one per request, written by the worker that took it
 * or, for a request the edge answered itself (a bad parameter, an overload,
 * a timeout), by the edge. The same fields in both, so the trail is one
 * collection that is queried one way. Pure: formats, does no I/O. */
#ifndef WARREN_AUDITDOC_H
#define WARREN_AUDITDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

/* What one request did. Strings may be NULL (written as null). */
struct wr_audit_rec {
    const char *id;    /* the request id */
    bool by_edge;      /* the edge's record: _id is "<id>/edge", so it never
                          collides with a worker's record of the same request */
    long long time_ms; /* when it was taken, epoch ms */
    const char *principal;
    const char *op;
    const char *collection;
    const char *key;
    const char *relation;
    long page, per_page; /* 0: not given */
    int status;          /* 0: not answered (its deadline had passed) */
    double duration_ms;
    const char *cache; /* hit, miss, bypass, skip, off */
    long long rows;    /* objects in the answer; < 0 unknown */
    const char *error; /* the error body (JSON) of a status >= 400, or a note */
    size_t error_len;
    bool error_is_json;
    /* What the op adds about the request (a JSON object: a batch's
     * operations, a bulk create's counts, a read's fields), written as
     * "detail"; NULL: the document has no "detail" member. */
    const char *detail;
    size_t detail_len;
    const char *trace_id; /* the request's W3C trace id (32 hex), or NULL */
};

/* Writes r as one JSON document (MongoDB Extended JSON for the time; no
 * newline) for the process named by worker ("host:pid"). */
void wr_audit_format(struct wr_buf *out, const struct wr_audit_rec *r, const char *worker);

/* The document's largest size a worker accepts from the audit queue. */
#define WR_AUDIT_DOC_MAX 65536

#endif
