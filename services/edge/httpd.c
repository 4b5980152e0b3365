/* The server's connections (see httpd.h): each one an event for reading,
 * one for writing (made and added only when an answer waits for the
 * socket) and a deadline, its input checked by head.h as it arrives and
 * read one request at a time, its answers written at the end of the loop
 * turn that made them. Its two buffers exist only while they hold bytes: a
 * connection whose request waits for its answer holds neither; its
 * deadline is a node in one of two lists (expiry.h), not an event. A
 * connection closed while one of its callbacks runs is freed once that
 * callback returns (busy), or once the turn's writing is done with it
 * (in_flush). */
#include "httpd_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reason.h"
#include "warren/buf.h"
#include "warren/err.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/proto.h"

/* One read takes at most this: a request's head fits it many times. Read
 * with recv and copied in: evbuffer_read asks the socket for its byte
 * count first (an ioctl, a system call more a read) and reads 4 KiB at
 * most. */
#define READ_MAX 16384

struct hconn {
    httpd *s;
    struct hconn *prev, *next; /* s's connections */
    int fd;
    struct event *rd, *wr;
    struct expiry_node deadline; /* in s->heads, else in s->nexts while started */
    bool next_due;               /* the deadline is in s->nexts */
    struct event *closing;       /* closes a refused connection a turn later */
    struct evbuffer *in, *out;   /* NULL while empty (output(), drop_if_empty()) */
    struct head_framer framer;   /* the input as it arrives (head.h) */
    struct chunk_scan chunks;    /* the chunked body at in[0] read so far */
    struct peer_addr addr;
    bool counted;            /* in s->peers */
    struct hreq *req;        /* the request being answered, until its answer is queued */
    void *call;              /* the call parked on req, or NULL */
    struct hreq **call_ref;  /* the call's reference to req (hreq_park) */
    unsigned long taken;     /* requests taken from the input */
    unsigned long continued; /* the request (taken + 1) sent "100 Continue" */
    uint64_t consumed;       /* the framer's count of bytes at in[0] */
    void (*flushed)(void *); /* run once the output is written */
    void *flushed_arg;
    struct timeval wtv; /* an answer's progress (hreq_write_timeout) */
    bool answering;     /* an answer is queued, not all written */
    bool close_after;   /* closed once the output is written */
    bool paused;        /* not reading: the input holds enough */
    bool eof;           /* the client closed its side */
    bool in_flush;      /* in s->flushing */
    bool dead;          /* closed: freed when neither busy nor in_flush */
    int busy;           /* callbacks on the stack */
};

/* The head's backstop: the request line and headers together, with room
 * for their line ends; the dispatcher applies the two limits exactly. */
static size_t backstop(const httpd *s)
{
    return (size_t)(s->cfg->max_uri_bytes + s->cfg->max_header_bytes + 1024);
}

/* Unlinks c from s (its server: the caller's s, so that clang's analyzer
 * sees the caller's s->first move) and frees it. */
static void conn_free(httpd *s, struct hconn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else /* the first: every connection is in the list from its accept on */
        s->first = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    struct event *evs[3] = {c->rd, c->wr, c->closing};
    for (int i = 0; i < 3; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    head_framer_release(&c->framer);
    hreq_free(c->req);
    free(c);
}

/* The bytes c's input or output holds (either may be NULL: none). */
static size_t held(const struct evbuffer *b)
{
    return b != NULL ? evbuffer_get_length(b) : 0;
}

/* c's output, made on first need: a connection waiting for its answer
 * holds no buffer (10,000 in flight, 1.5 MB). NULL when out of memory: the
 * connection then closes once what it has is written. */
static struct evbuffer *output(struct hconn *c)
{
    if (c->out == NULL && (c->out = evbuffer_new()) == NULL)
        c->close_after = true;
    return c->out;
}

/* Frees b when it is empty (the next bytes make another). */
static void drop_if_empty(struct evbuffer **b)
{
    if (*b != NULL && evbuffer_get_length(*b) == 0) {
        evbuffer_free(*b);
        *b = NULL;
    }
}

/* Starts c's deadline again: the next request's when next, else the first
 * request's. */
static void deadline_start(struct hconn *c, bool next)
{
    expiry_stop(c->next_due ? &c->s->nexts : &c->s->heads, &c->deadline);
    c->next_due = next;
    expiry_start(next ? &c->s->nexts : &c->s->heads, &c->deadline);
}

static void deadline_stop(struct hconn *c)
{
    expiry_stop(c->next_due ? &c->s->nexts : &c->s->heads, &c->deadline);
}

/* Frees c once it is closed and nothing holds it. */
static void leave(struct hconn *c)
{
    if (--c->busy == 0 && c->dead && !c->in_flush)
        conn_free(c->s, c);
}

/* Takes the parked call off c, its reference to the request cleared. */
static void *unpark(struct hconn *c)
{
    void *call = c->call;
    if (c->call_ref != NULL)
        *c->call_ref = NULL;
    c->call = NULL;
    c->call_ref = NULL;
    return call;
}

/* Closes c: its parked call hears of it first when tell (the client went
 * away), the socket is closed unless keep_fd (a lingering close has it).
 * Never frees c: the callback that holds it does, as it leaves. */
static void conn_close(struct hconn *c, bool tell, bool keep_fd)
{
    if (c->dead)
        return;
    c->dead = true;
    httpd *s = c->s;
    void *call = unpark(c);
    if (tell && call != NULL && s->h.gone != NULL)
        s->h.gone(call, s->h.arg);
    hreq_free(c->req);
    c->req = NULL;
    if (c->rd != NULL)
        (void)event_del(c->rd);
    if (c->wr != NULL)
        (void)event_del(c->wr);
    deadline_stop(c);
    if (!keep_fd)
        (void)close(c->fd);
    if (c->counted)
        peers_leave(s->peers, &c->addr);
    c->counted = false;
    atomic_fetch_sub(s->open, 1);
}

static void on_closing(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hconn *c = arg;
    linger_close(&c->s->lingers, c->fd);
    (void)close(c->fd);
    leave(c); /* close_lingering's hold */
}

/* Closes c lingering (linger.h), a loop turn from now: its events are
 * removed now and the turn's changelist hands epoll the removal first. Out
 * of memory it closes at once. */
static void close_lingering(struct hconn *c)
{
    static const struct timeval next_turn = {0, 0};
    if (c->dead || (c->closing != NULL && evtimer_pending(c->closing, NULL)))
        return;
    if (c->closing == NULL)
        c->closing = evtimer_new(c->s->base, on_closing, c);
    if (c->closing == NULL || evtimer_add(c->closing, &next_turn) != 0) {
        conn_close(c, true, false);
        return;
    }
    c->busy++;                 /* held until on_closing ran */
    conn_close(c, true, true); /* counted out now; the socket closes next turn */
}

/* Answers status in JSON straight on the socket, then closes lingering.
 * Only where nothing else is being sent. */
static void refuse(struct hconn *c, int status, const char *code, const char *message,
                   const char *extra)
{
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
    if (wr_buf_error(&msg) == 0)
        (void)send(c->fd, msg.data, msg.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    wr_buf_release(&body);
    wr_buf_release(&msg);
    close_lingering(c);
}

/* A head the framer refused: 400, or 505 for another major version. */
static void refuse_bad(struct hconn *c)
{
    const char *why = c->framer.why;
    wr_debug(NULL, "closing a connection: malformed request: %s", why);
    if (why == head_why_version) {
        refuse(c, 505, WR_CODE_VERSION_NOT_SUPPORTED,
               "HTTP version not supported: the edge speaks HTTP/1.1 and HTTP/1.0", "");
        return;
    }
    char msg[160];
    (void)snprintf(msg, sizeof(msg), "malformed request: %s", why);
    refuse(c, 400, WR_CODE_BAD_REQUEST, msg, "");
}

/* A head past the backstop: 414 when its request line is (or would be)
 * past MAX_URI_BYTES, else 431. */
static void refuse_head_size(struct hconn *c)
{
    const struct wr_cfg *cfg = c->s->cfg;
    struct evbuffer_ptr nl = evbuffer_search(c->in, "\n", 1, NULL);
    char msg[96];
    if (nl.pos < 0 || nl.pos > cfg->max_uri_bytes) {
        (void)snprintf(msg, sizeof(msg), "the request target is longer than %ld bytes",
                       cfg->max_uri_bytes);
        refuse(c, 414, WR_CODE_URI_TOO_LONG, msg, "");
        return;
    }
    (void)snprintf(msg, sizeof(msg), "the request headers are larger than %ld bytes",
                   cfg->max_header_bytes);
    refuse(c, 431, WR_CODE_HEADERS_TOO_LARGE, msg, "");
}

static void refuse_body_size(struct hconn *c)
{
    char msg[96];
    (void)snprintf(msg, sizeof(msg), "the body is larger than %ld bytes",
                   c->s->cfg->max_body_bytes);
    refuse(c, 413, WR_CODE_PAYLOAD_TOO_LARGE, msg, "");
}

/* Whether the framer has passed the end of the request that starts at
 * in[0] (its head accepted): the next one began, or it waits for one. */
static bool body_complete(const struct hconn *c)
{
    const struct head_framer *f = &c->framer;
    return f->started > c->consumed || (head_framer_idle(f) && f->requests > c->taken);
}

/* The wire length of the body of the request at in[0], whose head is
 * head_len bytes: 0 and *ready when it has none; *ready false while it is
 * not all there. -1 when it is too large (answered). */
static long long body_wire_len(struct hconn *c, size_t head_len, const struct head_info *info,
                               bool *ready)
{
    size_t have = evbuffer_get_length(c->in) - head_len;
    long max = c->s->cfg->max_body_bytes;
    *ready = true;
    if (info->body == HEAD_BODY_LENGTH) {
        if (info->length > (uint64_t)max) {
            refuse_body_size(c);
            return -1;
        }
        *ready = have >= info->length;
        return (long long)info->length;
    }
    if (info->body != HEAD_BODY_CHUNKED)
        return 0;
    /* refused from the chunks' sizes, before their data is read */
    uint64_t declared = 0;
    size_t wire = hreq_chunked_len(c->in, head_len, &c->chunks, &declared);
    if (declared > (uint64_t)max || have > 2 * (size_t)max + 64) {
        refuse_body_size(c);
        return -1;
    }
    *ready = body_complete(c) && wire > 0;
    return (long long)wire;
}

static void queue_write(struct hconn *c);

/* "100 Continue" (RFC 9110 10.1.1), once, to a client that waits for it
 * before it sends the body of the request at in[0] (curl does for a body
 * over 1 KiB, for a second). */
static void send_continue(struct hconn *c)
{
    if (c->continued == c->taken + 1)
        return;
    c->continued = c->taken + 1;
    struct evbuffer *out = output(c);
    if (out != NULL)
        (void)evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    queue_write(c);
}

/* The head at in[0], which the framer accepted (head.h): its info and
 * length, kept by the framer when it is the last head it accepted (no
 * other pipelined behind it), else checked again. NULL when it cannot be
 * read (out of memory). */
static const char *head_at(struct hconn *c, struct head_info *info, size_t *len)
{
    const struct head_framer *f = &c->framer;
    if (f->requests == c->taken + 1 && f->why == NULL) {
        *info = f->info;
        *len = f->head_len;
        return (const char *)evbuffer_pullup(c->in, (ev_ssize_t)*len);
    }
    struct evbuffer_ptr end = evbuffer_search(c->in, "\r\n\r\n", 4, NULL);
    *len = (size_t)end.pos + 4;
    const char *head = end.pos >= 0 ? (const char *)evbuffer_pullup(c->in, (ev_ssize_t)*len) : NULL;
    const char *why = NULL;
    return head != NULL && head_check(head, *len, info, &why) ? head : NULL;
}

/* Hands the request at in[0] to the handler when it is all there. */
static void next_request(struct hconn *c)
{
    httpd *s = c->s;
    if (c->dead || c->req != NULL || c->answering)
        return;
    if (c->framer.why != NULL && c->framer.started == c->consumed) {
        refuse_bad(c);
        return;
    }
    size_t n = held(c->in);
    if (c->framer.requests <= c->taken) { /* no whole head yet */
        if (n > backstop(s))
            refuse_head_size(c);
        return;
    }
    struct head_info info;
    size_t head_len;
    const char *head = head_at(c, &info, &head_len);
    if (head == NULL) {
        refuse(c, 400, WR_CODE_BAD_REQUEST, "malformed request", "");
        return;
    }
    bool expects = hreq_head_expects_continue(head, head_len);
    bool ready = false; /* head is not to be used from here: the input may move */
    long long wire = body_wire_len(c, head_len, &info, &ready);
    if (wire < 0)
        return;
    if (!ready) {
        if (expects)
            send_continue(c);
        return;
    }
    struct hreq *req = hreq_read(c->in, head_len, &info, (size_t)wire);
    if (req == NULL) {
        wr_error(NULL, "out of memory: closing a connection");
        conn_close(c, false, false);
        return;
    }
    if (req->method == 0) {
        hreq_free(req);
        refuse(c, 501, WR_CODE_NOT_IMPLEMENTED,
               "unknown method: the edge serves GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS "
               "(methods are case-sensitive)",
               "");
        return;
    }
    size_t body_len;
    if (hreq_body(req, &body_len) && body_len > (size_t)s->cfg->max_body_bytes) {
        hreq_free(req);
        refuse_body_size(c);
        return;
    }
    (void)evbuffer_drain(c->in, head_len + (size_t)wire);
    drop_if_empty(&c->in);
    c->consumed += head_len + (uint64_t)wire;
    c->taken++;
    c->chunks = (struct chunk_scan){0};
    req->conn = c;
    c->req = req;
    deadline_start(c, true); /* the next request's arrival */
    s->h.request(req, s->h.arg);
}

/* Feeds the n bytes just read to the framer (head.h). */
static void frame_input(struct hconn *c, const char *p, size_t n)
{
    if (c->framer.why != NULL || head_framer_gave_up(&c->framer))
        return;
    if (head_framer_feed(&c->framer, p, n) == WR_ENOMEM && c->framer.why == NULL)
        c->framer.why = "out of memory"; /* cannot check it: not taken either */
}

/* Stops reading while a request is answered and the input holds a whole
 * head and body more: what a client pipelines is not buffered without
 * end. */
static void pause_if_full(struct hconn *c)
{
    size_t cap = backstop(c->s) + (size_t)c->s->cfg->max_body_bytes;
    if (!c->paused && (c->req != NULL || c->answering) && held(c->in) > cap) {
        (void)event_del(c->rd);
        c->paused = true;
    }
}

/* The client closed its side, or its socket failed: a request it waits
 * for is gone; an answer being written is finished first. */
static void on_client_end(struct hconn *c)
{
    c->eof = true;
    (void)event_del(c->rd);
    if (c->answering && c->req == NULL) {
        c->close_after = true;
        return;
    }
    conn_close(c, true, false);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hconn *c = arg;
    c->busy++;
    char buf[READ_MAX];
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n > 0 && c->in == NULL)
        c->in = evbuffer_new();
    if (n > 0 && (c->in == NULL || evbuffer_add(c->in, buf, (size_t)n) != 0)) {
        wr_error(NULL, "out of memory: closing a connection");
        conn_close(c, true, false);
    } else if (n > 0) {
        frame_input(c, buf, (size_t)n);
        next_request(c);
        if (!c->dead)
            pause_if_full(c);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        on_client_end(c);
    }
    leave(c);
}

/* The output is all written (c held by the caller). */
static void written(struct hconn *c)
{
    if (c->flushed != NULL) {
        void (*fn)(void *) = c->flushed;
        c->flushed = NULL;
        fn(c->flushed_arg);
    }
    if (!c->dead && c->answering && c->req == NULL && held(c->out) == 0) {
        c->answering = false;
        drop_if_empty(&c->out);
        if (c->close_after || c->eof) {
            if (held(c->in) > 0)
                close_lingering(c);
            else
                conn_close(c, false, false);
        } else {
            if (c->paused && event_add(c->rd, NULL) == 0)
                c->paused = false;
            next_request(c);
        }
    }
}

static void on_write(evutil_socket_t fd, short what, void *arg);

/* Writes what the socket takes; the rest waits for it to be writable. */
static void write_out(struct hconn *c)
{
    if (c->dead)
        return;
    if (held(c->out) > 0 && evbuffer_write(c->out, c->fd) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK && errno != EINTR) {
        conn_close(c, true, false);
        return;
    }
    if (held(c->out) > 0) {
        if (c->wr == NULL) /* made on first need: most answers leave whole */
            c->wr = event_new(c->s->base, c->fd, EV_WRITE, on_write, c);
        if (c->wr == NULL || event_add(c->wr, &c->wtv) != 0)
            conn_close(c, true, false);
        return;
    }
    written(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct hconn *c = arg;
    c->busy++;
    if (what & EV_TIMEOUT) {
        wr_debug(NULL, "closing a connection: its client took no answer bytes in time");
        conn_close(c, true, false);
    } else {
        write_out(c);
    }
    leave(c);
}

/* The turn's answers, written once its callbacks are done. */
static void on_flush(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    httpd *s = arg;
    struct hconn **list = s->flushing;
    size_t n = s->nflush;
    s->flushing = NULL;
    s->nflush = s->capflush = 0;
    for (size_t i = 0; i < n; i++) {
        struct hconn *c = list[i];
        c->in_flush = false;
        c->busy++;
        write_out(c);
        leave(c);
    }
    free(list);
}

/* Queues c's output for the end of this turn. */
static void queue_write(struct hconn *c)
{
    httpd *s = c->s;
    if (c->in_flush || c->dead)
        return;
    if (s->nflush == s->capflush) {
        size_t cap = s->capflush ? s->capflush * 2 : 64;
        struct hconn **more = realloc(s->flushing, cap * sizeof(struct hconn *));
        if (more == NULL) { /* written now instead */
            c->busy++;
            write_out(c);
            leave(c);
            return;
        }
        s->flushing = more;
        s->capflush = cap;
    }
    s->flushing[s->nflush++] = c;
    c->in_flush = true;
    if (s->nflush == 1)
        event_active(s->flush_ev, 0, 0);
}

/* req's answer is queued whole: req is freed, the connection goes on once
 * it is written. */
static void answered(struct hreq *req)
{
    struct hconn *c = req->conn;
    c->req = NULL;
    (void)unpark(c);
    c->answering = true;
    c->close_after = c->close_after || hreq_closes(req);
    hreq_free(req);
    queue_write(c);
}

const struct peer_addr *hreq_addr(const struct hreq *req)
{
    return &req->conn->addr;
}

void hreq_park(struct hreq *req, void *call, struct hreq **ref)
{
    struct hconn *c = req->conn;
    c->call = call;
    c->call_ref = call != NULL ? ref : NULL;
    if (c->call_ref != NULL)
        *c->call_ref = req;
}

/* A status that has no body (RFC 9110 6.4.1): 1xx, 204, 304. */
static bool bodiless(int status)
{
    return status < 200 || status == 204 || status == 304;
}

void hreq_send(struct hreq *req, int status, const char *body, size_t len)
{
    struct evbuffer *out = output(req->conn);
    bool none = bodiless(status);
    if (out != NULL)
        hreq_write_head(req, out, status, !none, len);
    if (out != NULL && !none && req->method != EVHTTP_REQ_HEAD && len > 0)
        (void)evbuffer_add(out, body, len);
    answered(req);
}

void hreq_start(struct hreq *req, int status)
{
    bool body = req->method != EVHTTP_REQ_HEAD && !bodiless(status);
    req->chunked = body && !req->http10;
    if (!req->chunked && body)
        req->close_after = true; /* its end is the connection's */
    struct evbuffer *out = output(req->conn);
    if (out != NULL)
        hreq_write_head(req, out, status, false, 0);
    queue_write(req->conn);
}

void hreq_chunk(struct hreq *req, struct evbuffer *data, void (*flushed)(void *arg), void *arg)
{
    struct hconn *c = req->conn;
    size_t n = evbuffer_get_length(data);
    struct evbuffer *out = output(c);
    if (out != NULL && n > 0 && req->chunked) {
        char line[24];
        size_t d = hreq_chunk_line(n, line);
        (void)evbuffer_add(out, line, d);
        (void)evbuffer_add_buffer(out, data);
        (void)evbuffer_add(out, "\r\n", 2);
    } else if (out != NULL && n > 0 && req->method != EVHTTP_REQ_HEAD) {
        (void)evbuffer_add_buffer(out, data);
    } else {
        (void)evbuffer_drain(data, n);
    }
    c->flushed = flushed;
    c->flushed_arg = arg;
    queue_write(c);
}

void hreq_end(struct hreq *req)
{
    struct evbuffer *out = req->chunked ? output(req->conn) : NULL;
    if (out != NULL)
        (void)evbuffer_add(out, "0\r\n\r\n", 5);
    answered(req);
}

void hreq_abort(struct hreq *req)
{
    struct hconn *c = req->conn;
    c->busy++;
    conn_close(c, false, false); /* frees req */
    leave(c);
}

void hreq_write_timeout(struct hreq *req, const struct timeval *tv)
{
    req->conn->wtv = *tv;
}

/* A connection that sent no whole request in time, or stayed idle after
 * its answer. */
static void on_deadline(struct expiry_node *n, void *arg)
{
    (void)arg;
    struct hconn *c = (struct hconn *)(void *)((char *)n - offsetof(struct hconn, deadline));
    if (c->req != NULL || c->answering) { /* the write has its own timeout */
        deadline_start(c, true);
        return;
    }
    wr_debug(NULL, "closing a connection: no complete request within HTTP_TIMEOUT_S");
    c->busy++;
    conn_close(c, false, false);
    leave(c);
}

/* Sends each write at once (TCP_NODELAY): with Nagle's algorithm an
 * answer's last part waited for the client's acknowledgement of the part
 * before, which a client delays (40 ms on Linux) while it expects more. */
static void no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int conn_setup(struct hconn *c)
{
    httpd *s = c->s;
    c->rd = event_new(s->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    if (c->rd == NULL || event_add(c->rd, NULL) != 0)
        return WR_ENOMEM;
    deadline_start(c, false);
    return 0;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lev;
    (void)sa;
    (void)salen;
    httpd *s = arg;
    struct hconn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        (void)close(fd);
        return;
    }
    no_delay(fd);
    *c = (struct hconn){.s = s, .fd = fd, .wtv = *s->write_tv, .next = s->first};
    if (s->first != NULL)
        s->first->prev = c;
    s->first = c;
    /* the framer follows heads a little past the backstop (it counts the
     * line ends too), where refuse_head_size takes over */
    head_framer_init(&c->framer, backstop(s) * 2 + 4);
    long open = atomic_fetch_add(s->open, 1) + 1;
    c->busy++;
    if (conn_setup(c) != 0) {
        wr_error(NULL, "out of memory: closing a connection");
        conn_close(c, false, false);
    } else if (open > s->cfg->max_connections) {
        wr_debug(NULL, "connection refused: too many open connections (%ld open)", open);
        refuse(c, 503, WR_CODE_OVERLOADED, "too many open connections", "Retry-After: 1\r\n");
    } else if (peer_addr_of((int)fd, &c->addr)) {
        c->counted = peers_enter(s->peers, &c->addr);
        if (!c->counted)
            refuse(c, 503, WR_CODE_OVERLOADED, "too many open connections from this address",
                   "Retry-After: 1\r\n");
    }
    leave(c);
}

httpd *httpd_new(struct event_base *base, const struct wr_cfg *cfg, struct evconnlistener *lev,
                 atomic_long *open, peers *by_addr, const struct httpd_handlers *h)
{
    httpd *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    *s = (httpd){.base = base,
                 .cfg = cfg,
                 .h = *h,
                 .lev = lev,
                 .open = open,
                 .peers = by_addr,
                 .lingers = {.base = base}};
    struct timeval head = {cfg->http_timeout_s, 0};
    s->write_tv = event_base_init_common_timeout(base, &head);
    int64_t head_us = (int64_t)cfg->http_timeout_s * 1000000;
    int64_t next_us = head_us + (int64_t)cfg->request_timeout_ms * 1000;
    int rc = expiry_init(&s->heads, base, head_us, on_deadline, s);
    rc = rc != 0 ? rc : expiry_init(&s->nexts, base, next_us, on_deadline, s);
    s->flush_ev = event_new(base, -1, 0, on_flush, s);
    if (rc != 0 || s->write_tv == NULL || s->flush_ev == NULL) {
        if (s->flush_ev != NULL)
            event_free(s->flush_ev);
        expiry_release(&s->heads);
        expiry_release(&s->nexts);
        free(s);
        return NULL;
    }
    evconnlistener_set_cb(lev, on_accept, s);
    return s;
}

void httpd_stop_accepting(httpd *s)
{
    if (s == NULL || s->lev == NULL)
        return;
    evconnlistener_set_cb(s->lev, NULL, NULL);
    s->lev = NULL;
}

bool httpd_sending(const httpd *s)
{
    for (const struct hconn *c = s ? s->first : NULL; c != NULL; c = c->next)
        if (!c->dead && held(c->out) > 0)
            return true;
    return false;
}

void httpd_free(httpd *s)
{
    if (s == NULL)
        return;
    httpd_stop_accepting(s);
    for (size_t i = 0; i < s->nflush; i++) /* a flush that will not come */
        s->flushing[i]->in_flush = false;
    struct hconn *c;
    while ((c = s->first) != NULL) {
        if (!c->dead)
            conn_close(c, true, false);
        else if (c->closing != NULL && evtimer_pending(c->closing, NULL))
            (void)close(c->fd); /* a lingering close that will not come */
        c->prev = NULL;         /* the first (already: said for clang's analyzer) */
        conn_free(s, c);
    }
    linger_release(&s->lingers);
    expiry_release(&s->heads);
    expiry_release(&s->nexts);
    event_free(s->flush_ev);
    free(s->flushing);
    free(s);
}
