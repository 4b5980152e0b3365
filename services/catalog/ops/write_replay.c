/* Records of writes of many objects (see write_replay.h). */
#include "ops/write_replay.h"

#include <string.h>

#include "ops/batch.h"
#include "ops/write_bulk.h"
#include "warren/log.h"

#define RECORD_MAX ((size_t)64 << 20)

int write_replay_record(const struct handler_env *env, const char *id, const char *record,
                        size_t len, struct wr_err *err)
{
    struct value v[2] = {{.kind = V_TEXT, .s = id, .n = strlen(id)},
                         {.kind = V_TEXT, .s = record, .n = len}};
    return store_exec(env->writer,
                      "INSERT INTO warren_applied_many (message_id, answer) VALUES (?, ?)", v, 2,
                      NULL, err);
}

static int take_record(void *arg, const struct value *row, size_t ncols)
{
    struct wr_buf *out = arg;
    if (ncols > 0 && row[0].kind == V_TEXT)
        wr_buf_append(out, row[0].s, row[0].n);
    return 0;
}

bool write_replay_answer(const struct handler_env *env, const struct collection *c,
                         const struct wr_request *req, const char *base_url, int status,
                         struct wr_answer *out)
{
    bool batch = strcmp(req->op, WR_OP_BATCH) == 0;
    if (!batch && !(strcmp(req->op, WR_OP_CREATE) == 0 && write_bulk_wanted(req)))
        return false;
    struct wr_buf record;
    wr_buf_init(&record, RECORD_MAX);
    struct value id = {.kind = V_TEXT, .s = req->id, .n = strlen(req->id)};
    struct wr_err err = {0};
    int rc = store_query(env->writer, "SELECT answer FROM warren_applied_many WHERE message_id = ?",
                         &id, 1, take_record, &record, &err);
    if (rc != 0 || wr_buf_putc(&record, '\0') != 0) {
        wr_error(req->id, "%s delivered again, its record unreadable: %s", req->op, err.msg);
        wr_answer_error(out, 500, WR_CODE_INTERNAL, "internal error");
    } else if (batch) {
        batch_again(env, req, base_url, status, record.data, out);
    } else {
        write_bulk_again(env, c, req, base_url, status, record.data, out);
    }
    wr_buf_release(&record);
    return true;
}
