/* The listening socket and its accept() failures (see accept.h). */
#include "accept.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "warren/log.h"

#define PAUSE_MIN_MS 10
#define PAUSE_MAX_MS 1000
#define ANSWER_AT_ONCE 64 /* clients answered per failure, at most */

#define OUT_OF_FDS_BODY                                                                            \
    "{\"code\":\"overloaded\",\"message\":\"the edge cannot take more connections now\"}\n"
static const char out_of_fds[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    "Connection: close\r\nContent-Length: %zu\r\n\r\n" OUT_OF_FDS_BODY;

struct accepter {
    struct evconnlistener *lev; /* NULL once forgotten */
    struct event *resume;
    int reserve;   /* closed for a moment to accept one client */
    long pause_ms; /* the next pause */
    struct timespec last_failure;
    unsigned long refused;
    char answer[320];
    size_t answer_len;
};

/* libevent calls a listener's error callback with the listener and the
 * argument of its accept callback, which is the server's (httpd.h): the guard of a listener is
 * found here, a table for the process (a slot per loop) behind a mutex, read only when accept()
 * failed. */
#define GUARDS 64
static struct {
    pthread_mutex_t mu;
    struct evconnlistener *lev[GUARDS];
    accepter *guard[GUARDS];
} guards = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool guard_set(struct evconnlistener *lev, accepter *a)
{
    bool ok = false;
    (void)pthread_mutex_lock(&guards.mu);
    for (size_t i = 0; i < GUARDS && !ok; i++) {
        if (guards.lev[i] == (a != NULL ? NULL : lev)) {
            guards.lev[i] = a != NULL ? lev : NULL;
            guards.guard[i] = a;
            ok = true;
        }
    }
    (void)pthread_mutex_unlock(&guards.mu);
    return ok;
}

static accepter *guard_of(const struct evconnlistener *lev)
{
    accepter *a = NULL;
    (void)pthread_mutex_lock(&guards.mu);
    for (size_t i = 0; i < GUARDS && a == NULL; i++)
        if (guards.lev[i] == lev)
            a = guards.guard[i];
    (void)pthread_mutex_unlock(&guards.mu);
    return a;
}

static long ms_since(const struct timespec *t)
{
    struct timespec now;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Any descriptor will do: it only holds a slot. */
static int open_reserve(void)
{
    return eventfd(0, EFD_CLOEXEC);
}

/* Accepts one waiting client on the reserve descriptor and answers it 503.
 * false when none waits or the reserve is gone. */
static bool answer_one(accepter *a, int lfd)
{
    if (a->reserve < 0)
        a->reserve = open_reserve();
    if (a->reserve < 0)
        return false;
    (void)close(a->reserve);
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
        (void)send(c, a->answer, a->answer_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        /* what the client sent already: read, so that the close sends a FIN
         * after the answer, not a reset in place of it */
        char drop[4096];
        (void)recv(c, drop, sizeof(drop), MSG_DONTWAIT);
        (void)shutdown(c, SHUT_WR);
        (void)close(c);
        a->refused++;
    }
    a->reserve = open_reserve();
    return c >= 0;
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    accepter *a = arg;
    if (a->lev != NULL)
        (void)evconnlistener_enable(a->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg; /* the server's */
    int err = errno;
    accepter *a = guard_of(lev);
    if (a == NULL) { /* cannot be: every listener is registered */
        (void)evconnlistener_disable(lev);
        return;
    }
    bool starved = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
    if (ms_since(&a->last_failure) > 2L * PAUSE_MAX_MS) {
        a->pause_ms = PAUSE_MIN_MS; /* a new episode */
        wr_warn(NULL, "accept() failed: %s: pausing new connections", strerror(err));
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &a->last_failure);
    int answered = 0;
    while (starved && answered < ANSWER_AT_ONCE && answer_one(a, (int)evconnlistener_get_fd(lev)))
        answered++;
    (void)evconnlistener_disable(lev);
    struct timeval tv = {a->pause_ms / 1000, (a->pause_ms % 1000) * 1000};
    if (event_add(a->resume, &tv) != 0)
        (void)evconnlistener_enable(lev); /* cannot pause: better busy than deaf */
    a->pause_ms = a->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : a->pause_ms * 2;
}

/* A listening socket on HTTP_HOST:HTTP_PORT, in a group with the other
 * loops' (SO_REUSEPORT). libevent listens with a backlog of 128 by default:
 * a burst of new connections beyond it has its SYNs dropped and waits a
 * second for the retry, so an overload answer (503 at once) would take a
 * second; 4096 it is. NULL when it cannot (errno set). */
static struct evconnlistener *bind_listener(struct event_base *base, const struct wr_cfg *cfg)
{
    char port[16];
    (void)snprintf(port, sizeof(port), "%ld", cfg->http_port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP,
                                    .ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG};
    struct evutil_addrinfo *ai = NULL;
    if (evutil_getaddrinfo(cfg->http_host, port, &hints, &ai) != 0 || ai == NULL) {
        errno = EADDRNOTAVAIL;
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        4096, ai->ai_addr, (int)ai->ai_addrlen);
    evutil_freeaddrinfo(ai);
    return l;
}

accepter *accept_new(struct event_base *base, const struct wr_cfg *cfg)
{
    accepter *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    a->pause_ms = PAUSE_MIN_MS;
    a->reserve = open_reserve();
    a->answer_len =
        (size_t)snprintf(a->answer, sizeof(a->answer), out_of_fds, sizeof(OUT_OF_FDS_BODY) - 1);
    a->resume = evtimer_new(base, on_resume, a);
    a->lev = a->resume != NULL ? bind_listener(base, cfg) : NULL;
    if (a->lev == NULL) {
        int err = a->resume != NULL ? errno : ENOMEM;
        accept_free(a);
        errno = err;
        return NULL;
    }
    if (!guard_set(a->lev, a)) {
        accept_free(a);
        errno = EMFILE;
        return NULL;
    }
    evconnlistener_set_error_cb(a->lev, on_accept_error);
    return a;
}

struct evconnlistener *accept_listener(const accepter *a)
{
    return a->lev;
}

unsigned long accept_refused(const accepter *a)
{
    return a->refused;
}

void accept_free(accepter *a)
{
    if (a == NULL)
        return;
    if (a->lev != NULL)
        (void)guard_set(a->lev, NULL);
    if (a->lev != NULL)
        evconnlistener_free(a->lev);
    if (a->resume != NULL)
        event_free(a->resume);
    if (a->reserve >= 0)
        (void)close(a->reserve);
    free(a);
}
