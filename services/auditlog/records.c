/* The records op (see records.h): decode the envelope, check the id, ask
 * the runtime's MongoDB adapter, answer {"objects":[...],"request_id":..}. */
#include "records.h"

#include "warren/auditdb.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/rpc.h"

/* Answers the documents of request id, or why there are none. */
static int find(wr_auditdb *db, const struct wr_call *call, const char *id, struct wr_answer *out)
{
    size_t n = 0;
    struct wr_err err = {0};
    wr_buf_puts(&out->body, "{\"objects\":[");
    int rc = wr_auditdb_find(db, id, WR_AUDITLOG_MAX_RECORDS, &out->body, &n, &err);
    wr_buf_puts(&out->body, "],\"request_id\":");
    wr_json_cstr(&out->body, id);
    wr_buf_puts(&out->body, "}\n");
    if (rc == WR_EIO) {
        wr_warn(call->id, "%s", err.msg);
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE, "the audit trail cannot be read now");
        return 0;
    }
    if (rc == 0)
        rc = wr_buf_error(&out->body);
    if (rc != 0)
        return rc; /* the runtime answers it */
    if (n == 0) {
        wr_answer_error(out, 404, WR_CODE_NOT_FOUND, "no audit records of this request");
        return 0;
    }
    out->status = 200;
    out->rows = (long long)n;
    return 0;
}

int records_op(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode_service(&req, call->op, call->body, call->len, &err);
    if (rc != 0) {
        wr_answer_error(out, 400, wr_err_http(rc).code, err.msg);
        return 0;
    }
    /* the lookup's own audit record names the request it looked up */
    wr_answer_describe(out, &(struct wr_answer_about){.op = req.op, .key = req.key});
    if (req.key == NULL || !wr_request_id_valid(req.key))
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER,
                        "id: a request id is 32 lowercase hex characters");
    else if (ctx == NULL)
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE,
                        "MONGO_URI is empty: no audit trail to read");
    else
        rc = find(ctx, call, req.key, out);
    wr_request_release(&req);
    return rc;
}
