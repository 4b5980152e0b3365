/* The answers the edge writes itself, and its glue to libevent's request
 * objects: JSON bodies with X-Request-Id (HEAD: the GET's headers and
 * length, no body), and JSON errors, each audited when the request is one
 * the audit trail records. No policy: callers decide what to answer. */
#ifndef EDGE_RESPOND_H
#define EDGE_RESPOND_H

#include <event2/http.h>
#include <stddef.h>

#include "trail.h"
#include "warren/auditdoc.h"
#include "warren/cfg.h"

/* One request while the edge answers it: what the audit record of an
 * answer the edge gives itself says. It lives with the request (on the
 * stack of the request callback, or built from a call's own state when
 * the call ends), never on the long-lived edge. */
struct ask {
    struct evhttp_request *req;
    const char *rid;                         /* the request id (X-Request-Id of every answer) */
    trail *trail;                            /* where records go */
    struct wr_audit_rec audit;               /* audit.id NULL: not audited (probes, preflights) */
    char principal[WR_API_KEY_NAME_MAX + 1]; /* audit.principal's storage, once known */
};

/* The value of request header name (case-insensitive), or NULL. Borrowed
 * from req. */
const char *request_header(struct evhttp_request *req, const char *name);
/* Adds a response header (libevent copies both strings). */
void respond_header(struct evhttp_request *req, const char *name, const char *value);

/* Sends status with len bytes of JSON body (none for HEAD, with the length
 * it would have) and X-Request-Id: rid when rid is not NULL. req is libevent's
 * again afterwards: never touched. */
void respond_json(struct evhttp_request *req, int status, const char *rid, const char *body,
                  size_t len);
/* Sends {"code": code, "message": message} with status to a->req, and gives
 * the trail a record of it when a->audit.id is set. */
void respond_error(const struct ask *a, int status, const char *code, const char *message);

#endif
