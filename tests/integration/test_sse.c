/* Change events for browsers (issue 10 item 6): Server-Sent Events from
 * a real edge reading a real RabbitMQ stream. Clients are raw sockets
 * speaking HTTP/1.0 (the stream comes unchunked, as bytes). Events are
 * published to the events stream in the contract's shape
 * (proto/README.md, "Change events") by the test itself, so that
 * positions, transactions of many events and a stream older than the
 * edge are exactly as each test needs them. */
#include <check.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/clock.h"
#include "warren/err.h"
#include "warren/proto.h"

#define SERVICE "t_sse"
#define STREAM "warren." SERVICE ".events"
#define EMPTY_SERVICE "t_sse_empty" /* its stream is emptied by the test that uses it */
#define EMPTY_STREAM "warren." EMPTY_SERVICE ".events"

static int port; /* the edge's */
static struct proc edge, worker;
static wr_amqp *pub;
static long long base_pos; /* positions of this run start above the last run's */
static uint64_t published; /* publishes on pub so far: confirms count them */

static void publisher(void)
{
    static char url[256];
    (void)snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%s/%%2f",
                   h_env("WRT_AMQP_PORT"));
    struct wr_amqp_opts o = {.url = url, .connect_timeout_ms = 5000, .name = "test-sse"};
    pub = wr_amqp_new(&o);
    struct wr_err err = {0};
    ck_assert_msg(wr_amqp_connect(pub, &err) == 0, "%s", err.msg);
    ck_assert_msg(wr_amqp_declare_events(pub, SERVICE, 1073741824, "7D", &err) == 0, "%s", err.msg);
    ck_assert_msg(wr_amqp_confirm(pub, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
    publisher();
    /* The stream outlives runs (tests/dev.sh keeps its state, reboots
     * too): positions from the real-time clock stay above any earlier
     * run's, where the monotonic one starts again at each boot. */
    base_pos = wr_now_ms() * 1000;
    const char *extra[] = {"WARREN_SSE_MAX_CLIENTS=6", "WARREN_HTTP_TIMEOUT_S=2", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-sse", 0, SERVICE, NULL);
    port = h_spawn_edge(&edge, "edge-sse", SERVICE, extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    wr_amqp_free(pub);
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* --- publishing --- */

/* Event k of a transaction of n at position pos, published to stream `to`
 * (not yet confirmed: await_confirms). */
static void publish_event(const char *to, long long pos, int k, int n, const char *collection,
                          size_t pad)
{
    struct wr_err err = {0};
    char padding[2048];
    pad = pad < sizeof(padding) ? pad : sizeof(padding) - 1;
    memset(padding, 'x', pad);
    padding[pad] = '\0';
    char body[4096];
    (void)snprintf(body, sizeof(body),
                   "{\"collection\":\"%s\",\"id\":%d,\"object\":{\"n\":%d,\"pad\":\"%s\"},"
                   "\"op\":\"updated\",\"position\":%lld,\"principal\":null,"
                   "\"request_id\":\"r\",\"time\":\"2026-01-01T00:00:00.000Z\"}",
                   collection, k, k, padding, pos);
    char mid[64];
    (void)snprintf(mid, sizeof(mid), "%s:%lld:%d", SERVICE, pos, k);
    struct wr_msg m = {.message_id = mid,
                       .content_type = "application/json",
                       .body = body,
                       .len = strlen(body),
                       .ihdrs = {{"x-position", pos}, {"x-event-index", k}, {"x-event-count", n}},
                       .nihdrs = 3,
                       .expiration_ms = -1};
    ck_assert_msg(wr_amqp_publish(pub, to, &m, false, &err) == 0, "%s", err.msg);
    published++;
}

/* Waits for the broker to confirm every publish so far: the stream has
 * them. */
static void await_confirms(void)
{
    struct wr_err err = {0};
    for (uint64_t acked = 0; acked < published;) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        ck_assert_msg(wr_amqp_poll(pub, 5000, &ev, &m, &err) == 0, "%s", err.msg);
        ck_assert_msg(ev == WR_AMQP_ACKED, "no confirm within 5 s (event %d)", (int)ev);
        if (m.delivery_tag > acked) /* numbered from 1 on this connection */
            acked = m.delivery_tag;
    }
}

/* One transaction: n row events of collection at position pos, published
 * to the stream and confirmed. */
static void publish_padded(long long pos, int n, const char *collection, size_t pad)
{
    for (int k = 0; k < n; k++)
        publish_event(STREAM, pos, k, n, collection, pad);
    await_confirms();
}

static void publish_tx(long long pos, int n, const char *collection)
{
    publish_padded(pos, n, collection, 0);
}

/* --- a raw SSE client --- */

struct client {
    int fd;
    char buf[1 << 16];
    size_t len;
    int status;
    char head[4096];
    bool closed; /* the edge ended the stream */
    int beats;   /* heartbeat comments read */
};

struct event {
    char id[64];
    char type[32];
    char data[1024];
};

/* Reads what arrives within timeout_ms into c->buf; false when the peer
 * closed and nothing more came. */
static bool fill(struct client *c, int timeout_ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return true;
    ck_assert_msg(c->len < sizeof(c->buf) - 1, "client buffer full");
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    if (n <= 0) {
        c->closed = true;
        return false;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return true;
}

/* Opens a stream: GET path with extra header lines; the status and head
 * are read (the body follows). */
static void sse_open_rcvbuf(struct client *c, int p, const char *path, const char *headers,
                            int rcvbuf)
{
    memset(c, 0, sizeof(*c));
    c->fd = h_connect(p, rcvbuf);
    ck_assert_msg(c->fd >= 0, "cannot connect to the edge at %d", p);
    char req[2048];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n%s\r\n", path,
                     headers ? headers : "");
    ck_assert_int_eq(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
    long long end = h_now_ms() + 10000;
    char *eoh = NULL;
    while ((eoh = strstr(c->buf, "\r\n\r\n")) == NULL && h_now_ms() < end)
        if (!fill(c, 200))
            break;
    ck_assert_msg(eoh != NULL, "no head: %s", c->buf);
    size_t h = (size_t)(eoh - c->buf) + 4;
    (void)snprintf(c->head, sizeof(c->head), "%.*s", (int)h, c->buf);
    c->status = (int)strtol(c->buf + 9, NULL, 10);
    memmove(c->buf, c->buf + h, c->len - h + 1);
    c->len -= h;
}

static void sse_open(struct client *c, const char *path, const char *headers)
{
    sse_open_rcvbuf(c, port, path, headers, 0);
}

static void sse_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* The next event (comments and retry: skipped, heartbeats counted) within
 * timeout_ms; false when none came or the stream ended. */
static bool sse_next(struct client *c, struct event *e, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    for (;;) {
        char *blank = strstr(c->buf, "\n\n");
        while (blank == NULL) {
            if (h_now_ms() >= end || !fill(c, 100))
                return false;
            blank = strstr(c->buf, "\n\n");
        }
        size_t n = (size_t)(blank - c->buf) + 2;
        memset(e, 0, sizeof(*e));
        bool any = false;
        for (char *line = c->buf; line < c->buf + n - 1;) {
            char *nl = strchr(line, '\n');
            *nl = '\0';
            if (strncmp(line, "id: ", 4) == 0)
                (void)snprintf(e->id, sizeof(e->id), "%s", line + 4);
            else if (strncmp(line, "event: ", 7) == 0) {
                (void)snprintf(e->type, sizeof(e->type), "%s", line + 7);
                any = true;
            } else if (strncmp(line, "data: ", 6) == 0)
                (void)snprintf(e->data, sizeof(e->data), "%s", line + 6);
            else if (strcmp(line, ": heartbeat") == 0)
                c->beats++;
            line = nl + 1;
        }
        memmove(c->buf, c->buf + n, c->len - n + 1);
        c->len -= n;
        if (any)
            return true;
    }
}

/* Reads the events of want (ids, in order) and nothing else within a
 * moment after them. */
static void expect_ids(struct client *c, const char *const *want)
{
    struct event e;
    for (size_t i = 0; want[i] != NULL; i++) {
        ck_assert_msg(sse_next(c, &e, 10000), "event %s did not come", want[i]);
        ck_assert_str_eq(e.id, want[i]);
    }
    ck_assert_msg(!sse_next(c, &e, 300), "an extra event: %s %s", e.id, e.data);
}

static char *ids(char *out, size_t cap, long long pos, int k)
{
    (void)snprintf(out, cap, k < 0 ? "%lld" : "%lld:%d", pos, k);
    return out;
}

/* The value of the edge on port p's /metrics series name (which must be
 * there). */
static long long edge_metric(int p, const char *name)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(p, "GET", "/metrics", NULL, &r, 10000), 0);
    ck_assert_msg(strstr(r.body, name) != NULL, "%s", r.body);
    long long n = h_metric(r.body, name);
    h_http_free(&r);
    return n;
}

static long long catchups(int p)
{
    return edge_metric(p, "warren_edge_sse_catchups_total");
}

/* --- tests --- */

START_TEST(live_events_in_order_with_ids)
{
    struct client c;
    sse_open(&c, "/api/events", NULL);
    ck_assert_int_eq(c.status, 200);
    ck_assert_msg(strstr(c.head, "Content-Type: text/event-stream") != NULL, "%s", c.head);
    /* first, how long a browser waits before it reconnects */
    for (long long end = h_now_ms() + 5000; strstr(c.buf, "retry: 1000\n") == NULL;)
        ck_assert_msg(fill(&c, 200) && h_now_ms() < end, "no retry line: %s", c.buf);
    ck_assert_msg(strncmp(c.buf, "retry: 1000\n", 12) == 0, "the stream starts: %.40s", c.buf);
    long long p = base_pos + 100;
    publish_tx(p, 1, "Albums");
    publish_tx(p + 1, 3, "Artists");
    char a[32], b[32], d[32], f[32];
    expect_ids(&c, (const char *const[]){ids(a, 32, p, -1), ids(b, 32, p + 1, 0),
                                         ids(d, 32, p + 1, 1), ids(f, 32, p + 1, -1), NULL});
    sse_close(&c);
}
END_TEST

START_TEST(event_carries_op_and_body)
{
    struct client c;
    sse_open(&c, "/api/Albums/events", NULL);
    long long p = base_pos + 200;
    publish_tx(p, 1, "Albums");
    struct event e;
    ck_assert(sse_next(&c, &e, 10000));
    ck_assert_str_eq(e.type, "updated");
    ck_assert_msg(strstr(e.data, "\"collection\":\"Albums\"") != NULL, "%s", e.data);
    ck_assert_msg(strstr(e.data, "\"object\":{\"n\":0,") != NULL, "%s", e.data);
    sse_close(&c);
}
END_TEST

START_TEST(filters_only_their_collections)
{
    struct client all, two, one;
    sse_open(&all, "/api/events", NULL);
    sse_open(&two, "/api/events?collections=Albums,Artists", NULL);
    sse_open(&one, "/api/Artists/events", NULL);
    ck_assert_int_eq(two.status, 200);
    long long p = base_pos + 300;
    publish_tx(p, 1, "Albums");
    publish_tx(p + 1, 1, "Tracks");
    publish_tx(p + 2, 1, "Artists");
    char a[32], b[32], d[32];
    expect_ids(&all, (const char *const[]){ids(a, 32, p, -1), ids(b, 32, p + 1, -1),
                                           ids(d, 32, p + 2, -1), NULL});
    expect_ids(&two, (const char *const[]){ids(a, 32, p, -1), ids(d, 32, p + 2, -1), NULL});
    expect_ids(&one, (const char *const[]){ids(d, 32, p + 2, -1), NULL});
    sse_close(&all);
    sse_close(&two);
    sse_close(&one);
}
END_TEST

/* Cut off inside a transaction of many, a client resumes after the row
 * it had, from the ring: every later event once. */
START_TEST(resume_inside_a_transaction)
{
    struct client c;
    sse_open(&c, "/api/events", NULL);
    long long p = base_pos + 400;
    publish_tx(p, 4, "Albums");
    struct event e;
    ck_assert(sse_next(&c, &e, 10000));
    ck_assert(sse_next(&c, &e, 10000));
    char want[32];
    ck_assert_str_eq(e.id, ids(want, 32, p, 1));
    sse_close(&c); /* gone with two events of four */
    publish_tx(p + 1, 2, "Albums");
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", e.id);
    sse_open(&c, "/api/events", hdr);
    char a[32], b[32], d[32], f[32];
    expect_ids(&c, (const char *const[]){ids(a, 32, p, 2), ids(b, 32, p, -1), ids(d, 32, p + 1, 0),
                                         ids(f, 32, p + 1, -1), NULL});
    sse_close(&c);
}
END_TEST

/* A Last-Event-ID older than the edge (its ring began after it): the
 * edge reads the stream from before that position, then joins the live
 * feed with no gap and no repeat. */
START_TEST(resume_from_before_the_edge_started)
{
    long long p = base_pos + 500;
    publish_tx(p, 1, "Albums");
    publish_tx(p + 1, 2, "Albums");
    /* a second edge, started after those, not warming: its ring has none
     * of them */
    struct proc edge2;
    int port1 = port;
    const char *cold[] = {"WARREN_SSE_WARM_EVENTS=0", NULL};
    port = h_spawn_edge(&edge2, "edge-sse-2", SERVICE, cold);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge2.log);
    publish_tx(p + 2, 1, "Albums"); /* in its ring too */
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", p);
    struct client c;
    sse_open(&c, "/api/events", hdr);
    ck_assert_int_eq(c.status, 200);
    char a[32], b[32], d[32];
    struct event e;
    expect_ids(&c, (const char *const[]){ids(a, 32, p + 1, 0), ids(b, 32, p + 1, -1),
                                         ids(d, 32, p + 2, -1), NULL});
    publish_tx(p + 3, 1, "Albums"); /* and live after it */
    ck_assert(sse_next(&c, &e, 10000));
    ck_assert_str_eq(e.id, ids(a, 32, p + 3, -1));
    sse_close(&c);
    ck_assert_int_eq(catchups(port), 1);
    h_stop(&edge2, SIGTERM);
    port = port1;
}
END_TEST

/* An edge warms its ring at start with the stream's last events: a client
 * resuming after a restart (its id older than the edge) is served from
 * memory, with no read of its own, and with no gap where the warm-up's
 * events meet what the edge read since (one published while it warms); a
 * client without an id gets none of that history. */
START_TEST(resume_after_a_restart_from_the_warm_ring)
{
    enum { N = 300 };
    long long p = base_pos + 600;
    for (int i = 0; i < N; i++)
        publish_event(STREAM, p + i, 0, 1, "Albums", 0);
    publish_tx(p + N, 4, "Albums"); /* a transaction of four */
    struct proc edge4;
    int p4 = h_spawn_edge(&edge4, "edge-sse-4", SERVICE, NULL);
    ck_assert_msg(h_wait_ready(p4, 15000), "edge not ready (see %s)", edge4.log);
    publish_tx(p + N + 1, 1, "Albums"); /* most likely while it warms */
    struct client fresh, mid, inside;
    sse_open_rcvbuf(&fresh, p4, "/api/events", NULL, 0);
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", p + N / 2 - 1);
    sse_open_rcvbuf(&mid, p4, "/api/events", hdr, 0);
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld:1\r\n", p + N);
    sse_open_rcvbuf(&inside, p4, "/api/events", hdr, 0);
    ck_assert_int_eq(fresh.status, 200);
    ck_assert_int_eq(mid.status, 200);
    ck_assert_int_eq(inside.status, 200);
    struct event e;
    char want[32], a[32], b[32], d[32], g[32];
    for (long long q = p + N / 2; q < p + N; q++) {
        ck_assert_msg(sse_next(&mid, &e, 10000), "event %lld did not come", q);
        ck_assert_str_eq(e.id, ids(want, 32, q, -1));
    }
    expect_ids(&mid, (const char *const[]){ids(a, 32, p + N, 0), ids(b, 32, p + N, 1),
                                           ids(d, 32, p + N, 2), ids(want, 32, p + N, -1),
                                           ids(g, 32, p + N + 1, -1), NULL});
    expect_ids(&inside, (const char *const[]){ids(d, 32, p + N, 2), ids(want, 32, p + N, -1),
                                              ids(g, 32, p + N + 1, -1), NULL});
    publish_tx(p + N + 2, 1, "Albums");
    ck_assert(sse_next(&fresh, &e, 10000)); /* p + N + 1 too, if it came after the client */
    if (strtoll(e.id, NULL, 10) == p + N + 1)
        ck_assert(sse_next(&fresh, &e, 10000));
    ck_assert_str_eq(e.id, ids(want, 32, p + N + 2, -1));
    ck_assert(sse_next(&mid, &e, 10000));
    ck_assert_str_eq(e.id, ids(want, 32, p + N + 2, -1));
    ck_assert(sse_next(&inside, &e, 10000));
    ck_assert_str_eq(e.id, ids(want, 32, p + N + 2, -1));
    ck_assert_int_eq(catchups(p4), 0);
    sse_close(&fresh);
    sse_close(&mid);
    sse_close(&inside);
    h_stop(&edge4, SIGTERM);
}
END_TEST

/* SSE_CATCHUP_MAX: a resume the ring does not cover waits for a place
 * while every one is reading, then gets every event. With the warm-up off
 * a catch-up on an edge with no live event yet holds its place: the edge
 * does not know where its feed began reading, so it has not met the ring. */
START_TEST(catchups_beyond_the_cap_wait_their_turn)
{
    long long p = base_pos + 950;
    publish_tx(p + 1, 1, "Albums");
    publish_tx(p + 2, 1, "Albums");
    struct proc edge5;
    const char *one[] = {"WARREN_SSE_WARM_EVENTS=0", "WARREN_SSE_CATCHUP_MAX=1", NULL};
    int p5 = h_spawn_edge(&edge5, "edge-sse-5", SERVICE, one);
    ck_assert_msg(h_wait_ready(p5, 15000), "edge not ready (see %s)", edge5.log);
    char hdr[96], a[32], b[32], d[32];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", p);
    struct client first, second;
    sse_open_rcvbuf(&first, p5, "/api/events", hdr, 0);
    struct event e;
    ck_assert(sse_next(&first, &e, 10000));
    ck_assert_str_eq(e.id, ids(a, 32, p + 1, -1));
    sse_open_rcvbuf(&second, p5, "/api/events", hdr, 0);
    ck_assert_int_eq(second.status, 200);
    ck_assert_msg(!sse_next(&second, &e, 1500), "the second read too: %s", e.id);
    publish_tx(p + 3, 1, "Albums"); /* the ring's first: the first catch-up ends */
    expect_ids(&first, (const char *const[]){ids(a, 32, p + 2, -1), ids(b, 32, p + 3, -1), NULL});
    expect_ids(&second, (const char *const[]){ids(a, 32, p + 1, -1), ids(b, 32, p + 2, -1),
                                              ids(d, 32, p + 3, -1), NULL});
    ck_assert_int_eq(catchups(p5), 2);
    sse_close(&first);
    sse_close(&second);
    h_stop(&edge5, SIGTERM);
}
END_TEST

/* With the warm-up on (the default), a catch-up that met the end of an
 * empty stream gives its place back at once: the warm-up's probe told the
 * edge where its feed reads from, so the empty ring is where what comes
 * next arrives. It held its place until the stream's next event before,
 * and with SSE_CATCHUP_MAX 1 every later resume waited behind it. Both
 * clients then get the next event. */
START_TEST(catchup_of_an_empty_stream_gives_its_place_back)
{
    (void)h_servers_ctl("delete_queue " EMPTY_STREAM); /* an earlier run's events */
    struct proc e6;
    const char *one[] = {"WARREN_SSE_CATCHUP_MAX=1", NULL};
    int p6 = h_spawn_edge(&e6, "edge-sse-6", EMPTY_SERVICE, one);
    ck_assert_msg(h_wait_ready(p6, 15000), "edge not ready (see %s)", e6.log);
    long long p = base_pos + 1200;
    char hdr[96], a[32];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", p);
    struct client first, second;
    sse_open_rcvbuf(&first, p6, "/api/events", hdr, 0);
    ck_assert_int_eq(first.status, 200);
    sse_open_rcvbuf(&second, p6, "/api/events", hdr, 0);
    ck_assert_int_eq(second.status, 200);
    long long n = 0; /* the second's catch-up starts once the first's place is free */
    for (long long end = h_now_ms() + 15000; (n = catchups(p6)) < 2 && h_now_ms() < end;)
        usleep(100 * 1000);
    ck_assert_msg(n == 2, "%lld catch-up(s) started: the first kept its place", n);
    publish_event(EMPTY_STREAM, p + 1, 0, 1, "Albums", 0);
    await_confirms();
    struct event e;
    ck_assert(sse_next(&first, &e, 10000));
    ck_assert_str_eq(e.id, ids(a, 32, p + 1, -1));
    ck_assert(sse_next(&second, &e, 10000));
    ck_assert_str_eq(e.id, ids(a, 32, p + 1, -1));
    sse_close(&first);
    sse_close(&second);
    h_stop(&e6, SIGTERM);
}
END_TEST

START_TEST(refusals_are_json)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Nope/events", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_msg(strstr(r.body, "\"not_found\"") != NULL, "%s", r.body);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/api/events?collections=Albums,Nope", NULL, &r, 10000),
                     0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_msg(strstr(r.body, "Nope") != NULL, "%s", r.body);
    h_http_free(&r);
    const char *bad[] = {"Last-Event-ID: abc\r\n", "Last-Event-ID: 12:\r\n",
                         "Last-Event-ID: -1\r\n", "Last-Event-ID: 1:2:3\r\n", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        ck_assert_int_eq(h_http(port, "GET", "/api/events", bad[i], &r, 10000), 0);
        ck_assert_msg(r.status == 400, "%s: %d", bad[i], r.status);
        ck_assert_msg(strstr(r.body, "Last-Event-ID") != NULL, "%s", r.body);
        h_http_free(&r);
    }
    ck_assert_int_eq(h_http(port, "GET", "/api/events?page=2", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 400);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "POST", "/api/Albums/events", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 405);
    h_http_free(&r);
}
END_TEST

/* The audit lines naming rid in the spool folder's *.spool files. */
static int records_of(const char *spool, const char *rid)
{
    DIR *d = opendir(spool);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *f; (f = readdir(d)) != NULL;) {
        size_t len = strlen(f->d_name);
        if (len < 6 || strcmp(f->d_name + len - 6, ".spool") != 0)
            continue;
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/%s", spool, f->d_name);
        char *all = h_read_file(path, NULL);
        for (const char *at = all; at != NULL && (at = strstr(at, rid)) != NULL;
             at += strlen(rid)) {
            const char *eol = strchr(at, '\n');
            n++;
            at = eol != NULL ? eol : at;
        }
        free(all);
    }
    closedir(d);
    return n;
}

/* The same rules as a read of the collection: no key needed, a wrong one
 * 403 (as JSON, before any stream), the right one taken; and one audit
 * record per stream, written when it ends: op events, the events sent as
 * rows, how it ended. */
START_TEST(keys_and_one_record_a_stream)
{
    struct client c;
    sse_open(&c, "/api/Albums/events", "Authorization: Bearer not-a-key-of-this-edge\r\n");
    ck_assert_msg(c.status == 403 && strstr(c.buf, "\"forbidden\"") != NULL, "%d %s", c.status,
                  c.buf);
    sse_close(&c);
    sse_open(&c, "/api/Albums/events", H_AUTH);
    ck_assert_int_eq(c.status, 200);
    sse_close(&c);
    char rid[33], header[64]; /* an id of this run's: spools outlive runs */
    (void)snprintf(rid, sizeof(rid), "%032llx", (unsigned long long)base_pos);
    (void)snprintf(header, sizeof(header), "X-Request-Id: %s\r\n", rid);
    sse_open(&c, "/api/Albums/events", header);
    ck_assert_int_eq(c.status, 200);
    long long p = base_pos + 2500;
    publish_tx(p, 1, "Albums");
    publish_tx(p + 1, 1, "Albums");
    struct event e;
    ck_assert(sse_next(&c, &e, 10000));
    ck_assert(sse_next(&c, &e, 10000));
    sse_close(&c);
    char spool[512];
    (void)snprintf(spool, sizeof(spool), "%s/spool", h_env("WRT_STATE_DIR"));
    char *line = h_audit_line(spool, rid);
    const char *rows = strstr(line, "\"rows\":2");
    ck_assert_msg(strstr(line, "\"op\":\"events\"") != NULL && rows != NULL &&
                      (rows[8] == ',' || rows[8] == '}') && strstr(line, "\"detail\"") != NULL,
                  "the stream's record: %s", line);
    free(line);
    ck_assert_int_eq(records_of(spool, rid), 1);
}
END_TEST

START_TEST(over_the_cap_is_503)
{
    struct client c[6];
    for (int i = 0; i < 6; i++) {
        sse_open(&c[i], "/api/events", NULL);
        ck_assert_msg(c[i].status == 200, "stream %d: %d %s", i, c[i].status, c[i].buf);
    }
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/events", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_msg(strstr(r.body, "SSE_MAX_CLIENTS") != NULL, "%s", r.body);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 10000), 0);
    ck_assert_msg(strstr(r.body, "warren_edge_sse_clients 6") != NULL, "%s", r.body);
    h_http_free(&r);
    sse_close(&c[0]); /* a place frees once the edge sees it gone */
    int status = 503;
    for (long long end = h_now_ms() + 10000; status == 503 && h_now_ms() < end;) {
        struct client d;
        sse_open(&d, "/api/events", NULL);
        status = d.status;
        sse_close(&d);
        if (status == 503)
            usleep(100000);
    }
    ck_assert_int_eq(status, 200);
    for (int i = 1; i < 6; i++)
        sse_close(&c[i]);
}
END_TEST

/* The id of the k-th of per events at pos. */
static void id_of(char *out, size_t cap, long long pos, long long k, long long per)
{
    (void)snprintf(out, cap, k + 1 == per ? "%lld" : "%lld:%lld", pos, k);
}

/* A client that does not read while more events come than the ring
 * holds is cut; it resumes with the last id it had (from the stream, the
 * ring having moved on) and has every event once, in order. */
START_TEST(slow_client_is_cut_and_resumes)
{
    struct client c;
    sse_open_rcvbuf(&c, port, "/api/events", NULL, 4096);
    ck_assert_int_eq(c.status, 200);
    long long p = base_pos + 1000;
    /* 15,000 events of 1 KiB: more than the ring and the sockets hold */
    const long long tx = 150, per = 100;
    for (long long i = 0; i < tx; i++)
        publish_padded(p + i, (int)per, "Albums", 1000);
    struct event e;
    long long got = 0;
    char want[64];
    /* not reading yet: the edge's reader fills its ring past this client */
    usleep(3000000);
    while (got < tx * per && sse_next(&c, &e, 5000)) {
        id_of(want, sizeof(want), p + got / per, got % per, per);
        ck_assert_str_eq(e.id, want);
        got++;
    }
    if (got == tx * per) {
        /* the edge's reader was slower than this client (a loaded machine):
         * every event came once and in order, but no cut was exercised */
        printf("slow_client_is_cut_and_resumes: not cut, all %lld events read\n", got);
        sse_close(&c);
        return;
    }
    ck_assert_msg(c.closed, "a client that fell behind the ring was not cut (%lld events)", got);
    ck_assert_msg(got > 0 && got < tx * per, "%lld events before the cut", got);
    sse_close(&c);
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", want);
    sse_open(&c, "/api/events", hdr);
    ck_assert_int_eq(c.status, 200);
    while (got < tx * per) {
        id_of(want, sizeof(want), p + got / per, got % per, per);
        ck_assert_msg(sse_next(&c, &e, 15000), "event %s did not come", want);
        ck_assert_str_eq(e.id, want);
        got++;
    }
    ck_assert_msg(!sse_next(&c, &e, 300), "an extra event: %s", e.id);
    sse_close(&c);
}
END_TEST

/* A stream with no events for longer than HTTP_TIMEOUT_S (2 s here) stays
 * open. */
START_TEST(idle_stream_stays_open)
{
    struct client c;
    sse_open(&c, "/api/events", NULL);
    struct event e;
    ck_assert(!sse_next(&c, &e, 4500));
    ck_assert_msg(!c.closed, "an idle stream was closed");
    long long p = base_pos + 1500;
    publish_tx(p, 1, "Albums");
    char want[32];
    expect_ids(&c, (const char *const[]){ids(want, 32, p, -1), NULL});
    sse_close(&c);
}
END_TEST

/* SSE_HEARTBEAT_S: an idle stream gets a comment that often, and its
 * events still come between them. */
START_TEST(idle_stream_has_heartbeats)
{
    struct proc e2;
    const char *often[] = {"WARREN_SSE_HEARTBEAT_S=1", NULL};
    int p2 = h_spawn_edge(&e2, "edge-sse-beat", SERVICE, often);
    ck_assert_msg(h_wait_ready(p2, 15000), "edge not ready (see %s)", e2.log);
    struct client c;
    sse_open_rcvbuf(&c, p2, "/api/events", NULL, 0);
    ck_assert_int_eq(c.status, 200);
    struct event e;
    ck_assert(!sse_next(&c, &e, 3500));
    ck_assert_msg(!c.closed, "an idle stream was closed");
    /* one timer a loop, whatever a stream's age: three or four */
    ck_assert_msg(c.beats >= 2 && c.beats <= 5, "%d heartbeats in 3.5 s, every 1 s wanted",
                  c.beats);
    long long p = base_pos + 1700;
    publish_tx(p, 1, "Albums");
    char want[32];
    expect_ids(&c, (const char *const[]){ids(want, 32, p, -1), NULL});
    sse_close(&c);
    ck_assert_int_eq(h_stop(&e2, SIGTERM), 0);
}
END_TEST

/* SIGTERM: the edge ends its streams (the clients reconnect elsewhere)
 * and exits without waiting for them. */
START_TEST(shutdown_ends_streams)
{
    struct proc e2;
    int p2 = h_spawn_edge(&e2, "edge-sse-3", SERVICE, NULL);
    ck_assert_msg(h_wait_ready(p2, 15000), "edge not ready (see %s)", e2.log);
    struct client c;
    sse_open_rcvbuf(&c, p2, "/api/events", NULL, 0);
    ck_assert_int_eq(c.status, 200);
    long long t0 = h_now_ms();
    ck_assert_int_eq(h_stop(&e2, SIGTERM), 0);
    ck_assert_msg(h_now_ms() - t0 < 5000, "the drain took %lld ms", h_now_ms() - t0);
    struct event e;
    ck_assert(!sse_next(&c, &e, 2000));
    ck_assert_msg(c.closed, "the stream stayed open");
    sse_close(&c);
}
END_TEST

/* --- real writes through an edge, events from the writer --- */

static long long write_pos(int p, const char *method, const char *path, const char *body,
                           int status, long long *id)
{
    struct http_resp r;
    ck_assert_int_eq(h_http_body(p, method, path, body, &r, 15000), 0);
    ck_assert_msg(r.status == status, "%s %s: %d %s", method, path, r.status, r.body);
    char v[32];
    ck_assert_msg(h_header(&r, "X-Warren-Position", v, sizeof(v)), "no position");
    const char *at = id != NULL ? strstr(r.body, "\"artist_id\":") : NULL;
    if (at != NULL)
        *id = strtoll(at + 12, NULL, 10);
    h_http_free(&r);
    return strtoll(v, NULL, 10);
}

START_TEST(real_writes_resume_without_gap)
{
    static char env_db[600], svc[64];
    char db[512];
    (void)snprintf(svc, sizeof(svc), "t_ssew%d", (int)getpid()); /* a stream of its own */
    h_copy_db("sse-writer", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    const char *config[] = {env_db, "WARREN_Artists__METHODS=GET, POST, PATCH, DELETE", NULL};
    struct proc w, e1, e2;
    h_spawn_warren(&w, WARREN_CATALOG_BIN, "catalog-ssew", 0, svc, config);
    int p1 = h_spawn_edge(&e1, "edge-ssew", svc, NULL);
    ck_assert_msg(h_wait_ready(p1, 15000), "edge not ready (see %s)", e1.log);
    struct client a, albums;
    sse_open_rcvbuf(&a, p1, "/api/Artists/events", NULL, 0);
    sse_open_rcvbuf(&albums, p1, "/api/events?collections=Albums", NULL, 0);
    ck_assert_int_eq(a.status, 200);
    long long id = 0;
    long long p = write_pos(p1, "POST", "/api/Artists", "{\"name\":\"sse one\"}", 201, &id);
    struct event e;
    char w1[32], w2[32], w3[32], w4[32];
    ck_assert(sse_next(&a, &e, 10000));
    ck_assert_str_eq(e.id, ids(w1, 32, p, -1));
    ck_assert_str_eq(e.type, "created");
    ck_assert_msg(strstr(e.data, "\"name\":\"sse one\"") != NULL, "%s", e.data);
    /* a write of three rows: cut after its first */
    long long q =
        write_pos(p1, "POST", "/api/Artists",
                  "[{\"name\":\"sse a\"},{\"name\":\"sse b\"},{\"name\":\"sse c\"}]", 201, NULL);
    ck_assert(sse_next(&a, &e, 10000));
    ck_assert_str_eq(e.id, ids(w1, 32, q, 0));
    sse_close(&a);
    char path[64];
    (void)snprintf(path, sizeof(path), "/api/Artists/%lld", id);
    long long r = write_pos(p1, "PATCH", path, "{\"name\":\"sse one bis\"}", 200, NULL);
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s\r\n", e.id);
    sse_open_rcvbuf(&a, p1, "/api/Artists/events", hdr, 0);
    expect_ids(
        &a, (const char *const[]){ids(w1, 32, q, 1), ids(w2, 32, q, -1), ids(w3, 32, r, -1), NULL});
    expect_ids(&albums, (const char *const[]){NULL}); /* Artists only were written */
    /* an edge started after all of it: from the stream */
    int p2 = h_spawn_edge(&e2, "edge-ssew-2", svc, NULL);
    ck_assert_msg(h_wait_ready(p2, 15000), "edge not ready (see %s)", e2.log);
    struct client b;
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", p);
    sse_open_rcvbuf(&b, p2, "/api/events", hdr, 0);
    ck_assert_int_eq(b.status, 200);
    long long d = write_pos(p1, "DELETE", path, NULL, 204, NULL);
    expect_ids(&b, (const char *const[]){ids(w1, 32, q, 0), ids(w2, 32, q, 1), ids(w3, 32, q, -1),
                                         ids(w4, 32, r, -1), ids(path, 32, d, -1), NULL});
    ck_assert(sse_next(&a, &e, 10000));
    ck_assert_str_eq(e.type, "deleted");
    sse_close(&a);
    sse_close(&b);
    sse_close(&albums);
    h_stop(&e2, SIGTERM);
    h_stop(&e1, SIGTERM);
    ck_assert_int_eq(h_stop(&w, SIGTERM), 0);
    /* a service of this run's own: a broker kept across runs (tests/dev.sh)
     * would gather one of each a run */
    const char *const kinds[] = {"", ".write", ".events", ".changes"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char cmd[128];
        (void)snprintf(cmd, sizeof(cmd), "delete_queue " WR_QUEUE_PREFIX "%s%s", svc, kinds[i]);
        (void)h_servers_ctl(cmd);
    }
}
END_TEST

static long long catchup_reads(int p)
{
    return edge_metric(p, "warren_edge_sse_catchup_events_read_total");
}

/* Resumes on edge port p from position after and reads every event up to
 * position last (one event each); the events the edge's catch-up read. */
static long long resume_reading(int p, long long after, long long last)
{
    long long read0 = catchup_reads(p), t0 = h_now_ms();
    char hdr[96];
    (void)snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", after);
    struct client c;
    sse_open_rcvbuf(&c, p, "/api/events", hdr, 0);
    ck_assert_int_eq(c.status, 200);
    struct event e;
    char want[32];
    for (long long q = after + 1; q <= last; q++) {
        ck_assert_msg(sse_next(&c, &e, 10000), "event %lld did not come", q);
        ck_assert_str_eq(e.id, ids(want, 32, q, -1));
    }
    sse_close(&c);
    long long read = catchup_reads(p) - read0;
    printf("resume for %lld events: the catch-up read %lld, %lld ms\n", last - after, read,
           h_now_ms() - t0);
    return read;
}

/* A resume from far back in a long stream, on an edge that started after
 * it: the edge finds where to start by probing a few offsets of the stream,
 * so its catch-up reads about the events the client lacks, not the whole
 * stream from its first (every earlier test's events, and on a development
 * broker every earlier run's). Last in the suite: its positions are above
 * every other test's. */
START_TEST(resume_on_a_long_stream_reads_little)
{
    enum { N = 20000 };
    long long p = base_pos + 100000;
    for (int i = 0; i < N; i++)
        publish_event(STREAM, p + i, 0, 1, "Albums", 0);
    await_confirms();
    struct proc edge3;
    const char *debug[] = {"WARREN_LOG_LEVEL=debug", NULL}; /* logs its probes */
    int port3 = h_spawn_edge(&edge3, "edge-sse-3", SERVICE, debug);
    ck_assert_msg(h_wait_ready(port3, 15000), "edge not ready (see %s)", edge3.log);
    /* from the middle: bisecting, then reading up to the ring (which holds
     * at most its SSE_RING_EVENTS, 8192, of the last) */
    long long read = resume_reading(port3, p + N / 2 - 1, p + N - 1);
    ck_assert_msg(read >= N / 2 - 8192 && read < N / 2 + N / 8, "the catch-up read %lld", read);
    /* near the end: in the ring, warmed at the edge's start */
    long long before = catchups(port3);
    read = resume_reading(port3, p + N - 41, p + N - 1);
    ck_assert_msg(read == 0 && catchups(port3) == before, "the catch-up read %lld", read);
    /* from just before them: bisecting to their first, which comes */
    read = resume_reading(port3, p - 1, p + 99);
    ck_assert_msg(read >= 100 && read < N / 8, "the catch-up read %lld", read);
    h_stop(&edge3, SIGTERM);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("sse");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, live_events_in_order_with_ids);
    tcase_add_test(tc, event_carries_op_and_body);
    tcase_add_test(tc, filters_only_their_collections);
    tcase_add_test(tc, resume_inside_a_transaction);
    tcase_add_test(tc, resume_from_before_the_edge_started);
    tcase_add_test(tc, resume_after_a_restart_from_the_warm_ring);
    tcase_add_test(tc, catchups_beyond_the_cap_wait_their_turn);
    tcase_add_test(tc, catchup_of_an_empty_stream_gives_its_place_back);
    tcase_add_test(tc, refusals_are_json);
    tcase_add_test(tc, over_the_cap_is_503);
    tcase_add_test(tc, slow_client_is_cut_and_resumes);
    tcase_add_test(tc, idle_stream_stays_open);
    tcase_add_test(tc, idle_stream_has_heartbeats);   /* its positions follow idle's */
    tcase_add_test(tc, keys_and_one_record_a_stream); /* its positions follow idle's */
    tcase_add_test(tc, shutdown_ends_streams);
    tcase_add_test(tc, real_writes_resume_without_gap);
    tcase_add_test(tc, resume_on_a_long_stream_reads_little);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
