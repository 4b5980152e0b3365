/* The edge's AMQP glue (see bus.h). rabbitmq-c only does I/O inside its own
 * calls, so the socket's read event and a heartbeat timer both drain it;
 * the drain also empties what the library buffered before returning to the
 * loop, since the socket will not signal for that again. Connecting blocks
 * (name lookup, TCP connect, login, topology: up to CONNECT_TIMEOUT_MS per
 * step), so it runs on a helper thread that owns the adapter until it
 * reports back through a pipe: HTTP never waits for the broker. */
#include "bus.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "warren/log.h"
#include "warren/proto.h"

#include "busguard.h"

/* How long one call into rabbitmq-c may hold the loop (busguard.h). A
 * node that reads nothing for a second while the edge has bytes for it is
 * taken for gone, as two missed heartbeats would take it: far under a
 * request's deadline, far over what a write to a live node takes. */
#define STALL_MS 1000
#define STALL_TEXT "1 s"

struct bus {
    struct event_base *base;
    wr_amqp *amqp;
    struct bus_handlers h;
    char queue[160];
    char write_queue[200];
    const char *service;
    const char *services; /* SERVICES: declared too, so requests wait in their queue */
    struct event *readable;
    struct event *tick;      /* heartbeats while idle */
    struct event *reconnect; /* the backoff timer */
    long backoff_ms;
    long backoff_max_ms;
    /* atomics: the loop that writes /metrics may be another (metrics.c) */
    atomic_bool ready;
    atomic_bool blocked;
    atomic_llong connects;
    /* The connect in progress: while connecting, only the helper thread
     * touches amqp; it writes one byte to done[1] when it has finished. */
    bool connecting;
    pthread_t connector;
    int done[2];
    struct event *connected;
    busguard *guard; /* bounds each call into rabbitmq-c on the loop */
    int connect_rc;
    struct wr_err connect_err;
};

static void drain(bus *b);

/* The buses of this process the broker blocks now. A resource alarm blocks
 * every publisher of the cluster, but RabbitMQ tells a connection so only
 * at its first publish: one blocked bus means the others would block too,
 * so every loop answers 503 at once instead of publishing a request into a
 * connection that will not move until its deadline. */
static atomic_int blocked_buses;

/* The buses of this process, and how many are connected: the edge is
 * ready (/readyz) only when every loop's bus is, or a load balancer would
 * send requests to a loop still connecting, which answers 503. */
static atomic_int buses, buses_up;

static void set_ready(bus *b, bool ready)
{
    if (b->ready == ready)
        return;
    b->ready = ready;
    atomic_fetch_add(&buses_up, ready ? 1 : -1);
}

static void set_blocked(bus *b, bool blocked)
{
    if (b->blocked == blocked)
        return;
    b->blocked = blocked;
    atomic_fetch_add(&blocked_buses, blocked ? 1 : -1);
}

static void go_down(bus *b, const char *why)
{
    bool was_ready = b->ready;
    set_ready(b, false);
    set_blocked(b, false);
    if (b->readable) {
        event_free(b->readable);
        b->readable = NULL;
    }
    /* The connection failed: a polite close would write to, and wait on,
     * a node that may read nothing. Shut, it fails at once. */
    int fd = wr_amqp_fd(b->amqp);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RDWR);
    wr_amqp_close(b->amqp);
    if (was_ready)
        wr_warn(NULL, "broker connection lost: %s", why);
    b->h.on_down(b->h.arg);
    /* Flawfinder: ignore - random() only jitters the backoff, no secret */
    long jittered = b->backoff_ms / 2 + random() % (b->backoff_ms / 2 + 1);
    struct timeval tv = {jittered / 1000, (jittered % 1000) * 1000};
    event_add(b->reconnect, &tv);
    b->backoff_ms = b->backoff_ms * 2 > b->backoff_max_ms ? b->backoff_max_ms : b->backoff_ms * 2;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drain(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bus *b = arg;
    if (b->ready)
        drain(b);
}

/* Declares the queues of every service in SERVICES, as their workers do:
 * a request to a service none of whose workers ever ran waits in its queue
 * (504 at its deadline) instead of coming back unroutable. */
static int declare_services(bus *b, struct wr_err *err)
{
    const char *item;
    size_t len;
    int rc = 0;
    for (const char *p = wr_cfg_list_next(b->services, &item, &len); p != NULL && rc == 0;
         p = wr_cfg_list_next(p, &item, &len)) {
        char name[WR_SERVICE_NAME_MAX + 1];
        (void)snprintf(name, sizeof(name), "%.*s", (int)len, item);
        rc = wr_amqp_declare_service(b->amqp, name, err);
    }
    return rc;
}

/* The helper thread: connect, declare, consume, report. */
static void *connect_thread(void *arg)
{
    bus *b = arg;
    struct wr_err err = {0};
    int rc = wr_amqp_connect(b->amqp, &err);
    if (rc == 0)
        rc = wr_amqp_declare_service(b->amqp, b->service, &err);
    if (rc == 0)
        rc = declare_services(b, &err);
    if (rc == 0)
        rc = wr_amqp_consume(b->amqp, WR_REPLY_TO, true, 0, &err);
    b->connect_rc = rc;
    b->connect_err = err;
    char one = 1;
    /* The loop reads the result after joining this thread; the byte only
     * wakes it. A full pipe cannot happen: one byte per connect. */
    if (write(b->done[1], &one, 1) != 1)
        b->connect_rc = rc != 0 ? rc : WR_EIO;
    return NULL;
}

static void try_connect(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bus *b = arg;
    if (b->connecting || b->ready)
        return;
    b->connecting = true;
    if (pthread_create(&b->connector, NULL, connect_thread, b) != 0) {
        b->connecting = false;
        go_down(b, "cannot start the connecting thread");
    }
}

/* Waits for the helper thread (it has finished or is about to). */
static void join_connector(bus *b)
{
    if (!b->connecting)
        return;
    pthread_join(b->connector, NULL);
    b->connecting = false;
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    bus *b = arg;
    char byte;
    while (read(fd, &byte, 1) == 1) /* non-blocking: empties the pipe */
        ;
    if (!b->connecting)
        return;
    join_connector(b);
    int rc = b->connect_rc;
    if (rc == 0) {
        b->readable = event_new(b->base, wr_amqp_fd(b->amqp), EV_READ | EV_PERSIST, on_readable, b);
        rc = b->readable && event_add(b->readable, NULL) == 0 ? 0 : WR_ENOMEM;
        if (rc != 0)
            wr_err_set(&b->connect_err, rc, "out of memory");
    }
    if (rc != 0) {
        wr_warn(NULL, "broker unavailable: %s", b->connect_err.msg);
        go_down(b, b->connect_err.msg);
        return;
    }
    set_ready(b, true);
    b->connects++;
    b->backoff_ms = 100;
    wr_info(NULL, "connected to the broker at %s; requests go to %s", wr_amqp_node(b->amqp),
            b->queue);
}

static void drain(bus *b)
{
    for (int i = 0; i < 4096; i++) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        busguard_enter(b->guard, wr_amqp_fd(b->amqp));
        int rc = wr_amqp_poll(b->amqp, 0, &ev, &m, &err);
        if (busguard_leave(b->guard))
            go_down(b, "the broker read nothing for " STALL_TEXT);
        else if (rc != 0)
            go_down(b, err.msg);
        if (rc != 0 || !b->ready)
            return;
        if (ev == WR_AMQP_DELIVERY)
            b->h.on_reply(b->h.arg, &m);
        else if (ev == WR_AMQP_RETURNED)
            b->h.on_returned(b->h.arg, &m);
        else if (ev == WR_AMQP_BLOCKED || ev == WR_AMQP_UNBLOCKED) {
            set_blocked(b, ev == WR_AMQP_BLOCKED);
            wr_warn(NULL, "the broker %s publishers", b->blocked ? "blocks" : "unblocked");
        } else if (!wr_amqp_has_buffered(b->amqp))
            return;
    }
    /* A flood: give HTTP a turn and come back at once. */
    event_active(b->readable, EV_READ, 0);
}

bus *bus_new(struct event_base *base, const struct wr_cfg *cfg, const struct bus_handlers *h)
{
    bus *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    struct wr_amqp_opts ao = wr_amqp_opts_from_cfg(cfg, "warren-edge");
    b->base = base;
    b->h = *h;
    b->service = cfg->service;
    b->services = cfg->services;
    atomic_fetch_add(&buses, 1);
    b->backoff_ms = 100;
    b->backoff_max_ms = cfg->reconnect_max_ms;
    (void)snprintf(b->queue, sizeof(b->queue), WR_QUEUE_PREFIX "%s", cfg->service);
    (void)snprintf(b->write_queue, sizeof(b->write_queue),
                   WR_QUEUE_PREFIX "%s" WR_QUEUE_WRITE_SUFFIX, cfg->service);
    b->done[0] = b->done[1] = -1;
    b->amqp = wr_amqp_new(&ao);
    b->guard = busguard_new(STALL_MS);
    b->reconnect = evtimer_new(base, try_connect, b);
    if (pipe2(b->done, O_NONBLOCK | O_CLOEXEC) != 0) {
        bus_free(b);
        return NULL;
    }
    b->connected = event_new(base, b->done[0], EV_READ | EV_PERSIST, on_connected, b);
    b->tick = event_new(base, -1, EV_PERSIST, on_tick, b);
    /* Heartbeats go out from inside rabbitmq-c calls: poll at least twice
     * per heartbeat interval even when no traffic flows. */
    long tick_ms = cfg->heartbeat_s > 0 ? cfg->heartbeat_s * 1000 / 3 : 1000;
    struct timeval tv = {tick_ms / 1000, (tick_ms % 1000) * 1000};
    if (b->amqp == NULL || b->guard == NULL || b->reconnect == NULL || b->tick == NULL ||
        b->connected == NULL || event_add(b->connected, NULL) != 0 ||
        event_add(b->tick, &tv) != 0) {
        bus_free(b);
        return NULL;
    }
    struct timeval now = {0, 0};
    event_add(b->reconnect, &now);
    return b;
}

void bus_free(bus *b)
{
    if (b == NULL)
        return;
    join_connector(b); /* at most CONNECT_TIMEOUT_MS a step */
    set_ready(b, false);
    set_blocked(b, false);
    atomic_fetch_sub(&buses, 1);
    if (b->connected)
        event_free(b->connected);
    if (b->done[0] >= 0)
        close(b->done[0]);
    if (b->done[1] >= 0)
        close(b->done[1]);
    if (b->readable)
        event_free(b->readable);
    if (b->tick)
        event_free(b->tick);
    if (b->reconnect)
        event_free(b->reconnect);
    wr_amqp_free(b->amqp);
    busguard_free(b->guard);
    free(b);
}

bool bus_ready(const bus *b)
{
    return b->ready && atomic_load(&blocked_buses) == 0;
}

bool bus_all_ready(void)
{
    return atomic_load(&buses_up) == atomic_load(&buses) && atomic_load(&blocked_buses) == 0;
}

bool bus_blocked(const bus *b)
{
    return b->ready && atomic_load(&blocked_buses) > 0;
}

long long bus_connects(const bus *b)
{
    return b->connects;
}

/* Whether the connection's socket takes more now. rabbitmq-c writes
 * without a deadline: a node that stopped reading (frozen, or cut off
 * without a reset) fills the socket, and a publish would then wait until
 * it reads again, holding the loop and its HTTP; the heartbeat takes
 * such a connection down within two intervals. */
static bool writable(const bus *b)
{
    struct pollfd p = {.fd = wr_amqp_fd(b->amqp), .events = POLLOUT};
    return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

static int publish(bus *b, const char *queue, const struct wr_msg *m, bool mandatory,
                   struct wr_err *err)
{
    if (!bus_ready(b))
        return wr_err_set(err, WR_ECLOSED,
                          b->ready ? "the broker blocks publishers" : "the broker is unavailable");
    if (!writable(b)) /* a request gets 503, an audit record is kept; the connection too */
        return wr_err_set(err, WR_EAGAIN, "the broker reads nothing (its socket is full)");
    busguard_enter(b->guard, wr_amqp_fd(b->amqp));
    int rc = wr_amqp_publish(b->amqp, queue, m, mandatory, err);
    if (busguard_leave(b->guard)) {
        rc = wr_err_set(err, WR_ECLOSED, "the broker read nothing for " STALL_TEXT);
        go_down(b, err->msg);
    } else if (rc != 0)
        go_down(b, err->msg);
    return rc;
}

int bus_publish(bus *b, const char *service, bool write, const struct wr_msg *m, struct wr_err *err)
{
    if (service == NULL)
        return publish(b, write ? b->write_queue : b->queue, m, true, err);
    char queue[sizeof(b->write_queue)];
    int n = snprintf(queue, sizeof(queue), WR_QUEUE_PREFIX "%s%s", service,
                     write ? WR_QUEUE_WRITE_SUFFIX : "");
    if (n < 0 || (size_t)n >= sizeof(queue))
        return wr_err_set(err, WR_EINVAL, "service name too long");
    return publish(b, queue, m, true, err);
}

int bus_publish_audit(bus *b, const char *type, const char *body, size_t len, struct wr_err *err)
{
    struct wr_msg m = {.type = type, .expiration_ms = -1, .body = body, .len = len};
    return publish(b, WR_AUDIT_QUEUE, &m, false, err);
}
