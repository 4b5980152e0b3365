/* What the integration tests share: starting warren's processes with a
 * config given through the environment, a small blocking HTTP client, and
 * the settings tests/run.sh passes (WRT_* variables: the broker's port,
 * the state folder of tests/lib/servers.sh, the Chinook database). */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "warren/rpc.h"

struct proc {
    pid_t pid;
    char log[256]; /* where its stderr goes */
};

/* Starts bin with the environment's non-WARREN_ variables, the test's
 * AUDIT_SPOOL_DIR and H_CURSOR_SECRET, plus extra ("KEY=value",
 * NULL-ended, winning over those); its output goes to a log file named
 * after tag. Aborts the test on failure. */
void h_spawn(struct proc *p, const char *bin, const char *tag, const char *const *extra);
/* The API key every test edge takes for writes (API_KEYS, name "tests"),
 * and its header line. */
#define H_API_KEY "warren-tests-key-0123456789"
#define H_AUTH "Authorization: Bearer " H_API_KEY "\r\n"
/* The CURSOR_SECRET every test worker shares. */
#define H_CURSOR_SECRET "warren-tests-cursor-secret-0123456789abcdef"

/* Starts a warren binary with what every test gives it: the test broker
 * (WARREN_AMQP_URL), the Chinook database (WARREN_DATABASE_URI), the HTTP
 * port when port > 0, the queue WARREN_SERVICE=service, the API key
 * H_API_KEY; then extra, whose entries win over these (the last of a key
 * counts). */
void h_spawn_warren(struct proc *p, const char *bin, const char *tag, int port, const char *service,
                    const char *const *extra);
/* A socket listening on 127.0.0.1 at a port the kernel picked (*port
 * gets it). Aborts the test on failure; the caller closes the socket. */
int h_listener(int *port);
/* A TCP port of 127.0.0.1 that was free when asked (h_listener's, closed
 * again). Free only until someone binds it: another program may take it
 * before the process it is meant for does. h_spawn_edge copes with that;
 * use it for the edge. */
int h_free_port(void);
/* Starts warren-edge as h_spawn_warren does, on a port of h_free_port,
 * and returns that port once the edge listens on it (its own socket, seen
 * in /proc). An edge that exits first, because its port was taken between
 * h_free_port and its bind, is started again on another port, up to 5
 * times. Does not wait for readiness (the broker may be down on purpose):
 * h_wait_ready does. Aborts the test when no edge listens. */
int h_spawn_edge(struct proc *p, const char *tag, const char *service, const char *const *extra);
/* The exit status of a process valgrind (WRT_VALGRIND=1) or ASan
 * (ASAN_OPTIONS exitcode=97, as tests/run.sh sets) found errors in. */
#define H_SANITIZER_EXIT 97
/* A test program's exit status: rc (run_suite's), or 1 when a process the
 * harness stopped exited with H_SANITIZER_EXIT. */
int h_verdict(int rc);
/* Sends sig and waits for the exit; returns the exit status (or 128+signal). */
int h_stop(struct proc *p, int sig);
/* Waits up to timeout_ms for p to exit by itself: its exit status as
 * h_stop gives it (sanitizer reports counted), or -1 when it still ran
 * (then killed). */
int h_exit_status(struct proc *p, int timeout_ms);

struct http_resp {
    int status;
    char headers[8192]; /* the raw header block */
    char *body;         /* malloc'd, NUL-terminated */
    size_t len;
};

/* GET (or another method) with optional extra header lines ("Name: v\r\n").
 * Returns 0, or -1 when no answer came within timeout_ms. */
int h_http(int port, const char *method, const char *path, const char *extra_headers,
           struct http_resp *r, int timeout_ms);
void h_http_free(struct http_resp *r);
/* The same with the API key (H_AUTH) and a JSON body (Content-Type:
 * application/json), or no body when body is NULL. */
int h_http_body(int port, const char *method, const char *path, const char *body,
                struct http_resp *r, int timeout_ms);
/* The same with header lines of the caller's instead of H_AUTH (its own
 * Authorization, an X-Request-Id). */
int h_http_json(int port, const char *method, const char *path, const char *headers,
                const char *body, struct http_resp *r, int timeout_ms);
/* h_http_body with more header lines ("Name: v\r\n" each) before the
 * body's; body NULL: none. Bodies up to about 60 KiB. */
int h_http_body_headers(int port, const char *method, const char *path, const char *headers,
                        const char *body, struct http_resp *r, int timeout_ms);
/* A TCP connection to 127.0.0.1:port, its receive buffer rcvbuf bytes when
 * rcvbuf > 0 (set before connecting, so that the window the server sees
 * stays small). The descriptor, or -1. */
int h_connect(int port, int rcvbuf);
/* The request bytes as given (a head of the caller's, "Connection: close"
 * in it, and its body), the answer read until the server closes. */
int h_http_raw(int port, const char *request, struct http_resp *r, int timeout_ms);
/* The value of header name (case-insensitive) copied to out; false if absent. */
bool h_header(const struct http_resp *r, const char *name, char *out, size_t cap);

/* The value of the series named exactly so (name and labels) in a
 * /metrics text; 0 when absent, as a counter not yet moved. */
long long h_metric(const char *text, const char *series);
/* The same series read from GET /metrics on port (an edge's, a worker's
 * admin port). */
long long h_port_metric(int port, const char *series);
/* GET /api/Albums/<key> through rpc's queue; asserts its 200. */
void h_rpc_get_album(wr_rpc *rpc, int key);

/* Polls /readyz until 200 or timeout_ms passes. */
bool h_wait_ready(int port, int timeout_ms);

/* A WRT_* setting from tests/run.sh; aborts when unset. */
const char *h_env(const char *name);
/* "WARREN_AMQP_URL=amqp://guest:guest@127.0.0.1:<WRT_AMQP_PORT>/%2f" etc. */
const char *h_amqp_url(void);
/* Reads a whole file to its end (malloc'd; /proc's files too); NULL if
 * unreadable. */
char *h_read_file(const char *path, size_t *len);
/* Whether the file (a process's log) contains text, read again every
 * 100 ms for up to timeout_ms: a process may log a moment after what a
 * test saw of its work elsewhere. */
bool h_log_has(const char *path, const char *text, int timeout_ms);
/* Copies the Chinook database to <WRT_STATE_DIR>/<name>.db (path gets it),
 * dropping a -wal, -shm or -journal file an earlier run left beside it. */
void h_copy_db(const char *name, char *path, size_t cap);
/* /api/<collection>?q=<q, every byte but letters and digits
 * percent-encoded>, then &extra when extra is not NULL, into out (cut to
 * cap). */
void h_search_path(char *out, size_t cap, const char *collection, const char *q, const char *extra);
/* A child process that POSTs n albums of artist 1 to the edge at port, one
 * after another, ignoring failures (they are in flight while the test
 * kills a process); the caller waits for the pid it returns. */
pid_t h_writes_in_flight(int port, int n);
/* Removes the files directly in dir (not its dot files; no recursion): an
 * earlier run's audit spools would ship into this run's collection. */
void h_empty_dir(const char *dir);
/* The audit line of request id rid in the spool folder's *.spool files,
 * malloc'd; waits up to 3 s (a record is spooled after its reply) and fails
 * the test when none comes. */
char *h_audit_line(const char *spool, const char *rid);
/* Process pid's end of our TCP connection fd: a copy of its socket in this
 * process (pidfd_getfd), found among pid's descriptors by its peer, our
 * fd's local address. -1 when none matches. The caller closes it. */
int h_their_end(pid_t pid, int fd);
/* Reads fd until the peer closes or timeout_ms passes: the bytes (malloc'd,
 * NUL-terminated, at most 64 KiB), and whether the peer closed in *closed. */
char *h_read_until_close(int fd, int timeout_ms, bool *closed);
/* The path of a Link header's rel (its URL less http://host:port) into out
 * (cap bytes); false when the header has no such link. */
bool h_link_rel(const char *link, const char *rel, char *out, size_t cap);
/* Milliseconds on a monotonic clock. */
long long h_now_ms(void);
/* CPU time (user + system, every thread) process pid has used, in clock
 * ticks (sysconf(_SC_CLK_TCK) a second): how a test sees a process spin. */
long long h_cpu_ticks(pid_t pid);
/* Runs argv ("bash", a script, its arguments, NULL); with out, its
 * standard output goes there (cap bytes, NUL-terminated, cut to fit).
 * Returns its exit status, or -1 when it could not run. */
int h_bash(char *const *argv, char *out, size_t cap);
/* Runs tests/lib/servers.sh with the given command (stop-rabbit, ...). */
int h_servers(const char *command);
/* Runs rabbitmqctl against the test broker; args are space-separated words. */
int h_servers_ctl(const char *args);
/* The same, its standard output into out (cap bytes, NUL-terminated). */
int h_servers_ctl_out(const char *args, char *out, size_t cap);
/* Sends a GET and closes the connection without reading the answer. */
int h_http_abandon(int port, const char *path);
/* Sends n requests pipelined on one connection to port, each a 400 of the
 * edge's own (a malformed page: audited by the edge) with a fresh id, left
 * in rids; all must be answered 400. */
void h_refusals(int port, char (*rids)[WR_REQUEST_ID_LEN + 1], size_t n);

#endif
