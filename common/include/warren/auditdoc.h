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
    const char *audit_id; /* _id: made by warren for this one record (a fresh
                             wr_request_id_new), never the client's id, so no
                             client can name, collide with or erase a record */
    const char *id;       /* the request id (the client's X-Request-Id or the
                             edge's): the record's request_id */
    long long time_ms;    /* when it was taken, epoch ms */
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
 * newline) for the process named by worker ("host:pid"). Every string a
 * client chose stays a value, never a member name: an error body (whose
 * validation_errors are named after the client's members, `$date` or
 * `a.b` included) is written as {"body": "<the body's JSON text>",
 * "bytes": <its length>, "code": "<its code>", "message": "<its
 * message>"} (code and message null when the body lacks them), a note as
 * a string; so every record is a document MongoDB takes (no member name
 * starting with '$' but the time's Extended JSON, none with a '.'). Each
 * of those strings is cut to WR_AUDIT_ERROR_MAX bytes, so a client cannot
 * make a record too large to spool or ship. */
void wr_audit_format(struct wr_buf *out, const struct wr_audit_rec *r, const char *worker);

/* The most bytes of an error body, message or note a record keeps. */
#define WR_AUDIT_ERROR_MAX 8192

/* The document's largest size a worker accepts from the audit queue. */
#define WR_AUDIT_DOC_MAX 65536

#endif
