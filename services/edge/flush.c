/* A loop's answers written at the end of its turn (see flush.h). */
#include "flush.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>

struct flusher {
    struct event *ev;          /* active while answers wait */
    struct bufferevent **bevs; /* their connections, each with a reference */
    size_t n, cap;
};

/* The flusher of the loop running on this thread (flusher_new's). */
static _Thread_local flusher *here;

/* Writes one connection's answer and, when the socket took all of it,
 * ends the write as libevent's write event would: the write event off,
 * then the write callback, which is evhttp's (it frees the request and
 * starts reading the next one, or closes). Only while evhttp is writing:
 * it enables the write event for an answer and disables it when it reads,
 * and a connection freed meanwhile has no callback any more. */
static void flush_one(struct bufferevent *bev)
{
    bufferevent_data_cb write_cb = NULL;
    void *arg = NULL;
    bufferevent_getcb(bev, NULL, &write_cb, NULL, &arg);
    if (write_cb == NULL || !(bufferevent_get_enabled(bev) & EV_WRITE))
        return;
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || evbuffer_get_length(out) == 0)
        return;
    (void)evbuffer_write(out, fd); /* a failure is met again by libevent's own write */
    if (evbuffer_get_length(out) != 0)
        return;
    (void)bufferevent_disable(bev, EV_WRITE);
    write_cb(bev, arg);
}

/* The turn's answers, taken as a whole: a write callback may start the next
 * request of its connection, whose answer joins a new list. */
static void on_flush(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    flusher *f = arg;
    struct bufferevent **bevs = f->bevs;
    size_t n = f->n;
    f->bevs = NULL;
    f->n = f->cap = 0;
    for (size_t i = 0; i < n; i++) {
        flush_one(bevs[i]);
        bufferevent_decref(bevs[i]);
    }
    free(bevs);
}

flusher *flusher_new(struct event_base *base)
{
    flusher *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->ev = event_new(base, -1, 0, on_flush, f);
    if (f->ev == NULL) {
        free(f);
        return NULL;
    }
    return f;
}

void flusher_use(flusher *f)
{
    here = f;
}

void flusher_free(flusher *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        bufferevent_decref(f->bevs[i]);
    free(f->bevs);
    event_free(f->ev); /* its loop's thread, which used it, has ended */
    free(f);
}

struct bufferevent *flush_hold(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = here ? evhttp_request_get_connection(req) : NULL;
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (bev != NULL)
        bufferevent_incref(bev);
    return bev;
}

void flush_answer(struct bufferevent *bev)
{
    flusher *f = here;
    if (bev == NULL)
        return;
    if (f != NULL && f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct bufferevent **bevs = realloc(f->bevs, cap * sizeof(struct bufferevent *));
        if (bevs != NULL) {
            f->bevs = bevs;
            f->cap = cap;
        }
    }
    if (f == NULL || f->n == f->cap) { /* libevent writes it, a turn later */
        bufferevent_decref(bev);
        return;
    }
    f->bevs[f->n++] = bev;
    if (f->n == 1)
        event_active(f->ev, 0, 0);
}
