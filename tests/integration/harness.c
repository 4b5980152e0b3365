/* The integration tests' harness (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "warren/buf.h"
#include "warren/rpc.h"

extern char **environ;

const char *h_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v != NULL && v[0] != '\0', "%s is not set: run the tests through tests/run.sh",
                  name);
    return v;
}

const char *h_amqp_url(void)
{
    static char url[128];
    (void)snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%s/%%2f",
                   h_env("WRT_AMQP_PORT"));
    return url;
}

long long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long h_cpu_ticks(pid_t pid)
{
    char path[64];
    (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *text = h_read_file(path, NULL);
    ck_assert_msg(text != NULL, "%s: the process is gone", path);
    /* after "pid (comm) " (comm may hold spaces and parentheses): state and
     * ten fields, then utime and stime */
    const char *p = strrchr(text, ')');
    ck_assert_ptr_nonnull(p);
    unsigned long long ut = 0, st = 0;
    ck_assert_int_eq(sscanf(p, ") %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st),
                     2);
    free(text);
    return (long long)(ut + st);
}

#define VALGRIND "/usr/bin/valgrind"
#define VALGRIND_FAILED "97" /* H_SANITIZER_EXIT */

static int sanitizer_failures;

int h_verdict(int rc)
{
    return rc != 0 || sanitizer_failures > 0 ? 1 : 0;
}

static bool under_valgrind(void)
{
    const char *v = getenv("WRT_VALGRIND");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

void h_spawn(struct proc *p, const char *bin, const char *tag, const char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra && extra[k])
        k++;
    char **env = calloc(n + k + 4, sizeof(char *));
    ck_assert_ptr_nonnull(env);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "WARREN_", 7) != 0) /* only what the test sets */
            env[j++] = environ[i];
    /* Audit spools go to the test's state folder unless a test says where;
     * later entries win, so extra can override. */
    static char spool[300];
    (void)snprintf(spool, sizeof(spool), "WARREN_AUDIT_SPOOL_DIR=%s/spool", h_env("WRT_STATE_DIR"));
    env[j++] = spool;
    /* Catalog workers refuse to start without a cursor secret; the tests
     * share one, as a deployment's workers do. */
    env[j++] = "WARREN_CURSOR_SECRET=" H_CURSOR_SECRET;
    /* WRT_EDGE_BATCH=1 (or 0) runs a suite with the edge's proto v2
     * batches on (or off) whatever the default; a test's own extra wins */
    const char *batch = getenv("WRT_EDGE_BATCH");
    if (batch != NULL && batch[0] != '\0')
        env[j++] = strcmp(batch, "0") != 0 ? "WARREN_EDGE_BATCH=True" : "WARREN_EDGE_BATCH=False";
    for (size_t i = 0; i < k; i++)
        env[j++] = (char *)extra[i];
    (void)snprintf(p->log, sizeof(p->log), "%s/%s-%d.log", h_env("WRT_LOG_DIR"), tag, getpid());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    /* WRT_VALGRIND=1: under valgrind, which exits 97 on any error or leak
     * (h_stop fails the test then). */
    char *plain[] = {(char *)bin, NULL};
    char *grind[] = {VALGRIND,
                     "--quiet",
                     "--error-exitcode=" VALGRIND_FAILED,
                     "--leak-check=full",
                     "--errors-for-leak-kinds=definite,indirect",
                     "--show-leak-kinds=definite,indirect",
                     (char *)bin,
                     NULL};
    char **argv = under_valgrind() ? grind : plain;
    int rc = posix_spawn(&p->pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    ck_assert_msg(rc == 0, "cannot start %s: %s", bin, strerror(rc));
}

void h_spawn_warren(struct proc *p, const char *bin, const char *tag, int port, const char *service,
                    const char *const *extra)
{
    char amqp[200], db[600], http[64], svc[128];
    (void)snprintf(amqp, sizeof(amqp), "WARREN_AMQP_URL=%s", h_amqp_url());
    (void)snprintf(db, sizeof(db), "WARREN_DATABASE_URI=sqlite:///%s", h_env("WRT_DB"));
    (void)snprintf(http, sizeof(http), "WARREN_HTTP_PORT=%d", port);
    (void)snprintf(svc, sizeof(svc), "WARREN_SERVICE=%s", service);
    const char *env[32] = {amqp, db, svc, "WARREN_API_KEYS=tests:" H_API_KEY};
    size_t n = 4;
    if (port > 0) /* a worker listens on no HTTP port */
        env[n++] = http;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < 32; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    h_spawn(p, bin, tag, env);
}

/* Copies the first lines of valgrind's or a sanitizer's report in log
 * ("==pid==" lines, ASan's frames, UBSan's "runtime error") to stderr,
 * where the test's output and CI's summary (tests/run.sh) show them beside
 * the verdict. */
static void quote_report(const char *log)
{
    char *text = h_read_file(log, NULL);
    int shown = 0;
    for (char *line = text, *next; line != NULL && *line != '\0' && shown < 8; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        bool report = (strncmp(line, "==", 2) == 0 && strlen(line) > 12) ||
                      strncmp(line, "    #", 5) == 0 || strstr(line, "runtime error:") != NULL;
        if (report) {
            fprintf(stderr, "harness: | %.200s\n", line);
            shown++;
        }
    }
    free(text);
}

/* Forgets p, which exited with status; returns its exit status (or
 * 128+signal) and counts a sanitizer's exit against the program. */
static int reaped(struct proc *p, int status)
{
    p->pid = 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == H_SANITIZER_EXIT) {
        /* An assertion here would go unnoticed in an unchecked teardown,
         * where most processes stop: h_verdict fails the program instead. */
        sanitizer_failures++;
        fprintf(stderr, "harness: valgrind or ASan found errors or leaks: see %s\n", p->log);
        quote_report(p->log);
    }
    return code;
}

int h_stop(struct proc *p, int sig)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = 0;
    int tries = under_valgrind() ? 600 : 100; /* 30 s or 5 s */
    for (int i = 0; i < tries; i++) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid)
            break;
        if (i == tries - 1) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
        }
        usleep(50000);
    }
    return reaped(p, status);
}

int h_exit_status(struct proc *p, int timeout_ms)
{
    int status = 0;
    for (long long end = h_now_ms() + timeout_ms; h_now_ms() < end; usleep(50 * 1000))
        if (waitpid(p->pid, &status, WNOHANG) == p->pid)
            return reaped(p, status);
    h_stop(p, SIGKILL);
    return -1;
}

int h_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    /* before connect: the window the server sees stays small */
    bool sized = fd >= 0 && (rcvbuf <= 0 ||
                             setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == 0);
    if (sized && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Reads until the peer closes (we send Connection: close). */
static char *read_all(int fd, size_t *len, int timeout_ms)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    long long end = h_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = end - h_now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            free(buf);
            return NULL;
        }
        if (n + 4096 > cap) {
            char *more = realloc(buf, cap * 2);
            if (more == NULL) {
                free(buf);
                return NULL;
            }
            buf = more;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int h_http_with_body(int port, const char *method, const char *path,
                            const char *extra_headers, const char *body, struct http_resp *r,
                            int timeout_ms);

int h_http_body(int port, const char *method, const char *path, const char *body,
                struct http_resp *r, int timeout_ms)
{
    return h_http_json(port, method, path, H_AUTH, body, r, timeout_ms);
}

int h_http_body_headers(int port, const char *method, const char *path, const char *headers,
                        const char *body, struct http_resp *r, int timeout_ms)
{
    size_t cap = sizeof(H_AUTH) + strlen(headers);
    char *all = malloc(cap);
    if (all == NULL)
        return -1;
    (void)snprintf(all, cap, H_AUTH "%s", headers);
    int rc = h_http_json(port, method, path, all, body, r, timeout_ms);
    free(all);
    return rc;
}

int h_http_json(int port, const char *method, const char *path, const char *headers,
                const char *body, struct http_resp *r, int timeout_ms)
{
    if (body == NULL)
        return h_http(port, method, path, headers, r, timeout_ms);
    size_t n = strlen(body), cap = strlen(headers) + 256;
    char *extra = malloc(cap);
    if (extra == NULL)
        return -1;
    /* the body rides after the head's blank line, which h_http writes */
    (void)snprintf(extra, cap, "%sContent-Type: application/json\r\nContent-Length: %zu\r\n",
                   headers, n);
    int rc = h_http_with_body(port, method, path, extra, body, r, timeout_ms);
    free(extra);
    return rc;
}

int h_http(int port, const char *method, const char *path, const char *extra_headers,
           struct http_resp *r, int timeout_ms)
{
    return h_http_with_body(port, method, path, extra_headers, "", r, timeout_ms);
}

/* Sends n bytes of request on a new connection and parses the answer
 * into r, read until the server closes. 0, or -1. */
static int exchange(int port, const char *req, size_t n, struct http_resp *r, int timeout_ms)
{
    memset(r, 0, sizeof(*r));
    int fd = h_connect(port, 0);
    if (fd < 0)
        return -1;
    if (write(fd, req, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    char *all = read_all(fd, &len, timeout_ms);
    close(fd);
    if (all == NULL)
        return -1;
    char *sep = strstr(all, "\r\n\r\n");
    if (sep == NULL || sscanf(all, "HTTP/1.%*d %d", &r->status) != 1) {
        free(all);
        return -1;
    }
    size_t hlen = (size_t)(sep - all);
    (void)snprintf(r->headers, sizeof(r->headers), "%.*s", (int)hlen, all);
    r->len = len - hlen - 4;
    r->body = malloc(r->len + 1);
    memcpy(r->body, sep + 4, r->len);
    r->body[r->len] = '\0';
    free(all);
    return 0;
}

static int h_http_with_body(int port, const char *method, const char *path,
                            const char *extra_headers, const char *body, struct http_resp *r,
                            int timeout_ms)
{
    memset(r, 0, sizeof(*r));
    char req[65536];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n%s",
                     method, path, port, extra_headers ? extra_headers : "", body);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -1;
    return exchange(port, req, (size_t)n, r, timeout_ms);
}

int h_http_raw(int port, const char *request, struct http_resp *r, int timeout_ms)
{
    return exchange(port, request, strlen(request), r, timeout_ms);
}

void h_http_free(struct http_resp *r)
{
    free(r->body);
    r->body = NULL;
}

long long h_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
    return 0;
}

long long h_port_metric(int port, const char *series)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 5000), 0);
    long long v = h_metric(r.body, series);
    h_http_free(&r);
    return v;
}

void h_rpc_get_album(wr_rpc *rpc, int key)
{
    char id[16];
    (void)snprintf(id, sizeof(id), "%d", key);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = id};
    struct wr_reply r;
    struct wr_err err = {0};
    ck_assert_msg(wr_rpc_call(rpc, &req, &r, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(r.status, 200);
    wr_reply_release(&r);
}

bool h_header(const struct http_resp *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = strstr(r->headers, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            const char *v = h + n + 1;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r");
            (void)snprintf(out, cap, "%.*s", (int)vlen, v);
            return true;
        }
    }
    return false;
}

bool h_wait_ready(int port, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    while (h_now_ms() < end) {
        struct http_resp r;
        if (h_http(port, "GET", "/readyz", NULL, &r, 1000) == 0) {
            int status = r.status;
            h_http_free(&r);
            if (status == 200)
                return true;
        }
        usleep(50000);
    }
    return false;
}

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    /* to its end, not to a size: /proc's files say they have none */
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap);
    for (size_t n; buf != NULL && (n = fread(buf + got, 1, cap - 1 - got, f)) > 0;) {
        got += n;
        char *more = got == cap - 1 ? realloc(buf, cap *= 2) : buf;
        if (more == NULL)
            free(buf);
        buf = more;
    }
    fclose(f);
    ck_assert_ptr_nonnull(buf);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

bool h_log_has(const char *path, const char *text, int timeout_ms)
{
    for (long long end = h_now_ms() + timeout_ms;; usleep(100000)) {
        char *log = h_read_file(path, NULL);
        bool found = log != NULL && strstr(log, text) != NULL;
        free(log);
        if (found || h_now_ms() >= end)
            return found;
    }
}

/* Runs argv (bash and its arguments), its standard output into the file
 * out when out is not NULL. */
static int run_bash_to(char *const *argv, const char *out)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out != NULL)
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawnp(&pid, "bash", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int h_bash(char *const *argv, char *out, size_t cap)
{
    if (out == NULL)
        return run_bash_to(argv, NULL);
    static atomic_int runs; /* a file per run: a test's threads may run scripts at once */
    char path[600];
    (void)snprintf(path, sizeof(path), "%s/bash-%d-%d.out", h_env("WRT_STATE_DIR"), getpid(),
                   atomic_fetch_add(&runs, 1));
    int rc = run_bash_to(argv, path);
    char *text = h_read_file(path, NULL);
    (void)unlink(path);
    (void)snprintf(out, cap, "%s", text != NULL ? text : "");
    free(text);
    return rc;
}

int h_servers(const char *command)
{
    char *argv[] = {"bash", (char *)h_env("WRT_SERVERS_SH"), (char *)command,
                    (char *)h_env("WRT_STATE_DIR"), NULL};
    return h_bash(argv, NULL, 0);
}

int h_servers_ctl(const char *args)
{
    return h_servers_ctl_out(args, NULL, 0);
}

int h_servers_ctl_out(const char *args, char *out, size_t cap)
{
    char copy[512];
    char *argv[16] = {"bash", (char *)h_env("WRT_SERVERS_SH"), "rabbitmqctl",
                      (char *)h_env("WRT_STATE_DIR")};
    size_t n = 4;
    (void)snprintf(copy, sizeof(copy), "%s", args);
    for (char *w = copy; *w && n < 15;) {
        argv[n++] = w;
        w += strcspn(w, " ");
        if (*w == ' ')
            *w++ = '\0';
    }
    argv[n] = NULL;
    return h_bash(argv, out, cap);
}

int h_http_abandon(int port, const char *path)
{
    int fd = h_connect(port, 0);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    ssize_t w = write(fd, req, (size_t)n);
    usleep(20000); /* let the edge park the request before we go */
    close(fd);
    return w == n ? 0 : -1;
}

int h_listener(int *port)
{
    /* close-on-exec: a process the test starts must not hold it too */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET}; /* port 0: the kernel picks */
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof(a);
    ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
    ck_assert_msg(listen(fd, 64) == 0, "listen: %s", strerror(errno));
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int h_free_port(void)
{
    int port = 0;
    close(h_listener(&port));
    return port;
}

/* The inodes of the TCP sockets listening on port (IPv4 and IPv6), from
 * /proc/net/tcp*; returns how many, at most cap. */
static size_t listener_inodes(int port, unsigned long *inodes, size_t cap)
{
    static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    size_t n = 0;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        FILE *f = fopen(tables[t], "r");
        if (f == NULL)
            continue;
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL && n < cap) {
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode; st 0A is LISTEN */
            unsigned lport = 0, state = 0;
            unsigned long inode = 0;
            if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*s %*s %lu",
                       &lport, &state, &inode) == 3 &&
                (int)lport == port && state == 0x0A)
                inodes[n++] = inode;
        }
        fclose(f);
    }
    return n;
}

/* Whether process pid itself holds a socket listening on port: one of its
 * descriptors links to "socket:[inode]" of a listener. A port answering
 * connects is not enough: it may be whoever took it first. */
static bool listens_on(pid_t pid, int port)
{
    unsigned long inodes[16];
    size_t n = listener_inodes(port, inodes, 16);
    if (n == 0)
        return false;
    char dir[64];
    (void)snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    for (const struct dirent *e = readdir(d); e != NULL && !found; e = readdir(d)) {
        char path[384], link[64];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ssize_t len = readlink(path, link, sizeof(link) - 1);
        unsigned long inode = 0;
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &inode) != 1)
            continue;
        for (size_t i = 0; i < n && !found; i++)
            found = inodes[i] == inode;
    }
    closedir(d);
    return found;
}

/* Waits until p listens on port (true) or exits (false, p->pid reset). */
static bool wait_listening(struct proc *p, int port)
{
    long long end = h_now_ms() + (under_valgrind() ? 60000 : 20000);
    while (h_now_ms() < end) {
        int status = 0;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            (void)reaped(p, status);
            return false;
        }
        if (listens_on(p->pid, port))
            return true;
        usleep(20000);
    }
    ck_abort_msg("%s: not listening on %d after %s", p->log, port,
                 under_valgrind() ? "60 s" : "20 s");
    return false;
}

int h_spawn_edge(struct proc *p, const char *tag, const char *service, const char *const *extra)
{
    enum { TRIES = 5 };
    for (int i = 1;; i++) {
        int port = h_free_port();
        h_spawn_warren(p, WARREN_EDGE_BIN, tag, port, service, extra);
        if (wait_listening(p, port))
            return port;
        /* the port was taken meanwhile, or the edge refuses its config */
        ck_assert_msg(i < TRIES, "the edge exited %d times before listening (see %s)", TRIES,
                      p->log);
    }
}

void h_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            (void)unlink(path);
    }
    if (d != NULL)
        closedir(d);
}

void h_copy_db(const char *name, char *path, size_t cap)
{
    (void)snprintf(path, cap, "%s/%s.db", h_env("WRT_STATE_DIR"), name);
    /* a WAL an earlier run left beside the file would be replayed onto the copy */
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
        char side[1100];
        (void)snprintf(side, sizeof(side), "%s%s", path, sides[i]);
        (void)unlink(side);
    }
    size_t n = 0;
    char *data = h_read_file(h_env("WRT_DB"), &n);
    ck_assert_ptr_nonnull(data);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    free(data);
}

char *h_audit_line(const char *spool, const char *rid)
{
    char want[80];
    /* a record's _id is its own: find the request id, then its line */
    (void)snprintf(want, sizeof(want), "\"request_id\":\"%s\"", rid);
    for (int tries = 0; tries < 60; tries++) {
        DIR *d = opendir(spool);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            char path[1024];
            (void)snprintf(path, sizeof(path), "%s/%s", spool, e->d_name);
            size_t len = 0;
            char *text = strstr(e->d_name, ".spool") ? h_read_file(path, &len) : NULL;
            char *at = text ? strstr(text, want) : NULL;
            while (at != NULL && at > text && at[-1] != '\n')
                at--;
            if (at != NULL) {
                char *end = strchr(at, '\n');
                char *line = strndup(at, end ? (size_t)(end - at) : strlen(at));
                free(text);
                closedir(d);
                return line;
            }
            free(text);
        }
        if (d != NULL)
            closedir(d);
        usleep(50000);
    }
    ck_abort_msg("no audit record of %s in %s", rid, spool);
    return NULL;
}

char *h_read_until_close(int fd, int timeout_ms, bool *closed)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    long long end = h_now_ms() + timeout_ms;
    *closed = false;
    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = end - h_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

bool h_link_rel(const char *link, const char *rel, char *out, size_t cap)
{
    char tag[32];
    (void)snprintf(tag, sizeof(tag), ">; rel=\"%s\"", rel);
    const char *end = link ? strstr(link, tag) : NULL;
    if (end == NULL)
        return false;
    const char *start = end;
    while (start > link && start[-1] != '<')
        start--;
    const char *path = strstr(start, "/api/");
    ck_assert(path != NULL && path < end);
    ck_assert_uint_lt((size_t)(end - path), cap);
    memcpy(out, path, (size_t)(end - path));
    out[end - path] = '\0';
    return true;
}

void h_search_path(char *out, size_t cap, const char *collection, const char *q, const char *extra)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = (size_t)snprintf(out, cap, "/api/%s?q=", collection);
    for (const unsigned char *p = (const unsigned char *)q; *p && n + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    (void)snprintf(out + n, cap - n, "%s%s", extra ? "&" : "", extra ? extra : "");
}

pid_t h_writes_in_flight(int port, int n)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child != 0)
        return child;
    for (int i = 0; i < n; i++) {
        char body[96];
        struct http_resp r;
        (void)snprintf(body, sizeof(body), "{\"title\":\"in flight %d\",\"artist_id\":1}", i);
        if (h_http_body(port, "POST", "/api/Albums", body, &r, 15000) == 0)
            h_http_free(&r);
    }
    _exit(0);
}

int h_their_end(pid_t pid, int fd)
{
    struct sockaddr_in ours, theirs;
    socklen_t len = sizeof(ours);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ours, &len), 0);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    ck_assert_msg(pidfd >= 0, "pidfd_open: %s", strerror(errno));
    char dir[64];
    (void)snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int found = -1;
    for (struct dirent *de = readdir(d); de != NULL && found < 0; de = readdir(d)) {
        int copy = de->d_name[0] == '.'
                       ? -1
                       : (int)syscall(SYS_pidfd_getfd, pidfd, (int)strtol(de->d_name, NULL, 10), 0);
        len = sizeof(theirs);
        if (copy >= 0 && getpeername(copy, (struct sockaddr *)&theirs, &len) == 0 &&
            theirs.sin_family == AF_INET && theirs.sin_port == ours.sin_port &&
            theirs.sin_addr.s_addr == ours.sin_addr.s_addr)
            found = copy;
        else if (copy >= 0)
            close(copy);
    }
    closedir(d);
    close(pidfd);
    return found;
}

void h_refusals(int port, char (*rids)[WR_REQUEST_ID_LEN + 1], size_t n)
{
    struct wr_buf req;
    wr_buf_init(&req, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        wr_request_id_new(rids[i]);
        (void)wr_buf_printf(
            &req, "GET /api/Albums?page=x HTTP/1.1\r\nHost: t\r\n%sX-Request-Id: %s\r\n\r\n",
            i + 1 == n ? "Connection: close\r\n" : "", rids[i]);
    }
    int fd = h_connect(port, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, req.data, req.len), (ssize_t)req.len);
    bool closed = false;
    char *text = h_read_until_close(fd, 10000, &closed);
    (void)close(fd);
    size_t answers = 0;
    for (const char *p = text; (p = strstr(p, "HTTP/1.1 400 ")) != NULL; p++)
        answers++;
    ck_assert_msg(closed && answers == n, "%zu of %zu answered 400", answers, n);
    free(text);
    wr_buf_release(&req);
}
