/* The completion of an operation's answer (see op.h). */
#include "ops/op.h"

#include "warren/log.h"

void op_finish(const struct wr_request *req, int rc, const struct wr_err *err,
               struct wr_answer *out)
{
    if (rc == 0 && wr_buf_error(&out->body) == 0) {
        /* wr_answer_error ended error bodies already; a 204 has none; a
         * write's answer read back (reads_object) was finished there; an
         * export's chunk is rows, maybe none */
        bool ended = out->body.len > 0 && out->body.data[out->body.len - 1] == '\n';
        if (out->status < 400 && out->status != 204 && !ended && !out->chunk)
            wr_buf_putc(&out->body, '\n');
        return;
    }
    if (wr_buf_error(&out->body) == WR_ETOOBIG) {
        wr_answer_error(out, 413, WR_CODE_PAYLOAD_TOO_LARGE, "the answer is too large");
        return;
    }
    struct wr_http_error h = wr_err_http(rc);
    if (h.status == 500)
        wr_error(req->id, "%s %s: %s", req->op, req->collection ? req->collection : "-", err->msg);
    wr_answer_error(out, h.status, h.code, h.message);
}
