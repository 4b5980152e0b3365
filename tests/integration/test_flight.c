/* Single-flight at the edge: identical reads in flight share one call (one
 * message to the worker, one execution), every client still gets its own
 * answer with its own request id; a follower or a leader whose client goes
 * away leaves the others answered; different reads never share. The worker
 * logs each request it executes (LOG_LEVEL debug): those lines are counted.
 * One event loop (EDGE_THREADS 1): flights are a loop's own. SINGLE_FLIGHT
 * is on here (off by default). */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

static int port;
static struct proc edge, worker;

static void setup(void)
{
    const char *env[] = {"WARREN_COLLECTIONS=Albums, Artists", "WARREN_EDGE_THREADS=1",
                         "WARREN_LOG_LEVEL=debug", "WARREN_SINGLE_FLIGHT=True", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-flight", 0, "t_flight", env);
    port = h_spawn_edge(&edge, "edge-flight", "t_flight", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
    struct http_resp r; /* the worker consumes */
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}

static void teardown(void)
{
    kill(worker.pid, SIGCONT);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* Requests the worker executed so far: its "executing" log lines. */
static int executed(void)
{
    char *log = h_read_file(worker.log, NULL);
    ck_assert_ptr_nonnull(log);
    int n = 0;
    for (const char *p = strstr(log, "] executing "); p != NULL; p = strstr(p + 1, "] executing "))
        n++;
    free(log);
    return n;
}

/* A connection with a GET of path sent, its answer not read. */
static int send_get(const char *path)
{
    int fd = h_connect(port, 0);
    ck_assert_int_ge(fd, 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    return fd;
}

/* Reads one answer (the edge sends Content-Length; 10 s at most): its
 * status, its X-Request-Id and its body, copied into the caller's arrays. */
static int read_answer(int fd, char rid[40], char *body, size_t cap)
{
    char buf[16384];
    size_t n = 0;
    long long end = h_now_ms() + 10000;
    char *head_end = NULL;
    long len = -1;
    while (n + 1 < sizeof(buf) && h_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, sizeof(buf) - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        head_end = strstr(buf, "\r\n\r\n");
        const char *cl = head_end ? strstr(buf, "\r\nContent-Length: ") : NULL;
        len = cl ? strtol(cl + 18, NULL, 10) : -1;
        if (head_end && len >= 0 && n >= (size_t)(head_end + 4 - buf) + (size_t)len)
            break;
    }
    int status = 0;
    ck_assert_msg(head_end != NULL && sscanf(buf, "HTTP/1.1 %d", &status) == 1, "no answer: %s",
                  buf);
    const char *id = strstr(buf, "\r\nX-Request-Id: ");
    ck_assert_ptr_nonnull(id);
    (void)snprintf(rid, 40, "%.32s", id + 16);
    (void)snprintf(body, cap, "%s", head_end + 4);
    return status;
}

START_TEST(identical_reads_share_one_call)
{
    enum { N = 12 };
    int before = executed();
    kill(worker.pid, SIGSTOP); /* everything below is in flight at once */
    int fds[N + 2];
    for (int i = 0; i < N; i++)
        fds[i] = send_get("/api/Albums/3");
    fds[N] = send_get("/api/Albums/4");
    fds[N + 1] = send_get("/api/Albums?page=2");
    usleep(300000);
    kill(worker.pid, SIGCONT);
    char rids[N + 2][40], bodies[N + 2][4096];
    for (int i = 0; i < N + 2; i++) {
        ck_assert_int_eq(read_answer(fds[i], rids[i], bodies[i], sizeof(bodies[i])), 200);
        close(fds[i]);
    }
    for (int i = 1; i < N; i++) {
        ck_assert_str_eq(bodies[i], bodies[0]);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(rids[i], rids[j]); /* each its own answer */
    }
    ck_assert_ptr_nonnull(strstr(bodies[0], "\"album_id\":3"));
    ck_assert_ptr_nonnull(strstr(bodies[N], "\"album_id\":4"));
    ck_assert_ptr_nonnull(strstr(bodies[N + 1], "\"page\":2"));
    usleep(200000);
    ck_assert_int_eq(executed() - before, 3); /* one per distinct read */
}
END_TEST

START_TEST(clients_gone_leave_the_others_answered)
{
    int before = executed();
    kill(worker.pid, SIGSTOP);
    int leader = send_get("/api/Albums/5");
    usleep(50000); /* the leader is the first in flight */
    int f1 = send_get("/api/Albums/5");
    int f2 = send_get("/api/Albums/5");
    int f3 = send_get("/api/Albums/5");
    usleep(100000);
    close(leader); /* the leader's client and one follower's go away */
    close(f2);
    usleep(100000);
    kill(worker.pid, SIGCONT);
    char rid[40], body[4096];
    ck_assert_int_eq(read_answer(f1, rid, body, sizeof(body)), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"album_id\":5"));
    ck_assert_int_eq(read_answer(f3, rid, body, sizeof(body)), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"album_id\":5"));
    close(f1);
    close(f3);
    usleep(200000);
    ck_assert_int_eq(executed() - before, 1);
    /* and the edge goes on: a new read is a flight of its own */
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/5", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flight");
    TCase *t = tcase_create("flight");
    tcase_set_timeout(t, 60);
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_add_test(t, identical_reads_share_one_call);
    tcase_add_test(t, clients_gone_leave_the_others_answered);
    suite_add_tcase(s, t);
    return run_suite(s, false);
}
