/* Proto v2 batches against a real worker and a real broker: a batch of
 * mixed items (good, not found, a malformed envelope, past its deadline)
 * gets one reply message with each item's own answer and an audit record
 * per item; a batch that does not decode is answered 400 as a whole; a
 * redelivered batch comes back split into single v1 replies; and through
 * an edge with EDGE_BATCH on, concurrent reads each get their own answer,
 * byte for byte the one an unbatched edge gives. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/clock.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/rpc_batch.h"

#define SERVICE "t_batch"
static struct proc worker;
static char spool[600];

static void setup(void)
{
    (void)snprintf(spool, sizeof(spool), "%s/spool-batch", h_env("WRT_STATE_DIR"));
    static char spool_env[700];
    (void)snprintf(spool_env, sizeof(spool_env), "WARREN_AUDIT_SPOOL_DIR=%s", spool);
    h_empty_dir(spool);
    const char *extra[] = {spool_env, "WARREN_LOG_LEVEL=debug", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-batch", 0, SERVICE, extra);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

static wr_amqp *connect_amqp(void)
{
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 5000, .name = "t-batch"};
    wr_amqp *a = wr_amqp_new(&o);
    struct wr_err err = {0};
    ck_assert_int_eq(wr_amqp_connect(a, &err), 0);
    ck_assert_int_eq(wr_amqp_declare_service(a, SERVICE, &err), 0);
    ck_assert_int_eq(wr_amqp_consume(a, WR_REPLY_TO, true, 0, &err), 0);
    return a;
}

/* A request item: op get of collection/key, or the envelope given. */
static struct wr_msg item(char id[WR_REQUEST_ID_LEN + 1], const char *envelope,
                          long long deadline_ms)
{
    wr_request_id_new(id);
    return (struct wr_msg){.message_id = id,
                           .type = WR_OP_GET,
                           .expiration_ms = 10000,
                           .deadline_ms = deadline_ms,
                           .hdrs = {{WR_HDR_PRINCIPAL, "batcher"}},
                           .nhdrs = 1,
                           .body = envelope,
                           .len = strlen(envelope)};
}

static void publish(wr_amqp *a, const char *type, const char *body, size_t len, const char *id,
                    long long delivery_count)
{
    struct wr_msg m = {.message_id = id,
                       .correlation_id = id,
                       .reply_to = WR_REPLY_TO,
                       .type = type,
                       .expiration_ms = 10000,
                       .body = body,
                       .len = len};
    if (delivery_count > 0)
        m.ihdrs[m.nihdrs++] = (struct wr_amqp_ihdr){"x-delivery-count", delivery_count};
    struct wr_err err = {0};
    ck_assert_int_eq(wr_amqp_publish(a, WR_QUEUE_PREFIX SERVICE, &m, false, &err), 0);
}

/* Encodes n request items as one batch and publishes it with a new id
 * (delivery_count > 0: marked as the broker marks a redelivery). */
static void publish_batch(wr_amqp *a, const struct wr_msg *items, int n, long long delivery_count)
{
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, false, 1 << 20);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(wr_batch_enc_add(&e, &items[i]), 0);
    size_t len;
    const char *body = wr_batch_enc_finish(&e, &len);
    char bid[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(bid);
    publish(a, WR_MSG_TYPE_RPC_BATCH, body, len, bid, delivery_count);
    wr_batch_enc_release(&e);
}

/* The next reply within 10 s, its body copied (malloc'd) into *body, its
 * type's and correlation id's into type and cid. */
static int next_reply(wr_amqp *a, char *type, char *cid, char **body, size_t *len)
{
    long long until = h_now_ms() + 10000;
    while (h_now_ms() < until) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        ck_assert_int_eq(wr_amqp_poll(a, 200, &ev, &m, &err), 0);
        if (ev != WR_AMQP_DELIVERY)
            continue;
        (void)snprintf(type, 32, "%s", m.type ? m.type : "");
        (void)snprintf(cid, WR_REQUEST_ID_LEN + 1, "%s", m.correlation_id ? m.correlation_id : "");
        *body = strndup(m.body, m.len);
        *len = m.len;
        return m.status;
    }
    ck_abort_msg("no reply within 10 s");
    return 0;
}

START_TEST(mixed_items_each_answered)
{
    wr_amqp *a = connect_amqp();
    char ids[4][WR_REQUEST_ID_LEN + 1];
    long long later = wr_now_ms() + 10000;
    struct wr_msg items[4] = {
        item(ids[0], "{\"collection\":\"Artists\",\"id\":\"1\",\"op\":\"get\",\"v\":1}", later),
        item(ids[1], "{\"collection\":\"Albums\",\"id\":\"100000\",\"op\":\"get\",\"v\":1}", later),
        item(ids[2], "{\"op\":\"get\",\"v\":1}", later), /* no collection: 400 */
        item(ids[3], "{\"collection\":\"Artists\",\"id\":\"2\",\"op\":\"get\",\"v\":1}",
             wr_now_ms() - 60000), /* its deadline passed: no reply */
    };
    publish_batch(a, items, 4, 0);

    char type[32], cid[WR_REQUEST_ID_LEN + 1];
    char *reply;
    size_t rlen;
    next_reply(a, type, cid, &reply, &rlen);
    ck_assert_str_eq(type, WR_MSG_TYPE_RPC_BATCH);
    struct wr_batch b;
    struct wr_err err = {0};
    ck_assert_msg(wr_batch_decode(reply, rlen, true, &b, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(b.n, 3); /* the expired one gets no reply */
    int want[3] = {200, 404, 400};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(b.items[i].correlation_id, ids[i]);
        ck_assert_int_eq(b.items[i].status, want[i]);
    }
    ck_assert_ptr_nonnull(strstr(b.items[0].body, "\"name\":\"AC/DC\""));
    ck_assert_ptr_nonnull(strstr(b.items[2].body, "\"code\":\"bad_request\""));
    wr_batch_release(&b);
    free(reply);
    /* each item its own audit record, with its own status and principal */
    const char *status[4] = {"\"status\":200", "\"status\":404", "\"status\":400", "not executed"};
    for (int i = 0; i < 4; i++) {
        char *line = h_audit_line(spool, ids[i]);
        ck_assert_msg(strstr(line, status[i]) != NULL, "item %d: %s", i, line);
        ck_assert_msg(strstr(line, "\"principal\":\"batcher\"") != NULL, "%s", line);
        free(line);
    }
    wr_amqp_free(a);
}
END_TEST

START_TEST(malformed_batch_refused_whole)
{
    wr_amqp *a = connect_amqp();
    char bid[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(bid);
    static const char bad[] = "{\"batch\":[],\"v\":2}";
    publish(a, WR_MSG_TYPE_RPC_BATCH, bad, strlen(bad), bid, 0);
    char type[32], cid[WR_REQUEST_ID_LEN + 1];
    char *reply;
    size_t rlen;
    ck_assert_int_eq(next_reply(a, type, cid, &reply, &rlen), 400);
    ck_assert_str_eq(cid, bid);
    ck_assert_ptr_nonnull(strstr(reply, "\"code\":\"bad_request\""));
    free(reply);
    char *line = h_audit_line(spool, bid);
    ck_assert_ptr_nonnull(strstr(line, "\"op\":\"rpc_batch\""));
    free(line);
    wr_amqp_free(a);
}
END_TEST

START_TEST(redelivered_batch_split)
{
    wr_amqp *a = connect_amqp();
    char ids[2][WR_REQUEST_ID_LEN + 1];
    long long later = wr_now_ms() + 10000;
    struct wr_msg items[2] = {
        item(ids[0], "{\"collection\":\"Artists\",\"id\":\"3\",\"op\":\"get\",\"v\":1}", later),
        item(ids[1], "{\"collection\":\"Artists\",\"id\":\"4\",\"op\":\"get\",\"v\":1}", later),
    };
    publish_batch(a, items, 2, 1); /* as the broker marks a quorum queue's redelivery */
    bool seen[2] = {false, false};
    for (int n = 0; n < 2; n++) {
        char type[32], cid[WR_REQUEST_ID_LEN + 1];
        char *reply;
        size_t rlen;
        ck_assert_int_eq(next_reply(a, type, cid, &reply, &rlen), 200);
        ck_assert_str_ne(type, WR_MSG_TYPE_RPC_BATCH); /* single v1 replies */
        for (int i = 0; i < 2; i++)
            seen[i] |= strcmp(cid, ids[i]) == 0;
        free(reply);
    }
    ck_assert(seen[0] && seen[1]);
    for (int i = 0; i < 2; i++)
        free(h_audit_line(spool, ids[i])); /* recorded once run alone */
    wr_amqp_free(a);
}
END_TEST

/* Connects to the edge and sends a GET of path, without reading. */
static int send_get(int port, const char *path)
{
    int fd = h_connect(port, 0);
    ck_assert_int_ge(fd, 0);
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    return fd;
}

/* The path of the i-th concurrent read: an object (some with non-ASCII
 * titles), every fourth a key that does not exist, some whole pages. */
static void edge_path(int i, char *path, size_t cap)
{
    if (i % 4 == 3)
        (void)snprintf(path, cap, "/api/Albums/%d", 100000 + i);
    else if (i % 8 == 1)
        (void)snprintf(path, cap, "/api/Albums?page=%d", i / 8 + 1);
    else
        (void)snprintf(path, cap, "/api/Albums/%d", i + 1);
}

START_TEST(through_the_edge)
{
    enum { N = 48 };
    struct proc edge, plain;
    const char *extra[] = {"WARREN_EDGE_BATCH=True", "WARREN_EDGE_THREADS=1", NULL};
    int port = h_spawn_edge(&edge, "edge-batch", SERVICE, extra);
    int plain_port = h_spawn_edge(&plain, "edge-plain", SERVICE, NULL);
    ck_assert(h_wait_ready(port, 20000) && h_wait_ready(plain_port, 20000));
    int fds[N];
    for (int i = 0; i < N; i++) {
        char path[64];
        edge_path(i, path, sizeof(path));
        fds[i] = send_get(port, path);
    }
    for (int i = 0; i < N; i++) {
        bool closed = false;
        char *resp = h_read_until_close(fds[i], 10000, &closed);
        close(fds[i]);
        ck_assert_msg(closed, "answer %d cut short", i);
        char path[64], want[64];
        edge_path(i, path, sizeof(path));
        ck_assert_msg(strncmp(resp, i % 4 == 3 ? "HTTP/1.1 404" : "HTTP/1.1 200", 12) == 0,
                      "%s: %.40s", path, resp);
        if (i % 4 != 3 && i % 8 != 1) {
            (void)snprintf(want, sizeof(want), "\"album_id\":%d,", i + 1);
            ck_assert_msg(strstr(resp, want) != NULL, "%s: another object", path);
        }
        /* byte for byte what the same read gets alone, unbatched: the
         * bodies crossed the batch as JSON strings (page 3 and albums 26,
         * 29 and 42 hold non-ASCII titles) */
        struct http_resp alone;
        ck_assert_int_eq(h_http(plain_port, "GET", path, NULL, &alone, 10000), 0);
        const char *body = strstr(resp, "\r\n\r\n");
        ck_assert_ptr_nonnull(body);
        body += 4;
        ck_assert_msg(strlen(body) == alone.len && memcmp(body, alone.body, alone.len) == 0,
                      "%s: batched %zu bytes, alone %zu", path, strlen(body), alone.len);
        h_http_free(&alone);
        free(resp);
    }
    /* every read left through the batcher, counted in its messages */
    struct http_resp m;
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &m, 10000), 0);
    long long msgs = h_metric(m.body, "warren_edge_batch_messages_total");
    ck_assert_int_eq(h_metric(m.body, "warren_edge_batch_reads_total"), N);
    ck_assert_msg(msgs >= 1 && msgs <= N, "%lld messages for %d reads", msgs, N);
    printf("through-the-edge: %d reads in %lld messages\n", N, msgs);
    h_http_free(&m);
    ck_assert_int_eq(h_stop(&plain, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, mixed_items_each_answered);
    tcase_add_test(tc, malformed_batch_refused_whole);
    tcase_add_test(tc, redelivered_batch_split);
    tcase_add_test(tc, through_the_edge);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
