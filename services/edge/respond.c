/* The edge's own answers (see respond.h): the one place that writes a
 * response body and status through libevent, and audits its errors. */
#include "respond.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>

#include "flush.h"
#include "headers.h"
#include "reason.h"

#include "warren/buf.h"
#include "warren/codec.h"
#include "warren/json.h"
#include "warren/metrics.h"
#include "warren/rpc.h"

const char *request_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

void respond_header(struct evhttp_request *req, const char *name, const char *value)
{
    headers_add(evhttp_request_get_output_headers(req), name, value);
}

void respond_date(struct evhttp_request *req)
{
    headers_date(evhttp_request_get_output_headers(req));
}

void respond_send(struct evhttp_request *req, int status)
{
    struct bufferevent *bev = flush_hold(req);
    evhttp_send_reply(req, status, http_reason(status), NULL);
    flush_answer(bev);
}

void respond_json(struct evhttp_request *req, int status, const char *rid, const char *body,
                  size_t len)
{
    respond_body(req, status, rid, "application/json", body, len);
}

void respond_body(struct evhttp_request *req, int status, const char *rid, const char *content_type,
                  const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    headers_add(h, "Content-Type", content_type);
    if (rid != NULL)
        headers_add(h, "X-Request-Id", rid);
    /* The length, written here: libevent would format it with snprintf.
     * HEAD: the GET's length, no body (libevent would send it). A status
     * that has no body has no length either (RFC 9110 8.6). */
    if (status >= 200 && status != 204 && status != 304) {
        char n[21];
        (void)wr_decimal(n, len);
        evhttp_add_header(h, "Content-Length", n);
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    respond_send(req, status);
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
