/* The worker's admin listener (see admin.h): one thread polls the
 * listening socket and up to ADMIN_CONNS connections at once, each reading
 * one request head and writing its answer (wr__admin_reply) without
 * blocking, then closing. Why not one connection at a time: a client that
 * opens connections and sends nothing (or reads nothing) would hold every
 * probe behind it for its whole deadline, and a kubelet's probe gives up
 * after a second. When every slot is taken, the connection still waiting
 * for its head that came first is dropped for the new one: a probe's head
 * arrives with its connection and is answered in the same turn. Probes are
 * not logged. */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "warren/clock.h"
#include "warren/log.h"

#define ADMIN_CONNS 32 /* connections served at once */
#define HEAD_MAX 4096  /* a longer head is dropped unanswered */
#define HEAD_MS 2000   /* a head must arrive whole within this */
#define IDLE_MS 1000   /* an answer must move at least this often */
#define PAUSE_MS 100   /* accepting rests this long when out of descriptors */

struct conn {
    int fd;            /* -1: a free slot */
    bool answering;    /* the head is in; out is being sent */
    unsigned long seq; /* accepted as the seq-th: the lowest is the oldest */
    long long until;   /* wr_steady_ms past which it is dropped */
    size_t len;        /* head bytes read */
    size_t sent;       /* out bytes sent */
    struct wr_buf out; /* the answer */
    char head[HEAD_MAX];
};

struct wr__admin {
    int fd;
    int wake[2]; /* a byte on wake[1] stops the thread */
    pthread_t thread;
    bool started;
    long long paused_until; /* accept4 failed for want of descriptors */
    unsigned long accepted;
    struct wr__health *health;
    wr_metrics *metrics;
    struct conn conns[ADMIN_CONNS];
};

static void drop(struct conn *c)
{
    (void)close(c->fd);
    c->fd = -1;
    wr_buf_release(&c->out);
}

/* Sends what is left of the answer; closes when all of it is out, or the
 * client is gone. */
static void send_some(struct conn *c)
{
    while (c->sent < c->out.len) {
        ssize_t k = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0)
            break;
        c->sent += (size_t)k;
        c->until = wr_steady_ms() + IDLE_MS;
    }
    drop(c);
}

/* Reads what the client sent; once the head is whole, answers it. */
static void read_some(wr__admin *a, struct conn *c)
{
    ssize_t k = recv(c->fd, c->head + c->len, sizeof(c->head) - 1 - c->len, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (k <= 0) {
        drop(c);
        return;
    }
    c->len += (size_t)k;
    c->head[c->len] = '\0';
    if (strstr(c->head, "\r\n\r\n") == NULL && strstr(c->head, "\n\n") == NULL) {
        if (c->len + 1 >= sizeof(c->head))
            drop(c); /* too long to be a probe */
        return;
    }
    wr_buf_init(&c->out, WR__ADMIN_REPLY_MAX);
    wr__admin_reply(a->health, a->metrics, c->head, &c->out);
    if (wr_buf_error(&c->out) != 0) {
        drop(c);
        return;
    }
    c->answering = true;
    c->until = wr_steady_ms() + IDLE_MS;
    send_some(c);
}

/* A slot for a new connection: a free one, else the one waiting longest
 * for its head (dropped); NULL when every slot is answering. */
static struct conn *slot_for_new(wr__admin *a)
{
    struct conn *oldest = NULL;
    for (size_t i = 0; i < ADMIN_CONNS; i++) {
        struct conn *c = &a->conns[i];
        if (c->fd < 0)
            return c;
        if (!c->answering && (oldest == NULL || c->seq < oldest->seq))
            oldest = c;
    }
    if (oldest != NULL)
        drop(oldest);
    return oldest;
}

static void accept_some(wr__admin *a)
{
    for (;;) {
        int fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                a->paused_until = wr_steady_ms() + PAUSE_MS;
            return;
        }
        struct conn *c = slot_for_new(a);
        if (c == NULL) { /* every slot answering: not polled for then */
            (void)close(fd);
            return;
        }
        *c = (struct conn){.fd = fd, .seq = ++a->accepted, .until = wr_steady_ms() + HEAD_MS};
    }
}

/* Fills p with what to wait for; returns poll's timeout. */
static int wait_set(wr__admin *a, struct pollfd *p)
{
    long long now = wr_steady_ms();
    long long next = now + 60000;
    bool room = false;
    for (size_t i = 0; i < ADMIN_CONNS; i++) {
        struct conn *c = &a->conns[i];
        if (c->fd >= 0 && now >= c->until)
            drop(c); /* too slow */
        room = room || c->fd < 0 || !c->answering;
        p[2 + i] = (struct pollfd){.fd = c->fd, .events = c->answering ? POLLOUT : POLLIN};
        if (c->fd >= 0 && c->until < next)
            next = c->until;
    }
    bool paused = now < a->paused_until;
    if (paused && a->paused_until < next)
        next = a->paused_until;
    p[0] = (struct pollfd){.fd = room && !paused ? a->fd : -1, .events = POLLIN};
    p[1] = (struct pollfd){.fd = a->wake[0], .events = POLLIN};
    return (int)(next - now);
}

static void *run(void *arg)
{
    wr__admin *a = arg;
    struct pollfd p[2 + ADMIN_CONNS];
    for (;;) {
        int timeout = wait_set(a, p);
        if (poll(p, 2 + ADMIN_CONNS, timeout) < 0) {
            if (errno == EINTR)
                continue;
            wr_error(NULL, "admin: poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents != 0)
            break;
        for (size_t i = 0; i < ADMIN_CONNS; i++) {
            struct conn *c = &a->conns[i];
            if (p[2 + i].revents == 0 || c->fd != p[2 + i].fd)
                continue;
            if (c->answering)
                send_some(c);
            else
                read_some(a, c);
        }
        if (p[0].revents & POLLIN)
            accept_some(a);
    }
    for (size_t i = 0; i < ADMIN_CONNS; i++)
        if (a->conns[i].fd >= 0)
            drop(&a->conns[i]);
    return NULL;
}

/* A listening socket on host:port, or -1 with err. */
static int listen_on(const char *host, long port, struct wr_err *err)
{
    char service[8];
    (void)snprintf(service, sizeof(service), "%ld", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        wr_err_set(err, WR_EINVAL, "admin: ADMIN_HOST %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0)) {
            e = errno;
            (void)close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        wr_err_set(err, WR_EIO, "admin: cannot listen on %s:%ld: %s", host, port,
                   strerror(e ? e : errno));
    return fd;
}

wr__admin *wr__admin_start(const char *host, long port, struct wr__health *health,
                           wr_metrics *metrics, struct wr_err *err)
{
    wr__admin *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        wr_err_set(err, WR_ENOMEM, "admin: out of memory");
        return NULL;
    }
    a->health = health;
    a->metrics = metrics;
    a->wake[0] = a->wake[1] = -1;
    for (size_t i = 0; i < ADMIN_CONNS; i++)
        a->conns[i].fd = -1;
    a->fd = listen_on(host, port, err);
    if (a->fd < 0 || pipe2(a->wake, O_CLOEXEC) != 0) {
        if (a->fd >= 0)
            wr_err_set(err, WR_EIO, "admin: pipe: %s", strerror(errno));
        wr__admin_stop(a);
        return NULL;
    }
    /* Signals go to the loop's thread, never to this one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    a->started = pthread_create(&a->thread, NULL, run, a) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!a->started) {
        wr_err_set(err, WR_EIO, "admin: cannot start its thread");
        wr__admin_stop(a);
        return NULL;
    }
    wr_info(NULL, "admin: /livez, /readyz and /metrics on http://%s:%d", host, wr__admin_port(a));
    return a;
}

void wr__admin_stop(wr__admin *a)
{
    if (a == NULL)
        return;
    if (a->started) {
        (void)!write(a->wake[1], "x", 1);
        pthread_join(a->thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (a->wake[i] >= 0)
            (void)close(a->wake[i]);
    if (a->fd >= 0)
        (void)close(a->fd);
    free(a);
}

int wr__admin_port(const wr__admin *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len = sizeof(ss);
    if (getsockname(a->fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
