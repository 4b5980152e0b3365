/* The edge's event loops (see loops.h). Each loop's thread is the only one
 * that touches its base and edge once started; the main thread only writes
 * a byte to a loop's stop pipe (the loop drains when it reads it) and joins
 * it. Signals are the main thread's: every thread is started with them
 * blocked (main.c waits for them with sigwait). */
#include "loops.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cores.h"
#include "edge.h"
#include "sse_feed.h"
#include "warren/err.h"
#include "warren/log.h"

/* How long a drained loop runs on for answers still being sent. */
#define SEND_GRACE_S 5

struct loop {
    struct event_base *base;
    edge *edge;
    struct event *stop_ev;
    int stop[2]; /* the main thread writes a byte to stop[1]: drain */
    pthread_t thread;
    bool started;
    bool asked; /* set by the loop's thread when it read the stop byte */
    int rc;
};

struct loops {
    struct edge_shared shared;
    long n;
    struct loop *loop;
};

/* EDGE_THREADS, or with 0 the cores this process is given (cores.h); *why
 * says which. */
static long loops_wanted(const struct wr_cfg *cfg, const char **why)
{
    *why = "EDGE_THREADS";
    return cfg->edge_threads > 0 ? cfg->edge_threads : cores_given(why);
}

/* Whether anyone listens on the port already, with a plain bind: the loops
 * bind with SO_REUSEPORT, which would silently share the port with another
 * edge of ours. 0, or -1 (logged). */
static int port_free(const struct wr_cfg *cfg)
{
    char port[16];
    (void)snprintf(port, sizeof(port), "%ld", cfg->http_port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_ADDRCONFIG};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(cfg->http_host, port, &hints, &ai);
    if (gai != 0 || ai == NULL) {
        wr_error(NULL, "cannot listen on %s:%ld: %s", cfg->http_host, cfg->http_port,
                 gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    int rc = fd < 0 ? -1 : setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (rc == 0)
        rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0)
        wr_error(NULL, "cannot listen on %s:%ld: %s", cfg->http_host, cfg->http_port,
                 strerror(errno));
    if (fd >= 0)
        (void)close(fd);
    freeaddrinfo(ai);
    return rc == 0 ? 0 : -1;
}

/* Every connection is a descriptor: the soft limit on them (often 1024) is
 * raised to the hard one, so that MAX_CONNECTIONS can be reached before
 * accept() runs out (accept.h copes when it does). Logged either way. */
static void raise_nofile(const struct wr_cfg *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    long open = rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
    if (open >= 0 && open < cfg->max_connections + 64)
        wr_warn(NULL, "open files limited to %ld (hard limit): fewer than MAX_CONNECTIONS (%ld)",
                open, cfg->max_connections);
    else
        wr_info(NULL, "open files limit: %ld", open);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct loop *l = arg;
    char b[16];
    while (read(fd, b, sizeof(b)) > 0)
        ;
    l->asked = true;
    edge_drain(l->edge);
}

/* After the drain: the loop runs on while an answer is still being sent
 * (one larger than its socket took at once), at most SEND_GRACE_S: edge_free closes every
 * connection, cutting what they hold. A client that reads nothing is cut at the grace's end. */
static void finish_sending(struct loop *l)
{
    static const struct timeval grace = {SEND_GRACE_S, 0};
    if (!edge_sending(l->edge) || event_base_loopexit(l->base, &grace) != 0)
        return;
    do { /* each run starts with the loop's exit flag cleared */
        if (event_base_loop(l->base, EVLOOP_ONCE) < 0)
            return;
    } while (edge_sending(l->edge) && !event_base_got_exit(l->base));
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    l->rc = event_base_dispatch(l->base) < 0 ? -1 : 0;
    if (l->asked && l->rc == 0)
        finish_sending(l);
    if (!l->asked) { /* ended by itself: the whole edge stops */
        wr_error(NULL, "an event loop ended unasked: stopping the edge");
        (void)kill(getpid(), SIGTERM);
        l->rc = -1;
    }
    return NULL;
}

#define PRIORITIES 3 /* events run at 1, libevent's default; batches leave at 2 (batcher.h) */

/* A loop's base, with three priorities (batcher.h), and epoll's
 * changelist: the changes a loop turn makes to one socket's events go to
 * the kernel as one epoll_ctl when the turn ends (a write event added for
 * an answer the socket did not take whole and removed in the same turn
 * costs none). libevent leaves it off by default because a descriptor
 * copied by dup() can keep a closed socket in epoll's set; the edge's one
 * copy (linger.h) is made after its socket's events have left the set
 * (httpd.c). */
static struct event_base *base_new(void)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return NULL;
    (void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base != NULL && event_base_priority_init(base, PRIORITIES) != 0) {
        event_base_free(base);
        return NULL;
    }
    return base;
}

static int loop_init(struct loop *l, const struct wr_cfg *cfg, struct edge_shared *sh,
                     size_t backlog)
{
    l->stop[0] = l->stop[1] = -1;
    l->base = base_new();
    if (l->base == NULL || pipe2(l->stop, O_CLOEXEC | O_NONBLOCK) != 0)
        return WR_ENOMEM;
    l->stop_ev = event_new(l->base, l->stop[0], EV_READ | EV_PERSIST, on_stop, l);
    if (l->stop_ev == NULL || event_add(l->stop_ev, NULL) != 0)
        return WR_ENOMEM;
    l->edge = edge_new(l->base, cfg, sh, backlog);
    return l->edge ? 0 : WR_EIO;
}

loops *loops_new(const struct wr_cfg *cfg)
{
    if (port_free(cfg) != 0)
        return NULL;
    raise_nofile(cfg);
    loops *ls = calloc(1, sizeof(*ls));
    const char *why = NULL;
    long n = loops_wanted(cfg, &why);
    if (ls != NULL)
        ls->loop = calloc((size_t)n, sizeof(*ls->loop));
    if (ls == NULL || ls->loop == NULL) {
        free(ls);
        wr_error(NULL, "edge: out of memory");
        return NULL;
    }
    atomic_init(&ls->shared.conns_open, 0);
    atomic_init(&ls->shared.calls_in_flight, 0);
    ls->shared.metrics = metrics_new(&ls->shared.calls_in_flight);
    ls->shared.peers = peers_new(cfg->max_conns_per_addr);
    atomic_init(&ls->shared.sse_clients, 0);
    ls->shared.feed = sse_feed_new(cfg);
    ls->shared.ratelimit = ratelimit_new(cfg->rate_limit_rps, cfg->rate_limit_burst,
                                         cfg->search_concurrency, RATELIMIT_SLOTS);
    if (ls->shared.metrics == NULL || ls->shared.peers == NULL || ls->shared.feed == NULL ||
        ls->shared.ratelimit == NULL) {
        loops_free(ls);
        return NULL;
    }
    /* EDGE_AUDIT_BACKLOG over the loops, at least one record each */
    size_t backlog = (size_t)(cfg->edge_audit_backlog / n);
    if (backlog == 0)
        backlog = 1;
    for (long i = 0; i < n; i++) {
        ls->n = i + 1; /* loops_free frees what was made */
        if (loop_init(&ls->loop[i], cfg, &ls->shared, backlog) != 0) {
            loops_free(ls);
            return NULL;
        }
    }
    wr_info(NULL, "listening on http://%s:%ld with %ld event loop(s) (%s)", cfg->http_host,
            cfg->http_port, n, why);
    return ls;
}

long loops_count(const loops *ls)
{
    return ls->n;
}

int loops_start(loops *ls)
{
    if (sse_feed_start(ls->shared.feed) != 0) {
        wr_error(NULL, "cannot start the change events' reader thread");
        return WR_EIO;
    }
    for (long i = 0; i < ls->n; i++) {
        struct loop *l = &ls->loop[i];
        if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
            wr_error(NULL, "cannot start an event loop thread");
            loops_stop(ls);
            (void)loops_join(ls);
            return WR_EIO;
        }
        l->started = true;
    }
    return 0;
}

void loops_stop(loops *ls)
{
    for (long i = 0; i < ls->n; i++) {
        /* A full pipe already holds a stop byte: a failed write loses
         * nothing. */
        ssize_t w = ls->loop[i].stop[1] >= 0 ? write(ls->loop[i].stop[1], "s", 1) : 0;
        (void)w;
    }
}

int loops_join(loops *ls)
{
    int rc = 0;
    for (long i = 0; i < ls->n; i++) {
        struct loop *l = &ls->loop[i];
        if (!l->started)
            continue;
        (void)pthread_join(l->thread, NULL);
        l->started = false;
        if (l->rc != 0)
            rc = -1;
    }
    return rc;
}

void loops_free(loops *ls)
{
    if (ls == NULL)
        return;
    sse_feed_stop(ls->shared.feed); /* its threads write to the loops' pipes */
    for (long i = 0; i < ls->n; i++) {
        struct loop *l = &ls->loop[i];
        edge_free(l->edge);
        if (l->stop_ev != NULL)
            event_free(l->stop_ev);
        if (l->base != NULL)
            event_base_free(l->base);
        if (l->stop[0] >= 0)
            (void)close(l->stop[0]);
        if (l->stop[1] >= 0)
            (void)close(l->stop[1]);
    }
    metrics_free(ls->shared.metrics); /* after every edge: they count in it */
    peers_free(ls->shared.peers);
    sse_feed_free(ls->shared.feed);
    ratelimit_free(ls->shared.ratelimit); /* after every edge: their calls hold places in it */
    free(ls->loop);
    free(ls);
}
