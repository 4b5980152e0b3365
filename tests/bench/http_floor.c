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
 * With "hold" after the port, each request is held unanswered until
 * SIGUSR1 (then all are answered): the resident set with N requests held is
 * what each design costs a request in flight (the edge's memory target).
 * The bare loop then keeps a request as its head, in one allocation, and a
 * connection's unread input only while a head is incomplete.
 *
 * Usage: http_floor evhttp|bare PORT [hold] (until SIGTERM or SIGINT). */
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
#define MAX_FDS (1 << 17)

static char body[BODY_BYTES + 1];
static bool hold; /* requests wait for SIGUSR1 */

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

static void evhttp_answer(struct evhttp_request *req)
{
    add_folded(evhttp_request_get_output_headers(req));
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, BODY_BYTES);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static struct evhttp_request **held_reqs;
static size_t n_held, cap_held;

static void on_evhttp_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (!hold) {
        evhttp_answer(req);
        return;
    }
    if (n_held == cap_held) {
        size_t cap = cap_held ? 2 * cap_held : 1024;
        struct evhttp_request **grown = realloc(held_reqs, cap * sizeof(*grown));
        if (grown == NULL) {
            evhttp_answer(req);
            return;
        }
        held_reqs = grown;
        cap_held = cap;
    }
    held_reqs[n_held++] = req;
}

static void evhttp_release(void)
{
    for (size_t i = 0; i < n_held; i++)
        evhttp_answer(held_reqs[i]);
    n_held = 0;
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
    char *rest; /* input after the last whole head, until more comes */
    size_t rest_len;
    char *held; /* hold: the head of the request held, in one allocation */
    size_t held_len;
};

static struct bconn *by_fd[MAX_FDS];

static void bconn_free(struct bconn *c)
{
    by_fd[c->fd] = NULL;
    event_free(c->ev);
    (void)close(c->fd);
    free(c->rest);
    free(c->held);
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

/* Answers or holds the whole heads in in[0..len); returns the bytes used,
 * the answers appended at *o; *close_after when the connection ends. */
static size_t take_heads(struct bconn *c, const char *in, size_t len, char *out, char **o,
                         bool *close_after)
{
    size_t at = 0;
    while (c->held == NULL && !*close_after) {
        const char *end = memmem(in + at, len - at, "\r\n\r\n", 4);
        if (end == NULL || *o + BODY_BYTES + 512 > out + OUT_CAP)
            break;
        size_t n = (size_t)(end + 4 - (in + at));
        if (hold) {
            c->held = malloc(n);
            if (c->held == NULL) {
                *close_after = true;
                break;
            }
            memcpy(c->held, in + at, n);
            c->held_len = n;
        } else if (!answer(in + at, n, o, close_after)) {
            *close_after = true;
            break;
        }
        at += n;
    }
    return at;
}

static void send_or_close(struct bconn *c, const char *out, size_t n, bool close_after)
{
    /* loopback takes a few answers at once; a real layer keeps the rest */
    if (n > 0 && send(c->fd, out, n, MSG_NOSIGNAL) != (ssize_t)n)
        close_after = true;
    if (close_after)
        bconn_free(c);
}

static void on_bare_readable(evutil_socket_t fd, short what, void *arg)
{
    struct bconn *c = arg;
    if (what & EV_TIMEOUT && !hold) {
        bconn_free(c);
        return;
    }
    static char in[IN_CAP], out[OUT_CAP];
    size_t len = c->rest_len;
    if (len > 0)
        memcpy(in, c->rest, len);
    ssize_t k = recv(fd, in + len, sizeof(in) - len, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (k <= 0) {
        bconn_free(c);
        return;
    }
    len += (size_t)k;
    char *o = out;
    bool close_after = false;
    size_t at = take_heads(c, in, len, out, &o, &close_after);
    free(c->rest);
    c->rest = NULL;
    c->rest_len = len - at;
    if (c->rest_len > 0 && (c->rest = malloc(c->rest_len)) != NULL)
        memcpy(c->rest, in + at, c->rest_len);
    if (c->rest_len == sizeof(in) || (c->rest_len > 0 && c->rest == NULL))
        close_after = true;
    send_or_close(c, out, (size_t)(o - out), close_after);
}

static void bare_release(void)
{
    static char out[OUT_CAP];
    for (int fd = 0; fd < MAX_FDS; fd++) {
        struct bconn *c = by_fd[fd];
        if (c == NULL || c->held == NULL)
            continue;
        char *o = out;
        bool close_after = false;
        bool ok = answer(c->held, c->held_len, &o, &close_after);
        free(c->held);
        c->held = NULL;
        send_or_close(c, out, (size_t)(o - out), close_after || !ok);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    struct event_base *base = arg;
    struct bconn *c = fd < MAX_FDS ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        (void)close(fd);
        return;
    }
    c->fd = fd;
    by_fd[fd] = c;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_bare_readable, c);
    static const struct timeval idle = {10, 0};
    if (c->ev == NULL || event_add(c->ev, hold ? NULL : &idle) != 0) {
        by_fd[fd] = NULL;
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

static void on_release(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    if (arg != NULL)
        evhttp_release();
    else
        bare_release();
}

int main(int argc, char **argv)
{
    bool ev = argc >= 3 && strcmp(argv[1], "evhttp") == 0;
    hold = argc == 4 && strcmp(argv[3], "hold") == 0;
    char *end = NULL;
    long port = argc >= 3 ? strtol(argv[2], &end, 10) : 0;
    if ((argc != 3 && !hold) || (!ev && strcmp(argv[1], "bare") != 0) || end == argv[2] ||
        *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "usage: http_floor evhttp|bare PORT [hold]\n");
        return 2;
    }
    memset(body, 'x', BODY_BYTES);
    body[0] = '{';
    body[BODY_BYTES - 1] = '}';
    (void)signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    struct event *usr1 = evsignal_new(base, SIGUSR1, on_release, ev ? base : NULL);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_add(usr1, NULL);
    int rc = ev ? run_evhttp(base, (int)port) : run_bare(base, (int)port);
    event_free(term);
    event_free(intr);
    event_free(usr1);
    event_base_free(base);
    return rc;
}
