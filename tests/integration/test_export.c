/* Issue 14, item 6, end to end over a copy of Chinook with a big table
 * (export_check.py prepares it and reads the exports as an HTTP client
 * would): CSV of every track checked by Python's csv module against a
 * direct query, a field with comma, quote, CR and LF round-tripping,
 * NDJSON with q, the row cap and the deadline ending detectably, a slow
 * reader not growing the edge, a worker killed mid-export, errors before
 * the first byte (406, 400, 404) as JSON, the audit records, and the same
 * chunks through the RPC client. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define SERVICE "t_export"

static int port;
static struct proc edge, worker, worker2;
static char db[512], spool[2][512];
static char env_db[600];

/* Runs export_check.py with args (NULL-ended); its exit status. */
static int check_py(const char *const *args)
{
    const char *argv[16] = {"/usr/bin/python3", WARREN_EXPORT_CHECK};
    size_t n = 2;
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void spawn_worker(struct proc *p, int i)
{
    static char env_spool[2][600];
    (void)snprintf(spool[i], sizeof(spool[i]), "%s/spool-export-%d", h_env("WRT_STATE_DIR"), i);
    h_empty_dir(spool[i]);
    (void)snprintf(env_spool[i], sizeof(env_spool[i]), "WARREN_AUDIT_SPOOL_DIR=%s", spool[i]);
    const char *extra[] = {env_db, env_spool[i], NULL};
    h_spawn_warren(p, WARREN_CATALOG_BIN, i == 0 ? "catalog-export" : "catalog-export-2", 0,
                   SERVICE, extra);
}

static void setup(void)
{
    h_copy_db("export-chinook", db, sizeof(db));
    const char *prep[] = {"prepare", db, NULL};
    ck_assert_int_eq(check_py(prep), 0);
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    spawn_worker(&worker, 0);
    spawn_worker(&worker2, 1);
    const char *extra[] = {env_db, NULL};
    port = h_spawn_edge(&edge, "edge-export", SERVICE, extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    h_stop(&worker2, SIGTERM); /* killed by a test: its status says nothing */
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* An edge of the test's service with more settings; its port. */
static int extra_edge(struct proc *p, const char *tag, const char *setting)
{
    const char *extra[] = {env_db, setting, NULL};
    int at = h_spawn_edge(p, tag, SERVICE, extra);
    ck_assert_msg(h_wait_ready(at, 15000), "edge not ready (see %s)", p->log);
    return at;
}

static void port_text(int p, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%d", p);
}

/* Every track as CSV equals the database's rows (the csv module's
 * reading of it), the tricky name included; NDJSON with q, line by line. */
START_TEST(csv_and_ndjson_equal_the_database)
{
    char p[16];
    port_text(port, p, sizeof(p));
    const char *csv[] = {"csv", p, db, NULL};
    ck_assert_int_eq(check_py(csv), 0);
    const char *ndjson[] = {"ndjson", p, db, "1", NULL};
    ck_assert_int_eq(check_py(ndjson), 0);
}
END_TEST

static void assert_error(const char *path, const char *headers, int status, const char *code)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, headers, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s: %d, want %d: %s", path, r.status, status, r.body);
    char ct[64];
    ck_assert(h_header(&r, "Content-Type", ct, sizeof(ct)));
    ck_assert_str_eq(ct, "application/json");
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "%s: %s", path, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
    json_decref(j);
    h_http_free(&r);
}

/* What fails before the first byte is JSON with its status; what a
 * browser sends still gets JSON. */
START_TEST(errors_before_the_first_byte)
{
    assert_error("/api/Tracks", "Accept: text/html\r\n", 406, "not_acceptable");
    assert_error("/api/Tracks/1", "Accept: text/html\r\n", 406, "not_acceptable");
    assert_error("/api/Tracks/1", "Accept: text/csv\r\n", 406, "not_acceptable");
    assert_error("/api/Tracks?format=xml", NULL, 400, "bad_parameter");
    assert_error("/api/Tracks?format=csv&page=2", NULL, 400, "bad_parameter");
    assert_error("/api/Tracks?q=%7B%22filters%22%3A5%7D", "Accept: text/csv\r\n", 400,
                 "bad_parameter");
    assert_error("/api/Tracks?q=%7B%22limit%22%3A5%7D", "Accept: text/csv\r\n", 400,
                 "bad_parameter");
    assert_error("/api/Nothing", "Accept: application/x-ndjson\r\n", 404, "not_found");
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Tracks/1",
                            "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n", &r, 10000),
                     0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/api/Genres?format=ndjson&fields=name", NULL, &r, 10000),
                     0);
    /* h_http leaves the chunked encoding as it came: look inside it */
    bool narrowed = r.status == 200 &&
                    strstr(r.body, "{\"name\":\"Rock\"}\n{\"name\":\"Jazz\"}\n") &&
                    !strstr(r.body, "genre_id");
    h_http_free(&r);
    ck_assert(narrowed);
}
END_TEST

/* EXPORT_MAX_ROWS: CSV cut without the chunked end, NDJSON ended by an
 * error line; both after exactly the cap's rows. */
START_TEST(row_cap_says_so)
{
    struct proc e;
    int at = extra_edge(&e, "edge-export-cap", "WARREN_EXPORT_MAX_ROWS=7500");
    char p[16];
    port_text(at, p, sizeof(p));
    const char *csv[] = {"cap", p, "csv", "7500", NULL};
    ck_assert_int_eq(check_py(csv), 0);
    const char *ndjson[] = {"cap", p, "ndjson", "7500", NULL};
    ck_assert_int_eq(check_py(ndjson), 0);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0);
}
END_TEST

/* EXPORT_TIMEOUT_MS over a slow reader: an NDJSON error line. */
START_TEST(deadline_says_so)
{
    struct proc e;
    int at = extra_edge(&e, "edge-export-deadline", "WARREN_EXPORT_TIMEOUT_MS=2000");
    char p[16];
    port_text(at, p, sizeof(p));
    const char *args[] = {"deadline", p, NULL};
    ck_assert_int_eq(check_py(args), 0);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0);
}
END_TEST

/* A slow reader of a 20 MB export: the edge's VmRSS grows by less than
 * 4 MB (figures printed). Under AddressSanitizer the edge runs without
 * its quarantine, which would otherwise hold every freed chunk. */
START_TEST(slow_reader_does_not_grow_the_edge)
{
    /* the first of a name in an environment counts: change the test's own */
    const char *given = getenv("ASAN_OPTIONS");
    char *saved = given ? strdup(given) : NULL;
    char asan[512];
    (void)snprintf(asan, sizeof(asan), "%s%squarantine_size_mb=0", given ? given : "",
                   given && given[0] ? ":" : "");
    ck_assert_int_eq(setenv("ASAN_OPTIONS", asan, 1), 0);
    struct proc e;
    int at = extra_edge(&e, "edge-export-slow", "WARREN_LOG_LEVEL=info");
    if (saved != NULL)
        (void)setenv("ASAN_OPTIONS", saved, 1);
    else
        (void)unsetenv("ASAN_OPTIONS");
    free(saved);
    char p[16], pid[16];
    port_text(at, p, sizeof(p));
    (void)snprintf(pid, sizeof(pid), "%d", (int)e.pid);
    const char *args[] = {"slow", p, pid, "4096", NULL};
    int rc = check_py(args);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* The audit line of request id rid in either worker's spool, malloc'd
 * (waits up to 5 s); with want in it too when want is not NULL. */
static char *audit_line(const char *rid, const char *want)
{
    char id[80];
    (void)snprintf(id, sizeof(id), "\"request_id\":\"%s\"", rid);
    for (int tries = 0; tries < 100; tries++) {
        for (int i = 0; i < 2; i++) {
            DIR *d = opendir(spool[i]);
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL) {
                char path[1024];
                int w = snprintf(path, sizeof(path), "%s/%s", spool[i], e->d_name);
                size_t len = 0;
                bool fits = w > 0 && (size_t)w < sizeof(path);
                char *text = fits && strstr(e->d_name, ".spool") ? h_read_file(path, &len) : NULL;
                for (char *line = text; line != NULL && *line;) {
                    char *end = strchr(line, '\n');
                    size_t n = end ? (size_t)(end - line) : strlen(line);
                    char *l = strndup(line, n);
                    if (strstr(l, id) && (want == NULL || strstr(l, want))) {
                        free(text);
                        closedir(d);
                        return l;
                    }
                    free(l);
                    line = end ? end + 1 : NULL;
                }
                free(text);
            }
            if (d != NULL)
                closedir(d);
        }
        usleep(50000);
    }
    ck_abort_msg("no audit record of %s", rid);
    return NULL;
}

/* One edge record for the export (its rows, chunks and end), and each
 * chunk's record by the worker, in the same trace. */
START_TEST(audited)
{
    const char *rid = "0123456789abcdef0123456789ab1406";
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Tracks?format=csv",
                            "X-Request-Id: 0123456789abcdef0123456789ab1406\r\n", &r, 20000),
                     0);
    ck_assert_int_eq(r.status, 200);
    char trace[64];
    ck_assert(h_header(&r, "X-Trace-Id", trace, sizeof(trace)));
    h_http_free(&r);
    char *line = audit_line(rid, NULL);
    json_t *doc = json_loads(line, 0, NULL);
    ck_assert_msg(doc != NULL, "%s", line);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "op")), "list");
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "rows")), 3504);
    json_t *detail = json_object_get(doc, "detail");
    ck_assert_str_eq(json_string_value(json_object_get(detail, "end")), "complete");
    ck_assert_str_eq(json_string_value(json_object_get(detail, "format")), "csv");
    ck_assert_int_ge(json_integer_value(json_object_get(detail, "chunks")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "trace_id")), trace);
    json_decref(doc);
    free(line);
}
END_TEST

/* The RPC client walks the chunks itself: rows and the next cursor per
 * call, the header row first, every track once. */
START_TEST(rpc_chunks)
{
    struct wr_err err = {0};
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(),
                            .service = SERVICE,
                            .timeout_ms = 10000,
                            .connect_timeout_ms = 5000};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    char after[4096] = "";
    long long rows = 0;
    int calls = 0;
    for (;;) {
        struct wr_request rq = {.op = WR_OP_LIST,
                                .collection = "Tracks",
                                .format = WR_FORMAT_CSV,
                                .results_per_page = 1000,
                                .after = after};
        struct wr_reply y;
        ck_assert_int_eq(wr_rpc_call(rpc, &rq, &y, &err), 0);
        ck_assert_msg(y.status == 200, "%d %s", y.status, y.body);
        if (calls++ == 0)
            ck_assert(strncmp(y.body, "track_id,name,", 14) == 0);
        else
            ck_assert(strncmp(y.body, "track_id", 8) != 0);
        ck_assert(y.rows >= 0 && y.rows <= 1000);
        rows += y.rows;
        bool last = y.next == NULL;
        if (!last)
            (void)snprintf(after, sizeof(after), "%s", y.next);
        wr_reply_release(&y);
        if (last)
            break;
    }
    ck_assert_int_eq(rows, 3504);
    ck_assert_int_eq(calls, 4);
    /* a page's cursor is no export's */
    struct wr_request bad = {
        .op = WR_OP_LIST, .collection = "Tracks", .format = WR_FORMAT_NDJSON, .after = "eyJ9"};
    struct wr_reply y;
    ck_assert_int_eq(wr_rpc_call(rpc, &bad, &y, &err), 0);
    ck_assert_int_eq(y.status, 400);
    wr_reply_release(&y);
    wr_rpc_free(rpc);
}
END_TEST

/* Reads fd until the peer closes (30 s without a byte at most), keeping
 * its last cap - 1 bytes in tail, NUL-ended; the bytes read, and in
 * *ended whether the peer closed. */
static size_t read_to_end(int fd, char *tail, size_t cap, bool *ended)
{
    struct timeval tv = {30, 0};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    char buf[16384];
    size_t kept = 0, total = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        total += (size_t)n;
        size_t take = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        size_t drop = kept + take > cap - 1 ? kept + take - (cap - 1) : 0;
        memmove(tail, tail + drop, kept - drop);
        kept -= drop;
        memcpy(tail + kept, buf + n - (ssize_t)take, take);
        kept += take;
    }
    tail[kept] = '\0';
    *ended = n == 0;
    return total;
}

/* A worker killed with SIGKILL mid-export: its chunk goes to the other
 * worker and the export completes, or it fails detectably; never short. */
/* An edge stopped with SIGTERM mid-export finishes it: the drain waits
 * for the export, which it holds, and the stream ends with its last chunk.
 * The reader's small receive buffer, unread, holds the export back until
 * after the signal. */
START_TEST(sigterm_mid_export_finishes_it)
{
    struct proc e;
    int at = extra_edge(&e, "edge-export-drain", "WARREN_LOG_LEVEL=info");
    int fd = h_connect(at, 4096); /* small: the export stays held back */
    ck_assert_int_ge(fd, 0);
    static const char get[] = "GET /api/Tracks HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\n"
                              "Connection: close\r\n\r\n";
    ck_assert_int_eq(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(get) - 1);
    char buf[16384] = {0};
    ck_assert_int_eq(recv(fd, buf, 1024, MSG_WAITALL), 1024);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%.200s", buf);
    ck_assert_int_eq(kill(e.pid, SIGTERM), 0);
    ck_assert(h_log_has(e.log, "draining", 10000));
    char tail[8]; /* the stream's last bytes */
    bool ended = false;
    size_t total = 1024 + read_to_end(fd, tail, sizeof(tail), &ended);
    close(fd);
    ck_assert_msg(strcmp(tail, "\r\n0\r\n\r\n") == 0,
                  "the export ended without its last chunk after %zu bytes", total);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0); /* it had exited by itself, with 0 */
}
END_TEST

/* Asks edge port at for every row of Big as NDJSON on a connection with a
 * small receive buffer, and reads the first FIRST_BYTES (a 200): the rest
 * stays held back until the caller reads it. The connection. */
#define FIRST_BYTES 1024
static int big_export_held(int at)
{
    int fd = h_connect(at, 4096);
    ck_assert_int_ge(fd, 0);
    static const char get[] = "GET /api/Big HTTP/1.1\r\nHost: x\r\n"
                              "Accept: application/x-ndjson\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(get) - 1);
    char first[FIRST_BYTES];
    ck_assert_int_eq(recv(fd, first, sizeof(first), MSG_WAITALL), (ssize_t)sizeof(first));
    ck_assert_msg(strncmp(first, "HTTP/1.1 200 ", 13) == 0, "%.200s", first);
    return fd;
}

/* But an export with more chunks to come is cut at the end of the chunk
 * being sent when the signal came: the drain does not wait for 200,000
 * rows. NDJSON then ends with the error line shutting_down, which no
 * client takes for a whole export, and the edge exits 0. */
START_TEST(sigterm_mid_long_export_cuts_it)
{
    struct proc e;
    int at = extra_edge(&e, "edge-export-cut", "WARREN_LOG_LEVEL=info");
    int fd = big_export_held(at);
    ck_assert_int_eq(kill(e.pid, SIGTERM), 0);
    ck_assert(h_log_has(e.log, "draining", 10000));
    static char rest[8192]; /* the stream's last bytes */
    bool ended = false;
    size_t total = FIRST_BYTES + read_to_end(fd, rest, sizeof(rest), &ended);
    close(fd);
    ck_assert_msg(ended, "the export did not end after %zu bytes", total);
    /* the last line of the chunked body: before the final "\r\n0\r\n\r\n" */
    char *end = strstr(rest, "\r\n0\r\n\r\n");
    ck_assert_msg(end != NULL, "no final chunk after %zu bytes", total);
    *end = '\0';
    char *nl = end - 1 > rest && end[-1] == '\n' ? end - 1 : end;
    *nl = '\0';
    char *line = strrchr(rest, '\n');
    ck_assert_ptr_nonnull(line);
    json_t *j = json_loads(line + 1, 0, NULL);
    ck_assert_msg(j != NULL, "the last line is not JSON: %.200s", line + 1);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    ck_assert_msg(code != NULL && strcmp(code, "shutting_down") == 0, "last line: %.200s",
                  line + 1);
    json_decref(j);
    printf("sigterm_mid_long_export_cuts_it: cut after %zu bytes\n", total);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0); /* it had exited by itself, with 0 */
}
END_TEST

/* A client that takes no byte of an answer for HTTP_TIMEOUT_S (1 s here)
 * loses its connection: the edge does not hold an export, nor the drain,
 * for a reader that stopped. Its small receive buffer, unread for 3 s,
 * stops the stream; read after, the stream ends, short of its final
 * chunk. */
START_TEST(a_reader_that_takes_nothing_is_cut)
{
    struct proc e;
    int at = extra_edge(&e, "edge-export-stall", "WARREN_HTTP_TIMEOUT_S=1");
    int fd = big_export_held(at);
    sleep(3);
    static char rest[8192]; /* the stream's last bytes */
    bool ended = false;
    size_t total = FIRST_BYTES + read_to_end(fd, rest, sizeof(rest), &ended);
    close(fd);
    ck_assert_msg(ended, "the connection stayed open after %zu bytes", total);
    ck_assert_msg(strstr(rest, "\r\n0\r\n\r\n") == NULL,
                  "the export ended whole (%zu bytes): the stalled reader was not cut", total);
    printf("a_reader_that_takes_nothing_is_cut: closed after %zu bytes\n", total);
    ck_assert_int_eq(h_stop(&e, SIGTERM), 0);
}
END_TEST

START_TEST(worker_killed_mid_export)
{
    char p[16], pid[16];
    port_text(port, p, sizeof(p));
    (void)snprintf(pid, sizeof(pid), "%d", (int)worker2.pid);
    const char *args[] = {"kill", p, pid, NULL};
    ck_assert_int_eq(check_py(args), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, csv_and_ndjson_equal_the_database);
    tcase_add_test(tc, errors_before_the_first_byte);
    tcase_add_test(tc, row_cap_says_so);
    tcase_add_test(tc, deadline_says_so);
    tcase_add_test(tc, slow_reader_does_not_grow_the_edge);
    tcase_add_test(tc, audited);
    tcase_add_test(tc, rpc_chunks);
    tcase_add_test(tc, sigterm_mid_export_finishes_it);
    tcase_add_test(tc, sigterm_mid_long_export_cuts_it);
    tcase_add_test(tc, a_reader_that_takes_nothing_is_cut);
    tcase_add_test(tc, worker_killed_mid_export); /* last: one worker is left */
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
