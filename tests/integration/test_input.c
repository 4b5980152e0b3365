/* Bad input and production hygiene at the edge (issue 5): every malformed
 * request gets a 4xx JSON error that names the problem, nothing of it is
 * published (an edge with no worker, whose queue must stay empty), and every
 * process stays up; searches that reach a worker match values literally and
 * refuse names that are not the schema's; oversize requests, ambiguous
 * framing, dribbling clients and too many connections; API keys for writes.
 * Raw sockets where the harness's client cannot say the request. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

static int bare_port;   /* an edge with no worker: nothing may reach its queue */
static int served_port; /* an edge and a worker */
#define BARE_QUEUE "warren.t_input_bare"

extern char **environ;

static struct proc bare, edge, worker;
static char spool_dir[300];

static void setup(void)
{
    static char spool[400];
    (void)snprintf(spool_dir, sizeof(spool_dir), "%s/input-spool", h_env("WRT_STATE_DIR"));
    (void)snprintf(spool, sizeof(spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool_dir);
    /* A long deadline: a request published by mistake stays in the queue. */
    const char *bare_env[] = {"WARREN_REQUEST_TIMEOUT_MS=60000", "WARREN_HTTP_TIMEOUT_S=2",
                              "WARREN_MAX_CONNECTIONS=8",
                              /* four loops: the caps count over all of them */
                              "WARREN_EDGE_THREADS=4", "WARREN_MAX_BODY_BYTES=4096",
                              "WARREN_MAX_URI_BYTES=2048", "WARREN_MAX_HEADER_BYTES=2048", NULL};
    bare_port = h_spawn_edge(&bare, "edge-input-bare", "t_input_bare", bare_env);
    const char *served_env[] = {"WARREN_COLLECTIONS=Albums, Artists",
                                "WARREN_Albums__EXCLUDE=artist_id", spool, NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-input", 0, "t_input", served_env);
    served_port = h_spawn_edge(&edge, "edge-input", "t_input", served_env);
    ck_assert_msg(h_wait_ready(bare_port, 15000), "edge not ready (see %s)", bare.log);
    ck_assert_msg(h_wait_ready(served_port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    /* the bare edge would drain its one published request for 60 s */
    (void)h_stop(&bare, SIGKILL);
    int edge_rc = h_stop(&edge, SIGTERM);
    int worker_rc = h_stop(&worker, SIGTERM);
    (void)h_servers_ctl("delete_queue " BARE_QUEUE);
    ck_assert_int_eq(edge_rc, 0);
    ck_assert_int_eq(worker_rc, 0);
}

/* --- helpers --- */

static int connect_to(int port)
{
    int fd = h_connect(port, 0);
    ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
    return fd;
}

/* Sends len raw bytes and parses the answer into r (status, headers, body). */
static void raw(int port, const char *req, size_t len, struct http_resp *r)
{
    memset(r, 0, sizeof(*r));
    int fd = connect_to(port);
    /* a refused request may be answered before all of it is sent */
    ssize_t w = send(fd, req, len, MSG_NOSIGNAL);
    ck_assert_msg(w > 0, "send: %s", strerror(errno));
    bool closed;
    char *all = h_read_until_close(fd, 5000, &closed);
    close(fd);
    char *sep = strstr(all, "\r\n\r\n");
    ck_assert_msg(sep != NULL && sscanf(all, "HTTP/1.%*d %d", &r->status) == 1,
                  "no HTTP answer to %.80s: %s", req, all);
    (void)snprintf(r->headers, sizeof(r->headers), "%.*s", (int)(sep - all), all);
    r->body = strdup(sep + 4);
    r->len = strlen(r->body);
    free(all);
}

/* Asserts r is the JSON error {code, message} with this status and code,
 * and that the message mentions `names` (NULL: anything). */
static void assert_error(const char *what, const struct http_resp *r, int status, const char *code,
                         const char *names)
{
    ck_assert_msg(r->status == status, "%s: %d, want %d: %s", what, r->status, status, r->body);
    char ct[64];
    ck_assert_msg(h_header(r, "Content-Type", ct, sizeof(ct)), "%s: no Content-Type", what);
    ck_assert_str_eq(ct, "application/json");
    json_error_t jerr;
    json_t *j = json_loads(r->body, JSON_REJECT_DUPLICATES, &jerr);
    ck_assert_msg(j != NULL, "%s: not JSON: %s", what, r->body);
    ck_assert_int_eq(json_object_size(j), 2);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
    const char *msg = json_string_value(json_object_get(j, "message"));
    ck_assert_msg(msg != NULL && (names == NULL || strstr(msg, names) != NULL),
                  "%s: message %s does not name %s", what, msg ? msg : "(none)", names);
    json_decref(j);
}

static void get_error(int port, const char *path, const char *headers, int status, const char *code,
                      const char *names)
{
    struct http_resp r;
    ck_assert_msg(h_http(port, "GET", path, headers, &r, 5000) == 0, "GET %s: no answer", path);
    assert_error(path, &r, status, code, names);
    h_http_free(&r);
}

static void raw_error(int port, const char *req, size_t len, int status, const char *code,
                      const char *names)
{
    struct http_resp r;
    raw(port, req, len, &r);
    assert_error(req, &r, status, code, names);
    h_http_free(&r);
}

#define RAW_ERROR(port, lit, status, code, names)                                                  \
    raw_error(port, lit, sizeof(lit) - 1, status, code, names)

static bool alive(const struct proc *p)
{
    return p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0;
}

static void assert_all_up(void)
{
    ck_assert(alive(&bare));
    ck_assert(alive(&edge));
    ck_assert(alive(&worker));
    struct http_resp r;
    ck_assert_int_eq(h_http(bare_port, "GET", "/healthz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    ck_assert_int_eq(h_http(served_port, "GET", "/healthz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}

/* The messages in queue, from rabbitmqctl list_queues; -1 if absent. */
static long queue_messages(const char *queue)
{
    char out[400];
    (void)snprintf(out, sizeof(out), "%s/input-queues.txt", h_env("WRT_STATE_DIR"));
    char *argv[] = {"bash",        (char *)h_env("WRT_SERVERS_SH"),
                    "rabbitmqctl", (char *)h_env("WRT_STATE_DIR"),
                    "list_queues", "-q",
                    "name",        "messages",
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    ck_assert_int_eq(posix_spawnp(&pid, "bash", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    waitpid(pid, &status, 0);
    char *text = h_read_file(out, NULL);
    ck_assert_ptr_nonnull(text);
    long n = -1;
    size_t qlen = strlen(queue);
    for (char *line = text; line != NULL && *line;) {
        if (strncmp(line, queue, qlen) == 0 && (line[qlen] == '\t' || line[qlen] == ' '))
            n = strtol(line + qlen + 1, NULL, 10);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    free(text);
    return n;
}

/* Nothing the bare edge refused reached its queue: one request it does
 * publish shows up as the only message (counts lag, so poll for it). */
static void assert_nothing_published(void)
{
    struct http_resp r;
    (void)h_http(bare_port, "GET", "/api/Albums?page=1", NULL, &r, 300); /* waits 60 s: give up */
    h_http_free(&r);
    long n = -1;
    for (int i = 0; i < 100 && n != 1; i++) {
        n = queue_messages(BARE_QUEUE);
        if (n != 1)
            usleep(100000);
    }
    ck_assert_msg(n == 1, BARE_QUEUE " holds %ld messages, want only the one published", n);
}

/* --- malformed requests, refused by the edge --- */

START_TEST(malformed_search_and_parameters)
{
    struct {
        const char *path, *names;
    } bad[] = {
        {"/api/Albums?q=%7Bx", "q: not valid JSON"},
        {"/api/Albums?q=%7B%22limit%22:1,%22limit%22:2%7D", "duplicate"},
        {"/api/Albums?q=%7B%22a%22:%22%FF%22%7D", "q:"},
        {"/api/Albums?q=%7B%22a%22:%22%00%22%7D", "q:"},
        {"/api/Albums?q=%7B%22a%22:%22%5Cu0000%22%7D", "q:"},
        {"/api/Albums?q=%5B1%5D", "q: must be a JSON object"},
        {"/api/Albums?sort=%FF", "UTF-8"},
        {"/api/Albums?sort=%00", "NUL"},
        {"/api/Albums?x%00=1", "UTF-8"},
        {"/api/Albums?page=99999999999999999999", "page"},
        {"/api/Albums?page=-1", "page"},
        {"/api/Albums?page=0", "page"},
        {"/api/Albums?page=1.5", "page"},
        {"/api/Albums?page=0x10", "page"},
        {"/api/Albums?page=1e3", "page"},
        {"/api/Albums?results_per_page=9223372036854775808", "results_per_page"},
        {"/api/Albums?results_per_page=-5", "results_per_page"},
        {"/api/Albums?results_per_page=0", "results_per_page"},
        {"/api/Albums?results_per_page=0.5", "results_per_page"},
        {"/api/Albums?results_per_page=0xff", "results_per_page"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        get_error(bare_port, bad[i].path, NULL, 400, "bad_parameter", bad[i].names);
    /* JSON nested deeper than MAX_JSON_DEPTH (16): 17 levels */
    char q[256];
    int qn = snprintf(q, sizeof(q), "/api/Albums?q=%%7B%%22filters%%22:");
    for (int i = 0; i < 32; i++)
        qn += snprintf(q + qn, sizeof(q) - (size_t)qn, i < 16 ? "%%5B" : "%%5D");
    (void)snprintf(q + qn, sizeof(q) - (size_t)qn, "%%7D");
    get_error(bare_port, q, NULL, 400, "bad_parameter", "deeper than 16");
    /* an in list over MAX_IN_VALUES (500) */
    size_t cap = 8192, n = 0;
    char *in = malloc(cap);
    ck_assert_ptr_nonnull(in);
    n += (size_t)snprintf(in, cap,
                          "/api/Albums?q={\"filters\":[{\"name\":\"album_id\",\"op\":"
                          "\"in\",\"val\":[");
    for (int i = 0; i < 501; i++)
        n += (size_t)snprintf(in + n, cap - n, i ? ",%d" : "%d", i % 10);
    (void)snprintf(in + n, cap - n, "]}]}");
    /* a URI this long needs the served edge's default MAX_URI_BYTES */
    get_error(served_port, in, NULL, 400, "bad_parameter", "501 values");
    free(in);
    assert_all_up();
}
END_TEST

START_TEST(malformed_paths)
{
    static const char *const bad[] = {
        "GET /api/Albums/%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/Albums/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/Albums/%C0%AF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/Albums/1%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/%00/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        raw_error(bare_port, bad[i], strlen(bad[i]), 404, "not_found", "UTF-8");
    /* dot segments and encoded slashes never change the route */
    static const char *const nowhere[] = {"/api/../healthz",        "/api/%2e%2e/healthz",
                                          "/api/Albums/..",         "/api/Albums%2F1",
                                          "/api/Albums/1%2F..%2F2", "/api/Albums/%2e"};
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++)
        get_error(bare_port, nowhere[i], NULL, 404, "not_found", "no such");
    assert_all_up();
}
END_TEST

/* A POST of len body bytes with the API key, refused as asked. */
static void post_error(const char *body, size_t len, int status, const char *code,
                       const char *names)
{
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "POST /api/Albums HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" H_AUTH
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     len);
    ck_assert(n > 0 && (size_t)n + len < sizeof(req));
    memcpy(req + n, body, len);
    raw_error(bare_port, req, (size_t)n + len, status, code, names);
}

#define POST_ERROR(lit, status, code, names) post_error(lit, sizeof(lit) - 1, status, code, names)

START_TEST(malformed_bodies)
{
    POST_ERROR("{\"title\":\"\xff\"}", 400, "bad_request", "body:");
    POST_ERROR("{\"title\":\"\xc0\xaf\"}", 400, "bad_request", "body:");
    POST_ERROR("{\"title\":\"\0\"}", 400, "bad_request", "body:");
    POST_ERROR("{\"title\":\"\\u0000\"}", 400, "bad_request", "body:");
    POST_ERROR("{\"a\":1,\"a\":2}", 400, "bad_request", "duplicate");
    POST_ERROR("{\"a\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}", 400, "bad_request", "deeper than 16");
    /* neither an object nor a list (a list is a bulk create: test_bulk.c) */
    POST_ERROR("7", 400, "bad_request", "body:");
    assert_all_up();
}
END_TEST

/* --- sizes and framing: libevent's own refusals come out as JSON too --- */

START_TEST(oversize_and_framing)
{
    size_t cap = 64 * 1024;
    char *req = malloc(cap);
    ck_assert_ptr_nonnull(req);
    /* a request target over MAX_URI_BYTES (2048): just over, and far past
     * libevent's backstop */
    size_t sizes[] = {3000, 40000};
    for (size_t k = 0; k < 2; k++) {
        int n = snprintf(req, cap, "GET /api/Albums/");
        for (size_t i = 0; i < sizes[k]; i++)
            req[n++] = '1';
        n +=
            snprintf(req + n, cap - (size_t)n, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        raw_error(bare_port, req, (size_t)n, 414, "uri_too_long", "2048");
    }
    /* headers over MAX_HEADER_BYTES (2048): one big, then many small */
    char big[2200];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (size_t k = 0; k < 2; k++) {
        int n = snprintf(req, cap, "GET /api/Albums HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < (k == 0 ? 1 : 2000); i++)
            n += snprintf(req + n, cap - (size_t)n, "X-H%d: %s\r\n", i, k == 0 ? big : "v");
        n += snprintf(req + n, cap - (size_t)n, "Connection: close\r\n\r\n");
        raw_error(bare_port, req, (size_t)n, 431, "headers_too_large", "2048");
    }
    free(req);
    /* a body over MAX_BODY_BYTES (4096) is refused from its length, unread */
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" H_AUTH
              "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
              413, "payload_too_large", "4096");
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" H_AUTH
              "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
              "100000\r\n{",
              413, "payload_too_large", "4096");
    /* framing that two parsers could read two ways is never taken */
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\n" H_AUTH
              "Content-Type: application/json\r\nContent-Length: 2\r\n"
              "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
              400, "bad_request", NULL);
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\n" H_AUTH
              "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
              400, "bad_request", "Content-Length");
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\n" H_AUTH
              "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
              "2\r\n{}\r\n0\r\n\r\n",
              400, "bad_request", NULL);
    /* a CR inside a header value is refused, never reflected */
    struct http_resp r;
    static const char cr[] = "GET /api/Albums HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "X-Request-Id: 0123456789abcdef0123456789abcdef\rSet-Cookie: a=b\r\n"
                             "Origin: http://x\rSet-Cookie: c=d\r\n\r\n";
    raw(bare_port, cr, sizeof(cr) - 1, &r);
    assert_error("CR in a header", &r, 400, "bad_request", NULL);
    ck_assert_ptr_null(strstr(r.headers, "Set-Cookie"));
    h_http_free(&r);
    /* an unparseable request line */
    RAW_ERROR(bare_port, "GET\r\n\r\n", 400, "bad_request", NULL);
    /* HTTP/1.1 without Host (RFC 9112 3.2); HTTP/1.0 needs none */
    RAW_ERROR(bare_port, "GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request", "no Host");
    static const char old[] = "GET /healthz HTTP/1.0\r\n\r\n";
    raw(bare_port, old, sizeof(old) - 1, &r);
    ck_assert_msg(r.status == 200, "HTTP/1.0 without Host: %d %s", r.status, r.body);
    h_http_free(&r);
    assert_all_up();
}
END_TEST

/* A method HTTP/1.1 does not define (methods are case-sensitive: "get"
 * is not GET) is 501 in JSON, and every status line the edge writes has
 * RFC 9110's reason phrase: libevent's own would say "501 Bad Request"
 * here, "413 Request Entity Too Large", "429 Client Error". */
static void status_line_is(const char *req, size_t len, const char *want)
{
    struct http_resp r;
    raw(bare_port, req, len, &r);
    size_t n = strcspn(r.headers, "\r\n");
    ck_assert_msg(strlen(want) == n && strncmp(r.headers, want, n) == 0, "%.40s: %.*s, want %s",
                  req, (int)n, r.headers, want);
    h_http_free(&r);
}

START_TEST(unknown_method_and_reason_phrases)
{
    RAW_ERROR(bare_port, "BREW /api/Albums HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not_implemented",
              "case-sensitive");
    RAW_ERROR(bare_port, "get /api/Albums HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not_implemented",
              "GET");
    static const char brew[] = "BREW /api/Albums HTTP/1.1\r\nHost: x\r\n\r\n";
    status_line_is(brew, sizeof(brew) - 1, "HTTP/1.1 501 Not Implemented");
    static const char big[] = "POST /api/Albums HTTP/1.1\r\nHost: x\r\n" H_AUTH
                              "Content-Type: application/json\r\nContent-Length: 9000\r\n\r\n{";
    status_line_is(big, sizeof(big) - 1, "HTTP/1.1 413 Content Too Large");
    char req[4200];
    int n = snprintf(req, sizeof(req), "GET /api/Albums/%03000d HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    status_line_is(req, (size_t)n, "HTTP/1.1 414 URI Too Long");
    static const char lost[] = "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    status_line_is(lost, sizeof(lost) - 1, "HTTP/1.1 404 Not Found");
    assert_all_up();
}
END_TEST

/* HTTP/2's prior-knowledge preface and other versions: 505, closed; an
 * unknown minor version of 1 stays a malformed line. */
START_TEST(other_http_versions)
{
    RAW_ERROR(bare_port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "version_not_supported",
              "HTTP/1.1");
    static const char two[] = "GET /api/Albums HTTP/2.0\r\nHost: x\r\n\r\n";
    status_line_is(two, sizeof(two) - 1, "HTTP/1.1 505 HTTP Version Not Supported");
    RAW_ERROR(bare_port, "GET /api/Albums HTTP/1.2\r\nHost: x\r\n\r\n", 400, "bad_request",
              "request line");
    assert_all_up();
}
END_TEST

/* --- slow clients and too many of them --- */

START_TEST(dribbling_client_is_cut)
{
    /* one byte every 300 ms: libevent's inactivity timeout would never
     * fire; HTTP_TIMEOUT_S (2) bounds the whole head */
    int fd = connect_to(bare_port);
    static const char head[] = "GET /api/Albums HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaa";
    long long t0 = h_now_ms();
    bool cut = false;
    for (size_t i = 0; i < sizeof(head) - 1 && !cut; i++) {
        if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1) {
            cut = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 300) > 0) {
            char c;
            cut = read(fd, &c, 1) <= 0;
        }
    }
    long long took = h_now_ms() - t0;
    close(fd);
    ck_assert_msg(cut, "a client dribbling its head was not cut in %lld ms", took);
    ck_assert_msg(took < 5000, "cut after %lld ms (HTTP_TIMEOUT_S is 2)", took);
    /* an idle connection is closed too */
    fd = connect_to(bare_port);
    bool closed;
    free(h_read_until_close(fd, 5000, &closed));
    close(fd);
    ck_assert_msg(closed, "an idle connection stayed open");
    assert_all_up();
}
END_TEST

/* A kept-alive connection waits for its next request REQUEST_TIMEOUT_MS +
 * HTTP_TIMEOUT_S after the last one came (1.5 s here), then is closed: a
 * second request 0.5 s after the first is answered on it, and the
 * connection ends by itself after. */
START_TEST(idle_after_an_answer_is_closed)
{
    const char *env[] = {"WARREN_REQUEST_TIMEOUT_MS=500", "WARREN_HTTP_TIMEOUT_S=1",
                         "WARREN_EDGE_THREADS=1", NULL};
    struct proc brief;
    int port = h_spawn_edge(&brief, "edge-input-brief", "t_input_brief", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", brief.log);
    int fd = connect_to(port);
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(get) - 1));
    usleep(500000);
    ck_assert_int_eq(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(get) - 1));
    long long t0 = h_now_ms();
    bool closed;
    char *got = h_read_until_close(fd, 8000, &closed);
    long long took = h_now_ms() - t0;
    close(fd);
    ck_assert_msg(closed, "an idle kept-alive connection stayed open %lld ms", took);
    const char *second = strstr(got, "HTTP/1.1 200");
    ck_assert_msg(second != NULL && strstr(second + 1, "HTTP/1.1 200") != NULL,
                  "not both answered: %s", got);
    free(got);
    ck_assert_int_eq(h_stop(&brief, SIGTERM), 0);
}
END_TEST

START_TEST(connection_cap)
{
    int held[8];
    for (int i = 0; i < 8; i++)
        held[i] = connect_to(bare_port);
    usleep(100000);
    /* the ninth is refused at once, in JSON */
    struct http_resp r;
    long long t0 = h_now_ms();
    ck_assert_int_eq(h_http(bare_port, "GET", "/healthz", NULL, &r, 2000), 0);
    assert_error("ninth connection", &r, 503, "overloaded", "connections");
    h_http_free(&r);
    ck_assert_int_lt(h_now_ms() - t0, 1000);
    /* the ones held keep working */
    static const char health[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(held[0], health, sizeof(health) - 1, MSG_NOSIGNAL),
                     (ssize_t)sizeof(health) - 1);
    bool closed;
    char *answer = h_read_until_close(held[0], 2000, &closed);
    ck_assert_msg(strncmp(answer, "HTTP/1.1 200", 12) == 0, "held connection: %s", answer);
    free(answer);
    for (int i = 0; i < 8; i++)
        close(held[i]);
    usleep(100000);
    assert_all_up(); /* a new connection is taken again */
}
END_TEST

/* The loops share the port (SO_REUSEPORT), but another edge may not join
 * them: it exits at once, and the first keeps the port to itself. */
START_TEST(port_taken_by_an_edge)
{
    struct proc second;
    const char *env[] = {"WARREN_EDGE_THREADS=2", NULL};
    h_spawn_warren(&second, WARREN_EDGE_BIN, "edge-input-second", bare_port, "t_input_bare", env);
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 200 && r == 0; i++) {
        r = waitpid(second.pid, &status, WNOHANG);
        if (r == 0)
            usleep(50000);
    }
    if (r == 0)
        (void)h_stop(&second, SIGKILL);
    ck_assert_msg(r == second.pid && WIFEXITED(status) && WEXITSTATUS(status) == 1,
                  "a second edge on a taken port did not exit 1 (see %s)", second.log);
    char *log = h_read_file(second.log, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "Address already in use") != NULL, "%s", log);
    free(log);
    assert_all_up();
}
END_TEST

/* --- searches that reach the worker --- */

static json_t *search(const char *q, int status)
{
    char *enc = malloc(strlen(q) * 3 + 64);
    ck_assert_ptr_nonnull(enc);
    size_t n = (size_t)snprintf(enc, 64, "/api/Albums?results_per_page=100&q=");
    for (const unsigned char *p = (const unsigned char *)q; *p; p++)
        n += (size_t)snprintf(enc + n, 4, "%%%02X", *p);
    struct http_resp r;
    ck_assert_int_eq(h_http(served_port, "GET", enc, NULL, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s: %d, want %d: %s", q, r.status, status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    h_http_free(&r);
    free(enc);
    return j;
}

static long long found(const char *q)
{
    json_t *j = search(q, 200);
    long long n = json_integer_value(json_object_get(j, "num_results"));
    json_decref(j);
    return n;
}

static void refused(const char *q, const char *names)
{
    json_t *j = search(q, 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
    const char *msg = json_string_value(json_object_get(j, "message"));
    ck_assert_msg(strstr(msg, names) != NULL, "%s: message %s does not name %s", q, msg, names);
    json_decref(j);
}

START_TEST(values_are_literal_names_are_the_schemas)
{
    /* a quote in a value is matched, not interpreted */
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":\"Up An' "
                           "Atom\"}]}"),
                     1);
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":\"x' OR "
                           "'1'='1\"}]}"),
                     0);
    /* == compares; % and _ in its value are characters, not wildcards */
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":\"B%\"}]}"), 0);
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"!=\",\"val\":\"_\"}]}"),
                     347);
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"in\",\"val\":[\"%\","
                           "\"Up An' Atom\"]}]}"),
                     1);
    /* like takes the caller's pattern, as Flask-Restless does */
    ck_assert_int_eq(found("{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"B%\"}]}"),
                     35);
    /* names: unknown, hidden (Albums.EXCLUDE = artist_id), or SQL */
    refused("{\"filters\":[{\"name\":\"nope\",\"op\":\"==\",\"val\":1}]}", "nope");
    refused("{\"filters\":[{\"name\":\"artist_id\",\"op\":\"==\",\"val\":1}]}", "artist_id");
    refused("{\"order_by\":[{\"field\":\"artist_id\"}]}", "artist_id");
    refused("{\"filters\":[{\"name\":\"title\\\" OR 1=1 --\",\"op\":\"==\",\"val\":1}]}",
            "title\" OR 1=1");
    refused("{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"field\":\"(SELECT 1)\"}]}",
            "(SELECT 1)");
    refused("{\"filters\":[{\"name\":\"title\",\"op\":\"; DROP TABLE albums\",\"val\":1}]}",
            "DROP TABLE");
    ck_assert_int_eq(found("{}"), 347); /* the table is still there */
    assert_all_up();
}
END_TEST

/* --- API keys --- */

START_TEST(writes_need_a_key)
{
    struct http_resp r;
    /* no key: 401 with WWW-Authenticate */
    ck_assert_int_eq(h_http(bare_port, "DELETE", "/api/Albums/1", NULL, &r, 5000), 0);
    assert_error("no key", &r, 401, "unauthorized", "API key");
    char v[128];
    ck_assert(h_header(&r, "WWW-Authenticate", v, sizeof(v)));
    ck_assert_str_eq(v, "Bearer realm=\"warren\"");
    h_http_free(&r);
    RAW_ERROR(bare_port,
              "POST /api/Albums HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
              401, "unauthorized", NULL);
    /* another scheme: 401; a wrong key, even one that shares a prefix: 403 */
    ck_assert_int_eq(h_http(bare_port, "DELETE", "/api/Albums/1",
                            "Authorization: Basic dGVzdHM6eA==\r\n", &r, 5000),
                     0);
    assert_error("basic", &r, 401, "unauthorized", NULL);
    h_http_free(&r);
    ck_assert_int_eq(
        h_http(bare_port, "DELETE", "/api/Albums/1", "Authorization: Bearer \r\n", &r, 5000), 0);
    assert_error("empty key", &r, 401, "unauthorized", NULL);
    h_http_free(&r);
    static const char *const wrong[] = {"Authorization: Bearer warren-tests-key-012345678\r\n",
                                        "Authorization: Bearer " H_API_KEY "0\r\n",
                                        "Authorization: Bearer tests\r\n"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        ck_assert_int_eq(h_http(bare_port, "DELETE", "/api/Albums/1", wrong[i], &r, 5000), 0);
        assert_error(wrong[i], &r, 403, "forbidden", "not valid");
        h_http_free(&r);
    }
    /* a read with a wrong key is refused too; reads need none */
    get_error(bare_port, "/api/Albums", "Authorization: Bearer not-the-key-at-all\r\n", 403,
              "forbidden", NULL);
    assert_all_up();
}
END_TEST

/* After every refusal above, the bare edge's queue holds nothing. */
START_TEST(nothing_was_published)
{
    assert_nothing_published();
}
END_TEST

START_TEST(no_keys_no_writes)
{
    struct proc nokeys;
    const char *env[] = {"WARREN_API_KEYS=", NULL};
    int port = h_spawn_edge(&nokeys, "edge-input-nokeys", "t_input_bare", env);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", nokeys.log);
    struct http_resp r;
    ck_assert_int_eq(
        h_http(port, "POST", "/api/Albums", "Content-Type: application/json\r\n", &r, 5000), 0);
    int rc = h_stop(&nokeys, SIGTERM);
    assert_error("no API_KEYS", &r, 403, "forbidden", "API_KEYS");
    h_http_free(&r);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* The audit record's principal is the key's name, never the key. */
START_TEST(principal_is_the_key_name)
{
    static const char rid[] = "f00dfeedf00dfeedf00dfeedf00dfeed";
    struct http_resp r;
    ck_assert_int_eq(h_http(served_port, "GET", "/api/Albums/1",
                            H_AUTH "X-Request-Id: f00dfeedf00dfeedf00dfeedf00dfeed\r\n", &r, 10000),
                     0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    /* the record is in the worker's spool once the reply went out */
    bool seen = false;
    for (int i = 0; i < 50 && !seen; i++) {
        char path[400];
        (void)snprintf(path, sizeof(path), "%s/audit-00.spool", spool_dir);
        char *text = h_read_file(path, NULL);
        const char *rec = text ? strstr(text, rid) : NULL;
        if (rec != NULL) {
            /* the id is the record's request_id, not its first member */
            while (rec > text && rec[-1] != '\n')
                rec--;
            const char *end = strchr(rec, '\n');
            size_t len = end ? (size_t)(end - rec) : strlen(rec);
            char *line = strndup(rec, len);
            ck_assert_msg(strstr(line, "\"principal\":\"tests\"") != NULL, "record: %s", line);
            ck_assert_ptr_null(strstr(line, H_API_KEY));
            free(line);
            seen = true;
        }
        free(text);
        if (!seen)
            usleep(100000);
    }
    ck_assert_msg(seen, "no audit record for %s in %s", rid, spool_dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("input");
    TCase *t = tcase_create("input");
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, malformed_search_and_parameters);
    tcase_add_test(t, malformed_paths);
    tcase_add_test(t, malformed_bodies);
    tcase_add_test(t, writes_need_a_key);
    tcase_add_test(t, oversize_and_framing);
    tcase_add_test(t, unknown_method_and_reason_phrases);
    tcase_add_test(t, other_http_versions);
    tcase_add_test(t, dribbling_client_is_cut);
    tcase_add_test(t, idle_after_an_answer_is_closed);
    tcase_add_test(t, connection_cap);
    tcase_add_test(t, port_taken_by_an_edge);
    tcase_add_test(t, nothing_was_published);
    tcase_add_test(t, values_are_literal_names_are_the_schemas);
    tcase_add_test(t, no_keys_no_writes);
    tcase_add_test(t, principal_is_the_key_name);
    suite_add_tcase(s, t);
    return run_suite(s, false);
}
