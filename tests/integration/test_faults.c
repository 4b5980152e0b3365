/* Faults with real processes: a worker stopped with SIGTERM under load
 * drains and exits 0 while every request is answered once (nothing lost),
 * an edge stopped with SIGTERM answers every request it holds before it
 * exits, and a request that waits out its deadline behind a frozen worker
 * is not executed late when the worker resumes. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static char env_spool[2][300];
/* The workers a test started; teardown stops those a failed test left,
 * which would otherwise take other tests' audit records. */
static struct proc w0, w1, w, edge;

static void start_worker(struct proc *p, int i)
{
    (void)snprintf(env_spool[i], sizeof(env_spool[i]), "WARREN_AUDIT_SPOOL_DIR=%s/spool-faults-%d",
                   h_env("WRT_STATE_DIR"), i);
    const char *extra[] = {env_spool[i], NULL};
    h_spawn_warren(p, WARREN_CATALOG_BIN, i == 0 ? "catalog-faults-0" : "catalog-faults-1", 0,
                   "t_faults", extra);
}

/* Waits until p consumes: a worker still starting would miss the load
 * or the SIGSTOP aimed at it. */
static void wait_consuming(const struct proc *p)
{
    ck_assert_msg(h_log_has(p->log, "consuming warren.", 30000),
                  "not consuming within 30 s (see %s)", p->log);
}

static void teardown(void)
{
    struct proc *all[] = {&w0, &w1, &w, &edge};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i]->pid > 0)
            (void)h_stop(all[i], SIGKILL);
        all[i]->pid = 0;
    }
}

static wr_rpc *client(long timeout_ms)
{
    struct wr_rpc_opts o = {
        .amqp_url = h_amqp_url(), .service = "t_faults", .timeout_ms = timeout_ms};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    return rpc;
}

struct kill_later {
    pid_t pid;
    int sig;
    int after_ms;
};

static void *kill_later(void *arg)
{
    struct kill_later *k = arg;
    usleep((useconds_t)k->after_ms * 1000);
    kill(k->pid, k->sig);
    return NULL;
}

START_TEST(sigterm_under_load_drains_and_loses_nothing)
{
    enum { N = 2000 };
    start_worker(&w0, 0);
    start_worker(&w1, 1);
    wait_consuming(&w0);
    wait_consuming(&w1);
    wr_rpc *rpc = client(20000);
    /* warm up: both consuming */
    struct wr_request one = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    struct wr_reply r1;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &one, &r1, &err), 0);
    wr_reply_release(&r1);
    usleep(300000);

    static struct wr_request reqs[N];
    static struct wr_reply replies[N];
    for (int i = 0; i < N; i++)
        reqs[i] = (struct wr_request){.op = WR_OP_LIST, .collection = "Albums", .page = i % 35 + 1};
    struct kill_later k = {.pid = w0.pid, .sig = SIGTERM, .after_ms = 30};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, kill_later, &k), 0);
    int rc = wr_rpc_call_many(rpc, reqs, N, replies, &err);
    pthread_join(t, NULL);
    ck_assert_msg(rc == 0, "call_many: %s", err.msg);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += replies[i].status == 200;
        wr_reply_release(&replies[i]);
    }
    ck_assert_int_eq(ok, N);
    ck_assert_int_eq(h_stop(&w0, SIGTERM), 0); /* it had exited by itself, with 0 */
    w0.pid = 0;
    char *log = h_read_file(w0.log, NULL);
    ck_assert_ptr_nonnull(strstr(log, "stopped consuming"));
    free(log);
    wr_rpc_free(rpc);
    ck_assert_int_eq(h_stop(&w1, SIGTERM), 0);
    w1.pid = 0;
}
END_TEST

/* A connection to the edge at port; rcvbuf > 0: that receive buffer. */
static int connect_edge(int port, int rcvbuf)
{
    int fd = h_connect(port, rcvbuf);
    ck_assert_msg(fd >= 0, "cannot connect to the edge at %d", port);
    return fd;
}

/* GET path on fd, its answer left unread. */
static void send_get(int fd, const char *path)
{
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    ck_assert_int_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

static long long in_flight(int port)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 10000), 0);
    long long n = h_metric(r.body, "warren_http_requests_in_flight");
    h_http_free(&r);
    return n;
}

/* A worker and an edge (tag, one loop) of the test's service: the edge's
 * port, once both are ready. */
static int start_edge(const char *tag)
{
    start_worker(&w, 0);
    wait_consuming(&w);
    const char *env[] = {"WARREN_EDGE_THREADS=1", NULL};
    int port = h_spawn_edge(&edge, tag, "t_faults", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
    return port;
}

/* Waits until the edge at port holds n requests (the worker frozen). */
static void wait_holding(int port, long long n)
{
    for (long long end = h_now_ms() + 10000; in_flight(port) < n;) {
        ck_assert_msg(h_now_ms() < end, "the edge holds fewer than %lld requests", n);
        usleep(50 * 1000);
    }
}

/* Then stops it with SIGTERM and, once it drains them, lets the worker go. */
static void stop_edge_holding(int port, long long n)
{
    wait_holding(port, n);
    ck_assert_int_eq(kill(edge.pid, SIGTERM), 0);
    char draining[64];
    (void)snprintf(draining, sizeof(draining), "draining %lld requests in flight", n);
    ck_assert(h_log_has(edge.log, draining, 10000));
    ck_assert_int_eq(kill(w.pid, SIGCONT), 0);
}

/* Both exited 0: the edge by itself once drained. */
static void both_stopped(void)
{
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    edge.pid = 0;
    ck_assert_int_eq(h_stop(&w, SIGTERM), 0);
    w.pid = 0;
}

/* An edge stopped with SIGTERM (a deploy) answers the requests it holds
 * before it exits: each one in flight when the signal came gets its whole
 * answer once the worker replies. The answers made in the drain's last
 * loop turn were lost before (1 or 2 of 3 in a manual run): the loop ended
 * before libevent's write event for them came round, and the client saw
 * its connection closed without an answer. */
START_TEST(edge_sigterm_answers_every_request_in_flight)
{
    enum { N = 4 };
    int port = start_edge("edge-faults");
    ck_assert_int_eq(kill(w.pid, SIGSTOP), 0); /* the requests wait in the edge */
    int fds[N];
    for (int i = 0; i < N; i++) {
        char path[64];
        (void)snprintf(path, sizeof(path), "/api/Albums/%d", i + 1);
        fds[i] = connect_edge(port, 0);
        send_get(fds[i], path);
    }
    stop_edge_holding(port, N);
    for (int i = 0; i < N; i++) {
        bool closed;
        char *all = h_read_until_close(fds[i], 20000, &closed);
        close(fds[i]);
        char want[64];
        (void)snprintf(want, sizeof(want), "\"album_id\":%d,", i + 1);
        ck_assert_msg(strncmp(all, "HTTP/1.1 200 ", 13) == 0 && strstr(all, want) != NULL,
                      "request %d: %s", i + 1, all);
        free(all);
    }
    both_stopped();
}
END_TEST

/* The same for an answer the socket does not take at once: the edge's
 * send buffer for this connection is made small (through its own socket,
 * pidfd_getfd) and the client reads nothing until the edge has drained,
 * so the answer is still being sent when the last call ends. The loop
 * runs on until it has left (loops.c); it was cut before. */
/* A connection to the edge at port whose both ends buffer little: this
 * end's receive buffer, and the edge's send buffer, set through its own
 * socket (pidfd_getfd). */
static int connect_narrow(int port)
{
    int fd = connect_edge(port, 4096);
    int theirs = -1;
    for (long long end = h_now_ms() + 5000; (theirs = h_their_end(edge.pid, fd)) < 0;) {
        ck_assert_msg(h_now_ms() < end, "the edge did not take the connection");
        usleep(20 * 1000);
    }
    int small = 4096;
    ck_assert_int_eq(setsockopt(theirs, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    close(theirs);
    return fd;
}

/* The Content-Length of the 200 answer in all (len bytes), and in *body
 * how many bytes of its body came. */
static long body_of_200(const char *all, size_t len, long *body)
{
    const char *eoh = strstr(all, "\r\n\r\n");
    const char *cl = strstr(all, "\r\nContent-Length: ");
    ck_assert_msg(strncmp(all, "HTTP/1.1 200 ", 13) == 0 && eoh != NULL && cl != NULL && cl < eoh,
                  "%.300s", all);
    *body = (long)(len - (size_t)(eoh + 4 - all));
    return strtol(cl + 18, NULL, 10);
}

START_TEST(edge_sigterm_finishes_a_large_answer)
{
    int port = start_edge("edge-faults-large");
    int fd = connect_narrow(port);
    ck_assert_int_eq(kill(w.pid, SIGSTOP), 0);
    send_get(fd, "/api/Tracks?results_per_page=100");
    stop_edge_holding(port, 1);
    usleep(500 * 1000); /* the edge answers: part of it fits, the rest waits for us */
    struct timeval tv = {20, 0};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    static char all[1 << 20];
    size_t got = 0;
    for (ssize_t n;
         got < sizeof(all) - 1 && (n = recv(fd, all + got, sizeof(all) - 1 - got, 0)) > 0;)
        got += (size_t)n;
    all[got] = '\0';
    close(fd);
    long body = 0, want = body_of_200(all, got, &body);
    ck_assert_msg(want > 32768, "the answer (%ld bytes) fits the buffers anyway", want);
    ck_assert_msg(body == want, "%ld of %ld bytes of the body came", body, want);
    both_stopped();
}
END_TEST

/* But a client that reads nothing does not hold a stopping edge for
 * good: its answer is cut SEND_GRACE_S (5 s) after the drain, though
 * HTTP_TIMEOUT_S, libevent's inactivity timeout (60 s here), would wait
 * on. The edge exits 0; the client has the start of its answer, then the
 * connection's end. */
START_TEST(edge_sigterm_cuts_a_client_that_never_reads)
{
    start_worker(&w, 0);
    wait_consuming(&w);
    const char *env[] = {"WARREN_EDGE_THREADS=1", "WARREN_HTTP_TIMEOUT_S=60", NULL};
    int port = h_spawn_edge(&edge, "edge-faults-stuck", "t_faults", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
    int fd = connect_narrow(port);
    ck_assert_int_eq(kill(w.pid, SIGSTOP), 0);
    send_get(fd, "/api/Tracks?results_per_page=100");
    stop_edge_holding(port, 1);
    long long t0 = h_now_ms();
    int status = h_exit_status(&edge, 30000);
    ck_assert_msg(status != -1, "the edge still ran 30 s into its drain (see %s)", edge.log);
    ck_assert_msg(status == 0, "the edge ended %d", status);
    printf("edge_sigterm_cuts_a_client_that_never_reads: exited %.1f s after the drain began\n",
           (double)(h_now_ms() - t0) / 1000.0);
    bool closed = false;
    char *all = h_read_until_close(fd, 10000, &closed);
    close(fd);
    long got = 0, want = body_of_200(all, strlen(all), &got);
    ck_assert_msg(closed && got < want, "%ld of %ld bytes came, closed: %d", got, want, closed);
    free(all);
    ck_assert_int_eq(h_stop(&w, SIGTERM), 0);
    w.pid = 0;
}
END_TEST

#define DUP_ID "0123456789abcdef0123456789abcdef"

/* The request id is the call's correlation id: a second request with the
 * id of one in flight would take the first one's reply. The edge answers
 * it 409 at once, and the first is answered as if alone. */
START_TEST(an_id_in_flight_is_not_taken_twice)
{
    int port = start_edge("edge-faults-dup");
    ck_assert_int_eq(kill(w.pid, SIGSTOP), 0); /* the first waits in the edge */
    int fd = connect_edge(port, 0);
    static const char first[] = "GET /api/Albums/3 HTTP/1.1\r\nHost: x\r\nX-Request-Id: " DUP_ID
                                "\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(fd, first, sizeof(first) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(first) - 1);
    wait_holding(port, 1);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/4", "X-Request-Id: " DUP_ID "\r\n", &r, 5000),
                     0);
    ck_assert_msg(r.status == 409 && strstr(r.body, "\"conflict\"") != NULL, "%d %s", r.status,
                  r.body);
    h_http_free(&r);
    ck_assert_int_eq(kill(w.pid, SIGCONT), 0);
    bool closed;
    char *all = h_read_until_close(fd, 20000, &closed);
    close(fd);
    ck_assert_msg(strncmp(all, "HTTP/1.1 200 ", 13) == 0 &&
                      strstr(all, "\"album_id\":3,") != NULL && strstr(all, DUP_ID) != NULL,
                  "the first: %.300s", all);
    free(all);
    both_stopped();
}
END_TEST

START_TEST(frozen_worker_lets_requests_expire)
{
    start_worker(&w, 0);
    wait_consuming(&w);
    wr_rpc *rpc = client(400);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "2"};
    struct wr_reply r;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0); /* the worker is up */
    wr_reply_release(&r);
    ck_assert_int_eq(kill(w.pid, SIGSTOP), 0);
    wr_request_id_new(req.id);
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), WR_ETIMEDOUT);
    ck_assert_int_eq(r.status, 504);
    wr_reply_release(&r);
    usleep(600000); /* well past its deadline */
    ck_assert_int_eq(kill(w.pid, SIGCONT), 0);
    usleep(500000);
    /* Delivered to the frozen worker before it expired, the request is
     * recorded (every request a worker takes is) but not executed: its
     * deadline had passed when the worker resumed. */
    ck_assert_int_eq(h_stop(&w, SIGTERM), 0);
    w.pid = 0;
    char path[400];
    (void)snprintf(path, sizeof(path), "%s/spool-faults-0/audit-00.spool", h_env("WRT_STATE_DIR"));
    char *spool = h_read_file(path, NULL);
    ck_assert_ptr_nonnull(spool);
    const char *rec = strstr(spool, req.id);
    ck_assert_msg(rec != NULL, "no record of %s", req.id);
    /* the id is the record's request_id, not its first member */
    while (rec > spool && rec[-1] != '\n')
        rec--;
    const char *end = strchr(rec, '\n');
    const char *status = strstr(rec, "\"status\":null");
    const char *note = strstr(rec, "deadline passed");
    ck_assert_msg(status != NULL && status < end && note != NULL && note < end,
                  "the expired request was executed: %.300s", rec);
    free(spool);
    wr_rpc_free(rpc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, sigterm_under_load_drains_and_loses_nothing);
    tcase_add_test(tc, edge_sigterm_answers_every_request_in_flight);
    tcase_add_test(tc, edge_sigterm_finishes_a_large_answer);
    tcase_add_test(tc, edge_sigterm_cuts_a_client_that_never_reads);
    tcase_add_test(tc, an_id_in_flight_is_not_taken_twice);
    tcase_add_test(tc, frozen_worker_lets_requests_expire);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
