/* Client connections (see conn.h). Every connection gets a struct conn as
 * soon as libevent accepts it, through the bufferevent callback and one
 * event run right after the accept, before anything is read: it counts
 * connections against MAX_CONNECTIONS and per address, frames its input
 * with head.h as it is read, bounds the time a request's head and
 * body may take (a client dribbling bytes keeps libevent's inactivity
 * timeout from ever firing), learns when the client goes away (the close
 * callback, for the call parked on it), and turns the few errors libevent
 * answers itself, in HTML, into JSON. */
#include "conn.h"

#include "head.h"
#include "linger.h"
#include "peers.h"
#include "reason.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "warren/analyzer.h"
#include "warren/buf.h"
#include "warren/err.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/proto.h"

struct conns {
    struct event_base *base;
    const struct wr_cfg *cfg;
    void (*gone)(void *call, void *arg);
    void *arg;
    const struct timeval *head_tv; /* HTTP_TIMEOUT_S: a request's head and body */
    const struct timeval *next_tv; /* the answer, then the next request's arrival */
    struct conn **by_fd;
    size_t cap;
    atomic_long *open; /* every loop's connections (edge.h: struct edge_shared) */
    peers *peers;      /* every loop's connections by address */
    struct lingers lingers;
};

struct conn {
    conns *owner;
    struct evhttp_connection *evcon;
    struct bufferevent *bev;
    int fd;
    struct event *deadline;
    struct event *fix;     /* runs right after libevent wrote an HTML error */
    struct event *refuse;  /* runs right after a bad head was seen */
    struct event *closing; /* closes a refused connection, a loop turn later */
    /* (all three made on first need: most connections never see them) */
    struct head_framer framer; /* the input, request by request (head.h) */
    const char *bad;           /* why the input was refused, once it was */
    bool refuse_pending;       /* the 400 waits for the requests before it */
    bool cutting;              /* on_input is cutting the input itself */
    struct peer_addr addr;     /* counted in owner->peers when counted */
    bool counted;
    void *call; /* the call waiting for its reply, or NULL */
    struct evbuffer_cb_entry *out_cb, *in_cb;
    size_t resp_start; /* where in the output the newest response starts */
    size_t head_bytes; /* bytes received since the last request */
    size_t line_len;   /* the request line's, once line_done */
    bool line_done;    /* the request line was complete */
    bool fixing;
};

/* The conn of a request's connection; NULL if it has none (it is closed). */
struct conn *conns_of(const conns *e, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    int fd = bev ? (int)bufferevent_getfd(bev) : -1;
    struct conn *conn = fd >= 0 && (size_t)fd < e->cap ? e->by_fd[fd] : NULL;
    return conn != NULL && conn->evcon == evcon ? conn : NULL;
}

const struct peer_addr *conn_addr(const struct conn *conn)
{
    return &conn->addr;
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct conn *conn = arg;
    conns *e = conn->owner;
    if (conn->call != NULL)
        e->gone(conn->call, e->arg);
    if (conn->out_cb != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_output(conn->bev), conn->out_cb);
    if (conn->in_cb != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_input(conn->bev), conn->in_cb);
    if (conn->deadline != NULL)
        event_free(conn->deadline);
    if (conn->fix != NULL)
        event_free(conn->fix);
    if (conn->refuse != NULL)
        event_free(conn->refuse);
    if (conn->closing != NULL)
        event_free(conn->closing);
    if (conn->counted)
        peers_leave(e->peers, &conn->addr);
    head_framer_release(&conn->framer);
    if ((size_t)conn->fd < e->cap && e->by_fd[conn->fd] == conn)
        e->by_fd[conn->fd] = NULL;
    atomic_fetch_sub(e->open, 1);
    free(conn);
}

/* A connection whose request did not arrive in time, or that stayed idle
 * after its answer: closed (libevent's own timeout is one of inactivity,
 * which a client sending a byte now and then never trips). */
static void on_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *conn = arg;
    if (conn->call != NULL) { /* cannot be: the call's deadline comes first */
        evtimer_add(conn->deadline, conn->owner->next_tv);
        return;
    }
    wr_debug(NULL, "closing a connection: no complete request within HTTP_TIMEOUT_S");
    evhttp_connection_free(conn->evcon); /* calls on_conn_close */
}

/* Feeds the n bytes at from in buf to the connection's framer. 0, or
 * WR_EINVAL when they are refused (conn->framer.why says why). */
static int frame_input(struct conn *conn, struct evbuffer *buf, size_t from, size_t n)
{
    struct evbuffer_ptr at;
    if (evbuffer_ptr_set(buf, &at, from, EVBUFFER_PTR_SET) != 0)
        return 0;
    int rc = 0;
    while (n > 0 && rc == 0) {
        struct evbuffer_iovec v[8];
        int k = evbuffer_peek(buf, (ev_ssize_t)n, &at, v, 8);
        if (k <= 0)
            break;
        size_t took = 0;
        for (int i = 0; i < k && i < 8 && took < n && rc == 0; i++) {
            size_t len = v[i].iov_len < n - took ? v[i].iov_len : n - took;
            rc = head_framer_feed(&conn->framer, v[i].iov_base, len);
            took += len;
        }
        n -= took;
        if (n > 0 && evbuffer_ptr_set(buf, &at, took, EVBUFFER_PTR_ADD) != 0)
            break;
    }
    if (rc == WR_ENOMEM) { /* cannot check it: not taken either */
        conn->framer.why = "out of memory";
        rc = WR_EINVAL;
    }
    return rc;
}

static void on_refuse(evutil_socket_t fd, short what, void *arg);
static void fix_html_error(evutil_socket_t fd, short what, void *arg);

/* Runs fn on conn right after the current callback, through *ev, made on
 * first need. Out of memory it does not run: a bad head then waits for the
 * connection's deadline, libevent's HTML error goes out unrewritten. */
static void run_soon(struct conn *conn, struct event **ev, event_callback_fn fn)
{
    if (*ev == NULL)
        *ev = event_new(conn->owner->base, -1, 0, fn, conn);
    if (*ev != NULL)
        event_active(*ev, 0, 0);
}

/* Drops the input from keep on (the refused request and all after it):
 * the complete requests before it stay for libevent to read and answer. */
static void cut_input(struct conn *conn, struct evbuffer *buf, size_t keep)
{
    struct evbuffer *before = keep > 0 ? evbuffer_new() : NULL;
    conn->cutting = true;
    if (before != NULL && evbuffer_remove_buffer(buf, before, keep) == (int)keep) {
        (void)evbuffer_drain(buf, evbuffer_get_length(buf));
        (void)evbuffer_add_buffer(buf, before);
    } else {
        (void)evbuffer_drain(buf, evbuffer_get_length(buf));
    }
    conn->cutting = false;
    if (before != NULL)
        evbuffer_free(before);
}

/* Whether every request read so far is answered: none waits for its call,
 * none is unread, nothing is left to write. */
static bool all_answered(struct conn *conn)
{
    return conn->call == NULL && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0 &&
           evbuffer_get_length(bufferevent_get_input(conn->bev)) == 0;
}

/* Once a refused connection has answered every request before the refused
 * one, its 400 goes out. */
static void refuse_when_answered(struct conn *conn)
{
    if (conn->refuse_pending && all_answered(conn))
        run_soon(conn, &conn->refuse, on_refuse);
}

/* Counts what arrives on the connection, to tell an overlong request line
 * (414) from an overlong header block (431) when libevent refuses either,
 * and checks it (head.h) before libevent parses it: this runs as the bytes
 * are read, before libevent's read callback. Refused bytes are drained,
 * everything after them too, so that libevent never sees them; the 400
 * follows from on_refuse. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *conn = arg;
    if (conn->cutting)
        return;
    if (info->n_added == 0) { /* libevent took a request */
        if (info->n_deleted > 0)
            refuse_when_answered(conn);
        return;
    }
    uint64_t fed = conn->framer.fed; /* buf[orig_size] is byte fed of the input */
    if (conn->bad == NULL && frame_input(conn, buf, info->orig_size, info->n_added) != 0) {
        conn->bad = conn->framer.why;
        int64_t keep = (int64_t)info->orig_size + (int64_t)(conn->framer.started - fed);
        cut_input(conn, buf, keep > 0 ? (size_t)keep : 0);
        run_soon(conn, &conn->refuse, on_refuse);
        return;
    }
    if (conn->bad != NULL) {
        (void)evbuffer_drain(buf, evbuffer_get_length(buf));
        return;
    }
    if (!conn->line_done) {
        struct evbuffer_ptr from;
        ev_ssize_t nl = -1;
        if (evbuffer_ptr_set(buf, &from, info->orig_size, EVBUFFER_PTR_SET) == 0)
            nl = evbuffer_search(buf, "\n", 1, &from).pos;
        conn->line_done = nl >= 0;
        if (nl >= 0)
            conn->line_len = conn->head_bytes + (size_t)nl - info->orig_size;
    }
    conn->head_bytes += info->n_added;
}

/* Notes where each response starts; an HTML one is libevent's own error,
 * rewritten by fix_html_error once libevent has finished writing it. */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *conn = arg;
    if (info->n_deleted > 0) /* an answer went out: a 400 may follow it */
        refuse_when_answered(conn);
    if (conn->fixing || info->n_added < 12)
        return;
    char head[12]; /* "HTTP/1.1 404" */
    struct evbuffer_ptr at;
    if (evbuffer_ptr_set(buf, &at, info->orig_size, EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(buf, &at, head, sizeof(head)) != (ev_ssize_t)sizeof(head) ||
        memcmp(head, "HTTP/1.", 7) != 0)
        return;
    /* only an error can be libevent's HTML page: a 200 costs no extra turn */
    if (head[9] != '4' && head[9] != '5')
        return;
    conn->resp_start = info->orig_size;
    run_soon(conn, &conn->fix, fix_html_error);
}

/* The JSON error standing for libevent's HTML one of the given status:
 * 413 (a body over the cap), 501 (a method libevent does not know, such as
 * BREW or get: methods are case-sensitive), else 400 (what it could not
 * parse), which a head or request line past its cap turns into 431 or 414. */
static void json_error_response(const struct conn *conn, long status, struct wr_buf *out)
{
    const struct wr_cfg *cfg = conn->owner->cfg;
    long limit = cfg->max_uri_bytes + cfg->max_header_bytes + 1024;
    const char *code = WR_CODE_BAD_REQUEST;
    char msg[160];
    (void)snprintf(msg, sizeof(msg), "malformed request (request line, headers or framing)");
    if (status == 413) {
        code = WR_CODE_PAYLOAD_TOO_LARGE;
        (void)snprintf(msg, sizeof(msg), "the body is larger than %ld bytes", cfg->max_body_bytes);
    } else if (status == 501) {
        code = WR_CODE_NOT_IMPLEMENTED;
        (void)snprintf(msg, sizeof(msg), "%s",
                       "unknown method: the edge serves GET, HEAD, POST, PUT, PATCH, DELETE "
                       "and OPTIONS (methods are case-sensitive)");
    } else if ((conn->line_done && conn->line_len > (size_t)cfg->max_uri_bytes) ||
               (!conn->line_done && conn->head_bytes > (size_t)limit)) {
        status = 414;
        code = WR_CODE_URI_TOO_LONG;
        (void)snprintf(msg, sizeof(msg), "the request target is longer than %ld bytes",
                       cfg->max_uri_bytes);
    } else if (conn->head_bytes > (size_t)limit) {
        status = 431;
        code = WR_CODE_HEADERS_TOO_LARGE;
        (void)snprintf(msg, sizeof(msg), "the request headers are larger than %ld bytes",
                       cfg->max_header_bytes);
    } else {
        status = 400;
    }
    struct wr_buf body;
    wr_buf_init(&body, 1024);
    wr_json_error(&body, code, msg);
    wr_buf_putc(&body, '\n');
    wr_buf_printf(out,
                  "HTTP/1.1 %ld %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  status, http_reason((int)status), body.len);
    wr_buf_append(out, body.data, body.len);
    wr_buf_release(&body);
}

static void fix_html_error(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *conn = arg;
    struct evbuffer *out = bufferevent_get_output(conn->bev);
    size_t len = evbuffer_get_length(out);
    if (conn->resp_start >= len)
        return;
    size_t n = len - conn->resp_start;
    char head[512];
    size_t take = n < sizeof(head) - 1 ? n : sizeof(head) - 1;
    struct evbuffer_ptr at;
    if (evbuffer_ptr_set(out, &at, conn->resp_start, EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(out, &at, head, take) != (ev_ssize_t)take)
        return;
    head[take] = '\0';
    char *end = strstr(head, "\r\n\r\n");
    if (end != NULL)
        *end = '\0';
    /* "HTTP/1.1 400 ..." */
    long status = take > 12 ? strtol(head + 9, NULL, 10) : 0;
    if (strstr(head, "Content-Type: text/html") == NULL || status < 400 || status > 599)
        return; /* one of ours */
    struct wr_buf json;
    wr_buf_init(&json, 4096);
    json_error_response(conn, status, &json);
    if (wr_buf_error(&json) != 0) {
        wr_buf_release(&json);
        return;
    }
    /* Keep what precedes it (an earlier answer not yet sent), swap the rest. */
    struct evbuffer *keep = evbuffer_new();
    conn->fixing = true;
    if (keep != NULL && evbuffer_remove_buffer(out, keep, conn->resp_start) >= 0 &&
        evbuffer_drain(out, evbuffer_get_length(out)) == 0) {
        evbuffer_add(out, json.data, json.len);
        evbuffer_prepend_buffer(out, keep);
    }
    conn->fixing = false;
    evbuffer_free(keep);
    wr_buf_release(&json);
}

static void on_closing(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *conn = arg;
    linger_close(&conn->owner->lingers, conn->fd);
    evhttp_connection_free(conn->evcon); /* calls on_conn_close */
}

/* Closes conn lingering, a loop turn from now: its socket's events are
 * removed now, and the changelist hands epoll the removal when this turn
 * ends (linger.h: the duplicate must not find the socket still in the set).
 * A zero timer, not run_soon: an event made active runs in this turn. Out
 * of memory it closes at once, without lingering. */
static void close_lingering(struct conn *conn)
{
    static const struct timeval next_turn = {0, 0};
    (void)bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
    if (conn->closing == NULL)
        conn->closing = evtimer_new(conn->owner->base, on_closing, conn);
    if (conn->closing == NULL || evtimer_add(conn->closing, &next_turn) != 0)
        evhttp_connection_free(conn->evcon); /* calls on_conn_close */
}

/* Answers status in JSON straight on the socket, then closes the
 * connection, lingering (linger.h). Only where nothing else is being sent:
 * a new connection, or one whose output is empty. */
static void refuse(struct conn *conn, int status, const char *code, const char *message,
                   const char *extra)
{
    if (conn->closing != NULL && evtimer_pending(conn->closing, NULL))
        return; /* refused already, closing */
    struct wr_buf body, msg;
    wr_buf_init(&body, 1024);
    wr_buf_init(&msg, 2048);
    wr_json_error(&body, code, message);
    wr_buf_putc(&body, '\n');
    wr_buf_printf(&msg,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%sConnection: close\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  status, http_reason(status), extra, body.len);
    wr_buf_append(&msg, body.data, body.len);
    /* A fresh or idle socket's buffer takes these few bytes at once. */
    if (wr_buf_error(&msg) == 0 && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
        (void)send(conn->fd, msg.data, msg.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    wr_buf_release(&body);
    wr_buf_release(&msg);
    close_lingering(conn);
}

/* A connection past MAX_CONNECTIONS or MAX_CONNECTIONS_PER_ADDRESS. */
static void refuse_connection(struct conn *conn, const char *message)
{
    wr_debug(NULL, "connection refused: %s (%ld open)", message, atomic_load(conn->owner->open));
    refuse(conn, 503, WR_CODE_OVERLOADED, message, "Retry-After: 1\r\n");
}

/* A head or body framing head.h refused: 400 (505 for a version the edge
 * does not speak), closed. The requests before it on the same connection
 * are answered first: while one is unread, waits for its call or is being
 * written, the refusal waits (refuse_when_answered runs this again). */
static void on_refuse(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *conn = arg;
    conn->refuse_pending = !all_answered(conn);
    if (conn->refuse_pending)
        return;
    if (conn->bad == head_why_version) {
        wr_debug(NULL, "closing a connection: %s", conn->bad);
        refuse(conn, 505, WR_CODE_VERSION_NOT_SUPPORTED,
               "HTTP version not supported: the edge speaks HTTP/1.1 and HTTP/1.0", "");
        return;
    }
    char msg[160];
    (void)snprintf(msg, sizeof(msg), "malformed request: %s", conn->bad);
    wr_debug(NULL, "closing a connection: %s", msg);
    refuse(conn, 400, WR_CODE_BAD_REQUEST, msg, "");
}

/* The table is stored in e, which gcc's analyzer loses track of (a leak it
 * reports after the store); conns_free frees it. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static bool grow(conns *e, int fd)
{
    if ((size_t)fd < e->cap)
        return true;
    size_t cap = e->cap ? e->cap : 256;
    while (cap <= (size_t)fd)
        cap *= 2;
    struct conn **more = realloc(e->by_fd, cap * sizeof(struct conn *));
    if (more == NULL)
        return false;
    memset(more + e->cap, 0, (cap - e->cap) * sizeof(struct conn *));
    e->by_fd = more;
    e->cap = cap;
    return true;
}
WR_ANALYZER_LEAK_FALSE_END

/* What the accept left for after_accept. */
struct accepted {
    conns *owner;
    struct bufferevent *bev;
    struct event *ev;
};

static int conn_watch(struct conn *conn)
{
    conns *e = conn->owner;
    conn->deadline = evtimer_new(e->base, on_conn_deadline, conn);
    conn->out_cb = evbuffer_add_cb(bufferevent_get_output(conn->bev), on_output, conn);
    conn->in_cb = evbuffer_add_cb(bufferevent_get_input(conn->bev), on_input, conn);
    if (conn->deadline == NULL || conn->out_cb == NULL || conn->in_cb == NULL || !grow(e, conn->fd))
        return WR_ENOMEM;
    evtimer_add(conn->deadline, e->head_tv);
    return 0;
}

/* Sends each write at once (TCP_NODELAY). evhttp writes an answer's head
 * and body as they come; with Nagle's algorithm the body's last part then
 * waited for the client's acknowledgement of the head, which a client
 * delays (40 ms on Linux) while it expects more: every answer past the
 * first of a keep-alive connection whose body was not sent whole at once
 * took 40 ms more (a page of Albums with its tracks, 18.7 KB). */
static void no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Runs right after libevent accepted a connection and set it up, before
 * anything is read from it. */
static void after_accept(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    struct accepted *a = arg;
    conns *e = a->owner;
    bufferevent_event_cb eventcb = NULL;
    void *evcon = NULL;
    bufferevent_getcb(a->bev, NULL, NULL, &eventcb, &evcon);
    int fd = (int)bufferevent_getfd(a->bev);
    struct conn *conn = NULL;
    if (eventcb != NULL && evcon != NULL && fd >= 0) /* else libevent gave up on it */
        conn = calloc(1, sizeof(*conn));
    if (conn != NULL) {
        no_delay(fd);
        *conn = (struct conn){.owner = e, .evcon = evcon, .bev = a->bev, .fd = fd};
        /* head.h's framer follows heads as far as libevent's backstop on
         * them can let one go (it counts lines without their CRLF) */
        long backstop = e->cfg->max_uri_bytes + e->cfg->max_header_bytes + 1024;
        head_framer_init(&conn->framer, (size_t)backstop * 2 + 4);
        long open = atomic_fetch_add(e->open, 1) + 1;
        evhttp_connection_set_closecb(evcon, on_conn_close, conn);
        if (conn_watch(conn) != 0) {
            wr_error(NULL, "out of memory: closing a connection");
            evhttp_connection_free(evcon);
        } else {
            e->by_fd[fd] = conn;
            if (open > e->cfg->max_connections) {
                refuse_connection(conn, "too many open connections");
            } else if (peer_addr_of(fd, &conn->addr)) {
                conn->counted = peers_enter(e->peers, &conn->addr);
                if (!conn->counted)
                    refuse_connection(conn, "too many open connections from this address");
            }
        }
    } else if (evcon != NULL && fd >= 0) {
        evhttp_connection_free(evcon);
    }
    bufferevent_decref(a->bev);
    event_free(a->ev);
    free(a);
}

/* libevent asks for each new connection's bufferevent: ours, watched from
 * after_accept, which runs before the connection's first read. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    struct accepted *a = bev ? calloc(1, sizeof(*a)) : NULL;
    if (a == NULL)
        return bev; /* unwatched; cannot happen short of memory */
    *a = (struct accepted){.owner = arg, .bev = bev};
    a->ev = event_new(base, -1, 0, after_accept, a);
    if (a->ev == NULL) {
        free(a);
        return bev;
    }
    bufferevent_incref(bev); /* kept until after_accept looked at it */
    event_active(a->ev, 0, 0);
    return bev;
}

conns *conns_new(struct event_base *base, struct evhttp *http, const struct wr_cfg *cfg,
                 atomic_long *open, peers *by_addr, void (*gone)(void *call, void *arg), void *arg)
{
    conns *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    *e = (conns){.base = base,
                 .cfg = cfg,
                 .gone = gone,
                 .arg = arg,
                 .open = open,
                 .peers = by_addr,
                 .lingers = {.base = base}};
    struct timeval head = {cfg->http_timeout_s, 0};
    e->head_tv = event_base_init_common_timeout(base, &head);
    long next_ms = cfg->request_timeout_ms + cfg->http_timeout_s * 1000;
    struct timeval next = {next_ms / 1000, (next_ms % 1000) * 1000};
    e->next_tv = event_base_init_common_timeout(base, &next);
    if (e->head_tv == NULL || e->next_tv == NULL) {
        free(e);
        return NULL;
    }
    evhttp_set_bevcb(http, on_new_connection, e);
    return e;
}

void conns_free(conns *e)
{
    if (e == NULL)
        return;
    linger_release(&e->lingers);
    free(e->by_fd);
    free(e);
}

bool conns_sending(const conns *e)
{
    for (size_t fd = 0; e != NULL && fd < e->cap; fd++)
        if (e->by_fd[fd] != NULL &&
            evbuffer_get_length(bufferevent_get_output(e->by_fd[fd]->bev)) > 0)
            return true;
    return false;
}

void conn_park(struct conn *conn, void *call)
{
    if (conn != NULL)
        conn->call = call;
}

void conn_drop_request(struct evhttp_request *req)
{
    if (req != NULL && evhttp_request_get_connection(req) == NULL)
        evhttp_request_free(req);
}

void conn_request(struct conn *conn)
{
    if (conn == NULL)
        return;
    conn->head_bytes = 0;
    conn->line_done = false;
    evtimer_add(conn->deadline, conn->owner->next_tv);
}
