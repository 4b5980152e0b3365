/* relay_service: a test service on the worker runtime that calls another
 * service, as README "A service of your own" says an op does: its op
 * relay calls op echo of the service its envelope's "id" names, through
 * the RPC client API, passing on the traceparent and tracestate of its
 * call. Op echo answers the trace its own call carried. Run two (SERVICE
 * differs) and call relay on one with the other's name (test_trace_hop).
 *
 *   relay: {"echo":<the echo's body>,"request_id":"<the echo's request
 *           id>","sent_traceparent":"<what relay passed on>"}
 *   echo:  {"trace_id":"...","traceparent":"<its own span>",
 *           "tracestate":"..."} */
#include <stdio.h>
#include <string.h>

#include "warren/amqp.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/worker.h"

#define RELAY_TIMEOUT_MS 5000

/* The process's state: the config, and one RPC client kept for the
 * service it last called (opened on relay's first call). */
struct relay {
    const struct wr_cfg *cfg;
    wr_rpc *rpc;
    char target[WR_OP_NAME_MAX + 1];
};

/* The client of service target, opened when the last one was another's.
 * NULL with err on failure. */
static wr_rpc *client_of(struct relay *r, const char *target, struct wr_err *err)
{
    if (r->rpc != NULL && strcmp(r->target, target) == 0)
        return r->rpc;
    wr_rpc_free(r->rpc);
    r->target[0] = '\0';
    struct wr_rpc_opts o = {.amqp_url = r->cfg->amqp_url,
                            .service = target,
                            .timeout_ms = RELAY_TIMEOUT_MS,
                            .connect_timeout_ms = r->cfg->connect_timeout_ms,
                            .heartbeat_s = r->cfg->heartbeat_s,
                            .tls = wr_amqp_tls_from_cfg(r->cfg)};
    r->rpc = wr_rpc_new(&o, err);
    if (r->rpc != NULL)
        (void)snprintf(r->target, sizeof(r->target), "%s", target);
    return r->rpc;
}

static int relay_op(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    struct wr_request in;
    struct wr_err err = {0};
    if (wr_request_decode_service(&in, call->op, call->body, call->len, &err) != 0) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST, err.msg);
        return 0;
    }
    if (in.key == NULL || !wr_op_name_valid(in.key)) {
        wr_request_release(&in);
        wr_answer_error(out, 400, WR_CODE_BAD_PARAMETER, "id: the service to call");
        return 0;
    }
    wr_rpc *rpc = client_of(ctx, in.key, &err);
    wr_request_release(&in);
    if (rpc == NULL) {
        wr_warn(call->id, "relay: %s", err.msg);
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE, "relay: the broker cannot be reached");
        return 0;
    }
    /* the README's promise: the call's span goes on as the next hop's parent */
    struct wr_request req = {
        .op = "echo", .traceparent = call->traceparent, .tracestate = call->tracestate};
    wr_request_id_new(req.id);
    struct wr_reply reply;
    int rc = wr_rpc_call(rpc, &req, &reply, &err);
    if (rc != 0 || reply.status != 200) {
        wr_warn(call->id, "relay: echo answered %d: %s", reply.status, rc != 0 ? err.msg : "");
        wr_answer_error(out, 502, WR_CODE_INTERNAL, "relay: echo failed");
        wr_reply_release(&reply);
        return 0;
    }
    wr_buf_puts(&out->body, "{\"echo\":");
    /* echo's body is one JSON object and a newline */
    (void)wr_buf_append(&out->body, reply.body, reply.len > 0 ? reply.len - 1 : 0);
    wr_buf_puts(&out->body, ",\"request_id\":");
    wr_json_cstr(&out->body, req.id);
    wr_buf_puts(&out->body, ",\"sent_traceparent\":");
    wr_json_cstr(&out->body, call->traceparent);
    wr_buf_puts(&out->body, "}\n");
    wr_reply_release(&reply);
    out->status = 200;
    return wr_buf_error(&out->body);
}

static int echo_op(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    (void)ctx;
    wr_buf_puts(&out->body, "{\"trace_id\":");
    wr_json_cstr(&out->body, call->trace_id);
    wr_buf_puts(&out->body, ",\"traceparent\":");
    wr_json_cstr(&out->body, call->traceparent);
    wr_buf_puts(&out->body, ",\"tracestate\":");
    wr_json_cstr(&out->body, call->tracestate);
    wr_buf_puts(&out->body, "}\n");
    out->status = 200;
    return wr_buf_error(&out->body);
}

static const struct wr_op ops[] = {
    /* relay waits for another service: replies before it leave uncorked */
    {.name = "relay", .waits = true, .fn = relay_op},
    {.name = "echo", .fn = echo_op},
};

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {
        "relay_service", "a test service that calls another one", WR_CFG_USE_WORKER};
    struct wr_cfg cfg = {0};
    int rc = 0;
    if (!wr_cfg_from_args(&cfg, &prog, argc, argv, &rc))
        return rc;
    wr_log_init(cfg.service, cfg.log_level);
    (void)wr_log_format_set(cfg.log_format);
    wr_worker_global_init();
    struct relay r = {.cfg = &cfg};
    struct wr_service svc = {
        .name = cfg.service, .ops = ops, .nops = sizeof(ops) / sizeof(ops[0]), .ctx = &r};
    rc = wr_worker_run(&cfg, &svc);
    wr_rpc_free(r.rpc);
    wr_worker_global_cleanup();
    wr_cfg_release(&cfg);
    return rc;
}
