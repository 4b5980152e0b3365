/* The edge against hostile framing and exhaustion (issue 12, items 5 and 6),
 * over real sockets: every request head a strict proxy could read otherwise
 * than libevent is answered 400 and its connection closed, with the request
 * smuggled behind it never answered; a body on a method that takes none is
 * refused from its head, unread; connections per client address are capped
 * over every event loop; and an edge out of file descriptors keeps serving
 * the connections it has, answers new ones 503 and does not spin. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

static struct proc edge, worker;
static int port;

static void setup(void)
{
    const char *env[] = {"WARREN_COLLECTIONS=Albums, Artists", "WARREN_EDGE_THREADS=2",
                         "WARREN_MAX_CONNECTIONS_PER_ADDRESS=6", "WARREN_HTTP_TIMEOUT_S=20", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-framing", 0, "t_framing", env);
    port = h_spawn_edge(&edge, "edge-framing", "t_framing", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    int edge_rc = h_stop(&edge, SIGTERM);
    int worker_rc = h_stop(&worker, SIGTERM);
    ck_assert_int_eq(edge_rc, 0);
    ck_assert_int_eq(worker_rc, 0);
}

/* --- helpers --- */

/* A connection to port from the loopback address `from`; -1 when the edge
 * could not be reached. */
static int connect_from(const char *from, int to)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &src.sin_addr);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)to)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Sends req in one piece and asserts: one answer, status 400 bad_request in
 * JSON, the connection closed (nothing smuggled behind it answered). */
static void refused(const char *what, const char *req)
{
    int fd = connect_from("127.0.0.1", port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    bool closed;
    long long t0 = h_now_ms();
    char *all = h_read_until_close(fd, 5000, &closed);
    close(fd);
    ck_assert_msg(strncmp(all, "HTTP/1.1 400 ", 13) == 0, "%s: %s", what, all);
    ck_assert_msg(strstr(all, "application/json") && strstr(all, "\"bad_request\""), "%s: %s", what,
                  all);
    ck_assert_msg(count(all, "HTTP/1.") == 1, "%s: more than one answer: %s", what, all);
    ck_assert_msg(closed, "%s: the connection stayed open", what);
    ck_assert_msg(h_now_ms() - t0 < 2000, "%s: answered after %lld ms", what, h_now_ms() - t0);
    free(all);
}

#define NEXT "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

/* --- framing (item 5) --- */

START_TEST(framing_refused)
{
    refused("Content-Length on HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Length: 35\r\n\r\n" NEXT NEXT);
    refused("Content-Length on TRACE", "TRACE /healthz HTTP/1.1\r\nHost: x\r\n"
                                       "Content-Length: 35\r\n\r\n" NEXT NEXT);
    refused("Transfer-Encoding on HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT);
    refused("a space before the colon", "POST /api/Albums HTTP/1.1\r\nHost: x\r\n"
                                        "Content-Length : 35\r\n\r\n" NEXT NEXT);
    refused("a space in the target", "GET /healthz x HTTP/1.1\r\nHost: x\r\n\r\n" NEXT);
    refused("a tab before the colon", "GET /healthz HTTP/1.1\r\nHost\t: x\r\n\r\n" NEXT);
    refused("obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Content-Length: 35\r\n"
                        "\r\n" NEXT);
    refused("Content-Length and Transfer-Encoding",
            "POST /api/Albums HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT);
    refused("two differing Content-Lengths", "POST /api/Albums HTTP/1.1\r\nHost: x\r\n"
                                             "Content-Length: 2\r\nContent-Length: 37\r\n\r\n"
                                             "{}" NEXT);
    refused("a bare CR", "GET /healthz HTTP/1.1\r\nHost: x\rContent-Length: 35\r\n\r\n" NEXT);
    refused("a bare LF", "GET /healthz HTTP/1.1\r\nHost: x\nX: y\r\n\r\n" NEXT);
    refused("a non-token header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nX(y): 1\r\n\r\n" NEXT);
    refused("a DEL in a value", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\177b\r\n\r\n" NEXT);
    refused("Host twice", "GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" NEXT);
    refused("a coding libevent reads as the end",
            "POST /api/Albums HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"
            "\r\n0\r\n\r\n" NEXT);
    refused("a chunk extension",
            "POST /api/Albums HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "2;x=1\r\n{}\r\n0\r\n\r\n" NEXT);
}
END_TEST

/* Sends first, then (after pause_ms, 0: in the same send) bad, the worker
 * stopped meanwhile when stop_worker; asserts the answer to first (album 1)
 * comes, then the 400, then the close, and nothing else. */
static void answered_then_refused(const char *what, const char *first, const char *bad,
                                  int pause_ms, bool stop_worker)
{
    int fd = connect_from("127.0.0.1", port);
    ck_assert_int_ge(fd, 0);
    if (stop_worker)
        kill(worker.pid, SIGSTOP); /* the first request waits in the queue */
    char both[512];
    (void)snprintf(both, sizeof(both), "%s%s", first, pause_ms == 0 ? bad : "");
    ck_assert_int_eq(send(fd, both, strlen(both), MSG_NOSIGNAL), (ssize_t)strlen(both));
    if (pause_ms > 0) {
        usleep((useconds_t)pause_ms * 1000); /* read and published by the edge */
        ck_assert_int_eq(send(fd, bad, strlen(bad), MSG_NOSIGNAL), (ssize_t)strlen(bad));
        usleep((useconds_t)pause_ms * 1000);
    }
    if (stop_worker)
        kill(worker.pid, SIGCONT);
    bool closed;
    char *all = h_read_until_close(fd, 5000, &closed);
    close(fd);
    const char *ok = strstr(all, "HTTP/1.1 200 "), *refusal = strstr(all, "HTTP/1.1 400 ");
    ck_assert_msg(ok != NULL && refusal != NULL && ok < refusal, "%s: 200 then 400: %s", what, all);
    ck_assert_msg(strstr(ok, "For Those About To Rock") != NULL, "%s: album 1: %s", what, all);
    ck_assert_msg(count(all, "HTTP/1.") == 2, "%s: two answers: %s", what, all);
    ck_assert_msg(strstr(refusal, "\"bad_request\"") != NULL, "%s: JSON 400: %s", what, all);
    ck_assert_msg(closed, "%s: the connection stayed open", what);
    free(all);
}

/* The requests before a refused one on the same connection are answered
 * first, in order, whether they came in the same read or an earlier one
 * (their call still waiting for the worker); then the 400 and the close,
 * and nothing behind the refused one is answered. */
START_TEST(answered_before_a_refusal)
{
    static const char first[] = "GET /api/Albums/1 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char bad[] =
        "HEAD /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n" NEXT;
    answered_then_refused("in the same read", first, bad, 0, false);
    answered_then_refused("in the same read, the worker stopped", first, bad, 0, true);
    answered_then_refused("read earlier, its call waiting", first, bad, 300, true);
}
END_TEST

/* Sends the pipeline on a new connection; what came back until the edge
 * closed it (*closed: it did within 5 s). */
static char *answers_to(const char *pipeline, bool *closed)
{
    int fd = connect_from("127.0.0.1", port);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(pipeline);
    ck_assert_int_eq(send(fd, pipeline, len, MSG_NOSIGNAL), (ssize_t)len);
    char *all = h_read_until_close(fd, 5000, closed);
    close(fd);
    return all;
}

/* Sends the requests of pipeline on one connection, the last asking for
 * the close, and asserts that each got a 200, album 1's among them. */
static void pipeline_answered(const char *pipeline, int requests)
{
    bool closed;
    char *all = answers_to(pipeline, &closed);
    ck_assert_msg(count(all, "HTTP/1.1 200 ") == requests, "%d answers: %s", requests, all);
    ck_assert_msg(strstr(all, "For Those About To Rock") != NULL, "album 1: %s", all);
    free(all);
}

/* Well-framed pipelines are still read request by request. */
START_TEST(pipelines_still_served)
{
    static const char three[] =
        NEXT "GET /api/Albums/1 HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    pipeline_answered(three, 3);
}
END_TEST

/* An absolute-form target (RFC 9112 3.2.2, what a client talking to a
 * proxy sends) is served by its path, and the connection stays open for
 * the next request. */
START_TEST(absolute_form_kept_alive)
{
    static const char two[] =
        "GET http://example.com/api/Albums/1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    pipeline_answered(two, 2);
}
END_TEST

/* OPTIONS * asks about the server as a whole (RFC 9110 9.3.7): 204 with
 * the methods the edge serves, on a connection kept open; the asterisk
 * with another method is a 400. */
START_TEST(options_asterisk_answered)
{
    static const char two[] = "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    bool closed = false;
    char *text = answers_to(two, &closed);
    ck_assert_msg(closed && strncmp(text, "HTTP/1.1 204 ", 13) == 0, "%s", text);
    ck_assert_msg(strstr(text, "\r\nAllow: GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS\r\n"), "%s",
                  text);
    const char *second = strstr(text + 1, "HTTP/1.1 ");
    ck_assert_msg(second != NULL && strncmp(second, "HTTP/1.1 400 ", 13) == 0, "%s", text);
    free(text);
}
END_TEST

/* A client that asks for it hears "100 Continue" before it sends its
 * body (curl waits a second for it before a body over 1 KiB), and the
 * answer after the body. */
START_TEST(continue_before_the_body)
{
    int fd = connect_from("127.0.0.1", port);
    static const char head[] = "POST /api/Albums/1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                               "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n";
    ck_assert_int_eq(send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    char got[64] = {0};
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_msg(poll(&p, 1, 5000) == 1, "no 100 Continue before the body");
    ck_assert_int_eq(recv(fd, got, sizeof(cont) - 1, MSG_WAITALL), (ssize_t)sizeof(cont) - 1);
    ck_assert_str_eq(got, cont);
    static const char rest[] = "{}";
    ck_assert_int_eq(send(fd, rest, 2, MSG_NOSIGNAL), 2);
    ck_assert_int_eq(recv(fd, got, 12, MSG_WAITALL), 12);
    got[12] = '\0';
    ck_assert_str_eq(got, "HTTP/1.1 405"); /* POST on an object: the answer, after the body */
    close(fd);
}
END_TEST

/* Answers leave at once: the edge's sockets have Nagle's algorithm off,
 * without which a page's body waited for the client's delayed
 * acknowledgement of its head (40 ms an answer on a keep-alive
 * connection). Read off the edge's own socket, after an answer. */
START_TEST(answers_sent_without_delay)
{
    int fd = connect_from("127.0.0.1", port);
    static const char get[] = "GET /api/Albums/1 HTTP/1.1\r\nHost: x\r\n\r\n"; /* kept alive */
    ck_assert_int_eq(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(get) - 1);
    char head[16] = {0};
    ck_assert_int_eq(recv(fd, head, 12, MSG_WAITALL), 12);
    ck_assert_str_eq(head, "HTTP/1.1 200");
    int theirs = h_their_end(edge.pid, fd);
    ck_assert_msg(theirs >= 0, "no socket of the edge's has our address as its peer");
    int on = 0;
    socklen_t len = sizeof(on);
    ck_assert_int_eq(getsockopt(theirs, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    ck_assert_msg(on != 0, "TCP_NODELAY is off on the edge's socket");
    close(theirs);
    close(fd);
}
END_TEST

/* The sockets in the edge's epoll sets that it no longer has open: an
 * entry whose descriptor is closed, or now names another file. Read off
 * /proc/<pid>/fdinfo of each of its epoll descriptors ("tfd: N ... ino:
 * hex" a registered socket); the list goes to why. */
static int stale_epoll_entries(pid_t pid, char *why, size_t cap)
{
    char dir[64];
    (void)snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int stale = 0;
    why[0] = '\0';
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        char path[512], link[64] = {0};
        (void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (readlink(path, link, sizeof(link) - 1) <= 0 ||
            strcmp(link, "anon_inode:[eventpoll]") != 0)
            continue;
        (void)snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, de->d_name);
        char *info = h_read_file(path, NULL);
        if (info == NULL)
            continue; /* closed meanwhile */
        for (const char *t = strstr(info, "tfd:"); t != NULL; t = strstr(t + 1, "tfd:")) {
            long tfd = strtol(t + 4, NULL, 10);
            const char *ino = strstr(t, "ino:");
            unsigned long want = ino ? strtoul(ino + 4, NULL, 16) : 0;
            struct stat st;
            (void)snprintf(path, sizeof(path), "%s/%ld", dir, tfd);
            if (stat(path, &st) != 0 || (unsigned long)st.st_ino != want) {
                stale++;
                size_t used = strlen(why);
                (void)snprintf(why + used, cap - used, " fd %ld (ino %lx)", tfd, want);
            }
        }
        free(info);
    }
    closedir(d);
    return stale;
}

/* A refused connection closes lingering on a copy of its socket, which the
 * client, keeping its end open, keeps for up to a second; its own
 * descriptor must have left the loop's epoll set before it was closed. With
 * epoll's changelist (loops.c) a socket still in the set when its
 * descriptor closes stays there through the copy: its events wake the loop
 * for a descriptor the edge no longer has, or one a new connection got. */
START_TEST(refused_socket_leaves_epoll_set)
{
    int fd = connect_from("127.0.0.1", port);
    static const char bad[] = "GET /healthz x HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(bad) - 1);
    bool closed;
    char *all = h_read_until_close(fd, 5000, &closed); /* the edge shut its side */
    ck_assert_msg(closed && strncmp(all, "HTTP/1.1 400 ", 13) == 0, "%s", all);
    free(all);
    char why[1024];
    for (long long end = h_now_ms() + 300; h_now_ms() < end; usleep(20 * 1000)) {
        int stale = stale_epoll_entries(edge.pid, why, sizeof(why));
        ck_assert_msg(stale == 0, "the edge's epoll set holds closed sockets:%s", why);
    }
    close(fd);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/healthz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}
END_TEST

/* --- bodies where none is taken, connections per address (item 6) --- */

START_TEST(body_refused_unread)
{
    /* a huge length and no body: refused from the head, at once */
    refused("Content-Length on GET",
            "GET /api/Albums HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
    refused("Content-Length on DELETE",
            "DELETE /api/Albums/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    refused("chunked GET", "GET /api/Albums HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n");
    /* a length of 0 is no body */
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", "Content-Length: 0\r\n", &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}
END_TEST

static bool healthy_from(const char *from)
{
    int fd = connect_from(from, port);
    if (fd < 0)
        return false;
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    bool closed;
    char *all = h_read_until_close(fd, 5000, &closed);
    close(fd);
    bool ok = strncmp(all, "HTTP/1.1 200 ", 13) == 0;
    if (!ok)
        (void)fprintf(stderr, "from %s: %s\n", from, all);
    free(all);
    return ok;
}

START_TEST(connections_per_address)
{
    /* MAX_CONNECTIONS_PER_ADDRESS is 6, over both loops */
    int held[6];
    for (int i = 0; i < 6; i++) {
        held[i] = connect_from("127.0.0.1", port);
        ck_assert_int_ge(held[i], 0);
    }
    usleep(200000);
    int extra = connect_from("127.0.0.1", port);
    ck_assert_int_ge(extra, 0);
    bool closed;
    char *all = h_read_until_close(extra, 3000, &closed);
    close(extra);
    ck_assert_msg(strncmp(all, "HTTP/1.1 503 ", 13) == 0, "seventh: %s", all);
    ck_assert_msg(strstr(all, "\"overloaded\"") && strstr(all, "Retry-After: 1"), "%s", all);
    ck_assert_msg(strstr(all, "address") != NULL, "%s", all);
    ck_assert(closed);
    free(all);
    /* another address is another client */
    ck_assert(healthy_from("127.0.0.2"));
    /* the ones held keep working */
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(held[0], req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    all = h_read_until_close(held[0], 3000, &closed);
    ck_assert_msg(strncmp(all, "HTTP/1.1 200 ", 13) == 0, "held: %s", all);
    free(all);
    for (int i = 0; i < 6; i++)
        close(held[i]);
    /* closed ones are counted out */
    usleep(200000);
    ck_assert(healthy_from("127.0.0.1"));
}
END_TEST

/* --- out of file descriptors (item 6) --- */

/* The RLIMIT_NOFILE that leaves pid exactly `room` new descriptors: the
 * limit bounds descriptor numbers, and the lowest free number is taken. */
static rlim_t limit_for_room(pid_t pid, int room)
{
    char path[64];
    (void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    static bool used[65536];
    memset(used, 0, sizeof(used));
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    for (const struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        long fd = strtol(e->d_name, NULL, 10);
        if (e->d_name[0] != '.' && fd >= 0 && fd < 65536)
            used[fd] = true;
    }
    closedir(d);
    rlim_t n = 0;
    for (int free_ = 0; free_ < room; n++)
        free_ += !used[n];
    return n;
}

START_TEST(out_of_descriptors)
{
    struct proc small;
    const char *env[] = {"WARREN_EDGE_THREADS=1", "WARREN_HTTP_TIMEOUT_S=30", NULL};
    int sport = h_spawn_edge(&small, "edge-framing-fds", "t_framing", env);
    ck_assert_msg(h_wait_ready(sport, 15000), "edge not ready (see %s)", small.log);
    int was = port;
    port = sport;
    /* room for four more connections: the fifth and later find none */
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = limit_for_room(small.pid, 4);
    ck_assert_int_eq(prlimit(small.pid, RLIMIT_NOFILE, &rl, NULL), 0);
    /* connections are taken until the descriptors run out (a connection
     * the edge was still closing may have left one more than counted);
     * then a new client gets 503, at once */
    int held[8], n = 0;
    char *all = NULL;
    bool closed = false;
    while (all == NULL && n < 8) {
        int fd = connect_from("127.0.0.1", sport);
        ck_assert_int_ge(fd, 0);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) == 0) {
            held[n++] = fd;
            continue;
        }
        all = h_read_until_close(fd, 3000, &closed);
        close(fd);
    }
    /* a client more, left waiting: however the edge answers it, it does
     * not spin (a listener retrying a failed accept() at once would) */
    int waiting = connect_from("127.0.0.1", sport);
    usleep(200000);
    long long t0 = h_cpu_ticks(small.pid);
    usleep(2000000);
    long long used = h_cpu_ticks(small.pid) - t0;
    long hz = sysconf(_SC_CLK_TCK);
    (void)fprintf(stderr, "out of descriptors: %lld ticks of CPU in 2 s (%ld a second)\n", used,
                  hz);
    /* idle, it uses none; spinning, even a core shared with others' load
     * gives it far more than a tenth */
    ck_assert_msg(used < hz / 5, "the edge used %lld ticks in 2 s (a busy core: %ld)", used,
                  2 * hz);
    if (waiting >= 0)
        close(waiting);
    ck_assert_msg(all != NULL, "no refusal after %d connections (see %s)", n, small.log);
    ck_assert_msg(n >= 4, "refused after %d connections", n);
    ck_assert_msg(strncmp(all, "HTTP/1.1 503 ", 13) == 0, "out of fds: %s (see %s)", all,
                  small.log);
    ck_assert_msg(strstr(all, "\"overloaded\"") && strstr(all, "Retry-After: 1"), "%s", all);
    free(all);
    /* the connections it has are served */
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(held[0], req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    all = h_read_until_close(held[0], 3000, &closed);
    ck_assert_msg(strncmp(all, "HTTP/1.1 200 ", 13) == 0, "held: %s", all);
    free(all);
    for (int i = 0; i < n; i++)
        close(held[i]);
    /* and once descriptors are free again, new ones too */
    bool back = false;
    for (int i = 0; i < 30 && !back; i++) {
        back = healthy_from("127.0.0.1");
        if (!back)
            usleep(100000);
    }
    port = was;
    ck_assert_msg(back, "the edge did not take connections again (see %s)", small.log);
    ck_assert_int_eq(h_stop(&small, SIGTERM), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("framing");
    TCase *t = tcase_create("framing");
    tcase_set_timeout(t, 120);
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_add_test(t, framing_refused);
    tcase_add_test(t, pipelines_still_served);
    tcase_add_test(t, answers_sent_without_delay);
    tcase_add_test(t, continue_before_the_body);
    tcase_add_test(t, absolute_form_kept_alive);
    tcase_add_test(t, options_asterisk_answered);
    tcase_add_test(t, refused_socket_leaves_epoll_set);
    tcase_add_test(t, answered_before_a_refusal);
    tcase_add_test(t, body_refused_unread);
    tcase_add_test(t, connections_per_address);
    tcase_add_test(t, out_of_descriptors);
    suite_add_tcase(s, t);
    return h_verdict(run_suite(s, false));
}
