/* The raw per-message RPC ceiling of a broker: what one request message and
 * one reply message cost with nothing of warren's around them. Plain
 * rabbitmq-c (this measuring stick includes <amqp.h> on purpose: it must not
 * share warren's adapter), a queue like warren's, responders that answer
 * every request with a reply of a list page's size through direct reply-to,
 * corked and acknowledged per burst as warren's workers do, and a client
 * that keeps N requests in flight. Prints round trips/s, p50 and p99.
 * Usage: rpc_ceiling AMQP_URL [classic|quorum] [in flight] [reply bytes]
 *        [seconds] [responders] [prefetch] [request bytes] */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CH 1
#define SLOTS 65536 /* send times by sequence number; far above any in-flight count */
#define WARMUP_S 1.0
#define MAX_RESPONDERS 16

struct opts {
    const char *url;
    bool quorum;
    long inflight, reply_bytes, secs, responders, prefetch, request_bytes;
    char queue[64];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die_reply(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    fprintf(stderr, "rpc_ceiling: %s failed (%d)\n", what, (int)r.reply_type);
    exit(1);
}

static amqp_connection_state_t connect_to(const char *url)
{
    char *copy = strdup(url);
    struct amqp_connection_info ci;
    if (copy == NULL || amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
        fprintf(stderr, "rpc_ceiling: bad URL %s\n", url);
        exit(2);
    }
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    if (s == NULL || amqp_socket_open(s, ci.host, ci.port) != AMQP_STATUS_OK) {
        fprintf(stderr, "rpc_ceiling: cannot connect to %s:%d\n", ci.host, ci.port);
        exit(1);
    }
    die_reply(amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
              "login");
    amqp_channel_open(c, CH);
    die_reply(amqp_get_rpc_reply(c), "channel.open");
    free(copy);
    return c;
}

static void cork(amqp_connection_state_t c, int on)
{
    (void)setsockopt(amqp_get_sockfd(c), IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/* Returns 1 with *env filled, 0 when nothing came within timeout (NULL:
 * block), -1 when the connection is gone. */
static int next_delivery(amqp_connection_state_t c, struct timeval *timeout, amqp_envelope_t *env)
{
    amqp_maybe_release_buffers(c);
    amqp_rpc_reply_t r = amqp_consume_message(c, env, timeout, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f; /* a basic.return or the like: read it and go on */
        return amqp_simple_wait_frame(c, &f) == AMQP_STATUS_OK ? 0 : -1;
    }
    return -1;
}

/* One worker stand-in: answers every delivery with reply_bytes, corked per
 * burst, one basic.ack (multiple) per burst. Runs until killed. */
static void respond(const struct opts *o)
{
    amqp_connection_state_t c = connect_to(o->url);
    amqp_basic_qos(c, CH, 0, (uint16_t)o->prefetch, 0);
    die_reply(amqp_get_rpc_reply(c), "basic.qos");
    amqp_basic_consume(c, CH, amqp_cstring_bytes(o->queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    die_reply(amqp_get_rpc_reply(c), "basic.consume");
    char *body = malloc((size_t)o->reply_bytes);
    if (body == NULL)
        exit(1);
    memset(body, 'x', (size_t)o->reply_bytes);
    amqp_table_entry_t status = {.key = amqp_cstring_bytes("x-status"),
                                 .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = 200}};
    for (;;) {
        amqp_envelope_t env;
        if (next_delivery(c, NULL, &env) < 0)
            exit(0);
        cork(c, 1);
        uint64_t last = 0;
        for (;;) {
            amqp_basic_properties_t p = {._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
                                                   AMQP_BASIC_CORRELATION_ID_FLAG |
                                                   AMQP_BASIC_HEADERS_FLAG,
                                         .content_type = amqp_cstring_bytes("application/json"),
                                         .correlation_id = env.message.properties.correlation_id,
                                         .headers = {.num_entries = 1, .entries = &status}};
            amqp_bytes_t b = {.len = (size_t)o->reply_bytes, .bytes = body};
            if (amqp_basic_publish(c, CH, amqp_empty_bytes, env.message.properties.reply_to, 0, 0,
                                   &p, b) != AMQP_STATUS_OK)
                exit(0);
            last = env.delivery_tag;
            amqp_destroy_envelope(&env);
            if (!amqp_data_in_buffer(c) && !amqp_frames_enqueued(c))
                break;
            struct timeval zero = {0, 0};
            int got = next_delivery(c, &zero, &env);
            if (got < 0)
                exit(0);
            if (got == 0)
                break;
        }
        if (amqp_basic_ack(c, CH, last, 1) != AMQP_STATUS_OK)
            exit(0);
        cork(c, 0);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int publish_request(amqp_connection_state_t c, const struct opts *o, const char *body,
                           unsigned long seq, double *sent)
{
    char id[24];
    (void)snprintf(id, sizeof(id), "%lu", seq);
    amqp_table_entry_t deadline = {.key = amqp_cstring_bytes("x-deadline-ms"),
                                   .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = 1}};
    amqp_basic_properties_t p = {
        ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                  AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_TYPE_FLAG |
                  AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_HEADERS_FLAG,
        .content_type = amqp_cstring_bytes("application/json"),
        .correlation_id = amqp_cstring_bytes(id),
        .message_id = amqp_cstring_bytes(id),
        .reply_to = amqp_cstring_bytes("amq.rabbitmq.reply-to"),
        .type = amqp_cstring_bytes("list"),
        .expiration = amqp_cstring_bytes("5000"),
        .headers = {.num_entries = 1, .entries = &deadline}};
    sent[seq % SLOTS] = now_s();
    amqp_bytes_t b = {.len = (size_t)o->request_bytes, .bytes = (void *)body};
    return amqp_basic_publish(c, CH, amqp_empty_bytes, amqp_cstring_bytes(o->queue), 1, 0, &p, b);
}

static void declare(amqp_connection_state_t c, const struct opts *o)
{
    amqp_table_entry_t qt = {
        .key = amqp_cstring_bytes("x-queue-type"),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum")}};
    amqp_table_t args = o->quorum ? (amqp_table_t){1, &qt} : amqp_empty_table;
    amqp_queue_declare(c, CH, amqp_cstring_bytes(o->queue), 0, o->quorum, 0, 0, args);
    die_reply(amqp_get_rpc_reply(c), "queue.declare");
}

/* The client: inflight requests always out, one more for every reply. */
static int run_client(const struct opts *o, amqp_connection_state_t c)
{
    amqp_basic_consume(c, CH, amqp_cstring_bytes("amq.rabbitmq.reply-to"), amqp_empty_bytes, 0, 1,
                       0, amqp_empty_table);
    die_reply(amqp_get_rpc_reply(c), "basic.consume reply-to");
    double *sent = calloc(SLOTS, sizeof(double));
    size_t cap = 1 << 20, n_lat = 0;
    double *lat = malloc(cap * sizeof(double));
    char *body = malloc((size_t)o->request_bytes);
    if (sent == NULL || lat == NULL || body == NULL)
        return 1;
    memset(body, 'r', (size_t)o->request_bytes);
    unsigned long seq = 0;
    long out = 0, total = 0;
    for (; out < o->inflight; out++)
        if (publish_request(c, o, body, seq++, sent) != AMQP_STATUS_OK)
            return 1;
    double t0 = now_s(), start = t0 + WARMUP_S, end = start + (double)o->secs;
    while (out > 0) {
        amqp_envelope_t env;
        struct timeval tv = {5, 0};
        int got = next_delivery(c, &tv, &env);
        if (got <= 0) {
            fprintf(stderr, "rpc_ceiling: %ld replies missing\n", out);
            return 1;
        }
        char id[24];
        size_t len = env.message.properties.correlation_id.len;
        if (len >= sizeof(id))
            len = sizeof(id) - 1;
        memcpy(id, env.message.properties.correlation_id.bytes, len);
        id[len] = '\0';
        amqp_destroy_envelope(&env);
        double t = now_s();
        unsigned long s = strtoul(id, NULL, 10);
        if (t >= start && t < end && n_lat < cap)
            lat[n_lat++] = t - sent[s % SLOTS];
        out--;
        total++;
        if (t < end) {
            if (publish_request(c, o, body, seq++, sent) != AMQP_STATUS_OK)
                return 1;
            out++;
        }
    }
    qsort(lat, n_lat, sizeof(double), cmp_double);
    double p50 = n_lat ? lat[n_lat / 2] * 1e3 : 0, p99 = n_lat ? lat[n_lat * 99 / 100] * 1e3 : 0;
    printf("raw rpc %-7s %4ld in flight, %5ld-byte replies, %ld responders: %8.0f round trips/s"
           "  p50 %6.2fms  p99 %6.2fms  (%ld in all)\n",
           o->quorum ? "quorum" : "classic", o->inflight, o->reply_bytes, o->responders,
           (double)n_lat / (double)o->secs, p50, p99, total);
    free(sent);
    free(lat);
    free(body);
    return 0;
}

static long arg(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s AMQP_URL [classic|quorum] [in flight] [reply bytes] [seconds] "
                "[responders] [prefetch] [request bytes]\n",
                argv[0]);
        return 2;
    }
    struct opts o = {.url = argv[1],
                     .quorum = argc <= 2 || strcmp(argv[2], "classic") != 0,
                     .inflight = arg(argc, argv, 3, 64),
                     .reply_bytes = arg(argc, argv, 4, 1105),
                     .secs = arg(argc, argv, 5, 5),
                     .responders = arg(argc, argv, 6, 2),
                     .prefetch = arg(argc, argv, 7, 256),
                     .request_bytes = arg(argc, argv, 8, 300)};
    if (o.inflight < 1 || o.inflight > SLOTS / 4 || o.reply_bytes < 0 || o.secs < 1 ||
        o.responders < 1 || o.responders > MAX_RESPONDERS || o.prefetch < 1 || o.prefetch > 65535 ||
        o.request_bytes < 0)
        return 2;
    (void)snprintf(o.queue, sizeof(o.queue), "warren.bench.%s.%ld", o.quorum ? "quorum" : "classic",
                   (long)getpid());
    amqp_connection_state_t c = connect_to(o.url);
    declare(c, &o);
    pid_t kids[MAX_RESPONDERS];
    for (long i = 0; i < o.responders; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            respond(&o);
            _exit(0);
        }
    }
    usleep(300000); /* the responders consume before the first request */
    int rc = run_client(&o, c);
    for (long i = 0; i < o.responders; i++)
        if (kids[i] > 0)
            (void)kill(kids[i], SIGTERM);
    for (long i = 0; i < o.responders; i++)
        if (kids[i] > 0)
            (void)waitpid(kids[i], NULL, 0);
    amqp_queue_delete(c, CH, amqp_cstring_bytes(o.queue), 0, 0);
    (void)amqp_get_rpc_reply(c);
    amqp_channel_close(c, CH, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    return rc;
}
