/* The worker's admin listener: what /livez, /readyz and /metrics answer
 * for each state the loop reports, 404 and 405 in JSON, and the same over
 * a real socket (status line, length, HEAD without a body, a malformed
 * request line refused, the thread stopped cleanly), and probes answered
 * while other clients hold connections open without finishing them. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "run_suite.h"

struct answer {
    int status;
    const char *type;
    char body[4096];
};

static struct answer ask(struct wr__health *h, wr_metrics *m, const char *method,
                         const char *target)
{
    struct answer a = {0};
    struct wr_buf b;
    wr_buf_init(&b, sizeof(a.body) - 1);
    wr__admin_answer(h, m, method, target, &a.status, &a.type, &b);
    memcpy(a.body, b.data ? b.data : "", b.len);
    wr_buf_release(&b);
    return a;
}

START_TEST(probes_say_what_the_loop_reports)
{
    struct wr__health h;
    wr__health_init(&h);
    wr_metrics *m = wr_metrics_new();
    struct answer a = ask(&h, m, "GET", "/livez");
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "{\"status\":\"ok\"}\n");
    /* a loop that promised to be back long ago is stuck */
    atomic_store(&h.alive_until_ms, 1);
    a = ask(&h, m, "GET", "/livez");
    ck_assert_int_eq(a.status, 503);
    ck_assert_ptr_nonnull(strstr(a.body, "\"code\":\"unavailable\""));
    wr__health_alive(&h, 1000);
    ck_assert_int_eq(ask(&h, m, "HEAD", "/livez").status, 200);
    /* not ready until consuming */
    a = ask(&h, m, "GET", "/readyz");
    ck_assert_int_eq(a.status, 503);
    ck_assert_str_eq(a.body,
                     "{\"code\":\"unavailable\",\"message\":\"not ready: not consuming from the "
                     "broker\"}\n");
    wr__health_unready(&h, WR__UNREADY_BROKER, false);
    a = ask(&h, m, "GET", "/readyz?verbose=1");
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "{\"status\":\"ready\"}\n");
    wr__health_unready(&h, WR__UNREADY_SPOOL_FULL, true);
    wr__health_unready(&h, WR__UNREADY_STOPPING, true);
    a = ask(&h, m, "GET", "/readyz");
    ck_assert_int_eq(a.status, 503);
    ck_assert_ptr_nonnull(strstr(a.body, "not ready: stopping, the audit spool is full\""));
    wr__health_unready(&h, WR__UNREADY_SPOOL_FULL, false);
    wr__health_unready(&h, WR__UNREADY_STOPPING, false);
    wr__health_unready(&h, WR__UNREADY_AUDIT, true);
    ck_assert_ptr_nonnull(strstr(ask(&h, m, "GET", "/readyz").body, "the audit trail failed"));
    wr_metrics_free(m);
}
END_TEST

START_TEST(metrics_and_errors)
{
    struct wr__health h;
    wr__health_init(&h);
    wr_metrics *m = wr_metrics_new();
    wr_series_add(wr_metric_series(wr_metrics_counter(m, "warren_x_total", "X", NULL), NULL), 4);
    struct answer a = ask(&h, m, "GET", "/metrics");
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.type, WR_METRICS_CONTENT_TYPE);
    ck_assert_str_eq(a.body, "# HELP warren_x_total X\n# TYPE warren_x_total counter\n"
                             "warren_x_total 4\n");
    a = ask(&h, m, "GET", "/metrics/x");
    ck_assert_int_eq(a.status, 404);
    ck_assert_str_eq(a.type, "application/json");
    ck_assert_ptr_nonnull(strstr(a.body, "\"code\":\"not_found\""));
    a = ask(&h, m, "POST", "/readyz");
    ck_assert_int_eq(a.status, 405);
    ck_assert_ptr_nonnull(strstr(a.body, "\"code\":\"method_not_allowed\""));
    ck_assert_int_eq(ask(&h, m, "GET", "/").status, 404);
    ck_assert_int_eq(ask(&h, m, "GET", "/livezz").status, 404);
    wr_metrics_free(m);
}
END_TEST

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads fd's whole answer (to its end) into out. */
static void read_all(int fd, char *out, size_t cap)
{
    size_t len = 0;
    ssize_t k;
    while (len + 1 < cap && (k = recv(fd, out + len, cap - 1 - len, 0)) > 0)
        len += (size_t)k;
    out[len] = '\0';
}

/* Sends raw to the listener and returns its whole answer. */
static void exchange(int port, const char *raw, char *out, size_t cap)
{
    int fd = connect_to(port);
    ck_assert_int_eq(send(fd, raw, strlen(raw), 0), (ssize_t)strlen(raw));
    read_all(fd, out, cap);
    (void)close(fd);
}

/* A listener on a port of the kernel's choice, for a worker ready and
 * alive (h and *m are the caller's; it frees *m). */
static wr__admin *start_ready(struct wr__health *h, wr_metrics **m)
{
    wr__health_init(h);
    wr__health_unready(h, WR__UNREADY_BROKER, false);
    *m = wr_metrics_new();
    struct wr_err err = {0};
    wr__admin *a = wr__admin_start("127.0.0.1", 0, h, *m, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    return a;
}

START_TEST(answers_over_a_socket)
{
    struct wr__health h;
    wr_metrics *m = NULL;
    wr__admin *a = start_ready(&h, &m);
    int port = wr__admin_port(a);
    ck_assert_int_gt(port, 0);
    char out[4096];
    exchange(port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out));
    ck_assert_str_eq(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: 19\r\nConnection: close\r\n\r\n"
                          "{\"status\":\"ready\"}\n");
    exchange(port, "HEAD /livez HTTP/1.0\n\n", out, sizeof(out));
    ck_assert(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 16\r\n"));
    ck_assert(strstr(out, "\r\n\r\n")[4] == '\0'); /* no body */
    exchange(port, "DELETE /livez HTTP/1.1\r\n\r\n", out, sizeof(out));
    ck_assert(strncmp(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
    ck_assert_ptr_nonnull(strstr(out, "Allow: GET, HEAD\r\n"));
    exchange(port, "hello\r\n\r\n", out, sizeof(out));
    ck_assert(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    wr__admin_stop(a);
    /* a second listener on the port of the first is refused: one per worker */
    struct wr_err err = {0};
    a = wr__admin_start("127.0.0.1", 0, &h, m, &err);
    ck_assert_ptr_nonnull(a);
    wr__admin *b = wr__admin_start("127.0.0.1", wr__admin_port(a), &h, m, &err);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot listen"));
    wr__admin_stop(a);
    wr__admin_stop(NULL);
    wr_metrics_free(m);
}
END_TEST

/* True while the server has neither answered nor closed fd. */
static bool still_open(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A kubelet's probe times out after a second: clients that open
 * connections and never finish their request must not hold it up. Served
 * one at a time, each silent connection held the next for its deadline
 * (2 s), and the probe was answered only after the silent ones were
 * closed; now it is answered while they are open, and so are they once
 * their heads end. More silent clients than the listener serves at once
 * cost the oldest its place, never the probe. */
START_TEST(slow_clients_do_not_hold_up_probes)
{
    struct wr__health h;
    wr_metrics *m = NULL;
    wr__admin *a = start_ready(&h, &m);
    int port = wr__admin_port(a);
    enum { SLOW = 6 };
    int slow[SLOW];
    const char *part = "GET /livez HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < SLOW; i++) {
        slow[i] = connect_to(port);
        ck_assert_int_eq(send(slow[i], part, strlen(part), 0), (ssize_t)strlen(part));
    }
    char out[4096];
    exchange(port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    for (int i = 0; i < SLOW; i++)
        ck_assert_msg(still_open(slow[i]), "silent connection %d was closed before the probe", i);
    for (int i = 0; i < SLOW; i++) {
        ck_assert_int_eq(send(slow[i], "\r\n", 2, 0), 2);
        read_all(slow[i], out, sizeof(out));
        ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%d: %s", i, out);
        (void)close(slow[i]);
    }
    /* a flood of silent connections, more than the slots */
    enum { FLOOD = 100 };
    int flood[FLOOD];
    for (int i = 0; i < FLOOD; i++)
        flood[i] = connect_to(port);
    exchange(port, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out));
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    int dropped = 0;
    for (int i = 0; i < FLOOD; i++) {
        dropped += !still_open(flood[i]);
        (void)close(flood[i]);
    }
    ck_assert_int_gt(dropped, 0); /* the oldest made room */
    wr__admin_stop(a);
    wr_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("admin");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, probes_say_what_the_loop_reports);
    tcase_add_test(tc, metrics_and_errors);
    tcase_add_test(tc, answers_over_a_socket);
    tcase_add_test(tc, slow_clients_do_not_hold_up_probes);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
