/* What libevent's evhttp costs the edge, against a bare loop: both answer
 * every GET with the same bytes warren sends for /api/Albums (status line,
 * the edge's headers, a 1,105-byte JSON body), on libevent's event loop,
 * with keep-alive and pipelining, and nothing else: no broker, no routing.
 * tests/bench/http_floor.sh runs each under callgrind while wrk loads it;
 * the difference of their instructions per request is what an HTTP layer
 * of the edge's own could save at most (README "Speed").
 *
 *   evhttp: what the edge does now: evhttp_set_gencb, the headers as one
 *           folded entry (services/edge/headers.c), evhttp_send_reply.
 *   bare:   one event per connection with a read timeout, the input in a
 *           fixed buffer, each request head found and its request line
 *           and header names looked at (Connection, Content-Length: what a
 *           server must read), the answer formatted without printf and
 *           written with one send per read's worth of requests.
 *
 * Usage: http_floor evhttp|bare PORT (runs until SIGTERM or SIGINT). */
#include <sys/queue.h> /* before libevent's headers: TAILQ's operations */

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY_BYTES 1105
#define IN_CAP 16384
#define OUT_CAP 65536

static char body[BODY_BYTES + 1];

/* The headers the edge sends with a page, after Date (one folded entry). */
static const char folded_tail[] = "\r\nX-Trace-Id: 1d2031176657c83795e576ffd6978844"
                                  "\r\nVary: Accept\r\nETag: \"c5ce01390e83f333\""
                                  "\r\nContent-Type: application/json"
                                  "\r\nX-Request-Id: 3ab886d9f5baa8e950153df36643806f";

static void date_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    (void)strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* --- evhttp, as the edge uses it --- */

/* The folded entry as headers.c makes it: libevent's evhttp_add_header
 * refuses a value with a line break, so the entry goes in directly. */
static void add_folded(struct evkeyvalq *h)
{
    char date[32];
    date_now(date);
    struct evkeyval *kv = calloc(1, sizeof(*kv));
    size_t d = strlen(date);
    char *v = kv ? malloc(d + sizeof(folded_tail)) : NULL;
    char *k = kv ? strdup("Date") : NULL;
    if (v == NULL || k == NULL) {
        free(v);
        free(k);
        free(kv);
        return;
    }
    memcpy(v, date, d);
    memcpy(v + d, folded_tail, sizeof(folded_tail));
    kv->key = k;
    kv->value = v;
    TAILQ_INSERT_HEAD(h, kv, next);
}

static void on_evhttp_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    add_folded(evhttp_request_get_output_headers(req));
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, BODY_BYTES);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static int run_evhttp(struct event_base *base, int port)
{
    struct evhttp *http = evhttp_new(base);
    evhttp_set_default_content_type(http, NULL);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(http, 10);
    evhttp_set_gencb(http, on_evhttp_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0)
        return 1;
    event_base_dispatch(base);
    evhttp_free(http);
    return 0;
}

/* --- a bare loop --- */

struct bconn {
    int fd;
    struct event *ev;
    size_t len;
    char in[IN_CAP];
};

static void bconn_free(struct bconn *c)
{
    event_free(c->ev);
    (void)close(c->fd);
    free(c);
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static char *put_decimal(char *o, size_t v)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *o++ = d[--n];
    return o;
}

/* The answer to one request: false when the head is not one (closed). */
static bool answer(const char *head, size_t n, char **o, bool *close_after)
{
    const char *sp = memchr(head, ' ', n);
    const char *line_end = memchr(head, '\r', n);
    if (sp == NULL || line_end == NULL || sp > line_end)
        return false;
    bool http11 = line_end - head >= 8 && memcmp(line_end - 8, "HTTP/1.1", 8) == 0;
    *close_after = !http11;
    for (const char *p = line_end + 2; p < head + n - 2;) {
        const char *e = memchr(p, '\r', (size_t)(head + n - p));
        if (e == NULL)
            return false;
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (colon != NULL && colon - p == 10 && strncasecmp(p, "Connection", 10) == 0) {
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            *close_after = (size_t)(e - v) == 5 && strncasecmp(v, "close", 5) == 0;
        }
        p = e + 2;
    }
    char date[32];
    date_now(date);
    static const char status[] = "HTTP/1.1 200 OK\r\nDate: ";
    char *w = put(*o, status, sizeof(status) - 1);
    w = put(w, date, strlen(date));
    w = put(w, folded_tail, sizeof(folded_tail) - 1);
    w = put(w, "\r\nContent-Length: ", 18);
    w = put_decimal(w, BODY_BYTES);
    w = put(w, "\r\n\r\n", 4);
    *o = put(w, body, BODY_BYTES);
    return true;
}

static void on_bare_readable(evutil_socket_t fd, short what, void *arg)
{
    struct bconn *c = arg;
    if (what & EV_TIMEOUT) {
        bconn_free(c);
        return;
    }
    ssize_t k = recv(fd, c->in + c->len, sizeof(c->in) - c->len, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (k <= 0) {
        bconn_free(c);
        return;
    }
    c->len += (size_t)k;
    static char out[OUT_CAP];
    char *o = out;
    size_t at = 0;
    bool close_after = false;
    for (;;) {
        char *end = memmem(c->in + at, c->len - at, "\r\n\r\n", 4);
        if (end == NULL || o + BODY_BYTES + 512 > out + sizeof(out))
            break;
        size_t n = (size_t)(end + 4 - (c->in + at));
        if (!answer(c->in + at, n, &o, &close_after)) {
            bconn_free(c);
            return;
        }
        at += n;
        if (close_after)
            break;
    }
    memmove(c->in, c->in + at, c->len - at);
    c->len -= at;
    /* loopback takes a few answers at once; a real layer keeps the rest */
    if (o > out && send(fd, out, (size_t)(o - out), MSG_NOSIGNAL) != (ssize_t)(o - out))
        close_after = true;
    if (close_after || c->len == sizeof(c->in))
        bconn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    struct event_base *base = arg;
    struct bconn *c = malloc(sizeof(*c));
    if (c == NULL) {
        (void)close(fd);
        return;
    }
    c->fd = fd;
    c->len = 0;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_bare_readable, c);
    static const struct timeval idle = {10, 0};
    if (c->ev == NULL || event_add(c->ev, &idle) != 0) {
        (void)close(fd);
        free(c);
    }
}

static int run_bare(struct event_base *base, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct evconnlistener *l =
        evconnlistener_new_bind(base, on_accept, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                128, (struct sockaddr *)&sa, sizeof(sa));
    if (l == NULL)
        return 1;
    event_base_dispatch(base);
    evconnlistener_free(l);
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "evhttp") != 0 && strcmp(argv[1], "bare") != 0)) {
        fprintf(stderr, "usage: http_floor evhttp|bare PORT\n");
        return 2;
    }
    memset(body, 'x', BODY_BYTES);
    body[0] = '{';
    body[BODY_BYTES - 1] = '}';
    (void)signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    int port = atoi(argv[2]);
    int rc = strcmp(argv[1], "evhttp") == 0 ? run_evhttp(base, port) : run_bare(base, port);
    event_free(term);
    event_free(intr);
    event_base_free(base);
    return rc;
}
