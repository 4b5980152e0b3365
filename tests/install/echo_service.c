/* A warren service of a user's own, built outside warren's tree against an
 * installed copy (tests/install/check.sh builds it with pkg-config and with
 * find_package, runs it and calls it): the worker runtime serving queue
 * warren.install-echo, op echo, configured like every worker (WARREN_*).
 * echo answers 200 {"hello":ID,"principal":WHO,"request_id":RID}, ID read
 * from the envelope with jansson, so the reply shows that the runtime
 * handed the op the envelope's bytes, who asked and the request id. */
#include <jansson.h>

#include <warren/answer.h>
#include <warren/json.h>
#include <warren/log.h>
#include <warren/worker.h>

#define SERVICE "install-echo"

/* {"hello":id,"principal":...,"request_id":...}: keys in sorted order. */
static int echo_body(struct wr_buf *b, const struct wr_call *call, const char *id)
{
    wr_buf_putc(b, '{');
    wr_json_key(b, "hello");
    wr_json_cstr(b, id);
    wr_buf_putc(b, ',');
    wr_json_key(b, "principal");
    wr_json_cstr(b, call->principal);
    wr_buf_putc(b, ',');
    wr_json_key(b, "request_id");
    wr_json_cstr(b, call->id);
    wr_buf_putc(b, '}');
    return wr_buf_error(b); /* the writers' errors are sticky */
}

/* Answers the envelope's "id" (proto/README.md section 4), 400 without one. */
static int echo_op(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    (void)ctx;
    json_t *env = json_loadb(call->body, call->len, 0, NULL);
    const char *id = json_string_value(json_object_get(env, "id"));
    int rc = 0;
    if (id == NULL) {
        wr_answer_error(out, 400, "bad_request", "echo needs an id");
    } else {
        wr_answer_describe(out, &(struct wr_answer_about){.op = call->op, .key = id});
        out->status = 200;
        rc = echo_body(&out->body, call, id);
    }
    json_decref(env);
    return rc;
}

static const struct wr_op ops[] = {{.name = "echo", .fn = echo_op}};

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {"install-echo", "echoes the id it is sent",
                                            WR_CFG_USE_WORKER};
    struct wr_cfg cfg = {0};
    int rc = 0;
    if (!wr_cfg_from_args(&cfg, &prog, argc, argv, &rc))
        return rc;
    wr_log_init(SERVICE, cfg.log_level);
    (void)wr_log_format_set(cfg.log_format); /* the key table checked the name */
    wr_worker_global_init();
    struct wr_service svc = {.name = SERVICE, .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    rc = wr_worker_run(&cfg, &svc);
    wr_worker_global_cleanup();
    wr_cfg_release(&cfg);
    return rc;
}
