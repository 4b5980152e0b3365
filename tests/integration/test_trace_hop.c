/* One trace across two services: README "A service of your own" says an op
 * gets a traceparent naming its worker's span to pass on to a service it
 * calls. Two workers of tests/support/relay_service.c on the runtime: the
 * test calls op relay of one, whose handler calls op echo of the other
 * through the RPC client API with its call's traceparent. The second
 * worker must be in the caller's trace (what its op got, and its audit
 * record), and the parent it was given must be the first worker's own
 * span, not the caller's (W3C Trace Context: each hop a new parent-id).
 * Against the real broker. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"
#include "warren/trace.h"

#define SERVICE_A "t_hop_a"
#define SERVICE_B "t_hop_b"
#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"
#define STATE "congo=t61rcWkgMzE"

static struct proc first, second;
static char spool_a[512], spool_b[512];

static void spawn(struct proc *p, const char *service, char *spool, size_t cap)
{
    (void)snprintf(spool, cap, "%s/spool-%s", h_env("WRT_STATE_DIR"), service);
    h_empty_dir(spool);
    char env_spool[600];
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool);
    const char *extra[] = {env_spool, NULL};
    h_spawn_warren(p, WARREN_RELAY_BIN, service, 0, service, extra);
}

static void setup(void)
{
    spawn(&first, SERVICE_A, spool_a, sizeof(spool_a));
    spawn(&second, SERVICE_B, spool_b, sizeof(spool_b));
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(&first, SIGTERM), 0); /* 0: no leak under ASan either */
    ck_assert_int_eq(h_stop(&second, SIGTERM), 0);
}

/* What one relay call showed: the trace the client sent it in, what the
 * first worker passed on, what the second one's op got, and the request
 * ids of both hops. */
struct hop {
    char trace_id[WR_TRACE_ID_LEN + 1];
    struct wr_trace sent;   /* the first worker's traceparent, as passed on */
    struct wr_trace echoed; /* the second worker's: its trace and own span */
    char echo_tracestate[WR_TRACESTATE_MAX + 1];
    char first_id[WR_REQUEST_ID_LEN + 1];
    char second_id[WR_REQUEST_ID_LEN + 1];
};

static const char *member(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    ck_assert_msg(s != NULL, "no string %s", name);
    return s;
}

/* Calls relay on SERVICE_A, asking it to call SERVICE_B, with
 * traceparent and tracestate (either may be NULL). */
static void relay(const char *traceparent, const char *tracestate, struct hop *h)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE_A, .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {
        .op = "relay", .key = SERVICE_B, .traceparent = traceparent, .tracestate = tracestate};
    wr_request_id_new(req.id);
    struct wr_reply reply;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_msg(reply.status == 200, "%d %s", reply.status, reply.body);
    json_t *j = json_loads(reply.body, 0, NULL);
    ck_assert_msg(json_is_object(j), "%s", reply.body);
    json_t *echo = json_object_get(j, "echo");
    ck_assert_msg(json_is_object(echo), "%s", reply.body);
    ck_assert_uint_eq(strlen(reply.trace_id), WR_TRACE_ID_LEN);
    (void)snprintf(h->trace_id, sizeof(h->trace_id), "%s", reply.trace_id);
    (void)snprintf(h->first_id, sizeof(h->first_id), "%s", req.id);
    (void)snprintf(h->second_id, sizeof(h->second_id), "%s", member(j, "request_id"));
    const char *sent = member(j, "sent_traceparent");
    ck_assert_msg(wr_traceparent_parse(sent, &h->sent), "passed on: %s", sent);
    const char *echoed = member(echo, "traceparent");
    ck_assert_msg(wr_traceparent_parse(echoed, &h->echoed), "echo's: %s", echoed);
    /* the trace the second worker's op was handed, beside its traceparent */
    ck_assert_str_eq(member(echo, "trace_id"), h->echoed.trace_id);
    (void)snprintf(h->echo_tracestate, sizeof(h->echo_tracestate), "%s",
                   member(echo, "tracestate"));
    json_decref(j);
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
}

/* The audit record of request id in spool names trace. */
static void assert_recorded(const char *spool, const char *id, const char *trace)
{
    char *line = h_audit_line(spool, id);
    char want[80];
    (void)snprintf(want, sizeof(want), "\"trace_id\":\"%s\"", trace);
    ck_assert_msg(strstr(line, want) != NULL, "record %s lacks %s", line, want);
    free(line);
}

START_TEST(caller_trace_reaches_the_service_a_worker_calls)
{
    struct hop h;
    relay("00-" TID "-" PID "-01", STATE, &h);
    ck_assert_str_eq(h.trace_id, TID);
    /* the first worker passed on the caller's trace under a span of its
     * own: the next hop's parent-id is new */
    ck_assert_str_eq(h.sent.trace_id, TID);
    ck_assert_str_ne(h.sent.span_id, PID);
    ck_assert_uint_eq(h.sent.flags, 1);
    /* the second worker is in the same trace, with tracestate, and a span
     * of its own again */
    ck_assert_str_eq(h.echoed.trace_id, TID);
    ck_assert_str_eq(h.echo_tracestate, STATE);
    ck_assert_str_ne(h.echoed.span_id, h.sent.span_id);
    ck_assert_str_ne(h.echoed.span_id, PID);
    ck_assert_uint_eq(h.echoed.flags, 1);
    /* and both audit records say so */
    assert_recorded(spool_a, h.first_id, TID);
    assert_recorded(spool_b, h.second_id, TID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace_hop");
    TCase *tc = tcase_create("trace_hop");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, caller_trace_reaches_the_service_a_worker_calls);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
