/* Operating warren (issue 11): the worker's admin port (/livez, /readyz,
 * /metrics, one port per worker), both kinds of /metrics accepted by
 * Prometheus's own promtool and moving exactly as requests are served,
 * W3C trace context from an HTTP client or an RPC caller to the worker's
 * audit record and log lines (and back as X-Trace-Id), and JSON logs that
 * are one object per line. Against the real broker, the real binaries. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"
#include "warren/version.h"

#define SERVICE "t_ops"
#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"

static struct proc worker, edge;
static int port, admin;
static char spool_dir[512];

static void setup(void)
{
    (void)snprintf(spool_dir, sizeof(spool_dir), "%s/spool-ops", h_env("WRT_STATE_DIR"));
    h_empty_dir(spool_dir);
    /* edge records other test programs left would be spooled here too */
    (void)h_servers_ctl("purge_queue warren.audit");
    admin = h_free_port();
    char env_admin[64], env_spool[600];
    (void)snprintf(env_admin, sizeof(env_admin), "WARREN_ADMIN_PORT=%d", admin);
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool_dir);
    const char *wextra[] = {env_admin, env_spool, "WARREN_LOG_FORMAT=json",
                            "WARREN_LOG_LEVEL=debug", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-ops", 0, SERVICE, wextra);
    const char *eextra[] = {"WARREN_LOG_FORMAT=json", NULL};
    port = h_spawn_edge(&edge, "edge-ops", SERVICE, eextra);
    ck_assert(h_wait_ready(port, 20000));
    ck_assert(h_wait_ready(admin, 20000)); /* the worker's own /readyz */
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    h_stop(&worker, SIGTERM);
}

/* GET path on p; the answer's status, its body in r. */
static int get(int p, const char *path, const char *headers, struct http_resp *r)
{
    ck_assert_int_eq(h_http(p, "GET", path, headers, r, 5000), 0);
    return r->status;
}

START_TEST(admin_port_probes)
{
    struct http_resp r;
    ck_assert_int_eq(get(admin, "/livez", NULL, &r), 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}\n");
    h_http_free(&r);
    ck_assert_int_eq(get(admin, "/readyz", NULL, &r), 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ready\"}\n");
    h_http_free(&r);
    ck_assert_int_eq(get(admin, "/metrics", NULL, &r), 200);
    char type[128];
    ck_assert(h_header(&r, "Content-Type", type, sizeof(type)));
    ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
    h_http_free(&r);
    ck_assert_int_eq(get(admin, "/api/Albums", NULL, &r), 404); /* the admin port serves no API */
    h_http_free(&r);
}
END_TEST

/* Runs promtool check metrics on text; its exit status (0: no problem,
 * 3: lint problems, 1: not parseable), its complaints in out. */
static int promtool(const char *text, char *out, size_t cap)
{
    char in_path[600], out_path[600];
    (void)snprintf(in_path, sizeof(in_path), "%s/ops-metrics.prom", h_env("WRT_STATE_DIR"));
    (void)snprintf(out_path, sizeof(out_path), "%s/ops-promtool.out", h_env("WRT_STATE_DIR"));
    FILE *f = fopen(in_path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = {"promtool", "check", "metrics", NULL};
    extern char **environ;
    pid_t pid;
    int rc = posix_spawnp(&pid, "promtool", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_msg(rc == 0, "promtool (Debian's prometheus package) cannot run: %s", strerror(rc));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    size_t len = 0;
    char *said = h_read_file(out_path, &len);
    (void)snprintf(out, cap, "%s", said ? said : "");
    free(said);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char *scrape(int p)
{
    struct http_resp r;
    ck_assert_int_eq(get(p, "/metrics", NULL, &r), 200);
    char *text = strdup(r.body);
    h_http_free(&r);
    return text;
}

/* The loops the edge's start line says it runs ("with N event loop(s)"). */
static long loops_logged(void)
{
    char *log = h_read_file(edge.log, NULL);
    const char *at = log != NULL ? strstr(log, " event loop(s)") : NULL;
    ck_assert_msg(at != NULL, "no start line in %s", edge.log);
    while (at > log && at[-1] >= '0' && at[-1] <= '9')
        at--;
    long n = strtol(at, NULL, 10);
    free(log);
    return n;
}

START_TEST(both_metrics_pass_promtool)
{
    struct http_resp r;
    ck_assert_int_eq(get(port, "/api/Albums/1", NULL, &r), 200); /* some series of each kind */
    h_http_free(&r);
    const int ports[] = {port, admin};
    for (size_t i = 0; i < 2; i++) {
        char *text = scrape(ports[i]);
        char said[4096];
        int rc = promtool(text, said, sizeof(said));
        ck_assert_msg(rc == 0, "promtool check metrics: exit %d:\n%s", rc, said);
        ck_assert_ptr_nonnull(
            strstr(text, "warren_build_info{version=\"" WARREN_VERSION "\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "warren_amqp_connected 1\n"));
        if (i == 0) { /* the edge's: as many loops as it said it started */
            char want[64];
            (void)snprintf(want, sizeof(want), "\nwarren_edge_event_loops %ld\n", loops_logged());
            ck_assert_msg(strstr(text, want) != NULL, "no%s in:\n%s", want, text);
        }
        free(text);
    }
    /* and promtool does complain about what it should */
    char said[4096];
    ck_assert_int_ne(promtool("# TYPE warren_x counter\nwarren_x 1\n", said, sizeof(said)), 0);
}
END_TEST

/* The shipped alert rules (deploy/prometheus/alerts.yml) name series of
 * the edge's and the workers' /metrics: each warren_ name there is a
 * metric one of them declares (a histogram's _bucket by its own name),
 * so renaming a metric cannot leave an alert that never fires. */
START_TEST(alert_rules_name_real_metrics)
{
    char *rules = h_read_file(WARREN_ALERTS_YML, NULL);
    ck_assert_ptr_nonnull(rules);
    char *edge_text = scrape(port), *worker_text = scrape(admin);
    int names = 0;
    for (const char *at = rules; (at = strstr(at, "warren_")) != NULL;) {
        size_t n = strspn(at, "abcdefghijklmnopqrstuvwxyz_");
        char name[128], type[160];
        (void)snprintf(name, sizeof(name), "%.*s", (int)n, at);
        at += n;
        size_t len = strlen(name);
        if (len > 7 && strcmp(name + len - 7, "_bucket") == 0)
            name[len - 7] = '\0';
        (void)snprintf(type, sizeof(type), "# TYPE %s ", name);
        ck_assert_msg(strstr(edge_text, type) != NULL || strstr(worker_text, type) != NULL,
                      "alerts.yml names %s, which neither /metrics declares", name);
        names++;
    }
    ck_assert_int_ge(names, 10);
    free(edge_text);
    free(worker_text);
    free(rules);
}
END_TEST

START_TEST(counters_move_with_requests)
{
    char *e0 = scrape(port), *w0 = scrape(admin);
    struct http_resp r;
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(get(port, "/api/Albums/1", NULL, &r), 200);
        h_http_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(get(port, "/api/Albums/999999", NULL, &r), 404); /* the worker's */
        h_http_free(&r);
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(get(port, "/nowhere", NULL, &r), 404); /* the edge's own */
        h_http_free(&r);
        /* about the server as a whole: counted apart, never audited */
        ck_assert_int_eq(h_http(port, "OPTIONS", "*", NULL, &r, 10000), 0);
        ck_assert_int_eq(r.status, 204);
        h_http_free(&r);
    }
    char *e1 = scrape(port);
    static const struct {
        const char *series;
        long long delta;
    } edge_moves[] = {
        {"warren_http_requests_total{route=\"get\",status=\"200\"}", 20},
        {"warren_http_requests_total{route=\"get\",status=\"404\"}", 3},
        {"warren_http_requests_total{route=\"unrouted\",status=\"404\"}", 2},
        {"warren_http_requests_total{route=\"server\",status=\"204\"}", 2},
        {"warren_http_request_duration_seconds_count{route=\"get\"}", 23},
        {"warren_http_request_duration_seconds_bucket{route=\"get\",le=\"+Inf\"}", 23},
        {"warren_http_requests_total{route=\"metrics\",status=\"200\"}", 1},
        {"warren_http_requests_in_flight", 0},
    };
    for (size_t i = 0; i < sizeof(edge_moves) / sizeof(edge_moves[0]); i++)
        ck_assert_msg(h_metric(e1, edge_moves[i].series) - h_metric(e0, edge_moves[i].series) ==
                          edge_moves[i].delta,
                      "%s moved by %lld, not %lld", edge_moves[i].series,
                      h_metric(e1, edge_moves[i].series) - h_metric(e0, edge_moves[i].series),
                      edge_moves[i].delta);
    static const struct {
        const char *series;
        long long delta;
    } worker_moves[] = {
        {"warren_worker_requests_total{op=\"get\",status=\"200\"}", 20},
        {"warren_worker_requests_total{op=\"get\",status=\"404\"}", 3},
        {"warren_worker_request_duration_seconds_count{op=\"get\"}", 23},
        {"warren_worker_deliveries_total{queue=\"warren." SERVICE "\"}", 23},
        /* the edge's two 404s come back as audit documents */
        {"warren_worker_deliveries_total{queue=\"warren.audit\"}", 2},
        {"warren_audit_records_total", 25},
    };
    /* the edge's records travel through the broker: poll a moment */
    char *w1 = NULL;
    for (int tries = 0; tries < 50; tries++) {
        free(w1);
        w1 = scrape(admin);
        if (h_metric(w1, "warren_audit_records_total") -
                h_metric(w0, "warren_audit_records_total") >=
            25)
            break;
        usleep(100000);
    }
    for (size_t i = 0; i < sizeof(worker_moves) / sizeof(worker_moves[0]); i++)
        ck_assert_msg(h_metric(w1, worker_moves[i].series) - h_metric(w0, worker_moves[i].series) ==
                          worker_moves[i].delta,
                      "%s moved by %lld, not %lld", worker_moves[i].series,
                      h_metric(w1, worker_moves[i].series) - h_metric(w0, worker_moves[i].series),
                      worker_moves[i].delta);
    /* every read ran statements in SQLite */
    ck_assert_int_ge(
        h_metric(w1, "warren_catalog_statement_duration_seconds_count{kind=\"read\"}") -
            h_metric(w0, "warren_catalog_statement_duration_seconds_count{kind=\"read\"}"),
        23);
    free(e0);
    free(e1);
    free(w0);
    free(w1);
}
END_TEST

START_TEST(worker_without_broker_lives_but_is_not_ready)
{
    int dead = h_free_port(); /* nothing listens there */
    int own = h_free_port();
    char amqp[128], env_admin[64];
    (void)snprintf(amqp, sizeof(amqp), "WARREN_AMQP_URL=amqp://guest:guest@127.0.0.1:%d/%%2f",
                   dead);
    (void)snprintf(env_admin, sizeof(env_admin), "WARREN_ADMIN_PORT=%d", own);
    struct proc lonely;
    const char *extra[] = {amqp, env_admin, "WARREN_AUDIT_SPOOL_DIR=spool-ops-lonely", NULL};
    h_spawn_warren(&lonely, WARREN_CATALOG_BIN, "catalog-ops-lonely", 0, SERVICE "_lonely", extra);
    struct http_resp r;
    int live = 0;
    for (int i = 0; i < 100 && live != 200; i++) {
        usleep(100000);
        if (h_http(own, "GET", "/livez", NULL, &r, 1000) == 0) {
            live = r.status;
            h_http_free(&r);
        }
    }
    ck_assert_int_eq(live, 200); /* its loop turns: it retries the broker */
    ck_assert_int_eq(get(own, "/readyz", NULL, &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "not consuming from the broker"));
    h_http_free(&r);
    char *text = scrape(own);
    ck_assert_ptr_nonnull(strstr(text, "\nwarren_amqp_connected 0\n"));
    free(text);
    ck_assert_int_eq(h_stop(&lonely, SIGTERM), 0);
    /* a second worker on a port taken: refused at start, exit 2 */
    const char *taken[] = {env_admin, NULL};
    char env_taken[64];
    (void)snprintf(env_taken, sizeof(env_taken), "WARREN_ADMIN_PORT=%d", admin);
    taken[0] = env_taken;
    h_spawn_warren(&lonely, WARREN_CATALOG_BIN, "catalog-ops-taken", 0, SERVICE, taken);
    int status = 0;
    for (int i = 0; i < 100; i++) {
        if (waitpid(lonely.pid, &status, WNOHANG) == lonely.pid)
            break;
        usleep(100000);
    }
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 2);
    lonely.pid = 0;
}
END_TEST

/* The spooled record whose _id is id (malloc'd line), polled for up to
 * 5 s: records are spooled just after the reply leaves. */
static char *record(const char *id)
{
    char want[128];
    /* a record's _id is its own: find the request id, then its line */
    (void)snprintf(want, sizeof(want), "\"request_id\":\"%s\"", id);
    for (int tries = 0; tries < 50; tries++) {
        DIR *d = opendir(spool_dir);
        struct dirent *e;
        char *found = NULL;
        while (found == NULL && d != NULL && (e = readdir(d)) != NULL) {
            char path[1024];
            (void)snprintf(path, sizeof(path), "%s/%s", spool_dir, e->d_name);
            size_t len = 0;
            char *text = strstr(e->d_name, ".spool") ? h_read_file(path, &len) : NULL;
            char *at = text ? strstr(text, want) : NULL;
            while (at != NULL && at > text && at[-1] != '\n')
                at--;
            if (at != NULL)
                found = strndup(at, strcspn(at, "\n"));
            free(text);
        }
        if (d != NULL)
            closedir(d);
        if (found != NULL)
            return found;
        usleep(100000);
    }
    ck_abort_msg("no audit record %s in %s", id, spool_dir);
    return NULL;
}

static void assert_trace(const char *id, const char *trace)
{
    char *rec = record(id);
    char want[80];
    (void)snprintf(want, sizeof(want), "\"trace_id\":\"%s\"", trace);
    ck_assert_msg(strstr(rec, want) != NULL, "record %s lacks %s", rec, want);
    free(rec);
}

/* The worker's JSON log line for request id with this message prefix. */
static json_t *log_line(const struct proc *p, const char *id, const char *prefix)
{
    for (int tries = 0; tries < 30; tries++) {
        size_t len = 0;
        char *text = h_read_file(p->log, &len);
        json_t *hit = NULL;
        for (char *l = text, *nl; hit == NULL && l != NULL && (nl = strchr(l, '\n')) != NULL;
             l = nl + 1) {
            json_t *j = json_loadb(l, (size_t)(nl - l), 0, NULL);
            const char *rid = json_string_value(json_object_get(j, "request_id"));
            const char *msg = json_string_value(json_object_get(j, "message"));
            if (rid && msg && strcmp(rid, id) == 0 && strncmp(msg, prefix, strlen(prefix)) == 0)
                hit = json_incref(j);
            json_decref(j);
        }
        free(text);
        if (hit != NULL)
            return hit;
        usleep(100000);
    }
    ck_abort_msg("no log line '%s...' for %s in %s", prefix, id, p->log);
    return NULL;
}

START_TEST(trace_from_http_client_to_worker)
{
    struct http_resp r;
    const char *hdrs =
        "traceparent: 00-" TID "-" PID "-01\r\ntracestate: rojo=00f067aa0ba902b7\r\n";
    ck_assert_int_eq(get(port, "/api/Albums/1", hdrs, &r), 200);
    char trace[64], id[64];
    ck_assert(h_header(&r, "X-Trace-Id", trace, sizeof(trace)));
    ck_assert(h_header(&r, "X-Request-Id", id, sizeof(id)));
    h_http_free(&r);
    ck_assert_str_eq(trace, TID);
    assert_trace(id, TID);
    json_t *j = log_line(&worker, id, "executing");
    ck_assert_str_eq(json_string_value(json_object_get(j, "trace_id")), TID);
    json_decref(j);
    /* an invalid traceparent (upper case) starts a new trace, the same
     * one everywhere */
    ck_assert_int_eq(get(port, "/api/Albums/2",
                         "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-" PID "-01\r\n", &r),
                     200);
    ck_assert(h_header(&r, "X-Trace-Id", trace, sizeof(trace)));
    ck_assert(h_header(&r, "X-Request-Id", id, sizeof(id)));
    h_http_free(&r);
    ck_assert_uint_eq(strlen(trace), 32);
    ck_assert_uint_eq(strspn(trace, "0123456789abcdef"), 32);
    ck_assert_str_ne(trace, TID);
    assert_trace(id, trace);
    /* two traceparent lines are one too many: a new trace */
    ck_assert_int_eq(
        get(port, "/api/Albums/3",
            "traceparent: 00-" TID "-" PID "-01\r\ntraceparent: 00-" TID "-" PID "-01\r\n", &r),
        200);
    ck_assert(h_header(&r, "X-Trace-Id", trace, sizeof(trace)));
    h_http_free(&r);
    ck_assert_str_ne(trace, TID);
    /* an answer the edge gives itself carries the trace into its own record */
    ck_assert_int_eq(get(port, "/api/Albums?page=0", hdrs, &r), 400);
    ck_assert(h_header(&r, "X-Trace-Id", trace, sizeof(trace)));
    ck_assert(h_header(&r, "X-Request-Id", id, sizeof(id)));
    h_http_free(&r);
    ck_assert_str_eq(trace, TID);
    assert_trace(id, TID); /* the edge's record: no worker saw the request */
}
END_TEST

START_TEST(trace_from_rpc_caller_to_worker)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(),
                            .service = SERVICE,
                            .timeout_ms = 5000,
                            .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {.op = WR_OP_GET,
                             .collection = "Albums",
                             .key = "1",
                             .traceparent = "00-" TID "-" PID "-00",
                             .tracestate = "congo=t61rcWkgMzE"};
    wr_request_id_new(req.id);
    struct wr_reply reply;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_str_eq(reply.trace_id, TID);
    wr_reply_release(&reply);
    assert_trace(req.id, TID);
    /* none given: a new trace, reported in the reply and recorded */
    struct wr_request bare = {.op = WR_OP_GET, .collection = "Albums", .key = "2"};
    wr_request_id_new(bare.id);
    ck_assert_int_eq(wr_rpc_call(rpc, &bare, &reply, &err), 0);
    ck_assert_uint_eq(strlen(reply.trace_id), 32);
    ck_assert_str_ne(reply.trace_id, TID);
    char trace[40];
    (void)snprintf(trace, sizeof(trace), "%s", reply.trace_id);
    wr_reply_release(&reply);
    assert_trace(bare.id, trace);
    /* one the W3C grammar refuses (upper-case hex; an all-zero trace id):
     * not carried on, a new trace instead, as with none */
    static const char *const refused[] = {"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PID "-01",
                                          "00-00000000000000000000000000000000-" PID "-01"};
    for (size_t i = 0; i < 2; i++) {
        struct wr_request bad = {
            .op = WR_OP_GET, .collection = "Albums", .key = "3", .traceparent = refused[i]};
        wr_request_id_new(bad.id);
        ck_assert_int_eq(wr_rpc_call(rpc, &bad, &reply, &err), 0);
        ck_assert_int_eq(reply.status, 200);
        ck_assert_uint_eq(strlen(reply.trace_id), 32);
        ck_assert_msg(strcasecmp(reply.trace_id, TID) != 0 &&
                          strcmp(reply.trace_id, "00000000000000000000000000000000") != 0,
                      "%s was carried on: %s", refused[i], reply.trace_id);
        (void)snprintf(trace, sizeof(trace), "%s", reply.trace_id);
        wr_reply_release(&reply);
        assert_trace(bad.id, trace);
    }
    wr_rpc_free(rpc);
}
END_TEST

/* Every line of a JSON log is one object with the documented members. */
static void assert_json_log(const char *path)
{
    size_t len = 0;
    char *text = h_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    static const char *const members[] = {"time",       "level",    "service", "worker",
                                          "request_id", "trace_id", "message", "fields"};
    int lines = 0;
    for (char *l = text, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1, lines++) {
        json_error_t jerr;
        json_t *j = json_loadb(l, (size_t)(nl - l), JSON_REJECT_DUPLICATES, &jerr);
        ck_assert_msg(json_is_object(j), "%s: not a JSON object: %.*s", path, (int)(nl - l), l);
        ck_assert_uint_eq(json_object_size(j), 8);
        for (size_t i = 0; i < 8; i++)
            ck_assert_msg(json_object_get(j, members[i]) != NULL, "no %s", members[i]);
        json_decref(j);
    }
    ck_assert_int_gt(lines, 1);
    ck_assert_int_eq(text[len - 1], '\n');
    free(text);
}

START_TEST(json_logs_are_one_object_a_line)
{
    struct http_resp r;
    /* a client's hostile request id is never taken as it is */
    ck_assert_int_eq(get(port, "/api/Albums/1", "X-Request-Id: a\"b\\c\r\n", &r), 200);
    h_http_free(&r);
    assert_json_log(worker.log);
    assert_json_log(edge.log);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, admin_port_probes);
    tcase_add_test(tc, both_metrics_pass_promtool);
    tcase_add_test(tc, alert_rules_name_real_metrics);
    tcase_add_test(tc, counters_move_with_requests);
    tcase_add_test(tc, worker_without_broker_lives_but_is_not_ready);
    tcase_add_test(tc, trace_from_http_client_to_worker);
    tcase_add_test(tc, trace_from_rpc_caller_to_worker);
    tcase_add_test(tc, json_logs_are_one_object_a_line);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
