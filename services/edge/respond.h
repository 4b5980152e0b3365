/* The answers the edge writes itself, and its glue to the server's
 * requests (httpd.h): JSON bodies with X-Request-Id, Date and Content-Length (HEAD:
 * the GET's headers and length, no body), and JSON errors, each audited
 * when the request is one the audit trail records. No policy: callers
 * decide what to answer. */
#ifndef EDGE_RESPOND_H
#define EDGE_RESPOND_H

#include <stddef.h>

#include <stdint.h>

#include "httpd.h"
#include "metrics.h"
#include "trail.h"
#include "warren/auditdoc.h"
#include "warren/cfg.h"
#include "warren/trace.h"

/* One request while the edge answers it: what the audit record of an
 * answer the edge gives itself says. It lives with the request (on the
 * stack of the request callback, or built from a call's own state when
 * the call ends), never on the long-lived edge. */
struct ask {
    struct hreq *req;
    const char *rid;                         /* the request id (X-Request-Id of every answer) */
    trail *trail;                            /* where records go */
    struct wr_audit_rec audit;               /* audit.id NULL: not audited (probes, preflights) */
    char principal[WR_API_KEY_NAME_MAX + 1]; /* audit.principal's storage, once known */
    const struct wr_trace *trace;            /* its trace; this edge's span */
    metrics *metrics;                        /* where answers are counted (NULL: not) */
    const char *route;                       /* its route label (metrics.h) */
    uint64_t t0_ns;                          /* when it arrived (wr_metrics_now_ns) */
};

/* The value of request header name (case-insensitive), or NULL. Borrowed
 * from req. */
const char *request_header(const struct hreq *req, const char *name);
/* Adds a response header (hreq_header_add). */
void respond_header(struct hreq *req, const char *name, const char *value);

/* Sends status with no body (a 304, a 204). req is freed. */
void respond_send(struct hreq *req, int status);

/* Sends status with len bytes of JSON body (none for HEAD, with the length
 * it would have) and X-Request-Id: rid when rid is not NULL. req is freed: never
 * touched afterwards. */
void respond_json(struct hreq *req, int status, const char *rid, const char *body, size_t len);
/* The same with another Content-Type. */
void respond_body(struct hreq *req, int status, const char *rid, const char *content_type,
                  const char *body, size_t len);
/* Sends {"code": code, "message": message} with status to a->req, gives
 * the trail a record of it when a->audit.id is set, and counts it in
 * a->metrics. */
void respond_error(const struct ask *a, int status, const char *code, const char *message);

#endif
