/* Deadlines and overload at the edge (issue 5, faults 4 and 6): a request
 * whose deadline passed while it waited is never executed; a reply that
 * comes after the edge gave up on its call is dropped and counted, never
 * sent to another client; beyond MAX_IN_FLIGHT the edge answers 503 at
 * once and its memory stays bounded. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/rpc_batch.h"

#define GONE_MAX 30

static struct fleet fleet;

static void teardown(void)
{
    f_fleet_stop(&fleet);
}

static void warm_up(void)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(fleet.port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}

START_TEST(expired_while_queued_not_executed)
{
    enum { N = 300 };
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=600", NULL};
    f_fleet_init(&fleet, "f_expired");
    fleet.edge_env = env;
    f_worker(&fleet, 0);
    f_edge(&fleet);
    warm_up();
    /* Frozen, the worker holds what it was delivered (up to PREFETCH) and
     * the rest waits in the queue: all of it outlives its deadline. */
    ck_assert_int_eq(kill(fleet.workers[0].pid, SIGSTOP), 0);
    checker *c = chk_new(N);
    chk_allow(c, 504);
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {.port = fleet.port, .concurrency = N, .give_up_ms = 600 + 2000};
    load_run(&o, reqs, N, c);
    usleep(300000);
    ck_assert_int_eq(kill(fleet.workers[0].pid, SIGCONT), 0);
    usleep(1500000); /* time to go through what it held */
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "expired-in-queue", &t), "see the checker's line");
    ck_assert_msg(t.s504 == N, "%zu of %d answered 504", t.s504, N);
    ck_assert_msg(t.executed == 0, "%zu expired requests were executed", t.executed);
    /* those the frozen worker held are recorded as not executed */
    char *log = h_read_file(fleet.logs[0], NULL);
    ck_assert_ptr_nonnull(log);
    free(log);
    printf("expired-in-queue: %zu recorded as not executed by the worker, the rest expired "
           "in the queue\n",
           t.recorded);
    free(reqs);
    chk_free(c);
}
END_TEST

/* A stand-in worker on the raw AMQP adapter: it takes the requests of the
 * queue and answers them only after the edge has answered 504. With
 * EDGE_BATCH on they come in proto v2 batches: it answers each batch with
 * one batch reply, as a worker does, so the edge drops each item alone. */
struct stand_in {
    wr_amqp *amqp;
    char reply_to[GONE_MAX][256];
    char ids[GONE_MAX][WR_REQUEST_ID_LEN + 1];
    size_t delivery[GONE_MAX]; /* which delivery brought it: requests of one batch share it */
    bool batched[GONE_MAX];
    size_t n, batches;
};

static void stand_in_start(struct stand_in *w, const char *service)
{
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    w->amqp = wr_amqp_new(&o);
    ck_assert_int_eq(wr_amqp_connect(w->amqp, &err), 0);
    ck_assert_int_eq(wr_amqp_declare_service(w->amqp, service, &err), 0);
    char queue[128];
    (void)snprintf(queue, sizeof(queue), "warren.%s", service);
    ck_assert_int_eq(wr_amqp_consume(w->amqp, queue, false, 0, &err), 0);
}

/* Reads the requests the broker delivers to the stand-in until it has
 * want of them or ms passed; how many it has. */
static size_t stand_in_take(struct stand_in *w, size_t want, int ms)
{
    struct wr_err err = {0};
    long long end = h_now_ms() + ms;
    while (w->n < want && h_now_ms() < end) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        ck_assert_int_eq(wr_amqp_poll(w->amqp, 100, &ev, &m, &err), 0);
        if (ev != WR_AMQP_DELIVERY)
            continue;
        struct wr_batch b = {.items = &m, .n = 1};
        bool batched = m.type != NULL && strcmp(m.type, WR_MSG_TYPE_RPC_BATCH) == 0;
        if (batched) {
            ck_assert_int_eq(wr_batch_decode(m.body, m.len, false, &b, &err), 0);
            w->batches++;
        }
        for (size_t i = 0; i < b.n; i++) {
            ck_assert_uint_lt(w->n, GONE_MAX);
            (void)snprintf(w->reply_to[w->n], sizeof(w->reply_to[0]), "%s", m.reply_to);
            (void)snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", b.items[i].correlation_id);
            w->delivery[w->n] = (size_t)m.delivery_tag;
            w->batched[w->n] = batched;
            w->n++;
        }
        if (batched)
            wr_batch_release(&b);
        ck_assert_int_eq(wr_amqp_ack(w->amqp, m.delivery_tag, false, &err), 0);
    }
    return w->n;
}

/* Reads the requests the broker delivered to the stand-in: want of them. */
static void stand_in_collect(struct stand_in *w, size_t want)
{
    ck_assert_uint_eq(stand_in_take(w, want, 10000), want);
    struct wr_err err = {0};
    ck_assert_int_eq(wr_amqp_cancel(w->amqp, &err), 0); /* the real worker takes the rest */
}

/* Publishes a reply for every request it took: all of them are late. */
static void stand_in_answer(void *arg)
{
    struct stand_in *w = arg;
    static const char body[] = "{\"stale\":true}\n";
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, true, 1 << 20);
    for (size_t i = 0; i < w->n; i++) {
        struct wr_msg m = {.correlation_id = w->ids[i],
                           .expiration_ms = -1,
                           .status = 200,
                           .body = body,
                           .len = sizeof(body) - 1};
        struct wr_err err = {0};
        if (!w->batched[i]) {
            ck_assert_int_eq(wr_amqp_publish(w->amqp, w->reply_to[i], &m, false, &err), 0);
            continue;
        }
        ck_assert_int_eq(wr_batch_enc_add(&e, &m), 0);
        if (i + 1 < w->n && w->batched[i + 1] && w->delivery[i + 1] == w->delivery[i])
            continue; /* the rest of its batch first */
        size_t len;
        const char *reply = wr_batch_enc_finish(&e, &len);
        ck_assert_ptr_nonnull(reply);
        struct wr_msg out = {
            .type = WR_MSG_TYPE_RPC_BATCH, .expiration_ms = -1, .body = reply, .len = len};
        ck_assert_int_eq(wr_amqp_publish(w->amqp, w->reply_to[i], &out, false, &err), 0);
        wr_batch_enc_reset(&e);
    }
    wr_batch_enc_release(&e);
}

START_TEST(late_replies_dropped_and_counted)
{
    enum { N = 1000, GONE = GONE_MAX };
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=1000", NULL};
    f_fleet_init(&fleet, "f_late");
    fleet.edge_env = env;
    f_edge(&fleet);
    /* GONE requests answered 504: their replies will come late */
    checker *gone = chk_new(GONE);
    chk_allow(gone, 504);
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {.port = fleet.port, .concurrency = GONE, .give_up_ms = 1000 + 2000};
    static struct stand_in w;
    stand_in_start(&w, "f_late");
    load_run(&o, reqs, GONE, gone);
    stand_in_collect(&w, GONE);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(gone, "late-replies-504", &t) && t.s504 == GONE, "not all 504");
    /* the real worker serves other clients while the late replies arrive */
    f_worker(&fleet, 0);
    warm_up();
    checker *c = chk_new(N);
    chk_allow(c, 200);
    o.concurrency = 32;
    o.rate_per_s = 1000;
    struct f_step steps[] = {{300, stand_in_answer, &w, 0}};
    struct f_faults s = {.steps = steps, .n = 1};
    f_faults_start(&s);
    load_run(&o, reqs, N, c);
    f_faults_join(&s);
    usleep(300000);
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    ck_assert_msg(chk_verdict(c, "late-replies", &t), "see the checker's line");
    size_t late = f_count_lines(fleet.edge.log, "late reply dropped");
    printf("late-replies: %zu late replies dropped and counted by the edge, %d sent late (%zu "
           "batches)\n",
           late, GONE, w.batches);
    ck_assert_int_eq(late, GONE);
    wr_amqp_free(w.amqp);
    free(reqs);
    chk_free(gone);
    chk_free(c);
}
END_TEST

/* Lets the frozen edge go on (a step of f_faults). */
static void edge_cont(void *arg)
{
    (void)arg;
    ck_assert_int_eq(kill(fleet.edge.pid, SIGCONT), 0);
}

/* EDGE_BATCH_MAX bounds a batch: 30 reads arriving at once on one loop,
 * with at most 4 a batch, reach the queue as batches of 4 or fewer (a
 * read that does not fit starts the next one), every read in one. "At
 * once": the edge is frozen while the 30 connect and send (the kernel
 * takes both), then let go, so that one loop turn reads them all; an edge
 * that keeps up reads each in a turn of its own, which batches nothing. */
START_TEST(batches_hold_at_most_edge_batch_max)
{
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=1000", "WARREN_EDGE_BATCH=True",
                         "WARREN_EDGE_THREADS=1", "WARREN_EDGE_BATCH_MAX=4", NULL};
    f_fleet_init(&fleet, "f_bmax");
    fleet.edge_env = env;
    f_edge(&fleet);
    checker *c = chk_new(GONE_MAX);
    chk_allow(c, 504); /* nobody answers: the stand-in only counts */
    struct load_req *reqs = f_album_reads(GONE_MAX);
    struct load_opts o = {.port = fleet.port, .concurrency = GONE_MAX, .give_up_ms = 3000};
    static struct stand_in w;
    stand_in_start(&w, "f_bmax");
    ck_assert_int_eq(kill(fleet.edge.pid, SIGSTOP), 0);
    struct f_step steps[] = {{300, edge_cont, NULL, 0}};
    struct f_faults s = {.steps = steps, .n = 1};
    f_faults_start(&s);
    load_run(&o, reqs, GONE_MAX, c);
    f_faults_join(&s);
    stand_in_collect(&w, GONE_MAX);
    size_t most = 0, run = 0;
    for (size_t i = 0; i < w.n; i++) {
        run = i > 0 && w.delivery[i] == w.delivery[i - 1] ? run + 1 : 1;
        most = run > most ? run : most;
    }
    printf("batch-max: %zu reads in %zu batches, at most %zu in one\n", w.n, w.batches, most);
    ck_assert_uint_gt(w.batches, 0);
    ck_assert_uint_le(most, 4);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "batch-max", &t) && t.s504 == GONE_MAX, "not all 504");
    f_fleet_stop(&fleet);
    wr_amqp_free(w.amqp);
    free(reqs);
    chk_free(c);
}
END_TEST

static void thaw(void *arg)
{
    (void)arg;
    kill(fleet.workers[0].pid, SIGCONT);
}

static void freeze(void *arg)
{
    (void)arg;
    kill(fleet.workers[0].pid, SIGSTOP);
}

/* Sends a GET /api/Albums/3, its connection's last ("Connection: close")
 * or not; the call stays in flight until its answer. */
static int send_read(int port, bool last)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *req = last ? "GET /api/Albums/3 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Connection: close\r\n\r\n"
                           : "GET /api/Albums/3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    return fd;
}

/* A GET whose connection stays open after its answer. */
static int hold_request(int port)
{
    return send_read(port, false);
}

/* Reads the answer on fd (the stand-in's "stale" 200) and closes it. */
static void answered_200(int fd)
{
    bool closed = false;
    char *resp = h_read_until_close(fd, 10000, &closed);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200", 12) == 0, "%.60s", resp);
    free(resp);
    close(fd);
}

/* An edge batching into the stand-in's queue with env's window and wait. */
static void window_fleet(const char *name, const char **env, struct stand_in *w)
{
    f_fleet_init(&fleet, name);
    fleet.edge_env = env;
    f_edge(&fleet);
    stand_in_start(w, name);
}

/* EDGE_BATCH_WINDOW: with 2 reads out on the queue (the stand-in holds
 * them unanswered), the next reads wait in the edge, however idle it is,
 * and leave together, in one batch, as soon as a reply comes back: long
 * before the EDGE_BATCH_WAIT_US bound (8 s here). Two reads out: each
 * went alone, the window open. */
START_TEST(a_batch_waits_for_its_window)
{
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=20000",
                         "WARREN_EDGE_BATCH=True",
                         "WARREN_EDGE_THREADS=1",
                         "WARREN_EDGE_BATCH_WINDOW=2",
                         "WARREN_EDGE_BATCH_WAIT_US=8000000",
                         NULL};
    static struct stand_in w;
    window_fleet("f_window", env, &w);
    int fd[5];
    for (size_t i = 0; i < 2; i++) {
        fd[i] = send_read(fleet.port, true);
        ck_assert_uint_eq(stand_in_take(&w, i + 1, 10000), i + 1);
        ck_assert_msg(!w.batched[i], "read %zu did not go alone", i);
    }
    for (size_t i = 2; i < 5; i++)
        fd[i] = send_read(fleet.port, true);
    ck_assert_uint_eq(stand_in_take(&w, 5, 500), 2); /* they wait: the window is shut */
    stand_in_answer(&w);
    ck_assert_uint_eq(stand_in_take(&w, 5, 5000), 5);
    for (size_t i = 2; i < 5; i++)
        ck_assert_msg(w.batched[i] && w.delivery[i] == w.delivery[2], "read %zu not in the batch",
                      i);
    stand_in_answer(&w); /* the batch's replies (the first two again: late, dropped) */
    for (size_t i = 0; i < 5; i++)
        answered_200(fd[i]);
    printf("window: 2 reads out alone, the next 3 in one batch once a reply came\n");
    f_fleet_stop(&fleet);
    wr_amqp_free(w.amqp);
}
END_TEST

/* EDGE_BATCH_WAIT_US bounds the wait: reads behind a shut window that no
 * reply opens leave anyway, together, once the bound passes. */
START_TEST(a_batch_waits_no_longer_than_edge_batch_wait_us)
{
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=20000",
                         "WARREN_EDGE_BATCH=True",
                         "WARREN_EDGE_THREADS=1",
                         "WARREN_EDGE_BATCH_WINDOW=1",
                         "WARREN_EDGE_BATCH_WAIT_US=300000",
                         NULL};
    static struct stand_in w;
    window_fleet("f_wait", env, &w);
    int fd[3];
    fd[0] = send_read(fleet.port, true);
    ck_assert_uint_eq(stand_in_take(&w, 1, 10000), 1);
    fd[1] = send_read(fleet.port, true);
    fd[2] = send_read(fleet.port, true);
    long long t0 = h_now_ms();
    ck_assert_uint_eq(stand_in_take(&w, 3, 10000), 3); /* nobody answered the first */
    long long waited = h_now_ms() - t0;
    ck_assert_msg(w.batched[1] && w.delivery[2] == w.delivery[1], "not one batch");
    stand_in_answer(&w);
    for (size_t i = 0; i < 3; i++)
        answered_200(fd[i]);
    printf("wait: 2 reads behind a shut window left together after %lld ms (bound 300)\n", waited);
    f_fleet_stop(&fleet);
    wr_amqp_free(w.amqp);
}
END_TEST

START_TEST(overload_answers_503_at_once)
{
    enum { N = 3000, CAP = 50 };
    const char *env[] = {"WARREN_MAX_IN_FLIGHT=50", NULL};
    f_fleet_init(&fleet, "f_overload");
    fleet.edge_env = env;
    f_worker(&fleet, 0);
    /* ASan keeps freed memory in quarantine (256 MB): without it the
     * edge's RSS shows what it really holds. */
    const char *asan = getenv("ASAN_OPTIONS");
    char saved[512], mine[600];
    (void)snprintf(saved, sizeof(saved), "%s", asan ? asan : "");
    (void)snprintf(mine, sizeof(mine), "%s:quarantine_size_mb=1", saved);
    setenv("ASAN_OPTIONS", mine, 1);
    f_edge(&fleet);
    setenv("ASAN_OPTIONS", saved, 1);
    warm_up();
    long rss0 = f_rss_kb(fleet.edge.pid);
    long rss[3] = {0};
    struct chk_totals t;
    for (int round = 0; round < 3; round++) {
        /* The worker frozen for 1.5 s: the first CAP requests wait for it,
         * every other one is refused at once. */
        checker *c = chk_new(N);
        chk_allow(c, 200);
        chk_allow(c, 503);
        struct load_req *reqs = f_album_reads(N);
        struct load_opts o = {.port = fleet.port, .concurrency = 200, .give_up_ms = 5000 + 2000};
        struct f_step steps[] = {{0, freeze, NULL, 0}, {1500, thaw, NULL, 0}};
        struct f_faults s = {.steps = steps, .n = 2};
        f_faults_start(&s);
        usleep(50000);
        load_run(&o, reqs, N, c);
        f_faults_join(&s);
        char name[32];
        (void)snprintf(name, sizeof(name), "overload-%d", round);
        ck_assert_msg(chk_verdict(c, name, &t), "see the checker's line");
        ck_assert_msg(t.ok >= CAP && t.s503 > 0, "%zu ok, %zu refused", t.ok, t.s503);
        ck_assert_msg(t.max503_ms < 500, "a 503 took %lld ms", t.max503_ms);
        rss[round] = f_rss_kb(fleet.edge.pid);
        free(reqs);
        chk_free(c);
    }
    printf("overload: edge RSS %ld kB before, %ld / %ld / %ld kB after each round of %d\n", rss0,
           rss[0], rss[1], rss[2], N);
    /* bounded: later rounds do not grow it (no per-request leak or queue) */
    ck_assert_msg(rss[2] - rss[0] < 16 * 1024, "edge RSS grew by %ld kB", rss[2] - rss[0]);
    /* the refusal carries Retry-After */
    kill(fleet.workers[0].pid, SIGSTOP);
    int held[CAP];
    for (int i = 0; i < CAP; i++)
        held[i] = hold_request(fleet.port);
    usleep(100000);
    struct http_resp r;
    ck_assert_int_eq(h_http(fleet.port, "GET", "/api/Albums/1", NULL, &r, 5000), 0);
    kill(fleet.workers[0].pid, SIGCONT);
    for (int i = 0; i < CAP; i++)
        close(held[i]);
    char retry[16];
    ck_assert_int_eq(r.status, 503);
    ck_assert(h_header(&r, "Retry-After", retry, sizeof(retry)));
    ck_assert_ptr_nonnull(strstr(r.body, "overloaded"));
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_edge");
    TCase *tc = tcase_create("edge");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, expired_while_queued_not_executed);
    tcase_add_test(tc, late_replies_dropped_and_counted);
    tcase_add_test(tc, batches_hold_at_most_edge_batch_max);
    tcase_add_test(tc, a_batch_waits_for_its_window);
    tcase_add_test(tc, a_batch_waits_no_longer_than_edge_batch_wait_us);
    tcase_add_test(tc, overload_answers_503_at_once);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
