/* The edge's own answers (see respond.h): the one place that writes a
 * response body and status (httpd.h), and audits its errors. */
#include "respond.h"

#include <stdbool.h>

#include "warren/buf.h"
#include "warren/codec.h"
#include "warren/json.h"
#include "warren/metrics.h"
#include "warren/rpc.h"

const char *request_header(const struct hreq *req, const char *name)
{
    return hreq_header(req, name);
}

void respond_header(struct hreq *req, const char *name, const char *value)
{
    hreq_header_add(req, name, value);
}

void respond_send(struct hreq *req, int status)
{
    hreq_send(req, status, NULL, 0);
}

void respond_json(struct hreq *req, int status, const char *rid, const char *body, size_t len)
{
    respond_body(req, status, rid, "application/json", body, len);
}

void respond_body(struct hreq *req, int status, const char *rid, const char *content_type,
                  const char *body, size_t len)
{
    hreq_header_add(req, "Content-Type", content_type);
    if (rid != NULL)
        hreq_header_add(req, "X-Request-Id", rid);
    hreq_send(req, status, body, len);
}

void respond_error(const struct ask *a, int status, const char *code, const char *message)
{
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    wr_json_error(&b, code, message);
    wr_buf_putc(&b, '\n');
    bool ok = wr_buf_error(&b) == 0;
    respond_json(a->req, status, a->rid, ok ? b.data : "{}\n", ok ? b.len : 3);
    metrics_answered(a->metrics, a->route, status, a->t0_ns);
    if (a->audit.id != NULL) {
        struct wr_audit_rec r = a->audit;
        r.status = status;
        r.duration_ms = (double)(wr_metrics_now_ns() - a->t0_ns) / 1e6; /* never a clock step */
        r.error = ok ? b.data : "{}";
        r.error_len = ok ? b.len - 1 : 2; /* no newline */
        r.error_is_json = true;
        trail_add(a->trail, &r);
    }
    wr_buf_release(&b);
}
