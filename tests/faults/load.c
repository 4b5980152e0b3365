/* The fault suite's HTTP load client (see load.h). */
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h" /* H_AUTH: the test edges' API key */

struct conn {
    int fd; /* -1: free */
    size_t call;
    char *out;
    size_t out_len, out_off;
    char *in;
    size_t in_len, in_cap;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_conn(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static char *request_text(const struct load_req *r, const char *id, int port, size_t *len)
{
    size_t blen = r->body ? strlen(r->body) : 0;
    size_t cap = blen + 1024;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    int n;
    if (r->body != NULL)
        n = snprintf(out, cap,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Request-Id: %s\r\n" H_AUTH
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     r->method ? r->method : "POST", r->path, port, id, blen, r->body);
    else
        n = snprintf(out, cap,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Request-Id: %s\r\n"
                     "Connection: close\r\n\r\n",
                     r->method ? r->method : "GET", r->path, port, id);
    *len = (size_t)n;
    return out;
}

/* A header's value inside the head [head, end), or NULL. */
static const char *find_header(const char *head, const char *end, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (h + n < end && strncasecmp(h, name, n) == 0 && h[n] == ':') {
            const char *v = h + n + 1;
            while (*v == ' ')
                v++;
            *vlen = strcspn(v, "\r");
            return v;
        }
    }
    return NULL;
}

/* Parses what the connection received once the edge closed it: the first
 * response, and whether anything (a second response) followed it. */
static void finish(struct conn *k, const struct load_req *r, checker *c)
{
    struct chk_call *call = chk_at(c, k->call);
    k->in[k->in_len] = '\0';
    const char *sep = strstr(k->in, "\r\n\r\n");
    int status = 0;
    if (sep == NULL || sscanf(k->in, "HTTP/1.%*d %d", &status) != 1)
        return; /* no complete answer: lost */
    size_t vlen = 0;
    const char *cl = find_header(k->in, sep, "Content-Length", &vlen);
    size_t body_len = cl ? strtoul(cl, NULL, 10) : k->in_len - (size_t)(sep + 4 - k->in);
    const char *body = sep + 4;
    if ((size_t)(body - k->in) + body_len > k->in_len)
        return; /* cut short: lost */
    call->status = status;
    call->answered_ms = now_ms();
    call->answers = 1;
    const char *rest = body + body_len;
    if ((size_t)(rest - k->in) < k->in_len && strncmp(rest, "HTTP/", 5) == 0)
        call->answers = 2;
    const char *rid = find_header(k->in, sep, "X-Request-Id", &vlen);
    if (rid == NULL || vlen != WR_REQUEST_ID_LEN || strncmp(rid, call->id, vlen) != 0)
        call->misrouted = true;
    if (status >= 200 && status < 300 && r->expect != NULL) {
        char saved = body[body_len];
        ((char *)body)[body_len] = '\0';
        call->wrong_body = strstr(body, r->expect) == NULL;
        ((char *)body)[body_len] = saved;
    }
}

static void close_conn(struct conn *k)
{
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    free(k->out);
    k->out = NULL;
    k->in_len = 0;
}

static bool start(struct conn *k, const struct load_opts *o, const struct load_req *r, size_t i,
                  checker *c)
{
    struct chk_call *call = chk_at(c, i);
    call->sent_ms = now_ms();
    k->call = i;
    k->out = request_text(r, call->id, o->port, &k->out_len);
    k->out_off = 0;
    k->in_len = 0;
    k->fd = k->out ? open_conn(o->port) : -1;
    if (k->fd < 0) {
        call->refused = true;
        free(k->out);
        k->out = NULL;
        return false;
    }
    return true;
}

/* Handles poll's news for one connection; true when it is done. */
static bool step(struct conn *k, short revents, const struct load_req *reqs, checker *c)
{
    if ((revents & POLLOUT) && k->out_off < k->out_len) {
        ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
        if (w > 0)
            k->out_off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            chk_at(c, k->call)->refused = errno == ECONNREFUSED;
            return true;
        }
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return false;
    if (k->in_len + 4097 > k->in_cap) {
        size_t cap = k->in_cap ? k->in_cap * 2 : 16384;
        char *more = realloc(k->in, cap);
        if (more == NULL)
            return true;
        k->in = more;
        k->in_cap = cap;
    }
    ssize_t r = recv(k->fd, k->in + k->in_len, k->in_cap - k->in_len - 1, 0);
    if (r > 0) {
        k->in_len += (size_t)r;
        return false;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (r < 0 && errno == ECONNREFUSED)
        chk_at(c, k->call)->refused = true;
    if (k->in_len > 0)
        finish(k, &reqs[k->call], c);
    return true;
}

void load_run(const struct load_opts *o, const struct load_req *reqs, size_t n, checker *c)
{
    int window = o->concurrency > 0 ? o->concurrency : 16;
    struct conn *conns = calloc((size_t)window, sizeof(*conns));
    struct pollfd *pfds = calloc((size_t)window, sizeof(*pfds));
    if (conns == NULL || pfds == NULL) {
        free(conns);
        free(pfds);
        return;
    }
    for (int i = 0; i < window; i++)
        conns[i].fd = -1;
    long long t0 = now_ms();
    size_t next = 0, open = 0;
    while (next < n || open > 0) {
        long long now = now_ms();
        for (int i = 0; i < window && next < n; i++) {
            if (conns[i].fd >= 0)
                continue;
            if (o->rate_per_s > 0 && (long long)next * 1000 > (now - t0) * o->rate_per_s)
                break;
            if (start(&conns[i], o, &reqs[next], next, c))
                open++;
            next++;
        }
        for (int i = 0; i < window; i++) {
            pfds[i].fd = conns[i].fd;
            pfds[i].events = conns[i].out_off < conns[i].out_len ? POLLIN | POLLOUT : POLLIN;
            pfds[i].revents = 0;
        }
        (void)poll(pfds, (nfds_t)window, 2);
        now = now_ms();
        for (int i = 0; i < window; i++) {
            struct conn *k = &conns[i];
            if (k->fd < 0)
                continue;
            bool done = pfds[i].revents != 0 && step(k, pfds[i].revents, reqs, c);
            if (!done && now - chk_at(c, k->call)->sent_ms > o->give_up_ms) {
                chk_at(c, k->call)->hung = true;
                done = true;
            }
            if (done) {
                close_conn(k);
                open--;
            }
        }
    }
    for (int i = 0; i < window; i++)
        free(conns[i].in);
    free(conns);
    free(pfds);
}
