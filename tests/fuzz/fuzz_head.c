/* libFuzzer target for the edge's request head check and framer
 * (services/edge/head.h), with a differential against the edge's own
 * server (httpd.h), which reads the requests the framer followed. The input is a connection's
 * bytes. Properties:
 *   - the framer's verdict, request count and body bytes do not depend on
 *     how the bytes are split into reads;
 *   - a head head_check accepts names a token method and frames its body
 *     one way;
 *   - for input the framer accepts whole (every request complete), the
 *     edge's server (in-process, over a Unix socket) hands on the same
 *     requests: the same methods with the same body lengths (chunked
 *     bodies decoded), in order, and all of them unless it answered one
 *     with an error of its own or closed the connection (Connection:
 *     close, HTTP/1.0). */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "head.h"
#include "httpd.h"
#include "peers.h"
#include "warren/buf.h"
#include "warren/cfg.h"

#define MAX_REQS 32

/* One request as a parser saw it. */
struct seen {
    char method[16];
    uint64_t body;
};

struct trace {
    struct seen req[MAX_REQS];
    int n;
};

/* The framer fed byte by byte, each request recorded as its head is
 * accepted (its body length once the next head starts, or at the end). */
static int frame(const uint8_t *p, size_t n, struct head_framer *f, struct trace *t)
{
    int rc = 0;
    uint64_t body_at = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned long before = f->requests;
        uint64_t bytes_before = f->body_bytes;
        rc = head_framer_feed(f, (const char *)p + i, 1);
        if (f->requests != before) {
            if (t->n > 0)
                t->req[t->n - 1].body = bytes_before - body_at;
            body_at = bytes_before;
            if (t->n < MAX_REQS) {
                memcpy(t->req[t->n].method, f->info.method, sizeof(f->info.method));
                t->n++;
            }
        }
    }
    if (t->n > 0)
        t->req[t->n - 1].body = f->body_bytes - body_at;
    return rc;
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "?";
    }
}

static void on_request(struct hreq *req, void *arg)
{
    struct trace *t = arg;
    if (t->n < MAX_REQS) {
        struct seen *s = &t->req[t->n++];
        (void)snprintf(s->method, sizeof(s->method), "%s", method_name(hreq_method(req)));
        size_t len = 0;
        (void)hreq_body(req, &len);
        s->body = len;
    }
    hreq_send(req, 200, NULL, 0);
}

/* Runs the bytes through a fresh edge server (httpd.h, with the default
 * settings): what it handed on in *t; true when it answered anything but
 * 200 (or 100 Continue) itself, or closed the connection (Connection:
 * close, HTTP/1.0). */
static bool through_httpd(const uint8_t *p, size_t n, struct trace *t)
{
    static struct wr_cfg cfg;
    static bool loaded;
    char *env[] = {NULL};
    if (!loaded) {
        struct wr_buf problems;
        wr_buf_init(&problems, 4096);
        FUZZ_ASSERT(wr_cfg_load(&cfg, "/nonexistent/warren.cfg", false, env, &problems) == 0);
        wr_buf_release(&problems);
        loaded = true;
    }
    struct event_base *base = event_base_new();
    FUZZ_ASSERT(base != NULL);
    /* an abstract Unix socket of this process: nothing to clean up */
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int len = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "warren-fuzz-head-%d", getpid());
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_ASSERT(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, alen) == 0 && listen(lfd, 4) == 0);
    struct evconnlistener *lev =
        evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, -1, lfd);
    atomic_long open = 0;
    peers *by_addr = peers_new(cfg.max_conns_per_addr);
    struct httpd_handlers h = {on_request, NULL, t};
    httpd *s = lev && by_addr ? httpd_new(base, &cfg, lev, &open, by_addr, &h) : NULL;
    FUZZ_ASSERT(s != NULL);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_ASSERT(c >= 0 && connect(c, (struct sockaddr *)&a, alen) == 0);
    FUZZ_ASSERT(send(c, p, n, MSG_NOSIGNAL) == (ssize_t)n);
    bool error = false;
    char answer[8192];
    size_t kept = 0;
    for (int idle = 0; idle < 20;) {
        int before = t->n;
        (void)event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t r = recv(c, answer + kept, sizeof(answer) - 1 - kept, MSG_DONTWAIT);
        if (r > 0) {
            kept += (size_t)r;
            answer[kept] = '\0';
            for (const char *x = strstr(answer, "HTTP/1."); x != NULL; x = strstr(x + 1, "HTTP/1."))
                if (strlen(x) > 12 && strncmp(x + 8, " 200", 4) != 0 &&
                    strncmp(x + 8, " 100", 4) != 0)
                    error = true;
            kept = 0; /* answers are read whole in these sizes, or nearly */
        }
        idle = r > 0 || t->n != before ? 0 : idle + 1;
        if (r == 0) {
            error = true; /* the server closed the connection */
            break;
        }
    }
    (void)close(c);
    httpd_free(s);
    evconnlistener_free(lev);
    peers_free(by_addr);
    event_base_free(base);
    return error;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* the framer, whole and split */
    struct head_framer whole, split;
    head_framer_init(&whole, 2048);
    head_framer_init(&split, 2048);
    int rc_whole = head_framer_feed(&whole, (const char *)data, size);
    size_t step = size > 0 ? 1 + data[0] % 7 : 1;
    int rc_split = 0;
    for (size_t i = 0; i < size && rc_split == 0; i += step)
        rc_split =
            head_framer_feed(&split, (const char *)data + i, size - i < step ? size - i : step);
    FUZZ_ASSERT(rc_whole == rc_split);
    FUZZ_ASSERT(whole.requests == split.requests);
    if (rc_whole == 0) {
        FUZZ_ASSERT(whole.body_bytes == split.body_bytes);
        FUZZ_ASSERT(head_framer_idle(&whole) == head_framer_idle(&split));
    }
    /* the whole input as one head */
    struct head_info info;
    const char *why = NULL;
    if (head_check((const char *)data, size, &info, &why)) {
        FUZZ_ASSERT(why == NULL && info.method[0] != '\0');
        FUZZ_ASSERT(info.body != HEAD_BODY_LENGTH || info.length > 0);
    } else {
        FUZZ_ASSERT(why != NULL);
    }
    /* the differential, where the framer took every byte */
    bool differ = rc_whole == 0 && head_framer_idle(&whole) && !head_framer_gave_up(&whole) &&
                  whole.requests > 0 && whole.requests <= MAX_REQS;
    head_framer_release(&whole);
    head_framer_release(&split);
    if (!differ)
        return 0;
    struct head_framer f;
    head_framer_init(&f, 2048);
    struct trace ours = {.n = 0}, theirs = {.n = 0};
    FUZZ_ASSERT(frame(data, size, &f, &ours) == 0);
    head_framer_release(&f);
    bool error = through_httpd(data, size, &theirs);
    FUZZ_ASSERT(theirs.n <= ours.n);
    for (int i = 0; i < theirs.n; i++) {
        if (strcmp(theirs.req[i].method, "?") != 0)
            FUZZ_ASSERT(strcmp(theirs.req[i].method, ours.req[i].method) == 0);
        FUZZ_ASSERT(theirs.req[i].body == ours.req[i].body);
    }
    FUZZ_ASSERT(theirs.n == ours.n || error);
    return 0;
}
