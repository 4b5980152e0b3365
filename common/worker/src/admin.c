/* The worker's admin listener (see admin.h): a thread that accepts one
 * connection at a time, reads one request head (bounded in size and
 * time), answers it from the health atomics or the metrics registry and
 * closes the connection. Probes are not logged. */
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
#include <time.h>
#include <unistd.h>

#include "warren/log.h"

#define HEAD_MAX 4096
#define IO_TIMEOUT_MS 1000 /* a client that sends or reads slower is dropped */
#define METRICS_MAX (8u << 20)

struct wr__admin {
    int fd;
    int wake[2]; /* a byte on wake[1] stops the thread */
    pthread_t thread;
    bool started;
    struct wr__health *health;
    wr_metrics *metrics;
};

static long long mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wr__health_init(struct wr__health *h)
{
    atomic_store(&h->alive_until_ms, mono_ms() + WR__LIVEZ_GRACE_MS);
    atomic_store(&h->unready, WR__UNREADY_BROKER);
}

void wr__health_alive(struct wr__health *h, long long ms)
{
    atomic_store_explicit(&h->alive_until_ms, mono_ms() + ms + WR__LIVEZ_GRACE_MS,
                          memory_order_relaxed);
}

void wr__health_unready(struct wr__health *h, unsigned bit, bool on)
{
    if (on)
        atomic_fetch_or(&h->unready, bit);
    else
        atomic_fetch_and(&h->unready, ~bit);
}

static void error_body(struct wr_buf *b, const char *code, const char *message)
{
    wr_buf_printf(b, "{\"code\":\"%s\",\"message\":\"%s\"}\n", code, message);
}

static void readyz(struct wr__health *health, int *status, struct wr_buf *body)
{
    unsigned bits = atomic_load(&health->unready);
    if (bits == 0) {
        *status = 200;
        wr_buf_puts(body, "{\"status\":\"ready\"}\n");
        return;
    }
    static const struct {
        unsigned bit;
        const char *why;
    } reasons[] = {{WR__UNREADY_BROKER, "not consuming from the broker"},
                   {WR__UNREADY_AUDIT, "the audit trail failed"},
                   {WR__UNREADY_STOPPING, "stopping"},
                   {WR__UNREADY_SPOOL_FULL, "the audit spool is full"},
                   {WR__UNREADY_SERVICE, "the service is not ready (see its log)"}};
    *status = 503;
    wr_buf_puts(body, "{\"code\":\"unavailable\",\"message\":\"not ready:");
    const char *sep = " ";
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (bits & reasons[i].bit) {
            wr_buf_printf(body, "%s%s", sep, reasons[i].why);
            sep = ", ";
        }
    }
    wr_buf_puts(body, "\"}\n");
}

void wr__admin_answer(struct wr__health *health, wr_metrics *metrics, const char *method,
                      const char *target, int *status, const char **content_type,
                      struct wr_buf *body)
{
    *content_type = "application/json";
    size_t path_len = strcspn(target, "?");
    bool livez = path_len == 6 && strncmp(target, "/livez", 6) == 0;
    bool ready = path_len == 7 && strncmp(target, "/readyz", 7) == 0;
    bool metrics_path = path_len == 8 && strncmp(target, "/metrics", 8) == 0;
    if (!livez && !ready && !metrics_path) {
        *status = 404;
        error_body(body, "not_found", "no such path: /livez, /readyz or /metrics");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *status = 405;
        error_body(body, "method_not_allowed", "this method is not allowed here");
    } else if (livez) {
        /* the loop stamps how long its next step may take: past that (and
         * the grace) it is stuck, and only a restart helps */
        bool alive = mono_ms() <= atomic_load(&health->alive_until_ms);
        *status = alive ? 200 : 503;
        if (alive)
            wr_buf_puts(body, "{\"status\":\"ok\"}\n");
        else
            error_body(body, "unavailable", "the worker's loop is stuck");
    } else if (ready) {
        readyz(health, status, body);
    } else {
        *status = 200;
        *content_type = WR_METRICS_CONTENT_TYPE;
        if (wr_metrics_write(metrics, body) != 0) {
            *status = 500;
            *content_type = "application/json";
            wr_buf_reset(body);
            error_body(body, "internal", "the metrics do not fit the answer");
        }
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false; /* gone, or slower than IO_TIMEOUT_MS */
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads a request head into head (NUL-terminated); false when the client
 * closes, stalls or sends more than HEAD_MAX bytes without ending it. */
static bool read_head(int fd, char *head, size_t cap)
{
    size_t len = 0;
    long long until = mono_ms() + 2LL * IO_TIMEOUT_MS;
    while (len + 1 < cap && mono_ms() < until) {
        ssize_t k = recv(fd, head + len, cap - 1 - len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        len += (size_t)k;
        head[len] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL)
            return true;
    }
    return false;
}

static void serve(wr__admin *a, int fd)
{
    struct timeval tv = {IO_TIMEOUT_MS / 1000, (suseconds_t)(IO_TIMEOUT_MS % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char head[HEAD_MAX];
    if (!read_head(fd, head, sizeof(head)))
        return;
    /* "METHOD SP target SP HTTP/1.x" */
    char method[16] = "", target[1024] = "";
    const char *sp1 = strchr(head, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    bool ok = sp1 != NULL && sp2 != NULL && (size_t)(sp1 - head) < sizeof(method) &&
              (size_t)(sp2 - sp1 - 1) < sizeof(target) && strncmp(sp2 + 1, "HTTP/1.", 7) == 0;
    struct wr_buf body;
    wr_buf_init(&body, METRICS_MAX);
    int status = 400;
    const char *type = "application/json";
    if (ok) {
        memcpy(method, head, (size_t)(sp1 - head));
        memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
        wr__admin_answer(a->health, a->metrics, method, target, &status, &type, &body);
    } else {
        error_body(&body, "bad_request", "a request line of HTTP/1.x was expected");
    }
    char top[256];
    int n = snprintf(top, sizeof(top),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status), type, body.len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (n > 0 && (size_t)n < sizeof(top) && send_all(fd, top, (size_t)n) &&
        strcmp(method, "HEAD") != 0 && body.len > 0)
        (void)send_all(fd, body.data, body.len);
    wr_buf_release(&body);
}

static void *run(void *arg)
{
    wr__admin *a = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN},
                              {.fd = a->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            wr_error(NULL, "admin: poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents != 0)
            break;
        if ((p[0].revents & POLLIN) == 0)
            continue;
        int fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            serve(a, fd);
            (void)close(fd);
        }
    }
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
                        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0)) {
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
